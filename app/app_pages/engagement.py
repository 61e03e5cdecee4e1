"""Engagement: who was invited and who responded, per group, with the change since the previous cycle.

Then the Things That Matter roll-up: each Thing's Value Codes pooled per group. A hidden row shows
why it is hidden, never a number (responded counts and pooled scores follow the scores' rules).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import components, data

relationship, cycle = st.session_state["relationship"], st.session_state["cycle"]
heatmap = data.heatmap(relationship, cycle)
minimum = heatmap.relationship.min_group_size
labels = {(column.group_kind, column.group): column.label for column in heatmap.columns}


def _label(kind: str, group: str) -> str:
    return labels.get((kind, group), group)


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _signed(value: float | None, points: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value * 100:+.0f} pts" if points else f"{value:+,.0f}"


st.title("Engagement")
st.caption(f"{heatmap.relationship.name} · {heatmap.cycle.label}")

rows = data.engagement(relationship, cycle)
previous = next((row.previous_cycle for row in rows if row.previous_cycle is not None), None)
since = "" if previous is None else f" since cycle {previous}"
table = pd.DataFrame(
    {
        "Group": [_label(row.group_kind, row.group) for row in rows],
        "Invited": [_count(row.invited) for row in rows],
        "Responded": [
            f"hidden: {components.suppression_text(row.suppression, minimum)}"
            if row.suppressed
            else _count(row.responded)
            for row in rows
        ],
        "Response rate": ["—" if row.suppressed else _rate(row.rate) for row in rows],
        f"Responded change{since}": [
            "—" if row.suppressed else _signed(row.responded_change) for row in rows
        ],
        f"Rate change{since}": ["—" if row.suppressed else _signed(row.rate_change, True) for row in rows],
    }
)
st.dataframe(table, hide_index=True, width="stretch", height="content")
st.caption(
    "Responded counts people. A hidden group shows its invited count (configuration) and no other number, "
    f"so no group of fewer than {minimum} can be worked out. “—”: not configured, or nothing to compare."
)

st.subheader("Response rate by cycle")
earlier = [c.number for c in data.cycles(relationship) if c.number <= cycle]
figure = go.Figure()
positions = iter(["top center", "bottom center", "middle right"] * 4)  # labels of close lines apart
for kind in ("party", "all"):
    series: dict[str, list[tuple[str, float]]] = {}
    for number in earlier:
        for row in data.engagement(relationship, number):
            if row.group_kind == kind and row.rate is not None and not row.suppressed:
                series.setdefault(row.group, []).append((f"Cycle {number}", row.rate))
    for group, points in series.items():
        figure.add_trace(
            go.Scatter(
                x=[x for x, _ in points],
                y=[y for _, y in points],
                name=_label(kind, group),
                mode="lines+markers+text",
                text=[f"{y:.0%}" for _, y in points],
                textposition=next(positions),
            )
        )
if figure.data:
    figure.update_layout(
        height=320,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis={"tickformat": ".0%"},
        legend={"orientation": "h"},
    )
    st.plotly_chart(figure, width="stretch", config={"displayModeBar": False})
else:
    st.info("No response rate to show: no invited counts are configured, or every group is hidden.")

st.subheader("Things That Matter")
things = data.rollup(relationship, cycle)
if not things:
    st.info("This cycle's library maps no Value Code to a Thing That Matters.")
    st.stop()
kinds = {
    "party": "Parties",
    "perspective": "Perspectives",
    "party_perspective": "Party × perspective",
    "all": "All",
}
shown = st.radio(
    "Groups", list(kinds), format_func=kinds.__getitem__, horizontal=True, key="engagement_groups"
)
chosen = [row for row in things if row.group_kind == (shown or "party")]
pivot: dict[str, dict[str, str]] = {}
for row in chosen:
    cells = pivot.setdefault(row.thing, {"Value Codes": ", ".join(row.value_codes)})
    if row.suppressed:
        value = f"hidden: {components.suppression_text(row.suppression, minimum)}"
    elif row.mean is None:
        value = "no level given"
    else:
        value = f"{row.mean:.1f} (n={row.n})"
    cells[_label(row.group_kind, row.group)] = value
st.dataframe(
    pd.DataFrame([{"Thing That Matters": thing, **cells} for thing, cells in pivot.items()]),
    hide_index=True,
    width="stretch",
    height="content",
)
st.caption(
    "Mean level of the Thing's Value Codes' answers pooled, with the number of answers pooled. "
    "A Thing is hidden for a group when any of its Value Codes is."
)
