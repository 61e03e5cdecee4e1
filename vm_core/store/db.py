"""Engine and sessions for the domain store; schema is owned by Alembic.

The embedded store is one SQLite file in WAL mode: the review app reads while a
flow writes, without "database is locked" errors (readers never block the single
writer; a writer waits up to ``busy_timeout`` for another writer).

Migrations cannot half-happen: the whole upgrade, every revision it applies, runs in one
transaction (``migration_transaction``), so a process killed mid-way leaves the store exactly as
it was, and two processes migrating at once run one after the other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from vm_core.settings import make_private_dir

SQLITE_BUSY_TIMEOUT_MS = 60_000
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: The newest migration's revision (tests/test_migrations.py checks it is Alembic's head).
SCHEMA_HEAD = "0008"
#: PostgreSQL advisory lock serialising migrations of one database (first 8 bytes of sha256("vm migrate")).
MIGRATION_LOCK_KEY = int.from_bytes(hashlib.sha256(b"vm migrate").digest()[:8], "big", signed=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            make_private_dir(Path(path).parent)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the store's schema to the newest migration (idempotent).

    A store already at head is only read: opening it takes no write lock, so the review app does
    not wait for a run's write transaction. Otherwise the upgrade takes the lock and Alembic reads
    the revision again under it (another process may have just migrated).
    """
    from alembic import command

    current, head = schema_revisions(engine)
    if current is not None and current == head:
        return
    command.upgrade(alembic_config(engine), "head")


@contextmanager
def migration_transaction(connection: Connection) -> Iterator[None]:
    """One transaction around a whole migration, taken so that concurrent migrations queue.

    SQLite: pysqlite's legacy transaction handling opens transactions only before INSERT, UPDATE and
    DELETE, so Alembic's DDL ran in autocommit and a kill between two ``CREATE TABLE``, or inside a
    batch-mode table copy, left half a schema. For the duration, the DBAPI connection is
    switched to autocommit (``isolation_level=None``) and the transaction is opened with an explicit
    ``BEGIN IMMEDIATE``: DDL, Alembic's batch table copies and the version stamp then commit or roll
    back together (with foreign keys off, so a table copy cascades nothing), and ``IMMEDIATE`` takes the write lock before Alembic reads the current revision,
    so a second process waits (``busy_timeout``) and then finds the schema at head.

    PostgreSQL: DDL is transactional already; ``pg_advisory_xact_lock`` is taken first inside the
    transaction (released at commit, or by the server when the process dies).
    """
    if connection.dialect.name == "sqlite":
        dbapi = connection.connection.driver_connection
        previous = dbapi.isolation_level  # type: ignore[union-attr]
        dbapi.isolation_level = None  # type: ignore[union-attr]
        # Batch mode re-creates a table to alter it; with foreign keys on, dropping the old table
        # would cascade-delete every row that references it (a cycle's loads and scores). The pragma
        # is a no-op inside a transaction, so it is switched before BEGIN and back after the end.
        dbapi.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                yield
        finally:
            dbapi.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
            dbapi.isolation_level = previous  # type: ignore[union-attr]
    else:
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
            yield


def schema_revisions(engine: Engine) -> tuple[str | None, str | None]:
    """The store's migration revision and the newest one this version of vm knows (None: no schema).

    Read with one query and no Alembic import (which parses every migration): every command
    asks this, and most find the store at head.
    """
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None, SCHEMA_HEAD
        current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return current, SCHEMA_HEAD


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    with factory() as session, session.begin():
        yield session
