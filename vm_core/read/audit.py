"""The anonymity audit: try the attacks on what is published, and name any leak.

For every stored cycle × Value Code the audit takes exactly what
:func:`vm_core.read.scores.read_scores` publishes — the one read path of every output —
and checks three things against the truth recomputed from ``evaluation``:

* **leak** — no union of atoms (party × perspective cells, and each party's
  respondents without a perspective) holding at least one respondent and fewer than
  the minimum who gave a level can be worked out from the shown groups by any
  combination of the table's additive relations (:func:`vm_core.scoring.anonymity.find_leak`,
  an exact search);
* **mismatch** — every number a shown group publishes equals the truth (when the
  cycle holds newer data back, ``Cycle.held_note``, the truth is what was published:
  ``published_tally``);
* **exposed** — a hidden group publishes no number at all.

Then, per cycle, every output derived from what is published, each read through its own reader
exactly as the CLI and the app show it, and checked against the published scores and the truth
independently of how it was built: gaps and changes, Things That Matter roll-ups, findings and
action effects (:mod:`vm_core.read.audit_comparisons`), engagement and comments
(:mod:`vm_core.read.audit_people`). A finding names its output: ``leak: demo cycle 2 engagement: …``.

``vm audit anonymity`` prints one line per finding and exits 1 on any; every run
(the Prefect flow and ``vm run --no-prefect``) ends with the audit of the scores and fails on a
finding (the derived outputs cost about ten times as much: docs/anonymity.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from vm_core.errors import VmError
from vm_core.lake.evidence import cycle_counts
from vm_core.lake.storage import Lake
from vm_core.read.audit_outputs import DerivedAudit
from vm_core.read.audit_published import Kind, Published
from vm_core.read.scores import MASKED_COLUMNS, narrow_to, read_scores
from vm_core.scoring import (
    atom_tallies,
    effective_min_group_size,
    mean_level,
    published_tallies,
    relationship_table,
)
from vm_core.scoring.anonymity import CATEGORIES, Group, find_leak, level_count
from vm_core.store.models import LEVELS, Cycle, Relationship, ValueCode

FORMATS = ("table", "json")

#: The published count columns and the tally category each one is.
_COUNTS = {**{f"l{level}": f"l{level}" for level in LEVELS}, "n_no_level": "no_level", "n_blank": "blank"}


class AnonymityLeak(VmError):
    """The audit found outputs that could single someone out; the run fails."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        more = f" (and {len(problems) - 1} more: run `vm audit anonymity`)" if len(problems) > 1 else ""
        super().__init__(f"anonymity audit failed: {problems[0]}{more}")


#: The published outputs the audit checks: the scores, then those derived from them (in this order).
OUTPUTS = ("scores", "gaps", "changes", "rollup", "findings", "effects", "engagement", "comments")


@dataclass(frozen=True)
class Finding:
    kind: Kind
    relationship: str
    cycle: int
    value_code: str  # "" when the finding is about no one Value Code
    detail: str
    output: str = "scores"  # one of OUTPUTS

    @property
    def line(self) -> str:
        where = (
            self.value_code
            if self.output == "scores"
            else " ".join(filter(None, (self.output, self.value_code)))
        )
        return f"{self.kind}: {self.relationship} cycle {self.cycle} {where}: {self.detail}"


@dataclass
class AuditReport:
    """What :func:`audit_anonymity` checked and found."""

    tables: int = 0  # cycles × Value Codes checked
    findings: list[Finding] = field(default_factory=list)
    outputs: int = 0  # cycles × derived outputs checked (gaps, changes, roll-ups, findings, …)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def problems(self) -> list[str]:
        return [f.line for f in self.findings]

    def lines(self) -> list[str]:
        if self.ok:
            return [all_clear(self.tables, self.outputs)]
        return [*self.problems, f"{len(self.findings)} finding(s) in {_checked(self.tables, self.outputs)}"]

    def to_json(self) -> str:
        payload = {
            "tables": self.tables,
            "outputs": self.outputs,
            "ok": self.ok,
            "findings": [asdict(f) for f in self.findings],
        }
        return json.dumps(payload, ensure_ascii=False, indent=2)


def all_clear(tables: int, outputs: int = 0) -> str:
    """The line every audit that found nothing ends with."""
    return f"no leak in {_checked(tables, outputs)}"


def _checked(tables: int, outputs: int) -> str:
    derived = f" and {outputs} derived outputs (cycles × outputs)" if outputs else ""
    return f"{tables} tables (cycles × Value Codes){derived}"


def audit_anonymity(
    session: Session,
    lake: Lake,
    relationship_key: str | None = None,
    cycle_number: int | None = None,
    *,
    derived: bool = True,
) -> AuditReport:
    """Audit the published outputs of the matching cycles (None: all) — see the module docstring.

    ``derived``: also the outputs derived from the scores (a run audits the scores only).
    """
    frame = read_scores(session, relationship_key, cycle_number)
    report = AuditReport()
    if frame.empty:
        return report
    cycles = session.execute(
        narrow_to(
            select(Relationship, Cycle).join(Cycle, Cycle.relationship_id == Relationship.id),
            relationship_key,
            cycle_number,
        )
    ).all()
    by_number = {(r.key, c.number): (r, c) for r, c in cycles}
    audits: dict[str, DerivedAudit] = {}
    for (relationship_key_, number), published in frame.groupby(["relationship", "cycle"], sort=False):
        relationship, cycle = by_number[(str(relationship_key_), int(number))]
        _audit_cycle(session, lake, relationship, cycle, published, report)
        if derived:
            if relationship.key not in audits:
                audits[relationship.key] = DerivedAudit(
                    session, lake, relationship, Published(session, relationship.key)
                )
            audits[relationship.key].published.add(cycle.number, published)
    for audit in audits.values():
        for cycle in sorted(
            (c for r, c in cycles if r.key == audit.relationship.key), key=lambda c: c.number
        ):
            if cycle.number in audit.published.cycles:
                checked, problems = audit.cycle(cycle)
                report.outputs += checked
                report.findings += [
                    Finding(p.kind, audit.relationship.key, cycle.number, p.value_code, p.detail, output)
                    for output, p in problems
                ]
    return report


def _audit_cycle(
    session: Session,
    lake: Lake,
    relationship: Relationship,
    cycle: Cycle,
    published: pd.DataFrame,
    report: AuditReport,
) -> None:
    layout = relationship_table(session, relationship.id, cycle.id)
    table = layout.table
    minimum = effective_min_group_size(relationship)
    value_code_ids = dict(
        session.execute(
            select(ValueCode.identifier, ValueCode.id).where(
                ValueCode.library_version_id == cycle.library_version_id
            )
        ).all()
    )
    # held newer data: the published numbers are those of the published tallies, by design
    truth = (
        published_tallies(session, cycle.id, layout)
        if cycle.held_note
        else atom_tallies(cycle_counts(session, lake, cycle), layout, value_code_ids)
    )
    known = set(table.groups)
    for identifier, rows in published.groupby("value_code", sort=False):
        report.tables += 1
        code = str(identifier)

        def found(kind: Kind, detail: str, code: str = code) -> None:
            report.findings.append(Finding(kind, relationship.key, cycle.number, code, detail))

        tallies = truth.get(value_code_ids.get(code, -1), {})
        shown: list[Group] = []
        for row in rows.to_dict("records"):
            group = Group(row["group_kind"], row["party"], row["perspective"])
            if row["suppressed"]:
                exposed = [c for c in MASKED_COLUMNS if not _missing(row[c])]
                if exposed:
                    found("exposed", f"hidden group {group.key} publishes {', '.join(exposed)}")
                continue
            shown.append(group)
            if group not in known:
                found("mismatch", f"{group.key} is shown but is not a group of the relationship")
                continue
            mismatch = _mismatch(row, table.group_tally(group, tallies))
            if mismatch:
                found("mismatch", f"{group.key} shows {mismatch}")
        leak = find_leak(table, [g for g in shown if g in known], tallies, minimum)
        if leak is not None:
            found("leak", leak.describe())


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _mismatch(row: dict[str, Any], truth: Sequence[int]) -> str | None:
    """What a shown row publishes that the truth does not say, in words; None when all agree."""
    expected = {"n": level_count(truth)} | {
        column: int(truth[CATEGORIES.index(category)]) for column, category in _COUNTS.items()
    }
    wrong = [
        f"{column}={row[column]} (truth {value})"
        for column, value in expected.items()
        if _missing(row[column]) or int(row[column]) != value
    ]
    mean = mean_level(truth[: len(LEVELS)])
    if (mean is None) != _missing(row["mean"]) or (
        mean is not None and abs(float(row["mean"]) - mean) > 1e-9
    ):
        wrong.append(f"mean={row['mean']} (truth {mean})")
    return ", ".join(wrong) or None


def format_report(report: AuditReport, fmt: str = "table") -> str:
    """The report as ``table`` (one line per finding, or the one-line all-clear) or ``json``."""
    if fmt == "json":
        return report.to_json() + "\n"
    if fmt == "table":
        return "\n".join(report.lines()) + "\n"
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
