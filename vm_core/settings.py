"""Installation settings, read from the environment once and passed explicitly.

``VM_HOME``          folder for the embedded store, landing data and the secret (default ``./.vm``)
``VM_DATABASE_URL``  SQLAlchemy URL of the domain store (default: SQLite file in VM_HOME)
``VM_LANDING``       where dlt lands raw data: ``duckdb`` (a file in VM_HOME, used only by flows)
                     or ``store`` (the store's own PostgreSQL database). Default: duckdb for an
                     embedded store, store for PostgreSQL.
``VM_LANDING_SCHEMA`` dataset/schema prefix for landed data (default ``vm_raw``)
``VM_SECRET``        installation secret for pseudonymisation; default: ``VM_HOME/secret.key``,
                     created with 32 random bytes on first use.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    landing: str
    landing_schema: str
    secret_override: str | None = None

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
        )

    def secret(self) -> bytes:
        """The installation secret keying respondent pseudonyms; created on first use."""
        if self.secret_override:
            return self.secret_override.encode()
        path = self.home / "secret.key"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        return path.read_text().strip().encode()
