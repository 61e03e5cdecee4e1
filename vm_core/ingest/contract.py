"""The pandera contract on the canonical evaluation frame, and the split into good and quarantined rows.

A row that breaks the contract is not dropped: it goes to quarantine with the
source file, row, column and the reason, and every other row goes on.

The contract is :class:`EvaluationContract`. Modelling applies it to millions of rows as vectorised
checks over Arrow batches (:mod:`vm_core.ingest.modelling`) that give each failing row the reason a
lazy pandera validation of the whole frame gives it (its first failure case wins);
``tests/test_contract.py`` runs the same answers both ways and compares them row for row.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

#: Columns of the canonical evaluation frame (one row per respondent × Value Code in one cycle).
EVALUATION_COLUMNS = (
    "cycle",
    "respondent_key",
    "party",
    "role",
    "perspective",
    "value_code",
    "level",
    "blank",
    "comment",
    "source_key",
    "source_file",
    "source_row",
    "source_column",
    "value",
)

QUARANTINE_COLUMNS = ("source_key", "source_file", "source_row", "source_column", "value", "reason")


class EvaluationContract(pa.DataFrameModel):
    """One evaluation per respondent × Value Code × cycle; level 1–5 or null.

    A null level is either an explicit "no level" answer (``blank`` false) or an unanswered cell
    (``blank`` true); modelling sets ``blank`` only with a null level, and the store checks it.
    """

    cycle: int = pa.Field(ge=1)
    respondent_key: str = pa.Field(str_length={"min_value": 64, "max_value": 64})  # an HMAC-SHA256 hex digest
    party: str = pa.Field(str_length={"min_value": 1})
    value_code: str = pa.Field(str_length={"min_value": 1})
    level: pd.Int64Dtype = pa.Field(ge=1, le=5, nullable=True)
    blank: bool
    source_row: int = pa.Field(ge=1)

    class Config:
        unique = ["cycle", "respondent_key", "value_code"]


def _schema() -> pa.DataFrameSchema:
    schema = EvaluationContract.to_schema()
    # a respondent who submitted twice in one source: the later response (last row) wins
    schema.report_duplicates = "exclude_last"
    return schema


SCHEMA = _schema()

_REASONS = {
    "multiple_fields_uniqueness": "duplicate response for this respondent and Value Code; the later row is kept",
    "greater_than_or_equal_to(1)": "level below 1; levels are 1–5",
    "less_than_or_equal_to(5)": "level above 5; levels are 1–5",
    "not_nullable": "required value missing",
}


def contract_reason(column: str, check: str) -> str:
    """The quarantine reason for a failed check of the contract (the same for pandera and SQL checks)."""
    if check in _REASONS:
        return _REASONS[check]
    return f"{column}: failed {check}"
