"""Prefect flow: run a relationship's cycles from its configuration file.

Thin by design: the plan of steps is :func:`vm_core.run.orchestration.run_relationship`, the same
one ``vm run --no-prefect`` and the benchmark run; here each step is a Prefect task at the grain
of its side effect, passing references (config path, cycle number, source key), not data.
Only reading a source retries: a transient read failure is worth another try, a bad file (a
``VmError``) is not. A source that fails leaves what was committed before as it was; the flow
run then ends **Failed** with a one-line message, after every other source, the scoring and
the anonymity audit have run. Such an expected failure (a ``VmError``) is returned as the run's
Failed state rather than raised: raised, Prefect logs it with a Python traceback, which tells a
data engineer nothing the one line does not.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from prefect import State, flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.states import Failed

from flows.deployment import load_runtime_secrets
from vm_core.config import RelationshipConfig, load_config
from vm_core.errors import VmError
from vm_core.run import pipeline
from vm_core.run.orchestration import run_relationship as run_plan
from vm_core.run.report import cycle_markdown, publication_notes
from vm_core.scoring import ScoreSummary
from vm_core.settings import Settings, private_files

private_files()  # everything a worker writes under VM_HOME is private (0600 files, 0700 folders)

SOURCE_RETRIES = 2
SOURCE_RETRY_DELAYS: list[float] = [2, 10]


def _retry_unless_bad_input(task: Any, task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except VmError:
        return False
    except Exception:
        return True
    return False


def _source_spec(config_path: str, cycle: int, source_key: str) -> tuple[RelationshipConfig, Any]:
    config = load_config(config_path)
    return config, next(s for s in config.cycle(cycle).sources if s.key == source_key)


@task(
    name="source",
    retries=SOURCE_RETRIES,
    retry_delay_seconds=SOURCE_RETRY_DELAYS,
    retry_condition_fn=_retry_unless_bad_input,
)
def source_task(config_path: str, cycle: int, source_key: str, force: bool) -> dict[str, Any]:
    """Read, land, model and commit one source of one cycle (or find it unchanged)."""
    config, source = _source_spec(config_path, cycle, source_key)
    return asdict(pipeline.run_source(Settings.from_env(), config, cycle, source, force=force))


@task(name="score")
def score_task(config_path: str, cycle: int, publish_held: bool) -> dict[str, Any] | None:
    summary = pipeline.score(Settings.from_env(), load_config(config_path), cycle, publish_held=publish_held)
    return asdict(summary) if summary is not None else None


@task(name="audit-anonymity")
def audit_task(config_path: str, cycles: list[int]) -> int:
    """Raises AnonymityLeak (one line) when a published output could single someone out."""
    from vm_core.read.audit import all_clear

    tables = pipeline.audit(Settings.from_env(), load_config(config_path), cycles)
    print(f"anonymity audit: {all_clear(tables)}")
    return tables


@task(name="prepare")
def prepare_task(config_path: str) -> None:
    pipeline.prepare(Settings.from_env(), load_config(config_path))


class PrefectSteps:
    """The plan's steps as Prefect tasks (run by the flow's process, which holds the run lock)."""

    def __init__(self, config_path: str, wait: float = 0):
        self.config_path = config_path
        self.wait = wait

    def lock(self, config: RelationshipConfig) -> AbstractContextManager[None]:
        from vm_core.store.locks import relationship_lock

        return relationship_lock(Settings.from_env().database_url, config.key, wait=self.wait)

    def prepare(self, config: RelationshipConfig) -> None:
        prepare_task(self.config_path)

    def source(
        self, config: RelationshipConfig, cycle: int, source_key: str, force: bool
    ) -> pipeline.SourceResult:
        state = source_task(self.config_path, cycle, source_key, force, return_state=True)
        if state.is_failed():
            error = _one_line(state)
            print(f"cycle {cycle} · {source_key}: FAILED — {error}")
            raise VmError(error)
        return pipeline.SourceResult(**state.result())

    def score(self, config: RelationshipConfig, cycle: int, publish_held: bool) -> ScoreSummary | None:
        summary = score_task(self.config_path, cycle, publish_held)
        return ScoreSummary(**summary) if summary is not None else None

    def audit(self, config: RelationshipConfig, cycles: list[int]) -> int:
        return audit_task(self.config_path, cycles)

    def report(self, config: RelationshipConfig, result: pipeline.CycleResult) -> None:
        for note in publication_notes(result):
            print(note)
        if result.no_data:
            print(f"cycle {result.cycle}: no data committed yet; nothing scored")
        create_markdown_artifact(
            key=f"{_slug(config.key)}-cycle-{result.cycle}",
            markdown=cycle_markdown(config, result),
            description=f"{config.name}: cycle {result.cycle} run summary",
        )


@flow(name="run-relationship", log_prints=True)
def run_relationship(
    config_path: str,
    cycles: list[int] | None = None,
    force: bool = False,
    publish_held: bool = False,
    wait: float = 0,
) -> list[dict[str, Any]] | State:
    """Ingest, validate, store, score and audit the given cycles (all configured cycles when None).

    ``publish_held``: publish newer data that the re-scoring rule holds back (an administrator's
    decision: earlier outputs of the cycle can then be differenced). ``wait``: seconds to wait for
    another run of the same relationship to finish before giving up.
    """
    load_runtime_secrets()  # a deployment's Secret blocks (VM_SECRET_BLOCKS), before anything reads settings
    config_path = str(Path(config_path).resolve())
    try:
        run = run_plan(
            load_config(config_path),
            PrefectSteps(config_path, wait),
            cycles,
            force=force,
            publish_held=publish_held,
        )
    except VmError as exc:  # Failed with its one line (calling the flow raises ``exc`` again)
        return Failed(message=str(exc), data=exc)
    return [asdict(result) for result in run.cycles]


def _one_line(state: Any) -> str:
    try:
        state.result()
    except Exception as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return "failed"


def _slug(key: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in key.lower())
