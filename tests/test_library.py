"""The Value Code library: parsing, validation, storage, idempotent import, export."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from tests.conftest import Store
from vm_core.errors import SourceError, VmError
from vm_core.store.library import (
    DEFAULT_LEVEL_LABELS,
    EXPORT_COLUMNS,
    LibraryError,
    ParsedLibrary,
    content_fingerprint,
    export_library,
    find_library_version,
    import_library,
    level_texts,
    load_library_version,
    normalise_text,
    parse_library,
)
from vm_core.store.models import (
    LEVEL_COLOURS,
    Library,
    LibraryVersion,
    Section,
    ThingThatMatters,
    ValueCode,
    ValueCodeLevel,
    value_code_thing,
)

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo" / "library.csv"
DEMO_IDENTIFIERS = (
    "GOV-DIRECTION",
    "GOV-DECISIONS",
    "GOV-SPONSOR",
    "GOV-RISK",
    "REL-TRUST",
    "REL-OPENNESS",
    "REL-ISSUES",
    "REL-CHANGE",
    "DEL-SERVICE",
    "DEL-KPI",
    "DEL-IMPROVE",
    "DEL-RESOURCING",
    "VAL-OUTCOMES",
    "VAL-COMMERCIAL",
    "VAL-INNOVATION",
    "VAL-SOCIAL",
)
DEMO_SECTIONS = (
    "Leadership & Governance",
    "Relationship & Behaviours",
    "Delivery & Performance",
    "Value & Innovation",
)
HEADER = [
    "Section Name",
    "Value Code Identifier",
    "Description",
    *(f"Evaluation Statement {n}" for n in range(1, 6)),
    "Help Text",
    "Things That Matter",
]


def code_row(identifier: str, section: str = "Relationship", **overrides: str) -> list[str]:
    """A valid data row for HEADER; ``overrides`` by header name (spaces as underscores)."""
    values = {
        "Section Name": section,
        "Value Code Identifier": identifier,
        "Description": f"The extent to which {identifier} is done well.",
        **{f"Evaluation Statement {n}": f"{identifier} statement at level {n}." for n in range(1, 6)},
        "Help Text": f"Help for {identifier}.",
        "Things That Matter": "Trust; Collaboration",
    }
    for key, value in overrides.items():
        values[key.replace("_", " ")] = value
    return [values[column] for column in HEADER]


def write_csv(path: Path, rows: Sequence[Sequence[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def good_rows() -> list[list[str]]:
    return [HEADER, code_row("REL-TRUST"), code_row("REL-OPEN"), code_row("DEL-KPI", section="Delivery")]


def count(store: Store, model: type) -> int:
    with store.sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


# ---------------------------------------------------------------- the demo library


def test_demo_library_parses_with_sixteen_codes_in_four_sections() -> None:
    parsed = parse_library(DEMO)
    assert parsed.identifiers == DEMO_IDENTIFIERS
    assert parsed.sections == DEMO_SECTIONS
    assert [code.section for code in parsed.value_codes] == [s for s in DEMO_SECTIONS for _ in range(4)]
    for code in parsed.value_codes:
        assert code.description.startswith("The extent to which "), code.identifier
        assert code.help_text
        assert len({normalise_text(s) for s in code.statements}) == 5
        assert code.labels == tuple(DEFAULT_LEVEL_LABELS[n] for n in range(1, 6))
        assert 1 <= len(code.things) <= 2


@pytest.mark.store
def test_import_demo_library_stores_sections_codes_levels_and_things(store: Store) -> None:
    parsed = parse_library(DEMO)
    with store.sessions() as s, s.begin():
        version = import_library(
            s, parsed, key="demo", name="Northwind–Contoso library", version="1.0", source_name="library.csv"
        )
        version_id = version.id

    assert count(store, Library) == 1
    assert count(store, LibraryVersion) == 1
    assert count(store, Section) == 4
    assert count(store, ValueCode) == 16
    assert count(store, ValueCodeLevel) == 80
    with store.sessions() as s:
        stored = s.get(LibraryVersion, version_id)
        assert stored is not None
        assert (stored.source_name, stored.version) == ("library.csv", "1.0")
        assert s.scalars(select(Section.name).order_by(Section.position)).all() == list(DEMO_SECTIONS)
        assert tuple(s.scalars(select(ValueCode.identifier).order_by(ValueCode.position))) == DEMO_IDENTIFIERS
        levels = s.execute(
            select(
                ValueCode.identifier,
                ValueCodeLevel.level,
                ValueCodeLevel.label,
                ValueCodeLevel.statement,
                ValueCodeLevel.colour,
            ).join(ValueCode, ValueCode.id == ValueCodeLevel.value_code_id)
        ).all()
        by_code = {code.identifier: code for code in parsed.value_codes}
        for identifier, level, label, statement, colour in levels:
            assert colour == LEVEL_COLOURS[level]
            assert label == DEFAULT_LEVEL_LABELS[level]
            assert statement == by_code[identifier].statements[level - 1]
        things = {name for code in parsed.value_codes for name in code.things}
        assert set(s.scalars(select(ThingThatMatters.name))) == things
        links = s.scalar(select(func.count()).select_from(value_code_thing))
        assert links == sum(len(code.things) for code in parsed.value_codes)
        assert find_library_version(s, "demo", "1.0") is not None
        assert find_library_version(s, "demo", "2.0") is None
        assert find_library_version(s, "other", "1.0") is None
        assert content_fingerprint(load_library_version(s, version_id)) == content_fingerprint(parsed)


def test_xlsx_library_reads_the_same_as_csv(tmp_path: Path) -> None:
    with DEMO.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Value Codes"
    sheet.append([f"  {header.upper()} " for header in rows[0]])  # headers: any case, stray spaces
    for row in rows[1:9]:
        sheet.append(row)
    sheet.append([])  # blank rows are skipped
    for row in rows[9:]:
        sheet.append(row)
    workbook.create_sheet("Notes").append(["only the first sheet is read"])
    path = tmp_path / "library.xlsx"
    workbook.save(path)

    assert parse_library(path) == parse_library(DEMO)


def test_xlsx_numbers_are_read_as_text(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    row: list[object] = list(code_row("x"))
    row[1] = 101  # an identifier typed as a number
    row[3] = 1.0
    sheet.append(row)
    path = tmp_path / "numbers.xlsx"
    workbook.save(path)
    code = parse_library(path).value_codes[0]
    assert code.identifier == "101"
    assert code.statements[0] == "1"


# ---------------------------------------------------------------- bad files


def _without_column(rows: list[list[str]], column: str) -> list[list[str]]:
    position = rows[0].index(column)
    return [row[:position] + row[position + 1 :] for row in rows]


Rows = list[list[str]]
BAD_FILES: dict[str, tuple[Callable[[Rows], Rows], str]] = {
    "missing column": (
        lambda rows: _without_column(rows, "Evaluation Statement 5"),
        "library.csv, row 1, column 'Evaluation Statement 5': missing required column; a library needs "
        "Section Name, Value Code Identifier, Description, Evaluation Statement 1, Evaluation Statement 2, "
        "Evaluation Statement 3, Evaluation Statement 4, Evaluation Statement 5",
    ),
    "empty cell": (
        lambda rows: [*rows[:3], code_row("DEL-KPI", Evaluation_Statement_3=" "), *rows[4:]],
        "library.csv, row 4, column 'Evaluation Statement 3': empty; every Value Code needs five statements",
    ),
    "empty section": (
        lambda rows: [*rows[:2], code_row("REL-OPEN", section=""), *rows[3:]],
        "library.csv, row 3, column 'Section Name': empty; every Value Code belongs to a section",
    ),
    "bad identifier": (
        lambda rows: [*rows[:2], code_row("REL OPEN"), *rows[3:]],
        "library.csv, row 3, column 'Value Code Identifier': 'REL OPEN' is not a valid identifier; use 1–50 "
        "letters, digits, '_', '.' or '-', starting with a letter or digit",
    ),
    "identifier too long": (
        lambda rows: [*rows[:2], code_row("X" * 51), *rows[3:]],
        f"library.csv, row 3, column 'Value Code Identifier': {'X' * 51!r} is not a valid identifier; "
        "use 1–50 letters, digits, '_', '.' or '-', starting with a letter or digit",
    ),
    "duplicate identifier": (
        lambda rows: [*rows, code_row("rel-trust")],
        "library.csv, row 5, column 'Value Code Identifier': duplicate identifier 'rel-trust'; "
        "first used in row 2",
    ),
    "duplicate statement": (
        lambda rows: [
            *rows[:2],
            code_row("REL-OPEN", Evaluation_Statement_4="rel-open STATEMENT  at level 2."),
            *rows[3:],
        ],
        "library.csv, row 3, column 'Evaluation Statement 4': same text as 'Evaluation Statement 2'; "
        "the five statements of a Value Code must differ",
    ),
    "description too long": (
        lambda rows: [*rows[:3], code_row("DEL-KPI", Description="x" * 2001)],
        "library.csv, row 4, column 'Description': too long (2001 characters); the limit is 2000",
    ),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_file_gives_exactly_one_line_naming_row_and_column(kind: str, tmp_path: Path) -> None:
    change, expected = BAD_FILES[kind]
    path = write_csv(tmp_path / "library.csv", change(good_rows()))
    with pytest.raises(LibraryError) as caught:
        parse_library(path)
    assert str(caught.value) == expected
    assert len(caught.value.errors) == 1
    assert isinstance(caught.value, VmError)
    assert isinstance(caught.value.errors[0], SourceError)


def test_header_as_written_is_named_in_errors(tmp_path: Path) -> None:
    rows = good_rows()
    rows[0] = [f" {column.upper()}  " for column in rows[0]]  # matched case-insensitively, trimmed
    rows[2] = code_row("REL-OPEN", Description="")
    with pytest.raises(LibraryError, match=r"row 3, column 'DESCRIPTION': empty"):
        parse_library(write_csv(tmp_path / "library.csv", rows))


def test_all_problems_are_reported_in_row_order(tmp_path: Path) -> None:
    rows = [
        HEADER,
        code_row("A-1", Evaluation_Statement_1=""),
        code_row("bad id!"),
        code_row("A-1", Description=""),
    ]
    with pytest.raises(LibraryError) as caught:
        parse_library(write_csv(tmp_path / "library.csv", rows))
    assert [(e.row, e.column) for e in caught.value.errors] == [
        (2, "Evaluation Statement 1"),
        (3, "Value Code Identifier"),
        (4, "Description"),
        (4, "Value Code Identifier"),
    ]
    assert str(caught.value).count("\n") == 3


def test_row_numbers_count_records_not_lines(tmp_path: Path) -> None:
    rows = good_rows()
    rows[1] = code_row("REL-TRUST", Help_Text="First line\nsecond line\nthird line")
    rows[2] = code_row("REL-OPEN", Evaluation_Statement_2="")
    with pytest.raises(LibraryError) as caught:
        parse_library(write_csv(tmp_path / "library.csv", rows))
    assert [(e.row, e.column) for e in caught.value.errors] == [(3, "Evaluation Statement 2")]


@pytest.mark.store
def test_bad_file_imports_nothing(store: Store, tmp_path: Path) -> None:
    rows = [*good_rows(), code_row("REL-TRUST")]
    path = write_csv(tmp_path / "library.csv", rows)
    with pytest.raises(LibraryError), store.sessions() as s, s.begin():
        import_library(s, parse_library(path), key="demo", name="Demo", version="1", source_name=path.name)
    assert count(store, Library) == 0
    assert count(store, ValueCode) == 0


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match=r"^empty\.csv, row 1: no header row"):
        parse_library(write_csv(tmp_path / "empty.csv", []))
    with pytest.raises(LibraryError, match=r"^header\.csv, row 2: no Value Codes"):
        parse_library(write_csv(tmp_path / "header.csv", [HEADER, [], ["", " "]]))
    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text(";".join(HEADER) + "\n", encoding="utf-8")
    with pytest.raises(LibraryError, match="not comma-separated"):
        parse_library(semicolons)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    with pytest.raises(LibraryError, match=r"^broken\.xlsx: not a readable Excel workbook"):
        parse_library(broken)
    with pytest.raises(LibraryError, match=r"^missing\.csv: cannot read the file"):
        parse_library(tmp_path / "missing.csv")


# ---------------------------------------------------------------- tolerated input


def test_bom_csv_is_read(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bom.csv", good_rows(), encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    parsed = parse_library(path)
    assert parsed.identifiers == ("REL-TRUST", "REL-OPEN", "DEL-KPI")
    assert parse_library(write_csv(tmp_path / "plain.csv", good_rows())) == parsed


def test_cp1252_csv_is_read(tmp_path: Path) -> None:
    rows = good_rows()
    rows[1] = code_row("REL-TRUST", Description="The extent to which the £1.2bn contract’s value – is clear")
    parsed = parse_library(write_csv(tmp_path / "excel.csv", rows, encoding="cp1252"))
    assert parsed.value_codes[0].description == "The extent to which the £1.2bn contract’s value – is clear"


def test_blank_rows_extra_columns_labels_and_names(tmp_path: Path) -> None:
    header = [*HEADER, "Owner", "Level Label 2", "Level Label 5"]
    rows = [
        header,
        [],
        [
            *code_row("A", section="Delivery", Things_That_Matter=" Trust ;; trust;Delivery  focus "),
            "Ann",
            "Getting there",
            "",
        ],
        ["", "", "", "", "", "", "", "", "", "", "", "", ""],
        [*code_row("B", section=" delivery", Help_Text="", Things_That_Matter=""), "Bob", "", "Great"],
    ]
    parsed = parse_library(write_csv(tmp_path / "library.csv", rows))
    a, b = parsed.value_codes
    assert parsed.sections == ("Delivery",)
    assert (a.section, b.section) == ("Delivery", "Delivery")
    assert a.things == ("Trust", "Delivery focus")
    assert b.things == ()
    assert b.help_text is None
    assert a.labels == ("Barely acceptable", "Getting there", "Acceptable", "Good", "What good looks like")
    assert b.labels == ("Barely acceptable", "Some way to go", "Acceptable", "Good", "Great")


def test_label_may_not_repeat_another_levels_text(tmp_path: Path) -> None:
    rows = [[*HEADER, "Level Label 1"], [*code_row("A"), "Good"]]
    with pytest.raises(LibraryError) as caught:
        parse_library(write_csv(tmp_path / "library.csv", rows))
    assert str(caught.value) == (
        "library.csv, row 2, column 'Level Label 4': same text as 'Level Label 1'; "
        "each level's label and statement must differ from the other levels'"
    )


# ---------------------------------------------------------------- export


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_round_trips_exactly(suffix: str, tmp_path: Path) -> None:
    demo = parse_library(DEMO)
    first = demo.value_codes[0]
    tricky = replace(
        first,
        help_text='Two lines,\nwith a "quote" and a comma',
        statements=("=SUM(A1:A2) is not a formula", "0042", *first.statements[2:]),
        labels=("Poor", "Fair", "OK", "Good", "Excellent"),
        things=("Trust",),
    )
    bare = replace(demo.value_codes[1], help_text=None, things=())
    parsed = ParsedLibrary(demo.sections, (tricky, bare, *demo.value_codes[2:]))

    path = tmp_path / f"export{suffix}"
    export_library(parsed, path)
    assert parse_library(path) == parsed
    if suffix == ".csv":
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        with path.open(encoding="utf-8-sig", newline="") as handle:
            assert tuple(next(csv.reader(handle))) == EXPORT_COLUMNS
    else:
        workbook = openpyxl.load_workbook(path)
        assert workbook.worksheets[0]["E2"].data_type == "s"


# ---------------------------------------------------------------- versions are immutable


@pytest.mark.store
def test_reimporting_the_same_version_is_a_no_op(store: Store) -> None:
    parsed = parse_library(DEMO)
    with store.sessions() as s, s.begin():
        first = import_library(s, parsed, key="demo", name="Demo", version="1.0", source_name="library.csv")
        first_id = first.id
    with store.sessions() as s, s.begin():
        again = import_library(
            s, parse_library(DEMO), key="demo", name="Demo", version="1.0", source_name="renamed.csv"
        )
        assert again.id == first_id
        assert again.source_name == "library.csv"
    assert count(store, LibraryVersion) == 1
    assert count(store, ValueCode) == 16
    assert count(store, ThingThatMatters) == len({t for c in parsed.value_codes for t in c.things})


@pytest.mark.store
def test_changed_content_under_the_same_version_is_refused(store: Store) -> None:
    parsed = parse_library(DEMO)
    trust = parsed.value_codes[4]
    changed_code = replace(trust, statements=(*trust.statements[:4], "Changed."))
    changed = replace(parsed, value_codes=(*parsed.value_codes[:4], changed_code, *parsed.value_codes[5:]))
    assert content_fingerprint(changed) != content_fingerprint(parsed)
    with store.sessions() as s, s.begin():
        import_library(s, parsed, key="demo", name="Demo", version="1.0", source_name="library.csv")

    with pytest.raises(LibraryError) as caught, store.sessions() as s, s.begin():
        import_library(s, changed, key="demo", name="Demo", version="1.0", source_name="library-v2.csv")
    assert str(caught.value) == (
        "library-v2.csv: library 'demo' version '1.0' is already stored with different content; "
        "versions are immutable, so import the changed library under a new version"
    )
    with store.sessions() as s:
        stored = load_library_version(s, s.scalars(select(LibraryVersion.id)).one())
        assert stored.value_codes[4].statements[4] == parsed.value_codes[4].statements[4]

    with store.sessions() as s, s.begin():
        second = import_library(s, changed, key="demo", name="Demo", version="1.1", source_name=None)
        assert content_fingerprint(load_library_version(s, second.id)) == content_fingerprint(changed)
    assert count(store, Library) == 1
    assert count(store, LibraryVersion) == 2


@pytest.mark.store
def test_thing_order_within_a_code_is_not_content(store: Store, tmp_path: Path) -> None:
    rows = [
        HEADER,
        code_row("A", Things_That_Matter="Trust; Delivery"),
        code_row("B", Things_That_Matter="Delivery; Trust"),
    ]
    parsed = parse_library(write_csv(tmp_path / "library.csv", rows))
    with store.sessions() as s, s.begin():
        first = import_library(s, parsed, key="k", name="K", version="1", source_name=None)
        first_id = first.id
    with store.sessions() as s, s.begin():
        assert import_library(s, parsed, key="k", name="K", version="1", source_name=None).id == first_id
        stored = load_library_version(s, first_id)
        assert [set(code.things) for code in stored.value_codes] == [{"Trust", "Delivery"}] * 2


def test_fingerprint_is_stable_and_content_sensitive() -> None:
    parsed = parse_library(DEMO)
    assert content_fingerprint(parsed) == content_fingerprint(parse_library(DEMO))
    relabelled = replace(parsed.value_codes[0], labels=("a", "b", "c", "d", "e"))
    assert content_fingerprint(replace(parsed, value_codes=(relabelled, *parsed.value_codes[1:]))) != (
        content_fingerprint(parsed)
    )


@pytest.mark.store
def test_import_refuses_bad_names_and_load_refuses_unknown_versions(store: Store) -> None:
    parsed = parse_library(DEMO)
    with (
        pytest.raises(LibraryError, match=r"^library 'demo': library version is empty$"),
        store.sessions() as s,
        s.begin(),
    ):
        import_library(s, parsed, key="demo", name="Demo", version=" ", source_name=None)
    with (
        pytest.raises(LibraryError, match=r"library key is too long \(101 characters; the limit is 100\)"),
        store.sessions() as s,
        s.begin(),
    ):
        import_library(s, parsed, key="k" * 101, name="Demo", version="1", source_name="x.csv")
    assert count(store, Library) == 0
    with pytest.raises(VmError, match="library version 999 does not exist"), store.sessions() as s:
        load_library_version(s, 999)


# ---------------------------------------------------------------- answer texts → levels


@pytest.mark.store
def test_level_texts_maps_statements_and_labels_to_levels(store: Store) -> None:
    parsed = parse_library(DEMO)
    with store.sessions() as s, s.begin():
        version_id = import_library(s, parsed, key="demo", name="Demo", version="1.0", source_name=None).id
    with store.sessions() as s:
        texts = level_texts(s, version_id)
    assert set(texts) == set(DEMO_IDENTIFIERS)
    trust = next(code for code in parsed.value_codes if code.identifier == "REL-TRUST")
    for level in range(1, 6):
        assert texts["REL-TRUST"][normalise_text(trust.statements[level - 1])] == level
        assert texts["REL-TRUST"][normalise_text(DEFAULT_LEVEL_LABELS[level])] == level
    assert texts["REL-TRUST"][normalise_text("  WHAT good\n looks   like ")] == 5
    assert texts["DEL-KPI"]["barely acceptable"] == 1
    assert all(len(mapping) == 10 for mapping in texts.values())
