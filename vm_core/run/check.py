"""``vm sources check``: every configured source read and modelled as a run would, nothing kept.

Each source goes through the run's own steps (:mod:`vm_core.run.pipeline`): the connector
reads it with the context a run gives it, its delivery lands and is modelled with the same
mapping — but into a throwaway lake in a temporary folder, removed as soon as the source is
counted. The store is not opened unless a cycle's library version is only there, and then only
read; the configured lake, the installation secret and ``VM_HOME`` are not touched (pseudonyms
are keyed with a random secret: they only tell respondents apart, and are never shown).

What is reported is counts and names: rows read and dropped, answers per Value Code, answers
set aside per reason and column, respondents without a party or perspective (job titles held by
fewer than the minimum group size are only counted, as in a run summary), personal-data columns
left behind — never an answer or an organisation as written.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from vm_core.config import RelationshipConfig
from vm_core.errors import ConfigError, SourceError, VmError
from vm_core.ingest.connector import ConnectorContext, Delivery, SourceSpec
from vm_core.ingest.modelling import AllSetAside, Modelled
from vm_core.ingest.participant_list import TABLE as LIST_TABLE
from vm_core.ingest.participant_list import landed_table as landed_list
from vm_core.ingest.plugins import get_connector
from vm_core.lake.storage import EVALUATIONS, Lake, Partition, connect, new_load_id
from vm_core.read.roles import summarise_unmapped
from vm_core.run.pipeline import (
    MappingRules,
    _land,
    _model,
    all_set_aside_line,
    connector_context,
    says_who_answered,
    source_mapping,
)
from vm_core.settings import Settings
from vm_core.store import library as library_store
from vm_core.store.db import make_engine
from vm_core.store.relationships import library_not_stored


@dataclass(frozen=True)
class SetAside:
    """Answers a run would quarantine for one reason in one column (reasons never carry values)."""

    reason: str
    column: str
    answers: int


@dataclass
class SourceCheck:
    """What a run would read from one source of one cycle, and what it could not."""

    cycle: int
    source_key: str
    connector: str
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    dropped: dict[str, int] = field(default_factory=dict)  # reason (preview, test) -> rows
    #: Value Code -> answers a run would store (in library order), and of those without a level
    answers: dict[str, int] = field(default_factory=dict)
    no_level: dict[str, int] = field(default_factory=dict)
    set_aside: list[SetAside] = field(default_factory=list)
    respondents: int = 0  # with at least one answer stored
    without_party: int = 0
    #: "party: title" -> respondents without a perspective (rare titles only counted: vm_core.read.roles)
    unmapped_roles: dict[str, int] = field(default_factory=dict)
    personal_columns: list[str] = field(default_factory=list)  # known personal-data columns left behind
    records: dict[str, int] = field(default_factory=dict)  # a delivery without answers: table -> rows
    error: str | None = None

    @property
    def quarantined(self) -> int:
        return sum(s.answers for s in self.set_aside)


@dataclass(frozen=True)
class _Library:
    codes: list[str]
    texts: dict[str, dict[str, int]]


def check_relationship(
    settings: Settings,
    config: RelationshipConfig,
    cycles: list[int] | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> list[SourceCheck]:
    """Every source of the cycles (default: all), tried as a run would read it; nothing is written."""
    numbers = cycles or [c.number for c in config.cycles]
    libraries: dict[str, _Library | VmError] = {}
    results = []
    for number in numbers:
        cycle = config.cycle(number)
        version = cycle.library_version
        if version not in libraries:
            try:
                libraries[version] = _library(settings, config, version)
            except VmError as exc:
                libraries[version] = exc
        library = libraries[version]
        for source in cycle.sources:
            progress(f"cycle {number} · {source.key}: {source.path.name}…")
            result = SourceCheck(number, source.key, source.connector)
            try:
                if isinstance(library, VmError):
                    raise library
                check_source(config, number, source, library.codes, library.texts, result)
            except VmError as exc:
                result.error = _one_line(exc)
            results.append(result)
    return results


def check_source(
    config: RelationshipConfig,
    cycle_number: int,
    source: SourceSpec,
    codes: list[str],
    texts: dict[str, dict[str, int]],
    result: SourceCheck,
) -> SourceCheck:
    """Read, land and model ``source`` into a throwaway lake, filling in ``result`` (raises a VmError)."""
    result.files = [path.name for path in source.files()]
    connector = get_connector(source.connector)
    ctx = connector_context(config, cycle_number, source, codes, secrets.token_bytes(32))
    mapping = source_mapping(config, MappingRules.of(config, None), cycle_number, source, codes, texts)
    with _throwaway_lake() as lake:
        partition = Partition(config.key, cycle_number, source.key)
        load_id = new_load_id()
        try:
            delivery = connector.read(source, ctx)
            if delivery.plan is not None:
                says_who_answered(source, delivery.plan, connector)
            if source.participants is not None:
                delivery = Delivery((*delivery.tables, landed_list(source.participants, ctx)), delivery.plan)
            landed = _land(lake, partition, load_id, delivery)
        except OSError as exc:
            raise SourceError(source.path.name, f"cannot read: {exc.strerror or exc}") from None
        _read_counts(result, ctx)
        if delivery.plan is None:
            result.records = {name: _rows(lake, paths) for name, paths in landed.items()}
            return result
        evaluations = partition.file(EVALUATIONS, load_id)
        try:
            modelled, _ = _model(
                lake,
                landed.get(delivery.plan.table, []),
                landed.get(LIST_TABLE, []),
                delivery.plan,
                mapping,
                source,
                evaluations,
            )
        except AllSetAside as exc:
            raise SourceError(source.path.name, all_set_aside_line(exc, connector)) from None
        _model_counts(result, modelled, config.min_group_size)
        _answer_counts(result, lake, evaluations, codes)
    return result


def _read_counts(result: SourceCheck, ctx: ConnectorContext) -> None:
    report = ctx.report
    result.rows_read = report.rows_read
    result.dropped = dict(sorted(report.dropped.items()))
    result.personal_columns = list(dict.fromkeys(report.pii_columns_removed))


def _model_counts(result: SourceCheck, modelled: Modelled, min_group_size: int) -> None:
    result.respondents, result.without_party = modelled.participants, modelled.without_party
    result.unmapped_roles = summarise_unmapped(modelled.unmapped_roles, min_group_size).lines
    quarantine = modelled.quarantined
    if quarantine.num_rows:
        counted = quarantine.group_by(["reason", "source_column"], use_threads=False).aggregate(
            [("reason", "count")]
        )
        rows = zip(
            *(counted.column(c).to_pylist() for c in ("reason", "source_column", "reason_count")), strict=True
        )
        result.set_aside = sorted(
            (SetAside(str(reason), str(column or ""), int(n)) for reason, column, n in rows),
            key=lambda s: (-s.answers, s.reason, s.column),
        )


def _answer_counts(result: SourceCheck, lake: Lake, evaluations: str, codes: list[str]) -> None:
    with connect() as con:
        lake.relation(con, "checked", [evaluations])
        rows = con.execute(
            "SELECT value_code, count(*), count(*) - count(level) FROM checked GROUP BY value_code"
        ).fetchall()
    counts = {code: (int(n), int(blank)) for code, n, blank in rows}
    result.answers = {code: counts[code][0] for code in codes if code in counts}
    result.no_level = {code: counts[code][1] for code in codes if counts.get(code, (0, 0))[1]}


def _rows(lake: Lake, paths: list[str]) -> int:
    return sum(fragment.count_rows() for fragment in lake.dataset(paths).get_fragments())


@contextmanager
def _throwaway_lake() -> Iterator[Lake]:
    with tempfile.TemporaryDirectory(prefix="vm-check-") as folder:
        yield Lake(folder)


def _library(settings: Settings, config: RelationshipConfig, version: str) -> _Library:
    """A cycle's Value Codes and level texts: from the configured library file, else read from the store."""
    lib = config.library
    if lib.file is not None and version == lib.version:
        parsed = library_store.parse_library(lib.file)
    else:
        parsed = _stored_library(settings, config, version)
    return _Library(list(parsed.identifiers), library_store.parsed_level_texts(parsed))


def _stored_library(
    settings: Settings, config: RelationshipConfig, version: str
) -> library_store.ParsedLibrary:
    url = settings.database_url
    if url.startswith("sqlite") and not Path(url.split("///", 1)[-1]).is_file():
        raise library_not_stored(config, version)  # no store yet: opening it would create one
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            found = library_store.find_library_version(session, config.library.key, version)
            if found is None:
                raise library_not_stored(config, version)
            return library_store.load_library_version(session, found.id)
    except SQLAlchemyError as exc:
        raise ConfigError(
            f"store: cannot read library {config.library.key!r} version {version!r} "
            f"({type(exc).__name__}); run `vm migrate`, or name the library file in the configuration"
        ) from None
    finally:
        engine.dispose()


def _one_line(exc: VmError) -> str:
    """A library file with several problems reports them one per line: the first, and how many more."""
    lines = str(exc).splitlines() or [type(exc).__name__]
    return lines[0] + (f" (and {len(lines) - 1} more problem(s))" if len(lines) > 1 else "")


# ------------------------------------------------------------------ in words


def check_lines(result: SourceCheck) -> list[str]:
    """A source's check as the CLI prints it."""
    files = ", ".join(result.files) or "-"
    head = f"cycle {result.cycle} · {result.source_key} ({result.connector}) [{files}]"
    if result.error:
        return [f"{head}: FAILED — {result.error}"]
    dropped = ", ".join(f"{n} {why}" for why, n in result.dropped.items()) or "none"
    lines = [f"{head}: {result.rows_read} rows would be read, dropped {dropped}"]
    if result.records:
        tables = ", ".join(f"{name}: {n}" for name, n in result.records.items())
        return [*lines, f"  records only (no answers): {tables}"]
    total, no_level = sum(result.answers.values()), sum(result.no_level.values())
    lines.append(
        f"  answers it would store: {total} ({no_level} without a level) from {result.respondents} respondent(s)"
    )
    lines += [
        f"    {code}: {n}"
        + (f" ({result.no_level[code]} without a level)" if code in result.no_level else "")
        for code, n in result.answers.items()
    ]
    lines.append(f"  answers it would quarantine: {result.quarantined}")
    lines += [f"    {s.answers} × {s.reason} — column {s.column or '-'}" for s in result.set_aside]
    if result.without_party:
        lines.append(f"  respondents without a party: {result.without_party}")
    lines += [f"  no perspective — {role}: {n} respondent(s)" for role, n in result.unmapped_roles.items()]
    if result.personal_columns:
        lines.append(f"  personal-data columns left behind: {', '.join(result.personal_columns)}")
    return lines
