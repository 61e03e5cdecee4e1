"""The review app and a running flow share the embedded store and the lake without "database is locked" errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from vm_core.config import load_config
from vm_core.lake.evidence import cycle_counts
from vm_core.read.scores import read_scores
from vm_core.run import pipeline
from vm_core.run.orchestration import LocalSteps, run_relationship
from vm_core.settings import Settings
from vm_core.store.models import Cycle

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "examples" / "demo" / "relationship.yaml"

WRITER = """
import sys
from vm_core.config import load_config
from vm_core.run.orchestration import LocalSteps, run_relationship
from vm_core.settings import Settings
settings, config = Settings.from_env(), load_config(sys.argv[1])
for _ in range(int(sys.argv[2])):
    run_relationship(config, LocalSteps(settings), force=True)
print("writer done")
"""


def test_app_reads_while_a_flow_writes(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "VM_HOME": str(tmp_path / "home"),
        "VM_SECRET": "s",
        "VM_DATABASE_URL": "",
        "VM_LANDING": "",
    }
    env = {k: v for k, v in env.items() if v != ""}
    settings = Settings.from_env(env)
    config = load_config(DEMO)
    run_relationship(config, LocalSteps(settings), [1])  # something to read from the start

    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(DEMO), "1"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sessions = pipeline.open_store(settings)
    reads = 0
    deadline = time.monotonic() + 300
    while writer.poll() is None and time.monotonic() < deadline:
        with sessions() as session:  # what the app does on every rerun: short read-only sessions
            frame = read_scores(session, "northwind-contoso")
            assert not frame.empty
            cycle = session.scalars(select(Cycle).where(Cycle.number == 1)).one()
            counts = cycle_counts(session, settings.lake(), cycle)  # the committed lake files, read
            assert counts.participants > 0
        reads += 1
        time.sleep(0.2)  # a person clicking, not a busy loop competing with the writer for the CPU
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err[-2000:]
    assert "writer done" in out
    assert "database is locked" not in err
    assert reads >= 5, f"only {reads} reads happened while the writer ran"
