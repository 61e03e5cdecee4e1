"""What engines outside vm read: the current files of every lake table, as symlink manifests.

The store's ``lake_file`` rows decide which files are data (vm_core.lake.storage). An engine that does not
ask the store — Spark, Trino's Hive connector, DuckDB on another machine — reads instead, per
table and partition, a Hive *symlink manifest*: a text file listing the full URIs of the committed
files, one per line, at::

    <lake>/<table>/_symlink_format_manifest/relationship=<key>/cycle=<n>/source=<key>/manifest

(the layout Trino's ``SymlinkTextInputFormat`` tables and Delta Lake's generated manifests use).
It is rewritten from the committed rows by every run (each cycle's scoring step), and after an erasure or a purge; files are immutable and replaced
files stay for the grace period, so a reader holding an older manifest still finds its files.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from vm_core.lake.storage import Lake
from vm_core.store.models import Cycle, LakeFile, Relationship

MANIFEST_FOLDER = "_symlink_format_manifest"


def manifest_path(file_path: str) -> str:
    """The manifest of the partition a lake file belongs to."""
    folder = file_path.rsplit("/", 1)[0]
    table, partition = folder.split("/", 1)
    return f"{table}/{MANIFEST_FOLDER}/{partition}/manifest"


def write_manifests(
    session: Session,
    lake: Lake,
    relationship_key: str,
    cycle_number: int | None = None,
    gone: Iterable[str] = (),
) -> int:
    """Rewrite the manifests of a relationship's partitions (one cycle, or all); returns how many.

    ``gone``: files that left the lake (a retention purge); their partitions' manifests are
    emptied when nothing committed is left in them.
    """
    query = (
        select(LakeFile.path)
        .join(Cycle, Cycle.id == LakeFile.cycle_id)
        .join(Relationship, Relationship.id == Cycle.relationship_id)
        .where(Relationship.key == relationship_key)
        .order_by(LakeFile.load_id, LakeFile.path)
    )
    if cycle_number is not None:
        query = query.where(Cycle.number == cycle_number)
    partitions: dict[str, list[str]] = defaultdict(list)
    for path in session.scalars(query):
        partitions[manifest_path(path)].append(lake.uri(path))
    for path in gone:
        partitions.setdefault(manifest_path(path), [])
    for manifest, uris in partitions.items():
        lake.write_text(manifest, "".join(f"{uri}\n" for uri in uris))
    return len(partitions)
