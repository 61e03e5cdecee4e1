"""One run per relationship at a time.

``relationship_lock(database_url, relationship_key)`` is held for the whole of a run. A second run
of the same relationship against the same store is refused with one line (``RunInProgress``) that
says who holds it, or waits for it with ``wait=`` seconds.

- **PostgreSQL**: a session-level ``pg_try_advisory_lock`` on a dedicated connection kept open
  (in autocommit, so it holds no snapshot) for the duration. The key is the first 8 bytes of
  sha256 of the store's schema and the relationship key, so stores in different schemas of one
  database do not block each other. The connection's ``application_name`` is
  ``vm run <key> pid <pid>``; a refused run reads it, and the connection's start, back from
  ``pg_stat_activity``.
- **Embedded SQLite**: ``fcntl.flock`` on ``<store folder>/locks/<storage_name(key)>.lock``, a
  private file holding the holder's pid and start time. The lock file is never deleted (deleting
  a flock'ed file lets two processes lock two different files); its content is cleared on release.

Both are released by the operating system or the server when the holding process dies, even by
SIGKILL: a killed run never leaves a stale lock behind. (A child *forked* without exec while the
lock is held shares it; vm's subprocesses are exec'd, and the lock file is not inheritable.)
An in-memory SQLite store is private to its process: nothing to lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from vm_core.errors import VmError
from vm_core.keys import storage_name

#: Seconds between two attempts while waiting for a busy lock.
POLL_SECONDS: Final = 0.2
_APPLICATION_NAME = re.compile(r"^vm run (?P<key>.*) pid (?P<pid>\d+)$")


class RunInProgress(VmError):
    """Another process holds the run lock of this relationship."""

    def __init__(
        self, relationship_key: str, pid: int | None, started: datetime | None, waited: float = 0
    ) -> None:
        self.relationship_key, self.pid, self.started, self.waited = relationship_key, pid, started, waited
        holder = [f"pid {pid}"] if pid is not None else []
        if started is not None:
            started = started.astimezone(UTC)
            same_day = started.date() == datetime.now(UTC).date()
            holder.append(f"started {started.strftime('%H:%M:%S' if same_day else '%Y-%m-%d %H:%M:%S')} UTC")
        who = f" ({', '.join(holder)})" if holder else ""
        if waited > 0:
            super().__init__(
                f"another run of {relationship_key!r} is still in progress after waiting {waited:g} s{who}; "
                "wait for it to finish, or run again with a longer --wait"
            )
        else:
            super().__init__(
                f"another run of {relationship_key!r} is in progress{who}; "
                "wait for it to finish, or run again with --wait"
            )


@dataclass(frozen=True)
class _Holder:
    pid: int | None
    started: datetime | None


def advisory_key(scope: str, relationship_key: str) -> int:
    """PostgreSQL advisory lock key: first 8 bytes of sha256, as a signed 64-bit integer."""
    digest = hashlib.sha256(f"vm run\0{scope}\0{relationship_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def relationship_lock(database_url: str, relationship_key: str, *, wait: float = 0) -> Iterator[None]:
    """Hold the run lock of ``relationship_key`` in the store at ``database_url`` for the block.

    Busy: poll every 0.2 s for up to ``wait`` seconds, then raise ``RunInProgress`` (at once when
    ``wait`` is 0). Released when the block ends, or by the OS / server when the process dies.
    """
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or url.query.get("mode") == "memory":
            yield
            return
        with _file_lock(Path(database).parent / "locks", relationship_key, wait):
            yield
    else:
        with _advisory_lock(database_url, relationship_key, wait):
            yield


def _poll(
    try_lock: Callable[[], bool], relationship_key: str, wait: float, holder: Callable[[], _Holder]
) -> None:
    deadline = time.monotonic() + wait
    while not try_lock():
        if time.monotonic() >= deadline:
            found = holder()
            raise RunInProgress(relationship_key, found.pid, found.started, waited=wait)
        time.sleep(POLL_SECONDS)


# -- embedded store: flock on a file beside it -------------------------------------------------


@contextmanager
def _file_lock(folder: Path, relationship_key: str, wait: float) -> Iterator[None]:
    from vm_core.settings import make_private_dir

    make_private_dir(folder)
    path = folder / f"{storage_name(relationship_key)}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:

        def try_lock() -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        _poll(try_lock, relationship_key, wait, lambda: _read_holder(path))
        started = datetime.now(UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "started": started}).encode() + b"\n", 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_holder(path: Path) -> _Holder:
    """Who holds the lock file, as far as it says (the holder may not have written it yet)."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return _Holder(int(info["pid"]), datetime.fromisoformat(info["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return _Holder(None, None)


# -- PostgreSQL: session-level advisory lock on a dedicated connection ---------------------------


@contextmanager
def _advisory_lock(database_url: str, relationship_key: str, wait: float) -> Iterator[None]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    name = f"vm run {relationship_key[:40]} pid {os.getpid()}"
    engine = create_engine(
        database_url,
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={"application_name": name},
    )
    try:
        with engine.connect() as connection:
            key = advisory_key(connection.scalar(text("SELECT current_schema()")) or "", relationship_key)

            def try_lock() -> bool:
                return bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))

            def holder() -> _Holder:
                row = connection.execute(
                    text(
                        "SELECT a.application_name, a.backend_start FROM pg_locks l"
                        " JOIN pg_stat_activity a ON a.pid = l.pid"
                        " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
                        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                        " AND l.classid = :hi AND l.objid = :lo"
                    ),
                    {"hi": (key >> 32) & 0xFFFFFFFF, "lo": key & 0xFFFFFFFF},
                ).first()
                if row is None:
                    return _Holder(None, None)
                match = _APPLICATION_NAME.match(row.application_name or "")
                return _Holder(int(match["pid"]) if match else None, row.backend_start)

            _poll(try_lock, relationship_key, wait, holder)
            try:
                yield
            finally:
                connection.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    finally:
        engine.dispose()
