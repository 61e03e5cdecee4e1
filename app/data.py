"""The app's only door to ``vm_core``: cached, read-only queries returning plain data.

The store is opened read-only (:func:`vm_core.read.reader.open_reader`: the app never migrates it)
and read through the :class:`~vm_core.read.reader.Scope` of relationships this app may show.
The session factory is a cached resource; query results are cached for a minute (bounded),
keyed by the store's URL and the scope so switching either never serves stale data.
Pages import the types they draw from here, never from ``vm_core``.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from vm_core.actions import (
    ActionChangeView,
    ActionChoices,
    ActionConflict,
    ActionEdit,
    ActionError,
    ActionFilter,
    ActionView,
    get_action,
    history_lines,
    list_actions,
)
from vm_core.actions import action_choices as _action_choices
from vm_core.actions import action_history as _action_history
from vm_core.actions import create_action as _create_action
from vm_core.actions import update_action as _update_action
from vm_core.actions.export import actions_csv, xlsx_bytes
from vm_core.actions.session import open_writer
from vm_core.read import heatmap_view, review
from vm_core.read.action_effects import ActionEffect, read_action_effects
from vm_core.read.cells import find_relationship
from vm_core.read.colour_scale import ColourScale, contrast_ratio, readable_text
from vm_core.read.comments import Topic, read_comments
from vm_core.read.engagement import EngagementRow, read_engagement
from vm_core.read.findings import KINDS, Finding, read_findings
from vm_core.read.gaps import Gap, read_gaps
from vm_core.read.heatmap_view import (
    LABEL_FILTERS,
    MODES,
    SORTS,
    CellDelta,
    HeatmapView,
    ModeUnavailable,
    ViewCell,
    ViewChoices,
    ViewState,
    sorts_for,
)
from vm_core.read.reader import Scope, StoreNotReady, open_reader
from vm_core.read.review import Cell, Column, CycleInfo, HeatmapData, RelationshipInfo, ValueCodeDetail
from vm_core.read.rollup import RollupRow, read_rollup
from vm_core.settings import Settings
from vm_core.store.models import ACTION_STATUSES, CYCLE_MODES, LEVEL_COLOURS, LEVELS

__all__ = [
    "ACTION_STATUSES",
    "CYCLE_MODES",
    "KINDS",
    "LABEL_FILTERS",
    "LEVELS",
    "LEVEL_COLOURS",
    "MODES",
    "SORTS",
    "ActionChangeView",
    "ActionChoices",
    "ActionConflict",
    "ActionEdit",
    "ActionEffect",
    "ActionError",
    "ActionFilter",
    "ActionView",
    "Cell",
    "CellDelta",
    "ColourScale",
    "Column",
    "CycleInfo",
    "EngagementRow",
    "Finding",
    "Gap",
    "HeatmapData",
    "HeatmapView",
    "ModeUnavailable",
    "RelationshipInfo",
    "RollupRow",
    "StoreNotReady",
    "Topic",
    "ValueCodeDetail",
    "ViewCell",
    "ViewChoices",
    "ViewState",
    "action_choices",
    "action_effects",
    "action_history",
    "actions",
    "actions_csv",
    "contrast_ratio",
    "create_action",
    "cycles",
    "engagement",
    "findings",
    "heatmap",
    "heatmap_page",
    "history_lines",
    "readable_text",
    "refresh",
    "relationships",
    "rollup",
    "sorts_for",
    "update_action",
    "value_code_actions",
    "value_code_comments",
    "value_code_detail",
    "value_code_findings",
    "value_code_gaps",
    "xlsx_bytes",
]

#: Scores change only when a flow runs; a minute's staleness is fine and "Refresh" clears it.
TTL_SECONDS = 60
MAX_ENTRIES = 64


def _database_url() -> str:
    return Settings.from_env().database_url


@st.cache_resource(max_entries=4, show_spinner=False)
def _sessions(database_url: str) -> sessionmaker[Session]:
    return open_reader(database_url)


def _scope() -> Scope:
    return Scope.from_env()


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def _relationships(database_url: str, scope: Scope) -> list[RelationshipInfo]:
    with _sessions(database_url)() as session:
        return review.list_relationships(session, scope)


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def _cycles(database_url: str, scope: Scope, relationship_key: str) -> list[CycleInfo]:
    with _sessions(database_url)() as session:
        return review.list_cycles(session, relationship_key, scope)


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner="Loading scores…")
def _heatmap(database_url: str, scope: Scope, relationship_key: str, cycle_number: int) -> HeatmapData:
    with _sessions(database_url)() as session:
        return review.heatmap(session, relationship_key, cycle_number, scope)


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner="Comparing…")
def _comparison(
    database_url: str, scope: Scope, relationship_key: str, cycle_number: int, mode: str
) -> heatmap_view.Comparison:
    data = _heatmap(database_url, scope, relationship_key, cycle_number)
    with _sessions(database_url)() as session:
        return heatmap_view.read_comparison(session, data, mode, scope)


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner="Loading Value Code…")
def _value_code_detail(
    database_url: str, scope: Scope, relationship_key: str, cycle_number: int, identifier: str
) -> ValueCodeDetail:
    with _sessions(database_url)() as session:
        return review.value_code_detail(session, relationship_key, cycle_number, identifier, scope)


def relationships() -> list[RelationshipInfo]:
    return _relationships(_database_url(), _scope())


def cycles(relationship_key: str) -> list[CycleInfo]:
    return _cycles(_database_url(), _scope(), relationship_key)


def heatmap(relationship_key: str, cycle_number: int) -> HeatmapData:
    return _heatmap(_database_url(), _scope(), relationship_key, cycle_number)


def value_code_detail(relationship_key: str, cycle_number: int, identifier: str) -> ValueCodeDetail:
    return _value_code_detail(_database_url(), _scope(), relationship_key, cycle_number, identifier)


def heatmap_page(data: HeatmapData, state: ViewState) -> HeatmapView:
    """What the heatmap page draws for ``state``; :class:`ModeUnavailable` when its mode cannot be drawn."""
    comparison = None
    if state.mode != "level":
        key, number = data.relationship.key, data.cycle.number
        comparison = _comparison(_database_url(), _scope(), key, number, state.mode)
    return heatmap_view.build_view(data, state, comparison)


# ---------------------------------------------------------------- engagement, roll-up, one code's gaps


def _lake_url() -> str:
    settings = Settings.from_env()
    return settings.lake_url or str(settings.home / "lake")


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner="Counting responses…")
def _engagement(
    database_url: str, lake_url: str, scope: Scope, relationship_key: str, cycle_number: int
) -> list[EngagementRow]:
    lake = Settings.from_env().lake()  # lake_url keys the cache; the settings open the same lake
    with _sessions(database_url)() as session:
        return read_engagement(session, lake, relationship_key, cycle_number, scope=scope)


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner="Rolling up…")
def _rollup(database_url: str, scope: Scope, relationship_key: str, cycle_number: int) -> list[RollupRow]:
    with _sessions(database_url)() as session:
        return read_rollup(session, relationship_key, cycle_number, scope=scope)


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner="Comparing…")
def _gaps(database_url: str, scope: Scope, relationship_key: str, cycle_number: int) -> list[Gap]:
    with _sessions(database_url)() as session:
        return read_gaps(session, relationship_key, cycle_number, ["party", "change"], scope=scope)


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner="Reading comments…")
def _comments(
    database_url: str, lake_url: str, scope: Scope, relationship_key: str, cycle_number: int, identifier: str
) -> tuple[Topic | None, int]:
    lake = Settings.from_env().lake()
    with _sessions(database_url)() as session:
        find_relationship(session, relationship_key, scope)  # comments are read only within the scope
        found = read_comments(session, lake, relationship_key, cycle_number, identifier)
    return (found.topics[0] if found.topics else None), found.minimum


def value_code_comments(
    relationship_key: str, cycle_number: int, identifier: str
) -> tuple[Topic | None, int]:
    """One Value Code's comments per group (hidden groups carry no text) and the commenters a group needs."""
    return _comments(_database_url(), _lake_url(), _scope(), relationship_key, cycle_number, identifier)


def value_code_findings(relationship_key: str, cycle_number: int, identifier: str) -> list[Finding]:
    """The cycle's findings about one Value Code, ranked."""
    findings = _findings(_database_url(), _scope(), relationship_key, cycle_number)
    return [finding for finding in findings if finding.value_code == identifier]


def value_code_actions(relationship_key: str, identifier: str) -> list[ActionEffect]:
    """The relationship's actions linked to one Value Code (directly or through a Thing), with their effect."""
    effects = _effects(_database_url(), _scope(), relationship_key)
    return [effect for effect in effects.values() if identifier in effect.value_codes]


def engagement(relationship_key: str, cycle_number: int) -> list[EngagementRow]:
    """Invited, responded, rate and change per group of the cycle (hidden rows carry no count)."""
    return _engagement(_database_url(), _lake_url(), _scope(), relationship_key, cycle_number)


def rollup(relationship_key: str, cycle_number: int) -> list[RollupRow]:
    """Pooled scores per Thing That Matters × group (a Thing with a hidden Value Code is hidden)."""
    return _rollup(_database_url(), _scope(), relationship_key, cycle_number)


def value_code_gaps(relationship_key: str, cycle_number: int, identifier: str) -> list[Gap]:
    """One Value Code's party gaps and changes (previous and first cycle), published cells only."""
    gaps = _gaps(_database_url(), _scope(), relationship_key, cycle_number)
    return [gap for gap in gaps if gap.value_code == identifier]


def refresh() -> None:
    """Forget cached query results, e.g. after a flow has written new scores."""
    for cached in (
        _relationships,
        _cycles,
        _heatmap,
        _comparison,
        _value_code_detail,
        _engagement,
        _rollup,
        _gaps,
        _comments,
    ):
        cached.clear()
    _clear_actions()
    _sessions.clear()


# ---------------------------------------------------------------- findings and actions
#
# Actions are the one thing the app writes, through ``open_writer`` and only for a relationship its
# scope allows. There is no sign-in yet (issue 9): the editor's name is what they typed in the
# sidebar's "Your name" field, and every write requires it.


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner="Reading findings…")
def _findings(database_url: str, scope: Scope, relationship_key: str, cycle_number: int) -> list[Finding]:
    with _sessions(database_url)() as session:
        return read_findings(session, relationship_key, cycle_number, scope=scope)


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner="Loading actions…")
def _actions(database_url: str, scope: Scope, wanted: ActionFilter) -> list[ActionView]:
    with _sessions(database_url)() as session:
        return list_actions(session, wanted)


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def _choices(database_url: str, scope: Scope, relationship_key: str, cycle_number: int) -> ActionChoices:
    _allowed(scope, relationship_key)
    with _sessions(database_url)() as session:
        return _action_choices(session, relationship_key, cycle_number)


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def _history(database_url: str, scope: Scope, action_id: int) -> list[ActionChangeView]:
    with _sessions(database_url)() as session:
        _allowed(scope, get_action(session, action_id).relationship)
        return _action_history(session, action_id)


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner="Measuring actions…")
def _effects(database_url: str, scope: Scope, relationship_key: str) -> dict[int, ActionEffect]:
    with _sessions(database_url)() as session:
        found = read_action_effects(session, relationship_key, scope=scope)
    return {effect.action.id: effect for effect in found}


def _allowed(scope: Scope, relationship_key: str) -> None:
    if not scope.allows(relationship_key):
        raise ActionError(f"relationship {relationship_key!r} is outside what this app may show")


def _clear_actions() -> None:
    for cached in (_findings, _actions, _choices, _history, _effects):
        cached.clear()


def findings(relationship_key: str, cycle_number: int) -> list[Finding]:
    """The cycle's findings, ranked (``vm_core.read.findings``)."""
    return _findings(_database_url(), _scope(), relationship_key, cycle_number)


def actions(relationship_key: str, wanted: ActionFilter | None = None) -> list[ActionView]:
    """The relationship's actions matching ``wanted`` (its own ``relationship`` is replaced by this one)."""
    scope = _scope()
    _allowed(scope, relationship_key)
    narrowed = replace(wanted or ActionFilter(), relationship=relationship_key)
    return _actions(_database_url(), scope, narrowed)


def action_choices(relationship_key: str, cycle_number: int) -> ActionChoices:
    """The Value Codes, Things That Matter, parties and modes an action raised by the cycle may have."""
    return _choices(_database_url(), _scope(), relationship_key, cycle_number)


def action_history(action_id: int) -> list[ActionChangeView]:
    """Every version of the action, oldest first."""
    return _history(_database_url(), _scope(), action_id)


def action_effects(relationship_key: str) -> dict[int, ActionEffect]:
    """Whether each of the relationship's actions worked, by action id."""
    return _effects(_database_url(), _scope(), relationship_key)


def create_action(relationship_key: str, cycle_number: int, edit: ActionEdit, *, by: str) -> ActionView:
    """A new action of the relationship, raised by the cycle; ActionError (one line) when it cannot be."""
    _allowed(_scope(), relationship_key)
    with open_writer(_database_url()).begin() as session:
        created = _create_action(session, relationship_key, cycle_number, edit, by=by)
    _clear_actions()
    return created


def update_action(action_id: int, seen_version: int, edit: ActionEdit, *, by: str) -> ActionView:
    """Apply the edit to the action as seen at ``seen_version``; ActionConflict when it changed since."""
    scope = _scope()
    try:
        with open_writer(_database_url()).begin() as session:
            _allowed(scope, get_action(session, action_id).relationship)
            updated = _update_action(session, action_id, seen_version, edit, by=by)
    finally:
        _clear_actions()  # a conflict means what this app cached is stale too
    return updated
