"""``vm doctor``: is this installation private and healthy? One line per finding.

It reads and reports; it changes nothing except, with ``fix=True``, the permissions of paths under
``VM_HOME`` that are more open than 0600 (files) / 0700 (folders). It never creates the store.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from vm_core.read.serving import LOOPBACK_ADDRESS, is_loopback
from vm_core.settings import PRIVATE_UMASK, SecretError, Settings, read_secret

Status = Literal["ok", "warn", "FAIL"]
#: Where ``streamlit run`` reads its address from besides the command line (later files win).
STREAMLIT_CONFIG_FILES: Final = (Path("~/.streamlit/config.toml"), Path(".streamlit/config.toml"))
STREAMLIT_ADDRESS_VARIABLE: Final = "STREAMLIT_SERVER_ADDRESS"


@dataclass(frozen=True)
class Finding:
    status: Status
    topic: str
    message: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.topic}: {self.message}"


def diagnose(settings: Settings, *, fix: bool = False, env: Mapping[str, str] | None = None) -> list[Finding]:
    """Every finding about the installation, in a fixed order: permissions, secret, store, landing, serving."""
    env = os.environ if env is None else env
    pseudonymised, store_findings = _store(settings)
    return [
        *_permissions(settings.home, fix),
        _secret(settings, pseudonymised),
        *store_findings,
        _landing(settings),
        _serving(env),
    ]


def is_healthy(findings: list[Finding]) -> bool:
    return all(f.status != "FAIL" for f in findings)


def _walk(home: Path) -> Iterator[Path]:
    yield home
    for folder, dirs, files in os.walk(home):  # symbolic links are neither followed nor changed
        for name in (*dirs, *files):
            yield Path(folder) / name


def _permissions(home: Path, fix: bool) -> list[Finding]:
    if not home.exists():
        return [Finding("ok", "permissions", f"{home} does not exist yet (created private on first run)")]
    if os.name != "posix":
        return [Finding("warn", "permissions", f"not checked on {os.name}: keep {home} in a private folder")]
    findings: list[Finding] = []
    checked = 0
    for path in _walk(home):
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            continue
        checked += 1
        mode = stat.S_IMODE(info.st_mode)
        if info.st_uid != os.getuid():
            findings.append(
                Finding("FAIL", "permissions", f"{path} belongs to another user (uid {info.st_uid})")
            )
        if not mode & PRIVATE_UMASK:
            continue
        private = mode & ~PRIVATE_UMASK
        if fix:
            path.chmod(private)
            findings.append(Finding("ok", "permissions", f"{path} was {mode:04o}, now {private:04o}"))
        else:
            kind = "folder" if stat.S_ISDIR(info.st_mode) else "file"
            findings.append(
                Finding(
                    "FAIL",
                    "permissions",
                    f"{path} is {mode:04o}: other users can reach this {kind} (`vm doctor --fix` makes it "
                    f"{private:04o})",
                )
            )
    if not findings:
        findings.append(
            Finding("ok", "permissions", f"{checked} paths under {home} are private to their owner")
        )
    return findings


def _secret(settings: Settings, pseudonymised: int | None) -> Finding:
    if settings.secret_override:
        return Finding("ok", "secret", "VM_SECRET is set (keep it stable and backed up)")
    path = settings.secret_path
    if not path.exists():
        if pseudonymised:
            return Finding(
                "FAIL",
                "secret",
                f"{path} is missing but the lake holds {pseudonymised} files of pseudonymised respondents: restore "
                "it from your backup before the next run, or returning respondents become new people",
            )
        return Finding("ok", "secret", f"{path} not created yet (created on first run)")
    try:
        read_secret(path)
    except SecretError as exc:
        return Finding("FAIL", "secret", str(exc))
    if stat.S_IMODE(path.stat().st_mode) & PRIVATE_UMASK:
        return Finding("FAIL", "secret", f"{path} is well-formed but other users can read it")
    return Finding("ok", "secret", f"{path} present, private and well-formed (back it up)")


def _store(settings: Settings) -> tuple[int | None, list[Finding]]:
    """(committed lake files, i.e. pseudonymised data, or None when unknown; findings about the store)."""
    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url

    from vm_core.store.db import make_engine, schema_revisions

    url = make_url(settings.database_url)
    label = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return 0, [
            Finding("ok", "store", f"no store yet at {url.database} (`vm run` or `vm demo` creates it)")
        ]
    engine = make_engine(settings.database_url)
    try:
        try:
            current, head = schema_revisions(engine)
        except Exception as exc:
            problem = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return None, [Finding("FAIL", "store", f"cannot read {label}: {problem}")]
        if current is None:
            return 0, [
                Finding("warn", "store", f"{label} is reachable but has no schema yet (`vm run` creates it)")
            ]
        findings = []
        if current != head:
            from alembic.script import ScriptDirectory
            from alembic.util import CommandError

            from vm_core.store.db import alembic_config

            try:
                ScriptDirectory.from_config(alembic_config(engine)).get_revision(current)
                findings.append(
                    Finding(
                        "warn",
                        "store",
                        f"schema at {current}, newest is {head}: the next `vm` command migrates it",
                    )
                )
            except CommandError:
                findings.append(
                    Finding(
                        "FAIL",
                        "store",
                        f"schema at {current}, unknown to this vm (newest {head}): a newer vm wrote it",
                    )
                )
                return None, findings
        from vm_core.store.models import Cycle, LakeFile, Relationship

        with engine.connect() as connection:
            counts = {
                label_: connection.scalar(select(func.count()).select_from(model)) or 0
                for label_, model in (
                    ("relationships", Relationship),
                    ("cycles", Cycle),
                    ("lake files", LakeFile),
                )
            }
        if current == head:
            findings.append(
                Finding("ok", "store", f"{label} reachable, schema at the newest migration ({head})")
            )
        findings.append(Finding("ok", "store", ", ".join(f"{n} {what}" for what, n in counts.items())))
        return counts["lake files"], findings
    finally:
        engine.dispose()


def _landing(settings: Settings) -> Finding:
    """Where data lands: the evaluation lake, and what it holds."""
    from vm_core.lake.storage import LakeError

    try:
        lake = settings.lake()
        files = lake.files()
    except LakeError as exc:
        return Finding("FAIL", "lake", str(exc))
    where = lake.url if not lake.local else lake.root
    return Finding("ok", "lake", f"{where}: {len(files)} Parquet files")


def _configured_address(env: Mapping[str, str]) -> tuple[str | None, str]:
    """The address ``streamlit run`` would listen on without a command-line flag, and where it comes from."""
    if env.get(STREAMLIT_ADDRESS_VARIABLE):
        return env[STREAMLIT_ADDRESS_VARIABLE], STREAMLIT_ADDRESS_VARIABLE
    address: str | None = None
    where = "no Streamlit configuration"
    for file in STREAMLIT_CONFIG_FILES:
        path = file.expanduser()
        try:
            server = tomllib.loads(path.read_text(encoding="utf-8")).get("server", {})
        except (OSError, tomllib.TOMLDecodeError):
            continue
        if isinstance(server, dict) and "address" in server:
            address, where = str(server["address"]), str(path)
    return address, where


def _serving(env: Mapping[str, str]) -> Finding:
    address, where = _configured_address(env)
    if address is None:
        return Finding(
            "ok",
            "serving",
            f"`vm app` listens on {LOOPBACK_ADDRESS} only; `streamlit run` here would listen everywhere "
            "(no address set), so the app would show nothing",
        )
    if is_loopback(address):
        return Finding("ok", "serving", f"`vm app` and `streamlit run` here listen on {address} ({where})")
    return Finding(
        "warn",
        "serving",
        f"{where} sets the address {address}: `streamlit run` here serves the results to the network "
        f"(`vm app` still listens on {LOOPBACK_ADDRESS} only)",
    )
