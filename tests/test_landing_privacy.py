"""What lands, and what is left of it: the allow-list, scrubbed comments, no stray copies, retention, forget.

Store tests run the real pipeline on the demo's Qualtrics exports into the lake (Parquet files under
VM_HOME), with the store on SQLite and on PostgreSQL. "Nowhere" means: no store table, no file under
VM_HOME, and no string column of any Parquet file in the lake (compressed, so read with pyarrow).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.conftest import Store
from tests.factories import read_rows, write_rows
from vm_cli.main import main
from vm_core.config import load_config
from vm_core.ingest.scrub import scrub, scrub_counted
from vm_core.lake.storage import EVALUATIONS
from vm_core.lake.upkeep import collect_garbage, purge_expired
from vm_core.run import pipeline
from vm_core.run.orchestration import LocalSteps, SourcesFailed, run_relationship
from vm_core.run.participants import NobodyToForget, forget, pseudonym_for
from vm_core.settings import Settings
from vm_core.store.models import Base, Cycle, LakeFile, QuarantinedRow, Score

KEY = "northwind-contoso"
NAME_MARKER = "Vellacott"  # surname of everyone in the unmapped "What is your name?" column


# --------------------------------------------------------------------------------------------------
# Scrubbing comments
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comment", "scrubbed"),
    [
        (
            "Ask Priya (priya.shah@northwind.example) - she knows why the KPI report is late.",
            "Ask Priya ([e-mail]) - she knows why the KPI report is late.",
        ),
        (
            "Happy to talk: call me on +44 7700 900123 any afternoon.",
            "Happy to talk: call me on [phone] any afternoon.",
        ),
        ("My mobile is 07700 900123, desk 020 7946 0958.", "My mobile is [phone], desk [phone]."),
        ("US office: (555) 123-4567 or 555-123-4567.", "US office: [phone] or [phone]."),
        ("+44 (0)20 7946 0958", "[phone]"),
        ("see https://intranet/x for the minutes", "see [link] for the minutes"),
        ("Minutes at www.northwind.example/board/2024-03.", "Minutes at [link]."),
        ("mailto:ops@contoso.example", "[e-mail]"),
    ],
)
def test_contact_details_are_scrubbed(comment: str, scrubbed: str) -> None:
    assert scrub(comment) == scrubbed


@pytest.mark.parametrize(
    "sentence",
    [
        "We met 3 times in 2024 and agreed 2 of 5 actions.",
        "Since 2024-03-05 (and again on 12/03/2024) the backlog fell by 45%.",
        "REL-TRUST went from 2 to 3.5; DEL-KPI is still at level 1.",
        "The £1,250,000 saving for 2023-2024 covered 1,200 residents.",
        "Ticket 123456 was raised at 10:30 and closed at 14:45 on 5.3.2024.",
        "Year 3 of a 7-year contract; 24/7 cover for 300 staff.",
    ],
)
def test_ordinary_sentences_with_numbers_are_left_alone(sentence: str) -> None:
    assert scrub_counted(sentence) == (sentence, {})


def test_scrub_counts_what_it_replaced() -> None:
    text, found = scrub_counted("a@b.example, c@d.example, https://x.example and +1 202 555 0143")
    assert text == "[e-mail], [e-mail], [link] and [phone]"
    assert found == {"[e-mail]": 2, "[link]": 1, "[phone]": 1}


def test_retention_setting() -> None:
    assert Settings.from_env({"VM_HOME": "/x"}).landing_retention_days is None
    assert (
        Settings.from_env({"VM_HOME": "/x", "VM_LANDING_RETENTION_DAYS": "90"}).landing_retention_days == 90
    )
    for bad in ("0", "-3", "ninety", "1.5"):
        with pytest.raises(ValueError, match="VM_LANDING_RETENTION_DAYS"):
            Settings.from_env({"VM_HOME": "/x", "VM_LANDING_RETENTION_DAYS": bad})


# --------------------------------------------------------------------------------------------------
# What is stored: the store's tables, and every Parquet file of the lake
# --------------------------------------------------------------------------------------------------


def store_values(settings: Settings) -> set[str]:
    """Every non-null cell of every store table as text, and every value inside a JSON cell."""
    found: set[str] = set()

    def keep(value: Any) -> None:
        if isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False)
        text = str(value)
        found.add(text)
        if text.startswith("{"):
            found.update(str(v) for v in json.loads(text).values())

    with pipeline.open_store(settings)() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(table.select()):
                for value in row:
                    if value is not None:
                        keep(value)
    return found


def lake_values(root: str | Path) -> set[str]:
    """Every string cell of every Parquet file under ``root``, committed or not."""
    found: set[str] = set()
    for path in Path(root).rglob("*.parquet"):
        table = pq.read_table(path)
        for field, column in zip(table.schema, table.columns, strict=True):
            if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
                found.update(v for v in column.to_pylist() if v is not None)
    return found


def _everything(settings: Settings) -> str:
    return "\n".join(store_values(settings) | lake_values(settings.lake().root))


def _files_holding(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def _committed(settings: Settings, table: str | None = None, cycle: int | None = None) -> dict[str, int]:
    """Committed lake file -> its rows (as read from the file), optionally of one table and cycle."""
    query = select(LakeFile.path).join(Cycle, Cycle.id == LakeFile.cycle_id)
    if table is not None:
        query = query.where(LakeFile.table_name == table)
    if cycle is not None:
        query = query.where(Cycle.number == cycle)
    with pipeline.open_store(settings)() as session:
        paths = list(session.scalars(query))
    lake = settings.lake()
    return {path: lake.dataset([path]).count_rows() for path in paths}


def _committed_rows(settings: Settings, table: str, cycle: int | None = None) -> list[dict[str, Any]]:
    files = list(_committed(settings, table, cycle))
    return settings.lake().dataset(files).to_table().to_pylist() if files else []


def _run(store: Store, config_path: Path, cycle: int = 1, **kwargs: Any) -> pipeline.CycleResult:
    """`vm run --cycle N --no-prefect` in this process; a failed source comes back as its result."""
    try:
        run = run_relationship(load_config(config_path), LocalSteps(store.settings), [cycle], **kwargs)
    except SourcesFailed as failed:
        run = failed.run
    return run.cycles[0]


# --------------------------------------------------------------------------------------------------
# The pipeline on the demo
# --------------------------------------------------------------------------------------------------


@pytest.mark.store
def test_an_unmapped_free_text_column_never_reaches_the_store_or_the_lake(
    store: Store, demo_copy: Path
) -> None:
    export = demo_copy.parent / "responses" / "cycle-1.csv"
    rows = read_rows(export)
    rows[0].append("Q99")
    rows[1].append("What is your name?")
    rows[2].append(json.dumps({"ImportId": "QID99_TEXT"}, separators=(",", ":")))
    names = [f"Xanthe{i} {NAME_MARKER}" for i in range(len(rows) - 3)]
    for row, name in zip(rows[3:], names, strict=True):
        row.append(name)
    write_rows(export, rows)

    result = _run(store, demo_copy)

    assert result.sources[0].status == "loaded"
    assert (
        len(_committed_rows(store.settings, "landed_qualtrics_responses")) == result.sources[0].participants
    )
    assert lake_values(store.settings.lake().root)  # the scan reads the lake
    assert NAME_MARKER not in _everything(store.settings)
    assert _files_holding(store.settings.home, NAME_MARKER.encode()) == []
    # the column is still listed by name (never a value), marked as not landed
    (q99,) = [
        c for c in _committed_rows(store.settings, "landed_qualtrics_columns") if c["export_tag"] == "Q99"
    ]
    assert (q99["label"], q99["landed"]) == ("What is your name?", None)


def test_comments_land_scrubbed(tmp_path: Path, demo_copy: Path) -> None:
    export = demo_copy.parent / "responses" / "cycle-1.csv"
    rows = read_rows(export)
    comment = rows[0].index("Q17")  # QID17_TEXT: the REL-TRUST comment
    status = rows[0].index("Status")
    real = [r for r in rows[3:] if r[status] != "Survey Preview"]
    real[0][comment] = "Ask jane.doe@contoso.example, or call me on +44 7700 900123; see https://intranet/x"
    write_rows(export, rows)
    settings = Settings.from_env({"VM_HOME": str(tmp_path / "home"), "VM_SECRET": "s"})

    run_relationship(load_config(demo_copy), LocalSteps(settings), [1])

    comments = {e["comment"] for e in _committed_rows(settings, EVALUATIONS)}
    assert "Ask [e-mail], or call me on [phone]; see [link]" in comments
    everything = _everything(settings)
    for raw in ("jane.doe", "7700 900123", "intranet/x"):
        assert raw not in everything


def test_replaced_and_failed_loads_leave_no_file_behind(tmp_path: Path, demo_copy: Path) -> None:
    settings = Settings.from_env({"VM_HOME": str(tmp_path / "home"), "VM_SECRET": "s"})
    config = load_config(demo_copy)
    run_relationship(config, LocalSteps(settings), [1])
    first = _committed(settings)
    run_relationship(config, LocalSteps(settings), [1], force=True)  # a new load replaces the first
    second = _committed(settings)
    assert set(first).isdisjoint(second)
    on_disk = {path for path, _ in settings.lake().files()}
    assert on_disk == set(first) | set(second)  # replaced files stay a grace period, for readers
    assert collect_garbage(settings, KEY, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)) == len(first)
    assert {path for path, _ in settings.lake().files()} == set(second)

    export = demo_copy.parent / "responses" / "cycle-1.csv"
    rows = read_rows(export)
    rows[-1].extend(["surplus", "cells"])  # row longer than the header: fails while the file streams
    write_rows(export, rows)
    with pytest.raises(SourcesFailed) as failed:
        run_relationship(config, LocalSteps(settings), [1])
    (source,) = failed.value.run.cycles[0].sources
    assert source.status == "failed"
    assert f"row {len(rows)}" in (source.error or "")
    assert "surplus" not in (source.error or "")  # no cell value in the message
    assert _committed(settings) == second
    assert {path for path, _ in settings.lake().files()} == set(second)  # the partial files are gone
    assert not (settings.home / "pipelines").exists()  # no load packages of any kind


# --------------------------------------------------------------------------------------------------
# Retention
# --------------------------------------------------------------------------------------------------


@pytest.mark.store
def test_retention_purges_old_landed_files_only(store: Store, demo_copy: Path) -> None:
    settings = store.settings
    first = _run(store, demo_copy, cycle=1)
    time.sleep(0.05)
    between = dt.datetime.now(dt.UTC)
    time.sleep(0.05)
    _run(store, demo_copy, cycle=2)
    before = _committed(settings)
    old = set(_committed(settings, "landed_qualtrics_responses", 1)) | set(
        _committed(settings, "landed_qualtrics_columns", 1)
    )
    assert len(old) == 2

    purged = purge_expired(settings, KEY, days=30, now=between + dt.timedelta(days=30))

    assert purged.sources == {(1, "diagnostic")}
    assert purged.rows == first.sources[0].participants + 39  # responses + the file's 39 columns
    assert "the next `vm run` reads their files again" in purged.lines(KEY, 30)[1]
    after = _committed(settings)
    assert set(before) - set(after) == old  # only cycle 1's landed files went
    assert {p: before[p] for p in after} == after  # every other file as it was
    on_disk = {path for path, _ in settings.lake().files()}
    assert not old & on_disk
    # outside engines read the symlink manifests: the purged partitions' list no file any more
    from vm_core.lake.external import manifest_path

    lake = settings.lake()
    for path in old:
        assert Path(lake.full(manifest_path(path))).read_text(encoding="utf-8") == ""
    kept = next(iter(_committed(settings, EVALUATIONS, 1)))
    assert lake.uri(kept) in Path(lake.full(manifest_path(kept))).read_text(encoding="utf-8")
    assert {p: r for p, r in _committed(settings, EVALUATIONS, 1).items()} == {
        p: before[p] for p in _committed(settings, EVALUATIONS, 1)
    }
    # a changed mapping cannot re-model a purged source from the lake: it needs its file again,
    # and without the file it fails alone instead of erasing what is stored
    data = yaml.safe_load(demo_copy.read_text(encoding="utf-8"))
    data["equivalences"].insert(0, {"party": "contoso", "role": "*Apprentice", "perspective": "front_line"})
    demo_copy.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    export = demo_copy.parent / "responses" / "cycle-1.csv"
    kept = export.read_bytes()
    export.unlink()
    missing = _run(store, demo_copy, cycle=1)
    assert missing.sources[0].status == "failed"
    assert "cycle-1.csv" in (missing.sources[0].error or "")
    assert _committed(settings) == after
    assert len(_committed_rows(settings, EVALUATIONS, 1)) == first.sources[0].evaluations
    export.write_bytes(kept)
    again = _run(store, demo_copy, cycle=1)
    assert (again.sources[0].status, again.sources[0].rows_read) == ("loaded", first.sources[0].rows_read)
    assert len(_committed(settings, "landed_qualtrics_responses", 1)) == 1
    assert purge_expired(settings, KEY, days=30, now=between + dt.timedelta(days=30)).rows == 0  # just read


# --------------------------------------------------------------------------------------------------
# Forget
# --------------------------------------------------------------------------------------------------


def _all_group_totals(store: Store) -> dict[tuple[int, int], int]:
    """(cycle number, value code id) -> respondents in the `all` group (levels, no level and blanks)."""
    with store.sessions() as s:
        rows = s.execute(
            select(Cycle.number, Score.value_code_id, Score.n + Score.n_no_level + Score.n_blank)
            .join(Cycle, Cycle.id == Score.cycle_id)
            .where(Score.group_kind == "all")
        ).all()
    return {(number, code): total for number, code, total in rows}


def _holding(settings: Settings, pseudonym: str) -> dict[str, int]:
    """Committed lake file -> rows of the respondent in it (files without them left out)."""
    lake = settings.lake()
    found = {}
    for path in _committed(settings):
        table = lake.dataset([path]).to_table()
        if "respondent_key" in table.column_names:
            rows = table.filter(pc.equal(table.column("respondent_key"), pseudonym)).num_rows
            if rows:
                found[path] = rows
    return found


@pytest.mark.store
def test_forget_erases_one_person_everywhere_and_rescores(vm_env: Store, demo_copy: Path) -> None:
    store = vm_env
    settings = store.settings
    responses = demo_copy.parent / "responses"
    one, two = read_rows(responses / "cycle-1.csv"), read_rows(responses / "cycle-2.csv")
    tags = one[0]
    email, status, q3, org = (tags.index(n) for n in ("RecipientEmail", "Status", "Q3", "Organisation"))
    in_two = {r[email] for r in two[3:]}
    people = [i for i, r in enumerate(one) if i >= 3 and r[status] != "Survey Preview" and r[email] in in_two]
    person, other = people[0], people[1]
    address = one[person][email]
    one[person][q3] = "Excellent"  # not a level: their answer is quarantined
    one[other][q3] = "Excellent"  # someone else's quarantined answer, which must stay
    one[other][org] = one[person][org]
    write_rows(responses / "cycle-1.csv", one)
    _run(store, demo_copy, cycle=1)
    _run(store, demo_copy, cycle=2)
    pseudonym = pseudonym_for(settings, KEY, address)
    before = _all_group_totals(store)
    files_before = _committed(settings)
    holding = _holding(settings, pseudonym)
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(QuarantinedRow)) == 2
    # cycle 1 less the quarantined answer, and cycle 2; one landed response in each cycle
    assert sorted(holding.values()) == [1, 1, 15, 16]

    runner = CliRunner()
    done = runner.invoke(main, ["participants", "forget", address.upper(), "--relationship", KEY])

    assert done.exit_code == 0, done.output
    assert address.lower() not in done.output.lower()
    assert pseudonym not in done.output
    assert "1 participant row, 31 evaluations, 1 quarantined rows, 2 landed rows" in done.output
    assert "re-scored cycles: 1, 2" in done.output
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(QuarantinedRow)) == 1  # the other person's
    files_after = _committed(settings)
    # only the files that held them were rewritten, each less their rows; every other file is as it was
    assert set(files_before) - set(files_after) == set(holding)
    assert {p: files_before[p] for p in files_after if p in files_before} == {
        p: n for p, n in files_after.items() if p in files_before
    }
    assert sorted(files_after[p] for p in set(files_after) - set(files_before)) == sorted(
        files_before[p] - n for p, n in holding.items()
    )
    assert _holding(settings, pseudonym) == {}
    assert pseudonym not in _everything(settings)  # the old files are gone too, not only uncommitted
    after = _all_group_totals(store)
    assert set(after) == set(before)
    dropped = {cell: before[cell] - after[cell] for cell in before}
    # one person fewer in every count, but for the answer of theirs that was quarantined
    assert sorted(dropped.values()) == [0] + [1] * 31
    assert [cycle for (cycle, _), n in dropped.items() if n == 0] == [1]

    again = runner.invoke(main, ["participants", "forget", address, "--relationship", KEY])
    assert again.exit_code == 1
    assert "nobody to forget" in again.output
    with pytest.raises(NobodyToForget):
        forget(settings, KEY, pseudonym)
    by_pseudonym = runner.invoke(
        main, ["participants", "forget", "--pseudonym", "xyz", "--relationship", KEY]
    )
    assert by_pseudonym.exit_code == 1
    assert "64 hex digits" in by_pseudonym.output
