"""Benchmark vm end to end against a DuckDB and a pandas baseline on one Qualtrics export.

    python bench/run.py --respondents N --value-codes K [--workdir DIR] [--skip-prefect] [--profile]

In one process: generate (or reuse) the export with ``bench/generate_export.py``, then time

(a) DuckDB: one SQL statement counting levels per Value Code × organisation × role;
(b) pandas: ``read_csv`` → ``melt`` → ``map`` → ``groupby().size()``, as an analyst would;
(c) vm end to end on the embedded store (fresh ``VM_HOME``; ``--database-url`` for PostgreSQL,
    in a schema of its own): the plan of steps ``vm run --no-prefect`` runs
    (:func:`vm_core.run.orchestration.run_relationship`), with sub-steps;
(d) a rerun with no new data, the same plan again (the source must come back "unchanged");

and, unless ``--skip-prefect``, the fixed cost of Prefect's temporary server: a trivial
``@flow`` in a subprocess, reported on its own line and not added to (c).

Checks that (a) and vm agree (level counts per Value Code in the ``all`` group, and ``n`` per
party × perspective cell) and exits 1 when they do not. Writes ``results.json`` to the workdir.
See bench/README.md for targets and measured figures.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import functools
import gc
import io
import json
import os
import platform
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for _path in (str(BENCH), str(REPO)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import generate_export as gen  # noqa: E402

# No telemetry, no plugins from entry points: the same settings as the tests.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("VM_LOAD_PLUGINS", "")

MB = 1024 * 1024
A_RUNS = 3
TARGETS = {"c_over_a": 3.0, "c_over_b": 1.0, "peak_rss_gb": 1.5, "rerun_share": 0.05}


# --------------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------------


def _rss() -> tuple[int, int]:
    """RSS of this process, and of all its descendants together (bytes)."""
    me = psutil.Process()
    children = 0
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            children += child.memory_info().rss
    return me.memory_info().rss, children


def _tree_rss() -> int:
    return sum(_rss())


class RssSampler:
    """Samples the RSS of the process tree every ``interval`` seconds; peak per phase and overall."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.peak = 0
        self.phase_peak = 0
        self.children_peak = 0
        self.phase_children_peak = 0
        self.watches: dict[int, list[int]] = {}  # token → [peak], one per open StepTimer call
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            own, children = _rss()
            self.peak = max(self.peak, own + children)
            self.phase_peak = max(self.phase_peak, own + children)
            self.children_peak = max(self.children_peak, children)
            self.phase_children_peak = max(self.phase_children_peak, children)
            for watch in list(self.watches.values()):
                watch[0] = max(watch[0], own + children)
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @contextlib.contextmanager
    def phase(self, into: dict[str, Any]) -> Iterator[None]:
        """Time a phase; store seconds and RSS (start, peak, end; MB) into ``into``."""
        gc.collect()
        start_rss = _tree_rss()
        self.phase_peak = start_rss
        self.phase_children_peak = 0
        began = time.perf_counter()
        try:
            yield
        finally:
            into["seconds"] = time.perf_counter() - began
            end_rss = _tree_rss()
            into["rss_start_mb"] = round(start_rss / MB)
            into["rss_peak_mb"] = round(max(self.phase_peak, end_rss) / MB)
            into["rss_end_mb"] = round(end_rss / MB)
            if self.phase_children_peak:
                into["rss_children_peak_mb"] = round(self.phase_children_peak / MB)


def _ru_maxrss_mb() -> int:
    """Peak RSS of this process so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    to_mb = 1024 if sys.platform != "darwin" else MB
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / to_mb)


class StepTimer:
    """Wraps functions where they are looked up; adds up the seconds spent in each, and its peak RSS."""

    def __init__(self, sampler: RssSampler) -> None:
        self.sampler = sampler
        self.steps: dict[str, dict[str, float]] = {}
        self._undo: list[tuple[Any, str, Any]] = []

    def wrap(self, owner: Any, attr: str, label: str) -> None:
        original = getattr(owner, attr)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            step = self.steps.setdefault(label, {"seconds": 0.0, "rss_peak_mb": 0, "rss_added_mb": 0})
            start_rss = _tree_rss()
            watch = [start_rss]
            token = id(watch)
            self.sampler.watches[token] = watch
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                step["seconds"] += time.perf_counter() - began
                del self.sampler.watches[token]
                peak = max(watch[0], _tree_rss())
                step["rss_peak_mb"] = max(step["rss_peak_mb"], round(peak / MB))
                step["rss_added_mb"] = max(step["rss_added_mb"], round((peak - start_rss) / MB))

        setattr(owner, attr, timed)
        self._undo.append((owner, attr, original))

    def take(self) -> dict[str, dict[str, float]]:
        """The steps so far (in the order they were first entered), then start again from zero."""
        taken = {label: {**step, "seconds": round(step["seconds"], 3)} for label, step in self.steps.items()}
        self.steps.clear()
        return taken

    def restore(self) -> None:
        for owner, attr, original in reversed(self._undo):
            setattr(owner, attr, original)
        self._undo.clear()


# --------------------------------------------------------------------------------------------------
# Baselines
# --------------------------------------------------------------------------------------------------


def _level_of(text: str | None, labels: dict[str, int]) -> int | None:
    if text is None:
        return None
    text = text.strip()
    if text in ("1", "2", "3", "4", "5"):
        return int(text)
    return labels.get(text)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def duckdb_counts(export: Path, manifest: dict[str, Any]) -> dict[tuple[str, str, str, int], int]:
    """(a) One SQL statement: read the CSV (data from row 4), unpivot the questions, map, count."""
    import duckdb

    with export.open(newline="", encoding="utf-8") as fh:
        names = next(csv.reader(fh))  # the export tags: header row 1
    questions = manifest["questions"]
    org, role = _ident(manifest["organisation_column"]), _ident(manifest["role_column"])
    columns = ", ".join(_ident(q) for q in questions)
    codes = ", ".join(f"({_literal(tag)}, {_literal(code)})" for tag, code in questions.items())
    labels = ", ".join(f"({_literal(text)}, {level})" for text, level in manifest["level_labels"].items())
    numbers = ", ".join(f"('{n}', {n})" for n in range(1, 6))
    sql = f"""
        WITH src AS (
            SELECT {org} AS organisation, {role} AS role, {columns}
            FROM read_csv(?, skip=3, header=false, names=?, all_varchar=true, delim=',', quote='"',
                          escape='"')
        ),
        long AS (UNPIVOT src ON {columns} INTO NAME question VALUE answer),
        codes(question, value_code) AS (VALUES {codes}),
        levels(answer, level) AS (VALUES {numbers}, {labels})
        SELECT c.value_code, l.organisation, l.role, v.level, count(*) AS n
        FROM long l JOIN codes c USING (question) JOIN levels v ON v.answer = trim(l.answer)
        GROUP BY ALL
    """
    with duckdb.connect() as con:
        rows = con.execute(sql, [str(export), names]).fetchall()
    return {(code, o, r, int(level)): int(n) for code, o, r, level, n in rows}


def pandas_counts(export: Path, manifest: dict[str, Any]) -> dict[tuple[str, str, str, int], int]:
    """(b) The analyst's way: read_csv (skip rows 2-3), melt, map, groupby().size()."""
    import pandas as pd

    org, role = manifest["organisation_column"], manifest["role_column"]
    levels = {str(n): n for n in range(1, 6)} | manifest["level_labels"]
    df = pd.read_csv(export, header=0, skiprows=[1, 2], dtype=str)
    long = df.melt(
        id_vars=[org, role], value_vars=list(manifest["questions"]), var_name="question", value_name="answer"
    )
    del df
    long["value_code"] = long["question"].map(manifest["questions"])
    long["level"] = long["answer"].str.strip().map(levels)
    counts = long.dropna(subset=["level"]).groupby(["value_code", org, role, "level"]).size()
    return {(code, o, r, int(level)): int(n) for (code, o, r, level), n in counts.items()}


# --------------------------------------------------------------------------------------------------
# vm
# --------------------------------------------------------------------------------------------------


def instrument(timer: StepTimer) -> None:
    """Time vm's sub-steps where vm_core looks them up (nothing in vm_core is changed)."""
    from vm_core.ingest.plugins import get_connector
    from vm_core.run import pipeline

    timer.wrap(pipeline, "_open", "store: open + migrate")
    timer.wrap(pipeline, "sync_relationship", "prepare: relationship, library import")
    connector = get_connector("qualtrics_csv")
    timer.wrap(connector, "fingerprint", "source: fingerprint (SHA-256 of the file)")
    timer.wrap(pipeline, "_land", "source: parse + pseudonymise + land (streamed to the lake)")
    timer.wrap(pipeline, "_model", "source: model (Arrow batches) + write evaluations")
    timer.wrap(pipeline, "_commit", "source: commit (manifest rows, counts, quarantine)")
    timer.wrap(pipeline, "cycle_counts", "score: one GROUP BY over the lake")
    timer.wrap(pipeline, "score_cycle", "score: anonymity engine + score rows")


def _fresh_schema(url: str) -> str:
    """A new, empty PostgreSQL schema for this run (dropped when the process exits)."""
    import atexit

    from sqlalchemy import create_engine, text

    schema = f"vm_bench_{os.getpid()}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))

    atexit.register(drop)
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def run_vm(
    sampler: RssSampler,
    timer: StepTimer,
    home: Path,
    config_path: Path,
    profiler: cProfile.Profile | None,
    database_url: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any], Any]:
    from vm_core.config import load_config
    from vm_core.run.orchestration import LocalSteps, run_relationship
    from vm_core.settings import Settings

    if home.exists():
        shutil.rmtree(home)
    env = {"VM_HOME": str(home)} | ({"VM_DATABASE_URL": _fresh_schema(database_url)} if database_url else {})
    settings = Settings.from_env(env)
    config = load_config(config_path)

    class TimedSteps(LocalSteps):
        """The plan's steps in this process, each timed (what `vm run --no-prefect` runs)."""

        def __init__(self, into: dict[str, float]):
            super().__init__(settings)
            self.into = into

        def _timed(self, label: str, call: Any, *args: Any) -> Any:
            began = time.perf_counter()
            try:
                return call(*args)
            finally:
                self.into[label] = self.into.get(label, 0.0) + time.perf_counter() - began

        def prepare(self, config: Any) -> None:
            self._timed("prepare", super().prepare, config)

        def source(self, config: Any, cycle: int, source_key: str, force: bool) -> Any:
            return self._timed(
                "source (read, land, model, commit)", super().source, config, cycle, source_key, force
            )

        def score(self, config: Any, cycle: int, publish_held: bool) -> Any:
            return self._timed("score", super().score, config, cycle, publish_held)

        def audit(self, config: Any, cycles: list[int]) -> int:
            return int(self._timed("anonymity audit", super().audit, config, cycles))

    full: dict[str, Any] = {"steps": {}}
    with sampler.phase(full):
        if profiler:
            profiler.enable()
        run = run_relationship(config, TimedSteps(full["steps"]))
        if profiler:
            profiler.disable()
    full["detail"] = timer.take()
    modelled = run.cycles[0].sources[0]
    full["source"] = {
        "status": str(modelled.status),
        "rows_read": modelled.rows_read,
        "evaluations": modelled.evaluations,
        "quarantined": modelled.quarantined,
        "participants": int(modelled.participants),
    }

    rerun: dict[str, Any] = {"steps": {}}
    with sampler.phase(rerun):  # what `vm run --no-prefect` does with the same file again
        result = run_relationship(config, TimedSteps(rerun["steps"]))
    rerun["detail"] = timer.take()
    rerun["status"] = str(result.cycles[0].sources[0].status)
    if rerun["status"] != "unchanged":
        raise SystemExit(f"FAIL: the rerun found the source {rerun['status']!r}, expected 'unchanged'")
    return full, rerun, settings


def stored_scores(settings: Any, relationship_key: str) -> Any:
    from vm_core.read.scores import read_scores
    from vm_core.run.pipeline import open_store

    with open_store(settings)() as session:
        return read_scores(session, relationship_key, 1)


def check_counts(baseline: dict[tuple[str, str, str, int], int], scores: Any) -> list[str]:
    """Differences between the baseline's counts and vm's stored scores (empty list: they agree)."""
    party_of = {org: v[0] for org, v in gen.ORGANISATIONS.items()}
    perspective_of = {role: v[0] for role, v in gen.ROLES.items()}
    per_code: dict[str, list[int]] = defaultdict(lambda: [0] * 5)
    per_cell: dict[tuple[str, str], int] = defaultdict(int)
    for (code, org, role, level), n in baseline.items():
        per_code[code][level - 1] += n
        per_cell[(code, f"{party_of[org]}/{perspective_of[role]}")] += n
    problems = []
    # Hidden groups publish no number (docs/anonymity.md): compare what is shown; 'all' must be.
    shown = scores[~scores["suppressed"]]
    everyone = shown[shown["group_kind"] == "all"]
    if len(everyone) != (scores["group_kind"] == "all").sum():
        problems.append("the 'all' group is hidden for some Value Code")
    stored = {
        row.value_code: [int(getattr(row, f"l{lv}") or 0) for lv in range(1, 6)]
        for row in everyone.itertuples(index=False)
    }
    for code in sorted(set(per_code) | set(stored)):
        if per_code.get(code, [0] * 5) != stored.get(code, [0] * 5):
            problems.append(f"{code} all: baseline l1..l5 {per_code.get(code)} vs vm {stored.get(code)}")
    cells = shown[shown["group_kind"] == "party_perspective"]
    stored_n = {(row.value_code, row.group): int(row.n) for row in cells.itertuples(index=False)}
    for key in sorted(set(stored_n)):
        if per_cell.get(key, 0) != stored_n.get(key, 0):
            problems.append(f"{key[0]} {key[1]}: baseline n {per_cell.get(key, 0)} vs vm {stored_n.get(key)}")
    return problems


# --------------------------------------------------------------------------------------------------
# Prefect
# --------------------------------------------------------------------------------------------------

_PREFECT_SCRIPT = """
import json, time
began = time.perf_counter()
from prefect import flow
imported = time.perf_counter()

@flow(name="bench-noop")
def noop() -> int:
    return 1

assert noop() == 1
print("BENCH " + json.dumps({"import": imported - began, "flow": time.perf_counter() - imported}))
"""


def prefect_startup(sampler: RssSampler, home: Path, label: str) -> dict[str, Any]:
    """A trivial @flow in a fresh Python: import prefect, start the temporary server, run, stop."""
    env = dict(os.environ)
    env.update(
        {
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
            "DO_NOT_TRACK": "1",
        }
    )
    env.pop("PREFECT_API_URL", None)
    out: dict[str, Any] = {"label": label}
    with sampler.phase(out):
        done = subprocess.run(
            [sys.executable, "-c", _PREFECT_SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    if done.returncode != 0:
        out["error"] = (done.stderr.strip().splitlines() or ["failed"])[-1]
        return out
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            parts = json.loads(line[6:])
            out["import_seconds"] = parts["import"]
            out["flow_seconds"] = parts["flow"]
    return out


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


def _fmt_s(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:8.2f}"


def report(results: dict[str, Any]) -> str:
    lines = []
    size = results["size"]
    lines.append(
        f"vm benchmark: {size['respondents']:,} respondents × {size['value_codes']} Value Codes = "
        f"{size['evaluations']:,} evaluations; export {size['export_mb']:.1f} MB; "
        f"{results['machine']['cpus']} CPUs; load average at start {results['machine']['load_average_at_start'][0]}"
    )
    lines.append("")
    lines.append(f"{'step':<58}{'seconds':>9}{'peak RSS MB':>13}")
    lines.append("-" * 80)

    def row(label: str, seconds: float | None, rss: int | None = None) -> None:
        lines.append(f"{label:<58}{_fmt_s(seconds):>9}{'' if rss is None else f'{rss:>13,}'}")

    a, b, c, d = (results[k] for k in ("a_duckdb", "b_pandas", "c_vm", "d_rerun"))
    runs = ", ".join(f"{r['seconds']:.2f}" for r in a["runs"])
    row(f"(a) DuckDB: one SQL statement (median of {runs})", a["seconds"], a["rss_peak_mb"])
    row("(b) pandas: read_csv, melt, map, groupby().size()", b.get("seconds"), b.get("rss_peak_mb"))
    row(f"(c) vm end to end ({results['store']})", c["seconds"], c["rss_peak_mb"])
    for label, seconds in c["steps"].items():
        row(f"    {label}", seconds)
    lines.append("    where the time goes (nested: a step includes the ones it calls):")
    for label, step in c["detail"].items():
        row(f"      · {label}", step["seconds"], step.get("rss_peak_mb"))
    row("(d) rerun, no new data (the same plan: vm run --no-prefect)", d["seconds"], d["rss_peak_mb"])
    for label, step in d["detail"].items():
        row(f"      · {label}", step["seconds"])
    row("imports: duckdb, pandas, pyarrow, vm_core (not in a-d)", results["imports"]["seconds"])
    for p in results.get("prefect", []):
        if "error" in p:
            row(f"Prefect {p['label']}: FAILED {p['error'][:30]}", p["seconds"])
        else:
            row(
                f"Prefect start-up, {p['label']}: trivial @flow, subprocess (not in c)",
                p["seconds"],
                p.get("rss_children_peak_mb"),
            )
            row(
                f"      · import prefect {p['import_seconds']:.1f} s; then flow incl. server start",
                p["flow_seconds"],
            )
    lines.append("-" * 80)
    r = results["ratios"]
    t = results["targets"]
    lines.append(
        f"(c)/(a) = {r['c_over_a']:.1f}   (target ≤ {t['c_over_a']:g}: "
        f"{'met' if r['c_over_a'] <= t['c_over_a'] else 'MISSED'})"
    )
    if r.get("c_over_b") is not None:
        lines.append(f"(c)/(b) = {r['c_over_b']:.1f}")
    lines.append(
        f"(d)/(c) = {r['d_over_c']:.1%}   (target ≤ {t['rerun_share']:.0%}: "
        f"{'met' if r['d_over_c'] <= t['rerun_share'] else 'MISSED'})"
    )
    m = results["memory"]
    lines.append(
        f"peak RSS: whole process {m['ru_maxrss_self_mb']:,} MB (ru_maxrss), vm phases "
        f"{m['vm_peak_mb']:,} MB (target ≤ {t['peak_rss_gb']:g} GB: "
        f"{'met' if m['vm_peak_mb'] <= t['peak_rss_gb'] * 1024 else 'MISSED'}), "
        f"process tree incl. children {m['tree_peak_mb']:,} MB, children alone "
        f"{m['children_peak_mb']:,} MB (psutil, sampled every 50 ms)"
    )
    s = c["source"]
    lines.append(
        f"vm stored {s['evaluations']:,} evaluations of {s['participants']:,} participants "
        f"({s['rows_read']:,} rows read, {s['quarantined']:,} quarantined)"
    )
    lines.append(results["check"])
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------


def prepare_export(
    workdir: Path, respondents: int, value_codes: int, seed: int, regenerate: bool
) -> tuple[dict[str, Any], float | None]:
    manifest_path = workdir / gen.MANIFEST
    if manifest_path.exists() and not regenerate:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        same = (manifest.get("respondents"), manifest.get("value_codes"), manifest.get("seed"))
        if same == (respondents, value_codes, seed) and (workdir / gen.EXPORT).exists():
            return manifest, None
    began = time.perf_counter()
    manifest = gen.generate(workdir, respondents, value_codes, seed)
    return manifest, time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, required=True)
    parser.add_argument("--value-codes", type=int, required=True)
    parser.add_argument(
        "--workdir",
        type=Path,
        help="where the export, the vm store and results.json go (default: bench/.work/<N>x<K>)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--regenerate", action="store_true", help="write the export even if it exists")
    parser.add_argument(
        "--skip-prefect",
        action="store_true",
        help="do not time Prefect's temporary server start-up (~20-40 s)",
    )
    parser.add_argument("--skip-pandas", action="store_true", help="do not run the pandas baseline")
    parser.add_argument(
        "--database-url",
        help="run vm against this store (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test); "
        "default: the embedded SQLite store. The relationship is dropped first.",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run (c) under cProfile (slower) and print the top functions",
    )
    args = parser.parse_args(argv)
    workdir = args.workdir or BENCH / ".work" / f"{args.respondents}x{args.value_codes}"
    workdir.mkdir(parents=True, exist_ok=True)

    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "targets": TARGETS,
        "profiled": args.profile,
        "store": "PostgreSQL" if args.database_url else "embedded store",
    }
    with RssSampler() as sampler:
        manifest, generated = prepare_export(
            workdir, args.respondents, args.value_codes, args.seed, args.regenerate
        )
        export = workdir / gen.EXPORT
        results["size"] = {
            "respondents": args.respondents,
            "value_codes": args.value_codes,
            "evaluations": args.respondents * args.value_codes,
            "export_mb": round(export.stat().st_size / 1e6, 1),
            "generated_seconds": None if generated is None else round(generated, 2),
        }

        imports: dict[str, Any] = {}
        with sampler.phase(imports):  # nobody's imports count in (a), (b) or (c)
            import duckdb  # noqa: F401
            import pandas  # noqa: F401

            import connectors.qualtrics_csv  # noqa: F401
            from vm_core.ingest.plugins import get_connector

            get_connector("qualtrics_csv")
        results["imports"] = imports

        a: dict[str, Any] = {"runs": []}
        for _ in range(A_RUNS):  # DuckDB's time varies from run to run here: take the median
            run_a: dict[str, Any] = {}
            with sampler.phase(run_a):
                baseline = duckdb_counts(export, manifest)
            a["runs"].append(run_a)
        a["seconds"] = statistics.median(r["seconds"] for r in a["runs"])
        a["rss_peak_mb"] = max(r["rss_peak_mb"] for r in a["runs"])
        results["a_duckdb"] = a

        timer = StepTimer(sampler)
        instrument(timer)
        profiler = cProfile.Profile() if args.profile else None
        try:
            c, d, settings = run_vm(
                sampler, timer, workdir / "vm_home", workdir / gen.CONFIG, profiler, args.database_url
            )
        finally:
            timer.restore()
        results["c_vm"], results["d_rerun"] = c, d
        # ru_maxrss is exact where 50 ms sampling can miss a spike; nothing before (c) comes close to it
        vm_peak = max(c["rss_peak_mb"], d["rss_peak_mb"], _ru_maxrss_mb())

        problems = check_counts(baseline, stored_scores(settings, gen.RELATIONSHIP_KEY))
        total = sum(baseline.values())
        results["check"] = (
            (
                f"counts agree: {total:,} levels, per Value Code (all) and per party × "
                "perspective cell, DuckDB = vm"
            )
            if not problems
            else "COUNTS DISAGREE"
        )

        b: dict[str, Any] = {}
        if not args.skip_pandas:
            with sampler.phase(b):
                pandas_result = pandas_counts(export, manifest)
            if pandas_result != baseline:
                problems.append("pandas and DuckDB baselines disagree")
                results["check"] = "COUNTS DISAGREE"
            del pandas_result
        results["b_pandas"] = b

        prefect_runs = []
        if not args.skip_prefect:
            with tempfile.TemporaryDirectory(prefix="vm-bench-prefect-") as home:
                prefect_runs.append(prefect_startup(sampler, Path(home), "cold"))
                prefect_runs.append(prefect_startup(sampler, Path(home), "warm"))
        results["prefect"] = prefect_runs
        tree_peak, children_peak = sampler.peak, sampler.children_peak

    results["memory"] = {
        "ru_maxrss_self_mb": _ru_maxrss_mb(),
        "tree_peak_mb": round(tree_peak / MB),
        "children_peak_mb": round(children_peak / MB),
        "vm_peak_mb": vm_peak,
    }
    results["ratios"] = {
        "c_over_a": c["seconds"] / a["seconds"],
        "c_over_b": c["seconds"] / b["seconds"] if b else None,
        "d_over_c": d["seconds"] / c["seconds"],
    }
    text = json.dumps(results, indent=2, default=float) + "\n"
    (workdir / "results.json").write_text(text, encoding="utf-8")
    print(report(results))
    if profiler:
        print_profile(profiler)
    if problems:
        print("\n".join(["FAIL: vm and the baseline disagree:", *problems[:20]]), file=sys.stderr)
        return 1
    return 0


def print_profile(profiler: cProfile.Profile, top: int = 40) -> None:
    """The top functions of (c) by cumulative and by own time (printed only: no file is written)."""
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    print("\ncProfile of (c) (its times include cProfile's overhead):")
    print(buffer.getvalue())


if __name__ == "__main__":
    sys.exit(main())
