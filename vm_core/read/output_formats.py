"""The ``--format`` of the listings: ``table`` (see :mod:`vm_core.read.text_table`), ``csv`` and ``json``.

CSV: a header row, then one row per record, ``\\n`` line ends, None written as an empty field.
JSON: indented by two, non-ASCII characters as they are, a line end after the closing bracket.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any, Final

FORMATS: Final = ("table", "csv", "json")


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """``header`` and ``rows`` as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def json_text(payload: Any) -> str:
    """``payload`` as indented JSON text ending in a line end."""
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


def unknown_format(fmt: str, formats: Sequence[str] = FORMATS) -> str:
    """The one-line error for a format that is not one of ``formats``."""
    return f"unknown format {fmt!r}; use one of {', '.join(formats)}"
