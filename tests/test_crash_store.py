"""A store survives a kill during a migration, and concurrent migrations do not collide.

A subprocess migrates with ``VM_KILL_AT=migrate.<revision>`` (vm_core.failpoints) and is SIGKILLed
right after that revision applied: the store must be exactly as before (the whole upgrade is one
transaction), and the next migration must reach head with the same schema as a clean store.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text

from tests.conftest import POSTGRES_URL, REPO, _postgres_available
from vm_core.store.db import alembic_config, make_engine, migrate, schema_revisions


def _revisions() -> tuple[str, ...]:
    """Every migration revision, oldest first (a new migration is tested without editing this file)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(make_engine("sqlite://")))
    return tuple(reversed([revision.revision for revision in script.walk_revisions()]))


REVISIONS = _revisions()

MIGRATE = """
import sys
from vm_core.store.db import make_engine, migrate
migrate(make_engine(sys.argv[1]))
print("migrated", flush=True)
"""

#: Migrates with the failpoints recorded. The first process pauses at ``pause_at`` until the second
#: has sent its first SQL statement of the migration (``go_file``), then 0.5 s more: the two overlap.
MIGRATE_RECORDING = """
import os, sys, time
from sqlalchemy import event
from vm_core import failpoints
url, pause_at, go_file = sys.argv[1:4]
seen = []
def reached(name):
    seen.append(name)
    if name == pause_at:
        print("paused", flush=True)
        while not os.path.exists(go_file):
            time.sleep(0.02)
        time.sleep(0.5)
failpoints.reached = reached
import alembic.command, vm_core.store.models  # imported before the race starts
from vm_core.store.db import make_engine, migrate
engine = make_engine(url)
if pause_at == "-":
    event.listen(engine, "before_cursor_execute", lambda *_: open(go_file, "a").close())
migrate(engine)
print("applied", ",".join(seen), flush=True)
"""


def _env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **extra}


def _run(url: str, kill_at: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", MIGRATE, url],
        cwd=REPO,
        env=_env(VM_KILL_AT=kill_at),
        capture_output=True,
        text=True,
        timeout=120,
    )


class Stores:
    """Fresh, empty stores of one backend: SQLite files, or PostgreSQL schemas dropped at the end."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend, self.folder = backend, folder
        self.schemas: list[str] = []
        self.engines: list[Engine] = []
        self.admin = make_engine(POSTGRES_URL) if backend == "postgresql" else None

    def new(self) -> tuple[str, Engine]:
        if self.admin is None:
            url = f"sqlite:///{self.folder / uuid.uuid4().hex[:8] / 'vm.sqlite'}"
        else:
            schema = f"vmt_{uuid.uuid4().hex[:10]}"
            with self.admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            self.schemas.append(schema)
            url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        engine = make_engine(url)
        self.engines.append(engine)
        return url, engine

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()
        if self.admin is not None:
            with self.admin.begin() as conn:
                for schema in self.schemas:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            self.admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    if request.param == "postgresql":
        problem = _postgres_available()
        if problem:
            if os.environ.get("CI"):
                pytest.fail(f"CI is set but PostgreSQL at {POSTGRES_URL} is unreachable: {problem}")
            pytest.skip(f"PostgreSQL unreachable: {problem}")
    made = Stores(request.param, tmp_path)
    try:
        yield made
    finally:
        made.close()


def schema_of(engine: Engine) -> dict[str, Any]:
    """Tables with their columns, keys, indexes and checks, as SQLAlchemy's inspector sees them."""
    insp = inspect(engine)
    columns = insp.get_multi_columns()
    schema: dict[str, Any] = {table: {"columns": [(c["name"], str(c["type"]), c["nullable"]) for c in cols]}
                              for (_, table), cols in columns.items()}  # fmt: skip
    for (_, table), pk in insp.get_multi_pk_constraint().items():
        schema[table]["primary_key"] = pk["constrained_columns"]
    for (_, table), fks in insp.get_multi_foreign_keys().items():
        schema[table]["foreign_keys"] = sorted(
            (fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"]) for fk in fks
        )
    for (_, table), uniques in insp.get_multi_unique_constraints().items():
        schema[table]["unique"] = sorted((u["name"] or "", tuple(u["column_names"])) for u in uniques)
    for (_, table), indexes in insp.get_multi_indexes().items():
        schema[table]["indexes"] = sorted(
            (i["name"] or "", tuple(map(str, i["column_names"]))) for i in indexes
        )
    for (_, table), checks in insp.get_multi_check_constraints().items():
        schema[table]["checks"] = sorted(c["name"] or "" for c in checks)
    return schema


_CLEAN: dict[str, dict[str, Any]] = {}


def clean_schema(stores: Stores) -> dict[str, Any]:
    """The schema of a store migrated in one go, uninterrupted (once per backend)."""
    if stores.backend not in _CLEAN:
        _, engine = stores.new()
        migrate(engine)
        _CLEAN[stores.backend] = schema_of(engine)
    return _CLEAN[stores.backend]


def _killed(result: subprocess.CompletedProcess[str], failpoint: str) -> None:
    assert result.returncode == -signal.SIGKILL, (result.returncode, result.stderr[-2000:])
    assert f"failpoint {failpoint}: killing" in result.stderr


@pytest.mark.store
def test_a_first_migration_killed_part_way_leaves_nothing_and_the_next_run_completes(stores: Stores) -> None:
    url, engine = stores.new()
    for (
        revision
    ) in REVISIONS:  # killed after each revision in turn: after the first, in the middle, at the end
        _killed(_run(url, f"migrate.{revision}"), f"migrate.{revision}")
        assert schema_of(engine) == {}, f"a migration killed after {revision} left tables behind"

    migrate(engine)  # the next command
    assert schema_revisions(engine)[0] == REVISIONS[-1]
    assert schema_of(engine) == clean_schema(stores)


@pytest.mark.store
def test_an_upgrade_killed_part_way_keeps_the_old_schema_and_rows(stores: Stores) -> None:
    url, engine = stores.new()
    command.upgrade(alembic_config(engine), "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO library (key, name) VALUES ('acme', 'Acme'), ('globex', 'Globex')"))
    before = schema_of(engine)
    for revision in REVISIONS[1:]:  # 0002 copies the evaluation table (SQLite batch mode), 0003 adds columns
        _killed(_run(url, f"migrate.{revision}"), f"migrate.{revision}")
        assert schema_revisions(engine)[0] == "0001"
        assert schema_of(engine) == before, f"killed after {revision}: the 0001 schema changed"

    migrate(engine)
    assert schema_revisions(engine)[0] == REVISIONS[-1]
    assert schema_of(engine) == clean_schema(stores)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT key, name FROM library ORDER BY key")).all() == [
            ("acme", "Acme"),
            ("globex", "Globex"),
        ]


@pytest.mark.store
def test_two_processes_migrating_at_once_apply_each_revision_once(stores: Stores, tmp_path: Path) -> None:
    """The second waits for the first (SQLite write lock, PostgreSQL advisory lock), then finds head."""
    url, engine = stores.new()
    go = str(tmp_path / "go")

    def start(pause_at: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", MIGRATE_RECORDING, url, pause_at, go],
            cwd=REPO,
            env=_env(VM_KILL_AT=""),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    first = start("migrate.0001")  # pauses inside its migration transaction until the second starts
    assert first.stdout is not None
    assert first.stdout.readline().strip() == "paused"
    second = start("-")
    out_second, err_second = second.communicate(timeout=120)
    out_first, err_first = first.communicate(timeout=120)

    assert first.returncode == 0, err_first[-2000:]
    assert second.returncode == 0, err_second[-2000:]
    assert out_first.strip() == "applied " + ",".join(f"migrate.{r}" for r in REVISIONS)
    assert out_second.strip() == "applied"  # it waited, then found the schema at head
    assert schema_revisions(engine)[0] == REVISIONS[-1]
