"""Keeping the lake tidy and private: sweeping unreferenced files, retention, erasing one person.

What each source *landed* (allow-listed, pseudonymised: ``landed_<table>`` files) lets a
cycle be re-modelled without its file; the ``evaluations`` files are what scores are
computed from. Both are immutable files named by the store's ``lake_file`` rows
(:mod:`vm_core.lake.storage`). Here:

- :func:`collect_garbage`: files no committed row names (a load killed before its commit,
  or a delivery replaced by a newer one) are deleted once older than
  ``VM_LAKE_GRACE_SECONDS``, so a reader that listed them a moment ago still finds them;
- :func:`purge_expired`: landed files of loads older than ``VM_LANDING_RETENTION_DAYS`` are
  deleted; the evaluations and scores stay;
- :func:`erase_respondent`: every committed file holding one respondent's rows is rewritten
  without them (and only those files), switched in one store transaction, and the old files
  deleted at once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pyarrow as pa
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from vm_core.lake.storage import EVALUATIONS, Lake, connect, new_load_id
from vm_core.settings import Settings
from vm_core.store.models import Cycle, LakeFile, Relationship, SourceLoad


def _relationship_files(session: Session, relationship_key: str) -> list[LakeFile]:
    return list(
        session.scalars(
            select(LakeFile)
            .join(Cycle, Cycle.id == LakeFile.cycle_id)
            .join(Relationship, Relationship.id == Cycle.relationship_id)
            .where(Relationship.key == relationship_key)
            .order_by(LakeFile.id)
        )
    )


def collect_garbage(settings: Settings, relationship_key: str, now: dt.datetime | None = None) -> int:
    """Delete the relationship's lake files no committed row names, once past the grace period."""
    from vm_core.run.pipeline import open_store

    with open_store(settings)() as session:
        committed = set(session.scalars(select(LakeFile.path)))
    grace = dt.timedelta(seconds=settings.lake_grace_seconds)
    return settings.lake().collect_garbage(relationship_key, committed, grace, now)


@dataclass
class Purged:
    """What a retention purge deleted: landed files, and the (cycle, source_key) pairs they were of."""

    rows: int = 0
    files: int = 0
    sources: set[tuple[int, str]] = field(default_factory=set)

    def lines(self, relationship_key: str, days: int) -> list[str]:
        """What a purge did, for the command's output (counts, cycles and source keys only)."""
        head = (
            f"{relationship_key}: purged {self.rows} landed rows of {len(self.sources)} sources "
            f"last landed more than {days} days ago"
        )
        if not self.sources:
            return [head]
        where = ", ".join(f"cycle {cycle} · {source}" for cycle, source in sorted(self.sources))
        return [
            head,
            f"  {where}: their evaluations and scores stay; the next `vm run` reads their files again "
            "(a change of mapping needs the files: nothing landed is left to re-model from)",
        ]


def purge_expired(
    settings: Settings, relationship_key: str, days: int, now: dt.datetime | None = None
) -> Purged:
    """Delete the landed files of every source whose latest load is more than ``days`` old.

    A source's age is its ``source_load.loaded_at`` (set each time it is read). Its
    evaluations and the scores stay.
    """
    from vm_core.run.pipeline import open_store
    from vm_core.store.db import transaction

    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)
    purged = Purged()
    gone: list[str] = []
    with transaction(open_store(settings)) as session:
        loads = session.execute(
            select(Cycle.id, Cycle.number, SourceLoad.source_key, SourceLoad.loaded_at)
            .join(Cycle, Cycle.id == SourceLoad.cycle_id)
            .join(Relationship, Relationship.id == Cycle.relationship_id)
            .where(Relationship.key == relationship_key)
        ).all()
        for cycle_id, number, source, loaded_at in loads:
            if _aware(loaded_at) >= cutoff:
                continue
            files = session.scalars(
                select(LakeFile).where(
                    LakeFile.cycle_id == cycle_id,
                    LakeFile.source_key == source,
                    LakeFile.table_name != EVALUATIONS,
                )
            ).all()
            if not files:
                continue
            purged.sources.add((number, source))
            purged.files += len(files)
            purged.rows += _count_rows(settings.lake(), [f.path for f in files])
            gone += [f.path for f in files]
            session.execute(delete(LakeFile).where(LakeFile.id.in_([f.id for f in files])))
    settings.lake().delete(gone)
    if gone:
        from vm_core.lake.external import write_manifests

        with open_store(settings)() as session:
            write_manifests(session, settings.lake(), relationship_key, gone=gone)
    return purged


def _count_rows(lake: Lake, paths: list[str]) -> int:
    return sum(lake.dataset([path]).count_rows() for path in paths)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass
class Erased:
    """Where one respondent's rows were: per table, and the (cycle id, source, file, row) they came from."""

    rows: Counter[str] = field(default_factory=Counter)
    #: (cycle id, source key) -> their evaluations there
    evaluations: Counter[tuple[int, str]] = field(default_factory=Counter)
    source_rows: set[tuple[int, str, str, int]] = field(default_factory=set)
    replaced: list[tuple[LakeFile, str, int]] = field(default_factory=list)  # (row, new path, rows kept)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def find_respondent(session: Session, lake: Lake, relationship_key: str, pseudonym: str) -> Erased:
    """Every committed file of the relationship holding the respondent, and their rows there."""
    found = Erased()
    with connect() as con:
        for file in _relationship_files(session, relationship_key):
            lake.relation(con, "one_file", [file.path])
            columns = {row[0] for row in con.execute("DESCRIBE one_file").fetchall()}
            if "respondent_key" not in columns:
                continue  # e.g. a file's column list: headers only
            rows = con.execute(
                "SELECT source_file, source_row FROM one_file WHERE respondent_key = ?", [pseudonym]
            ).fetchall()
            if not rows:
                continue
            found.rows[file.table_name] += len(rows)
            if file.table_name == EVALUATIONS:
                found.evaluations[file.cycle_id, file.source_key] += len(rows)
            else:
                found.source_rows.update((file.cycle_id, file.source_key, str(f), int(r)) for f, r in rows)
            found.replaced.append((file, "", 0))
    return found


@contextmanager
def files_without(lake: Lake, found: Erased, pseudonym: str) -> Iterator[list[str]]:
    """Write a copy of each file in ``found`` without the respondent; yields the old paths to delete.

    The caller switches the ``lake_file`` rows (``found.replaced`` gets the new paths) in its
    transaction inside the block; on an error the new files are removed and the old ones stay.
    """
    written: list[str] = []
    try:
        replaced = []
        for file, _, _ in found.replaced:
            folder = file.path.rsplit("/", 1)[0]
            new = f"{folder}/{new_load_id()}-0.parquet"
            table = lake.dataset([file.path]).to_table()
            kept = table.filter(pa.compute.not_equal(table.column("respondent_key"), pseudonym))
            written.append(new)
            lake.write_batches(new, kept.schema, kept.to_batches())
            replaced.append((file, new, kept.num_rows))
        found.replaced = replaced
        yield [file.path for file, _, _ in replaced]
    except BaseException:
        lake.delete(written)
        raise


def switch_files(session: Session, found: Erased) -> None:
    """Point the ``lake_file`` rows at the rewritten files (in the caller's transaction)."""
    for file, new, rows in found.replaced:
        row = session.get(LakeFile, file.id)
        assert row is not None
        row.path = new
        if row.table_name == EVALUATIONS:
            row.rows = rows
    session.flush()
