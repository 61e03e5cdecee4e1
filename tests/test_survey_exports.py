"""surveymonkey_csv and google_forms_csv on the real exports in tests/samples, and the wrong-connector hint."""

from __future__ import annotations

import csv
import shutil
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import select

from connectors.common import sniff_file
from connectors.csv_long import CsvLongConnector
from connectors.google_forms_csv import GoogleFormsCsvConnector
from connectors.qualtrics_csv import QualtricsCsvConnector
from connectors.surveymonkey_csv import SurveyMonkeyCsvConnector
from tests.conftest import REPO, SAMPLES
from tests.test_connectors import all_text, first_batch_error, make_ctx, read_answers, spec
from vm_core.config import load_config
from vm_core.errors import ConfigError, SourceError
from vm_core.ingest.plugins import collect_connectors, make_plugin_manager
from vm_core.lake.evidence import committed_files
from vm_core.run import pipeline
from vm_core.run.orchestration import LocalSteps, run_relationship
from vm_core.run.participants import pseudonym_for
from vm_core.settings import Settings
from vm_core.store.models import Cycle

SM = SurveyMonkeyCsvConnector()
GF = GoogleFormsCsvConnector()
MIDWEST = SAMPLES / "surveymonkey" / "fivethirtyeight_region-survey_MIDWEST_first150.csv"
STEAK = SAMPLES / "surveymonkey" / "fivethirtyeight_steak-risk-survey.csv"
STAR_WARS = SAMPLES / "surveymonkey" / "fivethirtyeight_StarWars_original_CR_first150.csv"
SSI = SAMPLES / "google_forms" / "ssi_software_in_research_2014_form_responses_first80_email_redacted.csv"
IDENTIFY = "How much, if at all, do you personally identify as a Midwesterner?"
FAVOUR = "Please state whether you view the following characters favorably, unfavorably, or are unfamiliar with him/her."
USES = "Question 6: Do you use research software?"
ROLES = "Question 2: Which of the following roles apply to you?"
FINAL = "Do you have any final comments about this survey or the use of software in research?"


def by_row(found: list[dict[str, Any]], row: int, code: str = "REL-TRUST") -> dict[str, Any]:
    return next(a for a in found if a["source_row"] == row and a["value_code"] == code)


def test_both_register_as_plugins() -> None:
    found = collect_connectors(make_plugin_manager(load_entry_points=False))
    assert {"surveymonkey_csv", "google_forms_csv"} <= set(found)


def test_surveymonkey_expanded_block_is_one_answer() -> None:
    """MIDWEST: an expanded single choice (4 columns), census region (9 columns) as organisation."""
    ctx = make_ctx()
    source = spec(MIDWEST, "surveymonkey_csv", questions={IDENTIFY: "REL-TRUST"},
                  organisation_column="Location (Census Region)", role_column="Age")  # fmt: skip
    tables, found = read_answers(SM, source, ctx)
    assert ctx.report.rows_read == 150
    assert tables["surveymonkey_responses"].num_rows == 150
    assert tables["surveymonkey_columns"].num_rows == 53
    assert len(found) == 150
    first = by_row(found, 3)  # respondent 3126807211: "Not much", West South Central, 18-29
    assert (first["value"], first["organisation"], first["role"]) == (
        "Not much",
        "West South Central",
        "18-29",
    )
    assert first["source_column"] == IDENTIFY
    assert by_row(found, 4)["value"] == "A lot"
    with MIDWEST.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))[2:]
    answered = sum(1 for r in rows if any(c.strip() for c in r[2:6]))
    assert sum(1 for a in found if a["value"] is not None) == answered
    landed = tables["surveymonkey_responses"].column_names
    assert landed[4:] == ["collector_id", "start_date", "end_date", "c3_6", "c30_34", "c45_53"]
    assert (
        "Which of the following states do you consider part of the Midwest? Please select all that apply. | Iowa"
        in (ctx.report.columns_not_landed)
    )


def test_surveymonkey_condensed_layout_and_quoted_commas() -> None:
    ctx = make_ctx()
    source = spec(STEAK, "surveymonkey_csv", questions={"Do you ever gamble?": "REL-TRUST",
                  "Household Income | Response": "REL-COMM"})  # fmt: skip
    tables, found = read_answers(SM, source, ctx)
    assert ctx.report.rows_read == tables["surveymonkey_responses"].num_rows == 550
    second = {a["value_code"]: a["value"] for a in found if a["source_row"] == 4}
    assert second == {"REL-TRUST": "No", "REL-COMM": "$50,000 - $99,999"}
    assert {a["value"] for a in found if a["source_row"] == 3} == {None}  # answered only the first question


def test_surveymonkey_cr_only_mac_roman_file_with_a_matrix() -> None:
    """StarWars (2014): CR-only records, not UTF-8; each matrix row is its own column."""
    ctx = make_ctx()
    source = spec(STAR_WARS, "surveymonkey_csv", encoding="mac_roman",
                  questions={f"{FAVOUR} | Han Solo": "REL-TRUST", f"{FAVOUR} | Jar Jar Binks": "REL-COMM"})  # fmt: skip
    tables, found = read_answers(SM, source, ctx)
    assert ctx.report.rows_read == 150
    assert {a["value_code"]: a["value"] for a in found if a["source_row"] == 3} == {
        "REL-TRUST": "Very favorably",
        "REL-COMM": "Very favorably",
    }
    assert by_row(found, 5)["value"] == "Somewhat favorably"
    labels = tables["surveymonkey_columns"].column("label").to_pylist()
    # the bytes are double mojibake of an en dash: decoded honestly as mac_roman, not guessed back
    assert labels[3] == "Star Wars: Episode I ‰ÛÒ The Phantom Menace"
    assert tables["surveymonkey_columns"].column("question").to_pylist()[31].endswith("Expanded Universe?åÊ")


def test_surveymonkey_non_utf8_without_encoding_says_how_to_read_it() -> None:
    error = first_batch_error(
        SM, spec(STAR_WARS, "surveymonkey_csv", questions={f"{FAVOUR} | Han Solo": "REL-TRUST"}), make_ctx()
    )
    assert (error.file, error.row) == (STAR_WARS.name, 1)
    assert "not UTF-8 text (byte 0x8c)" in error.message
    assert "options.encoding" in error.message
    assert "mac_roman" in error.message


def test_surveymonkey_bad_encoding_option_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="'klingon' is not an encoding"):
        SM.read(spec(STAR_WARS, "surveymonkey_csv", encoding="klingon"), make_ctx())


def write_sm(path: Path, rows: list[list[str]], newline: str = "\r\n", encoding: str = "utf-8") -> Path:
    header = [
        ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address", "First Name",
         "Last Name", "Custom Data 1", "Which organisation do you work for?", "", "How do you rate trust?",
         "Comments?"],
        ["", "", "", "", "", "", "", "", "", "Acme", "Globex", "Response", "Open-Ended Response"],
    ]  # fmt: skip
    text = "".join(
        newline.join([",".join(f'"{c}"' if "," in c else c for c in r) for r in header + rows]) + newline
    )
    path.write_bytes(text.encode(encoding))
    return path


CURRENT = {"questions": {"How do you rate trust?": "REL-TRUST"}, "comments": {"Comments?": "REL-TRUST"},
           "organisation_column": "Which organisation do you work for?", "role_column": "Custom Data 1"}  # fmt: skip


def test_surveymonkey_current_layout_personal_columns_never_land(tmp_path: Path) -> None:
    rows = [
        ["114", "9001", "01/10/2025 09:00:01", "01/10/2025 09:03:40", "203.0.113.9", "leia@example.org", "Leia",
         "Organa", "Director", "Acme", "", "Agree", "Mail me at leia@example.org"],
        ["115", "9001", "01/10/2025 10:00:00", "01/10/2025 10:01:00", "203.0.113.10", "", "Han", "Solo",
         "Engineer", "", "Globex", "Don't know", ""],
    ]  # fmt: skip
    ctx = make_ctx()
    tables, found = read_answers(
        SM, spec(write_sm(tmp_path / "sm.csv", rows), "surveymonkey_csv", **CURRENT), ctx
    )
    assert [(a["organisation"], a["role"], a["value"], a["comment"]) for a in found] == [
        ("Acme", "Director", "Agree", "Mail me at [e-mail]"),
        ("Globex", "Engineer", "Don't know", None),
    ]
    assert found[0]["respondent_key"] == ctx.pseudonymise("leia@example.org")  # e-mail first
    assert found[1]["respondent_key"] == ctx.pseudonymise("115")  # else the respondent id
    text = all_text(tables)
    for value in ("leia@", "Leia", "Organa", "Solo", "203.0.113"):
        assert value not in text
    assert ctx.report.pii_columns_removed == ["IP Address", "Email Address", "First Name", "Last Name"]
    landed = tables["surveymonkey_responses"].to_pylist()[0]
    assert (landed["collector_id"], landed["start_date"]) == ("9001", "01/10/2025 09:00:01")
    kept = SM.read(
        spec(tmp_path / "sm.csv", "surveymonkey_csv", keep_columns=["First Name"], **CURRENT), make_ctx()
    )
    assert "Leia" in all_text(
        {t.name: pa.Table.from_batches(list(t.batches), schema=t.schema) for t in kept.tables}
    )


@pytest.mark.parametrize(
    ("content", "options", "row", "column", "message"),
    [
        ("cut", {}, 4, None, "the file ends in the middle of this row"),
        ("dup", {}, 4, "Respondent ID", "the same response id appears twice (first in row 3)"),
        ("noid", {}, 1, None, "no Respondent ID column"),
        ("ok", {"questions": {"Nope": "REL-TRUST"}}, 1, "Nope", "options.questions: no column 'Nope'"),
        ("ok", {"organisation_column": "Email Address", "questions": {"How do you rate trust?": "REL-TRUST"}},
         1, "Email Address", "holds personal data"),
    ],
)  # fmt: skip
def test_surveymonkey_bad_input(
    tmp_path: Path, content: str, options: dict[str, Any], row: int, column: str | None, message: str
) -> None:
    good = ["114", "9001", "", "", "", "", "", "", "", "Acme", "", "Agree", ""]
    path = write_sm(tmp_path / "sm.csv", [good, ["115", *good[1:]]])
    data = path.read_bytes()
    if content == "cut":
        path.write_bytes(data[: data.rindex(b",Agree")])
    elif content == "dup":
        path.write_bytes(data.replace(b"\r\n115,", b"\r\n114,"))
    elif content == "noid":
        path.write_bytes(data.replace(b"Respondent ID", b"Person"))
    error = first_batch_error(SM, spec(path, "surveymonkey_csv", **(options or CURRENT)), make_ctx())
    assert (error.file, error.row, error.column) == ("sm.csv", row, column)
    assert message in error.message


def test_surveymonkey_several_choices_in_a_single_answer_block_are_never_a_level(tmp_path: Path) -> None:
    row = ["114", "9001", "", "", "", "", "", "", "", "Acme", "Globex", "Agree", ""]
    found = read_answers(
        SM, spec(write_sm(tmp_path / "sm.csv", [row]), "surveymonkey_csv", **CURRENT), make_ctx()
    )[1]
    assert found[0]["organisation"] == "Acme; Globex"


def test_google_forms_sample() -> None:
    ctx = make_ctx()
    source = spec(SSI, "google_forms_csv", questions={USES: "REL-TRUST"}, role_column=ROLES,
                  organisation_column="Question 1: In which institution are you based?", free_text=[FINAL])  # fmt: skip
    tables, found = read_answers(GF, source, ctx)
    assert ctx.report.rows_read == 80  # the empty second row is no response
    assert tables["google_forms_responses"].num_rows == 80
    assert tables["google_forms_columns"].num_rows == 18
    first = by_row(found, 3)
    assert (first["value"], first["organisation"]) == ("Yes", "UCL")
    assert (
        first["role"] == "I conduct research, I manage researchers or research projects"
    )  # multi-select as joined
    landed = tables["google_forms_responses"].to_pylist()
    assert (landed[0]["response_id"], landed[0]["submitted_at"]) == (
        "8/20/2014 15:33:45 #3",
        "8/20/2014 15:33:45",
    )
    assert landed[0]["respondent_key"] == ctx.pseudonymise("8/20/2014 15:33:45 #3")
    assert landed[1]["c17"].startswith("My funding is entirely provided by an industrial sponsor")
    assert (
        "If you would like updates on the progress of this research, please provide your email address"
        in (ctx.report.columns_not_landed)
    )
    assert {a["value"] for a in found} == {"Yes", "No"}


def test_google_forms_email_address_is_identity_never_landed(tmp_path: Path) -> None:
    path = tmp_path / "form.csv"
    path.write_text('Timestamp,Email Address,Trust?,Notes\r\n1/2/2025 9:00:00,kim@example.org,4,"two\nlines"\r\n',
                    encoding="utf-8")  # fmt: skip
    ctx = make_ctx()
    tables, found = read_answers(GF, spec(path, "google_forms_csv", questions={"trust?": "REL-TRUST"},
                                         comments={"Notes": "REL-TRUST"}), ctx)  # fmt: skip
    assert [(a["value"], a["comment"]) for a in found] == [("4", "two\nlines")]
    assert found[0]["respondent_key"] == ctx.pseudonymise("kim@example.org")
    assert "kim@" not in all_text(tables)
    assert ctx.report.pii_columns_removed == ["Email Address"]


def test_google_forms_missing_timestamp(tmp_path: Path) -> None:
    path = tmp_path / "form.csv"
    path.write_text("When,Trust?\r\n1/2/2025,4\r\n", encoding="utf-8")
    error = first_batch_error(
        GF, spec(path, "google_forms_csv", questions={"Trust?": "REL-TRUST"}), make_ctx()
    )
    assert (error.row, error.message.split(":")[0]) == (1, "not a Google Forms responses export")


@pytest.mark.parametrize(
    ("connector", "path", "expected"),
    [
        (QualtricsCsvConnector(), MIDWEST, "this looks like a SurveyMonkey export; use `surveymonkey_csv`"),
        (QualtricsCsvConnector(), STAR_WARS, "this looks like a SurveyMonkey export; use `surveymonkey_csv`"),
        (QualtricsCsvConnector(), SSI, "this looks like a Google Forms responses export; use `google_forms_csv`"),
        (CsvLongConnector(), STEAK, "this looks like a SurveyMonkey export; use `surveymonkey_csv`"),
        (SM, SSI, "this looks like a Google Forms responses export; use `google_forms_csv`"),
        (GF, SAMPLES / "qualtrics" / "api_export_beskar_armor_full.csv",
         "this looks like a Qualtrics response export; use `qualtrics_csv`"),
    ],
)  # fmt: skip
def test_a_file_given_to_the_wrong_connector_names_the_right_one(
    connector: Any, path: Path, expected: str
) -> None:
    options = {} if connector.name == "csv_long" else {"questions": {"x": "REL-TRUST"}}
    with pytest.raises(SourceError) as raised:
        connector.read(spec(path, connector.name, **options), make_ctx())
    assert str(raised.value) == f"{path.name}, row 1: {expected}"


def test_sniff_every_sample() -> None:
    found = {p.parent.name: sniff_file(p) for p in SAMPLES.glob("*/*.csv")}
    assert found == {"qualtrics": "qualtrics_csv", "surveymonkey": "surveymonkey_csv",
                     "google_forms": "google_forms_csv"}  # fmt: skip


# ---------------------------------------------------------------- through the pipeline

STAR_WARS_CONFIG = f"""
relationship: {{key: sw, name: Star Wars}}
library: {{file: library.csv, key: sw, name: SW library, version: "1"}}
parties:
  - {{key: east, name: East, role: client, match: ["*Atlantic", "New England", "East*"]}}
  - {{key: west, name: West, role: supplier, match: ["*"]}}
perspectives: [{{key: senior, name: Senior leadership}}]
levels:
  "Very favorably": 5
  "Somewhat favorably": 4
  "Neither favorably nor unfavorably (neutral)": 3
  "Very unfavorably": 1
  "Unfamiliar (N/A)": null
cycles:
  - number: 1
    mode: resolve
    sources:
      - key: sw
        connector: surveymonkey_csv
        path: {STAR_WARS.name}
        options:
          encoding: mac_roman
          questions: {{"{FAVOUR} | Han Solo": REL-TRUST}}
          organisation_column: Location (Census Region)
"""


def test_surveymonkey_through_the_pipeline_levels_quarantine_and_rerun(tmp_path: Path) -> None:
    folder = tmp_path / "sw"
    folder.mkdir()
    shutil.copy(REPO / "examples" / "demo" / "library.csv", folder / "library.csv")
    shutil.copy(STAR_WARS, folder / STAR_WARS.name)
    (folder / "relationship.yaml").write_text(STAR_WARS_CONFIG, encoding="utf-8")
    settings = Settings.from_env({"VM_HOME": str(tmp_path / "home"), "VM_SECRET": "s"})
    config = load_config(folder / "relationship.yaml")
    with STAR_WARS.open(newline="", encoding="mac_roman") as fh:
        rows = list(csv.reader(fh))[2:]
    no_org = sum(1 for r in rows if not r[37].strip())
    unknown = sum(1 for r in rows if r[37].strip() and r[15] == "Somewhat unfavorably")

    (source,) = run_relationship(config, LocalSteps(settings)).cycles[0].sources

    assert (source.status, source.rows_read) == ("loaded", 150)
    assert (source.quarantined, source.evaluations) == (no_org + unknown, 150 - no_org - unknown)
    assert unknown == 1
    assert (
        source.reasons[
            "answer is not a level 1–5, a level label or statement of REL-TRUST, nor listed under `levels:`"
        ]
        == 1
    )
    key = partial(pseudonym_for, settings, "sw")
    with pipeline.open_store(settings)() as session:
        cycle_id = session.scalars(select(Cycle.id).where(Cycle.number == 1)).one()
        files = committed_files(session, cycle_id)
    found = settings.lake().dataset(files).to_table().to_pylist()
    first = next(e for e in found if e["respondent_key"] == key("3292879998"))
    assert (first["party"], first["level"], first["source_row"]) == ("east", 5, 3)
    na = [e for e in found if e["level"] is None and not e["blank"]]
    assert len(na) == sum(
        1 for r in rows if r[37].strip() and r[15] == "Unfamiliar (N/A)"
    )  # no level, not a number

    (again,) = run_relationship(config, LocalSteps(settings)).cycles[0].sources
    assert again.status == "unchanged"
