"""What lands, and what is left of it: the allow-list, scrubbed comments, no load copies, retention, forget.

Store tests run the real pipeline on the demo's Qualtrics exports, on SQLite + DuckDB landing and on
PostgreSQL with the landing in the store's own database.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.conftest import Store
from tests.factories import read_rows, write_rows
from vm_core import pipeline
from vm_core.cli import main
from vm_core.config import load_config
from vm_core.landing import landing_pipeline, purge_expired
from vm_core.models import Base, Cycle, Evaluation, Participant, QuarantinedRow, Score
from vm_core.participants import NobodyToForget, forget, pseudonym_for
from vm_core.scrub import scrub, scrub_counted
from vm_core.settings import Settings

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"
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
# The pipeline on the demo
# --------------------------------------------------------------------------------------------------


def _run(store: Store, config_path: Path, cycle: int = 1, **kwargs: Any) -> pipeline.CycleResult:
    config = load_config(config_path)
    pipeline.prepare(store.settings, config)
    return pipeline.run_cycle_locally(store.settings, config, cycle, **kwargs)


def _landing_tables(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every landed table, its staging copy included, by (dataset.)table name."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with landing_pipeline(store.settings, KEY).sql_client() as client:

        def dump(prefix: str) -> None:
            if not client.has_dataset():
                return
            tables = client.execute_sql(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                client.dataset_name,
            )
            for (table,) in tables or ():
                rows = client.execute_sql(f"SELECT * FROM {client.make_qualified_table_name(table)}")
                found[prefix + table] = [tuple(row) for row in rows or ()]

        dump("")
        with client.with_staging_dataset():
            dump("staging.")
    return found


def _store_text(store: Store) -> str:
    parts = []
    with store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            parts.extend(str(v) for row in conn.execute(table.select()) for v in row if v is not None)
    return "\n".join(parts)


def _files_holding(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.mark.store
def test_an_unmapped_free_text_column_never_reaches_the_store_or_the_landing(
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
    landed = _landing_tables(store)
    assert len(landed["qualtrics_responses"]) == result.sources[0].participants
    landed_text = json.dumps(landed, default=str, ensure_ascii=False)
    assert NAME_MARKER not in landed_text
    assert NAME_MARKER not in _store_text(store)
    assert _files_holding(store.settings.home, NAME_MARKER.encode()) == []
    # the column is still listed by name (never a value), marked as not landed
    (q99,) = [row for row in landed["qualtrics_columns"] if "Q99" in row]
    assert False in q99


@pytest.mark.store
def test_comments_land_scrubbed(store: Store, demo_copy: Path) -> None:
    export = demo_copy.parent / "responses" / "cycle-1.csv"
    rows = read_rows(export)
    comment = rows[0].index("Q17")  # QID17_TEXT: the REL-TRUST comment
    status = rows[0].index("Status")
    real = [r for r in rows[3:] if r[status] != "Survey Preview"]
    real[0][comment] = "Ask jane.doe@contoso.example, or call me on +44 7700 900123; see https://intranet/x"
    write_rows(export, rows)

    _run(store, demo_copy)

    with store.sessions() as s:
        comments = s.scalars(select(Evaluation.comment).where(Evaluation.comment.is_not(None))).all()
    assert "Ask [e-mail], or call me on [phone]; see [link]" in comments
    everything = _store_text(store) + json.dumps(_landing_tables(store), default=str)
    for raw in ("jane.doe", "7700 900123", "intranet/x"):
        assert raw not in everything


@pytest.mark.store
def test_no_load_package_or_staging_copy_remains(store: Store, demo_copy: Path) -> None:
    export = demo_copy.parent / "responses" / "cycle-1.csv"
    response_ids = [r[read_rows(export)[0].index("ResponseId")] for r in read_rows(export)[3:]]
    _run(store, demo_copy)
    _run(store, demo_copy, force=True)  # a merge into existing rows goes through the staging tables

    pipelines = store.settings.home / "pipelines"
    files = [p for p in pipelines.rglob("*") if p.is_file()]
    assert files, "dlt keeps its pipeline state there"
    packages = [p for p in files if "loaded" in p.parts or "normalized" in p.parts or "new" in p.parts]
    assert packages == []
    leaked = [p for p in files if any(rid.encode() in p.read_bytes() for rid in response_ids[:50])]
    assert leaked == []
    landed = _landing_tables(store)
    staging = {
        name: rows for name, rows in landed.items() if name.startswith("staging.") and "_dlt" not in name
    }
    assert staging
    assert all(rows == [] for rows in staging.values())
    assert len(landed["qualtrics_responses"]) > 0


# --------------------------------------------------------------------------------------------------
# Retention
# --------------------------------------------------------------------------------------------------


@pytest.mark.store
def test_retention_purges_old_loads_only(store: Store, demo_copy: Path) -> None:
    first = _run(store, demo_copy, cycle=1)
    time.sleep(0.05)
    between = dt.datetime.now(dt.UTC)
    time.sleep(0.05)
    _run(store, demo_copy, cycle=2)
    stored = _store_text(store)

    purged = purge_expired(store.settings, KEY, days=30, now=between + dt.timedelta(days=30))

    assert purged.sources == {(1, "diagnostic")}
    landed = _landing_tables(store)
    cycles = {row[0] for name in ("qualtrics_responses", "qualtrics_columns") for row in landed[name]}
    assert cycles == {2}
    assert purged.rows == first.sources[0].participants + 39  # responses + the file's 39 columns
    assert "can no longer be re-modelled" in purged.lines(KEY, 30)[1]
    assert _store_text(store) == stored  # evaluations and scores stay
    # re-modelling a purged source fails alone instead of erasing what is stored
    remodel = _run(store, demo_copy, cycle=1, remodel=True)
    assert remodel.sources[0].status == "failed"
    assert "nothing of this source is in the landing" in (remodel.sources[0].error or "")
    with store.sessions() as s:
        kept = s.scalar(select(func.count()).select_from(Evaluation).join(Cycle).where(Cycle.number == 1))
    assert kept == first.sources[0].evaluations
    assert purge_expired(store.settings, KEY, days=30, now=between + dt.timedelta(days=30)).rows == 0


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


@pytest.mark.store
def test_forget_erases_one_person_everywhere_and_rescores(
    vm_env: Store, demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = vm_env
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
    pseudonym = pseudonym_for(store.settings, KEY, address)
    before = _all_group_totals(store)
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(QuarantinedRow)) == 2
        their_evaluations = s.scalar(
            select(func.count())
            .select_from(Evaluation)
            .join(Participant, Participant.id == Evaluation.participant_id)
            .where(Participant.respondent_key == pseudonym)
        )
    assert their_evaluations == 2 * 16 - 1  # cycle 1 less the quarantined answer, and cycle 2

    runner = CliRunner()
    done = runner.invoke(main, ["participants", "forget", address.upper(), "--relationship", KEY])

    assert done.exit_code == 0, done.output
    assert address.lower() not in done.output.lower()
    assert pseudonym not in done.output
    assert "1 participant row, 31 evaluations, 1 quarantined rows, 2 landed rows" in done.output
    assert "re-scored cycles: 1, 2" in done.output
    with store.sessions() as s:
        assert (
            s.scalar(
                select(func.count()).select_from(Participant).where(Participant.respondent_key == pseudonym)
            )
            == 0
        )
        assert s.scalar(select(func.count()).select_from(QuarantinedRow)) == 1  # the other person's
    assert pseudonym not in _store_text(store)
    assert pseudonym not in json.dumps(_landing_tables(store), default=str)
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
        forget(store.settings, KEY, pseudonym)
    by_pseudonym = runner.invoke(
        main, ["participants", "forget", "--pseudonym", "xyz", "--relationship", KEY]
    )
    assert by_pseudonym.exit_code == 1
    assert "64 hex digits" in by_pseudonym.output


@pytest.mark.store
def test_a_failed_load_leaves_no_package_behind(store: Store, demo_copy: Path) -> None:
    export = demo_copy.parent / "responses" / "cycle-1.csv"
    rows = read_rows(export)
    rows[-1].extend(["surplus", "cells"])  # row longer than the header: the file fails while extracting
    write_rows(export, rows)
    result = _run(store, demo_copy)
    assert result.sources[0].status == "failed"
    assert "surplus" not in (result.sources[0].error or "")  # no cell value in the message
    pipelines = store.settings.home / "pipelines"
    leftovers = [
        p
        for p in pipelines.rglob("*")
        if p.is_file() and {"new", "normalized", "loaded", "extracted"} & set(p.parts)
    ]
    assert leftovers == []
