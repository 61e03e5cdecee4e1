"""What may be compared across cycles: the baseline cycles, and the Value Codes asked the same way in both.

A change is the same Value Code and group in two cycles of one relationship: the cycle against the
*previous* cycle (the highest-numbered one below it) and against the *first* cycle (reported once
when the two are the same cycle).

Same Value Code version
    Each cycle is pinned to a library version, and each version has its own Value Code rows, so a
    Value Code is compared across cycles by its **content**: the same identifier *and* the same five
    evaluation statements, level for level (whitespace runs are read as one space, so reflowing a
    statement changes nothing). The statements are the scale: a respondent picks one of them, and the
    level is the statement picked, so two cycles with the same statements measured on the same scale,
    whatever library version they belong to. The description, help text, level labels, section and
    Things That Matter may be edited (to clarify, to regroup) without breaking the comparison; a
    changed statement breaks it, and that Value Code is then not compared across the two cycles.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from vm_core.read.cells import CellPair, CycleCells, Side, earlier_cycles
from vm_core.store.models import LEVELS, Cycle, Relationship, ValueCode, ValueCodeLevel


def baselines(session: Session, relationship: Relationship, cycle_number: int) -> dict[str, Cycle]:
    """``previous`` and ``first`` → their cycle; ``first`` only when it is not also the previous one."""
    earlier = earlier_cycles(session, relationship, cycle_number)
    if not earlier:
        return {}
    found = {"previous": earlier[-1]}
    if earlier[0].id != earlier[-1].id:
        found["first"] = earlier[0]
    return found


def comparable_value_codes(session: Session, version_id: int, other_version_id: int) -> set[str]:
    """Identifiers of the Value Codes that two library versions share with the same five statements."""
    if version_id == other_version_id:  # the very same rows
        return set(
            session.scalars(select(ValueCode.identifier).where(ValueCode.library_version_id == version_id))
        )
    contents = _statements(session, (version_id, other_version_id))
    return {
        identifier
        for (version, identifier), statements in contents.items()
        if version == version_id
        and all(statements)
        and contents.get((other_version_id, identifier)) == statements
    }


def _statements(session: Session, version_ids: Iterable[int]) -> dict[tuple[int, str], tuple[str, ...]]:
    """(library version id, identifier) → the statements of levels 1..5, "" for a level without one."""
    rows = session.execute(
        select(
            ValueCode.library_version_id, ValueCode.identifier, ValueCodeLevel.level, ValueCodeLevel.statement
        )
        .join(ValueCodeLevel, ValueCodeLevel.value_code_id == ValueCode.id)
        .where(ValueCode.library_version_id.in_(list(version_ids)))
    )
    statements: dict[tuple[int, str], list[str]] = {}
    for version, identifier, level, statement in rows:
        slots = statements.setdefault((version, identifier), [""] * len(LEVELS))
        slots[level - 1] = " ".join(statement.split())
    return {key: tuple(value) for key, value in statements.items()}


def change_pairs(now: CycleCells, before: CycleCells, comparable: set[str]) -> list[CellPair]:
    """Every Value Code × group published in both cycles, for the comparable Value Codes: now against before.

    In the later cycle's order (section, Value Code, then the heatmap's group order). A cell hidden
    in either cycle is not compared.
    """
    pairs = []
    for identifier in now.value_codes:
        if identifier not in comparable:
            continue
        for group in now.groups:
            x, y = now.counts(identifier, group), before.counts(identifier, group)
            if x is not None and y is not None:
                pairs.append(CellPair(identifier, Side(now.cycle, group, x), Side(before.cycle, group, y)))
    return pairs
