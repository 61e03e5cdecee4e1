"""The pipeline end to end on the demo's real Qualtrics exports: ingest, quarantine, idempotence, re-modelling.

Most tests start from a copy of one committed load of the demo's cycle 1 (a module fixture, on the
embedded store); the tests whose SQL differs per backend (quarantine, replacing a load) run on both.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml
from sqlalchemy import func, select

from tests.conftest import REPO, Store
from tests.factories import read_rows, write_rows
from tests.test_landing_privacy import lake_values, store_values
from vm_core.config import load_config
from vm_core.errors import SourceError
from vm_core.lake.evidence import committed_files
from vm_core.lake.storage import EVALUATIONS
from vm_core.run import pipeline
from vm_core.run.orchestration import LocalSteps, SourcesFailed, run_relationship
from vm_core.run.pipeline import CycleResult, SourceStatus
from vm_core.settings import Settings
from vm_core.store.models import Cycle, LakeFile, QuarantinedRow, Score

KEY = "northwind-contoso"
RESPONSES = "qualtrics_responses"


def _run(settings: Settings, config_path: Path, cycle: int = 1, *, force: bool = False) -> CycleResult:
    """`vm run --cycle N --no-prefect` in this process; a failed source comes back as its result."""
    config = load_config(config_path)
    try:
        run = run_relationship(config, LocalSteps(settings), [cycle], force=force)
    except SourcesFailed as failed:
        run = failed.run
    return run.cycles[0]


def _cycle_id(settings: Settings, number: int) -> int:
    with pipeline.open_store(settings)() as s:
        return s.scalars(select(Cycle.id).where(Cycle.number == number)).one()


def lake_rows(settings: Settings, cycle: int = 1, table: str = EVALUATIONS) -> pa.Table:
    """The committed rows of one lake table of a cycle."""
    with pipeline.open_store(settings)() as s:
        files = committed_files(s, _cycle_id(settings, cycle), table)
    assert files, f"nothing committed in {table} of cycle {cycle}"
    return settings.lake().dataset(files).to_table()


def _state(settings: Settings) -> dict[str, Any]:
    """What a run leaves: committed lake files and their rows, quarantine and scores."""
    with pipeline.open_store(settings)() as s:
        files = s.execute(select(LakeFile.table_name, LakeFile.path, LakeFile.rows)).all()
        quarantined = s.scalar(select(func.count()).select_from(QuarantinedRow))
        scores = s.execute(
            select(
                Score.cycle_id, Score.value_code_id, Score.group_key, Score.n, Score.mean, Score.suppressed
            )
        ).all()
    lake = settings.lake()
    return {
        "files": sorted(path for _, path, _ in files),
        "rows": sorted((table, lake.dataset([path]).count_rows()) for table, path, _ in files),
        "quarantined": quarantined,
        "scores": sorted(scores),
    }


def _edit_config(config_path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    change(data)
    config_path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _map_apprentices(data: dict[str, Any]) -> None:
    data["equivalences"].insert(0, {"party": "contoso", "role": "*Apprentice", "perspective": "front_line"})


def _data_rows(path: Path) -> list[list[str]]:
    return read_rows(path)[3:]


def _settings(home: Path) -> Settings:
    return Settings.from_env({"VM_HOME": str(home), "VM_SECRET": "pipeline-test"})


@dataclass(frozen=True)
class Loaded:
    """The demo (configuration and exports) with cycle 1 loaded and scored once, in ``home``."""

    folder: Path
    home: Path
    result: CycleResult

    def copy(self, target: Path) -> tuple[Settings, Path]:
        shutil.copytree(self.folder, target / "demo")
        shutil.copytree(self.home, target / "home")
        return _settings(target / "home"), target / "demo" / "relationship.yaml"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(REPO / "examples" / "demo", root / "demo", ignore=shutil.ignore_patterns("*.py"))
    settings = _settings(root / "home")
    result = _run(settings, root / "demo" / "relationship.yaml")
    pipeline._open(settings.database_url)[0].dispose()  # closed, so the copies are whole
    return Loaded(root / "demo", root / "home", result)


@pytest.fixture
def demo(loaded: Loaded, tmp_path: Path) -> tuple[Settings, Path]:
    """A private copy of the loaded demo: (settings, configuration path)."""
    return loaded.copy(tmp_path)


def test_demo_cycle_is_ingested_and_scored(loaded: Loaded) -> None:
    export = loaded.folder / "responses" / "cycle-1.csv"
    rows = _data_rows(export)
    status = read_rows(export)[0].index("Status")
    previews = sum(1 for r in rows if r[status] == "Survey Preview")

    (source,) = loaded.result.sources
    assert source.status is SourceStatus.LOADED
    assert source.rows_read == len(rows)
    assert source.rows_dropped == {"preview": previews}
    assert source.quarantined == 0
    assert source.participants == len(rows) - previews
    assert source.evaluations == 16 * (len(rows) - previews)
    assert source.unmapped_roles  # the demo's apprentices have no perspective, and are reported
    # 16 Value Codes × (all + 2 parties + 3 perspectives + 6 party×perspective)
    assert loaded.result.scored_cells == 16 * 12
    assert loaded.result.suppressed_cells > 0  # supplier senior leadership: only 4 responded in cycle 1

    settings = _settings(loaded.home)
    evaluations = lake_rows(settings)
    assert evaluations.num_rows == source.evaluations
    assert evaluations.group_by(["respondent_key", "value_code"]).aggregate([]).num_rows == source.evaluations
    assert set(evaluations.column("party").to_pylist()) == {"northwind", "contoso"}
    assert lake_rows(settings, table=f"landed_{RESPONSES}").num_rows == source.participants


def test_no_personal_data_lands_anywhere(loaded: Loaded) -> None:
    export = loaded.folder / "responses" / "cycle-1.csv"
    header = read_rows(export)[0]
    personal = {
        value
        for row in _data_rows(export)
        for name in (
            "RecipientEmail",
            "RecipientFirstName",
            "RecipientLastName",
            "IPAddress",
            "ExternalReference",
            "LocationLatitude",
            "LocationLongitude",
        )
        if (value := row[header.index(name)])
    }
    assert any("@" in v for v in personal)
    settings = _settings(loaded.home)
    stored = store_values(settings) | lake_values(settings.lake().root)
    assert any(len(v) == 64 for v in stored)  # the pseudonyms are there: the scan sees the lake
    leaked = sorted(personal & stored)
    assert not leaked, f"personal data found in the store or the lake: {leaked[:5]}"
    assert not [v for v in stored if "@" in v]  # no e-mail address, not even inside a longer text


@pytest.mark.store
def test_the_same_export_twice_changes_nothing(store: Store, demo_copy: Path) -> None:
    first = _run(store.settings, demo_copy)
    assert first.sources[0].status is SourceStatus.LOADED
    before = _state(store.settings)

    again = _run(store.settings, demo_copy)
    assert again.sources[0].status is SourceStatus.UNCHANGED
    assert again.sources[0].evaluations == first.sources[0].evaluations
    assert _state(store.settings) == before

    forced = _run(store.settings, demo_copy, force=True)
    assert forced.sources[0].status is SourceStatus.LOADED
    after = _state(store.settings)
    assert set(after["files"]).isdisjoint(before["files"])  # a new load's files replace the old ones
    assert {k: v for k, v in after.items() if k != "files"} == {
        k: v for k, v in before.items() if k != "files"
    }


def test_an_overlapping_export_replaces_the_earlier_one(demo: tuple[Settings, Path]) -> None:
    settings, config = demo
    export = config.parent / "responses" / "cycle-1.csv"
    header_rows, data = read_rows(export)[:3], _data_rows(export)
    late = data[len(data) // 3 :]
    write_rows(export, header_rows + late)

    result = _run(settings, config)

    status = header_rows[0].index("Status")
    real = [r for r in late if r[status] != "Survey Preview"]
    assert result.sources[0].status is SourceStatus.LOADED
    assert result.sources[0].evaluations == 16 * len(real)
    evaluations = lake_rows(settings)
    assert evaluations.num_rows == 16 * len(real)  # nobody twice, nobody of the earlier export only
    assert evaluations.group_by(["respondent_key", "value_code"]).aggregate([]).num_rows == 16 * len(real)
    assert lake_rows(settings, table=f"landed_{RESPONSES}").num_rows == len(real)


@pytest.mark.store
def test_bad_rows_are_quarantined_with_reason_and_good_rows_kept(store: Store, demo_copy: Path) -> None:
    export = demo_copy.parent / "responses" / "cycle-1.csv"
    rows = read_rows(export)
    tags = rows[0]
    q3, org, status = tags.index("Q3"), tags.index("Organisation"), tags.index("Status")
    complete = [
        i
        for i, r in enumerate(rows)
        if i >= 3 and r[status] != "Survey Preview" and r[tags.index("Finished")] == "True"
    ]
    bad_label, bad_number, bad_org = complete[:3]
    rows[bad_label][q3] = "Excellent"  # not a level, label or statement
    rows[bad_number][q3] = "7"  # a number outside 1..5
    rows[bad_org][org] = "Fabrikam Ltd"  # matches no party: the whole response is kept aside
    write_rows(export, rows)

    result = _run(store.settings, demo_copy)

    with store.sessions() as s:
        quarantined = s.scalars(
            select(QuarantinedRow).order_by(QuarantinedRow.source_row, QuarantinedRow.source_column)
        ).all()
    reasons = {(q.source_row, q.source_column): q for q in quarantined}
    assert all(q.source_file == "cycle-1.csv" and q.source_key == "diagnostic" for q in quarantined)
    assert all(q.created_at is not None for q in quarantined)
    label_row = reasons[(bad_label + 1, "Q3")]  # spreadsheet rows are 1-based
    assert "is not a level 1–5" in label_row.reason
    assert label_row.value == "Excellent"
    assert "level above 5" in reasons[(bad_number + 1, "Q3")].reason
    fabrikam = [q for q in quarantined if q.source_row == bad_org + 1]
    assert len(fabrikam) == 16
    assert "organisation matches no party" in fabrikam[0].reason
    assert "Fabrikam" not in fabrikam[0].reason
    (source,) = result.sources
    assert source.quarantined == len(quarantined) == 18
    previews = sum(1 for r in rows[3:] if r[status] == "Survey Preview")
    assert source.evaluations == 16 * (len(rows) - 3 - previews) - 18
    assert lake_rows(store.settings).num_rows == source.evaluations
    set_aside = {(r["source_row"], r["source_column"]) for r in lake_rows(store.settings).to_pylist()}
    assert not set_aside & set(reasons)  # a quarantined answer is not also evaluated


def test_an_unparseable_file_fails_that_source_and_keeps_what_is_stored(demo: tuple[Settings, Path]) -> None:
    settings, config_path = demo
    before = _state(settings)
    export = config_path.parent / "responses" / "cycle-1.csv"
    export.write_bytes(b"\x00\x01 this is not a survey export\r\n")
    config = load_config(config_path)
    with pytest.raises(SourceError, match=r"^cycle-1\.csv, row 1: ") as raised:
        pipeline.run_source(settings, config, 1, config.cycle(1).sources[0])
    assert "\n" not in str(raised.value)
    assert _state(settings) == before
    with pytest.raises(
        SourcesFailed, match=r"^1 of 1 sources failed: cycle 1 · diagnostic: cycle-1\.csv, row 1"
    ):
        run_relationship(config, LocalSteps(settings), [1])
    assert _state(settings) == before  # the scores of what was committed stay published
    assert [p for p, _ in settings.lake().files() if p not in before["files"]] == []  # nothing left behind


def test_a_changed_mapping_remodels_from_the_lake_without_the_files(demo: tuple[Settings, Path]) -> None:
    settings, config = demo
    first = lake_rows(settings)
    unmapped = first.filter(pc.is_null(first.column("perspective"))).num_rows
    assert unmapped > 0  # the apprentices
    landed = lake_rows(settings, table=f"landed_{RESPONSES}")

    _edit_config(config, _map_apprentices)
    shutil.rmtree(config.parent / "responses")  # re-modelling never reads the file
    result = _run(settings, config)

    (source,) = result.sources
    assert source.status is SourceStatus.REMODELLED
    assert source.unmapped_roles == {}
    assert source.evaluations == first.num_rows
    again = lake_rows(settings)
    assert again.num_rows == first.num_rows
    assert again.filter(pc.is_null(again.column("perspective"))).num_rows == 0
    assert lake_rows(settings, table=f"landed_{RESPONSES}").equals(landed)  # the landed data as it was
    assert _run(settings, config).sources[0].status is SourceStatus.UNCHANGED


def test_each_cycle_keeps_the_groups_people_had_then(demo: tuple[Settings, Path]) -> None:
    """Re-mapping roles and re-modelling cycle 2 leaves cycle 1's groups, and its scores, as they were."""
    settings, config = demo
    _run(settings, config, cycle=2)
    cycle_1 = [s for s in _state(settings)["scores"] if s[0] == _cycle_id(settings, 1)]

    _edit_config(config, _map_apprentices)
    assert _run(settings, config, cycle=2).sources[0].status is SourceStatus.REMODELLED

    def unmapped(cycle: int) -> int:
        rows = lake_rows(settings, cycle)
        return int(rows.filter(pc.is_null(rows.column("perspective"))).num_rows)

    assert unmapped(1) > 0  # cycle 1 still as it was modelled
    assert unmapped(2) == 0
    after = [s for s in _state(settings)["scores"] if s[0] == _cycle_id(settings, 1)]
    assert after == cycle_1
