"""The Findings and Actions pages under AppTest, on the two-cycle store of tests/test_app.py.

Cycle 2 of that store has findings (VC2 declined, the supplier's VC3 improved, …); actions are
created through the pages or, for set-up, through ``vm_core.actions`` directly.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select
from streamlit.testing.v1 import AppTest

from app import data
from tests import test_app
from tests.test_app import KEY, _app
from vm_core.actions import (
    ActionEdit,
    ActionView,
    action_history,
    create_action,
    get_action,
    list_actions,
    update_action,
)
from vm_core.store.db import make_engine, session_factory, transaction
from vm_core.store.models import LibraryVersion, ThingThatMatters, ValueCode, value_code_thing

store_url, two_cycles = test_app.store_url, test_app.two_cycles  # its fixtures

STATUS_LABELS = {"complete": "Complete", "cancelled": "Cancelled"}
FINDINGS = "app_pages/findings.py"
ACTIONS = "app_pages/actions.py"


@pytest.fixture
def with_things(two_cycles: str) -> str:
    """The two-cycle store, its library with two Things That Matter: Delivery (VC1, VC2) and Trust (VC3)."""
    engine = make_engine(two_cycles)
    with transaction(session_factory(engine)) as s:
        version = s.scalars(select(LibraryVersion.id)).one()
        codes = {identifier: id_ for identifier, id_ in s.execute(select(ValueCode.identifier, ValueCode.id))}
        for name, linked in (("Delivery", ("VC1", "VC2")), ("Trust", ("VC3",))):
            thing = ThingThatMatters(library_version_id=version, name=name)
            s.add(thing)
            s.flush()
            for code in linked:
                s.execute(insert(value_code_thing).values(value_code_id=codes[code], thing_id=thing.id))
    engine.dispose()
    return two_cycles


def _page(page: str, **state: object) -> AppTest:
    at = _app(relationship=KEY, cycle=2, **state).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _stored(url: str) -> list[ActionView]:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        found = list_actions(session)
    engine.dispose()
    return found


def _add(url: str, edit: ActionEdit, cycle: int = 2) -> ActionView:
    engine = make_engine(url)
    with transaction(session_factory(engine)) as session:
        made = create_action(session, KEY, cycle, edit, by="setup")
    engine.dispose()
    return made


def _get(url: str, action_id: int) -> ActionView:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        found = get_action(session, action_id)
    engine.dispose()
    return found


def _change(url: str, action_id: int, version: int, edit: ActionEdit, by: str) -> ActionView:
    """An edit saved by someone else, elsewhere (another browser, the CLI)."""
    engine = make_engine(url)
    with transaction(session_factory(engine)) as session:
        saved = update_action(session, action_id, version, edit, by=by)
    engine.dispose()
    return saved


def _press(at: AppTest, label: str) -> AppTest:
    [button] = [b for b in at.button if b.label == label][:1]
    return button.click().run()


def _sentences(at: AppTest) -> list[str]:
    return [m.value.removeprefix("### ") for m in at.markdown if m.value.startswith("### ")]


def test_findings_are_ranked_cards_with_evidence_and_links_to_their_cells(two_cycles: str) -> None:
    at = _page(FINDINGS)
    ranked = data.findings(KEY, 2)
    assert len(ranked) >= 2
    assert _sentences(at) == [f.sentence for f in ranked]
    assert at.markdown[0].value.startswith("**#1** :blue-badge[Change] · VC2")
    links = [m.value for m in at.markdown if m.value.startswith("Cited cells:")]
    assert "(value_code?relationship=acme-bolt&cycle=2&code=VC2&group=all)" in links[0]
    assert "(value_code?relationship=acme-bolt&cycle=1&code=VC2&group=all)" in links[0]


def test_findings_filter_by_kind_and_value_code(two_cycles: str) -> None:
    at = _page(FINDINGS)
    everything = data.findings(KEY, 2)
    at.multiselect(key="findings_codes").set_value(["VC3"]).run()
    assert _sentences(at) == [f.sentence for f in everything if f.value_code == "VC3"]
    at.multiselect(key="findings_codes").set_value([]).run()
    kinds = {f.kind for f in everything}
    other = next(k for k in data.KINDS if k not in kinds)
    at.multiselect(key="findings_kinds").set_value([other]).run()
    assert _sentences(at) == []
    assert at.info[0].value == "No finding matches these filters."


def test_an_action_is_created_from_a_finding_in_one_step(two_cycles: str) -> None:
    at = _page(FINDINGS)
    first = data.findings(KEY, 2)[0]
    _press(at, "Create the action")
    assert "Type your name" in at.warning[0].value  # no name, nothing written
    assert _stored(two_cycles) == []

    at.sidebar.text_input(key="editor").set_value("Ada").run()
    at.text_input(key=f"owner-{first.key}").set_value("Grace")
    _press(at, "Create the action")
    [made] = _stored(two_cycles)
    assert made.fields.title == first.sentence.replace("*", "")  # without its Markdown emphasis
    assert "*" in first.sentence
    assert made.fields.value_codes == (first.value_code,)
    assert made.fields.finding_key == first.key
    assert (made.cycle, made.fields.mode, made.fields.owner_person) == (2, "solve", "Grace")
    assert made.created_by == "Ada"
    assert f"(actions?relationship=acme-bolt&cycle=2&action={made.id})" in at.success[0].value


def test_the_board_shows_actions_by_status_with_overdue_highlighted(two_cycles: str) -> None:
    late = _add(two_cycles, ActionEdit(title="Agree KPIs", owner_person="Grace", due_on=dt.date(2020, 1, 1)))
    call = _add(
        two_cycles,
        ActionEdit(
            title="Weekly call", status="in_progress", percent_complete=40, value_codes=("VC2", "VC3")
        ),
    )
    at = _page(ACTIONS)
    headers = [m.value for m in at.markdown if m.value.startswith("**") and "(" in m.value[-4:]]
    assert headers == [
        "**Not started** (1)",
        "**In progress** (1)",
        "**On hold** (0)",
        "**Complete** (0)",
        "**Cancelled** (0)",
    ]
    cards = [m.value for m in at.markdown if m.value.startswith("**Agree KPIs**")]
    assert cards == [
        f"**Agree KPIs**  \n#{late.id} · Grace  \ndue 01 Jan 2020 · 0%  \n:red-background[**Overdue**]"
    ]
    # a card names the Value Codes its action is linked to
    assert [m.value for m in at.markdown if m.value.startswith("**Weekly call**")] == [
        f"**Weekly call**  \nVC2, VC3  \n#{call.id} · no owner  \nno due date · 40%"
    ]

    at.segmented_control(key="actions_view").set_value("Table").run()
    table = at.dataframe[0].value
    assert list(table["title"]) == ["Agree KPIs", "Weekly call"]
    assert list(table[""]) == ["⚠ overdue", ""]
    styles = at.dataframe[0].proto.arrow_data.styler.styles  # the overdue row is red, the other not
    assert "row0_col0" in styles
    assert "row1_col" not in styles
    assert "background-color: rgba(229, 57, 53, 0.22)" in styles


@pytest.mark.parametrize(
    ("widget", "value", "titles"),
    [
        ("statuses", ["in_progress"], ["Weekly call"]),
        ("owner", "grac", ["Agree KPIs"]),
        ("party", "supplier", ["Weekly call"]),
        ("overdue", True, ["Agree KPIs"]),
        ("code", "VC1", ["Weekly call"]),
        ("thing", "Trust", ["Weekly call"]),
        ("due_from", dt.date(2021, 1, 1), ["Weekly call"]),
        ("due_before", dt.date(2021, 1, 1), ["Agree KPIs"]),
    ],
)
def test_actions_filters(with_things: str, widget: str, value: object, titles: list[str]) -> None:
    _add(with_things, ActionEdit(title="Agree KPIs", owner_person="Grace", due_on=dt.date(2020, 1, 1)))
    _add(
        with_things,
        ActionEdit(
            title="Weekly call",
            status="in_progress",
            value_codes=("VC1",),
            things=("Trust",),
            owner_party="supplier",
            due_on=dt.date(2030, 6, 1),
        ),
    )
    at = _page(ACTIONS)
    at.segmented_control(key="actions_view").set_value("Table").run()
    getattr(
        at,
        {
            "statuses": "multiselect",
            "owner": "text_input",
            "party": "selectbox",
            "overdue": "checkbox",
            "code": "selectbox",
            "thing": "selectbox",
            "due_from": "date_input",
            "due_before": "date_input",
        }[widget],
    )(key=f"actions_{widget}").set_value(value).run()
    assert not at.exception
    assert list(at.dataframe[0].value["title"]) == titles


def test_two_editors_of_one_action_the_second_is_told_and_nothing_is_lost(two_cycles: str) -> None:
    action = _add(two_cycles, ActionEdit(title="Agree KPIs"))
    first, second = (_page(ACTIONS, editor=who, actions_open=action.id) for who in ("Ada", "Bob"))
    first.text_input(key=f"edit-{action.id}-1-title").set_value("Agree KPIs with both parties")
    _press(first, "Save (over version 1)")
    assert "version 2" in first.success[0].value

    second.selectbox(key=f"edit-{action.id}-1-status").set_value("in_progress")
    _press(second, "Save (over version 1)")
    assert f"action {action.id} was changed after you opened version 1" in second.error[0].value
    assert "title: 'Agree KPIs' → 'Agree KPIs with both parties'" in second.code[0].value
    [stored] = _stored(two_cycles)
    assert (stored.version, stored.fields.status) == (2, "not_started")  # the second edit was not saved …

    _press(second, "Apply my edit to version 2")  # … and is applied again, over the first
    [stored] = _stored(two_cycles)
    assert (stored.version, stored.fields.title, stored.fields.status) == (
        3,
        "Agree KPIs with both parties",
        "in_progress",
    )
    assert "version 3" in second.success[0].value
    engine = make_engine(two_cycles)
    with session_factory(engine)() as session:
        assert [c.by for c in action_history(session, action.id)] == ["setup", "Ada", "Bob"]
    engine.dispose()


def test_an_address_opens_an_action_with_its_history(two_cycles: str) -> None:
    action = _add(two_cycles, ActionEdit(title="Agree KPIs"))
    at = _app(relationship=KEY, cycle=2).run()
    at.query_params["action"] = str(action.id)  # as if the link after "Create the action" was followed
    at.switch_page(ACTIONS).run()
    assert at.selectbox(key="actions_open").value == action.id
    assert "setup  created: title 'Agree KPIs'" in at.code[-1].value
    assert at.query_params["action"] == str(action.id)


def test_the_app_writes_no_action_outside_its_scope(two_cycles: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VM_SCOPE_RELATIONSHIPS", "someone-else")
    with pytest.raises(data.ActionError, match="outside what this app may show"):
        data.create_action(KEY, 2, ActionEdit(title="x"), by="Ada")
    assert _stored(two_cycles) == []


def test_a_new_action_takes_every_field_and_appears_at_once(with_things: str) -> None:
    at = _page(ACTIONS, editor="Ada")
    at.text_area(key="new-0-description").set_value("Both boards see the escalation log")
    at.multiselect(key="new-0-things").set_value(["Trust"])
    _press(at, "Create")
    assert at.error[0].value == "title is required"  # one line, nothing stored, and what was typed stays
    assert _stored(with_things) == []
    assert at.text_area(key="new-0-description").value == "Both boards see the escalation log"

    at.text_input(key="new-0-title").set_value("Publish the escalation log")
    at.multiselect(key="new-0-codes").set_value(["VC3"])
    at.text_input(key="new-0-owner").set_value("Grace")
    at.selectbox(key="new-0-party").set_value("supplier")
    at.date_input(key="new-0-due").set_value(dt.date(2030, 6, 30))
    assert at.selectbox(key="new-0-mode").value == "solve"  # the cycle's mode, until changed
    at.selectbox(key="new-0-mode").set_value("dissolve")
    at.text_area(key="new-0-notes").set_value("Agreed at the cycle 2 workshop")
    _press(at, "Create")
    assert not at.exception
    [made] = _stored(with_things)
    f = made.fields
    assert (f.title, f.description, f.value_codes, f.things, f.mode) == (
        "Publish the escalation log",
        "Both boards see the escalation log",
        ("VC3",),
        ("Trust",),
        "dissolve",
    )
    assert (f.owner_person, f.owner_party, f.due_on, f.notes) == (
        "Grace",
        "supplier",
        dt.date(2030, 6, 30),
        "Agreed at the cycle 2 workshop",
    )
    assert (made.cycle, made.created_by) == (2, "Ada")
    assert at.success[0].value == f"Action {made.id} created."
    cards = [m.value for m in at.markdown if m.value.startswith("**Publish the escalation log**")]
    assert cards == [
        f"**Publish the escalation log**  \nVC3  \n#{made.id} · Grace · Supplier  \ndue 30 Jun 2030 · 0%"
    ]
    assert at.selectbox(key="actions_open").value == made.id  # opened for editing
    assert at.text_input(key="new-1-title").value == ""  # the form is empty for the next one

    at.segmented_control(key="actions_view").set_value("Table").run()
    [row] = at.dataframe[0].value.to_dict("records")
    assert (row["things that matter"], row["mode"], row["party"]) == ("Trust", "dissolve", "Supplier")


def test_every_field_of_an_action_can_be_edited(with_things: str) -> None:
    action = _add(with_things, ActionEdit(title="Agree KPIs", value_codes=("VC1",), finding_key="change:VC2"))
    at = _page(ACTIONS, editor="Ada", actions_open=action.id)
    key = f"edit-{action.id}-1"
    assert any(c.value.startswith("Raised by cycle 2 from finding `change:VC2`") for c in at.caption)
    at.text_input(key=f"{key}-title").set_value("Agree three KPIs")
    at.text_area(key=f"{key}-description").set_value("Which KPIs count, and how")
    at.multiselect(key=f"{key}-codes").set_value(["VC1", "VC2"])
    at.multiselect(key=f"{key}-things").set_value(["Delivery"])
    at.selectbox(key=f"{key}-mode").set_value("resolve")
    at.text_input(key=f"{key}-owner").set_value("Grace")
    at.selectbox(key=f"{key}-party").set_value("client")  # assign
    at.date_input(key=f"{key}-due").set_value(dt.date(2030, 1, 31))
    at.selectbox(key=f"{key}-status").set_value("in_progress")
    at.slider(key=f"{key}-percent").set_value(30)
    at.text_area(key=f"{key}-notes").set_value("Draft by the supplier")
    _press(at, "Save (over version 1)")
    assert not at.exception
    assert at.success[0].value == f"Saved: action {action.id} is at version 2."
    f = _get(with_things, action.id).fields
    assert (f.title, f.description, f.value_codes, f.things, f.mode, f.finding_key) == (
        "Agree three KPIs",
        "Which KPIs count, and how",
        ("VC1", "VC2"),
        ("Delivery",),
        "resolve",
        "change:VC2",
    )
    assert (f.owner_person, f.owner_party, f.due_on, f.status, f.percent_complete, f.notes) == (
        "Grace",
        "client",
        dt.date(2030, 1, 31),
        "in_progress",
        30,
        "Draft by the supplier",
    )
    latest = at.code[-1].value.splitlines()[-1]  # the history
    assert latest.startswith("v2  ")
    assert (
        "  Ada  title: 'Agree KPIs' → 'Agree three KPIs'; description: — → 'Which KPIs count, and how'"
        in latest
    )
    assert "things: — → ['Delivery']; mode: 'solve' → 'resolve'" in latest


@pytest.mark.parametrize(("status", "percent"), [("complete", 100), ("cancelled", 40)])
def test_closing_an_action(two_cycles: str, status: str, percent: int) -> None:
    action = _add(two_cycles, ActionEdit(title="Weekly call", status="in_progress", percent_complete=40))
    at = _page(ACTIONS, editor="Ada", actions_open=action.id)
    at.selectbox(key=f"edit-{action.id}-1-status").set_value(status)
    _press(at, "Save (over version 1)")
    stored = _get(two_cycles, action.id).fields
    assert (stored.status, stored.percent_complete) == (status, percent)  # complete is 100 %
    assert f"**{STATUS_LABELS[status]}** (1)" in [m.value for m in at.markdown]


def test_a_conflict_keeps_what_the_second_editor_typed_and_names_the_fields_both_changed(
    two_cycles: str,
) -> None:
    action = _add(two_cycles, ActionEdit(title="Agree KPIs"))
    second = _page(ACTIONS, editor="Bob", actions_open=action.id)
    _change(two_cycles, action.id, 1, ActionEdit(title="Agree KPIs with both parties"), by="Ada")
    key = f"edit-{action.id}-1"
    second.text_input(key=f"{key}-title").set_value("Agree the three KPIs")
    second.text_area(key=f"{key}-notes").set_value("Supplier drafts")
    _press(second, "Save (over version 1)")
    assert f"action {action.id} was changed after you opened version 1: by Ada at " in second.error[0].value
    assert second.text_input(key=f"{key}-title").value == "Agree the three KPIs"  # the form keeps the input
    assert second.text_area(key=f"{key}-notes").value == "Supplier drafts"
    kept = next(m.value for m in second.markdown if m.value.startswith("**Your edit (kept"))
    assert kept.endswith("Title: Agree the three KPIs; Notes: Supplier drafts")
    assert second.warning[0].value == "Both edits change Title: applying yours replaces what was saved there."
    assert _get(two_cycles, action.id).fields.notes == ""  # not saved …

    _press(second, "Apply my edit to version 2")  # … until Bob says so
    stored = _get(two_cycles, action.id)
    assert (stored.version, stored.fields.title, stored.fields.notes) == (
        3,
        "Agree the three KPIs",
        "Supplier drafts",
    )


def test_an_open_form_says_when_someone_saved_since_and_reloads_on_request(two_cycles: str) -> None:
    action = _add(two_cycles, ActionEdit(title="Agree KPIs"))
    at = _page(ACTIONS, editor="Bob", actions_open=action.id)
    _change(two_cycles, action.id, 1, ActionEdit(status="on_hold"), by="Ada")
    data.refresh()  # as the minute's cache would expire
    at.run()
    assert (
        at.info[0].value
        == "Ada saved version 2 after you opened version 1: a save checks your edit against it."
    )
    assert at.selectbox(key=f"edit-{action.id}-1-status").value == "not_started"  # still what Bob opened
    _press(at, "Reload version 2")
    assert at.selectbox(key=f"edit-{action.id}-2-status").value == "on_hold"
    assert not at.info


def test_an_owner_party_and_a_due_date_once_set_can_be_removed(two_cycles: str) -> None:
    """Streamlit cannot clear a select box or a date once they have a value: the form offers both."""
    action = _add(
        two_cycles, ActionEdit(title="Agree KPIs", owner_party="client", due_on=dt.date(2030, 1, 1))
    )
    at = _page(ACTIONS, editor="Ada", actions_open=action.id)
    key = f"edit-{action.id}-1"
    party = at.selectbox(key=f"{key}-party")
    assert (party.options, party.value) == (["No party", "Client", "Supplier"], "client")
    party.set_value("")
    at.checkbox(key=f"{key}-undated").check()
    _press(at, "Save (over version 1)")
    stored = _get(two_cycles, action.id).fields
    assert (stored.owner_party, stored.due_on) == (None, None)
    assert not [c for c in at.checkbox if c.key == f"edit-{action.id}-2-undated"]  # nothing left to remove
