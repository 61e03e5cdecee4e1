"""Outputs that show no one, and blank apart from "no level", on the demo's real Qualtrics export.

- an unanswered cell is stored as blank, an explicit "Not applicable" as no level (and a re-model from
  the lake after the mapping changed keeps them apart);
- quarantine listings mask values (kind and length) unless an administrator asks, with a warning;
- reasons carry no raw value;
- job titles held by fewer than the minimum group size never reach run output, Prefect results or the
  markdown artifact; ``vm roles unmapped --reveal`` shows them to an administrator.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.conftest import Store
from tests.factories import read_rows, write_rows
from vm_cli.main import REVEAL_WARNING, main
from vm_core.config import load_config
from vm_core.ingest.connector import AnswerPlan
from vm_core.ingest.mapping import LevelParser, PartyRule, PerspectiveRule
from vm_core.ingest.modelling import Mapping, model
from vm_core.lake.evidence import committed_files, evaluations_relation
from vm_core.lake.storage import Lake
from vm_core.read.quarantine import mask_reason, mask_value
from vm_core.read.roles import NO_ROLE, summarise_unmapped
from vm_core.run.orchestration import LocalSteps, run_relationship
from vm_core.run.pipeline import CycleResult, SourceStatus
from vm_core.run.report import cycle_lines, cycle_markdown
from vm_core.store.models import Cycle, QuarantinedRow

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"
EMAIL_ANSWER = "jane.doe@contoso.example"  # 24 characters
NAMED_TITLE = "Apprentice (Jane Doe)"
COMMON_TITLE = "Graduate Trainee"


# ------------------------------------------------------------------ helpers


class Export:
    """The demo's cycle-1 export in a private copy, addressed by ImportId (row 3 of the header)."""

    def __init__(self, tmp_path: Path) -> None:
        target = tmp_path / "demo"
        shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        self.config = target / "relationship.yaml"
        self.path = target / "responses" / "cycle-1.csv"
        self.rows = read_rows(self.path)
        self.tags = self.rows[0]
        self.import_ids = {json.loads(cell)["ImportId"]: i for i, cell in enumerate(self.rows[2]) if cell}
        status = self.tags.index("Status")
        #: data rows of real responses, as indexes into rows (a spreadsheet row is index + 1)
        self.real = [i for i in range(3, len(self.rows)) if self.rows[i][status] != "Survey Preview"]

    def cell(self, row: int, import_id: str) -> str:
        return self.rows[row][self.import_ids[import_id]]

    def set(self, row: int, import_id: str, value: str) -> None:
        self.rows[row][self.import_ids[import_id]] = value

    def set_tag(self, row: int, tag: str, value: str) -> None:
        self.rows[row][self.tags.index(tag)] = value

    def tag(self, row: int, tag: str) -> str:
        return self.rows[row][self.tags.index(tag)]

    def save(self) -> None:
        write_rows(self.path, self.rows)


QUESTIONS = [f"QID{n}" for n in range(1, 17)]  # the demo's 16 Value Code questions


def _blank_and_na(export: Export, stored_rows: set[int]) -> tuple[int, int]:
    cells = [export.cell(i, q).strip() for i in export.real if i + 1 in stored_rows for q in QUESTIONS]
    return sum(1 for c in cells if not c), sum(1 for c in cells if c == "Not applicable")


def _evaluations(store: Store) -> dict[tuple[int, str], tuple[int | None, bool, str | None]]:
    """Cycle 1's committed evaluations in the lake: (spreadsheet row, Value Code) → (level, blank, comment)."""
    with store.sessions() as s:
        cycle = s.scalar(select(Cycle).where(Cycle.number == 1))
        assert cycle is not None
        files = committed_files(s, cycle.id)
    with duckdb.connect() as con:
        relation = evaluations_relation(con, store.settings.lake(), files)
        rows = con.execute(f"SELECT source_row, value_code, level, blank, comment FROM {relation}").fetchall()
    return {(row, code): (level, blank, comment) for row, code, level, blank, comment in rows}


def _stored_null_levels(store: Store) -> tuple[int, int]:
    stored = _evaluations(store).values()
    blank = sum(1 for level, is_blank, _ in stored if level is None and is_blank)
    no_level = sum(1 for level, is_blank, _ in stored if level is None and not is_blank)
    return blank, no_level


def _run(store: Store, config_path: Path) -> CycleResult:
    (cycle,) = run_relationship(load_config(config_path), LocalSteps(store.settings), [1]).cycles
    return cycle


# ------------------------------------------------------------------ blank is not "no level"


@pytest.mark.store
def test_blank_cells_and_not_applicable_are_stored_apart(store: Store, tmp_path: Path) -> None:
    export = Export(tmp_path)
    commented, applicable = export.real[0], export.real[1]
    export.set(commented, "QID5", "")  # REL-TRUST left unanswered, with a comment
    export.set(commented, "QID17_TEXT", "No view yet: I joined last month.")
    export.set(applicable, "QID1", "Not applicable")  # configured under `levels:` as null
    export.save()

    _run(store, export.config)

    stored = _evaluations(store)
    assert stored[(commented + 1, "REL-TRUST")] == (None, True, "No view yet: I joined last month.")
    assert stored[(applicable + 1, "GOV-DIRECTION")][:2] == (None, False)
    expected = _blank_and_na(export, {row for row, _ in stored})
    assert expected[0] > 10
    assert expected[1] > 100
    assert _stored_null_levels(store) == expected

    # a changed mapping re-models the cycle from the lake (the file is not read again): still apart
    config = export.config.read_text(encoding="utf-8")
    assert config.count('  "6": null\n') == 1
    export.config.write_text(config.replace('  "6": null\n', '  "6": null\n  "Don\'t know": null\n'), "utf-8")
    result = _run(store, export.config)
    assert result.sources[0].status is SourceStatus.REMODELLED
    assert _stored_null_levels(store) == expected


# ------------------------------------------------------------------ masked values, plain reasons


def test_values_are_masked_as_their_kind_and_length() -> None:
    assert mask_value(None) == "blank"
    assert mask_value("   ") == "blank"
    assert mask_value("7") == "number, 1 digit"
    assert mask_value("-12.5") == "number, 3 digits"
    assert mask_value(EMAIL_ANSWER) == "e-mail address, 24 characters"
    assert mask_value(" +44 7700 900123 ") == "phone number, 15 characters"
    assert mask_value("https://intranet.example/jane") == "link, 29 characters"
    assert mask_value("Ask Jane Doe, she knows") == "text, 23 characters"
    assert mask_value("Email jane.doe@contoso.example") == "text, 30 characters"


def test_reasons_stored_by_an_older_version_lose_their_value() -> None:
    assert (
        mask_reason("answer 'Ask Jane Doe' is not a level 1–5, a level label or statement of REL-TRUST")
        == "answer is not a level 1–5, a level label or statement of REL-TRUST"
    )
    assert mask_reason('answer "Jane\'s view" is not a level') == "answer is not a level"
    assert (
        mask_reason("organisation 'Fabrikam Ltd' matches no party (northwind, contoso)")
        == "organisation matches no party (northwind, contoso)"
    )
    assert mask_reason("level above 5; levels are 1–5") == "level above 5; levels are 1–5"


def test_modelling_keeps_blank_apart_and_writes_no_value_into_a_reason(tmp_path: Path) -> None:
    def answer(row: int, value: str | None, **other: str | None) -> dict[str, object]:
        base = {"source_file": "f.csv", "source_row": row, "response_id": f"R{row}",
                "respondent_key": f"{row:064x}", "organisation": "Contoso", "role": "Director",
                "value_code": "VC1", "value": value, "comment": None}  # fmt: skip
        return {**base, **other}

    landed = pa.Table.from_pylist(
        [
            answer(4, None, comment="No view yet"),  # blank, with a comment: stored
            answer(5, "   "),  # only spaces: blank
            answer(6, "N/A"),  # configured as no level
            answer(7, "3"),
            answer(8, "Ask Jane Doe"),  # not a level
            answer(9, "4", organisation="Jane Doe Consulting"),  # no party
            answer(10, "4", value_code="Jane Doe's code"),  # a connector may pass any text on
        ]
    )
    plan = AnswerPlan(
        table="answers", organisation="organisation", role="role", value_code="value_code",
        value="value", comment="comment", source_column="Q1",
    )  # fmt: skip
    mapping = Mapping(
        cycle=1,
        value_codes=["VC1"],
        levels=LevelParser({"N/A": None}, {}),
        parties=[PartyRule("contoso", ("Contoso*",))],
        perspectives=[PerspectiveRule(None, "*Director", "senior")],
    )
    lake = Lake(str(tmp_path / "lake"))
    with duckdb.connect() as con:
        con.register("landed", landed)
        modelled = model(con, lake, plan, mapping, "s", "evaluations/test.parquet")
    good = {
        row["source_row"]: row for row in lake.dataset(["evaluations/test.parquet"]).to_table().to_pylist()
    }
    assert {row: r["blank"] for row, r in good.items()} == {4: True, 5: True, 6: False, 7: False}
    assert {row: r["level"] for row, r in good.items()} == {4: None, 5: None, 6: None, 7: 3}
    assert good[4]["comment"] == "No view yet"
    set_aside = {row["source_row"]: row for row in modelled.quarantined.to_pylist()}
    assert {row: r["reason"] for row, r in set_aside.items()} == {
        8: "answer is not a level 1–5, a level label or statement of VC1, nor listed under `levels:`",
        9: "organisation matches no party (contoso)",
        10: "Value Code is not in this cycle's library version",
    }
    assert set_aside[8]["value"] == "Ask Jane Doe"  # kept for the admin


# ------------------------------------------------------------------ job titles held by few


def test_titles_held_by_fewer_than_the_minimum_are_only_counted() -> None:
    counts = {
        ("contoso", NAMED_TITLE): 1,
        ("contoso", "Apprentice"): 4,
        ("contoso", COMMON_TITLE): 5,
        ("northwind", "Intern"): 2,
        ("northwind", NO_ROLE): 1,
    }
    summary = summarise_unmapped(counts, min_group_size=5)
    assert summary.lines == {
        f"contoso: {COMMON_TITLE}": 5,
        "northwind: (no role)": 1,
        "contoso: 2 job titles held by fewer than 5 people each": 5,
        "northwind: 1 job title held by fewer than 5 people each": 2,
    }
    assert summary.withheld == 7
    assert summarise_unmapped(counts, min_group_size=3).lines[f"contoso: {'Apprentice'}"] == 4


# ------------------------------------------------------------------ end to end through the CLI


@pytest.fixture
def private_export(vm_env: Store, tmp_path: Path) -> Export:
    """Cycle 1 with an e-mail address as an answer, an unknown organisation, a title written with its
    holder's name (held by one person) and a title five Contoso people hold."""
    export = Export(tmp_path)
    contoso = [i for i in export.real[3:] if export.tag(i, "Organisation").startswith("Contoso")]
    export.set(export.real[0], "QID3", EMAIL_ANSWER)
    export.set(export.real[1], "QID3", "Excellent")
    export.set_tag(export.real[2], "Organisation", "Fabrikam Ltd")
    apprentice = next(i for i in contoso if export.tag(i, "Role") == "Apprentice")
    export.set_tag(apprentice, "Role", NAMED_TITLE)
    common = [i for i in contoso if export.tag(i, "Role").endswith("Agent")][:5]
    for i in common:
        export.set_tag(i, "Role", COMMON_TITLE)
    export.save()
    return export


@pytest.mark.store
def test_run_output_quarantine_and_roles_show_no_one(vm_env: Store, private_export: Export) -> None:
    runner = CliRunner()
    ran = runner.invoke(main, ["run", str(private_export.config), "--cycle", "1", "--no-prefect"])
    assert ran.exit_code == 0, ran.output
    assert "Jane Doe" not in ran.output
    assert f"contoso: {COMMON_TITLE}: 5 respondent(s)" in ran.output  # held by the minimum: shown
    assert "job titles held by fewer than 5 people each" in ran.output
    assert "vm roles unmapped --reveal" in ran.output

    # the stored reasons name no value; the stored value is kept for the administrator
    with vm_env.sessions() as s:
        quarantined = s.execute(select(QuarantinedRow.value, QuarantinedRow.reason)).all()
    assert EMAIL_ANSWER in {value for value, _ in quarantined}
    reasons = " ".join(reason for _, reason in quarantined)
    assert "Fabrikam" not in reasons
    assert "Excellent" not in reasons
    assert "@" not in reasons
    assert "organisation matches no party (northwind, contoso)" in reasons

    for fmt in ("table", "csv", "json"):
        listed = runner.invoke(main, ["quarantine", "--cycle", "1", "--format", fmt])
        assert listed.exit_code == 0, listed.output
        assert "@" not in listed.stdout
        assert "Excellent" not in listed.stdout
        assert "Fabrikam" not in listed.stdout
        assert "e-mail address, 24 characters" in listed.stdout
        assert "text, 9 characters" in listed.stdout
        assert listed.stderr == ""
    as_json = json.loads(runner.invoke(main, ["quarantine", "--format", "json"]).stdout)
    assert {row["value"] for row in as_json} >= {"e-mail address, 24 characters", "text, 9 characters"}

    revealed = runner.invoke(main, ["quarantine", "--cycle", "1", "--reveal-values"])
    assert revealed.exit_code == 0, revealed.output
    assert repr(EMAIL_ANSWER) in revealed.stdout
    assert REVEAL_WARNING in revealed.stderr
    assert REVEAL_WARNING not in revealed.stdout
    revealed_csv = runner.invoke(main, ["quarantine", "--format", "csv", "--reveal-values"])
    assert EMAIL_ANSWER in revealed_csv.stdout

    roles = runner.invoke(main, ["roles", "unmapped", "--relationship", "northwind-contoso", "--cycle", "1"])
    assert roles.exit_code == 0, roles.output
    assert "Jane Doe" not in roles.stdout
    assert "Apprentice" not in roles.stdout
    assert f"northwind-contoso · cycle 1 · contoso: {COMMON_TITLE} — 5 respondents" in roles.stdout
    assert "contoso: 3 job titles held by fewer than 5 people each — 6 respondents" in roles.stdout
    assert roles.stderr == ""
    shown = runner.invoke(main, ["roles", "unmapped", "--cycle", "1", "--reveal"])
    assert shown.exit_code == 0, shown.output
    assert f"contoso: {NAMED_TITLE} — 1 respondent" in shown.stdout
    assert "contoso: Apprentice — 3 respondents" in shown.stdout
    assert REVEAL_WARNING in shown.stderr
    assert runner.invoke(main, ["roles", "unmapped", "--cycle", "9"]).stdout == "no unmapped roles\n"


@pytest.mark.store
def test_prefect_results_and_the_markdown_artifact_show_no_rare_title(
    vm_env: Store, private_export: Export
) -> None:
    config = load_config(private_export.config)
    result = _run(vm_env, private_export.config)
    (source,) = result.sources
    task_result = json.dumps(asdict(source))  # what the flow's model task returns to Prefect
    markdown = cycle_markdown(config, result)
    for shown in (task_result, markdown, "\n".join(cycle_lines(result))):
        assert "Jane Doe" not in shown
        assert "Apprentice" not in shown
        assert COMMON_TITLE in shown
    assert source.unmapped_titles_withheld == 6
    assert "- contoso: 3 job titles held by fewer than 5 people each: 6" in markdown
    assert Counter(source.unmapped_roles) == Counter(
        {f"contoso: {COMMON_TITLE}": 5, "contoso: 3 job titles held by fewer than 5 people each": 6}
    )


def test_quarantine_and_roles_commands_have_help() -> None:
    for command in (["quarantine"], ["roles"], ["roles", "unmapped"]):
        result = CliRunner().invoke(main, [*command, "--help"])
        assert result.exit_code == 0
        assert "Usage:" in result.output
    assert "--reveal-values" in CliRunner().invoke(main, ["quarantine", "--help"]).output
