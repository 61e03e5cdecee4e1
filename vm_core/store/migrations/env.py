"""Alembic environment: the engine is handed in by vm_core.store.db (no URL in an ini file).

The whole upgrade runs in ONE transaction on both backends (``vm_core.store.db.migration_transaction``):
a process killed between two revisions, or in the middle of one, leaves the store as it was, and a
second process migrating at the same time waits, then finds the schema at head and does nothing.
"""

from __future__ import annotations

from typing import Any

from alembic import context

from vm_core import failpoints
from vm_core.store.db import migration_transaction
from vm_core.store.models import Base

config = context.config
target_metadata = Base.metadata


def _applied(*, step: Any, **_: Any) -> None:
    failpoints.reached(f"migrate.{step.up_revision_id}")


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from vm_core.settings import Settings
        from vm_core.store.db import make_engine

        engine = make_engine(Settings.from_env().database_url)
    with engine.connect() as connection, migration_transaction(connection):
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            transaction_per_migration=False,
            on_version_apply=_applied,
        )
        with context.begin_transaction():  # no-op: migration_transaction is the transaction
            context.run_migrations()


run_migrations_online()
