"""The read side: the store opened for reading only, through a scope of relationships.

The review app reads through here and nowhere else. It never migrates the store (a data
engineer does, with ``vm migrate`` or any run), so the app can connect with a database role
that may only read; and it sees only the relationships its :class:`Scope` allows — today
from ``VM_SCOPE_RELATIONSHIPS``, with sign-in and roles (issue 9) a user's grants.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from vm_core.errors import VmError
from vm_core.store.db import make_engine, schema_revisions, session_factory


class StoreNotReady(VmError):
    """The store has no schema, or an older one than this version of vm reads."""


@dataclass(frozen=True)
class Scope:
    """Which relationships a reader may see (None: all of them)."""

    relationships: frozenset[str] | None = None

    def allows(self, relationship_key: str) -> bool:
        return self.relationships is None or relationship_key in self.relationships

    def narrow(self, keys: Iterable[str]) -> list[str]:
        return [key for key in keys if self.allows(key)]

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Scope:
        """``VM_SCOPE_RELATIONSHIPS``: comma-separated relationship keys; unset or empty: all."""
        value = (os.environ if env is None else env).get("VM_SCOPE_RELATIONSHIPS", "").strip()
        if not value:
            return cls()
        return cls(frozenset(key.strip() for key in value.split(",") if key.strip()))


EVERYTHING = Scope()


def _read_only(dialect: str) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if dialect == "sqlite":
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        cursor.close()
        if dialect != "sqlite":
            dbapi_connection.commit()

    return on_connect


@cache
def open_reader(database_url: str) -> sessionmaker[Session]:
    """Read-only sessions on the store; :class:`StoreNotReady` unless its schema is this vm's newest."""
    engine = make_engine(database_url)
    current, head = schema_revisions(engine)
    if current is None:
        raise StoreNotReady("the store has no schema yet: run `vm migrate` (or `vm run` / `vm demo`) first")
    if current != head:
        raise StoreNotReady(
            f"the store's schema is at revision {current}, this version of vm reads {head}: "
            "run `vm migrate` (a data engineer's step; the app never changes the store)"
        )
    event.listen(engine, "connect", _read_only(engine.dialect.name))
    engine.dispose()  # connections made before the listener are not read-only: drop them
    return session_factory(engine)
