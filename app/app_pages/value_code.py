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
