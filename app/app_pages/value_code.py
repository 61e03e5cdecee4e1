"""One Value Code: its statements, Things That Matter, and how each group answered — one group in focus.

The Value Code and the group in focus are in the address (``?code=…&group=…``): a heatmap cell links
here, and the link opens the same view in a new tab.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import address, components, data

relationship, cycle = st.session_state["relationship"], st.session_state["cycle"]
heatmap = data.heatmap(relationship, cycle)
identifiers = [row.identifier for row in heatmap.rows]
if not identifiers:
    st.info("This cycle's library has no Value Codes.")
    st.stop()
groups = {column.group: column for column in heatmap.columns}
arrived = address.arrived()
if arrived.get("code", [None])[-1] in identifiers:
    st.session_state["value_code"] = arrived["code"][-1]
if arrived.get("group", [None])[-1] in groups:
    st.session_state["value_code_group"] = arrived["group"][-1]
if st.session_state.get("value_code") not in identifiers:
    st.session_state["value_code"] = identifiers[0]
if st.session_state.get("value_code_group") not in groups:
    st.session_state["value_code_group"] = "all"


def _remember(name: str) -> None:
    st.session_state[name] = st.session_state[f"{name}_choice"]


# the widgets' own keys are cleared whenever another page runs; "value_code" and "value_code_group"
# survive page switches
st.session_state["value_code_choice"] = st.session_state["value_code"]
st.session_state["value_code_group_choice"] = st.session_state["value_code_group"]
with st.sidebar:
    st.selectbox(
        "Value Code",
        identifiers,
        format_func=lambda identifier: identifier,
        key="value_code_choice",
        on_change=_remember,
        args=("value_code",),
    )
    st.selectbox(
        "Group",
        list(groups),
        format_func=lambda group: groups[group].label,
        key="value_code_group_choice",
        on_change=_remember,
        args=("value_code_group",),
    )
address.publish({"code": [st.session_state["value_code"]], "group": [st.session_state["value_code_group"]]})

detail = data.value_code_detail(relationship, cycle, st.session_state["value_code"])
minimum = detail.relationship.min_group_size
focus = groups[st.session_state["value_code_group"]]

st.title(detail.identifier)
st.caption(f"{detail.section} · {detail.relationship.name} · {detail.cycle.label}")
st.markdown(f"#### {detail.description}")
if detail.help_text:
    st.info(detail.help_text, icon=":material/lightbulb:")

focused = detail.cell(focus)
if focused is None:
    st.info(f"{focus.label}: no score for this Value Code in this cycle.", icon=":material/info:")
elif focused.suppressed:
    st.info(f"{focus.label}: {components.hidden_reason(focused, minimum)}.", icon=":material/visibility_off:")
elif focused.mean is None:
    st.info(f"{focus.label}: nobody gave a level ({focused.n_no_level} “no level”, {focused.n_blank} blank).")
else:
    level = components.nearest_level(focused.mean)
    label = detail.levels[level - 1].label if len(detail.levels) == len(data.LEVELS) else f"Level {level}"
    agreement = f" · {components.agreement_label(focused.agreement)}" if focused.agreement else ""
    consensus = "" if focused.consensus is None else f" · consensus {focused.consensus:.2f}"
    st.markdown(
        f"**{focus.label}**: mean **{focused.mean:.1f}**, nearest level {level} · {label} "
        f"(n={focused.n}{consensus}{agreement})"
    )

st.subheader("The five levels")
shown_mean = focused.mean if focused is not None and not focused.suppressed else None
st.html(components.level_cards_html(detail, shown_mean, focus.label))

if detail.things_that_matter:
    st.subheader("Things That Matter")
    st.html(components.things_html(detail.things_that_matter))

st.subheader("How each group answered")
published: list[tuple[str, data.Cell]] = []
hidden: list[str] = []
for column in detail.columns:
    cell = detail.cell(column)
    if cell is None:
        continue
    if cell.suppressed:
        hidden.append(f"{column.label}: {components.hidden_reason(cell, minimum)}")
    elif cell.n and cell.levels is not None:
        published.append((column.label, cell))

if published:
    labels = [level.label for level in detail.levels] or [f"Level {n}" for n in data.LEVELS]
    st.plotly_chart(
        components.distribution_figure(published, labels),
        width="stretch",
        config={"displayModeBar": False},
    )
    table = pd.DataFrame(
        {
            "Group": [label for label, _ in published],
            "n": [cell.n for _, cell in published],
            "No level": [cell.n_no_level for _, cell in published],
            "Blank": [cell.n_blank for _, cell in published],
            "Mean": [cell.mean for _, cell in published],
            "Consensus": [cell.consensus for _, cell in published],
            "Label": [components.agreement_label(cell.agreement) for _, cell in published],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height="content",  # every group, no scrolling inside the table
        column_config={
            "n": st.column_config.NumberColumn(help="Respondents who gave a level"),
            "No level": st.column_config.NumberColumn(
                help="Respondents who answered “no level” (e.g. “Not applicable”)"
            ),
            "Blank": st.column_config.NumberColumn(help="Respondents who left it unanswered"),
            "Mean": st.column_config.NumberColumn(format="%.1f", help="Mean level, 1–5"),
            "Consensus": st.column_config.NumberColumn(
                format="%.2f", help="Tastle & Wierman consensus: 1 = everybody at one level"
            ),
            "Label": st.column_config.TextColumn(help="agreed / divided, see the heatmap legend"),
        },
    )
else:
    st.info(f"No group of at least {minimum} respondents answered this Value Code in this cycle.")

if hidden:
    st.markdown("**Not shown, to protect anonymity**")
    st.markdown("\n".join(f"- {line}" for line in hidden))

# ---------------------------------------------------------------- change, gap, comments, findings, actions

group_labels = {(column.group_kind, column.group): column.label for column in detail.columns}


def _group_label(kind: str, key: str) -> str:
    return group_labels.get((kind, key), key)


def _side_y(gap: data.Gap) -> str:
    return f"Cycle {gap.y.cycle}" if gap.kind == "change" else _group_label(gap.y.group.kind, gap.y.group.key)


def _theta(gap: data.Gap) -> str:
    test = gap.comparison.test
    if test.theta is None:
        return "—"
    interval = (
        "" if test.ci_low is None or test.ci_high is None else f" ({test.ci_low:.2f}–{test.ci_high:.2f})"
    )
    return f"{test.theta:.2f}{interval}"


def _mean(counts: tuple[int, ...]) -> str:
    n = sum(counts)
    return "—" if not n else f"{sum(level * c for level, c in zip(data.LEVELS, counts, strict=True)) / n:.1f}"


def _comparisons(rows: list[data.Gap], verdicts: dict[str, str], first: str, second: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            first: [_side_y(gap) for gap in rows],
            second: [_mean(gap.x.counts) for gap in rows],
            "Mean (other)": [_mean(gap.y.counts) for gap in rows],
            "Difference": [
                "—" if gap.comparison.mean_difference is None else f"{gap.comparison.mean_difference:+.1f}"
                for gap in rows
            ],
            "θ (95% CI)": [_theta(gap) for gap in rows],
            "Verdict": [verdicts.get(gap.comparison.verdict, gap.comparison.verdict) for gap in rows],
        }
    )


gaps = data.value_code_gaps(relationship, cycle, detail.identifier)
theta_help = (
    "θ = P(X>Y) + ½P(X=Y): the chance an answer of the first is higher than one of the other, "
    "½ = no tendency (docs/statistics.md); the verdict uses a Brunner–Munzel test, Benjamini–Hochberg "
    "across the heatmap and a practical threshold."
)

st.subheader("Change over time")
seen: set[int] = set()
changes = []
for gap in gaps:
    mine = gap.kind == "change" and (gap.x.group.kind, gap.x.group.key) == (focus.group_kind, focus.group)
    if mine and gap.y.cycle not in seen:  # the previous cycle may also be the first
        seen.add(gap.y.cycle)
        changes.append(gap)
if changes:
    table = _comparisons(changes, {"higher": "improved", "lower": "declined"}, "Since", "Mean now")
    st.dataframe(table.rename(columns={"Mean (other)": "Mean then"}), hide_index=True, width="stretch")
    st.caption(f"{focus.label}, this cycle against an earlier one. {theta_help}")
else:
    st.info(
        f"{focus.label}: no change to show — no earlier cycle asked this Value Code the same way, "
        "or this group's cell is hidden in one of the cycles.",
        icon=":material/info:",
    )

st.subheader("Gap between the parties")
if focus.perspective is not None:
    wanted_kind, wanted_perspective = "party_perspective", focus.perspective
else:
    wanted_kind, wanted_perspective = "party", None
party_gaps = [
    gap
    for gap in gaps
    if gap.kind == "party"
    and gap.x.group.kind == wanted_kind
    and gap.x.group.perspective == wanted_perspective
]
if party_gaps:
    table = _comparisons(party_gaps, {}, "Against", "Mean")
    # both sides share the perspective: name each by its party, so the table fits 1280×720
    parties = {c.party: c.band for c in detail.columns if c.group_kind == "party_perspective"}
    table["Against"] = [parties.get(gap.y.group.party, _side_y(gap)) for gap in party_gaps]
    table.insert(0, "Party", [parties.get(gap.x.group.party, gap.x.group.key) for gap in party_gaps])
    st.dataframe(table.rename(columns={"Mean (other)": "Mean (against)"}), hide_index=True, width="stretch")
    st.caption(f"{focus.label}: the verdict reads “Party is … than Against”. {theta_help}")
else:
    st.info(
        "No party gap to show: it needs two parties' published cells for this group.", icon=":material/info:"
    )

st.subheader("Comments")
topic, comment_minimum = data.value_code_comments(relationship, cycle, detail.identifier)
said = (
    None
    if topic is None
    else next(
        (g for g in topic.groups if (g.group.kind, g.group.key) == (focus.group_kind, focus.group)), None
    )
)
if topic is None or said is None:
    st.info(f"{focus.label}: no comments on this Value Code in this cycle.", icon=":material/info:")
elif said.hidden is not None:
    reason = (
        f"fewer than {comment_minimum} people of this group commented"
        if said.hidden == "below_minimum"
        else components.suppression_text(said.hidden, comment_minimum)
    )
    st.info(f"{focus.label}: comments not shown, {reason}.", icon=":material/visibility_off:")
else:
    if topic.themes:
        st.markdown("**Themes:** " + " · ".join(f"{k.term} ({k.documents})" for k in topic.themes))
    with st.expander(f"{len(said.comments)} comments from {focus.label}", expanded=len(said.comments) <= 5):
        st.markdown("\n".join(f"- {text}" for text in said.comments))

st.subheader("Findings")
findings = data.value_code_findings(relationship, cycle, detail.identifier)
if findings:
    st.markdown(
        "\n".join(
            f"- {finding.sentence} ([evidence]({address.findings_link(relationship, cycle, finding.key)}))"
            for finding in findings
        )
    )
else:
    st.caption("No finding of this cycle rests on this Value Code.")

st.subheader("Actions")
effects = data.value_code_actions(relationship, detail.identifier)
if effects:
    st.dataframe(
        pd.DataFrame(
            {
                "Action": [effect.action.fields.title for effect in effects],
                "Raised in": [f"Cycle {effect.raised_in}" for effect in effects],
                "Status": [effect.action.fields.status.replace("_", " ") for effect in effects],
                "% complete": [effect.action.fields.percent_complete for effect in effects],
                "Owner": [effect.action.fields.owner_person or "—" for effect in effects],
                "Did it work?": [effect.verdict for effect in effects],
                "Evidence": [effect.explanation for effect in effects],
            }
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.caption("No action is linked to this Value Code.")
