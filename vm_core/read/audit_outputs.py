"""The audit of one relationship's derived outputs, cycle by cycle: each read as published, then checked.

Every output is read through its own reader, as ``vm gaps``, ``vm findings``, ``vm comments``,
``vm actions effect`` and the app read it, and handed to the checks of
:mod:`vm_core.read.audit_comparisons` and :mod:`vm_core.read.audit_people`. An action's effect is
audited with the cycle that measured it (the cycle it was raised in, while nothing has).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from vm_core.lake.storage import Lake
from vm_core.read.action_effects import ActionEffect, read_action_effects
from vm_core.read.audit_comparisons import check_effects, check_findings, check_gaps, check_rollup
from vm_core.read.audit_people import check_comments, check_engagement
from vm_core.read.audit_published import Problem, Published
from vm_core.read.comments import read_comments
from vm_core.read.engagement import EngagementRow, read_engagement
from vm_core.read.findings import read_findings
from vm_core.read.gaps import read_gaps
from vm_core.read.rollup import read_rollup, things_that_matter
from vm_core.store.models import Cycle, Relationship

#: The derived outputs each cycle's audit checks (``gaps`` and ``changes`` are read together).
DERIVED = ("gaps", "changes", "rollup", "findings", "effects", "engagement", "comments")


@dataclass
class DerivedAudit:
    """One relationship's derived outputs; what several cycles share is read once."""

    session: Session
    lake: Lake
    relationship: Relationship
    published: Published
    engagement: dict[int, list[EngagementRow]] = field(default_factory=dict)
    effects: list[ActionEffect] | None = None

    def cycle(self, cycle: Cycle) -> tuple[int, list[tuple[str, Problem]]]:
        """Audit the cycle's derived outputs: how many were checked, and (output, problem) for each finding."""
        session, key, number = self.session, self.relationship.key, cycle.number
        found, q_values = check_gaps(read_gaps(session, key, number), self.published)
        rollup = read_rollup(session, key, number)
        things = things_that_matter(session, cycle.library_version_id)
        found += [("rollup", p) for p in check_rollup(rollup, things, self.published, number)]
        parties = [g.party or "" for g in self.published.of(number).groups.values() if g.kind == "party"]
        findings = read_findings(session, key, number)
        found += [("findings", p) for p in check_findings(findings, self.published, q_values, parties)]
        effects = [e for e in self._effects() if (e.measured_at or e.raised_in) == number]
        found += [("effects", p) for p in check_effects(effects, self.published)]
        rows = self._engagement(number)
        previous = self._engagement(rows[0].previous_cycle) if rows and rows[0].previous_cycle else []
        problems = check_engagement(session, self.lake, self.relationship, cycle, rows, previous)
        found += [("engagement", p) for p in problems]
        comments = read_comments(session, self.lake, key, number)
        found += [
            ("comments", p) for p in check_comments(session, self.lake, self.relationship, cycle, comments)
        ]
        return len(DERIVED), found

    def _engagement(self, number: int) -> list[EngagementRow]:
        if number not in self.engagement:
            self.engagement[number] = read_engagement(self.session, self.lake, self.relationship.key, number)
        return self.engagement[number]

    def _effects(self) -> list[ActionEffect]:
        if self.effects is None:
            self.effects = read_action_effects(self.session, self.relationship.key)
        return self.effects
