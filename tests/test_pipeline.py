"""The pipeline end to end on the demo's real Qualtrics exports: ingest, quarantine, idempotence, re-modelling."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select, text

from tests.conftest import Store
from tests.factories import read_rows, write_rows
from vm_core import pipeline
from vm_core.config import load_config
from vm_core.errors import SourceError
from vm_core.landing import dataset_name, landing_pipeline
from vm_core.models import Base, Evaluation, Participant, QuarantinedRow, Score

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"
pytestmark = pytest.mark.store


def _counts(store: Store) -> dict[str, int]:
    with store.sessions() as s:
        return {
            model.__tablename__: s.scalar(select(func.count()).select_from(model)) or 0
            for model in (Participant, Evaluation, QuarantinedRow, Score)
        }


def _edit_config(config_path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    change(data)
    config_path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _run(store: Store, config_path: Path, cycle: int = 1, **kwargs) -> pipeline.CycleResult:  # type: ignore[no-untyped-def]
    config = load_config(config_path)
    pipeline.prepare(store.settings, config)
    return pipeline.run_cycle_locally(store.settings, config, cycle, **kwargs)


def _data_rows(path: Path) -> list[list[str]]:
    return read_rows(path)[3:]


def test_demo_cycle_is_ingested_and_scored(store: Store, demo_copy: Path) -> None:
    export = demo_copy.parent / "responses" / "cycle-1.csv"
    rows = _data_rows(export)
    status = read_rows(export)[0].index("Status")
    previews = sum(1 for r in rows if r[status] == "Survey Preview")

    result = _run(store, demo_copy)

    (source,) = result.sources
    assert source.status == "loaded"
    assert source.rows_read == len(rows)
    assert source.rows_dropped == {"preview": previews}
    assert source.quarantined == 0
    assert source.participants == len(rows) - previews
    assert source.evaluations == 16 * (len(rows) - previews)
    assert source.unmapped_roles  # the demo's apprentices have no perspective, and are reported
    # 16 Value Codes × (all + 2 parties + 3 perspectives + 6 party×perspective)
    assert result.scored_cells == 16 * 12
    assert result.suppressed_cells > 0  # supplier senior leadership: only 4 responded in cycle 1


def test_no_personal_data_lands_anywhere(store: Store, demo_copy: Path) -> None:
    export = demo_copy.parent / "responses" / "cycle-1.csv"
    header, *_ = read_rows(export)
    data = _data_rows(export)
    personal = {
        value
        for row in data
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
    _run(store, demo_copy)

    stored: set[str] = set()

    def keep(value: object) -> None:  # every stored cell, and every value inside a JSON cell
        if isinstance(value, dict | list):
            value = json.dumps(value)
        text_value = str(value)
        stored.add(text_value)
        if text_value.startswith("{"):
            stored.update(str(v) for v in json.loads(text_value).values())

    with store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                for v in row:
                    if v is not None:
                        keep(v)
    landing = landing_pipeline(store.settings, "northwind-contoso")
    with landing.sql_client() as client:
        tables = [
            t
            for (t,) in client.execute_sql(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                dataset_name(store.settings, "northwind-contoso"),
            )
        ]
        assert "qualtrics_responses" in tables
        for table in tables:
            for row in client.execute_sql(f"SELECT * FROM {client.make_qualified_table_name(table)}"):
                for v in row:
                    if v is not None:
                        keep(v)
    leaked = sorted(personal & stored)
    assert not leaked, f"personal data found in the store or landing: {leaked[:5]}"
    blob = "\n".join(stored)
    assert "@" not in blob  # no e-mail address, not even inside a longer text


def test_the_same_export_twice_changes_nothing(store: Store, demo_copy: Path) -> None:
    _run(store, demo_copy)
    first = _counts(store)
    again = _run(store, demo_copy)
    assert again.sources[0].status == "unchanged"
    forced = _run(store, demo_copy, force=True)
    assert forced.sources[0].status == "loaded"
    assert _counts(store) == first


def test_an_overlapping_export_does_not_duplicate(store: Store, demo_copy: Path) -> None:
    export = demo_copy.parent / "responses" / "cycle-1.csv"
    header_rows, data = read_rows(export)[:3], _data_rows(export)
    early, late = data[: len(data) * 2 // 3], data[len(data) // 3 :]
    write_rows(export, header_rows + early)
    _run(store, demo_copy)
    write_rows(export, header_rows + late)
    result = _run(store, demo_copy)
    everyone = _run(store, demo_copy, remodel=True)  # the landing holds the union of both exports
    status = header_rows[0].index("Status")
    real = [r for r in data if r[status] != "Survey Preview"]
    assert result.sources[0].status == "loaded"
    assert everyone.sources[0].evaluations == 16 * len(real)
    assert _counts(store)["evaluation"] == 16 * len(real)


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

    result = _run(store, demo_copy)

    with store.sessions() as s:
        quarantined = (
            s.execute(
                select(QuarantinedRow).order_by(QuarantinedRow.source_row, QuarantinedRow.source_column)
            )
            .scalars()
            .all()
        )
    reasons = {(q.source_row, q.source_column): q for q in quarantined}
    assert all(q.source_file == "cycle-1.csv" for q in quarantined)
    label_row = reasons[(bad_label + 1, "Q3")]  # spreadsheet rows are 1-based
    assert "is not a level 1–5" in label_row.reason
    assert label_row.value == "Excellent"
    assert "level above 5" in reasons[(bad_number + 1, "Q3")].reason
    fabrikam = [q for q in quarantined if q.source_row == bad_org + 1]
    assert len(fabrikam) == 16
    assert "organisation matches no party" in fabrikam[0].reason
    assert result.sources[0].quarantined == len(quarantined) == 18
    previews = sum(1 for r in rows[3:] if r[status] == "Survey Preview")
    assert result.sources[0].evaluations == 16 * (len(rows) - 3 - previews) - 18


def test_an_unparseable_file_fails_that_source_and_keeps_what_is_stored(
    store: Store, demo_copy: Path
) -> None:
    _run(store, demo_copy)
    before = _counts(store)
    export = demo_copy.parent / "responses" / "cycle-1.csv"
    export.write_bytes(b"\x00\x01 this is not a survey export\r\n")
    config = load_config(demo_copy)
    with pytest.raises(SourceError, match=r"cycle-1\.csv"):
        pipeline.extract_load(store.settings, config, 1, config.cycle(1).sources[0])
    assert _counts(store) == before


def test_remodel_after_a_mapping_change_needs_no_files(store: Store, demo_copy: Path) -> None:
    first = _run(store, demo_copy)
    assert first.sources[0].unmapped_roles

    def map_apprentices(data: dict) -> None:  # type: ignore[type-arg]
        data["equivalences"].insert(
            0, {"party": "contoso", "role": "*Apprentice", "perspective": "front_line"}
        )

    _edit_config(demo_copy, map_apprentices)
    shutil.rmtree(demo_copy.parent / "responses")
    result = _run(store, demo_copy, remodel=True)
    assert result.sources[0].status == "remodelled"
    assert result.sources[0].unmapped_roles == {}
    assert result.sources[0].evaluations == first.sources[0].evaluations
    with store.engine.connect() as conn:
        unmapped = conn.execute(
            text("SELECT count(*) FROM participant WHERE perspective_id IS NULL")
        ).scalar()
    assert unmapped == 0


def test_each_cycle_keeps_the_groups_people_had_then(store: Store, demo_copy: Path) -> None:
    """Re-mapping roles and re-modelling cycle 2 leaves cycle 1's groups, and its scores, as they were."""
    _run(store, demo_copy, cycle=1)
    _run(store, demo_copy, cycle=2)
    with store.sessions() as s:
        cycle_1_scores = s.execute(text(
            "SELECT group_key, n FROM score JOIN cycle ON cycle.id = score.cycle_id WHERE cycle.number = 1"
        )).all()  # fmt: skip

    def map_apprentices(data: dict) -> None:  # type: ignore[type-arg]
        data["equivalences"].insert(
            0, {"party": "contoso", "role": "*Apprentice", "perspective": "front_line"}
        )

    _edit_config(demo_copy, map_apprentices)
    _run(store, demo_copy, cycle=2, remodel=True)

    unmapped = text(
        "SELECT count(*) FROM evaluation JOIN cycle ON cycle.id = evaluation.cycle_id "
        "WHERE cycle.number = :n AND evaluation.perspective_id IS NULL"
    )
    with store.sessions() as s:
        assert (s.scalar(unmapped, {"n": 1}) or 0) > 0  # cycle 1 still as it was modelled
        assert s.scalar(unmapped, {"n": 2}) == 0
        after = s.execute(text(
            "SELECT group_key, n FROM score JOIN cycle ON cycle.id = score.cycle_id WHERE cycle.number = 1"
        )).all()  # fmt: skip
    assert sorted(after) == sorted(cycle_1_scores)
