"""`vm sources sniff`: the connector that reads a file, and a starter `sources:` entry that connector reads."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from connectors.starter import PLACEHOLDER, NotRecognised, sniff
from tests.conftest import REPO, SAMPLES
from tests.test_connectors import make_ctx, spec, tables_of
from vm_cli.main import main
from vm_core.config import load_config
from vm_core.ingest.plugins import get_connector
from vm_core.run.check import check_relationship
from vm_core.settings import Settings

DEMO_EXPORT = REPO / "examples" / "demo" / "responses" / "cycle-1.csv"
MIDWEST = SAMPLES / "surveymonkey" / "fivethirtyeight_region-survey_MIDWEST_first150.csv"
STAR_WARS = SAMPLES / "surveymonkey" / "fivethirtyeight_StarWars_original_CR_first150.csv"
SSI = SAMPLES / "google_forms" / "ssi_software_in_research_2014_form_responses_first80_email_redacted.csv"
FAVOUR = "Please state whether you view the following characters favorably, unfavorably, or are unfamiliar with him/her."


def entry(path: Path) -> dict[str, Any]:
    (source,) = yaml.safe_load(sniff(path).yaml())["sources"]
    return dict(source)


def filled(options: dict[str, Any], codes: list[str]) -> dict[str, Any]:
    """The starter's options with each placeholder replaced by the next Value Code."""
    questions = options.get("questions") or {}
    assert set(questions.values()) <= {PLACEHOLDER}
    return {**options, "questions": dict(zip(questions, codes, strict=False))}


@pytest.mark.parametrize("path", [*sorted(SAMPLES.glob("*/*.csv")), DEMO_EXPORT], ids=lambda p: p.name)
def test_the_connector_reads_its_starter_entry(path: Path) -> None:
    source = entry(path)
    assert source["path"] == str(path)
    options = source.get("options") or {}
    codes = [f"VC{i}" for i in range(1, len(options.get("questions") or {}) + 1)]
    connector = get_connector(source["connector"])
    assert set(options) <= {option.name for option in connector.options}
    delivery = connector.read(spec(path, source["connector"], **filled(options, codes)), make_ctx(codes))
    tables = tables_of(delivery)
    assert delivery.plan is not None
    assert [item.value_code for item in delivery.plan.items] == codes
    assert tables[delivery.plan.table].num_rows > 0


def test_demo_export_questions_organisation_and_role() -> None:
    source = entry(DEMO_EXPORT)
    assert source["connector"] == "qualtrics_csv"
    assert source["key"] == "cycle-1"
    options = source["options"]
    assert list(options["questions"]) == [f"Q{n}" for n in range(1, 17)]
    assert (options["organisation_column"], options["role_column"]) == ("Organisation", "Role")
    text = sniff(DEMO_EXPORT).yaml()
    # free-text boxes are offered as comments, never mapped; no cell of the file is printed
    assert '#   "Q17"  # Trust between the organisations: is there anything you would like to' in text
    assert "Contoso" not in text
    assert "Service Manager" not in text


def test_surveymonkey_single_choice_block_is_one_question_a_matrix_is_one_per_row() -> None:
    midwest = entry(MIDWEST)["options"]
    assert "How much, if at all, do you personally identify as a Midwesterner?" in midwest["questions"]
    assert not any(" | " in name for name in midwest["questions"])  # the 4 choice columns are one answer
    text = sniff(MIDWEST).yaml()
    assert (
        '#   "Which of the following states do you consider part of the Midwest?' in text
    )  # several at once
    star_wars = entry(STAR_WARS)["options"]
    assert star_wars["encoding"] == "mac-roman"  # CR-only records, not UTF-8: a classic Mac export
    assert f"{FAVOUR} | Han Solo" in star_wars["questions"]
    assert f"{FAVOUR} | Yoda" in star_wars["questions"]


def test_google_forms_organisation_and_role_questions() -> None:
    options = entry(SSI)["options"]
    assert options["organisation_column"] == "Question 1: In which institution are you based?"
    assert options["role_column"] == "Question 2: Which of the following roles apply to you?"
    assert '# or: role_column: "Extra question 1: What is your job title?"' in sniff(SSI).yaml()
    assert "Question 6: Do you use research software?" in options["questions"]
    assert (
        "Question 11: Please provide the name(s) of the main research software you use."
        not in options["questions"]
    )


def test_long_csv_needs_no_options(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text(
        "respondent_id,organisation,role,value_code,level\nr1,Acme,Manager,VC1,4\n", encoding="utf-8"
    )
    assert entry(path) == {"key": "answers", "connector": "csv_long", "path": str(path)}


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "answers.csv: the file is empty"),
        (b"PK\x03\x04rest of a workbook", "answers.csv: an Excel workbook (or another zip file): no built-in "
         "connector reads workbooks yet; export or save the responses as CSV"),
        (b"name,score\nAda,5\n", "answers.csv: its first rows are not the header of an export a built-in "
         "connector reads: a Qualtrics response export (`qualtrics_csv`); a SurveyMonkey export "
         "(`surveymonkey_csv`); a Google Forms responses export (`google_forms_csv`); a long CSV (one row per "
         "respondent and Value Code) (`csv_long`)"),
    ],
)  # fmt: skip
def test_not_recognised_says_why_in_one_line_and_exits_1(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "answers.csv"
    path.write_bytes(content)
    with pytest.raises(NotRecognised) as raised:
        sniff(path)
    assert str(raised.value) == why
    result = CliRunner().invoke(main, ["sources", "sniff", str(path)], env={"VM_HOME": str(tmp_path / "h")})
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {why}\n"


def test_recognised_but_unreadable_is_the_connectors_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_text(
        "StartDate,EndDate,ResponseId,Q1\nStart Date,End Date,Response ID,Question\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["sources", "sniff", str(path)], env={"VM_HOME": str(tmp_path / "h")})
    assert result.exit_code == 1
    assert result.stderr == "Error: cut.csv, row 2: ends after row 2; a Qualtrics export has 3 header rows\n"


def test_the_starter_pasted_into_a_configuration_is_read_by_a_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sniffed from the configuration's folder, placeholders filled in: `vm sources check` reads it all."""
    folder = tmp_path / "demo"
    shutil.copytree(REPO / "examples" / "demo", folder, ignore=shutil.ignore_patterns("*.py"))
    monkeypatch.chdir(folder)
    home = tmp_path / "home"
    result = CliRunner().invoke(
        main, ["sources", "sniff", "responses/cycle-1.csv"], env={"VM_HOME": str(home)}
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == "cycle-1.csv: read by qualtrics_csv\n"
    demo = yaml.safe_load((folder / "relationship.yaml").read_text(encoding="utf-8"))
    codes = iter(demo["cycles"][0]["sources"][0]["options"]["questions"].values())
    text = "".join(
        line.replace(PLACEHOLDER, next(codes))
        if PLACEHOLDER in line and not line.lstrip().startswith("#")
        else line
        for line in result.stdout.splitlines(keepends=True)
    )
    (source,) = yaml.safe_load(text)["sources"]
    demo["cycles"] = [{"number": 1, "mode": "resolve", "sources": [source]}]
    (folder / "starter.yaml").write_text(yaml.safe_dump(demo, allow_unicode=True), encoding="utf-8")

    (checked,) = check_relationship(
        Settings.from_env({"VM_HOME": str(home)}), load_config(folder / "starter.yaml")
    )
    assert checked.error is None
    assert (checked.rows_read, checked.dropped, sum(checked.answers.values())) == (242, {"preview": 2}, 3840)
    assert next(codes, None) is None  # every Value Code of the demo's configuration was used
    assert list(itertools.islice(checked.answers, 2)) == ["GOV-DIRECTION", "GOV-DECISIONS"]
