"""Landing: dlt loads what each source's configuration asks for, so a cycle can be re-modelled.

Embedded installs land into a DuckDB file that only flows open (the review app
reads the SQLite store, never this file, so DuckDB's single-writer lock is never
contended); PostgreSQL installs land into the store's own database, one schema per
relationship. Both are read back through dlt's SQL client.

The landing is the only copy of the raw data: once a load is committed, dlt's load
package (the parquet/csv files under ``VM_HOME/pipelines``) is deleted and the merge's
staging tables are emptied. Landed rows older than ``VM_LANDING_RETENTION_DAYS`` are
purged (:func:`purge_expired`), and one respondent's rows can be erased
(:func:`erase_respondent`).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from vm_core.keys import storage_name
from vm_core.settings import Settings

if TYPE_CHECKING:
    import dlt
    import pandas as pd
    from dlt.destinations.sql_client import SqlClientBase

#: Arrow tables load without per-row normalisation: as parquet into DuckDB, through COPY (csv) into PostgreSQL
LOADER_FILE_FORMATS: Final[dict[str, Literal["parquet", "csv"]]] = {"duckdb": "parquet", "store": "csv"}


def dataset_name(settings: Settings, relationship_key: str) -> str:
    return f"{settings.landing_schema}_{storage_name(relationship_key)}".strip("_")


def _destination(settings: Settings) -> Any:
    import dlt

    if settings.landing == "duckdb":
        path = settings.home / "landing" / "landing.duckdb"  # not named after the dataset (dlt trap)
        path.parent.mkdir(parents=True, exist_ok=True)
        return dlt.destinations.duckdb(str(path))
    # dlt speaks psycopg2 and names its own schemas: drop the SQLAlchemy driver and any query options
    from dlt.destinations.impl.postgres.configuration import PostgresCredentials

    credentials = PostgresCredentials(
        re.sub(r"^postgresql\+\w+://", "postgresql://", settings.database_url).split("?", 1)[0]
    )
    credentials.password = credentials.password or ""  # trust/peer authentication has no password
    return dlt.destinations.postgres(credentials=credentials)


def landing_pipeline(settings: Settings, relationship_key: str) -> dlt.Pipeline:
    import dlt

    name = f"vm_{storage_name(relationship_key)}"
    return dlt.pipeline(
        pipeline_name=name,
        destination=_destination(settings),
        dataset_name=dataset_name(settings, relationship_key),
        pipelines_dir=str(settings.home / "pipelines"),
    )


def land(settings: Settings, relationship_key: str, resources: Sequence[Any]) -> Mapping[str, Any]:
    """Run the dlt pipeline over a source's resources; returns dlt's load info as a dict.

    Nothing of the data is left outside the landing tables afterwards, whether the load
    succeeded (its package and staging copy are removed) or failed (its pending package is dropped).
    """
    pipeline = landing_pipeline(settings, relationship_key)
    try:
        info = pipeline.run(list(resources), loader_file_format=LOADER_FILE_FORMATS[settings.landing])
    except BaseException:
        # abort_packages, its successor, keeps an aborted package's files; these must go
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            pipeline.drop_pending_packages()
        _delete_loaded_packages(pipeline)
        raise
    remove_load_copies(pipeline)
    return dict(info.asdict())


def remove_load_copies(pipeline: dlt.Pipeline) -> None:
    """Delete completed load packages and empty the merge's staging tables: the landing is the one copy.

    dlt keeps every load package's files under ``pipelines/<name>/load/loaded`` and the last
    merge's rows in the ``<dataset>_staging`` schema; both are full copies of the data.
    """
    _delete_loaded_packages(pipeline)
    with pipeline.sql_client() as client, client.with_staging_dataset():
        tables = _data_tables(client)
        if tables:
            client.truncate_tables(*tables)


def _delete_loaded_packages(pipeline: dlt.Pipeline) -> None:
    from dlt.common.storages.load_storage import LoadStorage

    loaded = Path(pipeline.working_dir) / "load" / LoadStorage.LOADED_FOLDER
    for package in loaded.iterdir() if loaded.is_dir() else ():
        shutil.rmtree(package) if package.is_dir() else package.unlink()


def _tables(client: SqlClientBase[Any]) -> set[str]:
    """Every table of the client's current dataset (none when it does not exist yet)."""
    if not client.has_dataset():
        return set()
    rows = client.execute_sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", client.dataset_name
    )
    return {name for (name,) in rows or ()}


def _data_tables(client: SqlClientBase[Any]) -> list[str]:
    """The landed tables of the client's current dataset (not dlt's own ``_dlt_*`` tables)."""
    return sorted(name for name in _tables(client) if not name.startswith("_dlt"))


def _columns(client: SqlClientBase[Any], table: str) -> set[str]:
    rows = client.execute_sql(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
        client.dataset_name,
        table,
    )
    return {name for (name,) in rows or ()}


def _with_staging(client: SqlClientBase[Any]) -> Iterator[SqlClientBase[Any]]:
    """The client on the landing dataset, then on its staging dataset."""
    yield client
    with client.with_staging_dataset():
        yield client


@dataclass
class Erased:
    """A respondent's landed rows: count per table, and the (cycle, source_key, file, row) each came from."""

    rows: dict[str, int] = field(default_factory=dict)
    source_rows: set[tuple[int, str, str, int]] = field(default_factory=set)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def respondent_rows(settings: Settings, relationship_key: str, respondent_key: str) -> Erased:
    """Where one respondent's landed rows are (nothing is deleted)."""
    return _respondent(settings, relationship_key, respondent_key, delete=False)


def erase_respondent(settings: Settings, relationship_key: str, respondent_key: str) -> Erased:
    """Delete every landed row of one respondent (pseudonym), in every table and its staging copy."""
    return _respondent(settings, relationship_key, respondent_key, delete=True)


def _respondent(settings: Settings, relationship_key: str, respondent_key: str, *, delete: bool) -> Erased:
    erased = Erased()
    with landing_pipeline(settings, relationship_key).sql_client() as landed:
        for client in _with_staging(landed):
            tables = [t for t in _data_tables(client) if "respondent_key" in _columns(client, t)]
            with client.begin_transaction():  # tables without it (qualtrics_columns) hold headers only
                for table in tables:
                    qualified = client.make_qualified_table_name(table)
                    found = client.execute_sql(
                        f"SELECT cycle, source_key, source_file, source_row FROM {qualified} "
                        "WHERE respondent_key = %s",
                        respondent_key,
                    )
                    found = list(found or ())
                    erased.source_rows.update((int(c), str(k), str(f), int(r)) for c, k, f, r in found)
                    erased.rows[table] = erased.rows.get(table, 0) + len(found)
                    if found and delete:
                        client.execute_sql(
                            f"DELETE FROM {qualified} WHERE respondent_key = %s", respondent_key
                        )
    return erased


@dataclass
class Purged:
    """What a retention purge deleted: rows, and the (cycle, source_key) pairs whose landing they were."""

    rows: int = 0
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
            f"  {where}: can no longer be re-modelled from the landing (`vm run --remodel`); their stored "
            "evaluations and scores stay, and `vm run --force` reads the files again",
        ]


def purge_expired(
    settings: Settings, relationship_key: str, days: int, now: dt.datetime | None = None
) -> Purged:
    """Delete the landed rows of every source whose latest load is more than ``days`` old.

    A source's age is its ``source_load.loaded_at`` in the store (set each time its file lands);
    sources landed since stay. The store's evaluations and scores are untouched; the purged
    sources can no longer be re-modelled from the landing (``vm run --remodel``) until their
    files are read again (``vm run --force``).
    """
    from sqlalchemy import select

    from vm_core.models import Cycle, Relationship, SourceLoad
    from vm_core.pipeline import open_store

    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)
    with open_store(settings)() as session:
        loads = session.execute(
            select(Cycle.number, SourceLoad.source_key, SourceLoad.loaded_at)
            .join(Cycle, Cycle.id == SourceLoad.cycle_id)
            .join(Relationship, Relationship.id == Cycle.relationship_id)
            .where(Relationship.key == relationship_key)
        ).all()
    expired = sorted((number, source) for number, source, loaded_at in loads if _aware(loaded_at) < cutoff)
    purged = Purged()
    if not expired:
        return purged
    # the staging copy is emptied after every load: only the landing dataset holds old rows
    with landing_pipeline(settings, relationship_key).sql_client() as client:
        tables = _data_tables(client)
        with client.begin_transaction():
            for cycle, source in expired:
                deleted = 0
                for table in tables:
                    qualified = client.make_qualified_table_name(table)
                    where = "cycle = %s AND source_key = %s"
                    (count,) = (
                        client.execute_sql(f"SELECT count(*) FROM {qualified} WHERE {where}", cycle, source)
                        or [(0,)]
                    )[0]
                    if count:
                        client.execute_sql(f"DELETE FROM {qualified} WHERE {where}", cycle, source)
                        deleted += int(count)
                if deleted:
                    purged.rows += deleted
                    purged.sources.add((cycle, source))
    return purged


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def read_landed(
    settings: Settings, relationship_key: str, tables: Sequence[str], cycle: int, source_key: str
) -> dict[str, pd.DataFrame]:
    """The landed rows of one source in one cycle, per table (empty frame if nothing landed)."""
    import pandas as pd

    pipeline = landing_pipeline(settings, relationship_key)
    frames: dict[str, pd.DataFrame] = {}
    with pipeline.sql_client() as client:
        for table in tables:
            qualified = client.make_qualified_table_name(table)
            if not client.has_dataset():
                frames[table] = pd.DataFrame()
                continue
            try:
                with client.execute_query(
                    f"SELECT * FROM {qualified} WHERE cycle = %s AND source_key = %s", cycle, source_key
                ) as cursor:
                    frame = cursor.df()
            except Exception as exc:  # table not created yet: nothing landed for this connector
                if "does not exist" in str(exc).lower() or "not found" in str(exc).lower():
                    frame = pd.DataFrame()
                else:
                    raise
            frames[table] = frame if frame is not None else pd.DataFrame()
    return frames
