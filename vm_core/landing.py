"""Landing: dlt loads each source as received (minus personal data) so a cycle can be re-modelled.

Embedded installs land into a DuckDB file that only flows open (the review app
reads the SQLite store, never this file, so DuckDB's single-writer lock is never
contended); PostgreSQL installs land into the store's own database, one schema per
relationship. Both are read back through dlt's SQL client.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

from vm_core.settings import Settings

if TYPE_CHECKING:
    import dlt
    import pandas as pd

#: Arrow tables load without per-row normalisation: as parquet into DuckDB, through COPY (csv) into PostgreSQL
LOADER_FILE_FORMATS: Final[dict[str, Literal["parquet", "csv"]]] = {"duckdb": "parquet", "store": "csv"}
_SAFE = re.compile(r"[^a-z0-9_]+")


def dataset_name(settings: Settings, relationship_key: str) -> str:
    return f"{settings.landing_schema}_{_SAFE.sub('_', relationship_key.lower())}".strip("_")


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

    name = f"vm_{_SAFE.sub('_', relationship_key.lower())}"
    return dlt.pipeline(
        pipeline_name=name,
        destination=_destination(settings),
        dataset_name=dataset_name(settings, relationship_key),
        pipelines_dir=str(settings.home / "pipelines"),
    )


def land(settings: Settings, relationship_key: str, resources: Sequence[Any]) -> Mapping[str, Any]:
    """Run the dlt pipeline over a source's resources; returns dlt's load info as a dict."""
    pipeline = landing_pipeline(settings, relationship_key)
    info = pipeline.run(list(resources), loader_file_format=LOADER_FILE_FORMATS[settings.landing])
    return dict(info.asdict())


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
