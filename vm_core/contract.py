"""The pandera contract on the canonical evaluation frame, and the split into good and quarantined rows.

A row that breaks the contract is not dropped: it goes to quarantine with the
source file, row, column and the reason, and every other row goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    "comment",
    "source_key",
    "source_file",
    "source_row",
    "source_column",
    "value",
)

QUARANTINE_COLUMNS = ("source_key", "source_file", "source_row", "source_column", "value", "reason")


class EvaluationContract(pa.DataFrameModel):
    """One evaluation per respondent × Value Code × cycle; level 1–5 or null ("no level")."""

    cycle: int = pa.Field(ge=1)
    respondent_key: str = pa.Field(str_length={"min_value": 64, "max_value": 64})  # an HMAC-SHA256 hex digest
    party: str = pa.Field(str_length={"min_value": 1})
    value_code: str = pa.Field(str_length={"min_value": 1})
    level: pd.Int64Dtype = pa.Field(ge=1, le=5, nullable=True)
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


def _reason(column: str, check: str) -> str:
    if check in _REASONS:
        return _REASONS[check]
    return f"{column}: failed {check}"


@dataclass(frozen=True)
class ContractResult:
    good: pd.DataFrame
    quarantined: pd.DataFrame  # QUARANTINE_COLUMNS


def apply_contract(frame: pd.DataFrame) -> ContractResult:
    """Validate lazily; rows named in the failure cases are quarantined with their reason."""
    try:
        SCHEMA.validate(frame, lazy=True)
        return ContractResult(frame, pd.DataFrame(columns=list(QUARANTINE_COLUMNS)))
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        row_cases = cases[cases["index"].notna()]
        table_cases = cases[cases["index"].isna()]
        if not table_cases.empty:  # a schema-level failure (missing column, wrong dtype) is a bug upstream
            raise
        reasons: dict[int, str] = {}
        for index, column, check in row_cases[["index", "column", "check"]].itertuples(index=False):
            reasons.setdefault(int(index), _reason(str(column), str(check)))
        bad = frame.loc[list(reasons)]
        quarantined = bad.assign(reason=[reasons[i] for i in bad.index])[list(QUARANTINE_COLUMNS)]
        return ContractResult(frame.drop(index=list(reasons)), quarantined.reset_index(drop=True))
