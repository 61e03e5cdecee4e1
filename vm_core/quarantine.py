"""What was kept aside: quarantined input rows, with file, row, column and reason, per cycle and source."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from vm_core.models import Cycle, QuarantinedRow, Relationship
from vm_core.scores import narrow_to

QUARANTINE_REPORT_COLUMNS = (
    "relationship", "cycle", "source_key", "source_file", "source_row", "source_column", "value", "reason",
)  # fmt: skip


def read_quarantine(
    session: Session, relationship_key: str | None = None, cycle_number: int | None = None
) -> pd.DataFrame:
    query = (
        select(
            Relationship.key,
            Cycle.number,
            QuarantinedRow.source_key,
            QuarantinedRow.source_file,
            QuarantinedRow.source_row,
            QuarantinedRow.source_column,
            QuarantinedRow.value,
            QuarantinedRow.reason,
        )
        .join(Cycle, Cycle.id == QuarantinedRow.cycle_id)
        .join(Relationship, Relationship.id == Cycle.relationship_id)
        .order_by(
            Relationship.key,
            Cycle.number,
            QuarantinedRow.source_key,
            QuarantinedRow.source_row,
            QuarantinedRow.source_column,
        )
    )
    frame = pd.DataFrame(
        session.execute(narrow_to(query, relationship_key, cycle_number)).all(),
        columns=list(QUARANTINE_REPORT_COLUMNS),
    )
    return frame.astype({"source_row": "Int64"})


def format_quarantine(frame: pd.DataFrame, fmt: str) -> str:
    if fmt == "csv":
        return str(frame.to_csv(index=False))
    if fmt == "json":
        return str(frame.to_json(orient="records", force_ascii=False, indent=1)) + "\n"
    lines = [
        f"{r.relationship} · cycle {r.cycle} · {r.source_file}, row {r.source_row}, column {r.source_column!r}: "
        f"{r.reason}"
        for r in frame.itertuples(index=False)
    ]
    return "\n".join(lines) + "\n"
