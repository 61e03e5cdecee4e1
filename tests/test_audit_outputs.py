"""The anonymity audit of the derived outputs: the demo passes, and deliberately broken outputs are caught.

Each attack breaks one reader the way a bug would — a comparison of a hidden cell, a finding that
cites one or speaks for a hidden side, a hidden row that still shows its count, a comment list
shown below the minimum or beside a list it can be differenced with — and the audit, which
checks the published output and not the code that built it, must name it. The demo is cycle 1 of
Northwind ⇄ Contoso: Contoso's four senior leaders are hidden (``contoso/senior``, below the
minimum) with the cross-party ``senior`` row (complementary).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from tests.conftest import REPO, Store
from tests.factories import add_respondents, build_demo, counts, current_lake, seed_world
from vm_cli.main import main
from vm_core.actions.importing import import_actions
from vm_core.read import audit_outputs
from vm_core.read.action_effects import read_action_effects
from vm_core.read.audit import AuditReport, audit_anonymity
from vm_core.read.cells import Side, cycle_cells
from vm_core.read.comments import GroupComments, format_comments, read_comments, written_comments
from vm_core.read.engagement import read_engagement, responding_people
from vm_core.read.findings import CitedCell
from vm_core.read.rollup import read_rollup
from vm_core.run import pipeline
from vm_core.scoring import relationship_table, score_cycle
from vm_core.scoring.anonymity import ALL, Group
from vm_core.settings import Settings
from vm_core.store.db import transaction
from vm_core.store.models import Cycle, Relationship

KEY = "northwind-contoso"
HIDDEN = Group("party_perspective", "contoso", "senior")  # cycle 1: 4 respondents, below the minimum of 5
NORTHWIND_SENIOR = Group("party_perspective", "northwind", "senior")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings: Settings = build_demo(tmp_path_factory)
    with transaction(pipeline.open_store(settings)) as s:
        import_actions(s, KEY, REPO / "examples" / "demo" / "actions.yaml", by="demo")
    return settings


@pytest.fixture
def session(demo: Settings) -> Iterator[Session]:
    with pipeline.open_store(demo)() as s:
        yield s


def _broken(monkeypatch: pytest.MonkeyPatch, reader: str, change: Callable[[Any], Any]) -> None:
    """The audit reads ``reader`` and gets its real output passed through ``change``."""
    real = getattr(audit_outputs, reader)
    monkeypatch.setattr(audit_outputs, reader, lambda *a, **k: change(real(*a, **k)))


def _audit(session: Session, demo: Settings, cycle: int = 1) -> AuditReport:
    return audit_anonymity(session, demo.lake(), KEY, cycle)


def _lines(report: AuditReport, output: str) -> list[str]:
    return [f.line for f in report.findings if f.output == output]


# ---------------------------------------------------------------- the demo passes


def test_the_demo_passes_with_zero_findings_across_all_outputs(session: Session, demo: Settings) -> None:
    report = audit_anonymity(session, demo.lake())
    assert report.ok, report.problems
    assert (report.tables, report.outputs) == (48, 21)  # 3 cycles × 16 Value Codes; 3 cycles × 7 outputs
    assert report.lines() == [
        "no leak in 48 tables (cycles × Value Codes) and 21 derived outputs (cycles × outputs)"
    ]
    # the audit had something to check: hidden cells beside shown outputs, measured actions, comments
    assert any(r.suppressed for r in read_rollup(session, KEY, 1))
    assert any(r.suppressed for r in read_engagement(session, demo.lake(), KEY, 1))
    assert sum(e.measured_at is not None for e in read_action_effects(session, KEY)) == 5
    openness = next(t for t in read_comments(session, demo.lake(), KEY, 1).topics if t.key == "REL-OPENNESS")
    assert {g.group.key: g.hidden for g in openness.groups}["contoso"] == "complementary"


# ---------------------------------------------------------------- gaps and changes


def test_a_gap_comparing_a_hidden_cell_is_caught(
    session: Session, demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def add_hidden(gaps: list[Any]) -> list[Any]:
        gap = next(g for g in gaps if g.kind == "party" and g.x.group.key == "northwind/middle")
        return [*gaps, dataclasses.replace(gap, y=Side(1, HIDDEN, (0, 1, 2, 1, 0)))]

    _broken(monkeypatch, "read_gaps", add_hidden)
    lines = _lines(_audit(session, demo), "gaps")
    assert len(lines) == 1
    assert lines[0].startswith("exposed: northwind-contoso cycle 1 gaps ")
    assert lines[0].endswith(
        "northwind/middle against contoso/senior compares hidden cell contoso/senior (cycle 1)"
    )


def test_a_change_whose_theta_is_not_the_published_cells_is_caught(
    session: Session, demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def shift(gaps: list[Any]) -> list[Any]:
        first = next(i for i, g in enumerate(gaps) if g.kind == "change")
        gap = gaps[first]
        test = dataclasses.replace(gap.comparison.test, theta=gap.comparison.test.theta + 0.01)
        gaps[first] = dataclasses.replace(gap, comparison=dataclasses.replace(gap.comparison, test=test))
        return gaps

    _broken(monkeypatch, "read_gaps", shift)
    (line,) = _lines(_audit(session, demo, 2), "changes")
    assert line.startswith("mismatch: northwind-contoso cycle 2 changes ")
    assert "theta=" in line


# ---------------------------------------------------------------- roll-ups


def test_a_rollup_row_showing_a_hidden_cells_pool_is_caught(
    session: Session, demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def reveal(rows: list[Any]) -> list[Any]:
        i = next(i for i, r in enumerate(rows) if r.suppressed and r.group == HIDDEN.key)
        rows[i] = dataclasses.replace(rows[i], n=4, levels=(0, 1, 2, 1, 0), mean=3.0, consensus=0.6)
        return rows

    _broken(monkeypatch, "read_rollup", reveal)
    (line,) = _lines(_audit(session, demo), "rollup")
    assert line.startswith("exposed: northwind-contoso cycle 1 rollup: hidden roll-up ")
    assert line.endswith(f"× {HIDDEN.key} publishes n, levels, mean, consensus")


def test_a_shown_rollup_that_is_not_the_sum_of_its_cells_is_caught(
    session: Session, demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def off_by_one(rows: list[Any]) -> list[Any]:
        i = next(i for i, r in enumerate(rows) if not r.suppressed and r.group == "all")
        levels = rows[i].levels
        rows[i] = dataclasses.replace(rows[i], n=rows[i].n + 1, levels=(levels[0] + 1, *levels[1:]))
        return rows

    _broken(monkeypatch, "read_rollup", off_by_one)
    (line,) = _lines(_audit(session, demo), "rollup")
    assert line.startswith("mismatch: northwind-contoso cycle 1 rollup: roll-up ")
    assert "n=" in line


# ---------------------------------------------------------------- findings


def test_a_finding_citing_a_hidden_cell_is_caught(
    session: Session, demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cite_hidden(findings: list[Any]) -> list[Any]:
        f = next(f for f in findings if f.kind == "party_gap")
        x, y = f.cells
        findings[0] = dataclasses.replace(f, cells=(x, CitedCell(1, y.value_code, HIDDEN, (0, 1, 2, 1, 0))))
        return findings

    _broken(monkeypatch, "read_findings", cite_hidden)
    lines = _lines(_audit(session, demo), "findings")
    assert len(lines) == 1
    assert lines[0].startswith("exposed: northwind-contoso cycle 1 findings ")
    assert lines[0].endswith("cites hidden cell contoso/senior (cycle 1)")


def test_a_finding_on_both_sides_when_one_side_is_hidden_is_caught(
    session: Session, demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Senior leaders on both sides agree" resting on Northwind's cell alone: Contoso's is hidden."""

    def both_sides(findings: list[Any]) -> list[Any]:
        f = next(f for f in findings if f.kind == "agreement")
        cells = session_cells[f.value_code]
        key = f"agreement:1:{f.value_code}:*/senior"
        findings.append(
            dataclasses.replace(f, key=key, cells=(CitedCell(1, f.value_code, NORTHWIND_SENIOR, cells),))
        )
        return findings

    shown = cycle_cells(session, KEY, 1)
    session_cells = {code: shown.counts(code, NORTHWIND_SENIOR) for code in shown.value_codes}
    _broken(monkeypatch, "read_findings", both_sides)
    lines = _lines(_audit(session, demo), "findings")
    assert len(lines) == 1
    assert lines[0].startswith("exposed: northwind-contoso cycle 1 findings ")
    assert ":*/senior speaks for hidden cell contoso/senior (cycle 1)" in lines[0]


def test_a_finding_whose_evidence_is_not_its_cells_is_caught(
    session: Session, demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stronger(findings: list[Any]) -> list[Any]:
        findings[0] = dataclasses.replace(findings[0], strength=findings[0].strength + 0.1)
        return findings

    _broken(monkeypatch, "read_findings", stronger)
    (line,) = _lines(_audit(session, demo), "findings")
    assert line.startswith("mismatch: northwind-contoso cycle 1 findings ")
    assert "strength=" in line


# ---------------------------------------------------------------- action effects


def test_an_action_effect_measured_over_a_hidden_cell_is_caught(
    session: Session, demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def over_hidden(effects: list[Any]) -> list[Any]:
        e = effects[0]  # raised in cycle 1, measured at 2: contoso/senior is hidden in cycle 1
        overall = e.groups[0]
        assert overall.group == ALL
        return [
            dataclasses.replace(e, groups=(dataclasses.replace(overall, group=HIDDEN), *e.groups[1:])),
            *effects[1:],
        ]

    _broken(monkeypatch, "read_action_effects", over_hidden)
    lines = _lines(_audit(session, demo, 2), "effects")
    assert lines
    assert all(": action 1 (contoso/senior) uses " in line for line in lines)
    assert any(line.endswith("(contoso/senior) uses hidden cell contoso/senior (cycle 1)") for line in lines)


def test_an_action_effect_whose_contrast_is_not_its_cells_is_caught(
    session: Session, demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def inflate(effects: list[Any]) -> list[Any]:
        e = effects[0]
        overall = e.groups[0]
        contrast = overall.effect.contrast
        bigger = dataclasses.replace(contrast, estimate=contrast.estimate + 0.05)
        group = dataclasses.replace(overall, effect=dataclasses.replace(overall.effect, contrast=bigger))
        return [dataclasses.replace(e, groups=(group, *e.groups[1:])), *effects[1:]]

    _broken(monkeypatch, "read_action_effects", inflate)
    (line,) = _lines(_audit(session, demo, 2), "effects")
    assert line.startswith("mismatch: northwind-contoso cycle 2 effects: action 1 (all): estimate=")


# ---------------------------------------------------------------- engagement


def test_a_hidden_engagement_row_exposing_its_count_is_caught(
    session: Session, demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def expose(rows: list[Any]) -> list[Any]:
        return [dataclasses.replace(r, responded=4) if r.group == HIDDEN.key else r for r in rows]

    _broken(monkeypatch, "read_engagement", expose)
    (line,) = _lines(_audit(session, demo), "engagement")
    assert (
        line == "exposed: northwind-contoso cycle 1 engagement: hidden row contoso/senior publishes responded"
    )


def test_engagement_shown_without_complementary_suppression_leaks_by_differencing(
    session: Session, demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the four senior leaders hidden: Contoso's total minus its other cells gives them away."""
    relationship = session.query(Relationship).filter_by(key=KEY).one()
    cycle = session.query(Cycle).filter_by(relationship_id=relationship.id, number=1).one()
    people = responding_people(session, demo.lake(), relationship, cycle)
    table = relationship_table(session, relationship.id, cycle.id).table

    def primary_only(rows: list[Any]) -> list[Any]:
        out = []
        for row in rows:
            if row.suppression == "complementary":
                group = next(g for g in table.groups if g.key == row.group)
                responded = sum(people.get(a, 0) for a in table.members(group))
                rate = responded / row.invited if row.invited else None
                row = dataclasses.replace(
                    row, responded=responded, rate=rate, suppressed=False, suppression=None
                )
            out.append(row)
        return out

    _broken(monkeypatch, "read_engagement", primary_only)
    (line,) = _lines(_audit(session, demo), "engagement")
    assert line.startswith(
        "leak: northwind-contoso cycle 1 engagement: responded counts: contoso/senior (4 respondent(s), 4 with a level) = "
    )


def test_a_held_cycle_showing_responded_counts_is_caught(
    session: Session, demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = read_engagement(session, demo.lake(), KEY, 2)  # as published before the cycle was held
    monkeypatch.setattr(audit_outputs, "read_engagement", lambda *a, **k: rows)
    cycle = session.query(Cycle).filter_by(number=2).one()
    cycle.held_note = "northwind/senior: changed by 1 respondent(s), fewer than 5"  # never committed
    lines = _lines(_audit(session, demo, 2), "engagement")
    session.rollback()
    assert len(lines) == len(rows)
    assert lines[0] == (
        "exposed: northwind-contoso cycle 2 engagement: row all of a cycle whose newer data is held back "
        "publishes responded, rate, responded_change, rate_change"
    )


# ---------------------------------------------------------------- comments


def _openness(result: Any) -> Any:
    return next(t for t in result.topics if t.key == "REL-OPENNESS")


def _show(session: Session, demo: Settings, topic_key: str, group_key: str) -> Callable[[Any], Any]:
    """A reader that shows ``group_key``'s real comments although the release rule withheld them."""
    relationship = session.query(Relationship).filter_by(key=KEY).one()
    cycle = session.query(Cycle).filter_by(relationship_id=relationship.id, number=1).one()
    table = relationship_table(session, relationship.id, cycle.id).table
    written, _ = written_comments(session, demo.lake(), cycle.id, table, [topic_key], False)

    def change(result: Any) -> Any:
        topics = list(result.topics)
        i = next(i for i, t in enumerate(topics) if t.key == topic_key)
        groups = []
        for g in topics[i].groups:
            if g.group.key == group_key:
                texts = tuple(x for a in table.members(g.group) for x in written[topic_key].get(a, []))
                g = GroupComments(g.group, None, texts)
            groups.append(g)
        topics[i] = dataclasses.replace(topics[i], groups=tuple(groups))
        return dataclasses.replace(result, topics=tuple(topics))

    return change


def test_comments_differenced_against_a_withheld_list_are_caught(
    session: Session, demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """*all* − *contoso* would be Northwind's four comments on Openness: the release rule withholds contoso."""
    _broken(monkeypatch, "read_comments", _show(session, demo, "REL-OPENNESS", "contoso"))
    lines = _lines(_audit(session, demo), "comments")
    assert lines == [
        "leak: northwind-contoso cycle 1 comments REL-OPENNESS: northwind (no perspective) + northwind/front_line"
        " + northwind/middle + northwind/senior: 4 commenter(s), fewer than 10, isolated by the shown lists of"
        " all, contoso"
    ]


def test_comments_of_a_group_below_the_minimum_are_caught(
    session: Session, demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _broken(monkeypatch, "read_comments", _show(session, demo, "REL-OPENNESS", "northwind"))
    lines = _lines(_audit(session, demo), "comments")
    assert (
        "leak: northwind-contoso cycle 1 comments REL-OPENNESS: northwind is shown with 4 commenter(s), fewer than 10"
        in lines
    )


def test_a_hidden_comment_group_listing_comments_and_a_foreign_comment_are_caught(
    session: Session, demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def smuggle(result: Any) -> Any:
        topic = _openness(result)
        groups = list(topic.groups)
        shown = next(i for i, g in enumerate(groups) if g.hidden is None)
        hidden = next(i for i, g in enumerate(groups) if g.hidden is not None)
        groups[hidden] = dataclasses.replace(groups[hidden], comments=("a hidden group's comment",))
        groups[shown] = dataclasses.replace(
            groups[shown], comments=(*groups[shown].comments, "not written here")
        )
        topics = [dataclasses.replace(t, groups=tuple(groups)) if t is topic else t for t in result.topics]
        return dataclasses.replace(result, topics=tuple(topics))

    _broken(monkeypatch, "read_comments", smuggle)
    kinds = sorted(line.split(":")[0] for line in _lines(_audit(session, demo), "comments"))
    assert kinds == ["exposed", "mismatch"]


# ---------------------------------------------------------------- the CLI


def test_vm_audit_anonymity_covers_every_output(demo: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VM_HOME", str(demo.home))
    monkeypatch.setenv("VM_SECRET", "golden")
    for name in ("VM_DATABASE_URL", "VM_LANDING", "VM_LANDING_SCHEMA"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    clean = runner.invoke(main, ["audit", "anonymity"])
    assert clean.exit_code == 0, clean.output
    assert (
        clean.output
        == "no leak in 48 tables (cycles × Value Codes) and 21 derived outputs (cycles × outputs)\n"
    )

    _broken(
        monkeypatch,
        "read_engagement",
        lambda rows: [dataclasses.replace(r, responded=4) if r.group == HIDDEN.key else r for r in rows],
    )
    leaked = runner.invoke(main, ["audit", "anonymity", "--cycle", "1"])
    assert leaked.exit_code == 1
    assert leaked.output.splitlines() == [
        "exposed: northwind-contoso cycle 1 engagement: hidden row contoso/senior publishes responded",
        "1 finding(s) in 16 tables (cycles × Value Codes) and 7 derived outputs (cycles × outputs)",
    ]
    data = json.loads(runner.invoke(main, ["audit", "anonymity", "--cycle", "1", "--format", "json"]).output)
    assert (data["tables"], data["outputs"], data["ok"]) == (16, 7, False)
    assert data["findings"] == [
        {
            "kind": "exposed",
            "relationship": KEY,
            "cycle": 1,
            "value_code": "",
            "detail": "hidden row contoso/senior publishes responded",
            "output": "engagement",
        }
    ]


# ---------------------------------------------------------------- comments of a held cycle


@pytest.mark.store
def test_a_late_comment_is_not_shown_while_its_cycle_is_held(store: Store) -> None:
    """Differencing the comment lists before and after a late delivery must not single out the late comment."""
    late = "the late respondent's comment"
    with store.sessions() as s, s.begin():
        world = seed_world(s, parties=("c", "s"), perspectives=(), sections={"S": ("VC1",)})
        for party in ("c", "s"):
            texts = [f"{party} says {i}" for i in range(12)]
            add_respondents(
                s, world, party=party, perspective=None, levels={"VC1": [3] * 12}, comments={"VC1": texts}
            )
        score_cycle(s, world.cycle.id, counts(s, world.cycle))
        before = read_comments(s, current_lake(), "acme-bolt", 1)
        assert {g.group.key: len(g.comments) for g in before.topics[0].groups} == {
            "all": 24,
            "c": 12,
            "s": 12,
        }

        add_respondents(s, world, party="c", perspective=None, levels={"VC1": [5]}, comments={"VC1": [late]})
        assert score_cycle(s, world.cycle.id, counts(s, world.cycle)).held is not None
        held = read_comments(s, current_lake(), "acme-bolt", 1)
        report = audit_anonymity(s, current_lake())
        s.flush()

        # the attack: every comment shown now that was not shown before — there is none
        shown_before = {text for g in before.topics[0].groups for text in g.comments}
        shown_now = {text for t in held.topics for g in t.groups for text in g.comments}
        assert shown_now - shown_before == set()
        assert held.held
        assert {g.hidden for t in held.topics for g in t.groups} == {"held"}
        for fmt in ("table", "csv", "json"):
            assert late not in format_comments(held, fmt)
        assert "held back with this cycle's newer data" in format_comments(held, "table")
        assert report.ok, report.problems

        # published by an administrator: the comment is shown with the scores it belongs to
        assert score_cycle(s, world.cycle.id, counts(s, world.cycle), publish_held=True).held is None
        after = read_comments(s, current_lake(), "acme-bolt", 1)
        listed = {g.group.key: g.comments for g in after.topics[0].groups}
        assert late in listed["all"]
        assert late in listed["c"]
        assert audit_anonymity(s, current_lake()).ok
