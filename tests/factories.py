"""Small helpers that seed the domain store directly with model rows, for tests.

Typical use::

    with store.sessions() as s, s.begin():
        world = seed_world(s)                      # 2 parties × 3 perspectives, VC1/VC2, cycle 1
        add_respondents(s, world, party="client", perspective="senior",
                        levels={"VC1": [5, 4, None], "VC2": [3, 3, 3]})

Everything is flushed (ids are set) but nothing is committed: the caller's
transaction decides.

Evaluations go where production puts them: a small Parquet file in the evaluation lake
(:mod:`vm_core.lake.storage`), made visible by its ``lake_file`` row in the caller's transaction.
The ``store`` fixture points the factories at its lake (:func:`use_lake`); score with
``score_cycle(session, cycle.id, counts(session, cycle))``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from vm_core.ingest.modelling import EVALUATION_SCHEMA
from vm_core.lake.evidence import CycleCounts, cycle_counts
from vm_core.lake.storage import EVALUATIONS, Lake, Partition, new_load_id
from vm_core.store.models import (
    LEVEL_COLOURS,
    LEVELS,
    Cycle,
    LakeFile,
    Library,
    LibraryVersion,
    Participant,
    Party,
    Perspective,
    Relationship,
    Section,
    ValueCode,
    ValueCodeLevel,
)

DEFAULT_PARTIES = ("client", "supplier")
DEFAULT_PERSPECTIVES = ("senior", "middle", "frontline")
#: section name → Value Code identifiers, in order
DEFAULT_SECTIONS: Mapping[str, Sequence[str]] = {"Delivery": ("VC1",), "Relationship": ("VC2",)}

_respondent_seq = itertools.count(1)
_lake: Lake | None = None

#: In a list of levels: the cell was left unanswered (the ``blank`` column), not "no level" (None).
BLANK: Final = "blank"
Answer = int | None | Literal["blank"]


def use_lake(lake: Lake | None) -> None:
    """The lake the factories write evaluations into (the ``store`` fixture sets its own; None: none)."""
    global _lake
    _lake = lake


def current_lake() -> Lake:
    if _lake is None:
        raise RuntimeError(
            "tests.factories: no lake; call use_lake(settings.lake()) (the store fixture does)"
        )
    return _lake


def counts(session: Session, cycle: Cycle | int) -> CycleCounts:
    """What the cycle's committed evaluations count, as the pipeline hands them to ``score_cycle``."""
    row = cycle if isinstance(cycle, Cycle) else session.get(Cycle, cycle)
    if row is None:
        raise ValueError(f"no cycle with id {cycle}")
    return cycle_counts(session, current_lake(), row)


@dataclass
class SeededLibrary:
    version: LibraryVersion
    value_codes: dict[str, ValueCode]  # identifier → row, in library order


@dataclass
class SeededRelationship:
    relationship: Relationship
    parties: dict[str, Party]
    perspectives: dict[str, Perspective]


@dataclass
class World:
    """A relationship with a library version and one cycle: what most store tests need."""

    relationship: Relationship
    parties: dict[str, Party]
    perspectives: dict[str, Perspective]
    library_version: LibraryVersion
    value_codes: dict[str, ValueCode]
    cycle: Cycle
    participants: list[Participant] = field(default_factory=list)


def seed_library(
    session: Session,
    *,
    key: str = "vm-library",
    version: str = "1.0",
    sections: Mapping[str, Sequence[str]] = DEFAULT_SECTIONS,
) -> SeededLibrary:
    """A library (reused if ``key`` exists) with one version, its sections, Value Codes and 5 levels each."""
    library = session.scalar(select(Library).where(Library.key == key))
    if library is None:
        library = Library(key=key, name=f"Library {key}")
        session.add(library)
        session.flush()
    lv = LibraryVersion(library_id=library.id, version=version, source_name=f"{key}-{version}.xlsx")
    session.add(lv)
    session.flush()
    codes: dict[str, ValueCode] = {}
    position = 0
    for s_pos, (name, identifiers) in enumerate(sections.items(), start=1):
        section = Section(library_version_id=lv.id, name=name, position=s_pos)
        session.add(section)
        session.flush()
        for identifier in identifiers:
            position += 1
            code = ValueCode(
                library_version_id=lv.id,
                section_id=section.id,
                identifier=identifier,
                description=f"Value Code {identifier}",
                position=position,
            )
            code.levels = [
                ValueCodeLevel(
                    level=level,
                    label=f"Level {level}",
                    statement=f"{identifier} at level {level}",
                    colour=LEVEL_COLOURS[level],
                )
                for level in LEVELS
            ]
            session.add(code)
            codes[identifier] = code
    session.flush()
    return SeededLibrary(lv, codes)


def seed_relationship(
    session: Session,
    *,
    key: str = "acme-bolt",
    parties: Sequence[str] = DEFAULT_PARTIES,
    perspectives: Sequence[str] = DEFAULT_PERSPECTIVES,
    min_group_size: int = 5,
    agreement: Mapping[str, Any] | None = None,
    comment_min_group_size: int | None = None,
) -> SeededRelationship:
    """A relationship with parties (first is the client) and canonical perspectives, in that order."""
    rel = Relationship(
        key=key,
        name=f"Relationship {key}",
        min_group_size=min_group_size,
        comment_min_group_size=comment_min_group_size,
        agreement=dict(agreement or {}),
    )
    session.add(rel)
    session.flush()
    party_rows = {
        p: Party(
            relationship_id=rel.id,
            key=p,
            name=p.title(),
            role="client" if i == 0 else "supplier",
            position=i,
            match=[p],
        )
        for i, p in enumerate(parties)
    }
    perspective_rows = {
        q: Perspective(relationship_id=rel.id, key=q, name=q.title(), position=i)
        for i, q in enumerate(perspectives)
    }
    session.add_all([*party_rows.values(), *perspective_rows.values()])
    session.flush()
    return SeededRelationship(rel, party_rows, perspective_rows)


def seed_cycle(
    session: Session,
    relationship: Relationship,
    library_version: LibraryVersion,
    *,
    number: int = 1,
    mode: str = "resolve",
) -> Cycle:
    cycle = Cycle(
        relationship_id=relationship.id, number=number, mode=mode, library_version_id=library_version.id
    )
    session.add(cycle)
    session.flush()
    return cycle


def seed_world(
    session: Session,
    *,
    key: str = "acme-bolt",
    parties: Sequence[str] = DEFAULT_PARTIES,
    perspectives: Sequence[str] = DEFAULT_PERSPECTIVES,
    sections: Mapping[str, Sequence[str]] = DEFAULT_SECTIONS,
    min_group_size: int = 5,
    agreement: Mapping[str, Any] | None = None,
    cycle_number: int = 1,
    comment_min_group_size: int | None = None,
) -> World:
    """Library version + relationship + cycle in one call."""
    library = seed_library(session, key=f"{key}-library", sections=sections)
    rel = seed_relationship(
        session,
        key=key,
        parties=parties,
        perspectives=perspectives,
        min_group_size=min_group_size,
        agreement=agreement,
        comment_min_group_size=comment_min_group_size,
    )
    cycle = seed_cycle(session, rel.relationship, library.version, number=cycle_number)
    return World(rel.relationship, rel.parties, rel.perspectives, library.version, library.value_codes, cycle)


def levels_of(counts: Sequence[int]) -> list[int]:
    """Answers with the given level counts ``l1..l5``: ``[0, 2, 1, 0, 0]`` → ``[2, 2, 3]``."""
    return [level for level, count in zip(LEVELS, counts, strict=True) for _ in range(count)]


def add_participants(
    session: Session, world: World, count: int, *, party: str | None, perspective: str | None
) -> list[Participant]:
    """``count`` pseudonymous participants of a party (None: unassigned) and perspective (None: unmapped)."""
    rows = []
    for _ in range(count):
        seq = next(_respondent_seq)
        rows.append(
            Participant(
                relationship_id=world.relationship.id,
                respondent_key=hashlib.sha256(f"{world.relationship.key}:{seq}".encode()).hexdigest(),
                party_id=world.parties[party].id if party is not None else None,
                source_role=perspective or "Unknown role",
                perspective_id=world.perspectives[perspective].id if perspective is not None else None,
            )
        )
    session.add_all(rows)
    session.flush()
    world.participants += rows
    return rows


def add_evaluations(
    session: Session,
    cycle: Cycle,
    participants: Sequence[Participant],
    value_code: ValueCode,
    levels: Sequence[Answer],
    *,
    source_key: str = "survey",
) -> None:
    """One evaluation per participant (same order as ``levels``; None = "no level", BLANK = unanswered).

    Written as one lake file of its own. Participants without a party get none: the pipeline
    quarantines such answers, so they never reach the lake.
    """
    if len(participants) != len(levels):
        raise ValueError(f"{len(participants)} participants but {len(levels)} levels")
    _write_evaluations(
        session,
        cycle,
        [(p, value_code, level, None) for p, level in zip(participants, levels, strict=True)],
        source_key,
    )


def _write_evaluations(
    session: Session,
    cycle: Cycle,
    answers: Sequence[tuple[Participant, ValueCode, Answer, str | None]],
    source_key: str,
) -> LakeFile | None:
    """One Parquet file of evaluations (answer and comment) in the lake plus its ``lake_file`` row
    (flushed, not committed)."""
    rows = []
    row_of: dict[int, int] = {}  # one spreadsheet row per respondent, as in an export
    for person, code, level, comment in answers:
        party = session.get(Party, person.party_id) if person.party_id is not None else None
        if party is None:
            continue
        perspective = (
            session.get(Perspective, person.perspective_id) if person.perspective_id is not None else None
        )
        rows.append(
            {
                "respondent_key": person.respondent_key,
                "party": party.key,
                "perspective": perspective.key if perspective else None,
                "role": person.source_role,
                "value_code": code.identifier,
                "level": None if level == BLANK else level,
                "blank": level == BLANK,
                "comment": comment,
                "source_file": f"{source_key}.csv",
                "source_row": row_of.setdefault(person.id, len(row_of) + 2),
                "source_column": code.identifier,
            }
        )
    if not rows:
        return None
    relationship = session.get(Relationship, cycle.relationship_id)
    assert relationship is not None
    load_id = new_load_id()
    path = Partition(relationship.key, cycle.number, source_key).file(EVALUATIONS, load_id)
    table = pa.Table.from_pylist(rows, schema=EVALUATION_SCHEMA)
    current_lake().write_batches(path, EVALUATION_SCHEMA, table.to_batches())
    lake_file = LakeFile(
        cycle_id=cycle.id,
        source_key=source_key,
        table_name=EVALUATIONS,
        path=path,
        load_id=load_id,
        rows=len(rows),
    )
    session.add(lake_file)
    session.flush()
    return lake_file


def add_respondents(
    session: Session,
    world: World,
    *,
    party: str | None,
    perspective: str | None,
    levels: Mapping[str, Sequence[Answer]],
    cycle: Cycle | None = None,
    source_key: str = "survey",
    comments: Mapping[str, Sequence[str | None]] | None = None,
) -> list[Participant]:
    """Respondents who evaluate Value Codes: ``levels[identifier][i]`` is respondent i's level, and
    ``comments[identifier][i]`` their comment on it (None, or a Value Code not named: no comment).

    All lists must have the same length (the number of respondents created). Their evaluations
    are one lake file (none for respondents without a party: see :func:`add_evaluations`).
    """
    comments = comments or {}
    sizes = {len(v) for v in (*levels.values(), *comments.values())}
    if len(sizes) != 1:
        raise ValueError(f"level and comment lists differ in length: {sorted(sizes)}")
    if set(comments) - set(levels):
        raise ValueError(f"comments on Value Codes without levels: {sorted(set(comments) - set(levels))}")
    count = sizes.pop()
    people = add_participants(session, world, count, party=party, perspective=perspective)
    answers = [
        (person, world.value_codes[identifier], level, comment)
        for identifier, values in levels.items()
        for person, level, comment in zip(
            people, values, comments.get(identifier, [None] * count), strict=True
        )
    ]
    _write_evaluations(session, cycle or world.cycle, answers, source_key)
    return people


def read_rows(path: Path) -> list[list[str]]:
    """A CSV export's rows as text (a leading BOM is not part of the first cell)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.reader(fh))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    """Rows written back as the survey tools export them: UTF-8, CRLF record ends."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


def invoke_vm(home: Path, secret: str, *args: str, **extra: str) -> tuple[int, str]:
    """``vm ARGS`` in this process against ``home`` (exit code, output); environment and umask restored after."""
    import os

    from click.testing import CliRunner

    from vm_cli.main import QUIET_DEFAULTS, main

    env: dict[str, str | None] = {k: os.environ.get(k) for k in (*QUIET_DEFAULTS, "PREFECT_HOME")}
    env |= {k: None for k in os.environ if k.startswith("VM_")}
    env |= {"VM_HOME": str(home), "VM_SECRET": secret, "VM_LOAD_PLUGINS": "", **extra}
    umask = os.umask(0o077)
    os.umask(umask)
    try:
        result = CliRunner().invoke(main, list(args), env=env)
    finally:
        os.umask(umask)
    return result.exit_code, result.output


def build_demo(tmp_path_factory: Any) -> Any:
    """The demo relationship run end to end into a new VM_HOME (secret "golden"); its Settings."""
    from tests.conftest import REPO
    from vm_core.config import load_config
    from vm_core.run.orchestration import LocalSteps, run_relationship
    from vm_core.settings import Settings

    home = tmp_path_factory.mktemp("demo") / "home"
    settings = Settings.from_env({"VM_HOME": str(home), "VM_SECRET": "golden"})
    run_relationship(load_config(REPO / "examples" / "demo" / "relationship.yaml"), LocalSteps(settings))
    return settings
