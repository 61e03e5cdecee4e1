"""One plan of steps for a relationship run, whoever runs it.

The Prefect flow (``flows/run_relationship.py``), ``vm run --no-prefect`` and the benchmark
all call :func:`run_relationship`; they differ only in how a step is executed
(:class:`Steps`: as a Prefect task, in this process, or timed). So the semantics are the same
everywhere:

- every source of every cycle is attempted; a source that fails is reported with its one-line
  error and leaves what was committed before as it was;
- a cycle is scored from what is committed; a cycle with no committed data is not scored;
- the anonymity audit runs over the cycles run;
- when any source failed, :class:`SourcesFailed` is raised *after* all that, so a flow run ends
  Failed with a one-line message, and the CLI exits 1;
- the whole run holds the relationship's run lock: a second run at the same time waits (``wait``
  seconds) or says plainly that one is running (:class:`vm_core.store.locks.RunInProgress`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from vm_core.config import RelationshipConfig
from vm_core.errors import VmError
from vm_core.run.pipeline import CycleResult, SourceResult, SourceStatus, with_scores
from vm_core.scoring import ScoreSummary


class Steps(Protocol):
    """How each step is executed; every method raises :class:`VmError` (one line) for bad input."""

    def prepare(self, config: RelationshipConfig) -> None: ...

    def source(
        self, config: RelationshipConfig, cycle: int, source_key: str, force: bool
    ) -> SourceResult: ...

    def score(self, config: RelationshipConfig, cycle: int, publish_held: bool) -> ScoreSummary | None: ...

    def audit(self, config: RelationshipConfig, cycles: list[int]) -> int: ...

    def report(self, config: RelationshipConfig, result: CycleResult) -> None: ...

    def lock(self, config: RelationshipConfig) -> AbstractContextManager[None]:
        """Held for the whole run: one run per relationship at a time (vm_core.store.locks)."""
        ...


@dataclass
class RunResult:
    cycles: list[CycleResult] = field(default_factory=list)
    audited_tables: int = 0

    @property
    def failed(self) -> list[SourceResult]:
        return [s for c in self.cycles for s in c.failed]


class SourcesFailed(VmError):
    """Some sources failed; everything else ran. The message is one line."""

    def __init__(self, run: RunResult):
        self.run = run
        failed = run.failed
        first = failed[0]
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        total = sum(len(c.sources) for c in run.cycles)
        super().__init__(
            f"{len(failed)} of {total} sources failed{more}: cycle {first.cycle} · {first.source_key}: "
            f"{first.error}"
        )


def run_relationship(
    config: RelationshipConfig,
    steps: Steps,
    cycles: list[int] | None = None,
    *,
    force: bool = False,
    publish_held: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> RunResult:
    """Prepare, bring every source up to date, score each cycle, audit; raise if a source failed."""
    numbers = cycles or [c.number for c in config.cycles]
    for number in numbers:
        config.cycle(number)  # an unknown cycle is a configuration error before anything runs
    with steps.lock(config):
        return _run(config, steps, numbers, force=force, publish_held=publish_held, progress=progress)


def _run(
    config: RelationshipConfig,
    steps: Steps,
    numbers: list[int],
    *,
    force: bool,
    publish_held: bool,
    progress: Callable[[str], None],
) -> RunResult:
    steps.prepare(config)
    run = RunResult()
    for number in numbers:
        cycle = config.cycle(number)
        sources = []
        for source in cycle.sources:
            progress(f"cycle {number} · {source.key}: {source.path.name}…")
            try:
                sources.append(steps.source(config, number, source.key, force))
            except VmError as exc:
                sources.append(
                    SourceResult(
                        number, source.key, source.path.name, status=SourceStatus.FAILED, error=str(exc)
                    )
                )
        progress(f"cycle {number}: scoring…")
        result = with_scores(
            CycleResult(number, cycle.mode, sources), steps.score(config, number, publish_held)
        )
        steps.report(config, result)
        run.cycles.append(result)
    run.audited_tables = steps.audit(config, numbers)
    if run.failed:
        raise SourcesFailed(run)
    return run


class LocalSteps:
    """Every step in this process, in order (``vm run --no-prefect``, the benchmark)."""

    def __init__(
        self,
        settings: object,
        report: Callable[[RelationshipConfig, CycleResult], None] | None = None,
        *,
        wait: float = 0,
    ):
        from vm_core.settings import Settings

        assert isinstance(settings, Settings)
        self.settings = settings
        self._report = report
        self.wait = wait

    def lock(self, config: RelationshipConfig) -> AbstractContextManager[None]:
        from vm_core.store.locks import relationship_lock

        return relationship_lock(self.settings.database_url, config.key, wait=self.wait)

    def prepare(self, config: RelationshipConfig) -> None:
        from vm_core.run import pipeline

        pipeline.prepare(self.settings, config)

    def source(self, config: RelationshipConfig, cycle: int, source_key: str, force: bool) -> SourceResult:
        from vm_core.run import pipeline

        source = next(s for s in config.cycle(cycle).sources if s.key == source_key)
        return pipeline.run_source(self.settings, config, cycle, source, force=force)

    def score(self, config: RelationshipConfig, cycle: int, publish_held: bool) -> ScoreSummary | None:
        from vm_core.run import pipeline

        return pipeline.score(self.settings, config, cycle, publish_held=publish_held)

    def audit(self, config: RelationshipConfig, cycles: list[int]) -> int:
        from vm_core.run import pipeline

        return pipeline.audit(self.settings, config, cycles)

    def report(self, config: RelationshipConfig, result: CycleResult) -> None:
        if self._report is not None:
            self._report(config, result)
