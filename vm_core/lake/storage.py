"""The evaluation lake: immutable Parquet files under one location, made visible by the store.

Layout (Hive-style partitions, so DuckDB, Spark and Trino can prune by relationship, cycle and source)::

    <VM_LAKE_URL>/<table>/relationship=<key>/cycle=<n>/source=<key>/<load id>-<part>.parquet

``<table>`` is ``evaluations`` (the modelled answers) or a connector's landed table
(``landed_<name>``: what the source delivered, allow-listed and pseudonymised).

A file is written once under a new load id and never changed. It becomes part of the data
only when the store commits a ``lake_file`` row naming it (:mod:`vm_core.lake_files`), in the
same transaction as the load's counts; readers list a cycle's files from the store and read
exactly those, so they take no lock and never see half a load. Files no committed row names
(a load that crashed, or one replaced by a newer delivery) are deleted by
:meth:`Lake.collect_garbage` once older than a grace period, so a reader that listed them a
moment ago still finds them.

The location is a local folder (default ``VM_HOME/lake``) or any URL pyarrow's filesystems
open (``s3://bucket/prefix`` — credentials from the usual AWS variables; ``AWS_ENDPOINT_URL``
for S3-compatible servers).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from vm_core.errors import VmError
from vm_core.keys import storage_name

if TYPE_CHECKING:
    import duckdb

EVALUATIONS = "evaluations"
#: rows per Parquet row group: large enough for fast scans, small enough to stream
ROW_GROUP = 512 * 1024
COMPRESSION = "zstd"


class BatchWriter:
    """Writes batches to a Parquet file on a thread of its own, one batch behind its caller.

    Arrow encodes and compresses without holding the GIL, so the next batch is parsed or
    modelled while the last one is written; at most one batch waits in memory.
    """

    def __init__(self, parquet: pq.ParquetWriter):
        self._parquet = parquet
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="vm-lake-writer")
        self._pending: Future[None] | None = None
        self._closed = False

    def write(self, batch: pa.RecordBatch) -> None:
        """Queue one batch as row groups of at most :data:`ROW_GROUP` rows (an earlier write's error is raised here)."""
        self._wait()
        self._pending = self._pool.submit(self._parquet.write_batch, batch, row_group_size=ROW_GROUP)

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self, *, failed: bool = False) -> None:
        """Finish the file (its footer); with ``failed``, only stop (the caller deletes the file)."""
        if self._closed:
            return
        self._closed = True
        try:
            if not failed:
                self._wait()
        finally:
            if self._pending is not None:
                self._pending.exception()  # let a running write finish before the file is closed
            self._pool.shutdown(wait=True)
            self._parquet.close()


class LakeError(VmError):
    """The lake location cannot be opened or written."""


#: DuckDB's memory for one query before it spills to disk (``VM_DUCKDB_MEMORY``, e.g. "2GB")
DUCKDB_MEMORY = os.environ.get("VM_DUCKDB_MEMORY", "1GB")


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for reading the lake, with bounded memory (it spills beyond that)."""
    import duckdb

    return duckdb.connect(config={"memory_limit": DUCKDB_MEMORY})


def new_load_id() -> str:
    """A sortable, unique id for one load: UTC time, then 12 hex digits: the microsecond (so loads
    of one second keep their order: the later load wins a clash) and randomness."""
    now = dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%S}-{now.microsecond:05x}{uuid.uuid4().hex[:7]}"


@dataclass(frozen=True)
class Partition:
    relationship: str
    cycle: int
    source: str

    def folder(self, table: str) -> str:
        return (
            f"{table}/relationship={storage_name(self.relationship)}/cycle={self.cycle}"
            f"/source={storage_name(self.source)}"
        )

    def file(self, table: str, load_id: str, part: int = 0) -> str:
        return f"{self.folder(table)}/{load_id}-{part}.parquet"


class Lake:
    """One lake location; paths handed in and out are relative to it."""

    def __init__(self, url: str):
        self.url = url
        parsed = urlparse(url)
        try:
            if parsed.scheme in ("", "file"):
                root = Path(parsed.path if parsed.scheme else url).expanduser().resolve()
                root.mkdir(mode=0o700, parents=True, exist_ok=True)
                self.fs: pafs.FileSystem = pafs.LocalFileSystem()
                self.root = str(root)
                self.local = True
            else:
                self.fs, self.root = _object_store(url)
                self.local = False
                bucket = self.root.split("/", 1)[0]
                if parsed.scheme == "s3" and self.fs.get_file_info(bucket).type == pafs.FileType.NotFound:
                    raise LakeError(f"lake {url}: bucket {bucket!r} not found at {_where(url)}")
        except (OSError, pa.ArrowException) as exc:
            raise LakeError(f"lake {url}: cannot open ({exc})") from None

    def __repr__(self) -> str:
        return f"Lake({self.url!r})"

    def full(self, path: str) -> str:
        return f"{self.root.rstrip('/')}/{path}"

    def uri(self, path: str) -> str:
        """The file's URI as another engine opens it (``file:///…`` or ``s3://bucket/…``)."""
        if self.local:
            return f"file://{self.full(path)}"  # as written: Hive paths keep their '=' unescaped
        return f"{urlparse(self.url).scheme}://{self.full(path)}"

    def write_text(self, path: str, text: str) -> None:
        """Replace a small text file (a manifest) as a whole: a temporary name, then a move."""
        full = self.full(path)
        if not self.local:  # an object store's PUT replaces an object whole: no temporary name to move
            with self.fs.open_output_stream(full) as out:
                out.write(text.encode())
            return
        self._make_parent(full)
        temporary = f"{full}.{uuid.uuid4().hex[:8]}.tmp"
        with self.fs.open_output_stream(temporary) as out:
            out.write(text.encode())
        self.fs.move(temporary, full)

    @contextmanager
    def writer(
        self, path: str, schema: pa.Schema, *, arrow_schema: bool = True, statistics: Sequence[str] = ()
    ) -> Iterator[BatchWriter]:
        """A writer of a new Parquet file; on error the partial file is removed.

        ``arrow_schema=False`` leaves Arrow's own schema out of the file, so that columns written
        dictionary-encoded read back as the plain strings Parquet stores. Only the ``statistics``
        columns get min/max statistics: computing them for every text column costs more than
        the rest of the encoding, and readers prune by partition, not by those columns.
        """
        full = self.full(path)
        self._make_parent(full)
        sink = self.fs.open_output_stream(full)
        wanted = [name for name in statistics if name in schema.names]
        parquet = pq.ParquetWriter(
            sink, schema, compression=COMPRESSION, store_schema=arrow_schema, write_statistics=wanted or False
        )
        writer = BatchWriter(parquet)
        try:
            yield writer
            writer.close()
        except BaseException:
            writer.close(failed=True)
            sink.close()
            self.delete([path])
            raise
        sink.close()

    def write_batches(
        self, path: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch], statistics: Sequence[str] = ()
    ) -> int:
        """Stream batches into one new file; returns the rows written."""
        rows = 0
        with self.writer(path, schema, statistics=statistics) as writer:
            for batch in batches:
                if batch.num_rows:
                    writer.write(batch)
                    rows += batch.num_rows
        return rows

    def batches(
        self, paths: list[str], columns: list[str], dictionary: list[str], rows: int
    ) -> Iterator[pa.RecordBatch]:
        """The files' ``columns`` in batches of at most ``rows``, file by file; ``dictionary`` columns
        come dictionary-encoded as Parquet stores them (no string is hashed to encode them)."""
        fmt = pads.ParquetFileFormat(read_options=pads.ParquetReadOptions(dictionary_columns=dictionary))
        dataset = pads.dataset([self.full(p) for p in paths], filesystem=self.fs, format=fmt)
        yield from dataset.to_batches(columns=columns, batch_size=rows)

    def _make_parent(self, full: str) -> None:
        """Create the folder of a file about to be written (object stores have none: nothing to do)."""
        if self.local:
            self.fs.create_dir(full.rsplit("/", 1)[0], recursive=True)

    def dataset(self, paths: Iterable[str], schema: pa.Schema | None = None) -> pads.Dataset:
        return pads.dataset(
            [self.full(p) for p in paths], schema=schema, filesystem=self.fs, format="parquet"
        )

    def relation(self, con: duckdb.DuckDBPyConnection, name: str, paths: list[str]) -> None:
        """Make ``paths`` queryable in DuckDB as the view/table ``name`` (no files: not defined)."""
        if self.local:
            files = ", ".join(_sql_literal(self.full(p)) for p in paths)
            con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM read_parquet([{files}])")
        else:  # DuckDB scans the Arrow dataset lazily, with projection and filter pushdown
            con.register(name, self.dataset(paths))

    def latest(self, con: duckdb.DuckDBPyConnection, name: str, paths: list[str], key: str) -> None:
        """Like :meth:`relation`, keeping per ``key`` (SQL columns) only the row of the latest file.

        ``paths`` come oldest first; a file's place in that list, not its name, says which is newer.
        Within a file the last row (highest ``source_row``) wins.
        """
        if len(paths) <= 1:
            self.relation(con, name, paths)
            return
        parts = []
        for index, path in enumerate(paths):
            self.relation(con, f"{name}_{index}", [path])
            parts.append(f"SELECT *, {index} AS _part FROM {name}_{index}")
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * EXCLUDE (_part) FROM ("
            + " UNION ALL BY NAME ".join(parts)
            + f") QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY _part DESC, source_row DESC) = 1"
        )

    def delete(self, paths: Iterable[str]) -> int:
        deleted = 0
        for path in paths:
            try:
                self.fs.delete_file(self.full(path))
                deleted += 1
            except FileNotFoundError:
                pass
            except OSError as exc:
                if "not found" not in str(exc).lower() and "does not exist" not in str(exc).lower():
                    raise
        return deleted

    def files(self, folder: str = "") -> list[tuple[str, dt.datetime | None]]:
        """(relative path, modification time) of every Parquet file under ``folder``."""
        base = self.full(folder).rstrip("/")
        try:
            infos = self.fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
        except (OSError, pa.ArrowException) as exc:
            raise LakeError(f"lake {self.url}: cannot list {folder or '/'} ({exc})") from None
        prefix = self.root.rstrip("/") + "/"
        return [
            (info.path[len(prefix) :] if info.path.startswith(prefix) else info.path, info.mtime)
            for info in infos
            if info.type == pafs.FileType.File and info.path.endswith(".parquet")
        ]

    def collect_garbage(
        self, relationship: str, committed: set[str], grace: dt.timedelta, now: dt.datetime | None = None
    ) -> int:
        """Delete this relationship's files no committed row names, once older than ``grace``."""
        now = now or dt.datetime.now(dt.UTC)
        partition = f"relationship={storage_name(relationship)}"
        stale = [
            path
            for table in self.tables()  # only this relationship's prefixes are listed
            for path, mtime in self.files(f"{table}/{partition}")
            if path not in committed and (mtime is None or _aware(mtime) <= now - grace)
        ]
        return self.delete(stale)

    def tables(self) -> list[str]:
        """The tables (top-level folders) of the lake."""
        try:
            infos = self.fs.get_file_info(pafs.FileSelector(self.root, allow_not_found=True))
        except (OSError, pa.ArrowException) as exc:
            raise LakeError(f"lake {self.url}: cannot list its tables ({exc})") from None
        return sorted(info.base_name for info in infos if info.type == pafs.FileType.Directory)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _endpoint() -> str | None:
    """The S3-compatible server to use instead of AWS (as boto3 reads it), if any."""
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def _where(url: str) -> str:
    return (_endpoint() or "AWS") if urlparse(url).scheme == "s3" else url


def _object_store(url: str) -> tuple[pafs.FileSystem, str]:
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise LakeError(f"lake {url}: no bucket (expected s3://<bucket>/<prefix>)")
        options: dict[str, Any] = {}
        endpoint = _endpoint()
        if endpoint:  # e.g. http://127.0.0.1:9000 (MinIO, Ceph, moto): host[:port], and http or https
            server = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
            if server.scheme not in ("http", "https") or not server.netloc:
                raise LakeError(f"AWS_ENDPOINT_URL {endpoint!r}: expected http(s)://host[:port]")
            options |= {"endpoint_override": server.netloc, "scheme": server.scheme}
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            options["region"] = region
        fs = pafs.S3FileSystem(**options)
        return fs, f"{parsed.netloc}{parsed.path}".rstrip("/")
    fs, root = pafs.FileSystem.from_uri(url)
    return fs, root.rstrip("/")


def lake_url(home: Path, env: dict[str, str]) -> str:
    """``VM_LAKE_URL``, else the folder ``lake`` under ``VM_HOME``."""
    return env.get("VM_LAKE_URL") or str(home / "lake")
