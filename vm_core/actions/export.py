"""Actions as a table, CSV, JSON or an XLSX workbook; the history as lines.

Every format has the columns of :data:`EXPORT_COLUMNS` (the table a subset): links joined by
``"; "`` (the library's separator; identifiers and names never contain it), dates as
``YYYY-MM-DD``, times in UTC as ``YYYY-MM-DD HH:MM:SS``. In the workbook numbers are numbers,
the due date a date, times UTC dates and times, and every text a text cell (never a formula,
whatever it starts with). A CSV opened in a spreadsheet may take a text starting with ``=`` for
a formula: share the workbook when in doubt.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from vm_core.actions.errors import ActionError
from vm_core.actions.query import ActionChangeView, ActionView
from vm_core.read.output_formats import csv_text, json_text, unknown_format
from vm_core.read.text_table import LEFT, RIGHT, aligned

EXPORT_COLUMNS: Final = (
    "id",
    "relationship",
    "cycle",
    "title",
    "description",
    "value_codes",
    "things",
    "finding_key",
    "mode",
    "owner_person",
    "owner_party",
    "due_on",
    "status",
    "percent_complete",
    "overdue",
    "notes",
    "version",
    "created_at_utc",
    "created_by",
    "updated_at_utc",
    "updated_by",
)
#: What ``vm actions list`` shows as a table (the rest is in the CSV, JSON and export).
TABLE_COLUMNS: Final = (
    "id",
    "version",
    "relationship",
    "cycle",
    "status",
    "percent_complete",
    "due_on",
    "overdue",
    "owner_party",
    "owner_person",
    "value_codes",
    "title",
)
_TABLE_HEADERS: Final = {
    "percent_complete": "%",
    "due_on": "due",
    "owner_party": "party",
    "owner_person": "owner",
}
LINK_SEPARATOR: Final = "; "
TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"


def records(views: Sequence[ActionView]) -> list[dict[str, Any]]:
    """One dict per action, keys :data:`EXPORT_COLUMNS`, values typed (lists, dates, naive UTC times)."""
    return [
        {
            "id": v.id,
            "relationship": v.relationship,
            "cycle": v.cycle,
            "title": v.fields.title,
            "description": v.fields.description,
            "value_codes": list(v.fields.value_codes),
            "things": list(v.fields.things),
            "finding_key": v.fields.finding_key,
            "mode": v.fields.mode,
            "owner_person": v.fields.owner_person,
            "owner_party": v.fields.owner_party,
            "due_on": v.fields.due_on,
            "status": v.fields.status,
            "percent_complete": v.fields.percent_complete,
            "overdue": v.overdue,
            "notes": v.fields.notes,
            "version": v.version,
            "created_at_utc": v.created_at.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0),
            "created_by": v.created_by,
            "updated_at_utc": v.updated_at.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0),
            "updated_by": v.updated_by,
        }
        for v in views
    ]


def _text(value: Any) -> str:
    """A value as CSV and the table write it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return LINK_SEPARATOR.join(value)
    if isinstance(value, dt.datetime):
        return value.strftime(TIME_FORMAT)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _json_value(value: Any) -> Any:
    return _text(value) if isinstance(value, dt.date) else value


def actions_csv(views: Sequence[ActionView]) -> str:
    return csv_text(EXPORT_COLUMNS, ([_text(record[c]) for c in EXPORT_COLUMNS] for record in records(views)))


def actions_json(views: Sequence[ActionView]) -> str:
    return json_text([{c: _json_value(v) for c, v in record.items()} for record in records(views)])


_TABLE_ALIGN: Final = "".join(
    RIGHT if c in ("id", "version", "cycle", "percent_complete") else LEFT for c in TABLE_COLUMNS
)


def actions_table(views: Sequence[ActionView]) -> str:
    header = [_TABLE_HEADERS.get(c, c) for c in TABLE_COLUMNS]
    cells = [
        [("overdue" if record[c] else "") if c == "overdue" else _text(record[c]) for c in TABLE_COLUMNS]
        for record in records(views)
    ]
    return "".join(line + "\n" for line in aligned([header, *cells], _TABLE_ALIGN))


def format_actions(views: Sequence[ActionView], fmt: str = "table") -> str:
    """``views`` as ``fmt``: ``table``, ``csv`` or ``json``."""
    if fmt == "csv":
        return actions_csv(views)
    if fmt == "json":
        return actions_json(views)
    if fmt == "table":
        return actions_table(views)
    raise ActionError(unknown_format(fmt))


def write_actions(views: Sequence[ActionView], path: Path) -> None:
    """Write ``views`` to ``path``: an XLSX workbook for ``.xlsx``, else CSV (``.csv``) with a byte-order
    mark so that spreadsheets read it as UTF-8."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        _write_xlsx(views, path)
    elif suffix == ".csv":
        path.write_text(actions_csv(views), encoding="utf-8-sig", newline="")
    else:
        raise ActionError(f"{path.name}: export to a .csv or .xlsx file")


_WIDTHS: Final = {"title": 40, "description": 50, "notes": 50, "value_codes": 24, "things": 24}


def xlsx_bytes(views: Sequence[ActionView]) -> bytes:
    """The XLSX workbook of ``views`` as bytes (for a download button)."""
    buffer = io.BytesIO()
    _write_xlsx(views, buffer)
    return buffer.getvalue()


def _write_xlsx(views: Sequence[ActionView], path: Path | io.BytesIO) -> None:
    import openpyxl
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Actions"
    sheet.append(list(EXPORT_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    top = Alignment(wrap_text=True, vertical="top")
    for row_number, record in enumerate(records(views), start=2):
        for column_number, column in enumerate(EXPORT_COLUMNS, start=1):
            value = record[column]
            if isinstance(value, list):
                value = _text(value)
            cell = sheet.cell(row=row_number, column=column_number, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula, even when it starts with "="
            elif isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            elif isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            cell.alignment = top
    for column_number, column in enumerate(EXPORT_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(column_number)].width = _WIDTHS.get(column, 16)
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = sheet.dimensions
    workbook.save(path)


def history_lines(changes: Sequence[ActionChangeView]) -> list[str]:
    """One line per version: ``v2  2026-12-01 10:32:05 UTC  alice  status: not_started → in_progress; …``."""

    def shown(value: Any) -> str:
        return "—" if value in (None, "", []) else repr(value)

    return [
        f"v{c.version}  {c.at:{TIME_FORMAT}} UTC  {c.by}  "
        + ("created: " if c.version == 1 else "")
        + "; ".join(
            f"{name} {shown(after)}" if c.version == 1 else f"{name}: {shown(before)} → {shown(after)}"
            for name, (before, after) in c.changes.items()
        )
        for c in changes
    ]
