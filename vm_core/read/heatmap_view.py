"""The heatmap page as data: which Value Codes and groups it shows, in which order, and each cell's number.

A view is built from :class:`~vm_core.read.review.HeatmapData` (the anonymity-safe scores of one
cycle) and a :class:`ViewState` — the mode, the sort and the filters a reader chose, which is also
what the page keeps in its address so a view can be shared (:meth:`ViewState.to_query`).

**Modes.** *Level* shows each group's published mean level. The comparison modes — *change since
the previous cycle*, *change since the first cycle*, *gap between the parties* — show one
:class:`CellDelta` per cell, from a :class:`Comparison`. That is the whole interface a comparison
mode needs: a difference in levels (``delta``), the two published means, a ``verdict`` and a
status saying why there is no number. :func:`changes` and :func:`gaps` build it from the
*published* means of two cells and nothing else, so a delta never rests on a hidden cell: when
either side is hidden the cell is hidden, and neither its number nor the other side's is shown.
The verdicts are given to them: :func:`read_comparison` takes them from the read side's tests
(:func:`vm_core.read.gaps.read_gaps`: θ and Brunner–Munzel per pair, Benjamini–Hochberg across
the cycle's heatmap, a practical threshold, at least 10 answers a side; docs/statistics.md), and
the baselines and comparable Value Codes from :mod:`vm_core.read.changes`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from sqlalchemy.orm import Session

from vm_core.read import review
from vm_core.read.cells import find_cycle, find_relationship
from vm_core.read.changes import baselines, comparable_value_codes
from vm_core.read.gaps import read_gaps
from vm_core.read.reader import EVERYTHING, Scope
from vm_core.read.review import Cell, Column, HeatmapData, Row

#: The page's modes, with their labels.
MODES: dict[str, str] = {
    "level": "Level",
    "change_previous": "Change since the previous cycle",
    "change_first": "Change since the first cycle",
    "gap": "Gap between the parties",
}
#: Row orders. "largest" (by size of difference, either way) exists in the comparison modes only.
SORTS: dict[str, str] = {
    "section": "By section",
    "lowest": "Lowest first",
    "highest": "Highest first",
    "largest": "Largest difference first",
}
#: The "only cells with agreement/division" filter of the level mode.
LABEL_FILTERS: dict[str, str] = {
    "all": "Every cell",
    "agreed": "Only agreed cells",
    "divided": "Only divided cells",
    "either": "Only agreed or divided cells",
}
#: From the broadest group to the narrowest: lowest/highest/largest sort by the broadest column shown.
_BREADTH = ("all", "party", "perspective", "party_perspective")

CellKey = tuple[str, str, str]  # (Value Code identifier, group kind, group)
DeltaStatus = Literal["compared", "hidden", "absent", "not_comparable", "no_level"]
#: (Value Code identifier, column group) → the verdict on the current cell against the reference.
Verdicts = Mapping[tuple[str, str], str]


def sorts_for(mode: str) -> list[str]:
    """The row orders a mode offers."""
    return [s for s in SORTS if s != "largest" or mode != "level"]


# ---------------------------------------------------------------- the comparison interface


@dataclass(frozen=True)
class CellDelta:
    """One cell of a comparison mode: ``current − reference`` in levels, from two published cells.

    ``status`` says what the cell shows: ``compared`` (``delta`` and both means are set),
    ``hidden`` (either cell is withheld to protect anonymity: no number at all), ``absent``
    (either side has no score), ``not_comparable`` (the Value Code was reworded between the
    cycles) or ``no_level`` (either group gave no level). ``verdict`` is a test's verdict on the
    difference (e.g. "higher", "lower", "no detectable difference", "insufficient evidence"), or
    None when the difference was not assessed.
    """

    status: DeltaStatus
    delta: float | None = None
    current: float | None = None
    reference: float | None = None
    verdict: str | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        numbers = (self.delta, self.current, self.reference)
        if (self.status == "compared") != all(n is not None for n in numbers):
            raise ValueError(
                f"a {self.status} cell has numbers {numbers}: only a compared cell has all three"
            )
        if self.status != "compared" and any(n is not None for n in numbers):
            raise ValueError(f"a {self.status} cell must carry no number")


ABSENT = CellDelta("absent", detail="no score to compare")


@dataclass(frozen=True)
class Comparison:
    """A comparison mode's cells: one :class:`CellDelta` per Value Code × column, keyed by :data:`CellKey`.

    ``polar`` is True when a higher value is better (a change), False when neither direction is
    (a gap between two parties); the page colours them differently.
    """

    title: str
    columns: tuple[Column, ...]
    cells: Mapping[CellKey, CellDelta]
    polar: bool

    def cell(self, identifier: str, column: Column) -> CellDelta:
        return self.cells.get((identifier, column.group_kind, column.group), ABSENT)


class ModeUnavailable(LookupError):
    """A comparison mode cannot be drawn for this heatmap; the message says why in one line."""


def _delta(
    current: Cell | None,
    reference: Cell | None,
    comparable: bool,
    sides: tuple[str, str],
    verdict: str | None = None,
) -> CellDelta:
    """The difference of two cells' published means; no number unless both are published.

    ``sides`` names the reference and the current cell for the one-line detail.
    """
    if not comparable:
        return CellDelta("not_comparable", detail="reworded between the cycles: not compared")
    if current is None or reference is None:
        return ABSENT
    if current.suppressed or reference.suppressed:
        return CellDelta("hidden", detail="hidden: a group compared is withheld to protect anonymity")
    if current.mean is None or reference.mean is None:
        return CellDelta("no_level", detail="no levels given on one side")
    return CellDelta(
        "compared",
        delta=current.mean - reference.mean,
        current=current.mean,
        reference=reference.mean,
        verdict=verdict,
        detail=f"{sides[0]} {reference.mean:.2f}, {sides[1]} {current.mean:.2f}",
    )


def changes(
    now: HeatmapData, before: HeatmapData, comparable: Collection[str], verdicts: Verdicts | None = None
) -> Comparison:
    """Each cell of ``now`` minus the same Value Code and group in ``before`` (an earlier cycle).

    ``comparable``: the Value Codes both cycles asked the same way
    (:func:`vm_core.read.changes.comparable_value_codes`); any other is ``not_comparable``.
    ``verdicts``: now against before, "higher" meaning an improvement.
    """
    sides = (f"cycle {before.cycle.number}", f"cycle {now.cycle.number}")
    tested = verdicts or {}
    cells = {
        (row.identifier, c.group_kind, c.group): _delta(
            now.cell(row.identifier, c),
            before.cell(row.identifier, c),
            row.identifier in comparable,
            sides,
            tested.get((row.identifier, c.group)),
        )
        for row in now.rows
        for c in now.columns
    }
    return Comparison(
        f"Change in mean level since {before.cycle.label}", tuple(now.columns), cells, polar=True
    )


def _two_parties(data: HeatmapData) -> tuple[Column, Column]:
    """The two parties' total columns, in display order; :class:`ModeUnavailable` unless there are two."""
    parties = [c for c in data.columns if c.group_kind == "party"]
    if len(parties) != 2:
        raise ModeUnavailable(f"the gap compares two parties; this cycle has {len(parties)}")
    return parties[0], parties[1]


def gaps(data: HeatmapData, verdicts: Verdicts | None = None) -> Comparison:
    """The second party's mean minus the first's, within each perspective and over all perspectives.

    ``verdicts`` are keyed by the gap column's group (the perspective, or "all") and read as the
    second party against the first. Raises :class:`ModeUnavailable` unless the cycle has exactly
    two parties.
    """
    first, second = _two_parties(data)
    band = f"{second.short_label} − {first.short_label}"
    pairs: list[tuple[Column, Column, Column]] = []
    for q in (c for c in data.columns if c.group_kind == "perspective"):
        a, b = (
            next(c for c in data.columns if c.party == party.party and c.perspective == q.perspective)
            for party in (first, second)
        )
        gap = Column(
            f"{q.short_label}: {band}", "perspective", q.group, band, q.short_label, None, q.perspective
        )
        pairs.append((gap, a, b))
    overall = Column(f"All perspectives: {band}", "all", "all", band, "All perspectives")
    pairs.append((overall, first, second))
    sides = (first.short_label, second.short_label)
    tested = verdicts or {}
    cells = {
        (row.identifier, gap.group_kind, gap.group): _delta(
            data.cell(row.identifier, b),
            data.cell(row.identifier, a),
            True,
            sides,
            tested.get((row.identifier, gap.group)),
        )
        for row in data.rows
        for gap, a, b in pairs
    }
    title = f"Gap in mean level: {second.short_label} minus {first.short_label}"
    return Comparison(title, tuple(gap for gap, _, _ in pairs), cells, polar=False)


#: A verdict read the other way round: "x higher than y" is "y lower than x".
_REVERSED = {"higher": "lower", "lower": "higher"}


def read_comparison(session: Session, data: HeatmapData, mode: str, scope: Scope = EVERYTHING) -> Comparison:
    """A comparison mode's cells for the heatmap ``data``, with the read side's verdicts.

    Gap: :func:`gaps`, tested as :func:`~vm_core.read.gaps.read_gaps` tests party against party
    (the first party against the second, so each verdict is reversed). Change: :func:`changes`
    against the previous cycle, or the first (the previous one when it is also the first), for the
    Value Codes asked the same way in both, with the verdicts of that baseline's family. Raises
    :class:`ModeUnavailable` when the mode cannot be drawn (one line).
    """
    key, number = data.relationship.key, data.cycle.number
    if mode == "gap":
        first, _ = _two_parties(data)  # a cycle without two parties needs no tests
        verdicts: dict[tuple[str, str], str] = {}
        for gap in read_gaps(session, key, number, ["party"], scope=scope):
            # x against y, turned to "the second party against the first"
            verdict: str = gap.comparison.verdict
            if gap.x.group.party == first.party:
                verdict = _REVERSED.get(verdict, verdict)
            verdicts[(gap.value_code, gap.x.group.perspective or "all")] = verdict
        return gaps(data, verdicts)
    if mode not in ("change_previous", "change_first"):
        raise ValueError(f"{mode!r} is not a comparison mode")
    relationship = find_relationship(session, key, scope)
    cycle = find_cycle(session, relationship, number)
    found = baselines(session, relationship, number)
    if not found:
        raise ModeUnavailable(f"cycle {number} is the first cycle: there is no earlier cycle to compare with")
    reference = found.get("first", found["previous"]) if mode == "change_first" else found["previous"]
    comparable = comparable_value_codes(session, cycle.library_version_id, reference.library_version_id)
    tested = read_gaps(session, key, number, ["change"], scope=scope)
    verdicts = {
        (gap.value_code, gap.x.group.key): gap.comparison.verdict
        for gap in tested
        if gap.y.cycle == reference.number
    }
    return changes(data, review.heatmap(session, key, reference.number, scope), comparable, verdicts)


# ---------------------------------------------------------------- what the reader chose


@dataclass(frozen=True)
class ViewChoices:
    """What a heatmap's filters may hold: its sections, and its parties and perspectives by key → name."""

    sections: tuple[str, ...]
    parties: Mapping[str, str]
    perspectives: Mapping[str, str]

    @classmethod
    def of(cls, data: HeatmapData) -> ViewChoices:
        return cls(
            tuple(dict.fromkeys(row.section for row in data.rows)),
            {c.group: c.short_label for c in data.columns if c.group_kind == "party"},
            {c.group: c.short_label for c in data.columns if c.group_kind == "perspective"},
        )


@dataclass(frozen=True)
class ViewState:
    """The mode, row order and filters of the page. An empty filter shows everything."""

    mode: str = "level"
    sort: str = "section"
    sections: tuple[str, ...] = ()
    parties: tuple[str, ...] = ()
    perspectives: tuple[str, ...] = ()
    labels: str = "all"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown heatmap mode {self.mode!r}; known: {', '.join(MODES)}")
        if self.sort not in sorts_for(self.mode):
            raise ValueError(f"sort {self.sort!r} is not offered in the {self.mode} mode")
        if self.labels not in LABEL_FILTERS:
            raise ValueError(f"unknown label filter {self.labels!r}; known: {', '.join(LABEL_FILTERS)}")

    def to_query(self) -> dict[str, list[str]]:
        """Query parameters for the address bar; defaults are left out."""
        default = ViewState()
        query = {
            "mode": [self.mode] if self.mode != default.mode else [],
            "sort": [self.sort] if self.sort != default.sort else [],
            "section": list(self.sections),
            "party": list(self.parties),
            "perspective": list(self.perspectives),
            "labels": [self.labels] if self.labels != default.labels else [],
        }
        return {name: values for name, values in query.items() if values}

    @classmethod
    def from_query(cls, params: Mapping[str, Sequence[str]], choices: ViewChoices) -> ViewState:
        """The state an address asks for; values this heatmap does not have are ignored, not errors.

        A link outlives the data it was made from (a section renamed, a party retired): the rest
        of the view still opens.
        """

        def one(name: str, allowed: Collection[str], default: str) -> str:
            values = [v for v in params.get(name, ()) if v in allowed]
            return values[-1] if values else default

        def many(name: str, allowed: Collection[str]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(v for v in params.get(name, ()) if v in allowed))

        mode = one("mode", MODES, "level")
        return cls(
            mode=mode,
            sort=one("sort", sorts_for(mode), "section"),
            sections=many("section", choices.sections),
            parties=many("party", choices.parties),
            perspectives=many("perspective", choices.perspectives),
            labels=one("labels", LABEL_FILTERS, "all"),
        )

    def with_mode(self, mode: str) -> ViewState:
        """This state in another mode; a sort that mode does not offer falls back to "by section"."""
        return replace(self, mode=mode, sort=self.sort if self.sort in sorts_for(mode) else "section")


# ---------------------------------------------------------------- the view


@dataclass(frozen=True)
class ViewCell:
    """What one cell shows: the level cell (level mode) or the difference (comparison modes)."""

    column: Column
    level: Cell | None = None
    change: CellDelta | None = None
    muted: bool = False  # outside the label filter: drawn without colour

    @property
    def value(self) -> float | None:
        """The number the colour and the sort use: the mean level, or the difference; None without one."""
        if self.change is not None:
            return self.change.delta
        if self.level is None or self.level.suppressed:
            return None
        return self.level.mean


@dataclass(frozen=True)
class ViewRow:
    row: Row
    cells: tuple[ViewCell, ...]


@dataclass(frozen=True)
class HeatmapView:
    """Rows of cells to draw, in order; ``by_section`` when they are grouped under section headings."""

    state: ViewState
    title: str
    columns: tuple[Column, ...]
    rows: tuple[ViewRow, ...]
    sort_column: Column | None  # the column "lowest/highest/largest first" orders by
    polar: bool  # True: higher is better (levels, changes); False: neither direction is (gaps)
    hidden_rows: int = field(default=0)  # rows the label filter left out

    @property
    def by_section(self) -> bool:
        return self.state.sort == "section"


def _shown(column: Column, state: ViewState) -> bool:
    """A column shows when every respondent it covers is inside the party and perspective filters."""
    if state.parties and (column.party is None or column.party not in state.parties):
        return False
    return not state.perspectives or (
        column.perspective is not None and column.perspective in state.perspectives
    )


def _labelled(cell: Cell | None, labels: str) -> bool:
    if labels == "all":
        return True
    agreement = None if cell is None or cell.suppressed else cell.agreement
    return agreement is not None and labels in ("either", agreement)


def sort_column(columns: Sequence[Column]) -> Column | None:
    """The broadest group shown (everybody, then a party, a perspective, a party × perspective)."""
    return min(columns, key=lambda c: _BREADTH.index(c.group_kind), default=None)


def build_view(data: HeatmapData, state: ViewState, comparison: Comparison | None = None) -> HeatmapView:
    """The rows and cells the page draws for ``state``; ``comparison`` is required in a comparison mode.

    Filters: ``sections`` keeps rows; ``parties`` and ``perspectives`` keep the columns whose
    respondents all lie within them (a party filter leaves out cross-party columns; it does not
    apply to the gap mode, whose every column spans both parties); ``labels`` (level mode) draws cells without the label
    without colour and leaves out rows with none. Sorts other than "by section" order the rows by
    the broadest column shown (:func:`sort_column`), rows without a number there last.
    """
    if state.mode == "level":
        columns, title, polar = (
            tuple(data.columns),
            "Mean level per Value Code and group of respondents",
            True,
        )
    elif comparison is None:
        raise ValueError(f"the {state.mode} mode needs a comparison")
    else:
        columns, title, polar = comparison.columns, comparison.title, comparison.polar
    # a gap's columns each span both parties: a party filter would leave none, so it does not apply there
    column_filter = replace(state, parties=()) if state.mode == "gap" else state
    columns = tuple(c for c in columns if _shown(c, column_filter))

    rows: list[ViewRow] = []
    left_out = 0
    for row in data.rows:
        if state.sections and row.section not in state.sections:
            continue
        if comparison is not None and state.mode != "level":
            cells = tuple(ViewCell(c, change=comparison.cell(row.identifier, c)) for c in columns)
        else:
            levels = [data.cell(row.identifier, c) for c in columns]
            cells = tuple(
                ViewCell(c, level=cell, muted=not _labelled(cell, state.labels))
                for c, cell in zip(columns, levels, strict=True)
            )
            if cells and all(c.muted for c in cells):
                left_out += 1
                continue
        rows.append(ViewRow(row, cells))

    key_column = sort_column(columns)
    if state.sort != "section" and key_column is not None:
        index = columns.index(key_column)
        keyed = [(row, row.cells[index].value) for row in rows]
        numbered = [(row, abs(v) if state.sort == "largest" else v) for row, v in keyed if v is not None]
        numbered.sort(
            key=lambda pair: pair[1], reverse=state.sort != "lowest"
        )  # stable: ties keep section order
        rows = [row for row, _ in numbered] + [row for row, v in keyed if v is None]
    return HeatmapView(state, title, columns, tuple(rows), key_column, polar, left_out)
