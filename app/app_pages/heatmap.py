"""Heatmap: every Value Code × group of the chosen cycle, coloured by mean level."""

from __future__ import annotations

import streamlit as st

from app import components, data

heatmap = data.heatmap(st.session_state["relationship"], st.session_state["cycle"])

st.title(heatmap.relationship.name)
st.markdown(
    f"**{heatmap.cycle.label}** · mean level per Value Code and group of respondents, "
    "on the method's five-level scale"
)

if heatmap.scores.empty:
    st.info(f"{heatmap.cycle.label} has no scores yet. Run `vm run CONFIG --cycle {heatmap.cycle.number}`.")
else:
    st.html(components.heatmap_html(heatmap))

st.divider()
identifiers = {row.identifier: row.description for row in heatmap.rows}
choice = st.selectbox(
    "Open a Value Code",
    list(identifiers),
    index=None,
    format_func=lambda identifier: f"{identifier} — {identifiers[identifier]}",
    placeholder="Choose a Value Code to see its statements and how each group answered",
    key="heatmap_value_code",
)
if choice is not None:
    st.session_state["value_code"] = choice
    st.switch_page("app_pages/value_code.py")
