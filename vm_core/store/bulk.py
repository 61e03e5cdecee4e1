"""Fast bulk inserts inside the session's transaction: COPY on PostgreSQL, executemany of tuples on SQLite.

The ORM's bulk insert builds one dict per row and splits batches wherever a None
changes the key set; for millions of evaluations that costs minutes and gigabytes.
Rows here are plain tuples streamed from column arrays.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

BATCH = 100_000


def bulk_insert(
    session: Session, table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no column(s) {unknown}")
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    assert raw is not None
    names = ", ".join(columns)
    cursor = raw.cursor()
    try:
        if connection.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            statement = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"
            iterator = iter(rows)
            while batch := list(islice(iterator, BATCH)):
                cursor.executemany(statement, batch)
    finally:
        cursor.close()
