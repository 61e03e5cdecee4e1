"""Improvement actions: create, change, list, export, and two people editing one action at once.

Every test runs on SQLite and PostgreSQL (the ``store`` marker).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import func, insert, select

from tests.conftest import Store
from tests.factories import seed_cycle, seed_world
from vm_cli.main import main
from vm_core.actions import (
    ActionChoices,
    ActionConflict,
    ActionEdit,
    ActionError,
    ActionFilter,
    ActionNotFound,
    action_choices,
    action_history,
    create_action,
    format_actions,
    get_action,
    list_actions,
    update_action,
    write_actions,
)
from vm_core.actions.export import EXPORT_COLUMNS, records
from vm_core.store.db import make_engine, session_factory, transaction
from vm_core.store.models import Action, ActionChange, Party, ThingThatMatters, utcnow, value_code_thing

pytestmark = pytest.mark.store

REL = "acme-bolt"
SECTIONS = {"Delivery": ("DEL-KPI", "DEL-ISSUES"), "Relationship": ("REL-OPENNESS",)}
TODAY = dt.date(2026, 12, 1)


@pytest.fixture
def world(store: Store) -> Store:
    """Relationship acme-bolt (parties client, supplier): cycle 1 (resolve) and 2 (solve), three Value
    Codes and two Things That Matter (Trust → REL-OPENNESS, Performance → DEL-KPI)."""
    with store.sessions() as s, s.begin():
        w = seed_world(s, key=REL, sections=SECTIONS)
        seed_cycle(s, w.relationship, w.library_version, number=2, mode="solve")
        for name, code in (("Trust", "REL-OPENNESS"), ("Performance", "DEL-KPI")):
            thing = ThingThatMatters(library_version_id=w.library_version.id, name=name)
            s.add(thing)
            s.flush()
            s.execute(
                insert(value_code_thing).values(value_code_id=w.value_codes[code].id, thing_id=thing.id)
            )
    return store


def _create(store: Store, cycle: int = 1, by: str = "alice", **fields: object) -> int:
    with transaction(store.sessions) as s:
        return create_action(s, REL, cycle, ActionEdit(**{"title": "Agree KPIs", **fields}), by=by).id  # type: ignore[arg-type]


def _update(store: Store, action_id: int, version: int, by: str = "bob", **fields: object) -> int:
    with transaction(store.sessions) as s:
        return update_action(s, action_id, version, ActionEdit(**fields), by=by).version  # type: ignore[arg-type]


def _get(store: Store, action_id: int):  # type: ignore[no-untyped-def]
    with store.sessions() as s:
        return get_action(s, action_id, today=TODAY)


def _history(store: Store, action_id: int):  # type: ignore[no-untyped-def]
    with store.sessions() as s:
        return action_history(s, action_id)


# ---------------------------------------------------------------- create and update


def test_an_action_keeps_what_was_agreed_and_its_creation_is_history(world: Store) -> None:
    action_id = _create(
        world,
        description="Both sides agree which KPIs count",
        value_codes=("del-kpi", "REL-OPENNESS", "DEL-KPI"),  # any case, each once
        things=("trust",),
        finding_key="gap:DEL-KPI:client-supplier",
        owner_person="  Jane Smith ",
        owner_party="Supplier",
        due_on=dt.date(2027, 2, 1),
    )
    view = _get(world, action_id)
    f = view.fields
    assert (view.relationship, view.cycle, view.version) == (REL, 1, 1)
    assert f.value_codes == ("DEL-KPI", "REL-OPENNESS")  # as the library spells them, in the order given
    assert f.things == ("Trust",)
    assert (f.owner_person, f.owner_party, f.due_on) == ("Jane Smith", "supplier", dt.date(2027, 2, 1))
    assert (f.mode, f.status, f.percent_complete) == ("resolve", "not_started", 0)  # mode: the cycle's
    assert (view.created_by, view.updated_by) == ("alice", "alice")
    (created,) = _history(world, action_id)
    assert (created.version, created.by) == (1, "alice")
    assert created.changes["value_codes"] == (None, ["DEL-KPI", "REL-OPENNESS"])
    assert created.changes["due_on"] == (None, "2027-02-01")
    assert created.changes["status"] == (None, "not_started")
    assert "notes" not in created.changes  # empty fields are not "changed"


def test_the_mode_defaults_to_the_mode_of_the_cycle_that_raised_it(world: Store) -> None:
    assert _get(world, _create(world, cycle=2)).fields.mode == "solve"
    assert _get(world, _create(world, cycle=2, mode="Dissolve")).fields.mode == "dissolve"


def test_an_update_changes_only_what_it_gives_and_the_history_says_from_what_to_what(world: Store) -> None:
    action_id = _create(world, value_codes=("DEL-KPI",), owner_party="client", notes="first")
    assert _update(world, action_id, 1, status="In progress", percent_complete=40) == 2
    assert _update(world, action_id, 2, by="carol", value_codes=("DEL-ISSUES",), owner_party=None) == 3
    view = _get(world, action_id)
    assert (view.fields.status, view.fields.percent_complete) == ("in_progress", 40)
    assert view.fields.value_codes == ("DEL-ISSUES",)
    assert (view.fields.owner_party, view.fields.notes, view.fields.title) == (None, "first", "Agree KPIs")
    assert (view.version, view.updated_by, view.created_by) == (3, "carol", "alice")
    _, second, third = _history(world, action_id)
    assert (second.by, second.changes) == (
        "bob",
        {"status": ("not_started", "in_progress"), "percent_complete": (0, 40)},
    )
    assert (third.by, third.changes) == (
        "carol",
        {"value_codes": (["DEL-KPI"], ["DEL-ISSUES"]), "owner_party": ("client", None)},
    )


def test_an_edit_that_changes_nothing_makes_no_version(world: Store) -> None:
    action_id = _create(world, status="on_hold")
    assert _update(world, action_id, 1, title=" Agree KPIs ", status="on hold") == 1
    assert len(_history(world, action_id)) == 1


def test_complete_means_100_percent(world: Store) -> None:
    """The documented rule: marking complete sets 100 %; complete below 100 % is refused."""
    action_id = _create(world, percent_complete=30)
    assert _update(world, action_id, 1, status="complete") == 2
    assert _get(world, action_id).fields.percent_complete == 100
    with pytest.raises(ActionError, match="a complete action is 100% complete, got 90%"):
        _update(world, action_id, 2, percent_complete=90)
    assert _update(world, action_id, 2, status="in_progress", percent_complete=90) == 3  # reopened
    assert _update(world, action_id, 3, percent_complete=100) == 4  # done, not signed off: allowed
    assert _get(world, action_id).fields.status == "in_progress"
    with pytest.raises(ActionError, match="100% complete, got 50%"):
        _create(world, status="complete", percent_complete=50)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"value_codes": ("DEL-KPIS",)}, "Value Code 'DEL-KPIS' is not in library 'acme-bolt-library' version '1.0' (used by cycle 1); did you mean 'DEL-KPI'?"),
        ({"things": ("Trusts",)}, "Thing That Matters 'Trusts' is not in library"),
        ({"owner_party": "vendor"}, "owner party 'vendor' is not a party of relationship 'acme-bolt' (parties: client, supplier)"),
        ({"percent_complete": 101}, "% complete must be a whole number from 0 to 100, got 101"),
        ({"percent_complete": -1}, "% complete must be a whole number from 0 to 100, got -1"),
        ({"status": "done"}, "status 'done' is not one of: not_started, in_progress, on_hold, complete, cancelled"),
        ({"mode": "fix"}, "mode 'fix' is not one of: resolve, solve, dissolve"),
        ({"title": "  "}, "title is required"),
        ({"title": "x" * 201}, "title is at most 200 characters, got 201"),
    ],
)  # fmt: skip
def test_an_invalid_action_is_refused_in_one_line_and_nothing_is_stored(
    world: Store, fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ActionError) as refused:
        _create(world, **fields)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)
    with world.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Action)) == 0
        assert s.scalar(select(func.count()).select_from(ActionChange)) == 0


def test_unknown_relationship_cycle_action_or_editor_are_one_line(world: Store) -> None:
    with transaction(world.sessions) as s:
        with pytest.raises(
            ActionError, match="no relationship 'acme-bolts' in the store; did you mean 'acme-bolt'"
        ):
            create_action(s, "acme-bolts", 1, ActionEdit(title="x"), by="alice")
        with pytest.raises(ActionError, match=r"relationship 'acme-bolt' has no cycle 4 \(cycles: 1, 2\)"):
            create_action(s, REL, 4, ActionEdit(title="x"), by="alice")
        with pytest.raises(ActionError, match="by \\(who makes the change\\) is required"):
            create_action(s, REL, 1, ActionEdit(title="x"), by=" ")
        with pytest.raises(ActionNotFound, match="no action 999 in the store"):
            update_action(s, 999, 1, ActionEdit(title="x"), by="alice")


def test_links_and_owner_kept_from_before_stay_valid_when_the_library_or_parties_move_on(
    world: Store,
) -> None:
    """An edit re-checks only what it changes: a party retired since it was assigned keeps its actions."""
    action_id = _create(world, owner_party="supplier", value_codes=("DEL-KPI",))
    with world.sessions() as s, s.begin():
        s.scalars(select(Party).where(Party.key == "supplier")).one().retired_at = utcnow()
    assert _update(world, action_id, 1, status="in_progress") == 2
    assert _get(world, action_id).fields.owner_party == "supplier"
    other = _create(world)
    with pytest.raises(ActionError, match="owner party 'supplier' is not a party"):
        _update(world, other, 1, owner_party="supplier")


def test_an_editor_is_offered_what_a_save_accepts(world: Store) -> None:
    """The cycle's library in section order, its Things That Matter, the configured parties, the modes."""
    with world.sessions() as s:
        assert action_choices(s, REL, 2) == ActionChoices(
            cycle=2,
            cycle_mode="solve",
            value_codes=("DEL-KPI", "DEL-ISSUES", "REL-OPENNESS"),
            things=("Performance", "Trust"),
            parties={"client": "Client", "supplier": "Supplier"},
            modes=("resolve", "solve", "dissolve"),
        )
    with world.sessions() as s, s.begin():
        s.scalars(select(Party).where(Party.key == "supplier")).one().retired_at = utcnow()
    with world.sessions() as s:
        offered = action_choices(s, REL, 1)
        with pytest.raises(ActionError, match="relationship 'acme-bolt' has no cycle 3"):
            action_choices(s, REL, 3)
    assert offered.parties == {"client": "Client"}  # a retired party takes no new action
    action_id = _create(
        world, value_codes=tuple(offered.value_codes), things=tuple(offered.things), owner_party="client"
    )
    assert _get(world, action_id).fields.things == ("Performance", "Trust")
    with pytest.raises(ActionError, match=r"owner party 'supplier' is not a party .* \(parties: client\)"):
        _create(world, owner_party="supplier")


# ---------------------------------------------------------------- two editors


def test_the_second_editor_is_told_who_changed_what_and_when_and_can_apply_the_edit_again(
    world: Store,
) -> None:
    action_id = _create(world, notes="agreed at the workshop")
    seen_by_alice = seen_by_bob = _get(world, action_id).version
    assert (
        _update(world, action_id, seen_by_alice, by="alice", status="in_progress", percent_complete=20) == 2
    )
    with pytest.raises(ActionConflict) as told:
        _update(world, action_id, seen_by_bob, by="bob", notes="supplier to draft the list")
    conflict = told.value
    message = str(conflict)
    assert message.startswith(f"action {action_id} was changed after you opened version 1: by alice at ")
    assert (
        "UTC (status, percent_complete); your edit was not saved: reload version 2 and apply it again"
        in message
    )
    assert (conflict.seen_version, conflict.current_version) == (1, 2)
    assert [c.by for c in conflict.since] == ["alice"]
    assert _get(world, action_id).fields.notes == "agreed at the workshop"  # bob's edit was not applied

    assert _update(world, action_id, conflict.current_version, by="bob", **conflict.attempted.given()) == 3
    final = _get(world, action_id).fields
    assert (final.status, final.percent_complete, final.notes) == (
        "in_progress",
        20,
        "supplier to draft the list",
    )


def test_a_conflict_names_the_fields_both_edits_change(world: Store) -> None:
    """Applying the refused edit again replaces those fields only; every other change since stays."""
    action_id = _create(world)
    _update(world, action_id, 1, by="alice", status="on_hold", notes="waiting for the supplier")
    _update(world, action_id, 2, by="carol", due_on=dt.date(2027, 1, 31))
    with pytest.raises(ActionConflict) as told:
        _update(world, action_id, 1, by="bob", title="Agree three KPIs", status="in_progress", due_on=None)
    assert told.value.overlap == ["due_on", "status"]  # in field order; notes and title: one edit each
    with pytest.raises(ActionConflict) as apart:
        _update(world, action_id, 1, by="bob", description="Which KPIs count")
    assert apart.value.overlap == []


def test_an_edit_racing_past_the_version_check_is_refused_by_the_database(
    world: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both editors read version 1; the other commits between this one's read and its write."""
    from vm_core.actions import write

    action_id = _create(world)
    read = write.get_action

    def read_then_someone_else_commits(session, action_id, **kwargs):  # type: ignore[no-untyped-def]
        seen = read(session, action_id, **kwargs)
        monkeypatch.setattr(write, "get_action", read)  # only the first read races
        _update(world, action_id, 1, by="alice", status="on_hold")
        return seen

    monkeypatch.setattr(write, "get_action", read_then_someone_else_commits)
    with pytest.raises(ActionConflict, match=r"by alice at .* UTC \(status\)"):
        _update(world, action_id, 1, by="bob", title="Agree three KPIs")
    view = _get(world, action_id)
    assert (view.version, view.fields.status, view.fields.title) == (2, "on_hold", "Agree KPIs")
    assert [c.by for c in _history(world, action_id)] == ["alice", "alice"]


EDITORS = 20


@pytest.fixture
def wide_sessions(world: Store) -> Iterator[Store]:
    """The same store with a connection for every editor."""
    engine = make_engine(world.settings.database_url, pool_size=EDITORS, max_overflow=0)
    yield Store(world.backend, engine, session_factory(engine), world.settings)
    engine.dispose()


def test_twenty_people_editing_one_action_at_once_lose_no_edit(wide_sessions: Store) -> None:
    """The issue's target: 20 concurrent edits of one action, 0 lost updates.

    Each editor (a thread with its own sessions) reads the action, waits until all 20 have read
    the same version, then appends its line to the notes and adds 5 to the % complete — a
    read-modify-write that loses updates unless every stale edit is refused. An editor told of a
    conflict reads again and retries.
    """
    store = wide_sessions
    action_id = _create(store, notes="")
    everyone_read = threading.Barrier(EDITORS, timeout=60)
    conflicts = [0] * EDITORS
    failures: list[BaseException] = []

    def edit(i: int) -> None:
        try:
            first = True
            while True:
                with store.sessions() as s:
                    seen = get_action(s, action_id)
                if first:
                    everyone_read.wait()
                    first = False
                try:
                    with transaction(store.sessions) as s:
                        update_action(
                            s,
                            action_id,
                            seen.version,
                            ActionEdit(
                                notes=f"{seen.fields.notes}\nedit {i}".strip(),
                                percent_complete=seen.fields.percent_complete + 5,
                            ),
                            by=f"editor-{i}",
                        )
                    return
                except ActionConflict:
                    conflicts[i] += 1
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            failures.append(exc)

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(EDITORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads)

    final = _get(store, action_id)
    assert final.version == EDITORS + 1
    assert final.fields.percent_complete == 5 * EDITORS
    assert sorted(final.fields.notes.splitlines()) == sorted(f"edit {i}" for i in range(EDITORS))
    history = _history(store, action_id)
    assert [c.version for c in history] == list(range(1, EDITORS + 2))
    assert sorted(c.by for c in history[1:]) == sorted(f"editor-{i}" for i in range(EDITORS))
    for earlier, later in itertools.pairwise(history[1:]):  # each edit starts where the last ended
        assert later.changes["notes"][0] == earlier.changes["notes"][1]
        assert later.changes["percent_complete"][0] == earlier.changes["percent_complete"][1]
    assert sum(conflicts) >= EDITORS - 1  # all 20 read version 1 first: only one of them could win it


# ---------------------------------------------------------------- listing


@pytest.fixture
def several(world: Store) -> dict[str, int]:
    return {
        "late": _create(world, title="Late", owner_person="Jane Smith", owner_party="client",
                        value_codes=("DEL-KPI",), due_on=dt.date(2026, 11, 1), status="in_progress"),
        "late_but_done": _create(world, title="Done", owner_party="client", due_on=dt.date(2026, 11, 1),
                                 status="complete"),
        "due_today": _create(world, title="Today", owner_person="John Smithers", owner_party="supplier",
                             value_codes=("REL-OPENNESS",), things=("Trust",), due_on=TODAY),
        "undated": _create(world, cycle=2, title="Undated", owner_person="Ann", status="on_hold"),
        "cancelled": _create(world, cycle=2, title="Dropped", due_on=dt.date(2026, 10, 1), status="cancelled"),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (ActionFilter(), ["cancelled", "late", "late_but_done", "due_today", "undated"]),  # by due date
        (ActionFilter(overdue=True), ["late"]),  # past due and open; due today is not overdue yet
        (ActionFilter(statuses=("in progress", "on_hold")), ["late", "undated"]),
        (ActionFilter(owner="smith"), ["late", "due_today"]),
        (ActionFilter(party="supplier"), ["due_today"]),
        (ActionFilter(code="rel-openness"), ["due_today"]),
        (ActionFilter(thing="Trust"), ["due_today"]),
        (ActionFilter(due_before=TODAY), ["cancelled", "late", "late_but_done"]),
        (ActionFilter(due_from=TODAY), ["due_today"]),  # on or after; undated never matches
        (ActionFilter(due_from=dt.date(2026, 11, 1), due_before=TODAY), ["late", "late_but_done"]),
        (ActionFilter(cycle=2), ["cancelled", "undated"]),
        (ActionFilter(party="client", overdue=True), ["late"]),
        (ActionFilter(relationship="other"), []),
    ],
)
def test_filters(world: Store, several: dict[str, int], wanted: ActionFilter, expected: list[str]) -> None:
    names = {action_id: name for name, action_id in several.items()}
    with world.sessions() as s:
        found = list_actions(s, wanted, today=TODAY)
    assert [names[v.id] for v in found] == expected
    assert {names[v.id] for v in found if v.overdue} <= {"late"}


def test_an_unknown_status_filter_is_one_line(world: Store) -> None:
    with world.sessions() as s, pytest.raises(ActionError, match="status 'done' is not one of"):
        list_actions(s, ActionFilter(statuses=("done",)))


# ---------------------------------------------------------------- export


def test_the_workbook_reads_back_as_the_actions_are(
    world: Store, several: dict[str, int], tmp_path: Path
) -> None:
    _update(world, several["late"], 1, notes='=HYPERLINK("http://x.example")', description="Café: £1.2bn")
    with world.sessions() as s:
        views = list_actions(s, today=TODAY)
    write_actions(views, tmp_path / "actions.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "actions.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == EXPORT_COLUMNS
    expected = records(views)
    for row, record in zip(rows[1:], expected, strict=True):
        read = dict(zip(EXPORT_COLUMNS, row, strict=True))
        if read["due_on"] is not None:
            read["due_on"] = read["due_on"].date()  # a date cell comes back as a datetime at midnight
        for column in ("value_codes", "things"):
            read[column] = read[column].split("; ") if read[column] else []
        for column in ("description", "notes"):
            read[column] = read[column] or ""
        assert read == record
    late = next(r for r in rows if r[0] == several["late"])
    assert late[EXPORT_COLUMNS.index("notes")] == '=HYPERLINK("http://x.example")'  # text, not a formula
    assert late[EXPORT_COLUMNS.index("overdue")] is True


def test_csv_and_json_carry_every_column(world: Store, several: dict[str, int], tmp_path: Path) -> None:
    with world.sessions() as s:
        views = list_actions(s, ActionFilter(code="REL-OPENNESS"), today=TODAY)
    write_actions(views, tmp_path / "actions.csv")
    assert (tmp_path / "actions.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # spreadsheets read UTF-8
    (row,) = csv.DictReader(io.StringIO((tmp_path / "actions.csv").read_text(encoding="utf-8-sig")))
    assert tuple(row) == EXPORT_COLUMNS
    assert (row["value_codes"], row["things"], row["due_on"], row["overdue"]) == (
        "REL-OPENNESS",
        "Trust",
        "2026-12-01",
        "false",
    )
    (as_json,) = json.loads(format_actions(views, "json"))
    assert (as_json["value_codes"], as_json["owner_party"], as_json["percent_complete"]) == (
        ["REL-OPENNESS"],
        "supplier",
        0,
    )
    with pytest.raises(ActionError, match=r"actions\.txt: export to a \.csv or \.xlsx file"):
        write_actions(views, tmp_path / "actions.txt")  # fmt: skip


# ---------------------------------------------------------------- the CLI


def _vm(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["actions", *args])
    return result.exit_code, result.output


@pytest.fixture
def cli(world: Store, vm_env: Store) -> Store:
    return world


def test_vm_actions_add_update_list_history_and_export(cli: Store, tmp_path: Path) -> None:
    code, out = _vm("add", "--relationship", REL, "--cycle", "1", "--title", "Agree KPIs", "--code", "DEL-KPI",
                    "--code", "rel-openness", "--party", "supplier", "--owner", "Jane", "--due", "2026-11-15", "--by", "alice")  # fmt: skip
    assert code == 0, out
    action_id = int(out.split()[2])
    assert out == f"added action {action_id} (version 1): Agree KPIs\n"

    code, out = _vm(
        "update",
        str(action_id),
        "--version",
        "1",
        "--status",
        "in progress",
        "--percent",
        "50",
        "--by",
        "bob",
    )
    assert (code, out) == (0, f"updated action {action_id} to version 2: status, percent_complete\n")
    code, out = _vm("update", str(action_id), "--version", "1", "--notes", "stale", "--by", "carol")
    assert code == 1
    assert f"Error: action {action_id} was changed after you opened version 1: by bob at " in out
    code, out = _vm(
        "update", str(action_id), "--due", "", "--no-codes", "--by", "carol"
    )  # no --version: as it is now
    assert (code, out) == (0, f"updated action {action_id} to version 3: value_codes, due_on\n")

    code, out = _vm("list", "--format", "json", "--status", "in_progress")
    assert code == 0, out
    (listed,) = json.loads(out)
    assert (listed["id"], listed["version"], listed["value_codes"], listed["due_on"]) == (
        action_id,
        3,
        [],
        None,
    )
    code, out = _vm("list", "--format", "csv", "--party", "client")
    assert (code, out) == (0, ",".join(EXPORT_COLUMNS) + "\n")
    code, out = _vm("list")
    assert code == 0
    header, line = out.splitlines()
    assert header.split()[:4] == ["id", "version", "relationship", "cycle"]
    assert "in_progress" in line
    assert "Agree KPIs" in line

    code, out = _vm("history", str(action_id))
    assert code == 0
    v1, v2, v3 = out.splitlines()
    assert v1.startswith("v1  ")
    assert "  alice  created: title 'Agree KPIs'" in v1
    assert "; value_codes ['DEL-KPI', 'REL-OPENNESS']; " in v1
    assert v2.endswith("  bob  status: 'not_started' → 'in_progress'; percent_complete: 0 → 50")
    assert v3.endswith("  carol  value_codes: ['DEL-KPI', 'REL-OPENNESS'] → —; due_on: '2026-11-15' → —")

    code, out = _vm("export", str(tmp_path / "a.xlsx"), "--relationship", REL)
    assert (code, out) == (0, f"wrote 1 action to {tmp_path / 'a.xlsx'}\n")
    assert openpyxl.load_workbook(tmp_path / "a.xlsx").active.max_row == 2


def test_vm_actions_add_and_update_set_and_clear_every_field(cli: Store) -> None:
    code, out = _vm("add", "--relationship", REL, "--cycle", "2", "--title", "Open-book reviews",
                    "--description", "Quarterly, both boards", "--code", "rel-openness", "--thing", "trust",
                    "--finding", "gap:REL-OPENNESS", "--mode", "dissolve", "--owner", "Jane", "--party", "client",
                    "--due", "2027-03-31", "--status", "on hold", "--percent", "10", "--notes", "agreed",
                    "--by", "alice")  # fmt: skip
    assert code == 0, out
    action_id = int(out.split()[2])
    f = _get(cli, action_id).fields
    assert (f.title, f.description, f.value_codes, f.things, f.finding_key, f.mode) == (
        "Open-book reviews", "Quarterly, both boards", ("REL-OPENNESS",), ("Trust",), "gap:REL-OPENNESS", "dissolve"
    )  # fmt: skip
    assert (f.owner_person, f.owner_party, f.due_on, f.status, f.percent_complete, f.notes) == (
        "Jane", "client", dt.date(2027, 3, 31), "on_hold", 10, "agreed"
    )  # fmt: skip

    code, out = _vm("update", str(action_id), "--version", "1", "--title", "Monthly open-book reviews",
                    "--description", "", "--no-codes", "--thing", "Performance", "--finding", "", "--mode", "solve",
                    "--owner", "", "--party", "", "--due", "", "--status", "complete", "--notes", "", "--by", "bob")  # fmt: skip
    assert code == 0, out
    f = _get(cli, action_id).fields
    assert (f.title, f.description, f.value_codes, f.things, f.finding_key, f.mode) == (
        "Monthly open-book reviews", "", (), ("Performance",), None, "solve"
    )  # fmt: skip
    assert (f.owner_person, f.owner_party, f.due_on, f.status, f.percent_complete, f.notes) == (
        None, None, None, "complete", 100, ""
    )  # fmt: skip
    assert _vm("list", "--due-from", "2027-01-01") == (0, "no actions match\n")  # its due date was cleared


def test_vm_actions_errors_are_one_line(cli: Store) -> None:
    code, out = _vm(
        "add", "--relationship", REL, "--cycle", "1", "--title", "x", "--percent", "120", "--by", "a"
    )
    assert (code, out) == (1, "Error: % complete must be a whole number from 0 to 100, got 120\n")
    code, out = _vm(
        "add", "--relationship", REL, "--cycle", "1", "--title", "x", "--due", "1 Dec", "--by", "a"
    )
    assert code == 2
    assert "'1 Dec' is not a date (YYYY-MM-DD)" in out
    code, out = _vm("update", "42", "--status", "complete", "--by", "a")
    assert (code, out) == (1, "Error: no action 42 in the store\n")
    code, out = _vm("list", "--overdue")
    assert (code, out) == (0, "no actions match\n")


# ---------------------------------------------------------------- importing a list of actions

ACTIONS_YAML = """\
actions:
  - cycle: 1
    title: Agree KPIs
    value_codes: [DEL-KPI]
    owner_party: supplier
    due_on: 2027-03-31
    status: In progress
    percent_complete: 40
  - cycle: 2
    title: Open-book reviews
    value_codes: REL-OPENNESS
    things: [Trust]
    status: complete
"""


def test_an_action_list_is_imported_once(world: Store, tmp_path: Path) -> None:
    from vm_core.actions.importing import import_actions

    path = tmp_path / "actions.yaml"
    path.write_text(ACTIONS_YAML, encoding="utf-8")
    with transaction(world.sessions) as s:
        first = import_actions(s, REL, path, by="demo")
    with transaction(world.sessions) as s:
        again = import_actions(s, REL, path, by="demo")
    assert (len(first.added), first.already_there) == (2, 0)
    assert (again.added, again.already_there) == ([], 2)
    with world.sessions() as s:
        views = list_actions(s, ActionFilter(relationship=REL), today=TODAY)
    assert [(v.cycle, v.fields.title, v.fields.status, v.fields.percent_complete) for v in views] == [
        (1, "Agree KPIs", "in_progress", 40),
        (2, "Open-book reviews", "complete", 100),
    ]
    assert views[1].fields.value_codes == ("REL-OPENNESS",)
    assert views[0].fields.due_on == dt.date(2027, 3, 31)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("  - cycle: 1\n    title: X\n    owner: bob\n", "actions.yaml, action 2: unknown field 'owner'"),
        ("  - cycle: 9\n    title: X\n", "actions.yaml, action 2:"),
        ("  - cycle: 1\n    title: X\n    value_codes: [DEL-NOPE]\n", "actions.yaml, action 2:"),
        ("  - cycle: 1\n    title: X\n    due_on: next week\n", "due_on 'next week' is not a date"),
        ("  - title: X\n", "with `cycle:` a cycle number"),
    ],
)
def test_a_bad_item_is_one_line_and_nothing_is_added(
    world: Store, tmp_path: Path, item: str, message: str
) -> None:
    from vm_core.actions.importing import import_actions

    path = tmp_path / "actions.yaml"
    path.write_text("actions:\n  - cycle: 1\n    title: Fine\n" + item, encoding="utf-8")
    with pytest.raises(ActionError) as caught, transaction(world.sessions) as s:
        import_actions(s, REL, path, by="demo")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    with world.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Action)) == 0


def test_vm_actions_import(world: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VM_HOME", str(world.settings.home))
    monkeypatch.setenv("VM_DATABASE_URL", world.settings.database_url)
    path = tmp_path / "actions.yaml"
    path.write_text(ACTIONS_YAML, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["actions", "import", str(path), "--relationship", REL, "--by", "x"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "actions: 2 added, 0 already there (actions.yaml)"
    result = runner.invoke(main, ["actions", "import", str(path), "--relationship", REL, "--by", "x"])
    assert result.output.strip() == "actions: 0 added, 2 already there (actions.yaml)"


def test_the_app_writes_actions_only_to_a_store_at_this_schema(world: Store, tmp_path: Path) -> None:
    from vm_core.actions.export import xlsx_bytes
    from vm_core.actions.session import open_writer
    from vm_core.read.reader import StoreNotReady

    with pytest.raises(StoreNotReady, match="vm migrate"):
        open_writer(f"sqlite:///{tmp_path}/empty.sqlite")
    with transaction(open_writer(world.settings.database_url)) as s:
        create_action(s, REL, 1, ActionEdit(title="From the app"), by="carol")
    with world.sessions() as s:
        views = list_actions(s, ActionFilter(relationship=REL), today=TODAY)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(views))).active
    assert [c.value for c in sheet[2]][list(EXPORT_COLUMNS).index("title")] == "From the app"
