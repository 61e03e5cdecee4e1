"""A run killed at any point leaves nothing half done: the next run ends where a clean run ends.

Each kill is a real ``SIGKILL`` (``VM_KILL_AT``, vm_core.failpoints) of ``vm run --no-prefect``
in a subprocess, at the points where a crash matters: after landing, after modelling, inside
the commit transaction, after the commit, and inside the scoring transaction. The kills run
in parallel (one module fixture); each test then reruns and compares the store and the lake
with a clean run of the same delivery: the ``vm scores`` CSV, the quarantine, the source's
counts, and the rows of every committed lake file. Files the store does not name must be
gone after a garbage collection with no grace period, and every file it names must exist.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import Store
from tests.factories import invoke_vm, read_rows, write_rows
from vm_core.config import load_config
from vm_core.lake.external import manifest_path
from vm_core.lake.storage import EVALUATIONS
from vm_core.lake.upkeep import collect_garbage
from vm_core.read.scores import read_scores
from vm_core.run import pipeline
from vm_core.run.orchestration import LocalSteps, run_relationship
from vm_core.run.pipeline import SourceStatus
from vm_core.settings import Settings
from vm_core.store.models import LakeFile, Score, SourceLoad

REPO = Path(__file__).resolve().parent.parent
EXPORT = REPO / "tests" / "fixtures" / "golden" / "export_300x8"
KEY = "bench"
SECRET = "crash-test-secret"  # one secret everywhere: the same respondent has the same pseudonym
POINTS = (
    "source.landed",
    "source.modelled",
    "source.before_commit",
    "source.committed",
    "score.before_commit",
)
REMOVED = 20  # responses the second delivery no longer has


# ------------------------------------------------------------------------------------------ helpers


def _deliveries() -> tuple[list[list[str]], list[list[str]]]:
    """(first, second): the export with two bad cells (so there is a quarantine), then without its last 20."""
    rows = read_rows(EXPORT / "export.csv")
    tags = rows[0]
    rows[3 + 5][tags.index("Q3")] = "Excellent"  # not a level: one answer set aside
    rows[3 + 7][tags.index("Organisation")] = "Fabrikam Ltd"  # no party: the whole response set aside
    return rows, rows[:-REMOVED]


def _relationship(folder: Path, rows: list[list[str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("relationship.yaml", "library.csv"):
        shutil.copy(EXPORT / name, folder / name)
    write_rows(folder / "export.csv", rows)
    return folder / "relationship.yaml"


def _env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a subprocess: this repository first on the path, a private VM_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VM_", "PREFECT_"))}
    python_path = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    env |= {
        "PYTHONPATH": os.pathsep.join(python_path),
        "VM_HOME": str(home),
        "VM_SECRET": SECRET,
        "VM_LOAD_PLUGINS": "",
        **extra,
    }
    return env


def _settings(home: Path, **extra: str) -> Settings:
    return Settings.from_env({"VM_HOME": str(home), "VM_SECRET": SECRET, **extra})


def _vm(home: Path, *args: str, **extra: str) -> tuple[int, str]:
    return invoke_vm(home, SECRET, *args, **extra)


def _close_store(home: Path) -> None:
    """Close this process's connections to the home's store, so its folder can be copied whole."""
    pipeline._open(_settings(home).database_url)[0].dispose()


@dataclass(frozen=True)
class Snapshot:
    """What a user relies on after a run: scores, quarantine, the source's counts, the lake's rows."""

    scores: str
    quarantine: str
    loads: list[tuple[object, ...]]
    lake: dict[str, list[tuple[object, ...]]]  # table -> sorted rows of its committed files

    def lake_rows(self, table: str = EVALUATIONS) -> int:
        return len(self.lake.get(table, []))


def snapshot(home: Path) -> Snapshot:
    code, scores = _vm(home, "scores", "--format", "csv")
    assert code == 0, scores
    code, quarantine = _vm(home, "quarantine", "--format", "csv", "--reveal-values")
    assert code == 0, quarantine
    settings = _settings(home)
    with pipeline.open_store(settings)() as session:
        loads = [
            tuple(row)
            for row in session.execute(
                select(
                    SourceLoad.source_key,
                    SourceLoad.file_name,
                    SourceLoad.sha256,
                    SourceLoad.model_fingerprint,
                    SourceLoad.rows_read,
                    SourceLoad.evaluations,
                    SourceLoad.quarantined,
                ).order_by(SourceLoad.source_key)
            )
        ]
        files = session.execute(select(LakeFile.table_name, LakeFile.path)).all()
    by_table: dict[str, list[str]] = {}
    for table, path in files:
        by_table.setdefault(table, []).append(path)
    lake = settings.lake()
    rows = {
        table: sorted((tuple(r.values()) for r in lake.dataset(paths).to_table().to_pylist()), key=repr)
        for table, paths in by_table.items()
    }
    return Snapshot(scores, quarantine, loads, rows)


def assert_lake_tidy(home: Path) -> None:
    """Every committed file exists; after a sweep with no grace period, no other file does."""
    swept = _settings(home, VM_LAKE_GRACE_SECONDS="0")
    collect_garbage(swept, KEY)
    with pipeline.open_store(swept)() as session:
        committed = set(session.scalars(select(LakeFile.path)))
    on_disk = {path for path, _ in swept.lake().files()}
    assert committed, "nothing is committed"
    assert committed <= on_disk, f"committed files missing from the lake: {sorted(committed - on_disk)}"
    assert on_disk == committed, f"uncommitted files left in the lake: {sorted(on_disk - committed)}"
    # what outside engines read lists exactly the committed files, however the run before ended
    lake = swept.lake()
    listed: set[str] = set()
    for path in committed:
        listed |= set(Path(lake.full(manifest_path(path))).read_text(encoding="utf-8").split())
    assert listed == {lake.uri(path) for path in committed}


def assert_same(got: Snapshot, want: Snapshot) -> None:
    assert got.scores == want.scores
    assert got.quarantine == want.quarantine
    assert got.loads == want.loads
    assert got.lake.keys() == want.lake.keys()
    for table in want.lake:
        assert got.lake[table] == want.lake[table], f"the committed {table} rows differ"


# ------------------------------------------------------------------------------------------ fixtures


@dataclass(frozen=True)
class Clean:
    """Runs never killed: each delivery in a fresh home, and the second delivery over the first."""

    first: Snapshot
    second: Snapshot
    replaced: Snapshot  # the first delivery, then the second (--publish-held, so its scores show)
    first_home: Path


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Clean:
    root = tmp_path_factory.mktemp("clean")
    first, second = _deliveries()
    snapshots = []
    for name, rows in (("first", first), ("second", second)):
        config = _relationship(root / name, rows)
        home = root / name / "home"
        run_relationship(load_config(config), LocalSteps(_settings(home)))
        snapshots.append(snapshot(home))
        _close_store(home)
    config = _relationship(root / "replaced", second)
    shutil.copytree(root / "first" / "home", root / "replaced" / "home")
    settings = _settings(root / "replaced" / "home")
    run_relationship(load_config(config), LocalSteps(settings), publish_held=True)
    snapshots.append(snapshot(root / "replaced" / "home"))
    first_run, second_run, replaced_run = snapshots
    clean = Clean(first_run, second_run, replaced_run, first_home=root / "first" / "home")
    assert clean.first.quarantine.count("\n") > 2  # a quarantine to compare
    assert clean.second.lake_rows() < clean.first.lake_rows()
    assert clean.replaced.lake == clean.second.lake
    assert clean.replaced.scores == clean.second.scores != clean.first.scores  # published, not held
    return clean


@dataclass(frozen=True)
class Killed:
    folder: Path
    home: Path
    returncode: int
    stdout: str
    stderr: str


#: (case, kill point): "replace" kills the load of the second delivery over a committed first;
#: "first" kills the very first load, after which the export changes.
CASES = [("replace", point) for point in POINTS] + [("first", "source.landed")]


@pytest.fixture(scope="module")
def killed(clean: Clean, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Killed]:
    """Every kill of CASES, run in parallel subprocesses."""
    first, second = _deliveries()
    started = []
    for case, point in CASES:
        folder = tmp_path_factory.mktemp(f"{case}-{point.replace('.', '-')}")
        home = folder / "home"
        if case == "replace":
            shutil.copytree(clean.first_home, home)  # the first delivery, committed and scored
            config = _relationship(folder, second)
        else:
            config = _relationship(folder, first)
        process = subprocess.Popen(
            [sys.executable, "-m", "vm_cli.main", "run", str(config), "--no-prefect", "--publish-held"],
            cwd=folder,
            env=_env(home, VM_KILL_AT=point),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(((case, point), folder, home, process))
    done = {}
    for key, folder, home, process in started:
        out, err = process.communicate(timeout=300)
        done[key] = Killed(folder, home, process.returncode, out, err)
    return done


# ------------------------------------------------------------------------------------------ kills


@pytest.mark.parametrize("point", POINTS)
def test_a_load_killed_anywhere_is_completed_by_the_next_run(
    point: str, clean: Clean, killed: dict[tuple[str, str], Killed]
) -> None:
    """The second delivery's load over the first, killed at ``point``; a plain rerun finishes it.

    ``--publish-held``: the change is published (not held back by the re-scoring rule), so the
    scores show whether the rerun scored the new delivery.
    """
    run = killed["replace", point]
    assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
    assert f"failpoint {point}:" in run.stderr  # killed where meant, not anywhere else
    after_kill = snapshot(run.home)
    if point in ("source.committed", "score.before_commit"):
        # the load committed: its files, counts and quarantine are the data, but not yet scored
        assert_same(after_kill, replace(clean.replaced, scores=clean.first.scores))
    else:
        assert_same(after_kill, clean.first)  # nothing of the killed load is visible

    code, output = _vm(
        run.home, "run", str(run.folder / "relationship.yaml"), "--no-prefect", "--publish-held"
    )
    assert code == 0, output
    assert_same(snapshot(run.home), clean.replaced)
    assert_lake_tidy(run.home)


def test_a_first_load_killed_after_landing_then_a_changed_file_loads_the_change(
    clean: Clean, killed: dict[tuple[str, str], Killed]
) -> None:
    """Killed after landing the first export; the file then changes: the rerun reads the new file."""
    run = killed["first", "source.landed"]
    assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
    assert "failpoint source.landed:" in run.stderr
    _, second = _deliveries()
    write_rows(run.folder / "export.csv", second)

    code, output = _vm(run.home, "run", str(run.folder / "relationship.yaml"), "--no-prefect")
    assert code == 0, output
    assert f"{len(second) - 3} responses read" in output
    assert_same(snapshot(run.home), clean.second)
    assert_lake_tidy(run.home)


# ------------------------------------------------------------------------------------------ readers

WRITER = """
import os, shutil, sys
from pathlib import Path
from vm_core.config import load_config
from vm_core.run.orchestration import LocalSteps, run_relationship
from vm_core.settings import Settings

folder, loads = Path(sys.argv[1]), int(sys.argv[2])
settings = Settings.from_env()
for i in range(loads):
    shutil.copyfile(folder / ("second.csv" if i % 2 == 0 else "first.csv"), folder / "next.csv")
    os.replace(folder / "next.csv", folder / "export.csv")
    run_relationship(load_config(folder / "relationship.yaml"), LocalSteps(settings), publish_held=True)
print("writer done")
"""


def _observe(settings: Settings) -> tuple[int, int]:
    """(sum of n over the `all` groups, rows of the committed evaluation files) as a reader sees them."""
    with pipeline.open_store(settings)() as session:
        frame = read_scores(session, KEY)
        files = list(session.scalars(select(LakeFile.path).where(LakeFile.table_name == EVALUATIONS)))
    total = int(frame.loc[frame["group_kind"] == "all", "n"].sum())
    return total, settings.lake().dataset(files).count_rows()


def _all_n(snap: Snapshot) -> int:
    lines = [line.split(",") for line in snap.scores.splitlines()]
    header, body = lines[0], lines[1:]
    kind, n = header.index("group_kind"), header.index("n")
    return sum(int(row[n]) for row in body if row[kind] == "all")


@pytest.fixture
def writer(clean: Clean, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    folder = tmp_path / "relationship"
    home = tmp_path / "home"
    first, second = _deliveries()
    _relationship(folder, first)
    write_rows(folder / "first.csv", first)
    write_rows(folder / "second.csv", second)
    _close_store(clean.first_home)
    shutil.copytree(clean.first_home, home)
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(folder), "2"],
        cwd=tmp_path,
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process, home
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_readers_see_the_old_or_the_new_delivery_never_a_mix(
    clean: Clean, writer: tuple[subprocess.Popen[str], Path]
) -> None:
    process, home = writer
    settings = _settings(home)
    totals = {_all_n(clean.first), _all_n(clean.second)}
    rows = {clean.first.lake_rows(), clean.second.lake_rows()}
    seen_totals, seen_rows, reads = set(), set(), 0
    deadline = time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline:
        total, count = _observe(settings)
        assert total in totals, f"read {total} as the sum of n, neither {sorted(totals)}"
        assert count in rows, f"read {count} committed lake rows, neither {sorted(rows)}"
        seen_totals.add(total)
        seen_rows.add(count)
        reads += 1
        time.sleep(0.1)  # leave the writer the processor now and then
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-2000:]
    assert "writer done" in out
    assert reads >= 5, f"only {reads} reads happened while the writer ran"
    assert seen_totals == totals, "the reader never saw the scores change"
    assert seen_rows == rows, "the reader never saw the committed files change"
    # two loads: the second delivery, then the first again
    assert _observe(settings) == (_all_n(clean.first), clean.first.lake_rows())


# ------------------------------------------------------------------------------------- PostgreSQL


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)
@pytest.mark.parametrize("point", ["source.before_commit", "score.before_commit"])
def test_on_postgresql_a_run_killed_in_its_commit_is_completed_by_the_next(
    store: Store, point: str, tmp_path: Path
) -> None:
    """The store's transaction is what makes a load or its scores visible, on PostgreSQL too."""
    from tests.test_golden_scores import assert_golden_scores

    config = EXPORT / "relationship.yaml"
    home = tmp_path / "home"
    extra = {"VM_SECRET": "golden", "VM_DATABASE_URL": store.settings.database_url}
    killed = subprocess.run(
        [sys.executable, "-m", "vm_cli", "run", str(config), "--no-prefect"],
        env=_env(home, VM_KILL_AT=point, **extra),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    settings = Settings.from_env({"VM_HOME": str(home), "VM_LAKE_GRACE_SECONDS": "0", **extra})
    with pipeline.open_store(settings)() as session:
        scored = session.scalar(select(func.count()).select_from(Score))
    assert scored == 0  # killed inside the commit: nothing of the run is visible

    run = run_relationship(load_config(config), LocalSteps(settings))
    expected = SourceStatus.UNCHANGED if point == "score.before_commit" else SourceStatus.LOADED
    assert run.cycles[0].sources[0].status is expected
    assert_golden_scores(settings, KEY, "export_300x8")
    collect_garbage(settings, KEY)
    with pipeline.open_store(settings)() as session:
        committed = set(session.scalars(select(LakeFile.path)))
    assert {path for path, _ in settings.lake().files()} == committed  # every file committed, none stray
