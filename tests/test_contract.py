"""The evaluation contract: the vectorised checks modelling runs give pandera's verdict, row for row.

``vm_core.ingest.contract.SCHEMA`` (a pandera model) says what an evaluation is. Modelling does not run
pandera over millions of rows; it applies the contract as vectorised checks over Arrow batches
(``vm_core.ingest.modelling``). Here the same answers go both ways — through
``modelling.model`` from landed rows, and through one lazy pandera validation of the equivalent
evaluation frame (:func:`whole_frame`) — and must quarantine the same rows for the same reasons.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pytest

from vm_core.ingest import modelling
from vm_core.ingest.connector import AnswerPlan
from vm_core.ingest.contract import EVALUATION_COLUMNS, QUARANTINE_COLUMNS, SCHEMA
from vm_core.ingest.mapping import LevelParser, PartyRule, PerspectiveRule
from vm_core.ingest.modelling import Mapping, model
from vm_core.lake.storage import Lake

KEY = "a" * 64
OTHER_KEY = "b" * 64
DUPLICATE = "duplicate response for this respondent and Value Code; the later row is kept"
BELOW = "level below 1; levels are 1–5"
ABOVE = "level above 5; levels are 1–5"
SHORT_KEY = "respondent_key: failed str_length(64, 64)"
CODES = ("REL-TRUST", "REL-COMM", "DEL-QUALITY")
PLAN = AnswerPlan(
    table="answers", organisation="organisation", role="role", value_code="value_code", value="level",
    comment="comment", source_column="level",
)  # fmt: skip
MAPPING = Mapping(
    cycle=1,
    value_codes=CODES,
    levels=LevelParser({"Not applicable": None}, {}),
    parties=(PartyRule("client", ("Client*",)),),
    perspectives=(PerspectiveRule(None, "Director", "senior"),),
)


def answers(*rows: dict[str, Any]) -> list[dict[str, Any]]:
    base = {"respondent_key": KEY, "value_code": "REL-TRUST", "level": "3", "comment": None}
    return [{**base, **row} for row in rows]


def whole_frame(rows: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """(source_row, reason) per quarantined row from one lazy pandera validation of the whole frame."""
    reasons_by_check = {
        "multiple_fields_uniqueness": DUPLICATE,
        "greater_than_or_equal_to(1)": BELOW,
        "less_than_or_equal_to(5)": ABOVE,
    }
    base = {"cycle": 1, "party": "client", "role": "Director", "perspective": "senior", "blank": False,
            "source_key": "survey", "source_file": "answers.csv", "source_column": "level"}  # fmt: skip
    records = [
        {**base, **r, "value": r["level"], "level": None if r["level"] is None else int(r["level"])}
        for r in rows
    ]
    dtypes: dict[str, Any] = {"level": "Int64", "cycle": "int64", "source_row": "int64", "blank": bool}
    frame = pd.DataFrame(
        {
            name: pd.Series([r[name] for r in records], dtype=dtypes.get(name, object))
            for name in EVALUATION_COLUMNS
        }
    )
    try:
        SCHEMA.validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        ranked: dict[int, tuple[int, str]] = {}
        order = list(SCHEMA.columns)
        for index, column, check in cases[["index", "column", "check"]].itertuples(index=False):
            reason = reasons_by_check.get(check, f"{column}: failed {check}")
            rank = -1 if check == "multiple_fields_uniqueness" else order.index(column)
            if index not in ranked or rank < ranked[index][0]:
                ranked[index] = (rank, reason)
        return sorted((int(frame.loc[i, "source_row"]), reason) for i, (_, reason) in ranked.items())


def through_modelling(rows: list[dict[str, Any]], tmp_path: Path) -> tuple[list[tuple[int, str]], int]:
    """(source_row, reason) per quarantined answer, and the evaluations written, via modelling.model."""
    provenance = {"source_file": "answers.csv", "organisation": "Client Ltd", "role": "Director"}
    landed = pa_arrow.Table.from_pylist(
        [{**provenance, "response_id": f"R{r['source_row']}", **r} for r in rows]
    )
    lake = Lake(str(tmp_path / "lake"))
    with duckdb.connect() as con:
        con.register("landed", landed)
        modelled = model(con, lake, PLAN, MAPPING, "survey", "evaluations/test.parquet")
    quarantined = modelled.quarantined
    assert quarantined.column_names == list(QUARANTINE_COLUMNS)
    found = sorted(
        zip(
            quarantined.column("source_row").to_pylist(),
            quarantined.column("reason").to_pylist(),
            strict=True,
        )
    )
    assert Counter(r for _, r in found) == modelled.reasons
    return found, modelled.evaluations


def check(rows: list[dict[str, Any]], tmp_path: Path) -> list[tuple[int, str]]:
    found, evaluations = through_modelling(rows, tmp_path)
    assert found == whole_frame(rows)
    assert evaluations == len(rows) - len(found)
    return found


def test_valid_answers_pass(tmp_path: Path) -> None:
    rows = answers(
        {"source_row": 4, "level": "1"},
        {"source_row": 4, "value_code": "REL-COMM", "level": "5"},
        {"source_row": 4, "value_code": "DEL-QUALITY", "level": None},
        {"source_row": 5, "respondent_key": OTHER_KEY},
    )
    assert check(rows, tmp_path) == []


def test_levels_outside_1_to_5_are_quarantined(tmp_path: Path) -> None:
    rows = answers(
        {"source_row": 4, "level": "0"},
        {"source_row": 5, "level": "7", "respondent_key": OTHER_KEY},
        {"source_row": 6, "value_code": "REL-COMM", "level": "5"},
    )
    assert check(rows, tmp_path) == [(4, BELOW), (5, ABOVE)]


def test_a_duplicate_response_keeps_the_last_row(tmp_path: Path) -> None:
    rows = answers(
        {"source_row": 4, "level": "1"},
        {"source_row": 5, "level": "2", "respondent_key": OTHER_KEY},
        {"source_row": 6, "level": "3"},
        {"source_row": 7, "level": "4"},
    )
    assert check(rows, tmp_path) == [(4, DUPLICATE), (6, DUPLICATE)]


def test_which_reason_a_row_gets(tmp_path: Path) -> None:
    rows = answers(
        {"source_row": 2, "level": "9"},  # duplicate (of row 3) and level above 5: the duplicate
        {"source_row": 3},
        {"source_row": 4, "respondent_key": "not-a-digest", "level": "0"},  # key first, then level
        {"source_row": 9, "respondent_key": OTHER_KEY, "value_code": "DEL-QUALITY", "level": "-1"},
        {"source_row": 10, "respondent_key": "c" * 64, "level": "6"},
        {"source_row": 11, "respondent_key": "d" * 64},
    )
    assert check(rows, tmp_path) == [(2, DUPLICATE), (4, SHORT_KEY), (9, BELOW), (10, ABOVE)]


@pytest.mark.parametrize(("size", "batch"), [(50, None), (400, None), (400, 7)])
def test_random_answers_agree_with_pandera(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int, batch: int | None
) -> None:
    """``batch``: answers modelled a few at a time, so that duplicates fall in different batches."""
    import random

    if batch:
        monkeypatch.setattr(modelling, "ROW_GROUP", batch)
    rng = random.Random(size)
    keys = [KEY, OTHER_KEY, "c" * 64, "short", "d" * 64]
    rows = answers(
        *(
            {
                "source_row": i + 2,
                "respondent_key": rng.choice(keys),
                "value_code": rng.choice(CODES),
                "level": rng.choice(["1", "3", "5", "0", "6", "-2", None]),
            }
            for i in range(size)
        )
    )
    found = check(rows, tmp_path)
    assert {reason for _, reason in found} == {DUPLICATE, SHORT_KEY, BELOW, ABOVE}  # every check exercised
