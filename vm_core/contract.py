"""The pandera contract on the canonical evaluation frame, and the split into good and quarantined rows.

A row that breaks the contract is not dropped: it goes to quarantine with the
source file, row, column and the reason, and every other row goes on.

The contract is :class:`EvaluationContract`. It is validated in pieces that give the same failures
as validating the whole frame, without per-element Python work on millions of rows:

- each text column (respondent key, party, Value Code) is checked once per *distinct* value,
  and a failure applies to every row holding that value;
- the numeric columns are checked per row, in place (no copy of the frame), and so is the
  uniqueness of cycle × respondent × Value Code, on one integer code per combination.

The reason a row gets, and the order of the quarantined rows, are those of the whole-frame
validation: its first failure case per row wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
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

#: Checked once per distinct value (see the module docstring).
TEXT_COLUMNS = ("respondent_key", "party", "value_code")
_TEXT_SCHEMAS = {name: pa.DataFrameSchema({name: SCHEMA.columns[name]}) for name in TEXT_COLUMNS}
#: Checked per row: the numeric columns, and the uniqueness on one integer code per combination
#: of the unique columns' values.
_KEY = " × ".join(SCHEMA.unique)
_ROW_SCHEMA = pa.DataFrameSchema(
    {
        **{name: column for name, column in SCHEMA.columns.items() if name not in TEXT_COLUMNS},
        _KEY: pa.Column(int),
    },
    unique=[_KEY],
    report_duplicates=SCHEMA.report_duplicates,
)


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


@dataclass(frozen=True)
class ContractResult:
    good: pd.DataFrame
    quarantined: pd.DataFrame  # QUARANTINE_COLUMNS


#: A row whose checks all passed.
_PASSED = np.iinfo(np.int32).max
_COLUMN_ORDER = {name: position for position, name in enumerate(SCHEMA.columns)}


def _rank(column: str, check: str, number: Any) -> int:
    """Where a failed check comes in a whole-frame validation's failure cases: a row's first one wins.

    That order is: uniqueness, then column by column in schema order, within a column not-null,
    dtype, then the checks as declared.
    """
    if check == "multiple_fields_uniqueness":
        return 0
    within = 0 if check == "not_nullable" else 1 if pd.isna(number) else 2 + int(number)
    return 1 + 1000 * _COLUMN_ORDER.get(column, len(_COLUMN_ORDER)) + within


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame, reasons: dict[int, str]) -> np.ndarray | None:
    """Per row of ``frame``, the rank of its first failed check (None: all passed); records each reason.

    A schema-level failure (missing column, wrong dtype) is a bug upstream and raises.
    """
    try:
        schema.validate(frame, lazy=True, inplace=True)
        return None
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        if cases["index"].isna().any():
            raise
        ranks = np.full(len(frame), _PASSED, dtype=np.int32)
        groups = cases.groupby(["column", "check", "check_number"], dropna=False, sort=False)["index"]
        for (column, check, number), index in groups:
            rank = _rank(str(column), str(check), number)
            reasons.setdefault(rank, contract_reason(str(column), str(check)))
            rows = index.to_numpy(dtype=np.int64)
            ranks[rows] = np.minimum(ranks[rows], rank)
        return ranks


def _factorize(series: pd.Series) -> tuple[np.ndarray, int]:
    """``pd.factorize`` codes (int64) and the number of distinct values.

    An object column usually holds runs of one value (a respondent's rows are together): then
    only the first value of each run is hashed.
    """
    numbers = isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu"  # never missing
    if numbers and len(series) and series.min() == series.max():  # e.g. the one cycle of a source
        return np.zeros(len(series), dtype=np.int64), 1
    values = series.to_numpy() if series.dtype == object else None
    if values is not None and len(values) > 1:
        try:
            starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])).astype(bool))
        except (TypeError, ValueError):  # a comparison that is not a bool (pd.NA)
            starts = None
        if starts is not None and len(starts) < len(values) // 2:
            codes, uniques = pd.factorize(values[starts])
            lengths = np.diff(np.append(starts, len(values)))
            return np.repeat(codes.astype(np.int64, copy=False), lengths), len(uniques)
    codes, uniques = pd.factorize(series)
    return codes.astype(np.int64, copy=False), len(uniques)


def _distinct(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, position of each code's first row); a missing value has a code of its own."""
    codes, distinct = _factorize(series)  # codes in order of first appearance; -1 for missing
    if len(codes):
        before = np.maximum.accumulate(np.concatenate(([-1], codes[:-1])))
        first = np.flatnonzero(codes > before)
    else:
        first = np.empty(0, dtype=np.int64)
    if len(first) != distinct or not np.array_equal(codes[first], np.arange(distinct)):
        values, at = np.unique(codes, return_index=True)
        first = at[values >= 0]
    missing = codes < 0
    if missing.any():
        codes[missing] = distinct
        first = np.append(first, np.argmax(missing))
    return codes, first


def _combined(codes: list[np.ndarray]) -> np.ndarray:
    """One int64 code per distinct combination of the columns' codes (each 0, 1, ... per column)."""
    key = codes[0]
    size = int(key.max()) + 1 if len(key) else 1
    for column in codes[1:]:
        more = int(column.max()) + 1 if len(column) else 1
        if size * more >= 1 << 62:  # too many combinations for int64: number the ones there are
            key, uniques = pd.factorize(key)
            size = len(uniques)
        key, size = key * more + column, size * more
    return key


def _values(series: pd.Series, positions: np.ndarray) -> pd.DataFrame:
    """The column's values at ``positions``, with the column's dtype (a categorical's categories)."""
    values = series.iloc[positions].reset_index(drop=True)
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(values.dtype.categories.dtype)
    return values.to_frame()


def apply_contract(frame: pd.DataFrame) -> ContractResult:
    """Validate lazily; rows named in the failure cases are quarantined with their reason."""
    missing = [name for name in SCHEMA.columns if name not in frame.columns]
    if missing:  # a bug upstream: raise the whole-frame validation's error, naming the columns
        SCHEMA.validate(frame.iloc[:0], lazy=True)
    reasons: dict[int, str] = {}
    ranks: np.ndarray | None = None
    codes: dict[str, np.ndarray] = {}
    for name in TEXT_COLUMNS:
        codes[name], first = _distinct(frame[name])
        failed = _failures(_TEXT_SCHEMAS[name], _values(frame[name], first), reasons)
        if failed is not None:
            ranks = failed[codes[name]] if ranks is None else np.minimum(ranks, failed[codes[name]])
    for name in SCHEMA.unique:
        if name not in codes:
            codes[name] = _distinct(frame[name])[0]
    key = _combined([codes[name] for name in SCHEMA.unique])
    rows = pd.DataFrame(
        {name: key if name == _KEY else frame[name].reset_index(drop=True) for name in _ROW_SCHEMA.columns},
        index=pd.RangeIndex(len(frame)),
        copy=False,
    )
    failed = _failures(_ROW_SCHEMA, rows, reasons)
    if failed is not None:
        ranks = failed if ranks is None else np.minimum(ranks, failed)
    if ranks is None or not (ranks < _PASSED).any():
        return ContractResult(frame, pd.DataFrame(columns=list(QUARANTINE_COLUMNS)))
    bad = np.flatnonzero(ranks < _PASSED)
    bad = bad[np.argsort(ranks[bad], kind="stable")]  # the order a whole-frame validation lists them in
    quarantined = frame.iloc[bad].assign(reason=[reasons[int(r)] for r in ranks[bad]])
    good = frame.iloc[np.flatnonzero(ranks == _PASSED)]
    return ContractResult(good, quarantined[list(QUARANTINE_COLUMNS)].reset_index(drop=True))
