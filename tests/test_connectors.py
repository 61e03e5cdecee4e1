"""Built-in connectors: qualtrics_csv (real Qualtrics exports) and csv_long.

A connector's delivery is read in memory here (its Arrow batches, and the ``answers`` view
modelling builds from its plan); one test runs a csv_long source through the pipeline into the lake.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import select

from connectors.csv_long import CsvLongConnector
from connectors.qualtrics_csv import QualtricsCsvConnector
from tests.conftest import REPO
from vm_core.config import load_config
from vm_core.errors import ConfigError, SourceError
from vm_core.ingest.answers import answers_table
from vm_core.ingest.connector import (
    ANSWER_TABLE_COLUMNS,
    AnswerPlan,
    Connector,
    ConnectorContext,
    Delivery,
    FreeTextColumn,
    SourceSpec,
)
from vm_core.ingest.plugins import collect_connectors, make_plugin_manager
from vm_core.lake.evidence import committed_files
from vm_core.lake.storage import EVALUATIONS, Partition
from vm_core.run import pipeline
from vm_core.run.orchestration import LocalSteps, run_relationship
from vm_core.run.participants import pseudonym_for
from vm_core.settings import Settings
from vm_core.store.models import Cycle

QUALTRICS = QualtricsCsvConnector()
CSV_LONG = CsvLongConnector()
VALUE_CODES = ["REL-TRUST", "REL-COMM", "DEL-QUALITY"]
HEX64 = re.compile(r"^[0-9a-f]{64}$")
#: the provenance and status columns of a landed Qualtrics response (the rest are its landed cells)
RESPONSE_BASE = (*ANSWER_TABLE_COLUMNS, "status", "finished", "recorded_date")


def make_ctx(value_codes: Sequence[str] = VALUE_CODES, cycle: int = 1) -> ConnectorContext:
    return ConnectorContext(relationship_key="r", cycle=cycle, secret=b"k", value_codes=list(value_codes))


def spec(path: Path, connector: str = "qualtrics_csv", key: str = "survey", **options: Any) -> SourceSpec:
    return SourceSpec(key=key, connector=connector, path=path, options=options)


def tables_of(delivery: Delivery) -> dict[str, pa.Table]:
    """Every landed table of a delivery, its batches consumed (as the pipeline streams them to the lake)."""
    tables = {}
    for table in delivery.tables:
        batches = list(table.batches)
        assert all(batch.schema == table.schema for batch in batches)
        tables[table.name] = pa.Table.from_batches(batches, schema=table.schema)
    return tables


def extract(connector: Connector, source: SourceSpec, ctx: ConnectorContext) -> dict[str, pa.Table]:
    return tables_of(connector.read(source, ctx))


def answers(
    tables: Mapping[str, pa.Table], plan: AnswerPlan | None, source_key: str = "survey"
) -> list[dict[str, Any]]:
    """What modelling reads from a delivery: one row per respondent × Value Code, by row then library order."""
    assert plan is not None
    rows = answers_table(tables[plan.table], plan, source_key).to_pylist()
    order = {code: i for i, code in enumerate([*VALUE_CODES, *(i.value_code for i in plan.items)])}
    return sorted(rows, key=lambda r: (r["source_file"], r["source_row"], order.get(r["value_code"], 99)))


def read_answers(
    connector: Connector, source: SourceSpec, ctx: ConnectorContext
) -> tuple[dict[str, pa.Table], list[dict[str, Any]]]:
    delivery = connector.read(source, ctx)
    tables = tables_of(delivery)
    return tables, answers(tables, delivery.plan, source.key)


def first_batch_error(connector: Connector, source: SourceSpec, ctx: ConnectorContext) -> SourceError:
    """The delivery fails before its first batch: nothing of the file is landed before the error."""
    try:
        next(iter(connector.read(source, ctx).tables[0].batches))
    except SourceError as exc:
        return exc
    pytest.fail("no SourceError: the first batch came through")


def write_export(path: Path, header: Sequence[tuple[str, str, str]], rows: Sequence[Sequence[str]]) -> Path:
    """A 3-header-row Qualtrics export as Qualtrics writes it: CRLF records, ImportId JSON in row 3."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow([tag for tag, _, _ in header])
        writer.writerow([label for _, label, _ in header])
        writer.writerow(
            [
                import_id
                if import_id.startswith("{") or not import_id
                else json.dumps({"ImportId": import_id}, separators=(",", ":"))
                for _, _, import_id in header
            ]
        )
        writer.writerows(rows)
    return path


def cells(table: pa.Table, response_id: str) -> dict[str, Any]:
    """One landed response: its base columns, and ``cells`` (landed column → value, blanks omitted)."""
    row = next(r for r in table.to_pylist() if r["response_id"] == response_id)
    base = {k: v for k, v in row.items() if k in RESPONSE_BASE}
    return {**base, "cells": {k: v for k, v in row.items() if k not in RESPONSE_BASE and v is not None}}


# --------------------------------------------------------------------------------------------------
# Registration and the contract
# --------------------------------------------------------------------------------------------------


def test_both_connectors_register_as_plugins() -> None:
    found = collect_connectors(make_plugin_manager(load_entry_points=False))
    assert {"qualtrics_csv", "csv_long"} <= set(found)
    for name in ("qualtrics_csv", "csv_long"):
        assert isinstance(found[name], Connector)
        assert found[name].description
    assert {o.name for o in QUALTRICS.options} == {
        "questions",
        "comments",
        "organisation_column",
        "role_column",
        "respondent_id",
        "keep_columns",
        "free_text",
    }
    assert [o.name for o in CSV_LONG.options] == ["delimiter"]


def test_fingerprint_follows_the_files_content(tmp_path: Path) -> None:
    path = write_long(tmp_path / "long.csv", LONG_ROWS)
    source = spec(path, connector="csv_long")
    first = CSV_LONG.fingerprint(source, make_ctx())
    assert CSV_LONG.fingerprint(source, make_ctx(cycle=2)) == first  # the file, not the context
    write_long(path, LONG_ROWS[:-1])
    assert CSV_LONG.fingerprint(source, make_ctx()) != first
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(path, folder / "a.csv")
    one = QUALTRICS.fingerprint(spec(folder), make_ctx())
    shutil.copy(path, folder / "b.csv")
    assert QUALTRICS.fingerprint(spec(folder), make_ctx()) != one  # a folder: every file counts


# --------------------------------------------------------------------------------------------------
# qualtrics_csv: the real sample exports
# --------------------------------------------------------------------------------------------------

# file: (data rows read, preview rows, test rows, responses landed, columns, the question mapped)
SAMPLE_COUNTS = {
    "api_export_beskar_armor_full.csv": (44, 2, 15, 27, 24, "QID16"),
    "api_export_beskar_armor_subset.csv": (15, 0, 0, 15, 6, "QID16"),
    "api_export_cats_salami_employee_survey.csv": (45, 1, 0, 44, 34, "QID18"),
    "qualtrics_sample_german_labels.csv": (1, 0, 0, 1, 20, "QID1"),
    "qualtrics_sample_legacy_v1_format.csv": (1, 0, 0, 1, 15, "Q1"),  # + the trailing comma's empty column
}


def sample(samples: Path, name: str, **options: Any) -> SourceSpec:
    """A sample export with its one question mapped (a delivery needs at least one Value Code)."""
    return spec(samples / "qualtrics" / name, questions={SAMPLE_COUNTS[name][5]: "REL-TRUST"}, **options)


def test_every_sample_csv_is_covered(samples: Path) -> None:
    assert {p.name for p in (samples / "qualtrics").glob("*.csv")} == set(SAMPLE_COUNTS)


@pytest.mark.parametrize(("name", "counts"), SAMPLE_COUNTS.items())
def test_sample_exports_read_with_exact_counts(samples: Path, name: str, counts: tuple[Any, ...]) -> None:
    rows_read, previews, tests, responses, columns, _ = counts
    ctx = make_ctx()
    tables, found = read_answers(QUALTRICS, sample(samples, name), ctx)
    assert ctx.report.rows_read == rows_read
    assert ctx.report.dropped["preview"] == previews
    assert ctx.report.dropped["test"] == tests
    landed = tables["qualtrics_responses"]
    assert landed.num_rows == responses == rows_read - previews - tests
    assert tables["qualtrics_columns"].num_rows == columns
    assert landed.schema.field("source_row").type == pa.int64()
    assert landed.column_names[: len(ANSWER_TABLE_COLUMNS)] == list(ANSWER_TABLE_COLUMNS)
    assert set(landed.column("source_file").to_pylist()) == {name}
    positions = tables["qualtrics_columns"].column("position").to_pylist()
    keys = tables["qualtrics_columns"].column("column_key").to_pylist()
    assert positions == list(range(1, columns + 1))
    assert len(set(keys)) == len(keys)
    assert len(found) == responses
    assert {a["value_code"] for a in found} == {"REL-TRUST"}


def test_beskar_full_values_and_row_numbers(samples: Path) -> None:
    kept = ["QID18", "QID19_TEXT", "QID22_TEXT"]  # only mapped (QID16) or kept columns land
    tables = extract(
        QUALTRICS, sample(samples, "api_export_beskar_armor_full.csv", keep_columns=kept), make_ctx()
    )
    responses = tables["qualtrics_responses"]
    assert responses.column_names[len(RESPONSE_BASE) :] == ["QID16", *kept]
    ids = responses.column("response_id").to_pylist()
    assert "R_A7l3qPgjI2gQ6vT" not in ids  # Survey Preview
    assert "R_a5mPo7PN9okZU7X" not in ids  # Survey Test
    first = cells(responses, "R_1ozQ0AYNCrc2hXQ")
    assert first["source_row"] == 5
    assert (first["status"], first["finished"], first["recorded_date"]) == (
        "IP Address",
        "True",
        "2020-02-19 18:34:38",
    )
    assert first["cells"]["QID16"] == "Somewhat dissatisfied"  # Likert label as written
    assert first["cells"]["QID18"] == "No, the problem was not resolved \n\n"  # bare LF inside a CRLF file
    assert "boss’s sail barge" in first["cells"]["QID19_TEXT"]
    # rows 4 and 5 hold multi-line cells: the next response is still spreadsheet row 6 (line 9 of the file)
    assert cells(responses, "R_3qORKcpOE0hcPGf")["source_row"] == 6
    assert cells(responses, "R_3Qyt9WF7ibwwVsl")["source_row"] == 47  # last record; the file has 85 lines
    assert cells(responses, "R_tGQtOR6lbv4O39D")["cells"]["QID22_TEXT"] == "🤷🏻‍♀️"
    multi_line = cells(responses, "R_1f11JMRdx4RF6K6")
    assert multi_line["source_row"] == 34
    assert multi_line["cells"]["QID22_TEXT"] == (
        "I love beskar.\n\nNew lines are cool. /n/n\n\nI love beskaR but R is the best-R!"
    )
    assert "QID19_TEXT" not in cells(responses, "R_3Qyt9WF7ibwwVsl")["cells"]  # blank: null
    columns = tables["qualtrics_columns"].to_pylist()
    assert columns[8] == {
        "source_file": "api_export_beskar_armor_full.csv",
        "position": 9,
        "column_key": "_recordId",
        "export_tag": "ResponseId",
        "label": "Response ID",
        "import_id": "_recordId",
        "landed": "response_id",
    }
    assert columns[3]["column_key"] == "ipAddress"  # personal-data columns: header only
    assert columns[3]["landed"] is None
    assert [c["landed"] for c in columns if c["column_key"] == "QID19_TEXT"] == ["QID19_TEXT"]


def test_cats_salami_breakout_columns_stay_distinct(samples: Path) -> None:
    source = sample(
        samples, "api_export_cats_salami_employee_survey.csv", keep_columns=["QID36#1", "QID36#2", "QID30"]
    )
    tables = extract(QUALTRICS, source, make_ctx())
    columns = {c["column_key"]: c for c in tables["qualtrics_columns"].to_pylist()}
    for choice, tag in (("1", "Q35_1"), ("2", "Q35_2"), ("7", "Q35_7")):
        assert columns[f"QID36#{choice}"]["export_tag"] == tag
        assert columns[f"QID36#{choice}"]["import_id"] == "QID36"
    assert columns["QID18_NPS_GROUP"]["export_tag"] == "Q3.13_NPS_GROUP"
    assert columns["QID36#7"]["landed"] is None  # neither mapped nor kept
    first = cells(tables["qualtrics_responses"], "R_1KvuANnY3nkRtvE")
    assert first["source_row"] == 5  # row 4 is a Survey Preview
    assert first["cells"]["QID36#1"] == "Ropes Course"
    assert "QID36#2" not in first["cells"]
    assert first["cells"]["QID18"] == "10"
    assert first["cells"]["QID30"] == "Definitely yes"


def test_german_labels_are_kept_but_not_used_as_keys(samples: Path) -> None:
    source = sample(samples, "qualtrics_sample_german_labels.csv", keep_columns=["QID2_TEXT"])
    tables = extract(QUALTRICS, source, make_ctx())
    columns = tables["qualtrics_columns"].to_pylist()
    assert (columns[0]["column_key"], columns[0]["label"]) == ("startDate", "Anfangsdatum")
    row = cells(tables["qualtrics_responses"], "R_2YPOQ602ER1jkf1")
    assert (row["source_row"], row["status"], row["finished"]) == (4, "0", "1")  # codes, not labels
    assert row["cells"]["QID2_TEXT"] == "Hello World!"


def test_legacy_export(samples: Path) -> None:
    ctx = make_ctx()
    source = sample(samples, "qualtrics_sample_legacy_v1_format.csv", keep_columns=["V2", "V8", "V9", "Q2"])
    tables = extract(QUALTRICS, source, ctx)
    columns = tables["qualtrics_columns"].to_pylist()
    assert columns[0]["export_tag"] == columns[0]["column_key"] == "V1"  # no BOM
    assert all(c["import_id"] is None for c in columns)
    assert columns[-1]["column_key"] == "LocationAccuracy"
    row = cells(tables["qualtrics_responses"], "R_2YPOQ602ER1jkf1")
    assert (row["source_row"], row["status"], row["finished"]) == (3, "0", "1")
    assert row["cells"] == {
        "V2": "Standard-Antwortsatz",
        "V8": "2017-07-18 08:28:09",
        "V9": "2017-07-18 08:28:48",
        "Q1": "2",
        "Q2": "Hello World!",
    }
    assert set(ctx.report.pii_columns_removed) == {
        "Name",
        "ExternalDataReference",
        "EmailAddress",
        "IPAddress",
        "LocationLatitude",
        "LocationLongitude",
        "LocationAccuracy",
    }


# --------------------------------------------------------------------------------------------------
# qualtrics_csv: personal data
# --------------------------------------------------------------------------------------------------

PERSONAL_TAGS = {
    "IPAddress",
    "RecipientLastName",
    "RecipientFirstName",
    "RecipientEmail",
    "ExternalReference",
    "LocationLatitude",
    "LocationLongitude",
    "LocationAccuracy",
    "V3",
    "V4",
    "V5",
    "V6",
}


def all_text(tables: Mapping[str, pa.Table]) -> str:
    return json.dumps({name: table.to_pylist() for name, table in tables.items()}, ensure_ascii=False)


@pytest.mark.parametrize("name", list(SAMPLE_COUNTS))
def test_no_personal_value_from_a_sample_lands(samples: Path, name: str) -> None:
    path = samples / "qualtrics" / name
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    personal = {i for i, tag in enumerate(rows[0]) if tag in PERSONAL_TAGS}
    values = {row[i] for row in rows[2:] for i in personal if i < len(row) and len(row[i]) > 2}
    ctx = make_ctx()
    text = all_text(extract(QUALTRICS, sample(samples, name), ctx))
    assert [v for v in values if v in text] == []
    if personal:  # IP addresses and coordinates (the samples hold no names or e-mails)
        assert values
        assert ctx.report.pii_columns_removed


def personal_export(path: Path, email: str, response_id: str) -> Path:
    header = [
        ("StartDate", "Start Date", "startDate"),
        ("IPAddress", "IP Address", "ipAddress"),
        ("ResponseId", "Response ID", "_recordId"),
        ("RecipientLastName", "Last", "recipientLastName"),
        ("RecipientFirstName", "First", "recipientFirstName"),
        ("RecipientEmail", "Email", "recipientEmail"),
        ("ExternalReference", "Ref", "externalDataReference"),
        ("LocationLatitude", "Lat", "locationLatitude"),
        ("LocationLongitude", "Long", "locationLongitude"),
        ("Q1", "Trust?", "QID1"),
        ("Q9", "Anything else?", "QID9_TEXT"),
    ]
    rows = [
        [
            "2024-01-02 10:00:00",
            "203.0.113.9",
            response_id,
            "Organa",
            "Leia",
            email,
            "EXT-4711",
            "51.4816",
            "-3.1791",
            "Agree",
            "Ask Leia Organa",
        ],
        [
            "2024-01-02 11:00:00",
            "203.0.113.10",
            response_id + "b",
            "",
            "",
            "",
            "EXT-4712",
            "",
            "",
            "Disagree",
            "",
        ],
        ["2024-01-02 12:00:00", "203.0.113.11", response_id + "c", "", "", "", "", "", "", "Agree", ""],
    ]
    return write_export(path, header, rows)


def test_personal_columns_never_land_and_respondent_is_pseudonymised(tmp_path: Path) -> None:
    ctx = make_ctx()
    path = personal_export(tmp_path / "cycle1.csv", "Leia@Alderaan.example", "R_1")
    tables = extract(QUALTRICS, spec(path, questions={"QID1": "REL-TRUST"}), ctx)
    text = all_text(tables)
    for value in ("203.0.113.9", "Organa", "Leia", "alderaan", "EXT-4711", "EXT-4712", "51.4816", "-3.1791"):
        assert value.lower() not in text.lower()
    assert ctx.report.pii_columns_removed == [
        "IPAddress",
        "RecipientLastName",
        "RecipientFirstName",
        "RecipientEmail",
        "ExternalReference",
        "LocationLatitude",
        "LocationLongitude",
    ]
    # an unmapped free-text column is left behind too: only its name is reported
    assert "Q9" in ctx.report.columns_not_landed
    keys = tables["qualtrics_responses"].column("respondent_key").to_pylist()
    assert all(HEX64.match(k) for k in keys)
    # e-mail, else ExternalReference, else ResponseId
    assert keys == [
        ctx.pseudonymise("leia@alderaan.example"),
        ctx.pseudonymise("EXT-4712"),
        ctx.pseudonymise("R_1c"),
    ]
    # the same e-mail in another cycle's export (other response id, other case) gives the same key
    other = extract(
        QUALTRICS,
        spec(
            personal_export(tmp_path / "cycle2.csv", "LEIA@alderaan.example ", "R_9"),
            questions={"QID1": "REL-TRUST"},
        ),
        make_ctx(cycle=2),
    )
    assert other["qualtrics_responses"].column("respondent_key")[0].as_py() == keys[0]


def test_keep_columns_and_respondent_id_option(tmp_path: Path) -> None:
    path = personal_export(tmp_path / "export.csv", "leia@alderaan.example", "R_1")
    ctx = make_ctx()
    source = spec(
        path, questions={"QID1": "REL-TRUST"}, keep_columns=["IPAddress"], respondent_id="ExternalReference"
    )
    tables = extract(QUALTRICS, source, ctx)
    first = cells(tables["qualtrics_responses"], "R_1")
    assert first["cells"] == {"ipAddress": "203.0.113.9", "QID1": "Agree"}
    assert first["respondent_key"] == ctx.pseudonymise("EXT-4711")
    assert cells(tables["qualtrics_responses"], "R_1c")["respondent_key"] == ctx.pseudonymise("R_1c")
    assert "IPAddress" not in ctx.report.pii_columns_removed
    assert "EXT-4711" not in all_text(tables)


def test_comments_are_scrubbed_as_they_land(tmp_path: Path) -> None:
    header = [
        ("ResponseId", "Response ID", "_recordId"),
        ("Q1", "Trust?", "QID1"),
        ("Q1c", "Why?", "QID1_TEXT"),
    ]
    rows = [["R_1", "Agree", "Mail jane.doe@contoso.example or call +44 7700 900123; https://intranet/x"]]
    path = write_export(tmp_path / "scrub.csv", header, rows)
    ctx = make_ctx()
    source = spec(path, questions={"QID1": "REL-TRUST"}, comments={"QID1_TEXT": "REL-TRUST"})
    tables, (answer,) = read_answers(QUALTRICS, source, ctx)
    assert answer["comment"] == "Mail [e-mail] or call [phone]; [link]"
    assert ctx.report.scrubbed == {"[e-mail]": 1, "[phone]": 1, "[link]": 1}
    for raw in ("jane.doe", "7700 900123", "intranet/x"):
        assert raw not in all_text(tables)


def test_free_text_no_value_code_covers_lands_scrubbed_and_is_named_in_the_plan(tmp_path: Path) -> None:
    header = [
        ("ResponseId", "Response ID", "_recordId"),
        ("Q1", "Trust?", "QID1"),
        ("Q9", "Anything else you would like to tell us?", "QID9_TEXT"),
        ("Q10", "Your name (optional)", "QID10_TEXT"),
    ]
    rows = [["R_1", "Agree", "Parking at the depot; ask jane.doe@contoso.example", "Jane Doe"]]
    path = write_export(tmp_path / "free.csv", header, rows)
    ctx = make_ctx()
    delivery = QUALTRICS.read(spec(path, questions={"QID1": "REL-TRUST"}, free_text=["QID9_TEXT"]), ctx)
    assert delivery.plan is not None
    assert delivery.plan.free_text == (
        FreeTextColumn("QID9_TEXT", "Anything else you would like to tell us?"),
    )
    assert AnswerPlan.from_json(delivery.plan.to_json()) == delivery.plan  # stored with the load
    tables = tables_of(delivery)
    landed = cells(tables["qualtrics_responses"], "R_1")["cells"]
    assert landed == {"QID1": "Agree", "QID9_TEXT": "Parking at the depot; ask [e-mail]"}
    assert "Jane Doe" not in all_text(tables)  # a free-text box nobody listed stays behind
    assert ctx.report.scrubbed == {"[e-mail]": 1}


def test_a_plan_stored_before_free_text_reads_as_having_none() -> None:
    stored = json.dumps({"table": "t", "organisation": None, "role": None, "items": []})
    assert AnswerPlan.from_json(stored).free_text == ()


@pytest.mark.parametrize(
    "options",
    [
        {"questions": {"QID16": "REL-TRUST"}, "comments": {"QID17_TEXT": "REL-TRUST"}, "free_text": ["Q1_c"]},
        {"questions": {"QID16": "REL-TRUST"}, "free_text": ["QID16"]},
        {"questions": {"QID16": "REL-TRUST"}, "free_text": ["QID17_TEXT", "Q1_c"]},
    ],
)
def test_a_free_text_column_read_twice_fails_before_landing(tmp_path: Path, options: dict[str, Any]) -> None:
    path = write_export(tmp_path / "synthetic.csv", SYNTHETIC_HEADER, SYNTHETIC_ROWS)
    with pytest.raises(SourceError, match=r"options\.free_text: column .* is listed twice, or read as"):
        QUALTRICS.read(spec(path, **options), make_ctx())


# --------------------------------------------------------------------------------------------------
# qualtrics_csv: the answer plan
# --------------------------------------------------------------------------------------------------

SYNTHETIC_HEADER = [
    ("StartDate", "Start Date", '{"ImportId":"startDate","timeZone":"Europe/Berlin"}'),
    ("Status", "Response Type", "status"),
    ("IPAddress", "IP Address", "ipAddress"),
    ("Finished", "Finished", "finished"),
    ("ResponseId", "Response ID", "_recordId"),
    ("RecipientEmail", "Recipient Email", "recipientEmail"),
    ("DistributionChannel", "Distribution Channel", "distributionChannel"),
    ("Q1", "How far do you trust them?", "QID16"),
    ("Q1_c", "Why?", "QID17_TEXT"),
    ("Q2", "How well do they communicate?", "QID18"),
    ("Q3_1", "Pick - A", '{"ImportId":"QID36","choiceId":"1"}'),
    ("Q3_2", "Pick - B", '{"ImportId":"QID36","choiceId":"2"}'),
    ("Org", "Org", "Org"),
    ("Role", "Role", "Role"),
]
SYNTHETIC_ROWS = [
    [
        "2024-03-01 09:00:00",
        "IP Address",
        "198.51.100.1",
        "True",
        "R_a",
        "a@example.org",
        "email",
        "Agree",
        "Line one\nline two",
        "4",
        "A",
        "",
        "Acme",
        "Director",
    ],
    [
        "2024-03-01 09:05:00",
        "Survey Preview",
        "",
        "True",
        "R_p",
        "",
        "preview",
        "Agree",
        "",
        "5",
        "",
        "",
        "Acme",
        "Director",
    ],
    [
        "2024-03-01 09:10:00",
        "IP Address",
        "198.51.100.2",
        "True",
        "R_b",
        "b@example.org",
        "email",
        "",
        "",
        "Strongly agree",
        "",
        "B",
        "Globex",
        "Engineer",
    ],
    [
        "2024-03-01 09:20:00",
        "IP Address",
        "198.51.100.3",
        "False",
        "R_c",
        "",
        "anonymous",
        "Disagree",
        "Too slow 🐢",
        "",
        "",
        "",
        "",
        "",
    ],
]
ANSWER_FIELDS = (
    "source_row",
    "source_column",
    "respondent_key",
    "organisation",
    "role",
    "value_code",
    "value",
    "comment",
)


def test_answers_with_mapping_options(tmp_path: Path) -> None:
    path = write_export(tmp_path / "synthetic.csv", SYNTHETIC_HEADER, SYNTHETIC_ROWS)
    source = spec(
        path,
        questions={"QID16": "REL-TRUST", "Q2": "rel-comm"},
        comments={"QID17_TEXT": "REL-TRUST"},
        organisation_column="Org",
        role_column="Role",
    )
    ctx = make_ctx()
    tables, found = read_answers(QUALTRICS, source, ctx)
    assert ctx.report.dropped["preview"] == 1
    assert {(a["source_key"], a["source_file"]) for a in found} == {("survey", "synthetic.csv")}
    key = ctx.pseudonymise
    assert [tuple(a[f] for f in ANSWER_FIELDS) for a in found] == [
        (4, "Q1", key("a@example.org"), "Acme", "Director", "REL-TRUST", "Agree", "Line one\nline two"),
        (4, "Q2", key("a@example.org"), "Acme", "Director", "REL-COMM", "4", None),
        (6, "Q1", key("b@example.org"), "Globex", "Engineer", "REL-TRUST", None, None),
        (6, "Q2", key("b@example.org"), "Globex", "Engineer", "REL-COMM", "Strongly agree", None),
        (7, "Q1", key("R_c"), None, None, "REL-TRUST", "Disagree", "Too slow 🐢"),
        (7, "Q2", key("R_c"), None, None, "REL-COMM", None, None),
    ]
    # the allow-list: what the plan reads and the base columns; the unmapped breakouts stay behind
    assert tables["qualtrics_responses"].column_names[len(RESPONSE_BASE) :] == [
        "QID16",
        "QID17_TEXT",
        "QID18",
        "Org",
        "Role",
    ]
    assert {"StartDate", "DistributionChannel", "Q3_1", "Q3_2"} <= set(ctx.report.columns_not_landed)


def test_answers_map_columns_named_after_value_codes(tmp_path: Path) -> None:
    header = [
        ("ResponseId", "Response ID", "_recordId"),
        ("rel-trust", "Trust", "QID1"),
        ("Comm", "Communication", "REL-COMM"),
        ("Other", "Unrelated", "QID3"),
        ("Status", "Antworttyp", "status"),
    ]
    rows = [["R_1", "3", "Yes", "x", "0"], ["R_2", "", "No", "y", "0"]]
    path = write_export(tmp_path / "auto.csv", header, rows)
    ctx = make_ctx()
    _, found = read_answers(QUALTRICS, spec(path), ctx)
    assert [(a["source_row"], a["value_code"], a["source_column"], a["value"]) for a in found] == [
        (4, "REL-TRUST", "rel-trust", "3"),
        (4, "REL-COMM", "Comm", "Yes"),
        (5, "REL-TRUST", "rel-trust", None),
        (5, "REL-COMM", "Comm", "No"),
    ]
    assert all(a["organisation"] is None and a["comment"] is None for a in found)
    assert "Other" in ctx.report.columns_not_landed


def test_answers_by_breakout_column_key_and_legacy_tag(samples: Path, tmp_path: Path) -> None:
    path = write_export(tmp_path / "synthetic.csv", SYNTHETIC_HEADER, SYNTHETIC_ROWS)
    _, found = read_answers(QUALTRICS, spec(path, questions={"QID36#2": "DEL-QUALITY"}), make_ctx())
    assert [a["value"] for a in found] == [None, "B", None]
    assert {a["source_column"] for a in found} == {"Q3_2"}
    legacy = spec(
        samples / "qualtrics" / "qualtrics_sample_legacy_v1_format.csv",
        questions={"Q1": "REL-TRUST"},
        comments={"Q2": "REL-TRUST"},
    )
    _, found = read_answers(QUALTRICS, legacy, make_ctx())
    assert [(a["source_row"], a["source_column"], a["value"], a["comment"]) for a in found] == [
        (3, "Q1", "2", "Hello World!")
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"questions": {"QID36": "REL-TRUST"}}, "matches 2 columns"),
        ({"questions": {"Q9": "REL-TRUST"}}, "no column 'Q9'"),
        ({"questions": {"Q1": "REL-TRUST"}, "organisation_column": "RecipientEmail"}, "personal data"),
        ({}, "no column maps to a Value Code"),
    ],
)
def test_bad_column_options_fail_before_landing(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    path = write_export(tmp_path / "synthetic.csv", SYNTHETIC_HEADER, SYNTHETIC_ROWS)
    with pytest.raises(SourceError) as excinfo:
        QUALTRICS.read(spec(path, **options), make_ctx())  # before any batch exists
    error = excinfo.value
    assert message in error.message
    assert (error.file, error.row) == ("synthetic.csv", 1)


def test_unknown_value_code_in_options_is_a_config_error(tmp_path: Path) -> None:
    path = write_export(tmp_path / "synthetic.csv", SYNTHETIC_HEADER, SYNTHETIC_ROWS)
    with pytest.raises(ConfigError, match="'NOPE' is not a Value Code"):
        QUALTRICS.read(spec(path, questions={"Q1": "NOPE"}), make_ctx())
    with pytest.raises(ConfigError, match="unknown option 'question'"):
        QUALTRICS.read(spec(path, question={"Q1": "REL-TRUST"}), make_ctx())


# --------------------------------------------------------------------------------------------------
# qualtrics_csv: files that cannot be read
# --------------------------------------------------------------------------------------------------

GOOD_HEAD = (
    "StartDate,ResponseId,Q1\r\nStart Date,Response ID,Trust?\r\n"
    '"{""ImportId"":""startDate""}","{""ImportId"":""_recordId""}","{""ImportId"":""QID1""}"\r\n'
)


@pytest.mark.parametrize(
    ("content", "row", "message"),
    [
        (b"name,email\r\nLeia,leia@example.org\r\n", 1, "not a Qualtrics response export"),
        (
            b"StartDate,ResponseId,Q1\r\nStart Date,Response ID,Trust?\r\n2024-01-01,R_1,Agree\r\n",
            3,
            "not the ImportId row",
        ),
        (b"", 1, "row 1 (export tags) is empty"),
        (
            (GOOD_HEAD + '2024-01-01,R_1,"Agree\nstill agree"\r\n2024-01-02,R_2,Agree,extra\r\n').encode(),
            5,
            "row has 4 cells but the header has 3 columns",
        ),
        (
            (GOOD_HEAD + '2024-01-01,R_1,"Agree\n\nmore"\r\n').encode() + b"2024-01-02,R_2,Caf\xe9\r\n",
            5,
            "not UTF-8",
        ),
        ((GOOD_HEAD + '2024-01-01,R_1,Agree\r\n2024-01-02,R_2,"Agree\r\n').encode(), 5, "never closed"),
        ((GOOD_HEAD + "2024-01-01,R_1,Agree\r\n2024-01-02,R_1,Agree\r\n").encode(), 5, "appears twice"),
        ((GOOD_HEAD + "2024-01-01,R_1,Agree\r\n2024-01-02,,Agree\r\n").encode(), 5, "response id is blank"),
        ((GOOD_HEAD + "2024-01-01,R_1,Agree\r\n2024-01-02,R_2").encode(), 5, "cut short"),
        (
            (GOOD_HEAD.replace('"{""ImportId"":""QID1""}"', "QID1") + "2024-01-01,R_1,Agree\r\n").encode(),
            3,
            "not ImportId JSON",
        ),
    ],
)
def test_unparseable_file_raises_source_error(tmp_path: Path, content: bytes, row: int, message: str) -> None:
    path = tmp_path / "broken export.csv"
    path.write_bytes(content)
    error = first_batch_error(QUALTRICS, spec(path, questions={"Q1": "REL-TRUST"}), make_ctx())
    assert error.file == "broken export.csv"
    assert error.row == row
    assert message in error.message
    assert str(error).startswith(f"broken export.csv, row {row}")
    assert "\n" not in str(error)
    assert not {"Caf", "Agree"} & set(re.findall(r"\w+", str(error)))  # never a cell's value


def test_duplicate_and_blank_header_names_are_tolerated(tmp_path: Path) -> None:
    header = [
        ("ResponseId", "Response ID", "_recordId"),
        ("Q1", "A", "QID1"),
        ("Q1", "A again", "QID1"),
        ("", "", ""),
        ("Q1", "tag only", ""),
    ]
    path = write_export(tmp_path / "dupes.csv", header, [["R_1", "a", "b", "c", "d"]])
    kept = ["QID1~2", "_col4", "Q1"]  # every column stays addressable by its key
    tables = extract(QUALTRICS, spec(path, questions={"QID1": "REL-TRUST"}, keep_columns=kept), make_ctx())
    assert tables["qualtrics_columns"].column("column_key").to_pylist() == [
        "_recordId",
        "QID1",
        "QID1~2",
        "_col4",
        "Q1",
    ]
    assert cells(tables["qualtrics_responses"], "R_1")["cells"] == {
        "QID1": "a",
        "QID1~2": "b",
        "_col4": "c",
        "Q1": "d",
    }


# --------------------------------------------------------------------------------------------------
# csv_long
# --------------------------------------------------------------------------------------------------

LONG_ROWS = [
    ["Respondent_ID", "Organisation", "Role", "Value_Code", "Level", "Comment", "Submitted_At"],
    ["leia@example.org", "Acme", "Director", "rel-trust", "4", "Solid\npartner", "2024-03-01"],
    ["leia@example.org", "Acme", "Director", "REL-COMM", "Agree", "", "2024-03-01"],
    ["han@example.org", "Globex", "Engineer", "REL-TRUST", "", "", ""],
    ["", "", "", "", "", "", ""],
    ["han@example.org", "Globex", "Engineer", "DEL-QUALITY", "2", "", ""],
]


def write_long(path: Path, rows: Sequence[Sequence[str]], delimiter: str = ",", bom: bool = False) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return path


def test_csv_long_reads_and_maps_answers(tmp_path: Path) -> None:
    path = write_long(tmp_path / "long.csv", LONG_ROWS)
    source = spec(path, connector="csv_long", key="long")
    ctx = make_ctx()
    tables, found = read_answers(CSV_LONG, source, ctx)
    table = tables["csv_long_answers"]
    assert ctx.report.rows_read == 4
    assert table.num_rows == 4
    assert table.column("source_row").to_pylist() == [2, 3, 4, 6]
    assert "leia@" not in all_text(tables)
    assert "han@" not in all_text(tables)
    assert ctx.report.pii_columns_removed == ["respondent_id"]
    assert table.column("respondent_key").to_pylist()[0] == ctx.pseudonymise("leia@example.org")
    assert table.column("value_code").to_pylist() == ["REL-TRUST", "REL-COMM", "REL-TRUST", "DEL-QUALITY"]
    assert found[0] == {
        "source_key": "long",
        "source_file": "long.csv",
        "source_row": 2,
        "respondent_key": ctx.pseudonymise("leia@example.org"),
        "organisation": "Acme",
        "role": "Director",
        "value_code": "REL-TRUST",
        "source_column": "level",
        "value": "4",
        "comment": "Solid\npartner",
    }
    assert [a["value"] for a in found] == ["4", "Agree", None, "2"]
    assert [a["comment"] for a in found][1:] == [None, None, None]


def test_csv_long_lands_out_of_range_levels_for_the_contract_to_quarantine(tmp_path: Path) -> None:
    rows = [
        ["respondent_id", "organisation", "role", "value_code", "level", "favourite_colour"],
        ["u1", "A", "R", "REL-TRUST", " 7 ", "teal"],
    ]
    ctx = make_ctx()
    tables = extract(CSV_LONG, spec(write_long(tmp_path / "long.csv", rows), connector="csv_long"), ctx)
    assert tables["csv_long_answers"].column("level").to_pylist() == ["7"]
    assert ctx.report.columns_not_landed == ["favourite_colour"]  # an unknown column stays behind
    assert "teal" not in all_text(tables)


def test_a_delivery_with_no_rows(tmp_path: Path) -> None:
    header_only = write_long(tmp_path / "long.csv", LONG_ROWS[:1])
    tables, found = read_answers(CSV_LONG, spec(header_only, connector="csv_long"), make_ctx())
    assert tables["csv_long_answers"].num_rows == 0
    assert found == []
    path = write_export(tmp_path / "only-preview.csv", SYNTHETIC_HEADER, SYNTHETIC_ROWS[1:2])
    ctx = make_ctx()
    tables, found = read_answers(QUALTRICS, spec(path, questions={"QID16": "REL-TRUST"}), ctx)
    assert ctx.report.dropped == {"preview": 1}
    assert tables["qualtrics_responses"].num_rows == 0
    assert tables["qualtrics_columns"].num_rows == len(SYNTHETIC_HEADER)
    assert found == []


@pytest.mark.parametrize(
    ("delimiter", "bom", "options"),
    [
        (";", True, {}),
        ("\t", False, {}),
        (";", False, {"delimiter": "semicolon"}),
        ("\t", True, {"delimiter": "tab"}),
    ],
)
def test_csv_long_delimiters_and_bom(
    tmp_path: Path, delimiter: str, bom: bool, options: dict[str, str]
) -> None:
    rows = [
        ["respondent_id", "organisation", "role", "value_code", "level", "response_id"],
        ["u1", "Acme, Inc.", "Director", "REL-TRUST", "3", "resp-1"],
    ]
    path = write_long(tmp_path / "long.csv", rows, delimiter, bom)
    ctx = make_ctx()
    table = extract(CSV_LONG, spec(path, connector="csv_long", **options), ctx)["csv_long_answers"]
    assert table.to_pylist()[0] | {"respondent_key": "…"} == {
        "source_file": "long.csv",
        "source_row": 2,
        "response_id": "resp-1",
        "respondent_key": "…",
        "organisation": "Acme, Inc.",
        "role": "Director",
        "value_code": "REL-TRUST",
        "level": "3",
        "comment": None,
        "submitted_at": None,
    }


def test_csv_long_bad_delimiter_option_is_a_config_error(tmp_path: Path) -> None:
    path = write_long(tmp_path / "long.csv", LONG_ROWS)
    with pytest.raises(ConfigError, match=r"source 'survey': options\.delimiter: must be one character"):
        CSV_LONG.read(spec(path, connector="csv_long", delimiter="||"), make_ctx())


@pytest.mark.parametrize(
    ("rows", "row", "column", "message"),
    [
        (
            [["respondent_id", "organisation", "value_code", "level"], ["u1", "Acme", "REL-TRUST", "3"]],
            1,
            "role",
            "required column 'role' is missing",
        ),
        (
            [
                ["respondent_id", "organisation", "role", "Value_Code", "level"],
                ["u1", "A", "R", "REL-TRUST", "3"],
                ["u2", "A", "R", " ", "3"],
            ],
            3,
            "Value_Code",
            "value_code is blank",
        ),
        (
            [
                ["respondent_id", "organisation", "role", "value_code", "level"],
                ["u1", "A", "R", "REL-TRUST", "3"],
                ["U1", "A", "R", "rel-trust", "4"],
            ],
            3,
            "value_code",
            "already answered REL-TRUST in row 2",
        ),
        (
            [
                ["respondent_id", "organisation", "role", "value_code", "level"],
                ["", "A", "R", "REL-TRUST", "3"],
            ],
            2,
            "respondent_id",
            "respondent_id is blank",
        ),
    ],
)
def test_csv_long_errors(tmp_path: Path, rows: list[list[str]], row: int, column: str, message: str) -> None:
    path = write_long(tmp_path / "long.csv", rows)
    error = first_batch_error(CSV_LONG, spec(path, connector="csv_long"), make_ctx())
    assert (error.file, error.row, error.column) == ("long.csv", row, column)
    assert message in error.message


# --------------------------------------------------------------------------------------------------
# Through the pipeline: landed in the lake, modelled into evaluations
# --------------------------------------------------------------------------------------------------

LONG_CONFIG = """
relationship: {key: long-test, name: Long test}
library: {file: library.csv, key: long-test, name: Long test library, version: "1"}
parties:
  - {key: acme, name: Acme, role: client, match: ["Acme*"]}
  - {key: globex, name: Globex, role: supplier, match: ["Globex"]}
perspectives: [{key: senior, name: Senior leadership}]
equivalences: [{role: "*Director", perspective: senior}]
levels: {"Agree": 4}
cycles:
  - number: 1
    mode: resolve
    sources: [{key: long, connector: csv_long, path: long.csv}]
"""


def test_csv_long_through_the_pipeline_into_the_lake(tmp_path: Path) -> None:
    folder = tmp_path / "long"
    folder.mkdir()
    shutil.copy(REPO / "examples" / "demo" / "library.csv", folder / "library.csv")
    (folder / "relationship.yaml").write_text(LONG_CONFIG, encoding="utf-8")
    rows = [
        ["respondent_id", "organisation", "role", "value_code", "level", "comment"],
        ["leia@example.org", "Acme Ltd", "Director", "rel-trust", "4", "Call +44 7700 900123"],
        ["leia@example.org", "Acme Ltd", "Director", "REL-OPENNESS", "Agree", ""],
        ["han@example.org", "Globex", "Engineer", "REL-TRUST", "", ""],
        ["lando@example.org", "Initech", "Director", "REL-TRUST", "5", ""],
        ["han@example.org", "Globex", "Engineer", "NOT-A-CODE", "2", ""],
    ]
    write_long(folder / "long.csv", rows)
    settings = Settings.from_env({"VM_HOME": str(tmp_path / "home"), "VM_SECRET": "s"})
    config = load_config(folder / "relationship.yaml")

    run = run_relationship(config, LocalSteps(settings))

    (source,) = run.cycles[0].sources
    assert (source.status, source.rows_read, source.evaluations, source.quarantined) == ("loaded", 5, 3, 2)
    assert source.reasons == {
        "organisation matches no party (acme, globex)": 1,
        "Value Code is not in this cycle's library version": 1,
    }
    with pipeline.open_store(settings)() as session:
        cycle_id = session.scalars(select(Cycle.id).where(Cycle.number == 1)).one()
        files = committed_files(session, cycle_id)
        landed = committed_files(session, cycle_id, "landed_csv_long_answers")
    (evaluations_file,) = files
    assert evaluations_file.startswith(Partition("long-test", 1, "long").folder(EVALUATIONS) + "/")
    assert len(landed) == 1
    evaluations = settings.lake().dataset([evaluations_file]).to_table().to_pylist()
    key = partial(pseudonym_for, settings, "long-test")
    assert [
        (e["respondent_key"], e["party"], e["perspective"], e["value_code"], e["level"], e["blank"], e["comment"],
         e["source_row"], e["source_column"])
        for e in evaluations
    ] == [
        (key("leia@example.org"), "acme", "senior", "REL-TRUST", 4, False, "Call [phone]", 2, "level"),
        (key("leia@example.org"), "acme", "senior", "REL-OPENNESS", 4, False, None, 3, "level"),
        (key("han@example.org"), "globex", None, "REL-TRUST", None, True, None, 4, "level"),
    ]  # fmt: skip
    assert settings.lake().dataset(landed).count_rows() == 5  # every row lands; modelling sets some aside


# ---------------------------------------------------------------- the demo's exports

DEMO = REPO / "examples" / "demo"


@pytest.mark.parametrize("cycle", [1, 2, 3])
def test_qualtrics_reads_every_demo_export(cycle: int) -> None:
    """Labels (cycles 1 and 3) and numeric recodes (cycle 2) both come through, previews dropped."""
    config = load_config(DEMO / "relationship.yaml")
    source = config.cycle(cycle).sources[0]
    with source.path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    tags, data = rows[0], rows[3:]
    previews = sum(1 for r in data if r[tags.index("DistributionChannel")] == "preview")
    ctx = make_ctx(list(source.options["questions"].values()), cycle=cycle)

    tables, found = read_answers(QUALTRICS, source, ctx)

    assert ctx.report.rows_read == len(data)
    assert ctx.report.dropped == {"preview": previews}
    assert tables["qualtrics_responses"].num_rows == len(data) - previews
    assert len(found) == 16 * (len(data) - previews)
    values = {a["value"] for a in found} - {None}
    if cycle == 2:
        assert values <= {"1", "2", "3", "4", "5", "6"}
    else:
        assert "2 - Some way to go" in values
        assert "Not applicable" in values
    commented = [a for a in found if a["comment"] is not None]
    assert {a["value_code"] for a in commented} == {"REL-TRUST", "REL-OPENNESS", "DEL-KPI", "VAL-COMMERCIAL"}
    assert any("\n" in a["comment"] for a in commented)  # multi-line comments survive
    assert "@" not in all_text(tables)
