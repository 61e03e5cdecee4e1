"""Reading a cycle's findings from the store: the published cells, their comparisons and the relationship's words."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from vm_core.read.cells import cycle_cells, earlier_cycles, find_cycle, find_relationship
from vm_core.read.findings.model import Finding
from vm_core.read.findings.rules import DEFAULT_THRESHOLDS, Vocabulary, find_all
from vm_core.read.findings.wording import readable_name
from vm_core.read.gaps import Thresholds, read_gaps
from vm_core.read.reader import EVERYTHING, Scope
from vm_core.scoring.statistics import AgreementRule
from vm_core.store.models import Cycle, Party, Perspective, Relationship, ValueCode, ValueCodeLevel


def read_findings(
    session: Session,
    relationship_key: str,
    cycle_number: int,
    *,
    scope: Scope = EVERYTHING,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> list[Finding]:
    """The cycle's findings, ranked: party gaps, changes, agreements and divisions over published cells.

    The agreement thresholds are the relationship's (``relationship.agreement``, as the heatmap's
    labels); the comparisons' are ``thresholds``, which also sets the fewest answers a cell needs
    before a sentence rests on it. LookupError (one line) for an unknown relationship or cycle.
    """
    relationship = find_relationship(session, relationship_key, scope)
    cycle = find_cycle(session, relationship, cycle_number)
    cells = cycle_cells(session, relationship_key, cycle_number)
    gaps = read_gaps(
        session, relationship_key, cycle_number, ["party", "change"], scope=scope, thresholds=thresholds
    )
    return find_all(
        cells,
        gaps,
        vocabulary(session, relationship, cycle),
        AgreementRule.from_mapping(relationship.agreement or {}),
        thresholds,
    )


def vocabulary(session: Session, relationship: Relationship, cycle: Cycle) -> Vocabulary:
    """The words of the relationship and of the cycle's library version (names, level labels, earlier modes)."""
    parties = session.execute(select(Party.key, Party.name).where(Party.relationship_id == relationship.id))
    perspectives = session.execute(
        select(Perspective.key, Perspective.name).where(Perspective.relationship_id == relationship.id)
    )
    codes = session.execute(
        select(ValueCode.identifier, ValueCode.description, ValueCode.short_name).where(
            ValueCode.library_version_id == cycle.library_version_id
        )
    )
    labels = session.execute(
        select(ValueCode.identifier, ValueCodeLevel.level, ValueCodeLevel.label)
        .join(ValueCodeLevel, ValueCodeLevel.value_code_id == ValueCode.id)
        .where(ValueCode.library_version_id == cycle.library_version_id)
    )
    return Vocabulary(
        parties={key: name for key, name in parties},
        perspectives={key: name for key, name in perspectives},
        names={
            identifier: readable_name(identifier, description, short)
            for identifier, description, short in codes
        },
        level_labels={(identifier, level): label for identifier, level, label in labels},
        earlier_modes={c.number: c.mode for c in earlier_cycles(session, relationship, cycle.number)},
    )
