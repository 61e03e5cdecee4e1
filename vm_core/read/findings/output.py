"""Printing findings: an aligned table with each finding's evidence under it, CSV, or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from vm_core.read.findings.model import Finding

FORMATS = ("table", "csv", "json")

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
        return json.dumps(_records(findings), ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FINDING_COLUMNS)
        for record in _records(findings):
            record["cells"] = "; ".join(
                f"{c['cycle']}:{c['value_code']}:{c['group']}" for c in record["cells"]
            )
            writer.writerow([record[c] for c in FINDING_COLUMNS])
        return out.getvalue()
    if fmt == "table":
        return _table(findings)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _table(findings: Sequence[Finding]) -> str:
    header = ("rank", "score", "kind", "value_code", "finding")
    rows = [
        (str(rank), f"{f.rank_score:.3f}", f.kind, f.value_code, f.sentence)
        for rank, f in enumerate(findings, start=1)
    ]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header) - 1)]
    indent = " " * (sum(widths) + 2 * len(widths))

    def line(row: Sequence[str]) -> str:
        lead = [
            v.rjust(w) if i < 2 else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths, strict=False))
        ]
        return "  ".join([*lead, row[-1]]).rstrip() + "\n"

    text = line(header)
    for row, finding in zip(rows, findings, strict=True):
        text += line(row) + f"{indent}{finding.reason}\n"
    return text
