"""Files, secret, keys and serving hold when processes race, operators are careless, or someone tries.

Each test does what the issue's adversary did: two processes create the secret together, a fresh
install is inspected by another user, keys that differ only in punctuation, `streamlit run` from
another folder, killing `vm app`.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml
from sqlalchemy import select

from tests.conftest import Store
from vm_core.config import load_config
from vm_core.errors import ConfigError
from vm_core.keys import VALUE_CODE_IDENTIFIER
from vm_core.read.serving import is_loopback, serving_decision
from vm_core.run.doctor import diagnose, is_healthy
from vm_core.settings import SecretError, Settings
from vm_core.store.models import Relationship
from vm_core.store.relationships import sync_relationship

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "examples" / "demo" / "relationship.yaml"
APP_SCRIPT = REPO / "app" / "streamlit_app.py"
VM = Path(sys.executable).parent / "vm"
#: What points a process at an installation (or at how it serves): each test gives its own.
INSTALLATION_VARIABLES = frozenset(
    {"VM_HOME", "VM_DATABASE_URL", "VM_LANDING", "VM_SECRET", "PREFECT_HOME", "STREAMLIT_SERVER_ADDRESS"}
)
RACE_TRIALS = 250
RACERS = 4


# --- the pseudonym secret --------------------------------------------------------------------------


def _race_secret(base: str, trials: int, barrier: Any, results: Any) -> None:
    for trial in range(trials):
        settings = Settings.from_env({"VM_HOME": os.path.join(base, f"trial-{trial}")})
        barrier.wait()  # every racer asks for the secret of the same fresh home at the same moment
        try:
            results.put((trial, settings.secret().decode()))
        except Exception as exc:
            results.put((trial, f"{type(exc).__name__}: {exc}"))


def test_processes_creating_the_secret_together_all_get_the_same_non_empty_key(tmp_path: Path) -> None:
    context: Any = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    barrier, results = context.Barrier(RACERS), context.Queue()
    racers = [
        context.Process(target=_race_secret, args=(str(tmp_path), RACE_TRIALS, barrier, results))
        for _ in range(RACERS)
    ]
    for racer in racers:
        racer.start()
    keys: dict[int, set[str]] = {}
    for _ in range(RACE_TRIALS * RACERS):
        trial, key = results.get(timeout=60)
        keys.setdefault(trial, set()).add(key)
    for racer in racers:
        racer.join(timeout=30)
        assert racer.exitcode == 0
    assert len(keys) == RACE_TRIALS
    for trial, seen in keys.items():
        assert len(seen) == 1, f"trial {trial}: racers got different results {seen}"
        (key,) = seen
        assert re.fullmatch(r"[0-9a-f]{64}", key), f"trial {trial}: {key!r}"
        assert (tmp_path / f"trial-{trial}" / "secret.key").read_text().strip() == key
    leftovers = [p.name for p in tmp_path.glob("trial-*/*") if p.name != "secret.key"]
    assert leftovers == []  # no temporary file is left behind by the losers


@pytest.mark.parametrize(
    ("content", "problem"), [("", "is empty"), ("\n", "is empty"), ("0123abc", "is not 64 hex digits")]
)
def test_an_empty_or_corrupt_secret_is_a_clear_error_never_used(
    tmp_path: Path, content: str, problem: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "secret.key").write_text(content)
    with pytest.raises(SecretError) as error:
        Settings.from_env({"VM_HOME": str(home)}).secret()
    assert problem in str(error.value)
    assert "restore it from your backup" in str(error.value)
    assert "\n" not in str(error.value)
    assert (home / "secret.key").read_text() == content  # left for the operator to restore, not replaced


# --- file modes and vm doctor ----------------------------------------------------------------------


def _open_modes(home: Path) -> list[str]:
    return sorted(
        f"{path.relative_to(home)} {stat.S_IMODE(path.lstat().st_mode):04o}"
        for path in [home, *home.rglob("*")]
        if not path.is_symlink() and stat.S_IMODE(path.lstat().st_mode) & 0o077
    )


def _vm(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VM), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=lambda: os.umask(0o022),  # the usual login umask: files 0644, folders 0755
    )


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """VM_HOME after `vm run --no-prefect` of the demo's first cycle, started with umask 022."""
    home = tmp_path_factory.mktemp("demo") / "a" / "vmhome"
    env = {k: v for k, v in os.environ.items() if k not in INSTALLATION_VARIABLES}
    env["VM_HOME"] = str(home)
    done = _vm("run", "--no-prefect", "--cycle", "1", str(DEMO), env=env)
    assert done.returncode == 0, done.stderr
    return home, env


def test_everything_a_run_writes_under_vm_home_is_private(demo_home: tuple[Path, dict[str, str]]) -> None:
    home, _ = demo_home
    written = {p.relative_to(home).parts[0] for p in home.iterdir()}
    assert {"vm.sqlite", "secret.key", "lake", "prefect"} <= written
    assert _open_modes(home) == []
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "vm.sqlite").stat().st_mode) == 0o600
    parquet = sorted((home / "lake").rglob("*.parquet"))
    assert parquet  # evaluations and landed tables
    assert {stat.S_IMODE(p.stat().st_mode) for p in parquet} == {0o600}
    assert stat.S_IMODE(parquet[0].parent.stat().st_mode) == 0o700


def test_doctor_reports_an_open_install_and_fix_makes_it_private(
    demo_home: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    home, env = demo_home
    evaluations = next((home / "lake" / "evaluations").rglob("*.parquet"))
    opened = [home / "vm.sqlite", home / "secret.key", evaluations]
    for path in opened:
        path.chmod(0o644)
    (home / "lake").chmod(0o755)

    found = _vm("doctor", env=env, cwd=tmp_path)
    assert found.returncode == 1, found.stdout
    lines = found.stdout.splitlines()
    for path in [*opened, home / "lake"]:
        assert any(line.startswith("FAIL") and f"{path} is 0" in line for line in lines), (path, lines)
    assert any(line.startswith("FAIL  secret:") and "other users can read it" in line for line in lines)
    assert any(line.startswith("ok    store:") and "1 relationships, 3 cycles" in line for line in lines)

    fixed = _vm("doctor", "--fix", env=env, cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout
    assert f"{home / 'vm.sqlite'} was 0644, now 0600" in fixed.stdout
    assert f"{home / 'lake'} was 0755, now 0700" in fixed.stdout
    assert f"{evaluations} was 0644, now 0600" in fixed.stdout
    assert _open_modes(home) == []
    assert _vm("doctor", env=env, cwd=tmp_path).returncode == 0


def test_doctor_names_a_broken_secret_and_an_unreachable_store(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "secret.key").write_text("")
    (home / "secret.key").chmod(0o600)
    settings = Settings.from_env(
        {"VM_HOME": str(home), "VM_DATABASE_URL": "postgresql+psycopg://vm:hunter2@127.0.0.1:1/vm"}
    )
    findings = diagnose(settings, env={})
    assert not is_healthy(findings)
    lines = [f.line() for f in findings]
    assert any(line.startswith("FAIL  secret:") and "is empty" in line for line in lines), lines
    assert any(line.startswith("FAIL  store: cannot read") for line in lines), lines
    assert not any("hunter2" in line for line in lines)  # the password is never printed
    assert all("\n" not in line for line in lines)


def test_doctor_warns_when_streamlit_is_configured_to_serve_the_network(tmp_path: Path) -> None:
    settings = Settings.from_env({"VM_HOME": str(tmp_path / "home")})
    findings = diagnose(settings, env={"STREAMLIT_SERVER_ADDRESS": "0.0.0.0"})
    serving = [f for f in findings if f.topic == "serving"]
    assert [f.status for f in serving] == ["warn"]
    assert "STREAMLIT_SERVER_ADDRESS sets the address 0.0.0.0" in serving[0].message
    assert is_healthy(findings)  # the operator's decision, not a fault


# --- keys ------------------------------------------------------------------------------------------


def _config(tmp_path: Path, change: Any) -> Path:
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "relationship.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["relationship"].update(key="acme_1"),
            "relationship.key: 'acme_1' is not a valid relationship key: use lower-case letters and digits, "
            "words joined by single hyphens",
        ),
        (lambda d: d["relationship"].update(key="Acme-1"), "'Acme-1' is not a valid relationship key"),
        (lambda d: d["relationship"].update(key="acme--1"), "'acme--1' is not a valid relationship key"),
        (lambda d: d["relationship"].update(key="a" * 41), "at most 40 characters"),
        (
            lambda d: d["perspectives"][0].update(key="senior/lead"),
            "perspectives[0].key: 'senior/lead' is not a valid perspective key",
        ),
        (
            lambda d: d["parties"][0].update(key="north/wind"),
            "parties[0].key: 'north/wind' is not a valid party",
        ),
        (
            lambda d: d["parties"][0].update(key="all"),
            "parties[0].key: 'all' is reserved (the group of everyone)",
        ),
        (lambda d: d["perspectives"][2].update(key="all"), "perspectives[2].key: 'all' is reserved"),
        (
            lambda d: d["perspectives"][0].update(key="contoso"),
            "perspectives: 'contoso' is already a party key",
        ),
        (
            lambda d: d["cycles"][0]["sources"][0].update(key="diag/1"),
            "cycles[0].sources[0].key: 'diag/1' is not a valid source key",
        ),
    ],
)
def test_a_key_that_could_collide_downstream_is_refused_at_load(
    tmp_path: Path, change: Any, message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(_config(tmp_path, change))
    assert str(error.value).startswith("relationship.yaml: ")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_every_key_of_the_demo_is_valid() -> None:
    config = load_config(DEMO)
    assert config.key == "northwind-contoso"
    assert "front_line" in [p.key for p in config.perspectives]


def test_value_code_identifiers_follow_their_one_pattern() -> None:
    assert VALUE_CODE_IDENTIFIER.matches("REL-TRUST")
    assert VALUE_CODE_IDENTIFIER.matches("VC1.2_a")
    for bad in ("REL/TRUST", "REL TRUST", "-REL", "", "X" * 51):
        assert not VALUE_CODE_IDENTIFIER.matches(bad), bad


@pytest.mark.store
def test_a_new_key_sharing_a_landing_dataset_with_a_stored_one_is_refused(
    store: Store, tmp_path: Path
) -> None:
    """`acme_1` was stored before keys were checked; `acme-1` would land in the same dataset."""
    with store.sessions() as session, session.begin():
        session.add(Relationship(key="acme_1", name="Acme one", min_group_size=5, agreement={}))
    config = load_config(_config(tmp_path, lambda d: d["relationship"].update(key="acme-1")))
    with store.sessions() as session, session.begin(), pytest.raises(ConfigError) as error:
        sync_relationship(session, config)
    assert str(error.value) == (
        "relationship.yaml: relationship.key: 'acme-1' would share its landing dataset with relationship "
        "'acme_1' already in the store (both become 'acme_1'); choose another key"
    )
    with store.sessions() as session:
        assert list(session.scalars(select(Relationship.key))) == ["acme_1"]


# --- serving ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "explicit", "serve", "warns"),
    [
        ("127.0.0.1", True, True, False),
        ("localhost", True, True, False),
        ("::1", True, True, False),
        ("127.0.0.1", False, True, False),
        (None, False, False, False),  # nothing set: Streamlit listens on every interface
        ("", True, False, False),
        ("0.0.0.0", True, True, True),  # the operator's decision
        ("192.0.2.7", True, True, True),
    ],
)
def test_the_app_serves_on_loopback_or_an_address_someone_chose(
    address: str | None, explicit: bool, serve: bool, warns: bool
) -> None:
    decision = serving_decision(address, explicit)
    assert decision.serve is serve
    assert (decision.serve and decision.message is not None) is warns
    if not serve:
        assert "vm app" in (decision.message or "")
        assert "--server.address 127.0.0.1" in (decision.message or "")
    assert is_loopback(address) is (serve and not warns)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"not healthy in 60 s:\n{log.read_text()}")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """Start a command in an empty folder (no .streamlit/config.toml) and wait until it answers."""
    started: list[subprocess.Popen[bytes]] = []

    def start(command: list[str], port: int) -> subprocess.Popen[bytes]:
        folder = tmp_path / f"cwd-{port}"
        folder.mkdir()
        env = {k: v for k, v in os.environ.items() if k not in INSTALLATION_VARIABLES}
        env |= {"HOME": str(folder), "VM_HOME": str(folder / "vmhome"), "PYTHONPATH": str(REPO)}
        log = folder / "log.txt"
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
        started.append(process)
        _wait_healthy(port, process, log)
        return process

    yield start
    for process in started:
        for child in psutil.Process(process.pid).children(recursive=True) if process.poll() is None else []:
            child.kill()
        process.kill()
        process.wait()


def _page_texts(port: int) -> list[str]:
    """What one browser session of the app is sent: titles, alerts and markdown, in order."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    texts: list[str] = []
    with connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"], open_timeout=20) as ws:  # type: ignore[list-item]
        rerun = BackMsg()
        rerun.rerun_script.query_string = ""
        ws.send(rerun.SerializeToString())
        while True:
            message = ForwardMsg()
            message.ParseFromString(ws.recv(timeout=60))
            if message.WhichOneof("type") == "script_finished":
                return texts
            element = message.delta.new_element
            kind = element.WhichOneof("type")
            if kind in ("heading", "alert", "markdown"):
                texts.append(getattr(element, kind).body)


def _streamlit_run(port: int, *options: str) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(APP_SCRIPT), "--server.port", str(port),
            "--server.headless", "true", *options]  # fmt: skip


def test_streamlit_run_from_another_folder_listens_everywhere_so_the_app_shows_nothing(serve: Any) -> None:
    port = _free_port()
    process = serve(_streamlit_run(port), port)
    listening = {
        c.laddr.ip
        for p in [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
        for c in p.net_connections("inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    }
    assert listening
    assert not all(is_loopback(ip) for ip in listening)
    texts = _page_texts(port)
    assert any("listening on every network interface" in t and "vm app" in t for t in texts), texts
    assert not any(_reads_the_store(t) for t in texts), texts


def test_an_explicit_network_address_serves_with_a_warning(serve: Any) -> None:
    port = _free_port()
    serve(_streamlit_run(port, "--server.address", "0.0.0.0"), port)
    texts = _page_texts(port)
    assert any(t.startswith("Served on 0.0.0.0, not only on this computer") for t in texts), texts
    assert any(_reads_the_store(t) for t in texts), texts  # past the check: data is served


def _reads_the_store(text: str) -> bool:
    """What the app says after it opened the store of an empty VM_HOME (it never creates the schema)."""
    return "the store has no schema yet" in text or "There is no relationship in the store yet" in text


def _port_closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_the_app_stops_with_vm_app(serve: Any, stop: signal.Signals) -> None:
    if stop is signal.SIGKILL and not sys.platform.startswith("linux"):
        pytest.skip("a killed parent takes its child along on Linux only")
    port = _free_port()
    parent = serve([str(VM), "app", "--port", str(port)], port)
    children = psutil.Process(parent.pid).children(recursive=True)
    assert children, "vm app runs Streamlit as a child"
    os.kill(parent.pid, stop)
    parent.wait(timeout=30)
    _gone, alive = psutil.wait_procs(children, timeout=20)
    assert alive == []
    assert _port_closed(port)
