"""Prefect flow: run a relationship's cycles from its configuration file.

Thin by design: each task is one vm_core step at the grain of its side effect, and
tasks pass references (config path, cycle number, source key), not data frames.
Every run ends with the anonymity audit of the cycles it ran: a finding fails the run.
Only extraction retries: a transient read failure is worth another try, a bad
file (a ``VmError``) is not, and is reported as that source's failure while the
other sources and everything already stored stay as they were.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from flows.deployment import load_runtime_secrets
from vm_core import pipeline
from vm_core.config import load_config
from vm_core.errors import VmError
from vm_core.report import cycle_markdown, publication_notes
from vm_core.scoring import ScoreSummary
from vm_core.settings import Settings, private_files

private_files()  # everything a worker writes under VM_HOME is private (0600 files, 0700 folders)

EXTRACT_RETRIES = 2
EXTRACT_RETRY_DELAYS: list[float] = [2, 10]


def _retry_unless_bad_input(task: Any, task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except VmError:
        return False
    except Exception:
        return True
    return False


@task(
    name="extract-load",
    retries=EXTRACT_RETRIES,
    retry_delay_seconds=EXTRACT_RETRY_DELAYS,
    retry_condition_fn=_retry_unless_bad_input,
)
def extract_load(config_path: str, cycle: int, source_key: str, force: bool) -> dict[str, Any]:
    config = load_config(config_path)
    source = next(s for s in config.cycle(cycle).sources if s.key == source_key)
    return asdict(pipeline.extract_load(Settings.from_env(), config, cycle, source, force=force))


@task(name="model")
def model(config_path: str, cycle: int, source_key: str, landed: dict[str, Any]) -> dict[str, Any]:
    config = load_config(config_path)
    source = next(s for s in config.cycle(cycle).sources if s.key == source_key)
    result = pipeline.model_source(
        Settings.from_env(), config, cycle, source, pipeline.SourceResult(**landed)
    )
    return asdict(result)


@task(name="score")
def score(config_path: str, cycle: int, sources: list[dict[str, Any]], publish_held: bool) -> dict[str, Any]:
    results = [pipeline.SourceResult(**s) for s in sources]
    config = load_config(config_path)
    return asdict(pipeline.score(Settings.from_env(), config, cycle, results, publish_held=publish_held))


@task(name="audit-anonymity")
def audit(config_path: str, cycles: list[int]) -> int:
    """Raises AnonymityLeak (one line) when a published output could single someone out."""
    from vm_core.audit import all_clear

    tables = pipeline.audit(Settings.from_env(), load_config(config_path), cycles)
    print(f"anonymity audit: {all_clear(tables)}")
    return tables


@task(name="prepare")
def prepare(config_path: str) -> None:
    pipeline.prepare(Settings.from_env(), load_config(config_path))


@flow(name="run-relationship", log_prints=True)
def run_relationship(
    config_path: str,
    cycles: list[int] | None = None,
    remodel: bool = False,
    force: bool = False,
    publish_held: bool = False,
) -> list[dict[str, Any]]:
    """Ingest, validate, store, score and audit the given cycles (all configured cycles when None).

    ``publish_held``: publish newer data that the re-scoring rule holds back (an administrator's
    decision: earlier outputs of the cycle can then be differenced).
    """
    load_runtime_secrets()  # a deployment's Secret blocks (VM_SECRET_BLOCKS), before anything reads settings
    config_path = str(Path(config_path).resolve())
    config = load_config(config_path)
    prepare(config_path)
    numbers = cycles or [c.number for c in config.cycles]
    results = []
    for number in numbers:
        cycle_cfg = config.cycle(number)
        sources = []
        for source in cycle_cfg.sources:
            if remodel:
                landed = asdict(
                    pipeline.SourceResult(number, source.key, source.path.name, status="remodelled")
                )
            else:
                state = extract_load(config_path, number, source.key, force, return_state=True)
                if state.is_failed():
                    error = _one_line(state)
                    print(f"cycle {number} · {source.key}: FAILED — {error}")
                    sources.append(
                        asdict(
                            pipeline.SourceResult(
                                number, source.key, source.path.name, status="failed", error=error
                            )
                        )
                    )
                    continue
                landed = state.result()
                if landed["status"] == "unchanged":
                    sources.append(landed)
                    continue
            sources.append(model(config_path, number, source.key, landed))
        summary = score(config_path, number, sources, publish_held)
        result = pipeline.with_scores(
            pipeline.CycleResult(number, cycle_cfg.mode, [pipeline.SourceResult(**s) for s in sources]),
            ScoreSummary(**summary),
        )
        for note in publication_notes(result):
            print(note)
        create_markdown_artifact(
            key=f"{_slug(config.key)}-cycle-{number}",
            markdown=cycle_markdown(config, result),
            description=f"{config.name}: cycle {number} run summary",
        )
        results.append(asdict(result))
    audit(config_path, numbers)
    return results


def _one_line(state: Any) -> str:
    try:
        state.result()
    except Exception as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return "failed"


def _slug(key: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in key.lower())
