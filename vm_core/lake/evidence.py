"""The read side of the lake: a cycle's committed files, and what its evaluations count.

Everything here reads; nothing writes. Readers list the committed files of a cycle from
the store (``lake_file``) and scan exactly those with DuckDB, so a load being written at the
same moment is invisible until its commit, and nothing needs a lock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session

from vm_core.lake.storage import EVALUATIONS, Lake, connect
from vm_core.store.models import Cycle, LakeFile


def committed_files(
    session: Session, cycle_id: int, table: str = EVALUATIONS, source_key: str | None = None
) -> list[str]:
    """The committed files of one table of a cycle (optionally one source), oldest load first."""
    query = select(LakeFile.path).where(LakeFile.cycle_id == cycle_id, LakeFile.table_name == table)
    if source_key is not None:
        query = query.where(LakeFile.source_key == source_key)
    return list(session.scalars(query.order_by(LakeFile.load_id, LakeFile.path)))


def evaluations_relation(con: duckdb.DuckDBPyConnection, lake: Lake, files: Sequence[str]) -> str:
    """The relation name under which a cycle's evaluations are readable (newest source wins a clash).

    Two sources of one cycle that both evaluated a respondent × Value Code: the later load wins.
    ``files`` come oldest load first (:func:`committed_files`); a file's place in that list, not
    its name, says which is newer (a file rewritten by ``vm participants forget`` keeps its load's
    place), the same on a local folder and on an object store.
    """
    lake.latest(con, "evaluation_latest", list(files), "respondent_key, value_code")
    return "evaluation_latest"


@dataclass(frozen=True)
class CycleCounts:
    """What a cycle's evaluations say, counted: per Value Code, party, perspective and answer."""

    #: (value code, party, perspective or None, level or None, blank, count)
    rows: list[tuple[str, str, str | None, int | None, bool, int]] = field(default_factory=list)
    participants: int = 0  # respondents with a party
    files: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.files

    def fingerprint(self, *settings: object) -> str:
        """Changes whenever the files counted, or the settings given, change."""
        digest = hashlib.sha256()
        for item in (*self.files, *map(repr, settings)):
            digest.update(str(item).encode() + b"\0")
        return digest.hexdigest()


def cycle_counts(
    session: Session, lake: Lake, cycle: Cycle, files: Sequence[str] | None = None
) -> CycleCounts:
    """One GROUP BY over the cycle's committed evaluation files (``files``, when the caller has listed them).

    Lake files never change once written, so the counts of one list of files are counted once
    per process: a run's audit reuses what its scoring counted.
    """
    files = committed_files(session, cycle.id) if files is None else list(files)
    if not files:
        return CycleCounts()
    key = (lake.url, tuple(files))
    counted = _COUNTED.pop(key, None) or _count(lake, files)
    _COUNTED[key] = counted  # the newest last: the oldest is dropped first
    while len(_COUNTED) > _COUNTED_KEPT:
        del _COUNTED[next(iter(_COUNTED))]
    return counted


#: counts of the last few file lists counted, newest last
_COUNTED: dict[tuple[str, tuple[str, ...]], CycleCounts] = {}
_COUNTED_KEPT = 16


def _count(lake: Lake, files: list[str]) -> CycleCounts:
    with connect() as con:
        relation = evaluations_relation(con, lake, files)
        rows = con.execute(
            f"SELECT value_code, party, perspective, level, blank, count(*) FROM {relation} GROUP BY ALL"
        ).fetchall()
        people = con.execute(f"SELECT count(DISTINCT respondent_key) FROM {relation}").fetchone()
    return CycleCounts(
        [(str(v), str(p), q, None if lv is None else int(lv), bool(b), int(n)) for v, p, q, lv, b, n in rows],
        int(people[0]) if people else 0,
        tuple(files),
    )


def respondent_counts(session: Session, lake: Lake, cycle: Cycle) -> dict[tuple[str, str | None], int]:
    """People (distinct respondents), not answers, per (party, perspective or None) in the cycle's evaluations.

    Read from the committed files as every other reader reads them (the newest source wins a
    clash); empty when the cycle has no data.
    """
    files = committed_files(session, cycle.id)
    if not files:
        return {}
    with connect() as con:
        relation = evaluations_relation(con, lake, files)
        rows = con.execute(
            f"SELECT party, perspective, count(DISTINCT respondent_key) FROM {relation} GROUP BY ALL"
        ).fetchall()
    return {(str(party), perspective): int(n) for party, perspective, n in rows}
