"""Shared fixtures.

``store`` gives a freshly migrated domain store, with its own evaluation lake that
tests.factories writes into, and runs every test that uses it twice: on the embedded
SQLite store and on PostgreSQL (``VM_TEST_POSTGRES_URL``, default the local server's
``test`` database). Each PostgreSQL test gets its own
schema. Without a reachable server the PostgreSQL half is skipped on a developer
machine but FAILS when ``CI`` is set: CI must prove the same code runs on both.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from tests import factories
from vm_core.settings import Settings
from vm_core.store.db import make_engine, migrate, session_factory

# Tests never autoload installed plugins, and never phone home.
os.environ["VM_LOAD_PLUGINS"] = ""
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
# AppTest runs the app in-process: say it serves on loopback, wherever pytest is started from
os.environ.setdefault("STREAMLIT_SERVER_ADDRESS", "127.0.0.1")

REPO = Path(__file__).resolve().parent.parent
#: Real exports the connector tests read, copied into the repository with their provenance (README per folder).
SAMPLES = REPO / "tests" / "samples"
POSTGRES_URL = os.environ.get("VM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass
class Store:
    backend: str
    engine: Engine
    sessions: sessionmaker[Session]
    settings: Settings


def _postgres_available() -> str | None:
    try:
        engine = make_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    home = tmp_path / "vmhome"
    if request.param == "sqlite":
        url = f"sqlite:///{home / 'vm.sqlite'}"
        engine = make_engine(url)
        settings = Settings(
            home=home,
            database_url=url,
            landing="duckdb",
            landing_schema="vm_raw",
            secret_override="test-secret",
        )
        schema = None
    else:
        problem = _postgres_available()
        if problem:
            if os.environ.get("CI"):
                pytest.fail(f"CI is set but PostgreSQL at {POSTGRES_URL} is unreachable: {problem}")
            pytest.skip(f"PostgreSQL unreachable: {problem}")
        schema = f"vmt_{uuid.uuid4().hex[:10]}"
        admin = make_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        engine = make_engine(url)
        settings = Settings(
            home=home,
            database_url=url,
            landing="store",
            landing_schema=f"{schema}_raw",
            secret_override="test-secret",
        )
    migrate(engine)
    factories.use_lake(settings.lake())  # factories write evaluations where the pipeline reads them
    try:
        yield Store(request.param, engine, session_factory(engine), settings)
    finally:
        factories.use_lake(None)
        engine.dispose()
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}_raw" CASCADE'))
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}_raw_staging" CASCADE'))
            admin.dispose()


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A private copy of the demo relationship (configuration, library, exports) the test may edit."""
    target = tmp_path / "demo"
    shutil.copytree(REPO / "examples" / "demo", target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target / "relationship.yaml"


@pytest.fixture
def samples() -> Path:
    if not SAMPLES.exists():
        pytest.fail(f"sample exports missing from the repository: {SAMPLES.relative_to(REPO)}")
    return SAMPLES


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API for the whole session (its start-up costs ~20 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture
def vm_env(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Point Settings.from_env() (used by flows, CLI and app) at the test store."""
    monkeypatch.setenv("VM_HOME", str(store.settings.home))
    monkeypatch.setenv("VM_DATABASE_URL", store.settings.database_url)
    monkeypatch.setenv("VM_LANDING", store.settings.landing)
    monkeypatch.setenv("VM_LANDING_SCHEMA", store.settings.landing_schema)
    monkeypatch.setenv("VM_SECRET", "test-secret")
    return store


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``-n 2 --dist loadgroup`` (``make test``): one worker per test module, and every module
    that runs a Prefect flow on the same worker, so the session's temporary Prefect server starts once."""
    prefect_modules = {
        item.module.__name__
        for item in items
        if item.get_closest_marker("flow") or "prefect_harness" in getattr(item, "fixturenames", ())
    }
    for item in items:
        module = item.module.__name__
        item.add_marker(pytest.mark.xdist_group("prefect" if module in prefect_modules else module))
