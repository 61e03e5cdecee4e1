"""Short names: the library's optional "Short Name" column, stored on each Value Code, display metadata of a version.

A short name is what findings and pages call a Value Code ("Issue resolution"). It is not part of a
version's content: importing a stored version again with other short names brings them up to date and
records each change; any other difference is refused. The upgrade a demo user makes — a store built from
the library file without short names, then the new file — must run and score exactly as before.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.conftest import REPO, Store
from tests.test_library import HEADER, code_row, write_csv
from vm_cli.main import main
from vm_core.config import load_config
from vm_core.read.findings import read_findings
from vm_core.read.review import heatmap, value_code_detail
from vm_core.read.scores import read_scores
from vm_core.run import pipeline
from vm_core.run.orchestration import LocalSteps, run_relationship
from vm_core.run.pipeline import SourceStatus
from vm_core.settings import Settings
from vm_core.store.db import alembic_config
from vm_core.store.library import (
    EXPORT_COLUMNS,
    LibraryError,
    ParsedLibrary,
    content_fingerprint,
    export_library,
    import_library,
    load_library_version,
    parse_library,
    short_name_history,
)
from vm_core.store.models import LibraryVersion, ShortNameChange, ValueCode

DEMO_LIBRARY = REPO / "examples" / "demo" / "library.csv"
DEMO_NAMES = {
    "GOV-DIRECTION": "Shared direction",
    "REL-OPENNESS": "Openness",
    "REL-ISSUES": "Issue resolution",
    "DEL-KPI": "KPIs",
    "VAL-COMMERCIAL": "Commercial arrangements",
}
NAMED_HEADER = [*HEADER, "Short Name"]


def named_rows(*names: str) -> list[list[str]]:
    """A library of codes A, B, C … with the given short names (in the last column)."""
    return [NAMED_HEADER, *([*code_row(chr(ord("A") + i)), name] for i, name in enumerate(names))]


def without_short_names(source: Path, target: Path) -> Path:
    """``source`` with its Short Name column removed: the demo library as it was before short names."""
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    position = rows[0].index("Short Name")
    return write_csv(target, [row[:position] + row[position + 1 :] for row in rows])


def renamed(names: dict[str, str | None]) -> ParsedLibrary:
    """The demo library with some short names changed (identifier → new name, None to remove)."""
    parsed = parse_library(DEMO_LIBRARY)
    return replace(
        parsed,
        value_codes=tuple(
            replace(code, short_name=names.get(code.identifier, code.short_name))
            for code in parsed.value_codes
        ),
    )


# ---------------------------------------------------------------- the column


def test_the_demo_library_names_every_value_code_once() -> None:
    parsed = parse_library(DEMO_LIBRARY)
    names = {code.identifier: code.short_name for code in parsed.value_codes}
    assert {identifier: names[identifier] for identifier in DEMO_NAMES} == DEMO_NAMES
    assert all(names.values())
    assert len({name.casefold() for name in names.values() if name}) == 16


def test_short_names_are_optional_tidied_and_one_line(tmp_path: Path) -> None:
    rows = named_rows("Issue resolution", "", "  Commercial \t arrangements ", "x" * 40)
    parsed = parse_library(write_csv(tmp_path / "library.csv", rows))
    assert [code.short_name for code in parsed.value_codes] == [
        "Issue resolution",
        None,  # blank: no short name
        "Commercial arrangements",  # spaces inside collapsed, ends trimmed
        "x" * 40,  # the limit itself is allowed
    ]
    # a file without the column (every library before short names) reads as before
    plain = parse_library(write_csv(tmp_path / "plain.csv", [HEADER, code_row("A")]))
    assert plain.value_codes[0].short_name is None


BAD_SHORT_NAMES: dict[str, tuple[Sequence[str], str]] = {
    "too long": (
        ("Fine", "y" * 41),
        "library.csv, row 3, column 'Short Name': too long (41 characters); the limit is 40",
    ),
    "two lines": (
        ("Issue\nresolution",),
        "library.csv, row 2, column 'Short Name': more than one line; a short name is one line",
    ),
    "Windows line break": (
        ("Fine", "Issue\r\nresolution"),
        "library.csv, row 3, column 'Short Name': more than one line; a short name is one line",
    ),
    "same name in another case and spacing": (
        ("Issue resolution", "Trust", "issue  RESOLUTION"),
        "library.csv, row 4, column 'Short Name': duplicate short name 'issue RESOLUTION'; first used in row 2",
    ),
}


@pytest.mark.parametrize("kind", list(BAD_SHORT_NAMES))
def test_a_bad_short_name_is_one_line_naming_row_and_column(kind: str, tmp_path: Path) -> None:
    names, expected = BAD_SHORT_NAMES[kind]
    with pytest.raises(LibraryError) as caught:
        parse_library(write_csv(tmp_path / "library.csv", named_rows(*names)))
    assert str(caught.value) == expected


def test_the_column_is_named_as_written(tmp_path: Path) -> None:
    rows = named_rows("Trust", "TRUST")
    rows[0][-1] = " short NAME "
    with pytest.raises(
        LibraryError, match=r"^library\.csv, row 3, column 'short NAME': duplicate short name"
    ):
        parse_library(write_csv(tmp_path / "library.csv", rows))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_writes_the_short_name_after_the_identifier(suffix: str, tmp_path: Path) -> None:
    parsed = renamed({"GOV-DIRECTION": None})  # one without: an empty cell, read back as None
    path = tmp_path / f"library{suffix}"
    export_library(parsed, path)
    assert EXPORT_COLUMNS[:3] == ("Section Name", "Value Code Identifier", "Short Name")
    again = parse_library(path)
    assert again == parsed
    assert again.value_codes[0].short_name is None
    assert again.value_codes[6].short_name == "Issue resolution"


def test_a_short_name_is_not_content() -> None:
    parsed = parse_library(DEMO_LIBRARY)
    unnamed = renamed(dict.fromkeys(DEMO_NAMES, None))
    assert unnamed != parsed
    assert content_fingerprint(unnamed) == content_fingerprint(parsed)


# ---------------------------------------------------------------- the store


def _stored_names(store: Store) -> dict[str, str | None]:
    with store.sessions() as s:
        return dict(s.execute(select(ValueCode.identifier, ValueCode.short_name)).all())


def _names(parsed: ParsedLibrary) -> list[tuple[str, str | None]]:
    return [(code.identifier, code.short_name) for code in parsed.value_codes]


def _import(store: Store, parsed: ParsedLibrary, source_name: str = "library.csv") -> int:
    with store.sessions() as s, s.begin():
        return import_library(
            s, parsed, key="demo", name="Demo", version="2024.1", source_name=source_name
        ).id


@pytest.mark.store
def test_short_names_are_stored_and_read_back(store: Store) -> None:
    parsed = parse_library(DEMO_LIBRARY)
    version_id = _import(store, parsed)
    assert {k: v for k, v in _stored_names(store).items() if k in DEMO_NAMES} == DEMO_NAMES
    with store.sessions() as s:
        assert _names(load_library_version(s, version_id)) == _names(parsed)
        assert short_name_history(s, version_id) == []  # the first import is no change


@pytest.mark.store
def test_a_stored_version_takes_new_short_names_and_records_each_change(store: Store) -> None:
    version_id = _import(store, renamed({"REL-ISSUES": None, "DEL-KPI": "KPI"}))
    newer = parse_library(DEMO_LIBRARY)

    assert _import(store, newer, source_name="library-2.csv") == version_id  # the same version
    assert _stored_names(store)["REL-ISSUES"] == "Issue resolution"
    assert _stored_names(store)["DEL-KPI"] == "KPIs"
    with store.sessions() as s:
        assert _names(load_library_version(s, version_id)) == _names(newer)
        history = [(i, c.before, c.after, c.source_name) for i, c in short_name_history(s, version_id)]
        assert s.scalar(select(func.count()).select_from(LibraryVersion)) == 1
    assert history == [  # library order; the 14 unchanged names are not recorded
        ("REL-ISSUES", None, "Issue resolution", "library-2.csv"),
        ("DEL-KPI", "KPI", "KPIs", "library-2.csv"),
    ]

    _import(store, newer, source_name="library-3.csv")  # nothing changed: nothing recorded
    removed = renamed({"VAL-SOCIAL": None})
    _import(store, removed, source_name="library-4.csv")
    with store.sessions() as s:
        assert [(i, c.before, c.after) for i, c in short_name_history(s, version_id)][2:] == [
            ("VAL-SOCIAL", "Social value", None)
        ]
    assert _stored_names(store)["VAL-SOCIAL"] is None


@pytest.mark.store
def test_two_codes_may_swap_short_names(store: Store) -> None:
    version_id = _import(store, parse_library(DEMO_LIBRARY))
    _import(store, renamed({"REL-TRUST": "Openness", "REL-OPENNESS": "Trust"}))
    names = _stored_names(store)
    assert (names["REL-TRUST"], names["REL-OPENNESS"]) == ("Openness", "Trust")
    with store.sessions() as s:
        assert len(short_name_history(s, version_id)) == 2


@pytest.mark.store
def test_changed_content_is_refused_and_its_short_names_are_not_taken(store: Store) -> None:
    version_id = _import(store, parse_library(DEMO_LIBRARY))
    parsed = renamed({"REL-ISSUES": "Issues"})
    trust = parsed.value_codes[4]
    changed = replace(
        parsed,
        value_codes=(
            *parsed.value_codes[:4],
            replace(trust, statements=(*trust.statements[:4], "Changed.")),
            *parsed.value_codes[5:],
        ),
    )
    with pytest.raises(LibraryError, match="already stored with different content; versions are immutable"):
        _import(store, changed, source_name="changed.csv")
    assert _stored_names(store)["REL-ISSUES"] == "Issue resolution"
    with store.sessions() as s:
        assert short_name_history(s, version_id) == []


@pytest.mark.store
def test_the_store_refuses_one_short_name_twice_in_a_version(store: Store) -> None:
    """The file's check, backed by the store: unique per version (in the case as written), any number of none."""
    from tests.factories import seed_library

    with store.sessions() as s, s.begin():
        first = seed_library(s, version="1")
        second = seed_library(s, version="2")
        first.value_codes["VC1"].short_name = "Delivery"
        second.value_codes["VC1"].short_name = "Delivery"  # another version may reuse it
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(
            update(ValueCode)
            .where(ValueCode.library_version_id == first.version.id, ValueCode.identifier == "VC2")
            .values(short_name="Delivery")
        )


# ---------------------------------------------------------------- the read side and the CLI


@pytest.mark.store
def test_vm_library_import_list_and_export_show_short_names(vm_env: Store, tmp_path: Path) -> None:
    runner = CliRunner()
    old = without_short_names(DEMO_LIBRARY, tmp_path / "library.csv")
    args = ["library", "import", "--key", "demo", "--version", "2024.1"]
    assert runner.invoke(main, [*args, str(old)]).exit_code == 0
    assert (
        "demo  2024.1  16 Value Codes, 0 with a short name" in runner.invoke(main, ["library", "list"]).output
    )

    shutil.copy(DEMO_LIBRARY, old)
    again = runner.invoke(main, [*args, str(old)])
    assert again.exit_code == 0, again.output
    assert again.output.strip() == (
        "demo 2024.1 is already stored with the same content; "
        "short names as in library.csv (16 of 16 Value Codes)"
    )
    assert runner.invoke(main, ["library", "list", "demo"]).output.strip() == (
        "demo  2024.1  16 Value Codes, 16 with a short name"
    )
    listed = runner.invoke(main, ["library", "list", "demo", "2024.1"]).output.splitlines()
    assert listed[0].split() == ["identifier", "short", "name", "section"]
    assert listed[7].split() == ["REL-ISSUES", "Issue", "resolution", "Relationship", "&", "Behaviours"]
    changes = listed[17:]
    assert len(changes) == 16
    assert changes[6].endswith("REL-ISSUES: short name (none) → 'Issue resolution' (library.csv)")
    missing = runner.invoke(main, ["library", "list", "demo", "9"])
    assert (missing.exit_code, missing.output.strip()) == (
        1,
        "Error: no library 'demo' version '9' in the store",
    )

    exported = tmp_path / "out.csv"
    assert runner.invoke(main, ["library", "export", "demo", "2024.1", str(exported)]).exit_code == 0
    with exported.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["Value Code Identifier"]: row["Short Name"] for row in rows}["VAL-COMMERCIAL"] == (
        "Commercial arrangements"
    )


# ---------------------------------------------------------------- the demo user's upgrade


def _scores(settings: Settings, key: str) -> pd.DataFrame:
    with pipeline.open_store(settings)() as s:
        return read_scores(s, key)


def _issues_sentence(session: Session) -> str:
    found = read_findings(session, "northwind-contoso", 2)
    return next(f.sentence for f in found if f.key == "agreement:2:REL-ISSUES:*/middle")


def _restart_on_the_old_schema(settings: Settings) -> None:
    """Leave the store as the version before short names left it (0007), as a new process finds it."""
    engine, _ = pipeline._open(settings.database_url)
    engine.dispose()
    pipeline._open.cache_clear()  # the next open migrates, as a new `vm demo` process does
    command.downgrade(alembic_config(engine), "0007")
    engine.dispose()


def test_a_demo_store_from_before_short_names_runs_and_scores_the_same(
    demo_copy: Path, tmp_path: Path
) -> None:
    """`vm demo` imports library.csv as 2024.1 every run: a store built from the file without short names
    (on the schema of that time) takes the new file's names, re-reads nothing and scores the same."""
    library = demo_copy.with_name("library.csv")
    without_short_names(DEMO_LIBRARY, library)
    settings = Settings.from_env({"VM_HOME": str(tmp_path / "home"), "VM_SECRET": "golden"})
    run_relationship(load_config(demo_copy), LocalSteps(settings))
    before = _scores(settings, "northwind-contoso")
    with pipeline.open_store(settings)() as s:  # no short names yet: names derived from the identifiers
        assert (
            _issues_sentence(s)
            == "Middle management on both sides agree that *Issues* is at 'Some way to go'."
        )
        kpi = next(row for row in heatmap(s, "northwind-contoso", 2).rows if row.identifier == "DEL-KPI")
        assert (kpi.short_name, kpi.name) == (None, "KPI")
    _restart_on_the_old_schema(settings)

    shutil.copy(DEMO_LIBRARY, library)
    result = run_relationship(load_config(demo_copy), LocalSteps(settings))

    assert {source.status for cycle in result.cycles for source in cycle.sources} == {SourceStatus.UNCHANGED}
    pd.testing.assert_frame_equal(_scores(settings, "northwind-contoso"), before)
    with pipeline.open_store(settings)() as s:
        names = dict(s.execute(select(ValueCode.identifier, ValueCode.short_name)).all())
        assert {identifier: names[identifier] for identifier in DEMO_NAMES} == DEMO_NAMES
        assert s.scalar(select(func.count()).select_from(ShortNameChange)) == 16
        assert s.scalar(select(func.count()).select_from(LibraryVersion)) == 1
        assert _issues_sentence(s) == (
            "Middle management on both sides agree that *Issue resolution* is at 'Some way to go'."
        )
        rows = {row.identifier: row for row in heatmap(s, "northwind-contoso", 2).rows}
        assert (rows["DEL-KPI"].short_name, rows["DEL-KPI"].name) == ("KPIs", "KPIs")
        detail = value_code_detail(s, "northwind-contoso", 2, "VAL-COMMERCIAL")
        assert (detail.short_name, detail.name) == ("Commercial arrangements", "Commercial arrangements")

    run_relationship(load_config(demo_copy), LocalSteps(settings))  # every later run: nothing new recorded
    with pipeline.open_store(settings)() as s:
        assert s.scalar(select(func.count()).select_from(ShortNameChange)) == 16
