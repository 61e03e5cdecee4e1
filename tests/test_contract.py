"""The pandera contract on the canonical evaluation frame, on hand-made frames.

``apply_contract`` validates the contract in pieces (text columns once per distinct value, the
rest per row); :func:`whole_frame` is the straightforward whole-frame validation it must agree with.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from vm_core.contract import EVALUATION_COLUMNS, QUARANTINE_COLUMNS, SCHEMA, apply_contract

KEY = "a" * 64
OTHER_KEY = "b" * 64
DUPLICATE = "duplicate response for this respondent and Value Code; the later row is kept"
BELOW = "level below 1; levels are 1–5"
ABOVE = "level above 5; levels are 1–5"
MISSING = "required value missing"


def frame(*rows: dict[str, Any], text_dtype: str = "object") -> pd.DataFrame:
    """An evaluation frame as modelling builds it: object text columns, Int64 level, int64 numbers."""
    base = {
        "cycle": 1,
        "respondent_key": KEY,
        "party": "client",
        "role": "Director",
        "perspective": "senior",
        "value_code": "REL-TRUST",
        "level": 3,
        "blank": False,
        "comment": None,
        "source_key": "survey",
        "source_file": "export.csv",
        "source_row": 4,
        "source_column": "Q1",
        "value": "3",
    }
    records = [{**base, **row} for row in rows]
    columns: dict[str, Any] = {}
    for name in EVALUATION_COLUMNS:
        values = [r[name] for r in records]
        if name in ("cycle", "source_row"):
            columns[name] = pd.Series(values, dtype="int64")
        elif name == "level":
            columns[name] = pd.Series(pd.array(values, dtype="Int64"))
        elif name == "blank":
            columns[name] = pd.Series(values, dtype=bool)
        else:
            array = np.empty(len(values), dtype=object)
            array[:] = values
            columns[name] = pd.Series(array, dtype=text_dtype)
    return pd.DataFrame(columns)


def whole_frame(evaluations: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(good, quarantined) from one lazy validation of the whole frame: the contract's meaning."""
    reasons_by_check = {
        "multiple_fields_uniqueness": DUPLICATE,
        "greater_than_or_equal_to(1)": BELOW,
        "less_than_or_equal_to(5)": ABOVE,
        "not_nullable": MISSING,
    }
    try:
        SCHEMA.validate(evaluations, lazy=True)
        return evaluations, pd.DataFrame(columns=list(QUARANTINE_COLUMNS))
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        assert cases["index"].notna().all()
        reasons: dict[Any, str] = {}
        for index, column, check in cases[["index", "column", "check"]].itertuples(index=False):
            reasons.setdefault(index, reasons_by_check.get(check, f"{column}: failed {check}"))
        bad = evaluations.loc[list(reasons)]
        quarantined = bad.assign(reason=[reasons[i] for i in bad.index])[list(QUARANTINE_COLUMNS)]
        return evaluations.drop(index=list(reasons)), quarantined.reset_index(drop=True)


def check(evaluations: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """apply_contract's good rows and (source_row, reason) per quarantined row, checked against whole_frame."""
    result = apply_contract(evaluations)
    good, quarantined = whole_frame(evaluations)
    pd.testing.assert_frame_equal(result.good, good)
    pd.testing.assert_frame_equal(result.quarantined, quarantined)
    assert list(result.quarantined.columns) == list(QUARANTINE_COLUMNS)
    return result.good, list(zip(result.quarantined["source_row"], result.quarantined["reason"], strict=True))


def test_a_valid_frame_passes_untouched() -> None:
    evaluations = frame(
        {"source_row": 4, "value_code": "REL-TRUST", "level": 1},
        {"source_row": 4, "value_code": "REL-COMM", "level": 5},
        {"source_row": 4, "value_code": "DEL-QUALITY", "level": None},  # "no level" is allowed
        {"source_row": 4, "value_code": "DEL-TIME", "level": None, "blank": True},  # and so is a blank
        {"source_row": 5, "respondent_key": OTHER_KEY, "party": "supplier"},
        {"source_row": 6, "cycle": 2},  # the same respondent and Value Code in another cycle
    )
    result = apply_contract(evaluations)
    assert result.good is evaluations
    assert result.quarantined.empty
    assert list(result.quarantined.columns) == list(QUARANTINE_COLUMNS)
    check(evaluations)


def test_levels_outside_1_to_5_are_quarantined() -> None:
    good, quarantined = check(
        frame(
            {"source_row": 4, "value_code": "REL-TRUST", "level": 0},
            {"source_row": 5, "value_code": "REL-TRUST", "level": 7, "respondent_key": OTHER_KEY},
            {"source_row": 6, "value_code": "REL-COMM", "level": 5},
        )
    )
    assert quarantined == [(4, BELOW), (5, ABOVE)]
    assert good["source_row"].tolist() == [6]
    assert good.index.tolist() == [2]  # the frame's own rows, not renumbered


def test_a_duplicate_response_keeps_the_last_row() -> None:
    good, quarantined = check(
        frame(
            {"source_row": 4, "value": "1", "level": 1},
            {"source_row": 5, "value": "2", "level": 2, "respondent_key": OTHER_KEY},
            {"source_row": 6, "value": "3", "level": 3},
            {"source_row": 7, "value": "4", "level": 4},
        )
    )
    assert quarantined == [(4, DUPLICATE), (6, DUPLICATE)]
    assert good["source_row"].tolist() == [5, 7]


def test_missing_party_or_respondent_key_is_quarantined() -> None:
    good, quarantined = check(
        frame(
            {"source_row": 4, "party": None},
            {"source_row": 5, "respondent_key": None, "value_code": "REL-COMM"},
            {"source_row": 6, "value_code": None},
            {"source_row": 7, "party": float("nan"), "respondent_key": OTHER_KEY},
            {"source_row": 8, "respondent_key": OTHER_KEY, "value_code": "REL-COMM"},
        )
    )
    assert quarantined == [(5, MISSING), (4, MISSING), (7, MISSING), (6, MISSING)]  # column by column
    assert good["source_row"].tolist() == [8]


def test_every_reason_and_which_one_a_row_gets() -> None:
    good, quarantined = check(
        frame(
            {"source_row": 2, "level": 9},  # duplicate (of row 3) and level above 5: the duplicate
            {"source_row": 3},
            {"source_row": 4, "respondent_key": "not-a-digest", "level": 0},  # key first, then level
            {"source_row": 5, "respondent_key": OTHER_KEY, "party": ""},
            {"source_row": 6, "respondent_key": OTHER_KEY, "party": 5, "value_code": "REL-COMM"},
            {"source_row": 7, "respondent_key": OTHER_KEY, "value_code": ""},
            {"source_row": 8, "respondent_key": OTHER_KEY, "value_code": 12},
            {"source_row": 9, "respondent_key": OTHER_KEY, "value_code": "DEL-QUALITY", "level": -1},
            {"source_row": 10, "respondent_key": "c" * 64, "level": 6},
            {"source_row": 11, "respondent_key": "d" * 64},
        )
    )
    assert quarantined == [
        (2, DUPLICATE),
        (4, "respondent_key: failed str_length(64, 64)"),
        (6, "party: failed dtype('string[pyarrow]')"),
        (5, "party: failed str_length(1, None)"),
        (8, "value_code: failed dtype('string[pyarrow]')"),
        (7, "value_code: failed str_length(1, None)"),
        (9, BELOW),
        (10, ABOVE),
    ]
    assert good["source_row"].tolist() == [3, 11]


def test_text_columns_of_pandas_string_dtype() -> None:
    good, quarantined = check(
        frame(
            {"source_row": 4, "party": None},
            {"source_row": 5, "level": 7, "respondent_key": OTHER_KEY},
            {"source_row": 6, "respondent_key": OTHER_KEY},
            text_dtype="str",
        )
    )
    assert quarantined == [(5, DUPLICATE), (4, MISSING)]  # a duplicate comes first, as in every listing
    assert good["source_row"].tolist() == [6]


def test_categorical_text_columns_are_checked_by_their_values() -> None:
    evaluations = frame(
        {"source_row": 4, "party": ""},
        {"source_row": 5, "respondent_key": OTHER_KEY},
        {"source_row": 6, "respondent_key": OTHER_KEY, "level": 2},
    )
    categorical = evaluations.astype(
        {"respondent_key": "category", "party": "category", "value_code": "category"}
    )
    result = apply_contract(categorical)
    assert list(zip(result.quarantined["source_row"], result.quarantined["reason"], strict=True)) == [
        (5, DUPLICATE),
        (4, "party: failed str_length(1, None)"),
    ]
    assert result.good.index.tolist() == [2]


def test_a_frame_the_contract_cannot_check_raises() -> None:
    with pytest.raises(pa.errors.SchemaErrors, match="party"):
        apply_contract(frame({}).drop(columns=["party"]))
    with pytest.raises(pa.errors.SchemaErrors, match="level"):
        apply_contract(frame({}).astype({"level": "float64"}))
    with pytest.raises(pa.errors.SchemaErrors, match="blank"):  # blank apart from "no level" is required
        apply_contract(frame({}).drop(columns=["blank"]))


def test_blank_rows_pass_with_the_flag_they_came_with() -> None:
    good, quarantined = check(
        frame(
            {"source_row": 4, "level": None, "blank": True, "comment": "no view yet"},
            {"source_row": 5, "level": None, "blank": False, "respondent_key": OTHER_KEY},
            {"source_row": 6, "level": 9, "respondent_key": "c" * 64},
        )
    )
    assert quarantined == [(6, ABOVE)]
    assert good["blank"].tolist() == [True, False]
    assert good["comment"].tolist() == ["no view yet", None]


def test_many_rows_agree_with_whole_frame_validation() -> None:
    rng = random.Random(7)
    keys = [f"{i:064x}" for i in range(40)] + ["short", None]
    rows = []
    for respondent in range(300):  # a respondent's rows together, as connectors give them
        key = rng.choice(keys)
        for code in rng.sample(["REL-TRUST", "REL-COMM", "DEL-QUALITY", "", None], 3):
            rows.append(
                {
                    "respondent_key": key,
                    "party": rng.choice(["client", "supplier", "", None]),
                    "value_code": code,
                    "level": (level := rng.choice([1, 2, 3, 4, 5, None, 0, 6])),
                    "blank": level is None and rng.random() < 0.5,
                    "source_row": respondent + 4,
                    "cycle": rng.choice([1, 1, 1, 2]),
                }
            )
    evaluations = frame(*rows)
    _, quarantined = check(evaluations)
    assert 0 < len(quarantined) < len(evaluations)
    assert {reason for _, reason in quarantined} >= {DUPLICATE, BELOW, ABOVE, MISSING}
    shuffled = evaluations.sample(frac=1, random_state=1)  # no runs of one respondent; another index
    check(shuffled)
