"""Findings: the cycle's ranked sentences, each with its evidence, links to the cells it cites, and
"Create an action" in one step (the action links the finding, its Value Code and the cycle).

``?finding=KEY`` in the address (the Value Code page links so) opens that one finding, its evidence
open, until "Show all findings"; the address keeps it while it is open, so the view can be shared.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from app import address, data, editor

#: How each kind of finding reads as a badge: label and colour.
KIND_BADGES = {
    "party_gap": ("Gap between the parties", "orange"),
    "change": ("Change", "blue"),
    "agreement": ("Agreement", "green"),
    "division": ("Division", "violet"),
}

#: The key of the one finding a link opened; kept until "Show all findings" or another cycle.
FOCUS = "findings_focus"

relationship, cycle = st.session_state["relationship"], st.session_state["cycle"]
name = editor.name_field()
found = data.findings(relationship, cycle)
ranked = {f.key: (rank, f) for rank, f in enumerate(found, start=1)}

st.title("Findings")
st.caption(
    "What the cycle's published cells say, strongest and broadest first. Each sentence rests only on cells "
    "shown on the heatmap; open its evidence to see the numbers and the rules it passed."
)
linked = address.arrived_value("finding")
if linked is not None:
    st.session_state[FOCUS] = linked
focus = st.session_state.get(FOCUS)
if focus is not None and focus not in ranked:
    del st.session_state[FOCUS]
    focus = None
    if linked is not None:
        st.warning(
            f"The linked finding is not among cycle {cycle}'s findings (its cells no longer pass the rules); "
            "showing them all.",
            icon=":material/search_off:",
        )


def _show_all() -> None:
    st.session_state.pop(FOCUS, None)


if focus is not None:
    rank, finding = ranked[focus]
    bar = st.columns([4, 1], vertical_alignment="center")
    bar[0].info(f"One finding, opened from a link: #{rank} of {len(found)}.", icon=":material/link:")
    bar[1].button("Show all findings", icon=":material/list:", key="findings_show_all", on_click=_show_all)
    shown = [(rank, finding)]
else:
    filters = st.columns(2)
    kinds = filters[0].multiselect(
        "Kind", list(data.KINDS), format_func=lambda k: KIND_BADGES[k][0], key="findings_kinds"
    )
    codes = filters[1].multiselect(
        "Value Code",
        sorted({f.value_code for f in found}),
        key="findings_codes",
        placeholder="Any Value Code",
    )
    shown = [
        (rank, f)
        for rank, f in enumerate(found, start=1)
        if (not kinds or f.kind in kinds) and (not codes or f.value_code in codes)
    ]
if not found:
    st.info(
        "This cycle has no findings: no published cell passes the rules (docs/statistics.md, “Findings”)."
    )
elif not shown:
    st.info("No finding matches these filters.")


def plain_title(finding: data.Finding) -> str:
    """The finding's sentence without its Markdown emphasis, as an action's title."""
    return finding.sentence.replace("*", "")


def _plain(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _evidence(finding: data.Finding) -> None:
    st.markdown(f"**Why:** {finding.reason}" if finding.reason else "")
    st.dataframe([c.record() for c in finding.cells], hide_index=True, width="stretch")
    rows = [{"measure": k, "value": _plain(v)} for k, v in finding.statistic.items()]
    rows += [{"measure": f"threshold: {k}", "value": _plain(v)} for k, v in finding.thresholds.items()]
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")
    links = [
        f"[{c.value_code} · {c.group.key} · cycle {c.cycle}]"
        f"({address.value_code_link(relationship, c.cycle, c.value_code, c.group.key)})"
        for c in finding.cells
    ]
    st.markdown("Cited cells: " + " · ".join(links))


def _create_form(finding: data.Finding) -> None:
    with st.form(f"create-{finding.key}", border=False):
        title = st.text_input("Title", value=plain_title(finding), key=f"title-{finding.key}")
        owner = st.text_input("Owner (person)", key=f"owner-{finding.key}")
        due = st.date_input("Due", value=None, key=f"due-{finding.key}")
        st.caption(
            f"Links {finding.value_code} and this finding; raised by cycle {cycle}, in the cycle's mode."
        )
        if not st.form_submit_button("Create the action", icon=":material/add_task:"):
            return
    if not editor.require_name(name):
        return
    edit = data.ActionEdit(
        title=title,
        value_codes=(finding.value_code,),
        finding_key=finding.key,
        owner_person=owner or None,
        due_on=due if isinstance(due, dt.date) else None,
    )
    try:
        created = data.create_action(relationship, cycle, edit, by=name)
    except data.ActionError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    link = address.action_link(relationship, cycle, created.id)
    st.success(f"Action {created.id} created. [Open it on the Actions page]({link})", icon=":material/check:")


for rank, finding in shown:
    label, colour = KIND_BADGES[finding.kind]
    with st.container(border=True, key=f"finding-{rank}"):
        st.markdown(f"**#{rank}** :{colour}-badge[{label}] · {finding.value_code}")
        st.markdown(f"### {finding.sentence}")
        with st.expander("Evidence", expanded=finding.key == focus):
            _evidence(finding)
        with st.expander("Create an action", icon=":material/add_task:"):
            _create_form(finding)

address.publish({"finding": [focus] if focus is not None else []})
