"""Who is editing: the "Your name" field in the sidebar of every page that writes.

There is no sign-in yet (issue 9). Until there is, an editor types their name once in the sidebar;
it is kept for the session (``st.session_state["editor"]``) and recorded as the author of every
action they create or change. Nothing is written without it.
"""

from __future__ import annotations

import streamlit as st

KEY = "editor"
HELP = "Recorded as the author of the actions you create or change. There is no sign-in yet."


def name_field() -> str:
    """Draw the sidebar's "Your name" field; the name typed, stripped ("" when none is)."""
    st.sidebar.text_input("Your name", key=KEY, help=HELP, persist_state="session")
    name: str = st.session_state.get(KEY) or ""
    return name.strip()


def require_name(name: str) -> bool:
    """True when there is a name; otherwise say where to type it and return False."""
    if not name:
        st.warning("Type your name in the sidebar (“Your name”) before you edit.", icon=":material/person:")
    return bool(name)
