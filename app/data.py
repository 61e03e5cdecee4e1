"""The app's only door to ``vm_core``: cached, read-only queries returning plain data.

The store is opened read-only (:func:`vm_core.read.reader.open_reader`: the app never migrates it)
and read through the :class:`~vm_core.read.reader.Scope` of relationships this app may show.
The session factory is a cached resource; query results are cached for a minute (bounded),
keyed by the store's URL and the scope so switching either never serves stale data.
Pages import the types they draw from here, never from ``vm_core``.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from vm_core.read import heatmap_view, review
from vm_core.read.action_effects import ActionEffect, read_action_effects
from vm_core.read.cells import find_relationship
from vm_core.read.colour_scale import ColourScale, contrast_ratio, readable_text
from vm_core.read.comments import Topic, read_comments
from vm_core.read.engagement import EngagementRow, read_engagement
from vm_core.read.findings import Finding, read_findings
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
from vm_core.store.models import LEVEL_COLOURS, LEVELS

__all__ = [
    "LABEL_FILTERS",
    "LEVELS",
    "LEVEL_COLOURS",
    "MODES",
    "SORTS",
    "ActionEffect",
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
    "contrast_ratio",
    "cycles",
    "engagement",
    "heatmap",
    "heatmap_page",
    "readable_text",
    "refresh",
    "relationships",
    "rollup",
    "sorts_for",
    "value_code_actions",
    "value_code_comments",
    "value_code_detail",
    "value_code_findings",
    "value_code_gaps",
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


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner="Finding…")
def _findings(database_url: str, scope: Scope, relationship_key: str, cycle_number: int) -> list[Finding]:
    with _sessions(database_url)() as session:
        return read_findings(session, relationship_key, cycle_number, scope=scope)


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner="Reading actions…")
def _action_effects(database_url: str, scope: Scope, relationship_key: str) -> list[ActionEffect]:
    with _sessions(database_url)() as session:
        return read_action_effects(session, relationship_key, scope=scope)


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
    effects = _action_effects(_database_url(), _scope(), relationship_key)
    return [effect for effect in effects if identifier in effect.value_codes]


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
    ):
        cached.clear()
    _sessions.clear()
