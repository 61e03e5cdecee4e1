"""Printing findings: an aligned table with each finding's evidence under it, CSV, or JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vm_core.read.findings.model import Finding
from vm_core.read.output_formats import csv_text, json_text, unknown_format
from vm_core.read.text_table import aligned, column_widths

#: Columns of ``csv``; ``cells`` lists the cited cells as ``cycle:value_code:group``, separated by "; ".
FINDING_COLUMNS = (
    "rank",
    "key",
    "kind",
    "relationship",
    "cycle",
    "value_code",
    "name",
    "sentence",
    "rank_score",
    "strength",
    "breadth",
    "cells",
    "reason",
)


def _records(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    return [{"rank": rank, **f.record()} for rank, f in enumerate(findings, start=1)]


def format_findings(findings: Sequence[Finding], fmt: str = "table") -> str:
    """The findings, in the order given and numbered from 1, as ``table``, ``csv`` or ``json``.

    ``json`` holds everything: per finding its cited cells with their published numbers (n,
    l1..l5, mean, consensus), the statistic, the thresholds and the reason. Any other ``fmt`` is a
    ValueError.
    """
    if fmt == "json":
        return json_text(_records(findings))
    if fmt == "csv":
        rows = ([_csv_value(r, c) for c in FINDING_COLUMNS] for r in _records(findings))
        return csv_text(FINDING_COLUMNS, rows)
    if fmt == "table":
        return _table(findings)
    raise ValueError(unknown_format(fmt))


def _csv_value(record: dict[str, Any], column: str) -> Any:
    if column == "cells":  # the cited cells as cycle:value_code:group
        return "; ".join(f"{c['cycle']}:{c['value_code']}:{c['group']}" for c in record["cells"])
    return record[column]


def _table(findings: Sequence[Finding]) -> str:
    lines = [("rank", "score", "kind", "value_code", "finding")] + [
        (str(rank), f"{f.rank_score:.3f}", f.kind, f.value_code, f.sentence)
        for rank, f in enumerate(findings, start=1)
    ]
    header, *rows = aligned(lines, ">><<<")
    indent = " " * sum(width + 2 for width in column_widths(lines)[:-1])  # under the sentence
    under = [f"{row}\n{indent}{f.reason}\n" for row, f in zip(rows, findings, strict=True)]
    return "".join([header + "\n", *under])
