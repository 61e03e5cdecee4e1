"""The steps of a relationship run, as plain functions (vm_core.run.orchestration runs them in order).

prepare → for each source: :func:`run_source` (fingerprint → read and land into the lake →
model in one columnar pass → commit) → :func:`score` (one GROUP BY over the cycle's lake
files → anonymity engine → scores) → :func:`audit`. Each step opens the store from
:class:`Settings`, so steps pass only small references between them.

What makes a load visible is one store transaction (:func:`_commit`): its ``lake_file`` rows,
its ``source_load`` counts and fingerprints and its quarantined rows change together. Killed
before that commit, a run leaves only unreferenced files, which :func:`prepare` sweeps away
later; killed after it, the next run finds the load done and scores what is committed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, partial
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from vm_core import failpoints
from vm_core.config import RelationshipConfig
from vm_core.errors import SourceError, VmError
from vm_core.ingest.connector import (
    ORGANISATION,
    AnswerPlan,
    Connector,
    ConnectorContext,
    Delivery,
    SourceSpec,
    files_fingerprint,
)
from vm_core.ingest.mapping import LevelParser, PartyRule, PerspectiveRule
from vm_core.ingest.modelling import AllSetAside, Mapping, Modelled, model
from vm_core.ingest.participant_list import TABLE as LIST_TABLE
from vm_core.ingest.participant_list import ListMatch
from vm_core.ingest.participant_list import join as join_list
from vm_core.ingest.participant_list import landed_table as landed_list
from vm_core.ingest.participant_list import matches as list_matches
from vm_core.ingest.plugins import get_connector
from vm_core.lake.evidence import committed_files, cycle_counts
from vm_core.lake.external import write_manifests
from vm_core.lake.storage import EVALUATIONS, Lake, Partition, connect, new_load_id
from vm_core.read.roles import summarise_unmapped
from vm_core.scoring import (
    ScoreSummary,
    effective_min_group_size,
    has_published_tally,
    score_cycle,
    stored_summary,
)
from vm_core.settings import Settings
from vm_core.store import library as library_store
from vm_core.store.bulk import bulk_insert
from vm_core.store.db import make_engine, migrate, session_factory, transaction
from vm_core.store.models import (
    Cycle,
    LakeFile,
    PublishedTally,
    QuarantinedRow,
    Relationship,
    Score,
    SourceLoad,
    ValueCode,
    utcnow,
)
from vm_core.store.relationships import party_rules, perspective_rules, sync_relationship


@cache
def _open(url: str) -> tuple[Engine, sessionmaker[Session]]:
    engine = make_engine(url)
    migrate(engine)
    return engine, session_factory(engine)


def open_store(settings: Settings) -> sessionmaker[Session]:
    """Sessions for the configured store, migrated to the newest schema (once per process)."""
    return _open(settings.database_url)[1]


class SourceStatus(StrEnum):
    LOADED = "loaded"  # read, landed, modelled and committed
    REMODELLED = "remodelled"  # modelled again from the lake (the mapping changed), not read
    UNCHANGED = "unchanged"  # same delivery, same mapping: nothing to do
    FAILED = "failed"  # nothing of this run's attempt is visible


@dataclass
class SourceResult:
    cycle: int
    source_key: str
    file_name: str
    status: SourceStatus = SourceStatus.LOADED
    rows_read: int = 0
    rows_dropped: dict[str, int] = field(default_factory=dict)
    evaluations: int = 0
    quarantined: int = 0
    participants: int = 0
    #: respondents without a perspective by "party: title"; titles held by fewer than the minimum
    #: group size are only counted (vm_core.read.roles): this result reaches Prefect and the CLI
    unmapped_roles: dict[str, int] = field(default_factory=dict)
    unmapped_titles_withheld: int = 0  # respondents whose title is not shown
    #: reason -> rows set aside (reasons never carry values)
    reasons: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    sha256: str = ""
    #: with a participant list: its rows, those matching no response, respondents not on it (counts only)
    list_rows: int | None = None
    list_rows_without_response: int = 0
    respondents_not_listed: int = 0

    def __post_init__(self) -> None:
        self.status = SourceStatus(self.status)


@dataclass
class CycleResult:
    cycle: int
    mode: str
    sources: list[SourceResult]
    scored_cells: int = 0
    suppressed_cells: int = 0
    held: str | None = None  # why newer data is held back from the published scores
    risk_accepted: str | None = None  # a differencing risk published anyway (--publish-held)
    no_data: bool = False  # nothing committed for this cycle: nothing scored

    @property
    def failed(self) -> list[SourceResult]:
        return [s for s in self.sources if s.status is SourceStatus.FAILED]


def prepare(settings: Settings, config: RelationshipConfig) -> None:
    """Create/update the relationship, its perspectives, equivalences, cycles and library in the store.

    Then sweep the lake: files no committed load names (a crashed or replaced load) go once
    older than the grace period, and with ``VM_LANDING_RETENTION_DAYS`` set, landed data older
    than that is purged.
    """
    with transaction(open_store(settings)) as session:
        sync_relationship(session, config)
    from vm_core.lake.upkeep import collect_garbage, purge_expired

    collect_garbage(settings, config.key)
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


def _value_codes(session: Session, cycle: Cycle) -> list[str]:
    return list(
        session.scalars(
            select(ValueCode.identifier)
            .where(ValueCode.library_version_id == cycle.library_version_id)
            .order_by(ValueCode.position)
        )
    )


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def read_fingerprint(connector_fingerprint: str, source: SourceSpec) -> str:
    """What the source delivered *and* how it is read: the connector's options decide what lands.

    A participant list is part of the delivery: its file and the columns read from it.
    """
    listed = source.participants
    if listed is None:
        return _fingerprint(connector_fingerprint, source.connector, dict(source.options))
    try:
        list_fingerprint = files_fingerprint([listed.file])
    except OSError as exc:
        raise SourceError(listed.file.name, f"participant list: cannot read: {exc.strerror or exc}") from None
    return _fingerprint(
        connector_fingerprint,
        source.connector,
        dict(source.options),
        [list_fingerprint, listed.identity, listed.organisation, listed.role],
    )


@dataclass(frozen=True)
class MappingRules:
    """The party and perspective rules a source is modelled with.

    The configuration's rules, followed by those of groups *retired* from it that the source's
    previous modelling used: removing a party or perspective from the file leaves the past mapped
    as it was (its evaluations and scores stay), while every other change applies.
    """

    parties: tuple[PartyRule, ...]
    perspectives: tuple[PerspectiveRule, ...]

    @classmethod
    def of(cls, config: RelationshipConfig, previous: str | None) -> MappingRules:
        parties, perspectives = list(party_rules(config)), list(perspective_rules(config))
        if previous:
            old = json.loads(previous)
            party_keys = {p.key for p in config.parties}
            perspective_keys = {p.key for p in config.perspectives}
            parties += [
                PartyRule(key, tuple(patterns)) for key, patterns in old["parties"] if key not in party_keys
            ]
            perspectives += [
                PerspectiveRule(party, role, perspective)
                for party, role, perspective in old["perspectives"]
                if perspective not in perspective_keys or (party is not None and party not in party_keys)
            ]
        return cls(tuple(parties), tuple(perspectives))

    def to_json(self) -> str:
        return json.dumps(
            {
                "parties": [[r.party, list(r.patterns)] for r in self.parties],
                "perspectives": [[r.party, r.role_pattern, r.perspective] for r in self.perspectives],
            }
        )


def model_fingerprint(
    config: RelationshipConfig,
    rules: MappingRules,
    cycle: Cycle,
    value_codes: list[str],
    texts: Any,
    party: str | None = None,
) -> str:
    """Everything modelling depends on besides the landed rows: re-modelling follows any change of it.

    ``party``: the source's own party (``party:``), when it has one.
    """
    fixed = [party] if party else []  # absent, the fingerprint is what it was before `party:` existed
    return _fingerprint(
        rules.to_json(), dict(config.levels), cycle.library_version_id, value_codes, texts, *fixed
    )


def connector_context(
    config: RelationshipConfig, cycle_number: int, source: SourceSpec, codes: list[str], secret: bytes
) -> ConnectorContext:
    """What a connector reading ``source`` is given (its report starts empty)."""
    return ConnectorContext(
        relationship_key=config.key,
        cycle=cycle_number,
        secret=secret,
        value_codes=codes,
        keep_columns=frozenset(source.options.get("keep_columns", ()) or ()),
    )


def source_mapping(
    config: RelationshipConfig,
    rules: MappingRules,
    cycle_number: int,
    source: SourceSpec,
    codes: list[str],
    texts: Any,
) -> Mapping:
    """How a source's answers are modelled: the cycle's Value Codes and level texts, the mapping rules,
    and who answered (the source's own ``party:``, or its participant list's organisation)."""
    return Mapping(
        cycle=cycle_number,
        value_codes=codes,
        levels=LevelParser(config.levels, texts),
        parties=rules.parties,
        perspectives=rules.perspectives,
        party=source.party,
        listed=bool(source.participants and source.participants.organisation),
    )


def run_source(
    settings: Settings,
    config: RelationshipConfig,
    cycle_number: int,
    source: SourceSpec,
    *,
    force: bool = False,
) -> SourceResult:
    """Bring one source of one cycle up to date; returns what happened (raises a one-line VmError on failure).

    Unchanged delivery and mapping → nothing. Changed mapping only → re-modelled from the
    lake's landed rows. Changed delivery (or ``force``) → read, landed and modelled.
    """
    result = SourceResult(cycle_number, source.key, source.path.name)
    sessions = open_store(settings)
    lake = settings.lake()
    connector = get_connector(source.connector)
    with sessions() as session:
        _relationship, cycle = _cycle(session, config, cycle_number)
        codes = _value_codes(session, cycle)
        texts = library_store.level_texts(session, cycle.library_version_id)
        previous = session.scalar(
            select(SourceLoad).where(SourceLoad.cycle_id == cycle.id, SourceLoad.source_key == source.key)
        )
        landed: dict[str, list[str]] = {}
        for path, table in _landed_files(session, cycle.id, source.key):
            landed.setdefault(table.removeprefix("landed_"), []).append(path)
    ctx = connector_context(config, cycle_number, source, codes, settings.secret())
    rules = MappingRules.of(config, previous.mapping if previous is not None else None)
    mapping_fp = model_fingerprint(config, rules, cycle, codes, texts, source.party)
    try:
        delivered = read_fingerprint(connector.fingerprint(source, ctx), source)
    except (OSError, VmError) as exc:
        if force or previous is None or not landed or source.path.exists():
            if isinstance(exc, VmError):
                raise
            raise SourceError(source.path.name, f"cannot read: {exc.strerror or exc}") from None
        delivered = previous.sha256  # the file is gone since it landed: its landed rows stand for it
    result.sha256 = delivered
    mapping = source_mapping(config, rules, cycle_number, source, codes, texts)
    partition = Partition(config.key, cycle_number, source.key)
    load_id = new_load_id()
    same_delivery = previous is not None and previous.sha256 == delivered and not force
    if same_delivery and previous is not None and landed:
        if previous.plan is None or previous.model_fingerprint == mapping_fp:  # records only: no mapping
            return _unchanged(result, previous)
        plan = AnswerPlan.from_json(previous.plan)
        says_who_answered(source, plan, connector)
        result.status = SourceStatus.REMODELLED
        result.rows_read, result.rows_dropped = previous.rows_read, {}
        new_landed: dict[str, list[str]] = {}
    else:
        delivery = connector.read(source, ctx)
        if delivery.plan is not None:
            says_who_answered(source, delivery.plan, connector)
        if source.participants is not None:  # read before anything lands: its errors come first
            delivery = Delivery((*delivery.tables, landed_list(source.participants, ctx)), delivery.plan)
        new_landed = _land(lake, partition, load_id, delivery)
        failpoints.reached("source.landed")
        if delivery.plan is None:  # records only (operational measures): landed now, modelled later
            return _commit_records(sessions, config, cycle_number, source, load_id, new_landed, ctx, result)
        plan = delivery.plan
        append = _delivery(source)[0] == "append"
        landed = {
            t: [*(landed.get(t, []) if append and t != LIST_TABLE else []), *paths]
            for t, paths in new_landed.items()
        }
        result.rows_read = ctx.report.rows_read
        result.rows_dropped = dict(ctx.report.dropped)
    evaluations_path = partition.file(EVALUATIONS, load_id)
    try:
        try:
            modelled, listed = _model(
                lake,
                landed.get(plan.table, []),
                landed.get(LIST_TABLE, []),
                plan,
                mapping,
                source,
                evaluations_path,
            )
        except AllSetAside as exc:
            raise SourceError(source.path.name, all_set_aside_line(exc, connector)) from None
        failpoints.reached("source.modelled")
        result.evaluations, result.participants = modelled.evaluations, modelled.participants
        if listed is not None:
            result.list_rows = listed.rows
            result.list_rows_without_response = listed.without_response
            result.respondents_not_listed = listed.responses_unlisted
        quarantine = modelled.quarantined
        result.quarantined, result.reasons = quarantine.num_rows, dict(modelled.reasons)
        unmapped = summarise_unmapped(modelled.unmapped_roles, config.min_group_size)
        result.unmapped_roles, result.unmapped_titles_withheld = unmapped.lines, unmapped.withheld
        with transaction(sessions) as session:
            _, cycle = _cycle(session, config, cycle_number)
            _commit(
                session,
                cycle,
                source,
                load_id,
                landed=new_landed,
                evaluations=(evaluations_path, result.evaluations),
                quarantine=quarantine,
                values=_load_values(
                    source,
                    result,
                    fresh=bool(new_landed),
                    model_fingerprint=mapping_fp,
                    plan=plan.to_json(),
                    mapping=rules.to_json(),
                ),
            )
            failpoints.reached("source.before_commit")
    except BaseException:
        lake.delete([evaluations_path, *(p for paths in new_landed.values() for p in paths)])
        raise
    failpoints.reached("source.committed")
    return result


def _commit_records(
    sessions: sessionmaker[Session],
    config: RelationshipConfig,
    cycle_number: int,
    source: SourceSpec,
    load_id: str,
    landed: dict[str, list[str]],
    ctx: ConnectorContext,
    result: SourceResult,
) -> SourceResult:
    """Make a delivery of records only visible (no answers: nothing to model or score)."""
    result.rows_read, result.rows_dropped = ctx.report.rows_read, dict(ctx.report.dropped)
    with transaction(sessions) as session:  # killed or failed before this commits: the files are swept
        _, cycle = _cycle(session, config, cycle_number)
        _commit(
            session,
            cycle,
            source,
            load_id,
            landed=landed,
            evaluations=None,
            quarantine=None,
            values=_load_values(source, result, fresh=True, model_fingerprint="", plan=None),
        )
    return result


def _load_values(source: SourceSpec, result: SourceResult, *, fresh: bool, **model: Any) -> dict[str, Any]:
    """The ``source_load`` columns a commit writes; ``fresh``: the source was read now (its landing's age)."""
    return {
        "connector": source.connector,
        "file_name": source.path.name,
        "sha256": result.sha256,
        "rows_read": result.rows_read,
        "rows_dropped": sum(result.rows_dropped.values()),
        "evaluations": result.evaluations,
        "quarantined": result.quarantined,
        **model,
        **({"loaded_at": utcnow()} if fresh else {}),
    }


def _unchanged(result: SourceResult, previous: SourceLoad) -> SourceResult:
    result.status = SourceStatus.UNCHANGED
    result.rows_read, result.evaluations = previous.rows_read, previous.evaluations
    result.quarantined = previous.quarantined
    return result


def _landed_files(session: Session, cycle_id: int, source_key: str) -> list[tuple[str, str]]:
    rows = session.execute(
        select(LakeFile.path, LakeFile.table_name)
        .where(
            LakeFile.cycle_id == cycle_id,
            LakeFile.source_key == source_key,
            LakeFile.table_name != EVALUATIONS,
        )
        .order_by(LakeFile.load_id, LakeFile.path)
    )
    return [(path, name) for path, name in rows]


def _land(lake: Lake, partition: Partition, load_id: str, delivery: Delivery) -> dict[str, list[str]]:
    """Write every landed table of the delivery as it streams; returns table → files (relative paths)."""
    written: dict[str, list[str]] = {}
    try:
        for table in delivery.tables:
            path = partition.file(f"landed_{table.name}", load_id)
            written.setdefault(table.name, []).append(path)
            lake.write_batches(path, table.schema, table.batches, statistics=["source_row"])
    except BaseException:
        lake.delete(p for paths in written.values() for p in paths)
        raise
    return {name: paths for name, paths in written.items()}


def who_answered_hint(connector: Connector) -> str:
    """The ways to say who answered, naming the connector's own option for an organisation column."""
    column = next((o.name for o in connector.options if o.holds == ORGANISATION), None)
    option = f"options.{column}" if column else "the connector's organisation column"
    return (
        "say who answered with `party:` on the source (one survey per party), "
        f"{option} (a question, or embedded data / a custom variable / a hidden field), "
        "or a `participants:` list joined on the respondent's e-mail or id (README, 'Who answered')"
    )


def all_set_aside_line(exc: AllSetAside, connector: Connector) -> str:
    """Why no answer of a source could be stored, in one line (with the ways to say who answered)."""
    if not exc.no_party:
        return exc.line
    unmatched = "; and check the parties' `match`" if exc.unmatched else ""
    return f"no response has a party {exc.counts}; {who_answered_hint(connector)}{unmatched}"


def says_who_answered(source: SourceSpec, plan: AnswerPlan, connector: Connector) -> None:
    """Refuse, before anything lands, a source that cannot give any respondent a party."""
    if plan.organisation or source.party or (source.participants and source.participants.organisation):
        return
    raise SourceError(
        source.path.name,
        f"no response can have a party: nothing says which organisation answered; "
        f"{who_answered_hint(connector)}",
    )


def _delivery(source: SourceSpec) -> tuple[str, str]:
    """(``replace`` or ``append``, the key column whose newest row wins in an appended source)."""
    mode = getattr(source, "delivery", "replace") or "replace"
    return mode, getattr(source, "delivery_key", None) or "response_id"


def _model(
    lake: Lake,
    files: list[str],
    list_files: list[str],
    plan: AnswerPlan,
    mapping: Mapping,
    source: SourceSpec,
    out: str,
) -> tuple[Modelled, ListMatch | None]:
    """Model the landed files into the new evaluations file ``out``.

    An appended source has one landed file per delivery: the newest row per delivery key wins.
    A source with a participant list (``list_files``: its landed list) is modelled joined to it,
    and how the two met is counted.
    """
    if not files:
        raise SourceError(
            source.path.name, "nothing of this source is in the lake; run with --force to read it"
        )
    if source.participants is not None and not list_files:
        raise SourceError(
            source.participants.file.name,
            "the participant list is not in the lake; run with --force to read it",
        )
    if source.party is not None:
        plan = dataclasses.replace(plan, organisation=None)  # the source's own party: nobody's is read
    mode, key = _delivery(source)
    with connect() as con:
        answers = "landed_answers" if source.participants else "landed"
        if mode == "append":
            lake.latest(con, answers, files, f'"{key}"')
        else:
            lake.relation(con, answers, files)
        if source.participants is None:
            fast = None if mode == "append" else partial(lake.batches, files)
            return model(con, lake, plan, mapping, source.key, out, fast), None
        lake.relation(con, "landed_list", list_files)
        plan = join_list(con, answers, "landed_list", source.participants, plan)
        modelled = model(con, lake, plan, mapping, source.key, out)
        return modelled, list_matches(con, answers, "landed_list")


def _commit(
    session: Session,
    cycle: Cycle,
    source: SourceSpec,
    load_id: str,
    *,
    landed: dict[str, list[str]],
    evaluations: tuple[str, int] | None,
    quarantine: pa.Table | None,
    values: dict[str, Any],
) -> None:
    """Make the load visible: its files replace the source's previous ones, with its counts and quarantine."""
    replaced = [LakeFile.table_name == EVALUATIONS]
    if landed and _delivery(source)[0] != "append":  # a new delivery replaces the source's landed files
        replaced.append(LakeFile.table_name != EVALUATIONS)
    elif LIST_TABLE in landed:  # an appended source's participant list is replaced, never added to
        replaced.append(LakeFile.table_name == f"landed_{LIST_TABLE}")
    for condition in replaced:
        session.execute(
            delete(LakeFile).where(
                LakeFile.cycle_id == cycle.id, LakeFile.source_key == source.key, condition
            )
        )
    rows = [
        {"cycle_id": cycle.id, "source_key": source.key, "table_name": f"landed_{name}", "path": path,
         "load_id": load_id, "rows": 0}
        for name, paths in landed.items()
        for path in paths
    ]  # fmt: skip
    if evaluations is not None:
        path, count = evaluations
        rows.append(
            {"cycle_id": cycle.id, "source_key": source.key, "table_name": EVALUATIONS, "path": path,
             "load_id": load_id, "rows": count}
        )  # fmt: skip
    for row in rows:
        session.add(LakeFile(**row))
    session.execute(
        delete(QuarantinedRow).where(
            QuarantinedRow.cycle_id == cycle.id, QuarantinedRow.source_key == source.key
        )
    )
    if quarantine is not None and quarantine.num_rows:
        # a bulk insert skips the ORM's column defaults: created_at is given here
        columns = ("cycle_id", "created_at", *quarantine.column_names)
        table = QuarantinedRow.__table__
        arrays = [quarantine.column(name).to_pylist() for name in quarantine.column_names]
        to_db = table.c.created_at.type.bind_processor(session.get_bind().dialect)
        now = to_db(utcnow()) if to_db else utcnow()
        set_aside = ((cycle.id, now, *row) for row in zip(*arrays, strict=True))
        bulk_insert(session, table, columns, set_aside)  # type: ignore[arg-type]
    load = session.scalar(
        select(SourceLoad).where(SourceLoad.cycle_id == cycle.id, SourceLoad.source_key == source.key)
    )
    if load is None:
        load = SourceLoad(cycle_id=cycle.id, source_key=source.key)
        session.add(load)
    for attr, value in values.items():
        setattr(load, attr, value)
    session.flush()


def score(
    settings: Settings, config: RelationshipConfig, cycle_number: int, *, publish_held: bool = False
) -> ScoreSummary | None:
    """Score the cycle from its committed lake files, unless nothing changed; None: the cycle has no data.

    First the cycle's symlink manifests (vm_core.lake.external) are written from what is
    committed. Nothing changed means the same files and the same scoring settings as the stored scores
    (``Cycle.scored_state``), so a run killed after a load committed but before its scores
    did is completed by the next run. Scores held back by the re-scoring rule stay held
    until the data changes again or ``publish_held`` publishes them.
    """
    lake = settings.lake()
    with transaction(open_store(settings)) as session:
        relationship, cycle = _cycle(session, config, cycle_number)
        # the manifests outside engines read follow what is committed, however the last run ended
        write_manifests(session, lake, config.key, cycle_number)
        files = committed_files(session, cycle.id)
        if not files:
            return None
        state = scored_state(files, relationship, config)
        current = cycle.scored_state == state and has_published_tally(session, cycle.id)
        if current and not (publish_held and cycle.held_note):
            return stored_summary(session, cycle.id)
        summary_ = score_cycle(
            session, cycle.id, cycle_counts(session, lake, cycle, files), publish_held=publish_held
        )
        cycle.scored_state = state
        failpoints.reached("score.before_commit")
    return summary_


def scored_state(files: list[str], relationship: Relationship, config: RelationshipConfig) -> str:
    """What a cycle's scores depend on: its committed files and the scoring settings."""
    return _fingerprint(
        files,
        relationship.agreement,
        effective_min_group_size(relationship),
        sorted(p.key for p in config.parties),
        sorted(p.key for p in config.perspectives),
    )


def audit(settings: Settings, config: RelationshipConfig, cycle_numbers: list[int]) -> int:
    """The anonymity audit of the cycles a run scored; returns the tables checked.

    A cycle whose files, settings and published rows are those of its last clean audit
    (:func:`audited_state`) is not audited again: the audit is a function of them, and any change
    to a published row — by vm or by anyone else — makes the next run audit it. Raises
    :class:`~vm_core.read.audit.AnonymityLeak` (one line) when any output could single someone out,
    so the run fails. A run audits the published scores; the outputs derived from them (gaps,
    findings, engagement, comments, …) are audited by ``vm audit anonymity``: on the demo they
    cost about ten times the scores' audit, which would make every run markedly slower.
    """
    from vm_core.read.audit import AnonymityLeak, audit_anonymity

    problems: list[str] = []
    tables = 0
    with transaction(open_store(settings)) as session:
        for number in cycle_numbers:
            _, cycle = _cycle(session, config, number)
            published = _published(session, cycle.id)
            seen = audited_state(cycle, published)
            if seen is not None and cycle.audited_state == seen:
                tables += len({row[0] for row in published[0]})
                continue
            report = audit_anonymity(session, settings.lake(), config.key, number, derived=False)
            problems += report.problems
            tables += report.tables
            cycle.audited_state = seen if not report.problems else None
    if problems:
        raise AnonymityLeak(problems)
    return tables


def _published(session: Session, cycle_id: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    scores = session.execute(
        select(*[c for c in Score.__table__.c if c.name not in ("id", "created_at")])
        .where(Score.cycle_id == cycle_id)
        .order_by(Score.value_code_id, Score.group_kind, Score.group_key)
    ).all()
    tallies = session.execute(
        select(*[c for c in PublishedTally.__table__.c if c.name != "id"])
        .where(PublishedTally.cycle_id == cycle_id)
        .order_by(PublishedTally.value_code_id, PublishedTally.party_id, PublishedTally.perspective_id)
    ).all()
    return [tuple(r)[1:] for r in scores], [tuple(r) for r in tallies]


def audited_state(cycle: Cycle, published: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]) -> str | None:
    """What an audit of the cycle depends on: its scored state and every published row (None: unscored)."""
    if cycle.scored_state is None:
        return None
    scores, tallies = published
    return _fingerprint(cycle.scored_state, cycle.held_note, scores, tallies)


def with_scores(result: CycleResult, summary_: ScoreSummary | None) -> CycleResult:
    """The cycle's result with what scoring published or held back (None: no data, nothing scored)."""
    if summary_ is None:
        result.no_data = True
        return result
    result.scored_cells, result.suppressed_cells = summary_.cells, summary_.suppressed_cells
    result.held, result.risk_accepted = summary_.held, summary_.risk_accepted
    return result


def unmapped_summary(results: list[SourceResult]) -> Counter[str]:
    total: Counter[str] = Counter()
    for r in results:
        total.update(r.unmapped_roles)
    return total
