"""Reading scores: the ONLY read path for ``score`` rows (pages, CLI and exports use it).

Anonymity is re-enforced here, whatever is stored: per cycle × Value Code,
:func:`vm_core.scoring.anonymity.suppress` runs again on the atom counts behind the
published scores (``published_tally``) with the relationship's *current* minimum
group size, keeping hidden whatever the stored flags hide. A hidden row is returned
with NO number at all (n, n_no_level, n_blank, l1..l5, mean, consensus and agreement
blank), only ``suppressed`` and the reason in ``suppression``: ``below_minimum``
(fewer than the minimum gave a level) or ``complementary`` (withheld so that a
smaller group cannot be worked out). So a row tampered with in the database, or a
minimum raised after scoring, cannot publish a small group.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVarTuple

from sqlalchemy import Select, case, select
from sqlalchemy.orm import Session

from vm_core.read.output_formats import csv_text, json_text, unknown_format
from vm_core.read.text_table import align_by_name, aligned
from vm_core.scoring import (
    SCORE_COLUMNS,
    CycleTallies,
    RelationshipTable,
    effective_min_group_size,
    published_tallies,
    relationship_table,
)
from vm_core.scoring.anonymity import Group, Suppression, suppress
from vm_core.store.models import (
    GROUP_KINDS,
    LEVELS,
    Cycle,
    Party,
    Perspective,
    Relationship,
    Score,
    Section,
    ValueCode,
)

#: Columns of :func:`read_scores`: the exported columns, then context for pages.
FRAME_COLUMNS = (*SCORE_COLUMNS, "agreement", "party", "perspective", "section", "value_code_position")

LEVEL_COLUMNS = tuple(f"l{level}" for level in LEVELS)
COUNT_COLUMNS = ("n", "n_no_level", "n_blank", *LEVEL_COLUMNS)
#: What suppression blanks: every number of the row.
MASKED_COLUMNS = (*COUNT_COLUMNS, "mean", "consensus", "agreement")

if TYPE_CHECKING:  # pandas is imported only for frames: `vm scores` prints without it
    import pandas as pd


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    data = {c: [r[c] for r in records] for c in FRAME_COLUMNS}
    columns: dict[str, pd.Series] = {}
    for name in FRAME_COLUMNS:
        values = data[name]
        if name in COUNT_COLUMNS:
            columns[name] = pd.Series(values, dtype="Int64")
        elif name in ("mean", "consensus"):
            columns[name] = pd.Series([math.nan if v is None else v for v in values], dtype="float64")
        elif name == "suppressed":
            columns[name] = pd.Series(values, dtype="bool")
        elif name in ("cycle", "value_code_position"):
            columns[name] = pd.Series(values, dtype="int64")
        else:
            columns[name] = pd.Series(values, dtype="object")
    return pd.DataFrame(columns)


_Row = TypeVarTuple("_Row")


def narrow_to(query: Select[*_Row], relationship_key: str | None, cycle_number: int | None) -> Select[*_Row]:
    """A query over Relationship ⋈ Cycle narrowed to one relationship and/or cycle (None: all)."""
    if relationship_key is not None:
        query = query.where(Relationship.key == relationship_key)
    if cycle_number is not None:
        query = query.where(Cycle.number == cycle_number)
    return query


def read_scores(
    session: Session, relationship_key: str | None = None, cycle_number: int | None = None
) -> pd.DataFrame:
    """:func:`score_records` as a frame, typed: counts nullable ``Int64``, mean and consensus floats."""
    return _frame(score_records(session, relationship_key, cycle_number))


def score_records(
    session: Session, relationship_key: str | None = None, cycle_number: int | None = None
) -> list[dict[str, Any]]:
    """Scores as records with :data:`FRAME_COLUMNS`, anonymity re-enforced (module docstring).

    One row per cycle × Value Code × group, ordered by relationship, cycle, section and
    Value Code position, group kind (all, party, perspective, party_perspective), then
    party and perspective position. ``relationship`` is the relationship key, ``cycle``
    the cycle number, ``value_code`` the identifier, ``group`` the group key, ``party``
    and ``perspective`` the keys (None where not applicable). Every number of a hidden row
    is None; mean and consensus are at full precision; formatting is the caller's job, see
    :func:`format_scores`.
    """
    kind_order = case({kind: i for i, kind in enumerate(GROUP_KINDS)}, value=Score.group_kind, else_=99)
    query = (
        select(
            Relationship.id.label("relationship_id"),
            Relationship.key.label("relationship"),
            Relationship.min_group_size,
            Cycle.number.label("cycle"),
            Score.cycle_id,
            Score.value_code_id,
            ValueCode.identifier.label("value_code"),
            ValueCode.position.label("value_code_position"),
            Section.name.label("section"),
            Score.group_kind,
            Score.group_key.label("group"),
            Party.key.label("party"),
            Perspective.key.label("perspective"),
            Score.n,
            Score.n_no_level,
            Score.n_blank,
            Score.l1,
            Score.l2,
            Score.l3,
            Score.l4,
            Score.l5,
            Score.mean,
            Score.consensus,
            Score.agreement,
            Score.suppressed,
        )
        .join(Cycle, Cycle.id == Score.cycle_id)
        .join(Relationship, Relationship.id == Cycle.relationship_id)
        .join(ValueCode, ValueCode.id == Score.value_code_id)
        .join(Section, Section.id == ValueCode.section_id)
        .outerjoin(Party, Party.id == Score.party_id)
        .outerjoin(Perspective, Perspective.id == Score.perspective_id)
        .order_by(
            Relationship.key,
            Cycle.number,
            Section.position,
            ValueCode.position,
            ValueCode.identifier,
            kind_order,
            Party.position,
            Perspective.position,
            Score.group_key,
        )
    )
    query = narrow_to(query, relationship_key, cycle_number)
    records = [dict(r) for r in session.execute(query).mappings()]
    if not records:
        return []

    # Re-enforce anonymity per cycle × Value Code on the counts behind what was published.
    layouts: dict[int, RelationshipTable] = {}  # per cycle: retired groups stay where they have scores
    tallies: dict[int, CycleTallies] = {}
    slices: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for r in records:
        slices.setdefault((r["cycle_id"], r["value_code_id"]), []).append(r)
        if r["cycle_id"] not in layouts:
            layouts[r["cycle_id"]] = relationship_table(session, r["relationship_id"], r["cycle_id"])
            tallies[r["cycle_id"]] = published_tallies(session, r["cycle_id"], layouts[r["cycle_id"]])
    for (cycle_id, value_code_id), rows in slices.items():
        table = layouts[cycle_id].table
        flagged = set()
        for r in rows:
            r["_group"] = Group(r["group_kind"], r["party"], r["perspective"])
            if r["suppressed"]:
                flagged.add(r["_group"])
        hidden: dict[Group, Suppression] = suppress(
            table,
            tallies[cycle_id].get(value_code_id, {}),
            effective_min_group_size(rows[0]["min_group_size"]),
            already_hidden=flagged,
        )
        known = set(table.groups)
        for r in rows:
            reason = hidden.get(r["_group"])
            if reason is None and r["_group"] not in known:
                reason = "complementary"  # a group the relationship no longer has: nothing to check it by
            r["suppressed"] = reason is not None
            r["suppression"] = reason
            if reason is not None:
                for column in MASKED_COLUMNS:
                    r[column] = None

    return [{c: r[c] for c in FRAME_COLUMNS} for r in records]


# ---------------------------------------------------------------- formatting


def _value(value: Any) -> Any:
    """A frame cell as a plain Python value; None for NA."""
    import pandas as pd

    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def _from_frame(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {c: _value(v) for c, v in zip(FRAME_COLUMNS, row, strict=True)}
        for row in df[list(FRAME_COLUMNS)].itertuples(index=False, name=None)
    ]


def _records(scores: list[dict[str, Any]], columns: Sequence[str]) -> list[dict[str, Any]]:
    return [{c: r[c] for c in columns} for r in scores]


def _csv(df: list[dict[str, Any]]) -> str:
    return csv_text(
        SCORE_COLUMNS,
        (
            [("true" if v else "false") if c == "suppressed" else v for c, v in record.items()]
            for record in _records(df, SCORE_COLUMNS)
        ),
    )


def _json(df: list[dict[str, Any]]) -> str:
    records = _records(df, (*SCORE_COLUMNS, "agreement"))
    for record in records:
        record["suppressed"] = bool(record["suppressed"])
    return json_text(records)


_TABLE_COLUMNS = (*SCORE_COLUMNS[1 : SCORE_COLUMNS.index("suppressed")], "agreement", "suppressed")
_TABLE_ALIGN = align_by_name(_TABLE_COLUMNS, {"value_code", "group_kind", "group", "agreement"})


def _table(df: list[dict[str, Any]]) -> str:
    cells: list[list[str]] = []
    for record in _records(df, (*_TABLE_COLUMNS, "relationship", "suppression")):
        hidden = bool(record["suppressed"])
        line = []
        for c in _TABLE_COLUMNS:
            v = record[c]
            if c == "suppressed":
                line.append(str(record["suppression"]) if hidden else "")
            elif hidden and c in MASKED_COLUMNS:
                line.append("—")
            elif v is None:
                line.append("")
            elif c in ("mean", "consensus"):
                line.append(f"{v:.2f}")
            else:
                line.append(str(v))
        cells.append(line)
    header, *rows = aligned([_TABLE_COLUMNS, *cells], _TABLE_ALIGN)  # one width per column for all blocks

    blocks: list[str] = []
    previous: str | None = None
    for record, row in zip(df, rows, strict=True):
        relationship = str(record["relationship"])
        if relationship != previous:
            if blocks:
                blocks.append("")
            blocks += [f"relationship {relationship}", header]
            previous = relationship
        blocks.append(row)
    if not blocks:
        blocks.append(header)
    return "\n".join(blocks) + "\n"


def format_scores(scores: pd.DataFrame | list[dict[str, Any]], fmt: str = "table") -> str:
    """Render :func:`score_records` (or a :func:`read_scores` frame) as ``fmt``: ``table``, ``csv`` or ``json``.

    * ``csv``: header exactly :data:`~vm_core.scoring.SCORE_COLUMNS`, one row per Value
      Code × group; a hidden row has blank fields for every number (n included),
      ``suppressed`` is true/false and ``suppression`` the reason (``below_minimum`` or
      ``complementary``; blank when shown);
    * ``json``: a list of objects with those keys plus ``agreement``; null for every
      number of a hidden row, and for ``suppression`` of a shown one;
    * ``table``: aligned text per relationship, mean and consensus to 2 decimals, "—"
      for every number of a hidden row, whose ``suppressed`` column gives the reason.

    Any other ``fmt`` is a ValueError.
    """
    df = scores if isinstance(scores, list) else _from_frame(scores)
    if fmt == "csv":
        return _csv(df)
    if fmt == "json":
        return _json(df)
    if fmt == "table":
        return _table(df)
    raise ValueError(unknown_format(fmt))
