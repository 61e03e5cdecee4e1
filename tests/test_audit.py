"""The anonymity audit: it finds a table built to leak, passes on the demo, and fails runs.

Tables that leak are written straight into the store, the way the first slice's rule
stored them, with the counts behind them (``published_tally``) made to look harmless so
that the read path's own re-check does not hide the leak: only the audit, which recomputes
the truth from the evaluations, can see it.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tests.conftest import Store
from tests.factories import add_respondents, counts, current_lake, seed_world
from vm_cli.main import main
from vm_core.read.audit import audit_anonymity
from vm_core.read.scores import read_scores
from vm_core.scoring import (
    atom_tallies,
    consensus,
    mean_level,
    published_tallies,
    relationship_table,
    score_cycle,
)
from vm_core.scoring.anonymity import HeatmapTable
from vm_core.store.models import Cycle, Party, PublishedTally, Score, ValueCode

REPO = Path(__file__).resolve().parent.parent
HIDDEN_NUMBERS = ("n", "n_no_level", "n_blank", "l1", "l2", "l3", "l4", "l5", "mean", "consensus")


def _seed_two_one_person_partners(session: Session) -> int:
    """Issue 5's first attack: partners a and b of one person each, both level 5, under a shown total."""
    world = seed_world(session, parties=("c", "a", "b"), perspectives=(), sections={"S": ("VC1",)})
    add_respondents(session, world, party="c", perspective=None, levels={"VC1": [3, 3, 4, 4, 2, 3, 4, 3]})
    add_respondents(session, world, party="a", perspective=None, levels={"VC1": [5]})
    add_respondents(session, world, party="b", perspective=None, levels={"VC1": [5]})
    score_cycle(session, world.cycle.id, counts(session, world.cycle))
    return world.cycle.id


def show_groups_as_the_old_rule_did(
    session: Session, cycle_id: int, value_code_id: int, shown: set[str]
) -> None:
    """Publish ``shown`` groups with their true numbers, and make the stored atom counts look harmless.

    The old rule hid only groups below the minimum and a sibling when exactly one was hidden;
    ``published_tally`` is inflated (+100 at level 3 per atom) so read_scores' re-check finds
    every group big enough.
    """
    cycle = session.get(Cycle, cycle_id)
    assert cycle is not None
    layout = relationship_table(session, cycle.relationship_id)
    codes = dict(
        session.execute(
            select(ValueCode.identifier, ValueCode.id).where(
                ValueCode.library_version_id == cycle.library_version_id
            )
        ).all()
    )
    truth = atom_tallies(counts(session, cycle), layout, codes).get(value_code_id, {})
    table: HeatmapTable = layout.table
    for group in table.groups:
        tally = table.group_tally(group, truth)
        levels = list(tally[:5])
        numbers: dict[str, Any] = {f"l{i + 1}": c for i, c in enumerate(levels)}
        numbers |= {"mean": mean_level(levels), "consensus": consensus(levels), "agreement": None}
        session.execute(
            update(Score)
            .where(
                Score.cycle_id == cycle_id, Score.value_code_id == value_code_id, Score.group_key == group.key
            )
            .values(suppressed=group.key not in shown, **(numbers if group.key in shown else {}))
        )
    session.execute(
        delete(PublishedTally).where(
            PublishedTally.cycle_id == cycle_id, PublishedTally.value_code_id == value_code_id
        )
    )
    session.execute(
        PublishedTally.__table__.insert(),
        [
            {
                "cycle_id": cycle_id,
                "value_code_id": value_code_id,
                "party_id": layout.party_ids[atom.party],
                "perspective_id": layout.perspective_ids.get(atom.perspective or ""),
                "l1": 0,
                "l2": 0,
                "l3": 100,
                "l4": 0,
                "l5": 0,
                "n_no_level": 0,
                "n_blank": 0,
            }
            for atom in table.atoms
        ],
    )


@pytest.mark.store
def test_the_engine_leaves_nothing_for_the_audit_to_find(store: Store) -> None:
    with store.sessions() as s, s.begin():
        _seed_two_one_person_partners(s)
        report = audit_anonymity(s, current_lake())
    assert report.ok, report.problems
    # the scores' one table, and the cycle's 7 derived outputs (gaps, changes, roll-ups, findings, …)
    assert report.lines() == [
        "no leak in 1 tables (cycles × Value Codes) and 7 derived outputs (cycles × outputs)"
    ]


@pytest.mark.store
def test_the_audit_finds_the_old_rules_leak(store: Store) -> None:
    with store.sessions() as s, s.begin():
        cycle_id = _seed_two_one_person_partners(s)
        vc1 = s.scalar(select(ValueCode.id))
        assert vc1 is not None
        # the first slice's rule: a and b hidden (n 1 < 5), two hidden siblings → nothing more
        show_groups_as_the_old_rule_did(s, cycle_id, vc1, {"all", "c"})
        report = audit_anonymity(s, current_lake(), "acme-bolt", 1)
    assert not report.ok
    (finding,) = report.findings
    assert finding.kind == "leak"
    assert (finding.relationship, finding.cycle, finding.value_code) == ("acme-bolt", 1, "VC1")
    # all − c = a + b: two people, both at level 5
    assert finding.detail.startswith(
        "a (no perspective) + b (no perspective) (2 respondent(s), 2 with a level)"
    )
    assert finding.detail.endswith("= all − c")


@pytest.mark.store
def test_the_audit_flags_a_shown_number_that_is_not_the_truth(store: Store) -> None:
    with store.sessions() as s, s.begin():
        cycle_id = _seed_two_one_person_partners(s)
        shown = read_scores(s).query("not suppressed")
        group, l3 = str(shown["group"].iloc[0]), int(shown["l3"].iloc[0])
        s.execute(
            update(Score)
            .where(Score.cycle_id == cycle_id, Score.group_key == group)
            .values(l3=Score.l3 + 1, n=Score.n + 1)
        )
        report = audit_anonymity(s, current_lake())
    assert [f.kind for f in report.findings] == ["mismatch"]
    assert f"l3={l3 + 1} (truth {l3})" in report.findings[0].detail
    assert report.findings[0].detail.startswith(f"{group} shows n=")


@pytest.mark.store
def test_vm_audit_anonymity_exit_codes_and_json(vm_env: Store) -> None:
    with vm_env.sessions() as s, s.begin():
        cycle_id = _seed_two_one_person_partners(s)
    runner = CliRunner()
    clean = runner.invoke(main, ["audit", "anonymity"])
    assert clean.exit_code == 0, clean.output
    assert (
        clean.output
        == "no leak in 1 tables (cycles × Value Codes) and 7 derived outputs (cycles × outputs)\n"
    )

    with vm_env.sessions() as s, s.begin():
        vc1 = s.scalar(select(ValueCode.id))
        assert vc1 is not None
        show_groups_as_the_old_rule_did(s, cycle_id, vc1, {"all", "c"})
    leaked = runner.invoke(main, ["audit", "anonymity", "--relationship", "acme-bolt", "--cycle", "1"])
    assert leaked.exit_code == 1
    first = leaked.output.splitlines()[0]
    assert first.startswith("leak: acme-bolt cycle 1 VC1: a (no perspective) + b (no perspective)")
    assert "= all − c" in first
    data = json.loads(runner.invoke(main, ["audit", "anonymity", "--format", "json"]).output)
    assert (data["tables"], data["ok"]) == (1, False)
    assert data["findings"][0]["kind"] == "leak"


@pytest.mark.store
def test_vm_scores_prints_no_number_for_a_hidden_group(vm_env: Store) -> None:
    with vm_env.sessions() as s, s.begin():
        _seed_two_one_person_partners(s)
    runner = CliRunner()
    out = runner.invoke(main, ["scores", "--format", "csv"]).output
    rows = {r["group"]: r for r in csv.DictReader(io.StringIO(out))}
    hidden = [r for r in rows.values() if r["suppressed"] == "true"]
    assert {r["group"] for r in hidden} >= {"a", "b"}
    for row in hidden:
        assert [row[c] for c in HIDDEN_NUMBERS] == [""] * len(HIDDEN_NUMBERS)
        assert row["suppression"] in ("below_minimum", "complementary")
    data = json.loads(runner.invoke(main, ["scores", "--format", "json"]).output)
    for record in (d for d in data if d["suppressed"]):
        assert all(record[c] is None for c in HIDDEN_NUMBERS)
    table = runner.invoke(main, ["scores"]).output
    for line in table.splitlines():
        if "below_minimum" in line or "complementary" in line:
            assert line.split()[4:-1] == ["—"] * 11  # 10 numbers and the agreement label


@pytest.mark.store
def test_the_demo_passes_and_a_late_respondent_is_held_then_published_with_publish_held(
    vm_env: Store, tmp_path: Path
) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(REPO / "examples" / "demo", demo, ignore=shutil.ignore_patterns("*.py"))
    config_path = demo / "relationship.yaml"
    runner = CliRunner()
    first = runner.invoke(main, ["run", str(config_path), "--no-prefect", "--cycle", "1"])
    assert first.exit_code == 0, first.output
    assert "anonymity audit: no leak in 16 tables (cycles × Value Codes)" in first.output
    audit = runner.invoke(main, ["audit", "anonymity"])
    assert audit.exit_code == 0, audit.output

    # one late Northwind senior leader arrives in cycle 1 (another source of the same cycle): a newly
    # committed lake file is enough for the next run to score the cycle again
    with vm_env.sessions() as s, s.begin():
        cycle = s.scalar(select(Cycle).where(Cycle.number == 1))
        assert cycle is not None
        layout = relationship_table(s, cycle.relationship_id)
        world = _late_world(s, cycle, layout.party_ids["northwind"], layout.perspective_ids["senior"])
        before = published_tallies(s, cycle.id, layout)
        add_respondents(s, world, party="northwind", perspective="senior", levels=world.levels)
    again = runner.invoke(main, ["run", str(config_path), "--no-prefect", "--cycle", "1"])
    assert again.exit_code == 0, again.output
    assert "cycle 1: newer data held back: northwind/senior" in again.output
    with vm_env.sessions() as s:
        assert published_tallies(s, cycle.id, layout) == before  # the published numbers stay
        assert s.get(Cycle, cycle.id).held_note is not None
    assert runner.invoke(main, ["audit", "anonymity"]).exit_code == 0

    published = runner.invoke(
        main, ["run", str(config_path), "--no-prefect", "--cycle", "1", "--publish-held"]
    )
    assert published.exit_code == 0, published.output
    assert "cycle 1: WARNING: published with --publish-held although northwind/senior" in published.output
    with vm_env.sessions() as s:
        assert s.get(Cycle, cycle.id).held_note is None
        assert published_tallies(s, cycle.id, layout) != before
    assert runner.invoke(main, ["audit", "anonymity"]).exit_code == 0


class _LateWorld:
    """Just enough of tests.factories.World to add respondents to a demo cycle."""

    def __init__(self, session: Session, cycle: Cycle, party_id: int, perspective_id: int):
        from vm_core.store.models import Perspective, Relationship

        self.relationship = session.get(Relationship, cycle.relationship_id)
        self.cycle = cycle
        self.parties = {"northwind": session.get(Party, party_id)}
        self.perspectives = {"senior": session.get(Perspective, perspective_id)}
        codes = session.scalars(
            select(ValueCode).where(ValueCode.library_version_id == cycle.library_version_id)
        )
        self.value_codes = {c.identifier: c for c in codes}
        self.levels = {identifier: [1] for identifier in self.value_codes}
        self.participants: list[Any] = []


def _late_world(session: Session, cycle: Cycle, party_id: int, perspective_id: int) -> Any:
    return _LateWorld(session, cycle, party_id, perspective_id)
