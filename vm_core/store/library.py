"""The Value Code library: read, validate, store, re-read and export it.

A library is the method's own table, one row per Value Code, kept as CSV or XLSX:

``Section Name, Value Code Identifier, Description, Evaluation Statement 1 … 5``
and optionally ``Short Name`` (what findings and pages call the Value Code), ``Help Text``,
``Things That Matter`` (``;``-separated) and ``Level Label 1 … 5`` (short scale labels;
:data:`DEFAULT_LEVEL_LABELS` when absent).

A library is a reference table, so a bad file imports nothing: :func:`parse_library`
collects every problem (one line each, naming file, row and column) and raises a
single :class:`LibraryError`. A stored version is immutable: importing the same key and
version again is a no-op when the content is identical and an error when it differs.
*Content* is what respondents evaluated and scores rest on — sections, identifiers,
descriptions, help texts, statements, labels, Things That Matter (:func:`content_fingerprint`).
Short names are display metadata outside it: importing the same version with other short
names brings the stored ones up to date and records each change (``short_name_change``).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from vm_core.errors import SourceError, VmError
from vm_core.ingest.mapping import normalise_text
from vm_core.keys import VALUE_CODE_IDENTIFIER
from vm_core.store.models import (
    LEVEL_COLOURS,
    LEVELS,
    Library,
    LibraryVersion,
    Section,
    ShortNameChange,
    ThingThatMatters,
    ValueCode,
    ValueCodeLevel,
)
from vm_core.tables import XLSX_SUFFIXES, read_rows

#: Short scale labels used when the file has no (or an empty) ``Level Label n`` cell.
DEFAULT_LEVEL_LABELS: dict[int, str] = {
    1: "Barely acceptable",
    2: "Some way to go",
    3: "Acceptable",
    4: "Good",
    5: "What good looks like",
}

COL_SECTION = "Section Name"
COL_IDENTIFIER = "Value Code Identifier"
COL_SHORT_NAME = "Short Name"
COL_DESCRIPTION = "Description"
COL_HELP = "Help Text"
COL_THINGS = "Things That Matter"
STATEMENT_COLUMNS: tuple[str, ...] = tuple(f"Evaluation Statement {n}" for n in LEVELS)
LABEL_COLUMNS: tuple[str, ...] = tuple(f"Level Label {n}" for n in LEVELS)
REQUIRED_COLUMNS: tuple[str, ...] = (COL_SECTION, COL_IDENTIFIER, COL_DESCRIPTION, *STATEMENT_COLUMNS)
OPTIONAL_COLUMNS: tuple[str, ...] = (COL_SHORT_NAME, COL_HELP, COL_THINGS, *LABEL_COLUMNS)
#: Column order written by :func:`export_library`.
EXPORT_COLUMNS: tuple[str, ...] = (
    COL_SECTION,
    COL_IDENTIFIER,
    COL_SHORT_NAME,
    COL_DESCRIPTION,
    COL_HELP,
    *STATEMENT_COLUMNS,
    COL_THINGS,
    *LABEL_COLUMNS,
)
#: Other spellings accepted in a header (normalised form → canonical column).
COLUMN_ALIASES: dict[str, str] = {
    "thing that matters": COL_THINGS,
    "things that matters": COL_THINGS,
}

MAX_DESCRIPTION = 2000
#: Longest short name: it stands in a sentence and a heatmap row ("Commercial arrangements").
MAX_SHORT_NAME = 40
#: Database limit of names and labels (sections, Things That Matter, level labels).
MAX_NAME = 255
THINGS_SEPARATOR = ";"

_EMPTY_REASONS = {
    COL_SECTION: "every Value Code belongs to a section",
    COL_IDENTIFIER: "every Value Code needs an identifier",
    COL_DESCRIPTION: "every Value Code needs a description",
    **{column: "every Value Code needs five statements" for column in STATEMENT_COLUMNS},
}


class LibraryError(VmError):
    """A library file (or an import of it) is invalid; one line per problem."""

    def __init__(self, errors: Sequence[SourceError]):
        self.errors: list[SourceError] = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


@dataclass(frozen=True)
class ParsedValueCode:
    """One Value Code as read from a library table (index 0 of statements/labels is level 1)."""

    identifier: str
    section: str
    description: str
    help_text: str | None
    statements: tuple[str, ...]
    labels: tuple[str, ...]
    things: tuple[str, ...] = ()
    short_name: str | None = None  # display metadata, not content (see the module docstring)

    def __post_init__(self) -> None:
        if len(self.statements) != len(LEVELS) or len(self.labels) != len(LEVELS):
            raise ValueError(f"Value Code {self.identifier!r} needs {len(LEVELS)} statements and labels")


@dataclass(frozen=True)
class ParsedLibrary:
    """A validated library table: sections in order of first appearance, Value Codes in file order."""

    sections: tuple[str, ...]
    value_codes: tuple[ParsedValueCode, ...]

    def __post_init__(self) -> None:
        unknown = {code.section for code in self.value_codes} - set(self.sections)
        if unknown:
            raise ValueError(f"Value Codes name sections that are not in the library: {sorted(unknown)}")
        if len({code.identifier.casefold() for code in self.value_codes}) != len(self.value_codes):
            raise ValueError("Value Code identifiers must be unique")
        names = [normalise_text(code.short_name) for code in self.value_codes if code.short_name]
        if len(set(names)) != len(names):
            raise ValueError("Value Code short names must be unique")

    @property
    def identifiers(self) -> tuple[str, ...]:
        return tuple(code.identifier for code in self.value_codes)


# ---------------------------------------------------------------- reading


def _read_rows(path: Path) -> list[list[str]]:
    try:
        return read_rows(path, delimiter=",")
    except SourceError as exc:
        raise LibraryError([exc]) from None


def _canonical_column(header: str) -> str | None:
    key = normalise_text(header)
    for column in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS):
        if normalise_text(column) == key:
            return column
    return COLUMN_ALIASES.get(key)


@dataclass
class _Table:
    """The header of one library file and the problems found so far."""

    file: str
    index: dict[str, int]  # canonical column → cell position
    written: dict[str, str]  # canonical column → header as written
    errors: list[SourceError]
    first_rows: dict[tuple[str, str], int] = field(default_factory=dict)  # (column, key) → first row

    def first_row(self, row: int, column: str, key: str) -> int | None:
        """The row that first used ``key`` in ``column`` (a unique column); None when this row is the first."""
        first = self.first_rows.setdefault((column, key), row)
        return None if first == row else first

    def value(self, cells: Sequence[str], column: str) -> str:
        position = self.index.get(column)
        return cells[position] if position is not None and position < len(cells) else ""

    def problem(self, row: int, column: str, message: str) -> None:
        self.errors.append(SourceError(self.file, message, row=row, column=self.written.get(column, column)))


def _read_header(file: str, header: Sequence[str]) -> _Table:
    if not any(header):
        raise LibraryError(
            [
                SourceError(
                    file,
                    "no header row; the first row must name the columns " + ", ".join(REQUIRED_COLUMNS),
                    row=1,
                )
            ]
        )
    if len(header) == 1 and THINGS_SEPARATOR in header[0]:
        raise LibraryError(
            [
                SourceError(
                    file,
                    "the file is not comma-separated (it seems to use ';'); save it as CSV with commas",
                    row=1,
                )
            ]
        )
    table = _Table(file, {}, {}, [])
    for position, text in enumerate(header):
        column = _canonical_column(text) if text else None
        if column is None:
            continue  # unknown extra columns are ignored
        if column in table.index:
            message = f"duplicate column; {table.written[column]!r} is column {table.index[column] + 1}"
            table.errors.append(SourceError(file, message, row=1, column=text))
            continue
        table.index[column], table.written[column] = position, text
    table.errors.extend(
        SourceError(
            file,
            "missing required column; a library needs " + ", ".join(REQUIRED_COLUMNS),
            row=1,
            column=column,
        )
        for column in REQUIRED_COLUMNS
        if column not in table.index
    )
    return table


def _check_texts(table: _Table, row: int, statements: Sequence[str], labels: Sequence[str]) -> None:
    """No two levels of one Value Code may share a statement or label (answers map text → level)."""
    seen: dict[str, str] = {}  # normalised text → column it first appeared in
    for column, text in zip(STATEMENT_COLUMNS, statements, strict=True):
        if not text:
            continue
        key = normalise_text(text)
        if key in seen:
            table.problem(
                row,
                column,
                f"same text as {table.written.get(seen[key], seen[key])!r}; "
                "the five statements of a Value Code must differ",
            )
        else:
            seen[key] = column
    for level, column, text in zip(LEVELS, LABEL_COLUMNS, labels, strict=True):
        if len(text) > MAX_NAME:
            table.problem(row, column, f"too long ({len(text)} characters); the limit is {MAX_NAME}")
        key = normalise_text(text)
        other = seen.get(key)
        if other is not None and other != STATEMENT_COLUMNS[level - 1]:
            table.problem(
                row,
                column,
                f"same text as {table.written.get(other, other)!r}; each level's "
                "label and statement must differ from the other levels'",
            )
        else:
            seen.setdefault(key, column)


def _short_name(table: _Table, row: int, cells: Sequence[str]) -> str | None:
    """The row's short name (None when blank): one line, at most :data:`MAX_SHORT_NAME` characters, unique."""
    written = table.value(cells, COL_SHORT_NAME)
    if not written:
        return None
    if len(written.splitlines()) > 1:
        table.problem(row, COL_SHORT_NAME, "more than one line; a short name is one line")
        return None
    name = " ".join(written.split())
    if len(name) > MAX_SHORT_NAME:
        message = f"too long ({len(name)} characters); the limit is {MAX_SHORT_NAME}"
        table.problem(row, COL_SHORT_NAME, message)
        return None
    first = table.first_row(row, COL_SHORT_NAME, normalise_text(name))
    if first is not None:
        table.problem(row, COL_SHORT_NAME, f"duplicate short name {name!r}; first used in row {first}")
    return name


def _parse_row(table: _Table, row: int, cells: Sequence[str]) -> ParsedValueCode | None:
    """Validate one data row; return its Value Code, or None when the row has a problem."""
    before = len(table.errors)
    for column in REQUIRED_COLUMNS:
        if column in table.index and not table.value(cells, column):
            table.problem(row, column, f"empty; {_EMPTY_REASONS[column]}")

    identifier = table.value(cells, COL_IDENTIFIER)
    if identifier:
        if not VALUE_CODE_IDENTIFIER.matches(identifier):
            table.problem(
                row,
                COL_IDENTIFIER,
                f"{identifier!r} is not a valid identifier; use {VALUE_CODE_IDENTIFIER.rule}",
            )
        first = table.first_row(row, COL_IDENTIFIER, identifier.casefold())
        if first is not None:
            table.problem(
                row, COL_IDENTIFIER, f"duplicate identifier {identifier!r}; first used in row {first}"
            )
    short_name = _short_name(table, row, cells)

    description = table.value(cells, COL_DESCRIPTION)
    if len(description) > MAX_DESCRIPTION:
        table.problem(
            row, COL_DESCRIPTION, f"too long ({len(description)} characters); the limit is {MAX_DESCRIPTION}"
        )
    section = table.value(cells, COL_SECTION)
    if len(section) > MAX_NAME:
        table.problem(row, COL_SECTION, f"too long ({len(section)} characters); the limit is {MAX_NAME}")

    statements = tuple(table.value(cells, column) for column in STATEMENT_COLUMNS)
    labels = tuple(
        table.value(cells, column) or DEFAULT_LEVEL_LABELS[level]
        for level, column in zip(LEVELS, LABEL_COLUMNS, strict=True)
    )
    _check_texts(table, row, statements, labels)

    things: list[str] = []
    for raw in table.value(cells, COL_THINGS).split(THINGS_SEPARATOR):
        thing = " ".join(raw.split())
        if len(thing) > MAX_NAME:
            table.problem(
                row,
                COL_THINGS,
                f"a Thing That Matters is too long ({len(thing)} characters); the limit is {MAX_NAME}",
            )
        elif thing and thing not in things:
            things.append(thing)

    if len(table.errors) > before or any(column not in table.index for column in REQUIRED_COLUMNS):
        return None
    return ParsedValueCode(
        identifier=identifier,
        section=section,
        description=description,
        help_text=table.value(cells, COL_HELP) or None,
        statements=statements,
        labels=labels,
        things=tuple(things),
        short_name=short_name,
    )


def parse_library(path: Path) -> ParsedLibrary:
    """Read and validate a library table (CSV or XLSX); raise :class:`LibraryError` listing every problem."""
    path = Path(path)
    rows = _read_rows(path)
    table = _read_header(path.name, rows[0] if rows else [])
    codes: list[ParsedValueCode] = []
    for row, cells in enumerate(rows[1:], start=2):
        if any(cells):  # blank rows are skipped
            code = _parse_row(table, row, cells)
            if code is not None:
                codes.append(code)
    if not table.errors and not codes:
        message = "no Value Codes; the library has a header but no rows"
        table.errors.append(SourceError(path.name, message, row=2))
    if table.errors:
        raise LibraryError(table.errors)

    # names that differ only in case or spacing are one section / one Thing That Matters: first spelling wins
    section_names: dict[str, str] = {}
    thing_names: dict[str, str] = {}
    codes = [
        replace(
            code,
            section=section_names.setdefault(normalise_text(code.section), " ".join(code.section.split())),
            things=tuple(dict.fromkeys(thing_names.setdefault(normalise_text(t), t) for t in code.things)),
        )
        for code in codes
    ]
    return ParsedLibrary(
        sections=tuple(dict.fromkeys(code.section for code in codes)),
        value_codes=tuple(codes),
    )


# ---------------------------------------------------------------- fingerprint and export


def _content(parsed: ParsedLibrary) -> dict[str, Any]:
    return {
        "sections": list(parsed.sections),
        "value_codes": [
            {
                "identifier": code.identifier,
                "section": code.section,
                "description": code.description,
                "help_text": code.help_text,
                "statements": list(code.statements),
                "labels": list(code.labels),
                "things": sorted(code.things),  # a set in the store
            }
            for code in parsed.value_codes
        ],
    }


def content_fingerprint(parsed: ParsedLibrary) -> str:
    """SHA-256 of the library's content; equal content ⇔ equal fingerprint.

    Order of sections, Value Codes, levels matters; the order of a code's Things That
    Matter does not (the store keeps them as a set). Short names are not content: they
    name a Value Code on a page and change nothing that was evaluated.
    """
    canonical = json.dumps(_content(parsed), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _export_rows(parsed: ParsedLibrary) -> Iterator[list[str]]:
    yield list(EXPORT_COLUMNS)
    for code in parsed.value_codes:
        values = {
            COL_SECTION: code.section,
            COL_IDENTIFIER: code.identifier,
            COL_SHORT_NAME: code.short_name or "",
            COL_DESCRIPTION: code.description,
            COL_HELP: code.help_text or "",
            COL_THINGS: f"{THINGS_SEPARATOR} ".join(code.things),
            **dict(zip(STATEMENT_COLUMNS, code.statements, strict=True)),
            **dict(zip(LABEL_COLUMNS, code.labels, strict=True)),
        }
        yield [values[column] for column in EXPORT_COLUMNS]


def export_library(parsed: ParsedLibrary, path: Path, *, excel_bom: bool = True) -> None:
    """Write the library as CSV or XLSX (by suffix); :func:`parse_library` reads it back unchanged.

    CSV is UTF-8; with ``excel_bom`` (the default) it starts with a byte-order mark so that
    Excel opens curly quotes, dashes and "£" correctly.
    """
    path = Path(path)
    if path.suffix.lower() in XLSX_SUFFIXES:
        _write_xlsx(_export_rows(parsed), path)
        return
    with path.open("w", encoding="utf-8-sig" if excel_bom else "utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(_export_rows(parsed))


def _write_xlsx(rows: Iterable[list[str]], path: Path) -> None:
    import openpyxl
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Library"
    wrap = Alignment(wrap_text=True, vertical="top")
    for row_number, values in enumerate(rows, start=1):
        for column_number, value in enumerate(values, start=1):
            cell = sheet.cell(row=row_number, column=column_number, value=value)
            cell.data_type = "s"  # text, never a formula, even when it starts with "="
            cell.alignment = wrap
            if row_number == 1:
                cell.font = Font(bold=True)
    widths = {COL_SECTION: 24, COL_IDENTIFIER: 18, COL_SHORT_NAME: 24, COL_THINGS: 24}
    for column_number, column in enumerate(EXPORT_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(column_number)].width = widths.get(
            column, 20 if column in LABEL_COLUMNS else 45
        )
    sheet.freeze_panes = "C2"
    workbook.save(path)


# ---------------------------------------------------------------- the store


def find_library_version(session: Session, key: str, version: str) -> LibraryVersion | None:
    return session.scalars(
        select(LibraryVersion)
        .join(Library, Library.id == LibraryVersion.library_id)
        .where(Library.key == key, LibraryVersion.version == version)
    ).one_or_none()


def load_library_version(session: Session, library_version_id: int) -> ParsedLibrary:
    """Re-read a stored library version into the same form :func:`parse_library` returns."""
    if session.get(LibraryVersion, library_version_id) is None:
        raise VmError(f"library version {library_version_id} does not exist")
    sections = session.scalars(
        select(Section).where(Section.library_version_id == library_version_id).order_by(Section.position)
    ).all()
    section_names = {section.id: section.name for section in sections}
    codes = session.scalars(
        select(ValueCode)
        .where(ValueCode.library_version_id == library_version_id)
        .order_by(ValueCode.position)
        .options(selectinload(ValueCode.levels), selectinload(ValueCode.things))
    ).all()
    # value_code_thing has no position: a code's things come back in library first-appearance order
    return ParsedLibrary(
        sections=tuple(section.name for section in sections),
        value_codes=tuple(
            ParsedValueCode(
                identifier=code.identifier,
                section=section_names[code.section_id],
                description=code.description,
                help_text=code.help_text,
                statements=tuple(level.statement for level in code.levels),
                labels=tuple(level.label for level in code.levels),
                things=tuple(thing.name for thing in sorted(code.things, key=lambda thing: thing.id)),
                short_name=code.short_name,
            )
            for code in codes
        ),
    )


def _check_names(key: str, name: str, version: str, where: str) -> None:
    problems = [
        f"{what} is empty"
        if not value.strip()
        else f"{what} is too long ({len(value)} characters; the limit is {limit})"
        for what, value, limit in (
            ("library key", key, 100),
            ("library name", name, MAX_NAME),
            ("library version", version, 50),
        )
        if not value.strip() or len(value) > limit
    ]
    if problems:
        raise LibraryError([SourceError(where, problem) for problem in problems])


def import_library(
    session: Session,
    parsed: ParsedLibrary,
    *,
    key: str,
    name: str,
    version: str,
    source_name: str | None,
) -> LibraryVersion:
    """Store ``parsed`` as version ``version`` of library ``key`` (created if missing).

    Idempotent: the same key and version with identical content returns the stored
    version, its short names brought up to date (:func:`update_short_names`); different
    content raises :class:`LibraryError` (versions are immutable). Works inside the
    caller's transaction; nothing is committed here.
    """
    where = source_name or f"library {key!r}"
    _check_names(key, name, version, where)
    existing = find_library_version(session, key, version)
    if existing is not None:
        if content_fingerprint(load_library_version(session, existing.id)) == content_fingerprint(parsed):
            update_short_names(session, existing.id, parsed, source_name=source_name)
            return existing
        raise LibraryError(
            [
                SourceError(
                    where,
                    f"library {key!r} version {version!r} is already stored with different content; versions are "
                    "immutable, so import the changed library under a new version",
                )
            ]
        )

    library = session.scalars(select(Library).where(Library.key == key)).one_or_none()
    if library is None:
        library = Library(key=key, name=name)
        session.add(library)
        session.flush()
    library_version = LibraryVersion(library_id=library.id, version=version, source_name=source_name)
    session.add(library_version)
    session.flush()

    section_rows = {
        section: Section(library_version_id=library_version.id, name=section, position=position)
        for position, section in enumerate(parsed.sections, start=1)
    }
    session.add_all(section_rows.values())
    things: dict[str, ThingThatMatters] = {}
    for code in parsed.value_codes:
        for thing in code.things:
            if thing not in things:
                things[thing] = ThingThatMatters(library_version_id=library_version.id, name=thing)
                session.add(things[thing])
    session.flush()  # ids in first-use order (the unit of work inserts in the order added)

    for position, code in enumerate(parsed.value_codes, start=1):
        session.add(
            ValueCode(
                library_version_id=library_version.id,
                section_id=section_rows[code.section].id,
                identifier=code.identifier,
                short_name=code.short_name,
                description=code.description,
                help_text=code.help_text,
                position=position,
                levels=[
                    ValueCodeLevel(level=level, label=label, statement=statement, colour=LEVEL_COLOURS[level])
                    for level, label, statement in zip(LEVELS, code.labels, code.statements, strict=True)
                ],
                things=[things[thing] for thing in code.things],
            )
        )
    session.flush()
    return library_version


def update_short_names(
    session: Session, library_version_id: int, parsed: ParsedLibrary, *, source_name: str | None
) -> list[ShortNameChange]:
    """Give a stored version's Value Codes the short names of ``parsed`` (the same content) and record each change.

    Short names are display metadata, so a stored version may gain, lose or change them; every
    change is a ``short_name_change`` row (before, after, the file it came from, when). Returns
    the changes, in library order; none when the names are already those of ``parsed``.
    """
    wanted = {code.identifier: code.short_name for code in parsed.value_codes}
    codes = session.scalars(
        select(ValueCode)
        .where(ValueCode.library_version_id == library_version_id)
        .order_by(ValueCode.position)
    ).all()
    renamed = [code for code in codes if code.short_name != wanted[code.identifier]]
    changes = [
        ShortNameChange(
            value_code_id=code.id,
            before=code.short_name,
            after=wanted[code.identifier],
            source_name=source_name,
        )
        for code in renamed
    ]
    # two codes may swap names: clear first, so the unique (version, short name) never holds both at once
    for code in renamed:
        code.short_name = None
    session.flush()
    for code in renamed:
        code.short_name = wanted[code.identifier]
    session.add_all(changes)
    session.flush()
    return changes


def short_name_history(session: Session, library_version_id: int) -> list[tuple[str, ShortNameChange]]:
    """The recorded short-name changes of a stored version, oldest first, each with its Value Code's identifier."""
    rows = session.execute(
        select(ValueCode.identifier, ShortNameChange)
        .join(ShortNameChange, ShortNameChange.value_code_id == ValueCode.id)
        .where(ValueCode.library_version_id == library_version_id)
        .order_by(ShortNameChange.changed_at, ShortNameChange.id)
    ).all()
    return [(identifier, change) for identifier, change in rows]


def level_texts(session: Session, library_version_id: int) -> dict[str, dict[str, int]]:
    """Value Code identifier → {normalised statement or label: level}, to map answer labels to levels.

    Keys are :func:`normalise_text` forms; normalise an answer the same way before looking it up.
    """
    rows = session.execute(
        select(ValueCode.identifier, ValueCodeLevel.level, ValueCodeLevel.label, ValueCodeLevel.statement)
        .join(ValueCodeLevel, ValueCodeLevel.value_code_id == ValueCode.id)
        .where(ValueCode.library_version_id == library_version_id)
        .order_by(ValueCode.position, ValueCodeLevel.level)
    ).all()
    return _level_texts(rows)


def parsed_level_texts(parsed: ParsedLibrary) -> dict[str, dict[str, int]]:
    """:func:`level_texts` of a library read from its file (nothing stored)."""
    return _level_texts(
        (code.identifier, level, label, statement)
        for code in parsed.value_codes
        for level, statement, label in zip(LEVELS, code.statements, code.labels, strict=True)
    )


def _level_texts(rows: Iterable[Sequence[Any]]) -> dict[str, dict[str, int]]:
    """(identifier, level, label, statement) rows, Value Codes in library order → the lookup."""
    result: dict[str, dict[str, int]] = {}
    for identifier, level, label, statement in rows:
        texts = result.setdefault(identifier, {})
        texts.setdefault(normalise_text(statement), level)
        texts.setdefault(normalise_text(label), level)
    return result


__all__ = [
    "DEFAULT_LEVEL_LABELS",
    "EXPORT_COLUMNS",
    "REQUIRED_COLUMNS",
    "LibraryError",
    "ParsedLibrary",
    "ParsedValueCode",
    "content_fingerprint",
    "export_library",
    "find_library_version",
    "import_library",
    "level_texts",
    "load_library_version",
    "normalise_text",
    "parse_library",
    "parsed_level_texts",
    "short_name_history",
    "update_short_names",
]
