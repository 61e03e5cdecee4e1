"""What a new delivery does to the data, as a data engineer relies on it.

A new export replaces the source's previous one (respondents it no longer has leave the
evaluations and the scores); a damaged file fails alone and keeps what was committed; a folder
of exports is one delivery; a changed column layout loads; a mapping change re-models from
the lake without the file; a cycle with nothing committed has no scores; and of two sources
that evaluated the same people, the later load counts, once.

Most tests start from a copy of one committed load (a module fixture) of a small generated
Qualtrics export (``tests/fixtures/golden/export_300x8``); everything runs in this process.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from sqlalchemy import func, select

from connectors.qualtrics_csv.settings import RESPONSES_TABLE
from tests.conftest import Store
from tests.factories import invoke_vm, read_rows, write_rows
from vm_core.config import load_config
from vm_core.ingest.connector import Delivery, LandedTable, files_fingerprint
from vm_core.lake.storage import EVALUATIONS
from vm_core.lake.upkeep import collect_garbage
from vm_core.read.scores import format_scores, read_scores
from vm_core.run import pipeline
from vm_core.run.orchestration import LocalSteps, RunResult, SourcesFailed, run_relationship
from vm_core.run.pipeline import SourceStatus
from vm_core.settings import Settings
from vm_core.store.models import LakeFile, QuarantinedRow, Score, SourceLoad

REPO = Path(__file__).resolve().parent.parent
EXPORT = REPO / "tests" / "fixtures" / "golden" / "export_300x8"
KEY = "bench"
SECRET = "delivery-test-secret"
HEADER_ROWS = 3
LANDED_RESPONSES = f"landed_{RESPONSES_TABLE}"


# ------------------------------------------------------------------------------------------ helpers


def _settings(home: Path, **extra: str) -> Settings:
    return Settings.from_env({"VM_HOME": str(home), "VM_SECRET": SECRET, **extra})


def _relationship(
    folder: Path, rows: list[list[str]] | None = None, edit: Callable[[dict[str, Any]], None] | None = None
) -> Path:
    """A copy of the fixture relationship in ``folder``; ``rows`` replace the export, ``edit`` the YAML."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXPORT / "library.csv", folder / "library.csv")
    data = yaml.safe_load((EXPORT / "relationship.yaml").read_text(encoding="utf-8"))
    if edit is not None:
        edit(data)
    config = folder / "relationship.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    write_rows(folder / "export.csv", rows if rows is not None else read_rows(EXPORT / "export.csv"))
    return config


def _run(home: Path, config: Path, **kwargs: Any) -> RunResult:
    return run_relationship(load_config(config), LocalSteps(_settings(home)), **kwargs)


def _vm(home: Path, *args: str) -> tuple[int, str]:
    return invoke_vm(home, SECRET, *args)


def _scores_csv(home: Path) -> str:
    with pipeline.open_store(_settings(home))() as session:
        return format_scores(read_scores(session, KEY), "csv")


def _all_n(home: Path) -> dict[str, int]:
    """Value Code -> n of the `all` group, as published."""
    with pipeline.open_store(_settings(home))() as session:
        frame = read_scores(session, KEY)
    rows = frame[frame["group_kind"] == "all"]
    return {str(code): int(n) for code, n in zip(rows["value_code"], rows["n"], strict=True)}


def _committed(home: Path) -> list[tuple[str, str, str, int]]:
    """(source key, table, load id, rows) of every committed lake file."""
    with pipeline.open_store(_settings(home))() as session:
        rows = session.execute(
            select(LakeFile.source_key, LakeFile.table_name, LakeFile.load_id, LakeFile.rows).order_by(
                LakeFile.source_key, LakeFile.table_name
            )
        ).all()
    return [(s, t, load, n) for s, t, load, n in rows]


def _lake_table(home: Path, table: str, source_key: str | None = None) -> list[dict[str, Any]]:
    """The rows of the committed files of one lake table."""
    settings = _settings(home)
    query = select(LakeFile.path).where(LakeFile.table_name == table)
    if source_key is not None:
        query = query.where(LakeFile.source_key == source_key)
    with pipeline.open_store(settings)() as session:
        files = list(session.scalars(query))
    return settings.lake().dataset(files).to_table().to_pylist() if files else []


def _count(home: Path, model: Any) -> int:
    with pipeline.open_store(_settings(home))() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _close_store(home: Path) -> None:
    pipeline._open(_settings(home).database_url)[0].dispose()


@dataclass(frozen=True)
class Baseline:
    """The fixture export, loaded and scored once; tests start from a copy of its home."""

    home: Path
    rows: list[list[str]]
    scores: str
    all_n: dict[str, int]
    evaluations: int

    def copy(self, target: Path) -> Path:
        shutil.copytree(self.home, target)
        return target


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    folder = tmp_path_factory.mktemp("baseline")
    config = _relationship(folder)
    home = folder / "home"
    run = _run(home, config)
    (source,) = run.cycles[0].sources
    assert source.status is SourceStatus.LOADED
    result = Baseline(
        home, read_rows(folder / "export.csv"), _scores_csv(home), _all_n(home), source.evaluations
    )
    _close_store(home)
    return result


# ------------------------------------------------------------------------------------------ tests


def test_respondents_left_out_of_a_new_export_leave_the_evaluations_and_the_scores(
    baseline: Baseline, tmp_path: Path
) -> None:
    home = baseline.copy(tmp_path / "home")
    removed_rows = baseline.rows[HEADER_ROWS + 100 : HEADER_ROWS + 130]
    response_id = baseline.rows[0].index("ResponseId")
    removed_ids = {row[response_id] for row in removed_rows}
    landed = _lake_table(home, LANDED_RESPONSES)
    removed_keys = {r["respondent_key"] for r in landed if r["response_id"] in removed_ids}
    assert len(removed_keys) == 30
    # what they counted for: Value Codes they gave a level to
    counted = Counter(
        e["value_code"]
        for e in _lake_table(home, EVALUATIONS)
        if e["respondent_key"] in removed_keys and e["level"] is not None
    )
    their_evaluations = sum(1 for e in _lake_table(home, EVALUATIONS) if e["respondent_key"] in removed_keys)
    kept = baseline.rows[: HEADER_ROWS + 100] + baseline.rows[HEADER_ROWS + 130 :]
    config = _relationship(tmp_path / "relationship", kept)

    # the change is published, not held back by the re-scoring rule (that rule has its own tests)
    run = _run(home, config, publish_held=True)

    (source,) = run.cycles[0].sources
    assert source.status is SourceStatus.LOADED
    assert source.rows_read == len(kept) - HEADER_ROWS
    assert source.evaluations == baseline.evaluations - their_evaluations
    evaluations = _lake_table(home, EVALUATIONS)
    assert len(evaluations) == source.evaluations
    assert not {e["respondent_key"] for e in evaluations} & removed_keys
    assert not {r["respondent_key"] for r in _lake_table(home, LANDED_RESPONSES)} & removed_keys
    assert _all_n(home) == {code: n - counted[code] for code, n in baseline.all_n.items()}
    assert sum(counted.values()) > 0
    # nothing stale: every committed file is of the new load, and the old ones go with the sweep
    committed = _committed(home)
    assert len({load for _, _, load, _ in committed}) == 1
    collect_garbage(_settings(home, VM_LAKE_GRACE_SECONDS="0"), KEY)
    assert len(_settings(home).lake().files()) == len(committed)


@pytest.mark.store
def test_rows_set_aside_from_a_replaced_delivery_do_not_stay(store: Store, tmp_path: Path) -> None:
    """On both stores: the new export's quarantine replaces the old one, and only its files count."""
    rows = read_rows(EXPORT / "export.csv")
    tags = rows[0]
    rows[-3][tags.index("Q3")] = "Excellent"  # not a level: one answer set aside
    rows[-5][tags.index("Organisation")] = "Fabrikam Ltd"  # no party: the whole response set aside
    config = _relationship(tmp_path / "first", rows)
    steps = LocalSteps(store.settings)
    first = run_relationship(load_config(config), steps).cycles[0].sources[0]
    assert first.quarantined == 1 + 8
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(QuarantinedRow)) == 9

    second = run_relationship(load_config(_relationship(tmp_path / "second", rows[:-20])), steps)

    assert second.cycles[0].sources[0].status is SourceStatus.LOADED
    assert second.cycles[0].sources[0].quarantined == 0
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(QuarantinedRow)) == 0
        loads = set(session.scalars(select(LakeFile.load_id)))
        load = session.scalars(select(SourceLoad)).one()
    assert len(loads) == 1
    assert (load.rows_read, load.quarantined) == (len(rows) - 20 - HEADER_ROWS, 0)


def test_a_file_cut_off_in_its_last_record_fails_naming_file_and_row_and_keeps_what_was_committed(
    baseline: Baseline, tmp_path: Path
) -> None:
    home = baseline.copy(tmp_path / "home")
    config = _relationship(tmp_path / "relationship")
    export = tmp_path / "relationship" / "export.csv"
    data = export.read_bytes()
    last_line_start = data.rstrip(b"\r\n").rfind(b"\n") + 1
    cut = last_line_start + (len(data) - last_line_start) // 2
    export.write_bytes(data[:cut])  # mid-record, no line break at the end
    committed = _committed(home)

    code, output = _vm(home, "run", str(config), "--no-prefect")

    assert code == 1, output
    row = len(baseline.rows)  # the last record's spreadsheet row
    failed = [line for line in output.splitlines() if "FAILED" in line]
    assert len(failed) == 1
    assert (
        f"diagnostic [export.csv]: FAILED — export.csv, row {row}: the file ends in the middle of this row"
        in failed[0]
    )
    assert "Traceback" not in output
    assert output.splitlines()[-1].startswith("Error: 1 of 1 sources failed")
    assert "what was committed before stays as it was" in output.splitlines()[-1]
    assert _committed(home) == committed
    assert _scores_csv(home) == baseline.scores


def test_a_folder_of_two_exports_scores_as_the_single_file(baseline: Baseline, tmp_path: Path) -> None:
    def to_folder(data: dict[str, Any]) -> None:
        data["cycles"][0]["sources"][0]["path"] = "parts"

    config = _relationship(tmp_path / "relationship", edit=to_folder)
    parts = tmp_path / "relationship" / "parts"
    parts.mkdir()
    header, body = baseline.rows[:HEADER_ROWS], baseline.rows[HEADER_ROWS:]
    write_rows(parts / "part-1.csv", header + body[:140])
    write_rows(parts / "part-2.csv", header + body[140:])
    home = tmp_path / "home"

    run = _run(home, config)

    (source,) = run.cycles[0].sources
    assert source.status is SourceStatus.LOADED
    assert source.rows_read == len(body)
    assert source.evaluations == baseline.evaluations
    assert _scores_csv(home) == baseline.scores
    files = Counter(r["source_file"] for r in _lake_table(home, LANDED_RESPONSES))
    assert files == {"part-1.csv": 140, "part-2.csv": len(body) - 140}


def test_a_new_column_layout_of_the_same_survey_loads(baseline: Baseline, tmp_path: Path) -> None:
    """An extra column and the columns in another order: the next delivery of one survey loads fine."""
    home = baseline.copy(tmp_path / "home")
    tags = baseline.rows[0]
    order = list(range(len(tags)))
    moved = [tags.index(name) for name in ("Organisation", "Role", *(f"Q{i}" for i in range(8, 0, -1)))]
    order = [i for i in order if i not in moved]
    at = tags.index("ResponseId") + 1
    order[at:at] = moved
    extra = [
        ["Q9"],
        ["Anything else?"],
        ['{"ImportId":"QID9_TEXT"}'],
    ]
    reshaped = [
        [row[i] for i in order] + (extra[n] if n < HEADER_ROWS else ["fine"])
        for n, row in enumerate(baseline.rows)
    ]
    config = _relationship(tmp_path / "relationship", reshaped)

    run = _run(home, config)

    (source,) = run.cycles[0].sources
    assert source.status is SourceStatus.LOADED, source.error
    assert source.evaluations == baseline.evaluations
    assert _scores_csv(home) == baseline.scores  # the same answers, the same scores
    assert _run(home, config).cycles[0].sources[0].status is SourceStatus.UNCHANGED


def test_a_mapping_that_sets_every_answer_aside_fails_in_one_line_and_commits_nothing(tmp_path: Path) -> None:
    def match_nobody(data: dict[str, Any]) -> None:
        for party in data["parties"]:
            party["match"] = ["Nobody at all*"]

    config = _relationship(tmp_path / "relationship", edit=match_nobody)
    home = tmp_path / "home"

    code, output = _vm(home, "run", str(config), "--no-prefect")

    assert code == 1, output
    assert "Traceback" not in output
    failed = [line for line in output.splitlines() if "FAILED" in line]
    assert len(failed) == 1
    assert (
        "export.csv: every answer was set aside (2400): 2400 for 'organisation matches no party" in failed[0]
    )
    assert "check the parties' `match`" in failed[0]
    for model in (LakeFile, SourceLoad, QuarantinedRow, Score):
        assert _count(home, model) == 0, model.__tablename__
    assert _settings(home).lake().files() == []  # the failed load removed what it wrote


def test_a_changed_mapping_is_remodelled_from_the_lake_without_the_file(
    baseline: Baseline, tmp_path: Path
) -> None:
    def remap(data: dict[str, Any]) -> None:
        data["levels"]["4 - Good"] = 5  # a level text now means another level
        data["equivalences"].insert(0, {"party": "*", "role": "*Manager*", "perspective": "senior"})

    home = baseline.copy(tmp_path / "home")
    config = _relationship(tmp_path / "relationship", edit=remap)
    reference = tmp_path / "reference"  # the same configuration, read from the file in a new home
    _run(reference, _relationship(tmp_path / "with-file", edit=remap))
    (tmp_path / "relationship" / "export.csv").unlink()

    code, output = _vm(home, "run", str(config), "--no-prefect", "--publish-held")

    assert code == 0, output
    assert "diagnostic [export.csv]: re-modelled from the landed data" in output
    assert _scores_csv(home) == _scores_csv(reference) != baseline.scores
    code, output = _vm(home, "run", str(config), "--no-prefect")
    assert code == 0, output
    assert "diagnostic [export.csv]: unchanged since the last run" in output


def test_a_cycle_whose_only_source_fails_is_not_scored(tmp_path: Path) -> None:
    config = _relationship(tmp_path / "relationship")
    (tmp_path / "relationship" / "export.csv").write_bytes(b"\xff\xfe not a survey export")
    home = tmp_path / "home"

    with pytest.raises(SourcesFailed) as failed:
        _run(home, config)

    (cycle,) = failed.value.run.cycles
    assert cycle.no_data
    assert pipeline.score(_settings(home), load_config(config), 1) is None
    assert _count(home, Score) == 0
    code, output = _vm(home, "run", str(config), "--no-prefect")
    assert code == 1
    assert "scores: none — nothing of this cycle is committed" in output


def test_of_two_sources_with_the_same_respondents_the_later_load_counts_once(
    baseline: Baseline, tmp_path: Path
) -> None:
    """Two sources of one cycle both evaluated the same people: each answer counts once, the later one."""
    tags = baseline.rows[0]
    q1 = tags.index("Q1")
    later = [list(row) for row in baseline.rows]
    for row in later[HEADER_ROWS:]:
        row[q1] = "5 - What good looks like"  # everyone changed their mind on VC-001

    def two_sources(data: dict[str, Any]) -> None:
        (source,) = data["cycles"][0]["sources"]
        # keyed so that the later source does not also sort last
        data["cycles"][0]["sources"] = [
            {**source, "key": "zz_first", "path": "first.csv"},
            {**source, "key": "aa_second", "path": "second.csv"},
        ]

    config = _relationship(tmp_path / "relationship", edit=two_sources)
    write_rows(tmp_path / "relationship" / "first.csv", baseline.rows)
    write_rows(tmp_path / "relationship" / "second.csv", later)
    home = tmp_path / "home"

    run = _run(home, config)

    assert [s.status for s in run.cycles[0].sources] == [SourceStatus.LOADED, SourceStatus.LOADED]
    respondents = len(baseline.rows) - HEADER_ROWS
    assert _all_n(home)["VC-001"] == respondents  # once each, with the later answer (none blank)
    assert {k: v for k, v in _all_n(home).items() if k != "VC-001"} == {
        k: v for k, v in baseline.all_n.items() if k != "VC-001"
    }
    with pipeline.open_store(_settings(home))() as session:
        frame = read_scores(session, KEY)
    vc1 = frame[(frame["value_code"] == "VC-001") & (frame["group_kind"] == "all")].iloc[0]
    assert vc1["l5"] == vc1["n"]
    assert vc1["mean"] == 5.0


class _AccountsConnector:
    """A connector that lands operational records only (no answers), as a CRM connector will."""

    name = "accounts_test"
    description = "accounts (test)"
    options = ()
    SCHEMA = pa.schema([("source_file", pa.string()), ("source_row", pa.int64()), ("account", pa.string())])

    def fingerprint(self, source: Any, ctx: Any) -> str:
        return files_fingerprint(source.files())

    def read(self, source: Any, ctx: Any) -> Delivery:
        path = source.files()[0]
        names = path.read_text(encoding="utf-8").split()
        ctx.report.rows_read += len(names)
        batch = pa.RecordBatch.from_pydict(
            {"source_file": [path.name] * len(names), "source_row": list(range(2, len(names) + 2)),
             "account": names},
            schema=self.SCHEMA,
        )  # fmt: skip
        return Delivery((LandedTable("accounts", self.SCHEMA, [batch]),), None)


def test_a_delivery_of_records_only_is_landed_and_not_scored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vm_core.ingest import plugins

    available = {**plugins.connectors(), "accounts_test": _AccountsConnector()}
    monkeypatch.setattr(plugins, "connectors", lambda: available)
    monkeypatch.setattr(pipeline, "get_connector", available.__getitem__)

    def records_only(data: dict[str, Any]) -> None:
        data["cycles"] = data["cycles"][:1]
        data["cycles"][0]["sources"] = [{"key": "crm", "connector": "accounts_test", "path": "accounts.txt"}]

    config = _relationship(tmp_path / "rel", edit=records_only)
    (config.parent / "accounts.txt").write_text("Contoso\nNorthwind\nFabrikam\n", encoding="utf-8")
    home = tmp_path / "home"
    run = _run(home, config)
    source = run.cycles[0].sources[0]
    assert (source.status, source.rows_read, source.evaluations) == (SourceStatus.LOADED, 3, 0)
    assert run.cycles[0].no_data  # nothing to score
    settings = _settings(home)
    with pipeline.open_store(settings)() as session:
        files = session.execute(select(LakeFile.table_name, LakeFile.path)).all()
        assert session.scalar(select(func.count()).select_from(Score)) == 0
    assert [name for name, _ in files] == ["landed_accounts"]
    assert settings.lake().dataset([files[0][1]]).to_table().column("account").to_pylist() == [
        "Contoso", "Northwind", "Fabrikam",
    ]  # fmt: skip
    assert _run(home, config).cycles[0].sources[0].status is SourceStatus.UNCHANGED
