"""The address bar holds the view — relationship, cycle, and each page's own state — so a view can be shared.

Every run ends by writing the view into the query parameters (:func:`publish`). An address the
app did not write itself — typed, pasted, followed from a heatmap cell, opened in a new tab — is
*arriving*: the router notes it once per run (:func:`note_arrival`) and the router and the page
adopt its values (:func:`arrived`) before they draw their widgets. An address the app wrote is
not read back, so a widget the reader just changed is never overwritten by the address it had
a moment before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

import streamlit as st

Params = dict[str, list[str]]

_WRITTEN = "_address_written"
_ARRIVED = "_address_arrived"

#: The Value Code page's path, as st.navigation names it after its file.
VALUE_CODE_PAGE = "value_code"


def _current() -> Params:
    return {name: st.query_params.get_all(name) for name in st.query_params}


def note_arrival() -> None:
    """Call once at the start of every run: remember the address if this session did not write it."""
    current = _current()
    st.session_state[_ARRIVED] = current if current != st.session_state.get(_WRITTEN) else {}


def arrived() -> Params:
    """The parameters of an address that arrived this run; empty when the app wrote the address itself."""
    found: Params = st.session_state.get(_ARRIVED, {})
    return found


def arrived_value(name: str) -> str | None:
    """The last value of one parameter of an address that arrived this run; None when it has none."""
    values = arrived().get(name)
    return values[-1] if values else None


def publish(page_params: Mapping[str, Sequence[str]]) -> None:
    """Write the view into the address: the relationship and cycle, then the page's own parameters."""
    params: Params = {
        "relationship": [str(st.session_state["relationship"])],
        "cycle": [str(st.session_state["cycle"])],
    }
    params.update({name: list(values) for name, values in page_params.items() if values})
    if params != _current():
        st.query_params.from_dict(params)
    st.session_state[_WRITTEN] = params


def value_code_link(relationship: str, cycle: int, identifier: str, group: str) -> str:
    """A relative link to the Value Code page for one group: it opens the same view in any tab."""
    query = urlencode({"relationship": relationship, "cycle": cycle, "code": identifier, "group": group})
    return f"{VALUE_CODE_PAGE}?{query}"


#: The Actions page's path, as st.navigation names it after its file.
ACTIONS_PAGE = "actions"


def action_link(relationship: str, cycle: int, action_id: int) -> str:
    """A relative link to the Actions page with one action open."""
    query = urlencode({"relationship": relationship, "cycle": cycle, "action": action_id})
    return f"{ACTIONS_PAGE}?{query}"


#: The Findings page's path, as st.navigation names it after its file.
FINDINGS_PAGE = "findings"


def findings_link(relationship: str, cycle: int, finding_key: str) -> str:
    """A relative link to the Findings page with one finding opened (its key is encoded: it holds ``+``)."""
    query = urlencode({"relationship": relationship, "cycle": cycle, "finding": finding_key})
    return f"{FINDINGS_PAGE}?{query}"
