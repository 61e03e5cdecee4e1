"""The review app: routes to the pages and draws the shared sidebar (relationship and cycle).

Run it with ``vm app`` (or ``streamlit run app/streamlit_app.py --server.address 127.0.0.1``: on an
address nobody set it shows nothing, see ``vm_core.read.serving``). The chosen
relationship key and cycle number live in ``st.session_state["relationship"]``
and ``st.session_state["cycle"]``; pages read them and only draw. Both are also in the address
(``?relationship=…&cycle=…``, see ``app/address.py``), so a shared link opens the same view.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit import config as streamlit_config

from app import address, data
from vm_core.read.serving import serving_decision
from vm_core.settings import private_files

#: The tab's icon, served by the app itself (an emoji or Material icon would be fetched from a CDN).
ICON = Path(__file__).resolve().parent / "static" / "icon.png"

private_files()  # the store's -wal/-shm files a reader may create are private too
st.set_page_config(page_title="vm — Value Management", page_icon=str(ICON), layout="wide")
address.note_arrival()

serving = serving_decision(
    streamlit_config.get_option("server.address"), streamlit_config.is_manually_set("server.address")
)
if not serving.serve:
    st.title("vm — Value Management")
    st.error(serving.message, icon=":material/lock:")
    st.stop()
if serving.message:
    st.sidebar.warning(serving.message, icon=":material/public:")

try:
    relationships = data.relationships()
except data.StoreNotReady as exc:  # no schema yet, or an older one: the app never migrates the store
    st.title("vm — Value Management")
    st.warning(str(exc), icon=":material/build:")
    if st.button("Check again", icon=":material/refresh:"):
        data.refresh()
        st.rerun()
    st.stop()
if not relationships:
    st.title("vm — Value Management")
    st.info(
        "There is no relationship in the store yet. Run `vm demo` to build the demo relationship, "
        "or `vm run CONFIG` for your own relationship configuration, then refresh this page.",
        icon=":material/info:",
    )
    if st.button("Check again", icon=":material/refresh:"):
        data.refresh()
        st.rerun()
    st.stop()

page = st.navigation(
    [
        st.Page("app_pages/heatmap.py", title="Heatmap", icon=":material/grid_view:", default=True),
        st.Page("app_pages/value_code.py", title="Value Code", icon=":material/description:"),
        st.Page("app_pages/engagement.py", title="Engagement", icon=":material/groups:"),
        st.Page("app_pages/findings.py", title="Findings", icon=":material/lightbulb:"),
        st.Page("app_pages/actions.py", title="Actions", icon=":material/task_alt:"),
    ]
)

names = {r.key: r.name for r in relationships}
arrived = address.arrived()
if arrived.get("relationship", [None])[-1] in names:
    st.session_state["relationship"] = arrived["relationship"][-1]
if st.session_state.get("relationship") not in names:
    st.session_state["relationship"] = relationships[0].key

with st.sidebar:
    st.selectbox("Relationship", list(names), format_func=names.__getitem__, key="relationship")
    cycles = data.cycles(st.session_state["relationship"])
    labels = {c.number: c.label for c in cycles}
    wanted = arrived.get("cycle", [""])[-1]
    if wanted.isdigit() and int(wanted) in labels:
        st.session_state["cycle"] = int(wanted)
    if cycles:
        if st.session_state.get("cycle") not in labels:
            st.session_state["cycle"] = cycles[-1].number  # the latest cycle first
        st.selectbox("Cycle", list(labels), format_func=labels.__getitem__, key="cycle")
    st.divider()
    refresh_help = "Read the store again (data is cached for a minute)."
    if st.button("Refresh data", icon=":material/refresh:", help=refresh_help):
        data.refresh()
        st.rerun()
    minimum = next(r.min_group_size for r in relationships if r.key == st.session_state["relationship"])
    st.caption(f"Groups with fewer than {minimum} responses are never shown, to protect anonymity.")

if not cycles:
    st.title(names[st.session_state["relationship"]])
    st.info("This relationship has no cycles yet. Add one to its configuration and run `vm run CONFIG`.")
    st.stop()

page.run()
