"""Alembic owns the schema: one head, and the models and migrations agree on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tests.conftest import Store
from vm_core.db import alembic_config
from vm_core.models import Base


def test_there_is_one_migration_head(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vm_core.db import make_engine

    script = ScriptDirectory.from_config(alembic_config(make_engine(f"sqlite:///{tmp_path}/x.sqlite")))
    assert len(script.get_heads()) == 1


@pytest.mark.store
def test_models_and_migrations_agree(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


@pytest.mark.store
def test_migrating_twice_is_harmless(store: Store) -> None:
    from vm_core.db import migrate

    migrate(store.engine)
    with store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0001"
