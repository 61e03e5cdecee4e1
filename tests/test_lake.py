"""The lake's files as other engines and a failed write leave them (a local folder; S3: test_lake_s3.py)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.test_contract import MAPPING, PLAN, answers
from vm_core.ingest.modelling import EVALUATION_SCHEMA, model
from vm_core.lake.storage import Lake


def test_evaluations_read_back_as_plain_columns_in_any_engine(tmp_path: Path) -> None:
    """Written dictionary-encoded for speed, read as the strings and numbers of EVALUATION_SCHEMA."""
    landed = pa.Table.from_pylist(
        [
            {"source_file": "a.csv", "source_row": n, "response_id": f"R{n}", "organisation": "Client Ltd",
             "role": "Director", **row}
            for n, row in enumerate(answers({}, {"value_code": "REL-COMM", "level": "5"}), start=4)
        ]
    )  # fmt: skip
    lake = Lake(str(tmp_path / "lake"))
    with duckdb.connect() as con:
        con.register("landed", landed)
        model(con, lake, PLAN, MAPPING, "survey", "evaluations/x.parquet")
        file = lake.full("evaluations/x.parquet")
        assert pq.read_schema(file).remove_metadata() == EVALUATION_SCHEMA
        rows = con.execute(
            f"SELECT value_code, level, party, typeof(value_code) FROM read_parquet('{file}') ORDER BY 1"
        ).fetchall()
    assert rows == [("REL-COMM", 5, "client", "VARCHAR"), ("REL-TRUST", 3, "client", "VARCHAR")]


def test_a_write_that_fails_midway_leaves_no_file(tmp_path: Path) -> None:
    """Batches are encoded on a background thread: its error still reaches the writer, and the file goes."""
    lake = Lake(str(tmp_path / "lake"))
    schema = pa.schema([("n", pa.int64())])
    good = pa.record_batch([pa.array([1, 2])], schema=schema)
    wrong = pa.record_batch([pa.array(["x"])], names=["n"])  # a string column where int64 was declared

    with pytest.raises((pa.ArrowInvalid, ValueError)):
        lake.write_batches("t/broken.parquet", schema, [good, wrong, good])
    assert not (tmp_path / "lake" / "t" / "broken.parquet").exists()

    assert lake.write_batches("t/fine.parquet", schema, [good, good]) == 4
    assert pq.read_table(lake.full("t/fine.parquet")).column("n").to_pylist() == [1, 2, 1, 2]
