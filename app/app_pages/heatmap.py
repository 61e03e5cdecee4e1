"""Heatmap: every Value Code × group of the chosen cycle — its level, its change since an earlier cycle or
the gap between the parties — sorted and filtered; each cell opens that Value Code for that group.

The mode, order and filters are in the address (``?mode=…&sort=…&section=…``), so a view can be shared.
"""

from __future__ import annotations

import streamlit as st

from app import address, data, heatmap_table

#: Widget keys of the view's controls, by ViewState field. Their values last the session.
KEYS = {
    "mode": "heatmap_mode",
    "sort": "heatmap_sort",
    "sections": "heatmap_sections",
    "parties": "heatmap_parties",
    "perspectives": "heatmap_perspectives",
    "labels": "heatmap_labels",
}

heatmap = data.heatmap(st.session_state["relationship"], st.session_state["cycle"])
choices = data.ViewChoices.of(heatmap)

arrived = address.arrived()
if arrived:  # a shared or followed link: it says what to show
    wanted = data.ViewState.from_query(arrived, choices)
    for name, key in KEYS.items():
        value = getattr(wanted, name)
        st.session_state[key] = list(value) if isinstance(value, tuple) else value
# filters kept from another relationship or cycle hold only what this heatmap has
for key, allowed in (
    (KEYS["sections"], choices.sections),
    (KEYS["parties"], choices.parties),
    (KEYS["perspectives"], choices.perspectives),
):
    st.session_state[key] = [v for v in st.session_state.get(key, []) if v in allowed]

st.title(heatmap.relationship.name)
controls = st.columns([3, 2, 3], vertical_alignment="bottom")
controls[0].selectbox(
    "Show", list(data.MODES), format_func=data.MODES.__getitem__, key=KEYS["mode"], persist_state="session"
)
mode = st.session_state[KEYS["mode"]]
sorts = data.sorts_for(mode)
if st.session_state.get(KEYS["sort"]) not in sorts:
    st.session_state[KEYS["sort"]] = "section"
controls[1].selectbox(
    "Order", sorts, format_func=data.SORTS.__getitem__, key=KEYS["sort"], persist_state="session"
)
descriptions = {row.identifier: row.description for row in heatmap.rows}
choice = controls[2].selectbox(
    "Open a Value Code",
    list(descriptions),
    index=None,
    format_func=lambda identifier: f"{identifier} — {descriptions[identifier]}",
    placeholder="Search by code or words",
    key="heatmap_value_code",
)
with st.expander("Filter", icon=":material/filter_list:"):
    filters = st.columns(4)
    filters[0].multiselect(
        "Sections",
        choices.sections,
        key=KEYS["sections"],
        placeholder="All sections",
        persist_state="session",
    )
    filters[1].multiselect(
        "Parties",
        list(choices.parties),
        format_func=choices.parties.__getitem__,
        key=KEYS["parties"],
        placeholder="All parties",
        disabled=mode == "gap",
        help="Columns whose respondents all belong to these parties. A gap spans both parties.",
        persist_state="session",
    )
    filters[2].multiselect(
        "Perspectives",
        list(choices.perspectives),
        format_func=choices.perspectives.__getitem__,
        key=KEYS["perspectives"],
        placeholder="All perspectives",
        help="Columns whose respondents all hold these perspectives.",
        persist_state="session",
    )
    filters[3].selectbox(
        "Cells",
        list(data.LABEL_FILTERS),
        format_func=data.LABEL_FILTERS.__getitem__,
        key=KEYS["labels"],
        disabled=mode != "level",
        help="Draw only the cells whose group is agreed or divided in colour; rows with none are left out.",
        persist_state="session",
    )

state = data.ViewState(
    mode=mode,
    sort=st.session_state[KEYS["sort"]],
    sections=tuple(st.session_state[KEYS["sections"]]),
    parties=tuple(st.session_state[KEYS["parties"]]),
    perspectives=tuple(st.session_state[KEYS["perspectives"]]),
    labels=st.session_state[KEYS["labels"]],
)
address.publish(state.to_query())

if choice is not None:
    st.session_state["value_code"] = choice
    st.session_state["value_code_group"] = "all"
    st.switch_page("app_pages/value_code.py")

if heatmap.scores.empty:
    st.info(f"{heatmap.cycle.label} has no scores yet. Run `vm run CONFIG --cycle {heatmap.cycle.number}`.")
    st.stop()
try:
    view = data.heatmap_page(heatmap, state)
except data.ModeUnavailable as exc:
    st.markdown(f"**{heatmap.cycle.label}** · {data.MODES[mode].lower()}")
    st.info(f"{data.MODES[mode]}: {exc}.", icon=":material/info:")
    st.stop()

if mode == "level":
    st.markdown(
        f"**{heatmap.cycle.label}** · mean level per Value Code and group of respondents, "
        "on the method's five-level scale"
    )
else:
    st.markdown(f"**{heatmap.cycle.label}** · {view.title[0].lower()}{view.title[1:]}")
notes = []
if not view.by_section and view.sort_column is not None:
    notes.append(f"Rows in order of “{view.sort_column.label}”; rows without a number there last.")
if view.hidden_rows == 1:
    notes.append("1 Value Code with no such cell is left out.")
elif view.hidden_rows:
    notes.append(f"{view.hidden_rows} Value Codes with no such cell are left out.")
if mode != "level":
    notes.append("Colour marks a difference the ordinal test finds; the legend says how.")
if notes:
    st.caption(" ".join(notes))
st.html(heatmap_table.heatmap_html(heatmap, view, heatmap_table.theme_class(st.context.theme.type)))
