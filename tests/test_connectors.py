"""Built-in connectors: qualtrics_csv (real Qualtrics exports) and csv_long.

Everything but the two pipeline tests runs the dlt resources as plain iterators (no database).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from connectors.csv_long import CsvLongConnector
from connectors.qualtrics_csv import QualtricsCsvConnector
from vm_core.connector import ANSWER_COLUMNS, Connector, ConnectorContext, SourceSpec
from vm_core.errors import ConfigError, SourceError
from vm_core.plugins import collect_connectors, make_plugin_manager

QUALTRICS = QualtricsCsvConnector()
CSV_LONG = CsvLongConnector()
VALUE_CODES = ["REL-TRUST", "REL-COMM", "DEL-QUALITY"]
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def make_ctx(value_codes: Sequence[str] = VALUE_CODES, cycle: int = 1) -> ConnectorContext:
    return ConnectorContext(relationship_key="r", cycle=cycle, secret=b"k", value_codes=list(value_codes))


def spec(path: Path, connector: str = "qualtrics_csv", key: str = "survey", **options: Any) -> SourceSpec:
    return SourceSpec(key=key, connector=connector, path=path, options=options)


def extract(connector: Connector, source: SourceSpec, ctx: ConnectorContext) -> dict[str, pa.Table]:
    """Run each resource as an iterator; concatenate what it yields per table."""
    tables: dict[str, pa.Table] = {}
    for resource in connector.resources(source, ctx):
        items = list(resource)
        assert all(isinstance(item, pa.Table) for item in items)
        tables[resource.name] = pa.concat_tables(items)
    return tables


def landed(tables: Mapping[str, pa.Table]) -> dict[str, pd.DataFrame]:
    """Frames as answers() gets them back from landing, including a column dlt adds."""
    frames = {}
    for name, table in tables.items():
        frame = table.to_pandas()
        frame["_dlt_load_id"] = "1"
        frames[name] = frame.sample(frac=1, random_state=1)  # landing gives no row order
    return frames


def source_error(excinfo: pytest.ExceptionInfo[BaseException]) -> SourceError:
    """The SourceError behind dlt's extraction wrapper (or the error itself)."""
    exc: BaseException | None = excinfo.value
    while exc is not None and not isinstance(exc, SourceError):
        exc = exc.__cause__ or exc.__context__
    assert exc is not None, f"no SourceError behind {excinfo.value!r}"
    return exc


def first_item_error(connector: Connector, source: SourceSpec, ctx: ConnectorContext) -> SourceError:
    """The first item each resource yields must already fail: nothing is yielded before the error."""
    resource = connector.resources(source, ctx)[0]
    iterator = iter(resource)
    with pytest.raises(Exception) as excinfo:  # noqa: PT011 - dlt wraps the SourceError
        next(iterator)
    return source_error(excinfo)


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
    row = next(r for r in table.to_pylist() if r["response_id"] == response_id)
    return {**row, "cells": json.loads(row["cells"])}


# --------------------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------------------


def test_both_connectors_register_as_plugins() -> None:
    found = collect_connectors(make_plugin_manager(load_entry_points=False))
    assert {"qualtrics_csv", "csv_long"} <= set(found)
    for name in ("qualtrics_csv", "csv_long"):
        assert isinstance(found[name], Connector)
        assert found[name].description
    assert QUALTRICS.landing_tables == ("qualtrics_responses", "qualtrics_columns")
    assert CSV_LONG.landing_tables == ("csv_long_answers",)


# --------------------------------------------------------------------------------------------------
# qualtrics_csv: the real sample exports
# --------------------------------------------------------------------------------------------------

# file: (data rows read, preview rows, test rows, responses landed, columns)
SAMPLE_COUNTS = {
    "api_export_beskar_armor_full.csv": (44, 2, 15, 27, 24),
    "api_export_beskar_armor_subset.csv": (15, 0, 0, 15, 6),
    "api_export_cats_salami_employee_survey.csv": (45, 1, 0, 44, 34),
    "qualtrics_sample_german_labels.csv": (1, 0, 0, 1, 20),
    "qualtrics_sample_legacy_v1_format.csv": (1, 0, 0, 1, 15),  # + the trailing comma's empty column
}


def test_every_sample_csv_is_covered(samples: Path) -> None:
    assert {p.name for p in (samples / "qualtrics").glob("*.csv")} == set(SAMPLE_COUNTS)


@pytest.mark.parametrize(("name", "counts"), SAMPLE_COUNTS.items())
def test_sample_exports_read_with_exact_counts(samples: Path, name: str, counts: tuple[int, ...]) -> None:
    rows_read, previews, tests, responses, columns = counts
    ctx = make_ctx()
    tables = extract(QUALTRICS, spec(samples / "qualtrics" / name), ctx)
    assert ctx.report.rows_read == rows_read
    assert ctx.report.dropped["preview"] == previews
    assert ctx.report.dropped["test"] == tests
    assert tables["qualtrics_responses"].num_rows == responses == rows_read - previews - tests
    assert tables["qualtrics_columns"].num_rows == columns
    assert tables["qualtrics_responses"].schema.field("cycle").type == pa.int64()
    assert tables["qualtrics_responses"].schema.field("source_row").type == pa.int64()
    assert tables["qualtrics_responses"].schema.field("cells").type == pa.string()
    assert set(tables["qualtrics_responses"].column("source_file").to_pylist()) == {name}
    positions = tables["qualtrics_columns"].column("position").to_pylist()
    keys = tables["qualtrics_columns"].column("column_key").to_pylist()
    assert positions == list(range(1, columns + 1))
    assert len(set(keys)) == len(keys)


def test_beskar_full_values_and_row_numbers(samples: Path) -> None:
    kept = ["QID16", "QID18", "QID19_TEXT", "QID22_TEXT"]  # only kept (or mapped) columns land
    path = samples / "qualtrics" / "api_export_beskar_armor_full.csv"
    tables = extract(QUALTRICS, spec(path, keep_columns=kept), make_ctx())
    responses = tables["qualtrics_responses"]
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
    assert "QID19_TEXT" not in cells(responses, "R_3Qyt9WF7ibwwVsl")["cells"]  # blanks omitted
    columns = tables["qualtrics_columns"].to_pylist()
    assert columns[8] == {
        "cycle": 1,
        "source_key": "survey",
        "position": 9,
        "column_key": "_recordId",
        "export_tag": "ResponseId",
        "label": "Response ID",
        "import_id": "_recordId",
        "landed": True,
    }
    assert columns[3]["column_key"] == "ipAddress"  # personal-data columns: header only
    assert not columns[3]["landed"]


def test_cats_salami_breakout_columns_stay_distinct(samples: Path) -> None:
    path = samples / "qualtrics" / "api_export_cats_salami_employee_survey.csv"
    tables = extract(QUALTRICS, spec(path, keep_columns=["QID36#1", "QID36#2", "QID18", "QID30"]), make_ctx())
    columns = {c["column_key"]: c for c in tables["qualtrics_columns"].to_pylist()}
    for choice, tag in (("1", "Q35_1"), ("2", "Q35_2"), ("7", "Q35_7")):
        assert columns[f"QID36#{choice}"]["export_tag"] == tag
        assert columns[f"QID36#{choice}"]["import_id"] == "QID36"
    assert columns["QID18_NPS_GROUP"]["export_tag"] == "Q3.13_NPS_GROUP"
    first = cells(tables["qualtrics_responses"], "R_1KvuANnY3nkRtvE")
    assert first["source_row"] == 5  # row 4 is a Survey Preview
    assert first["cells"]["QID36#1"] == "Ropes Course"
    assert "QID36#2" not in first["cells"]
    assert first["cells"]["QID18"] == "10"
    assert first["cells"]["QID30"] == "Definitely yes"


def test_german_labels_are_kept_but_not_used_as_keys(samples: Path) -> None:
    path = samples / "qualtrics" / "qualtrics_sample_german_labels.csv"
    tables = extract(QUALTRICS, spec(path, keep_columns=["QID2_TEXT"]), make_ctx())
    columns = tables["qualtrics_columns"].to_pylist()
    assert (columns[0]["column_key"], columns[0]["label"]) == ("startDate", "Anfangsdatum")
    row = cells(tables["qualtrics_responses"], "R_2YPOQ602ER1jkf1")
    assert (row["source_row"], row["status"], row["finished"]) == (4, "0", "1")  # codes, not labels
    assert row["cells"]["QID2_TEXT"] == "Hello World!"


def test_legacy_export(samples: Path) -> None:
    ctx = make_ctx()
    path = samples / "qualtrics" / "qualtrics_sample_legacy_v1_format.csv"
    tables = extract(QUALTRICS, spec(path, keep_columns=["V2", "V8", "V9", "Q1", "Q2"]), ctx)
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
    text = all_text(extract(QUALTRICS, spec(path), ctx))
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
        ],
        ["2024-01-02 12:00:00", "203.0.113.11", response_id + "c", "", "", "", "", "", "", "Agree"],
    ]
    return write_export(path, header, rows)


def test_personal_columns_never_land_and_respondent_is_pseudonymised(tmp_path: Path) -> None:
    ctx = make_ctx()
    path = personal_export(tmp_path / "cycle1.csv", "Leia@Alderaan.example", "R_1")
    tables = extract(QUALTRICS, spec(path), ctx)
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
        spec(personal_export(tmp_path / "cycle2.csv", "LEIA@alderaan.example ", "R_9")),
        make_ctx(cycle=2),
    )
    assert other["qualtrics_responses"].column("respondent_key")[0].as_py() == keys[0]


def test_keep_columns_and_respondent_id_option(tmp_path: Path) -> None:
    path = personal_export(tmp_path / "export.csv", "leia@alderaan.example", "R_1")
    ctx = make_ctx()
    tables = extract(
        QUALTRICS, spec(path, keep_columns=["IPAddress"], respondent_id="ExternalReference"), ctx
    )
    first = cells(tables["qualtrics_responses"], "R_1")
    assert first["cells"]["ipAddress"] == "203.0.113.9"
    assert first["respondent_key"] == ctx.pseudonymise("EXT-4711")
    assert cells(tables["qualtrics_responses"], "R_1c")["respondent_key"] == ctx.pseudonymise("R_1c")
    assert "IPAddress" not in ctx.report.pii_columns_removed
    assert "EXT-4711" not in all_text(tables)


# --------------------------------------------------------------------------------------------------
# qualtrics_csv: answers()
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
    tables = extract(QUALTRICS, source, ctx)
    assert ctx.report.dropped["preview"] == 1
    frame = QUALTRICS.answers(landed(tables), source, ctx)
    assert tuple(frame.columns) == ANSWER_COLUMNS
    assert frame["source_row"].dtype == "int64"
    key = ctx.pseudonymise
    expected = pd.DataFrame(
        [
            [
                "survey",
                "synthetic.csv",
                4,
                "Q1",
                "R_a",
                key("a@example.org"),
                "Acme",
                "Director",
                "REL-TRUST",
                "Agree",
                "Line one\nline two",
            ],
            [
                "survey",
                "synthetic.csv",
                4,
                "Q2",
                "R_a",
                key("a@example.org"),
                "Acme",
                "Director",
                "REL-COMM",
                "4",
                None,
            ],
            [
                "survey",
                "synthetic.csv",
                6,
                "Q1",
                "R_b",
                key("b@example.org"),
                "Globex",
                "Engineer",
                "REL-TRUST",
                None,
                None,
            ],
            [
                "survey",
                "synthetic.csv",
                6,
                "Q2",
                "R_b",
                key("b@example.org"),
                "Globex",
                "Engineer",
                "REL-COMM",
                "Strongly agree",
                None,
            ],
            [
                "survey",
                "synthetic.csv",
                7,
                "Q1",
                "R_c",
                key("R_c"),
                None,
                None,
                "REL-TRUST",
                "Disagree",
                "Too slow 🐢",
            ],
            ["survey", "synthetic.csv", 7, "Q2", "R_c", key("R_c"), None, None, "REL-COMM", None, None],
        ],
        columns=list(ANSWER_COLUMNS),
        dtype=object,
    ).astype({"source_row": "int64"})
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), expected)


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
    source = spec(path)
    frame = QUALTRICS.answers(landed(extract(QUALTRICS, source, ctx)), source, ctx)
    assert frame[["response_id", "value_code", "source_column", "value"]].values.tolist() == [
        ["R_1", "REL-TRUST", "rel-trust", "3"],
        ["R_1", "REL-COMM", "Comm", "Yes"],
        ["R_2", "REL-TRUST", "rel-trust", None],
        ["R_2", "REL-COMM", "Comm", "No"],
    ]
    assert frame["organisation"].isna().all()
    assert frame["comment"].isna().all()


def test_answers_by_breakout_column_key_and_legacy_tag(samples: Path, tmp_path: Path) -> None:
    path = write_export(tmp_path / "synthetic.csv", SYNTHETIC_HEADER, SYNTHETIC_ROWS)
    source = spec(path, questions={"QID36#2": "DEL-QUALITY"})
    ctx = make_ctx()
    frame = QUALTRICS.answers(landed(extract(QUALTRICS, source, ctx)), source, ctx)
    assert frame["value"].tolist() == [None, "B", None]
    assert set(frame["source_column"]) == {"Q3_2"}
    legacy = spec(
        samples / "qualtrics" / "qualtrics_sample_legacy_v1_format.csv",
        questions={"Q1": "REL-TRUST"},
        comments={"Q2": "REL-TRUST"},
    )
    frame = QUALTRICS.answers(landed(extract(QUALTRICS, legacy, ctx)), legacy, ctx)
    assert frame[["source_row", "source_column", "value", "comment"]].values.tolist() == [
        [3, "Q1", "2", "Hello World!"]
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"questions": {"QID36": "REL-TRUST"}}, "matches 2 columns"),
        ({"questions": {"Q9": "REL-TRUST"}}, "no column 'Q9'"),
        ({"questions": {"Q1": "REL-TRUST"}, "organisation_column": "RecipientEmail"}, "personal data"),
    ],
)
def test_bad_column_options_fail_before_landing(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    path = write_export(tmp_path / "synthetic.csv", SYNTHETIC_HEADER, SYNTHETIC_ROWS)
    error = first_item_error(QUALTRICS, spec(path, **options), make_ctx())
    assert message in error.message
    assert (error.file, error.row) == ("synthetic.csv", 1)


def test_unknown_value_code_in_options_is_a_config_error(tmp_path: Path) -> None:
    path = write_export(tmp_path / "synthetic.csv", SYNTHETIC_HEADER, SYNTHETIC_ROWS)
    source = spec(path, questions={"Q1": "NOPE"})
    with pytest.raises(ConfigError, match="'NOPE' is not a Value Code"):
        QUALTRICS.answers(
            {"qualtrics_responses": pd.DataFrame(), "qualtrics_columns": pd.DataFrame()}, source, make_ctx()
        )


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
    error = first_item_error(QUALTRICS, spec(path), make_ctx())
    assert error.file == "broken export.csv"
    assert error.row == row
    assert message in error.message
    assert str(error).startswith(f"broken export.csv, row {row}")
    assert "\n" not in str(error)


def test_duplicate_and_blank_header_names_are_tolerated(tmp_path: Path) -> None:
    header = [
        ("ResponseId", "Response ID", "_recordId"),
        ("Q1", "A", "QID1"),
        ("Q1", "A again", "QID1"),
        ("", "", ""),
        ("Q1", "tag only", ""),
    ]
    path = write_export(tmp_path / "dupes.csv", header, [["R_1", "a", "b", "c", "d"]])
    kept = ["QID1", "QID1~2", "_col4", "Q1"]  # every column stays addressable by its key
    tables = extract(QUALTRICS, spec(path, keep_columns=kept), make_ctx())
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
    tables = extract(CSV_LONG, source, ctx)
    table = tables["csv_long_answers"]
    assert ctx.report.rows_read == 4
    assert table.num_rows == 4
    assert table.column("source_row").to_pylist() == [2, 3, 4, 6]
    assert "leia@" not in all_text(tables)
    assert "han@" not in all_text(tables)
    assert table.column("respondent_key").to_pylist()[0] == ctx.pseudonymise("leia@example.org")
    assert table.column("value_code").to_pylist() == ["REL-TRUST", "REL-COMM", "REL-TRUST", "DEL-QUALITY"]
    frame = CSV_LONG.answers(landed(tables), source, ctx)
    assert tuple(frame.columns) == ANSWER_COLUMNS
    assert frame.iloc[0].to_dict() == {
        "source_key": "long",
        "source_file": "long.csv",
        "source_row": 2,
        "source_column": "level",
        "response_id": ctx.pseudonymise("leia@example.org"),
        "respondent_key": ctx.pseudonymise("leia@example.org"),
        "organisation": "Acme",
        "role": "Director",
        "value_code": "REL-TRUST",
        "value": "4",
        "comment": "Solid\npartner",
    }
    assert frame["value"].tolist() == ["4", "Agree", None, "2"]
    assert frame["comment"].tolist()[1:] == [None, None, None]


def test_csv_long_lands_out_of_range_levels_for_the_contract_to_quarantine(tmp_path: Path) -> None:
    rows = [
        ["respondent_id", "organisation", "role", "value_code", "level"],
        ["u1", "A", "R", "REL-TRUST", " 7 "],
    ]
    source = spec(write_long(tmp_path / "long.csv", rows), connector="csv_long")
    tables = extract(CSV_LONG, source, make_ctx())
    assert tables["csv_long_answers"].column("level").to_pylist() == ["7"]


def test_answers_when_nothing_landed(tmp_path: Path) -> None:
    nothing = pd.DataFrame()  # what the landing returns for a table that does not exist yet
    source = spec(tmp_path / "long.csv", connector="csv_long")
    frame = CSV_LONG.answers({"csv_long_answers": nothing}, source, make_ctx())
    assert tuple(frame.columns) == ANSWER_COLUMNS
    assert frame.empty
    with pytest.raises(SourceError, match="no landed columns"):
        QUALTRICS.answers(
            {"qualtrics_responses": nothing, "qualtrics_columns": nothing},
            spec(tmp_path / "x.csv"),
            make_ctx(),
        )
    path = write_export(tmp_path / "only-preview.csv", SYNTHETIC_HEADER, SYNTHETIC_ROWS[1:2])
    source = spec(path, questions={"QID16": "REL-TRUST"})
    tables = extract(QUALTRICS, source, make_ctx())
    assert tables["qualtrics_responses"].num_rows == 0
    frame = QUALTRICS.answers(landed(tables), source, make_ctx())
    assert tuple(frame.columns) == ANSWER_COLUMNS
    assert frame.empty


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
        "cycle": 1,
        "source_key": "survey",
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
    error = first_item_error(CSV_LONG, spec(path, connector="csv_long"), make_ctx())
    assert (error.file, error.row, error.column) == ("long.csv", row, column)
    assert message in error.message


# --------------------------------------------------------------------------------------------------
# Real pipelines: merge lands nothing twice
# --------------------------------------------------------------------------------------------------


def run_twice(tmp_path: Path, connector: Connector, source: SourceSpec) -> dict[str, pd.DataFrame]:
    database = tmp_path / "landing.duckdb"
    pipeline = dlt.pipeline(
        pipeline_name=f"test_{connector.name}",
        destination=dlt.destinations.duckdb(str(database)),
        dataset_name="raw",
        pipelines_dir=str(tmp_path / "pipelines"),
    )
    counts = []
    for _ in range(2):
        pipeline.run(connector.resources(source, make_ctx()))
        with duckdb.connect(str(database), read_only=True) as conn:
            counts.append(
                {
                    t: conn.execute(f"select count(*) from raw.{t}").fetchone()[0]  # type: ignore[index]
                    for t in connector.landing_tables
                }
            )
    assert counts[0] == counts[1]
    with duckdb.connect(str(database), read_only=True) as conn:
        return {
            t: conn.execute(f"select * from raw.{t} where cycle = 1 and source_key = ?", [source.key]).df()
            for t in connector.landing_tables
        }


def test_qualtrics_pipeline_lands_once_and_answers_from_landing(samples: Path, tmp_path: Path) -> None:
    source = spec(
        samples / "qualtrics" / "api_export_beskar_armor_full.csv",
        questions={"QID16": "REL-TRUST"},
        comments={"QID22_TEXT": "REL-TRUST"},
    )
    frames = run_twice(tmp_path, QUALTRICS, source)
    assert len(frames["qualtrics_responses"]) == 27
    assert len(frames["qualtrics_columns"]) == 24
    assert (
        "ipAddress" not in frames["qualtrics_responses"].to_json()
    )  # only in qualtrics_columns' header rows
    answers = QUALTRICS.answers(frames, source, make_ctx())
    assert len(answers) == 27
    assert answers["source_row"].is_monotonic_increasing
    row = answers.set_index("response_id").loc["R_tGQtOR6lbv4O39D"]
    assert (row["value"], row["comment"], row["source_column"]) == (
        "Neither satisfied nor dissatisfied",
        "🤷🏻‍♀️",
        "Q16",
    )


def test_csv_long_pipeline_lands_once(tmp_path: Path) -> None:
    source = spec(write_long(tmp_path / "long.csv", LONG_ROWS), connector="csv_long", key="long")
    frames = run_twice(tmp_path, CSV_LONG, source)
    assert len(frames["csv_long_answers"]) == 4
    answers = CSV_LONG.answers(frames, source, make_ctx())
    assert answers["value"].tolist() == ["4", "Agree", None, "2"]


# ---------------------------------------------------------------- the demo's exports

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"


@pytest.mark.parametrize("cycle", [1, 2, 3])
def test_qualtrics_reads_every_demo_export(cycle: int) -> None:
    """Labels (cycles 1 and 3) and numeric recodes (cycle 2) both come through, previews dropped."""
    from vm_core.config import load_config

    config = load_config(DEMO / "relationship.yaml")
    source = config.cycle(cycle).sources[0]
    with source.path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    tags, data = rows[0], rows[3:]
    previews = sum(1 for r in data if r[tags.index("DistributionChannel")] == "preview")
    ctx = make_ctx([c for codes in source.options["questions"].values() for c in [codes]], cycle=cycle)

    tables = extract(QUALTRICS, source, ctx)
    answers = QUALTRICS.answers(landed(tables), source, ctx)

    assert ctx.report.rows_read == len(data)
    assert ctx.report.dropped == {"preview": previews}
    assert tables["qualtrics_responses"].num_rows == len(data) - previews
    assert len(answers) == 16 * (len(data) - previews)
    values = set(answers["value"].dropna())
    if cycle == 2:
        assert values <= {"1", "2", "3", "4", "5", "6"}
    else:
        assert "2 - Some way to go" in values
        assert "Not applicable" in values
    commented = answers.dropna(subset=["comment"])
    assert set(commented["value_code"]) == {"REL-TRUST", "REL-OPENNESS", "DEL-KPI", "VAL-COMMERCIAL"}
    assert any("\n" in c for c in commented["comment"])  # multi-line comments survive
    assert not any("@" in str(v) for v in tables["qualtrics_responses"].to_pandas().to_numpy().ravel())
