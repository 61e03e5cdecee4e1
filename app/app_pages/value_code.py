"""One Value Code: its statements, Things That Matter, and how each group answered."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import components, data

relationship, cycle = st.session_state["relationship"], st.session_state["cycle"]
heatmap = data.heatmap(relationship, cycle)
identifiers = [row.identifier for row in heatmap.rows]
if not identifiers:
    st.info("This cycle's library has no Value Codes.")
    st.stop()
if st.session_state.get("value_code") not in identifiers:
    st.session_state["value_code"] = identifiers[0]


def _remember_choice() -> None:
    st.session_state["value_code"] = st.session_state["value_code_choice"]


# the widget's own key is cleared whenever another page runs; "value_code" survives page switches
st.session_state["value_code_choice"] = st.session_state["value_code"]
descriptions = {row.identifier: row.description for row in heatmap.rows}
with st.sidebar:
    st.selectbox(
        "Value Code",
        identifiers,
        format_func=lambda identifier: identifier,
        key="value_code_choice",
        on_change=_remember_choice,
    )

detail = data.value_code_detail(relationship, cycle, st.session_state["value_code"])
minimum = detail.relationship.min_group_size

st.title(detail.identifier)
st.caption(f"{detail.section} · {detail.relationship.name} · {detail.cycle.label}")
st.markdown(f"#### {detail.description}")
if detail.help_text:
    st.info(detail.help_text, icon=":material/lightbulb:")

everybody = next(c for c in detail.columns if c.group_kind == "all")
overall = detail.cell(everybody)

st.subheader("The five levels")
st.html(components.level_cards_html(detail, overall.mean if overall else None))

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
