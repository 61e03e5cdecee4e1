"""The lake on an S3-compatible server: the same scores, files and erasure as on a local folder.

moto's S3 server runs in this process on a free loopback port; vm reaches it the way a
deployment reaches MinIO or Ceph: ``VM_LAKE_URL=s3://<bucket>/<prefix>`` and the usual AWS
variables (``AWS_ENDPOINT_URL``, ``AWS_REGION``, keys). Every other AWS setting is pointed at
nothing, so neither pyarrow nor boto3 looks for credentials, a region or a proxy elsewhere.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pytest
from moto import server as moto_server
from sqlalchemy import select

from tests.test_golden_scores import CASES, assert_golden_scores
from vm_core.config import load_config
from vm_core.ingest.modelling import EVALUATION_SCHEMA
from vm_core.keys import storage_name
from vm_core.lake.evidence import evaluations_relation
from vm_core.lake.storage import EVALUATIONS, Lake, LakeError, connect
from vm_core.lake.upkeep import collect_garbage
from vm_core.run import pipeline
from vm_core.run.orchestration import LocalSteps, run_relationship
from vm_core.run.participants import forget
from vm_core.run.pipeline import SourceStatus
from vm_core.settings import Settings
from vm_core.store.models import Cycle, LakeFile

PREFIX = "lake"
#: <table>/relationship=<key>/cycle=<n>/source=<key>/<load id>-<part>.parquet (vm_core.lake.storage)
LAYOUT = re.compile(
    r"(?P<table>evaluations|landed_\w+)/relationship=(?P<relationship>[\w-]+)/cycle=(?P<cycle>\d+)"
    r"/source=(?P<source>[\w-]+)/\d{8}T\d{6}-[0-9a-f]{12}-\d+\.parquet"
)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """An S3 server on a free loopback port, for this module's tests."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no log line per request
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@dataclass
class Bucket:
    name: str
    client: Any  # boto3's S3 client

    @property
    def url(self) -> str:
        return f"s3://{self.name}/{PREFIX}"

    def keys(self) -> set[str]:
        """The lake's Parquet files, relative to the lake (as ``lake_file.path`` names them)."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=f"{PREFIX}/")
        return {
            item["Key"][len(PREFIX) + 1 :]
            for page in pages
            for item in page.get("Contents", [])
            if item["Key"].endswith(".parquet")
        }

    def put(self, path: str, body: bytes = b"") -> None:
        self.client.put_object(Bucket=self.name, Key=f"{PREFIX}/{path}", Body=body)


@pytest.fixture
def bucket(endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Bucket:
    """A new bucket (a new lake URL: lakes are cached per process and URL), and the AWS variables."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL_S3",
        "AWS_DEFAULT_REGION",
        "AWS_CA_BUNDLE",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask 169.254.169.254
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    name = f"vm-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=name)
    return Bucket(name, client)


def _committed(settings: Settings) -> dict[str, LakeFile]:
    with pipeline.open_store(settings)() as session:
        return {row.path: row for row in session.scalars(select(LakeFile))}


def _respondents(lake: Lake, path: str) -> set[str]:
    dataset = lake.dataset([path])
    if "respondent_key" not in dataset.schema.names:
        return set()  # e.g. a file's column list
    return set(dataset.to_table(columns=["respondent_key"]).column(0).to_pylist())


def test_demo_on_s3_scores_forgets_and_leaves_no_local_lake(bucket: Bucket, tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = Settings.from_env({"VM_HOME": str(home), "VM_SECRET": "golden", "VM_LAKE_URL": bucket.url})
    config = load_config(CASES["demo"])

    result = run_relationship(config, LocalSteps(settings))

    assert [s.status for c in result.cycles for s in c.sources] == [SourceStatus.LOADED] * 3
    assert_golden_scores(settings, config.key, "demo")
    # the bucket holds exactly the committed files, in the documented layout; nothing is local
    committed = _committed(settings)
    assert bucket.keys() == set(committed)
    tables: dict[str, set[int]] = {}
    for path, row in committed.items():
        match = LAYOUT.fullmatch(path)
        assert match, path
        assert (match["relationship"], match["source"]) == (storage_name(config.key), "diagnostic")
        assert match["table"] == row.table_name
        tables.setdefault(match["table"], set()).add(int(match["cycle"]))
    assert tables[EVALUATIONS] == {1, 2, 3}
    assert {"landed_qualtrics_responses"} <= tables.keys()
    assert all(cycles == {1, 2, 3} for cycles in tables.values())
    assert not (home / "lake").exists()

    # a rerun reads nothing new and writes nothing
    again = run_relationship(config, LocalSteps(settings))
    assert [s.status for c in again.cycles for s in c.sources] == [SourceStatus.UNCHANGED] * 3
    assert bucket.keys() == set(committed)

    # garbage: an uncommitted file of this relationship goes (after the grace period), another's stays
    stray = f"{EVALUATIONS}/relationship={storage_name(config.key)}/cycle=1/source=diagnostic/20000101T000000-000000000000-0.parquet"
    other = f"{EVALUATIONS}/relationship=someone_else/cycle=1/source=x/20000101T000000-000000000000-0.parquet"
    bucket.put(stray)
    bucket.put(other)
    assert collect_garbage(settings, config.key, now=dt.datetime.now(dt.UTC)) == 0  # within the grace period
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=settings.lake_grace_seconds + 60)
    assert collect_garbage(settings, config.key, now=later) == 1
    assert bucket.keys() == set(committed) | {other}

    # forgetting someone of cycle 1 who is not in every cycle rewrites only the files holding them
    lake = settings.lake()
    holding = {path: _respondents(lake, path) for path in committed}
    cycle_of = {row.path: row.cycle_id for row in committed.values()}
    evaluations = [p for p, row in committed.items() if row.table_name == EVALUATIONS]
    everywhere = set.intersection(*(holding[p] for p in evaluations))
    first = min(evaluations, key=lambda p: cycle_of[p])
    pseudonym = sorted(holding[first] - everywhere)[0]
    theirs = {path for path, people in holding.items() if pseudonym in people}

    forgotten = forget(settings, config.key, pseudonym)

    after = _committed(settings)
    with pipeline.open_store(settings)() as session:
        numbers = dict(session.execute(select(Cycle.id, Cycle.number)).all())
    assert forgotten.rescored_cycles == sorted({numbers[cycle_of[p]] for p in theirs if p in evaluations})
    assert set(committed) - set(after) == theirs  # only their files were replaced ...
    new = set(after) - set(committed)
    assert len(new) == len(theirs)
    assert all(LAYOUT.fullmatch(path) for path in new)
    assert not any(pseudonym in _respondents(lake, path) for path in new)
    assert bucket.keys() == set(after) | {other}  # ... and the old objects are gone
    assert not (home / "lake").exists()


def _evaluations(respondent: str, level: int, source: str) -> pa.Table:
    row = {
        "respondent_key": respondent,
        "party": "client",
        "perspective": None,
        "role": None,
        "value_code": "V1",
        "level": level,
        "blank": False,
        "comment": None,
        "source_file": f"{source}.csv",
        "source_row": 1,
        "source_column": None,
    }
    return pa.Table.from_pylist([row], schema=EVALUATION_SCHEMA)


@pytest.mark.parametrize("where", ["local", "s3"])
def test_newest_load_wins_a_clash_between_sources(
    where: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Two sources evaluated one respondent × Value Code: the newer load counts, whatever the sources are called."""
    lake = Lake(request.getfixturevalue("bucket").url if where == "s3" else str(tmp_path / "lake"))
    folder = f"{EVALUATIONS}/relationship=r/cycle=1"
    older = f"{folder}/source=zulu/20260101T000000-aaaaaaaaaaaa-0.parquet"  # sorts after the newer by name
    newer = f"{folder}/source=alpha/20260102T000000-bbbbbbbbbbbb-0.parquet"
    for path, level, source in ((older, 2, "zulu"), (newer, 4, "alpha")):
        table = _evaluations("p1", level, source)
        lake.write_batches(path, table.schema, table.to_batches())
    with connect() as con:
        relation = evaluations_relation(con, lake, [older, newer])  # oldest load first, as committed
        assert con.execute(f"SELECT respondent_key, level FROM {relation}").fetchall() == [("p1", 4)]


def test_missing_bucket_is_one_line(bucket: Bucket) -> None:
    with pytest.raises(LakeError, match=r"bucket 'vm-no-such-bucket' not found at http://127\.0\.0\.1:\d+$"):
        Lake("s3://vm-no-such-bucket/lake")
