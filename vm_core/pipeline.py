"""The steps of a relationship run as plain functions; ``flows/`` wraps them as Prefect tasks.

prepare → for each source: extract_load (dlt) → model_source (connector.answers →
mapping → pandera contract → store) → score_cycle. Each step opens the store
from :class:`Settings`, so steps pass only small references between them.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from vm_core import library as library_store
from vm_core.config import RelationshipConfig
from vm_core.connector import ConnectorContext, SourceSpec
from vm_core.db import make_engine, migrate, session_factory, transaction
from vm_core.errors import SourceError, VmError
from vm_core.evaluations import previous_load, record_load, replace_source
from vm_core.landing import land, purge_expired, read_landed
from vm_core.mapping import LevelParser
from vm_core.modelling import model_answers
from vm_core.models import Cycle, Relationship, ValueCode, utcnow
from vm_core.plugins import get_connector
from vm_core.relationships import party_rules, perspective_rules, sync_relationship
from vm_core.roles import summarise_unmapped
from vm_core.scoring import ScoreSummary, has_published_tally, score_cycle, stored_summary
from vm_core.settings import Settings


@cache
def _open(url: str) -> tuple[Engine, sessionmaker[Session]]:
    engine = make_engine(url)
    migrate(engine)
    return engine, session_factory(engine)


def open_store(settings: Settings) -> sessionmaker[Session]:
    """Sessions for the configured store, migrated to the newest schema (once per process)."""
    return _open(settings.database_url)[1]


@dataclass
class SourceResult:
    cycle: int
    source_key: str
    file_name: str
    status: str = "loaded"  # loaded | unchanged | remodelled | failed
    rows_read: int = 0
    rows_dropped: dict[str, int] = field(default_factory=dict)
    evaluations: int = 0
    quarantined: int = 0
    participants: int = 0
    #: respondents without a perspective by "party: title"; titles held by fewer than the minimum
    #: group size are only counted (vm_core.roles): this result reaches Prefect and the CLI
    unmapped_roles: dict[str, int] = field(default_factory=dict)
    unmapped_titles_withheld: int = 0  # respondents whose title is not shown
    error: str | None = None
    sha256: str = ""


@dataclass
class CycleResult:
    cycle: int
    mode: str
    sources: list[SourceResult]
    scored_cells: int = 0
    suppressed_cells: int = 0
    held: str | None = None  # why newer data is held back from the published scores
    risk_accepted: str | None = None  # a differencing risk published anyway (--publish-held)


def prepare(settings: Settings, config: RelationshipConfig) -> None:
    """Create/update the relationship, its perspectives, equivalences, cycles and library in the store.

    With ``VM_LANDING_RETENTION_DAYS`` set, landed raw data older than that is purged first.
    """
    with transaction(open_store(settings)) as session:
        sync_relationship(session, config)
    if settings.landing_retention_days:
        purge_expired(settings, config.key, settings.landing_retention_days)


def _cycle(session: Session, config: RelationshipConfig, number: int) -> tuple[Relationship, Cycle]:
    row = session.execute(
        select(Relationship, Cycle)
        .join(Cycle, Cycle.relationship_id == Relationship.id)
        .where(Relationship.key == config.key, Cycle.number == number)
    ).one_or_none()
    if row is None:
        raise VmError(f"cycle {number} of {config.key!r} is not in the store; run prepare first")
    return row[0], row[1]


def _context(
    settings: Settings, config: RelationshipConfig, session: Session, cycle: Cycle, source: SourceSpec
) -> ConnectorContext:
    codes = session.scalars(
        select(ValueCode.identifier)
        .where(ValueCode.library_version_id == cycle.library_version_id)
        .order_by(ValueCode.position)
    ).all()
    keep = frozenset(source.options.get("keep_columns", ()) or ())
    return ConnectorContext(
        relationship_key=config.key,
        cycle=cycle.number,
        secret=settings.secret(),
        value_codes=list(codes),
        keep_columns=keep,
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def extract_load(
    settings: Settings,
    config: RelationshipConfig,
    cycle_number: int,
    source: SourceSpec,
    *,
    force: bool = False,
) -> SourceResult:
    """Land the source file with dlt unless this exact file was already modelled for this cycle."""
    result = SourceResult(cycle_number, source.key, source.path.name)
    if not source.path.exists():
        raise SourceError(str(source.path.name), f"file not found: {source.path}")
    sha = file_sha256(source.path)
    sessions = open_store(settings)
    with sessions() as session:
        _, cycle = _cycle(session, config, cycle_number)
        previous = previous_load(session, cycle, source.key)
        if previous is not None and previous.sha256 == sha and not force:
            result.status = "unchanged"
            result.rows_read, result.evaluations = previous.rows_read, previous.evaluations
            result.quarantined = previous.quarantined
            return result
        ctx = _context(settings, config, session, cycle, source)
    connector = get_connector(source.connector)
    try:
        land(settings, config.key, connector.resources(source, ctx))
    except Exception as exc:
        raise _source_error(exc) from exc
    result.rows_read = ctx.report.rows_read
    result.rows_dropped = dict(ctx.report.dropped)
    result.sha256 = sha
    # An empty hash marks "landed, not modelled yet": should modelling fail, the next run is not skipped.
    with transaction(sessions) as session:
        _, cycle = _cycle(session, config, cycle_number)
        record_load(
            session,
            cycle,
            source.key,
            connector=source.connector,
            file_name=source.path.name,
            sha256="",
            rows_read=result.rows_read,
            rows_dropped=sum(result.rows_dropped.values()),
            loaded_at=utcnow(),  # the landing's age, for VM_LANDING_RETENTION_DAYS
        )
    result.status = "landed"
    return result


def _source_error(exc: BaseException) -> BaseException:
    """dlt wraps errors raised inside a resource; surface the connector's own one-line error."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, VmError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return exc


def model_source(
    settings: Settings,
    config: RelationshipConfig,
    cycle_number: int,
    source: SourceSpec,
    landed: SourceResult,
) -> SourceResult:
    """Read the landed rows back, map and validate them, and replace the source's evaluations."""
    connector = get_connector(source.connector)
    sessions = open_store(settings)
    with sessions() as session:
        _, cycle = _cycle(session, config, cycle_number)
        ctx = _context(settings, config, session, cycle, source)
        texts = library_store.level_texts(session, cycle.library_version_id)
    frames = read_landed(settings, config.key, connector.landing_tables, cycle_number, source.key)
    if landed.status == "remodelled" and all(frame.empty for frame in frames.values()):
        # purged by retention (or never landed): re-modelling from nothing would erase what is stored
        raise SourceError(
            source.path.name,
            "nothing of this source is in the landing (purged after VM_LANDING_RETENTION_DAYS, or never "
            "landed); run with --force instead of --remodel to read the file again",
        )
    answers = connector.answers(frames, source, ctx)
    modelled = model_answers(
        answers,
        cycle=cycle_number,
        value_codes=ctx.value_codes,
        levels=LevelParser(config.levels, texts),
        parties=party_rules(config),
        perspectives=perspective_rules(config),
    )
    result = landed
    result.evaluations = len(modelled.evaluations)
    result.quarantined = len(modelled.quarantined)
    result.participants = modelled.evaluations["respondent_key"].nunique() if len(modelled.evaluations) else 0
    unmapped = summarise_unmapped(modelled.unmapped_roles, config.min_group_size)
    result.unmapped_roles, result.unmapped_titles_withheld = unmapped.lines, unmapped.withheld
    counts: dict[str, object] = {"evaluations": result.evaluations, "quarantined": result.quarantined}
    if landed.status != "remodelled":  # a fresh read of the file: its hash and read counts too
        counts |= {
            "sha256": landed.sha256,
            "rows_read": landed.rows_read,
            "rows_dropped": sum(landed.rows_dropped.values()),
        }
    with transaction(sessions) as session:
        relationship, cycle = _cycle(session, config, cycle_number)
        replace_source(session, relationship, cycle, source.key, modelled.evaluations, modelled.quarantined)
        record_load(
            session, cycle, source.key, connector=source.connector, file_name=source.path.name, **counts
        )
    if result.status == "landed":
        result.status = "loaded"
    return result


def score(
    settings: Settings,
    config: RelationshipConfig,
    cycle_number: int,
    sources: list[SourceResult],
    *,
    publish_held: bool = False,
) -> ScoreSummary:
    """Recompute and publish the cycle's scores, unless the re-scoring rule holds them back.

    When every source was unchanged since the last run the published scores are still right
    and only summarised (a relationship setting such as the minimum group size is re-applied
    on every read anyway) — unless they were published before their atom counts were kept,
    or ``publish_held`` asks to publish scores held back by an earlier run.
    """
    with transaction(open_store(settings)) as session:
        _, cycle = _cycle(session, config, cycle_number)
        unchanged = bool(sources) and all(s.status == "unchanged" for s in sources)
        if unchanged and has_published_tally(session, cycle.id) and not (publish_held and cycle.held_note):
            return stored_summary(session, cycle.id)
        return score_cycle(session, cycle.id, publish_held=publish_held)


def audit(settings: Settings, config: RelationshipConfig, cycle_numbers: list[int]) -> int:
    """The anonymity audit of the cycles a run scored; returns the tables checked.

    Raises :class:`~vm_core.audit.AnonymityLeak` (one line) when any output could single
    someone out, so the run fails.
    """
    from vm_core.audit import AnonymityLeak, audit_anonymity

    with open_store(settings)() as session:
        reports = [audit_anonymity(session, config.key, number) for number in cycle_numbers]
    problems = [line for report in reports for line in report.problems]
    if problems:
        raise AnonymityLeak(problems)
    return sum(report.tables for report in reports)


def run_cycle_locally(
    settings: Settings,
    config: RelationshipConfig,
    cycle_number: int,
    *,
    remodel: bool = False,
    force: bool = False,
    publish_held: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> CycleResult:
    """The whole cycle in-process, with the flow's semantics: a source that cannot be read fails alone.

    ``progress`` receives one line as each long step starts.
    """
    cycle_cfg = config.cycle(cycle_number)
    results = []
    for source in cycle_cfg.sources:
        where = f"cycle {cycle_number} · {source.key}"
        try:
            if remodel:
                landed = SourceResult(cycle_number, source.key, source.path.name, status="remodelled")
            else:
                progress(f"{where}: reading and landing {source.path.name}…")
                landed = extract_load(settings, config, cycle_number, source, force=force)
                if landed.status == "unchanged":
                    results.append(landed)
                    continue
            progress(f"{where}: mapping, validating and storing…")
            results.append(model_source(settings, config, cycle_number, source, landed))
        except VmError as exc:
            results.append(
                SourceResult(cycle_number, source.key, source.path.name, status="failed", error=str(exc))
            )
    progress(f"cycle {cycle_number}: scoring…")
    result = CycleResult(cycle_number, cycle_cfg.mode, results)
    return with_scores(result, score(settings, config, cycle_number, results, publish_held=publish_held))


def with_scores(result: CycleResult, summary: ScoreSummary) -> CycleResult:
    """The cycle's result with what scoring published or held back."""
    result.scored_cells, result.suppressed_cells = summary.cells, summary.suppressed_cells
    result.held, result.risk_accepted = summary.held, summary.risk_accepted
    return result


def unmapped_summary(results: list[SourceResult]) -> Counter[str]:
    total: Counter[str] = Counter()
    for r in results:
        total.update(r.unmapped_roles)
    return total
