"""Sessions that may write actions, for a reader of the store that otherwise only reads (the review app).

The app reads everything through read-only sessions (:func:`vm_core.read.reader.open_reader`).
Actions are the one thing its users write, so it opens a second engine for them here: on a store at
this vm's schema (it never migrates it either), and only for relationships its scope allows.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy.orm import Session, sessionmaker

from vm_core.read.reader import StoreNotReady
from vm_core.store.db import make_engine, schema_revisions, session_factory


@cache
def open_writer(database_url: str) -> sessionmaker[Session]:
    """Sessions that may write actions; :class:`StoreNotReady` unless the store is at this vm's schema."""
    engine = make_engine(database_url)
    current, head = schema_revisions(engine)
    if current != head:
        raise StoreNotReady(
            f"the store's schema is at revision {current}, this version of vm writes {head}: run `vm migrate`"
        )
    return session_factory(engine)
