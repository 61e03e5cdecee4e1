"""One run per relationship at a time: a second run is refused with who holds it, or waits for it,
and a killed run never leaves a stale lock (on the embedded store and on PostgreSQL)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import POSTGRES_URL, REPO, Store, _postgres_available
from vm_core.errors import VmError
from vm_core.store.db import make_engine
from vm_core.store.locks import RunInProgress, relationship_lock

KEY = "northwind-contoso"
REFUSED = re.compile(
    r"another run of 'northwind-contoso' is in progress \(pid (?P<pid>\d+), started \d\d:\d\d:\d\d UTC\); "
    r"wait for it to finish, or run again with --wait"
)

HOLDER = """
import sys, time
from vm_core.store.locks import relationship_lock
with relationship_lock(sys.argv[1], sys.argv[2]):
    print("locked", flush=True)
    time.sleep(60)
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL per backend (locks need no schema: an embedded store's folder, a PostgreSQL schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vmhome' / 'vm.sqlite'}"
        return
    problem = _postgres_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but PostgreSQL at {POSTGRES_URL} is unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    schema = f"vmt_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}"'))
        admin.dispose()


@pytest.mark.store
def test_a_second_run_is_refused_with_one_line_naming_the_holder(url: str) -> None:
    with relationship_lock(url, KEY):
        with pytest.raises(RunInProgress) as refused, relationship_lock(url, KEY):
            pytest.fail("a second holder got the lock")
        with relationship_lock(url, "another-relationship"):  # other relationships run freely
            pass
    message = str(refused.value)
    assert isinstance(refused.value, VmError)
    assert "\n" not in message
    match = REFUSED.fullmatch(message)
    assert match, message
    assert int(match["pid"]) == os.getpid()
    with relationship_lock(url, KEY):  # released at the end of the block
        pass


@pytest.mark.store
def test_wait_takes_the_lock_once_the_holder_releases_it(url: str) -> None:
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with relationship_lock(url, KEY):
            taken.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert taken.wait(10)
        started = time.monotonic()
        refused = pytest.raises(RunInProgress, match=r"still in progress after waiting 0.3 s \(pid \d+")
        with refused, relationship_lock(url, KEY, wait=0.3):
            pass
        assert time.monotonic() - started >= 0.3
        threading.Timer(0.4, release.set).start()
        with relationship_lock(url, KEY, wait=5):
            assert release.is_set()
    finally:
        release.set()
        holder.join(10)


@pytest.mark.store
def test_a_killed_run_leaves_no_stale_lock(url: str) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, KEY], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(RunInProgress) as refused, relationship_lock(url, KEY):
            pass
        match = REFUSED.fullmatch(str(refused.value))
        assert match, str(refused.value)
        assert int(match["pid"]) == child.pid
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    with relationship_lock(url, KEY, wait=3):  # the OS / server released it with the process
        pass


@pytest.mark.store
def test_locks_belong_to_one_store(url: str, tmp_path: Path) -> None:
    """The same relationship in another store (folder, or PostgreSQL schema) is another lock."""
    other = f"sqlite:///{tmp_path / 'elsewhere' / 'vm.sqlite'}" if url.startswith("sqlite") else POSTGRES_URL
    with relationship_lock(url, KEY), relationship_lock(other, KEY):
        pass


def test_vm_run_and_forget_take_the_lock(vm_env: Store, demo_copy: Path) -> None:
    """`vm run` while another run holds the relationship stops at once with the one line, and
    touches nothing; `vm participants forget` waits for the lock, then gives up with the same line."""
    from click.testing import CliRunner

    from vm_cli.main import main
    from vm_core.run.participants import forget
    from vm_core.store.models import LakeFile

    with relationship_lock(vm_env.settings.database_url, KEY):
        out = CliRunner().invoke(main, ["run", str(demo_copy), "--no-prefect"])
        assert out.exit_code == 1
        assert REFUSED.search(out.output), out.output
        with pytest.raises(RunInProgress, match="still in progress after waiting"):
            forget(vm_env.settings, KEY, "0" * 64, wait=0.3)
    with vm_env.sessions() as session:
        assert session.query(LakeFile).count() == 0  # nothing was read or written
