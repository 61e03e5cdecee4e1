"""The Findings and Actions pages under AppTest, on the two-cycle store of tests/test_app.py.

Cycle 2 of that store has findings (VC2 declined, the supplier's VC3 improved, …); actions are
created through the pages or, for set-up, through ``vm_core.actions`` directly.
"""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from app import data
from tests import test_app
from tests.test_app import KEY, _app
from vm_core.actions import ActionEdit, ActionView, action_history, create_action, list_actions
from vm_core.store.db import make_engine, session_factory, transaction

store_url, two_cycles = test_app.store_url, test_app.two_cycles  # its fixtures

FINDINGS = "app_pages/findings.py"
ACTIONS = "app_pages/actions.py"


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
    _add(two_cycles, ActionEdit(title="Weekly call", status="in_progress", percent_complete=40))
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
    assert not any("Overdue" in m.value for m in at.markdown if m.value.startswith("**Weekly call**"))

    at.segmented_control(key="actions_view").set_value("Table").run()
    table = at.dataframe[0].value
    assert list(table["title"]) == ["Agree KPIs", "Weekly call"]
    assert list(table[""]) == ["⚠ overdue", ""]


@pytest.mark.parametrize(
    ("widget", "value", "titles"),
    [
        ("statuses", ["in_progress"], ["Weekly call"]),
        ("owner", "grac", ["Agree KPIs"]),
        ("overdue", True, ["Agree KPIs"]),
        ("code", "VC1", ["Weekly call"]),
        ("due_before", dt.date(2021, 1, 1), ["Agree KPIs"]),
    ],
)
def test_actions_filters(two_cycles: str, widget: str, value: object, titles: list[str]) -> None:
    _add(two_cycles, ActionEdit(title="Agree KPIs", owner_person="Grace", due_on=dt.date(2020, 1, 1)))
    _add(two_cycles, ActionEdit(title="Weekly call", status="in_progress", value_codes=("VC1",)))
    at = _page(ACTIONS)
    at.segmented_control(key="actions_view").set_value("Table").run()
    getattr(
        at,
        {
            "statuses": "multiselect",
            "owner": "text_input",
            "overdue": "checkbox",
            "code": "selectbox",
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
