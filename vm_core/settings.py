"""Installation settings, read from the environment once and passed explicitly.

``VM_HOME``          folder for the embedded store, landing data and the secret (default ``./.vm``)
``VM_DATABASE_URL``  SQLAlchemy URL of the domain store (default: SQLite file in VM_HOME)
``VM_LAKE_URL``      where the evaluation lake lives (vm_core.lake.storage): a folder, or an object-store URL
                     such as ``s3://bucket/prefix``. Default: ``VM_HOME/lake``.
``VM_LAKE_GRACE_SECONDS`` how long a replaced lake file stays for readers that listed it (default 600)
``VM_LANDING``       where dlt lands raw data of API connectors: ``duckdb`` (a file in VM_HOME) or
                     ``store`` (the store's own PostgreSQL database). Default: duckdb for an
                     embedded store, store for PostgreSQL.
``VM_LANDING_SCHEMA`` dataset/schema prefix for dlt-landed data (default ``vm_raw``)
``VM_LANDING_RETENTION_DAYS`` days landed raw data is kept (default: unset, kept until removed);
                     each run and ``vm landing purge`` delete landed files older than that
``VM_SECRET``        installation secret for pseudonymisation; default: ``VM_HOME/secret.key``,
                     created with 32 random bytes on first use.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from vm_core.errors import VmError

if TYPE_CHECKING:
    from vm_core.lake.storage import Lake

#: Masks group and other bits off every file and folder a process creates: 0600 files, 0700 folders.
PRIVATE_UMASK = 0o077
SECRET_FILE = "secret.key"
#: What ``secret()`` writes: 32 random bytes as 64 lower-case hex digits.
_SECRET_FORMAT = re.compile(r"[0-9a-f]{64}")


class SecretError(VmError):
    """The installation secret exists but cannot be used."""


def private_files() -> None:
    """Make everything this process creates private to its owner (call first at every entry point).

    The store, its -wal/-shm files, the DuckDB landing, dlt's load packages and Prefect's database
    are created by libraries that take the process umask, so the umask is the one place to say it.
    """
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) readable by its owner only."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    landing: str
    landing_schema: str
    secret_override: str | None = None
    landing_retention_days: int | None = (
        None  # None: landed raw data is kept (vm_core.lake.upkeep.purge_expired)
    )
    lake_url: str = ""  # "" = VM_HOME/lake
    lake_grace_seconds: int = 600

    def lake(self) -> Lake:
        """The evaluation lake (opened once per process and location)."""
        return _lake(self.lake_url or str(self.home / "lake"))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ) if env is None else env
        home = Path(env.get("VM_HOME", ".vm")).expanduser().resolve()
        url = env.get("VM_DATABASE_URL") or f"sqlite:///{home / 'vm.sqlite'}"
        default_landing = "duckdb" if url.startswith("sqlite") else "store"
        landing = env.get("VM_LANDING", default_landing)
        if landing not in ("duckdb", "store"):
            raise ValueError(f"VM_LANDING must be 'duckdb' or 'store', not {landing!r}")
        return cls(
            home=home,
            database_url=url,
            landing=landing,
            landing_schema=env.get("VM_LANDING_SCHEMA", "vm_raw"),
            secret_override=env.get("VM_SECRET") or None,
            landing_retention_days=_retention_days(env.get("VM_LANDING_RETENTION_DAYS", "")),
            lake_url=env.get("VM_LAKE_URL", ""),
            lake_grace_seconds=int(env.get("VM_LAKE_GRACE_SECONDS") or 600),
        )

    @property
    def secret_path(self) -> Path:
        return self.home / SECRET_FILE

    def secret(self) -> bytes:
        """The installation secret keying respondent pseudonyms; created on first use.

        Processes starting together all get the one key that was written first, never an empty one.
        """
        if self.secret_override:
            return self.secret_override.encode()
        path = self.secret_path
        if not path.exists():
            _create_secret(path)
        return read_secret(path).encode()


def _retention_days(value: str) -> int | None:
    if not value.strip():
        return None
    if not value.strip().isdigit() or int(value) < 1:
        raise ValueError(
            f"VM_LANDING_RETENTION_DAYS must be a whole number of days (1 or more), not {value!r}"
        )
    return int(value)


def read_secret(path: Path) -> str:
    """The secret stored at ``path``; a one-line error when it is empty or not what ``secret()`` writes."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"{path}: cannot read the installation secret: {exc}") from None
    if not _SECRET_FORMAT.fullmatch(text):
        problem = "is empty" if not text else f"is not 64 hex digits ({len(text)} characters)"
        raise SecretError(
            f"{path}: the installation secret {problem}; restore it from your backup (a new secret makes "
            "every returning respondent a new person) or set VM_SECRET"
        )
    return text


def _create_secret(path: Path) -> None:
    """Write a new secret so that it appears complete or not at all; the first process to link it wins.

    The key is written and synced to a private temporary file beside it, then hard-linked into place:
    ``os.link`` fails when another process got there first, and that process's file is the secret.
    """
    make_private_dir(path.parent)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return
        _sync_dir(path.parent)
    finally:
        os.unlink(temporary)


def _sync_dir(path: Path) -> None:
    """Make a new directory entry durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@cache
def _lake(url: str) -> Lake:
    from vm_core.lake.storage import Lake

    return Lake(url)
