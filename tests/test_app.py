"""The review app under Streamlit's AppTest: every page against a small seeded store.

The store is seeded with tests/factories.py and scored with vm_core.scoring; the
app is pointed at it through VM_DATABASE_URL/VM_HOME, as in production.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.factories import BLANK, Answer, add_respondents, counts, seed_world, use_lake
from vm_core.read import review
from vm_core.read.scores import read_scores
from vm_core.scoring import score_cycle
from vm_core.settings import Settings
from vm_core.store.db import make_engine, migrate, schema_revisions, session_factory, transaction

APP = Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py"
PAGES = ("app_pages/heatmap.py", "app_pages/value_code.py")
KEY = "acme-bolt"
SECTIONS = {"Delivery": ("VC1", "VC2"), "Relationship": ("VC3",)}
# 2 parties × 3 perspectives + 3 perspectives + 2 parties + all
N_COLUMNS = 12


def _levels(*values: Answer) -> dict[str, list[Answer]]:
    return {code: list(values) for codes in SECTIONS.values() for code in codes}


def _seed(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    with transaction(session_factory(engine)) as s:
        world = seed_world(s, key=KEY, sections=SECTIONS)
        world.relationship.name = "Acme ⇄ Bolt"
        world.cycle.opens_on = dt.date(2025, 3, 3)
        world.value_codes["VC1"].description = "Deliveries <on time> & in full"
        add_respondents(
            s, world, party="client", perspective="senior", levels=_levels(5, 5, 4, 5, 5, 5, BLANK)
        )
        add_respondents(s, world, party="client", perspective="middle", levels=_levels(3, 4, 3, 4, 2))
        add_respondents(s, world, party="client", perspective="frontline", levels=_levels(1, 1, 5, 5, 3))
        add_respondents(s, world, party="supplier", perspective="senior", levels=_levels(4, 5))
        add_respondents(s, world, party="supplier", perspective="middle", levels=_levels(4, 4, 3, 4, 5, None))
        add_respondents(s, world, party="supplier", perspective="frontline", levels=_levels(2, 3, 3, 2, 3))
        score_cycle(s, world.cycle.id, counts(s, world.cycle))
    engine.dispose()


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    home = tmp_path / "vmhome"
    url = f"sqlite:///{home / 'vm.sqlite'}"
    monkeypatch.setenv("VM_HOME", str(home))
    monkeypatch.setenv("VM_DATABASE_URL", url)
    st.cache_data.clear()
    st.cache_resource.clear()
    return url


@pytest.fixture
def seeded(store_url: str) -> Iterator[str]:
    use_lake(Settings.from_env().lake())  # VM_HOME/lake, where the pipeline would put the evaluations
    _seed(store_url)
    yield store_url
    use_lake(None)


def _app(**state: Any) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    return at


class _Table(HTMLParser):
    """The cells of ``<table id="vm-heatmap">``: attributes and text per ``td``."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[dict[str, str]]] = []
        self.headers: list[str] = []
        self._cell: dict[str, str] | None = None
        self._header: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "tr" and "vm-row" in found.get("class", ""):
            self.rows.append([])
        elif tag == "td" and self.rows:
            self._cell = {**found, "text": ""}
            self.rows[-1].append(self._cell)
        elif tag == "th" and "data-group" in found:
            self._header = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._cell = None
        elif tag == "th" and self._header is not None:
            self.headers.append("".join(self._header))
            self._header = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell["text"] += data
        if self._header is not None:
            self._header.append(data)


def _heatmap(at: AppTest) -> tuple[str, _Table]:
    bodies = [h.value for h in at.html if 'id="vm-heatmap"' in h.value]
    assert len(bodies) == 1
    table = _Table()
    table.feed(bodies[0])
    return bodies[0], table


def _cell(table: _Table, code: str, group: str) -> dict[str, str]:
    cells = (c for row in table.rows for c in row)
    return next(c for c in cells if c["data-value-code"] == code and c["data-group"] == group)


def test_heatmap_renders_every_value_code_and_group(seeded: str) -> None:
    at = _app(relationship=KEY, cycle=1).run()
    assert not at.exception
    assert at.title[0].value == "Acme ⇄ Bolt"
    assert "Cycle 1 · Resolve (Mar 2025)" in at.markdown[0].value
    body, table = _heatmap(at)
    assert [row[0]["data-value-code"] for row in table.rows] == ["VC1", "VC2", "VC3"]
    assert all(len(row) == N_COLUMNS for row in table.rows)
    assert table.headers == [
        "Senior",
        "Middle",
        "Frontline",
        "Senior",
        "Middle",
        "Frontline",
        "Senior",
        "Middle",
        "Frontline",
        "Client",
        "Supplier",
        "All respondents",
    ]
    assert body.count('class="vm-section"') == 2
    assert "Deliveries &lt;on time&gt; &amp; in full" in body  # store text is escaped
    assert "<on time>" not in body


def test_heatmap_shows_exactly_what_read_scores_returns(seeded: str) -> None:
    at = _app(relationship=KEY, cycle=1).run()
    _, table = _heatmap(at)
    engine = make_engine(seeded)
    with session_factory(engine)() as session:
        scores = read_scores(session, KEY, 1)
    engine.dispose()
    for record in scores.to_dict("records"):
        cell = _cell(table, record["value_code"], record["group"])
        assert cell["data-group-kind"] == record["group_kind"]
        assert cell["data-suppressed"] == ("true" if record["suppressed"] else "false")
        if not record["suppressed"]:
            assert f"{record['mean']:.1f}" in cell["text"]
            assert f"n={record['n']}" in cell["text"]
            assert "background:" in cell["style"]


def test_suppressed_cell_has_no_colour_and_no_number(seeded: str) -> None:
    at = _app(relationship=KEY, cycle=1).run()
    _, table = _heatmap(at)
    small = _cell(table, "VC1", "supplier/senior")  # 2 respondents
    assert small["data-suppressed"] == "true"
    assert small["text"] == "fewer than 5 responses"
    assert "style" not in small
    assert not re.search(r"\d", small["text"].replace("5 responses", ""))
    # "senior" − client/senior, and "supplier" − its other cells (supplier/middle = "middle" −
    # client/middle), would reveal the small one: the engine withholds the cross-party senior and
    # middle rows and supplier/middle, and keeps "all" and the supplier total (docs/anonymity.md)
    for group in ("senior", "middle", "supplier/middle"):
        complement = _cell(table, "VC1", group)
        assert complement["data-suppressed"] == "true"
        assert complement["text"] == "withheld to protect a smaller group"
        assert not re.search(r"\d", complement["text"] + complement["title"].split(":", 1)[1])
    for group in ("client/senior", "all", "supplier"):
        assert _cell(table, "VC1", group)["data-suppressed"] == "false"
    # a hidden cell carries no number anywhere in its HTML, not even n
    for cell in (c for row in table.rows for c in row if c["data-suppressed"] == "true"):
        assert not {"data-n", "data-mean", "data-level", "style"} & set(cell), cell


def test_consensus_marks_and_legend(seeded: str) -> None:
    at = _app(relationship=KEY, cycle=1).run()
    body, table = _heatmap(at)
    divided = _cell(table, "VC1", "client/frontline")  # 1, 1, 5, 5, 3
    assert divided["data-agreement"] == "divided"
    assert "◐" in divided["text"]
    assert "consensus ≥ 0.80" in body
    assert "fewer than 5 responses”: the group is too small to show" in body


def test_choosing_a_value_code_opens_its_page(seeded: str) -> None:
    at = _app(relationship=KEY, cycle=1).run()
    at.selectbox(key="heatmap_value_code").select("VC2").run()
    assert not at.exception
    assert at.session_state["value_code"] == "VC2"
    assert at.title[0].value == "VC2"
    at.switch_page("app_pages/heatmap.py").run()  # going back does not bounce to the Value Code again
    assert not at.exception
    assert at.title[0].value == "Acme ⇄ Bolt"
    at.run()
    assert at.title[0].value == "Acme ⇄ Bolt"


def test_value_code_page(seeded: str) -> None:
    at = _app(relationship=KEY, cycle=1, value_code="VC1").run()
    at.switch_page("app_pages/value_code.py").run()
    assert not at.exception
    assert at.title[0].value == "VC1"
    cards = next(h.value for h in at.html if 'id="vm-levels"' in h.value)
    assert len(re.findall(r'<div class="vm-card[ "]', cards)) == 5
    for level in range(1, 6):
        assert f"VC1 at level {level}" in cards
    assert len(at.get("plotly_chart")) == 1
    table = at.dataframe[0].value
    assert "fewer than 5 responses" not in " ".join(table["Group"])
    client = table[table["Group"] == "Client (all perspectives)"].iloc[0]
    assert client["n"] == 16  # 17 respondents, one of whom left it blank
    assert (client["No level"], client["Blank"]) == (0, 1)  # counted apart
    supplier = table[table["Group"] == "Supplier (all perspectives)"].iloc[0]
    assert (supplier["n"], supplier["No level"], supplier["Blank"]) == (12, 1, 0)
    # withheld: it would give Supplier · Senior away
    assert "Middle (both parties)" not in set(table["Group"])
    hidden = " ".join(m.value for m in at.markdown)
    assert "Supplier · Senior: fewer than 5 responses" in hidden
    assert "Middle (both parties): withheld to protect a smaller group" in hidden


def test_value_code_choice_in_sidebar(seeded: str) -> None:
    at = _app(relationship=KEY, cycle=1, value_code="VC1").run()
    at.switch_page("app_pages/value_code.py").run()
    at.selectbox(key="value_code_choice").select("VC3").run()
    assert not at.exception
    assert at.title[0].value == "VC3"
    assert at.session_state["value_code"] == "VC3"


def test_sidebar_defaults_to_latest_cycle_with_labels(seeded: str) -> None:
    at = _app().run()
    assert not at.exception
    assert at.session_state["relationship"] == KEY
    assert at.session_state["cycle"] == 1
    cycle = at.sidebar.selectbox(key="cycle")
    assert cycle.options == ["Cycle 1 · Resolve (Mar 2025)"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs(seeded: str, page: str) -> None:
    at = _app(relationship=KEY, cycle=1).run()
    at.switch_page(page).run()
    assert not at.exception
    assert at.title


def test_a_store_without_schema_says_to_migrate_and_the_app_never_migrates(store_url: str) -> None:
    at = _app().run()
    assert not at.exception
    assert "run `vm migrate`" in at.warning[0].value
    assert not at.info
    engine = make_engine(store_url)
    try:
        assert schema_revisions(engine)[0] is None  # the app only read
        migrate(engine)  # what a data engineer does
    finally:
        engine.dispose()
    at.button[0].click().run()  # "Check again"
    assert not at.exception
    assert not at.warning
    assert "There is no relationship in the store yet" in at.info[0].value


def test_empty_store_says_what_to_run(store_url: str) -> None:
    engine = make_engine(store_url)
    migrate(engine)
    engine.dispose()
    at = _app().run()
    assert not at.exception
    assert "vm demo" in at.info[0].value
    assert "vm run CONFIG" in at.info[0].value


def test_review_columns_follow_party_and_perspective_positions(seeded: str) -> None:
    engine = make_engine(seeded)
    with session_factory(engine)() as session:
        data = review.heatmap(session, KEY, 1)
        cycles = review.list_cycles(session, KEY)
    engine.dispose()
    assert [(c.group_kind, c.group) for c in data.columns] == [
        *[
            ("party_perspective", f"{p}/{q}")
            for p in ("client", "supplier")
            for q in ("senior", "middle", "frontline")
        ],
        ("perspective", "senior"),
        ("perspective", "middle"),
        ("perspective", "frontline"),
        ("party", "client"),
        ("party", "supplier"),
        ("all", "all"),
    ]
    assert data.columns[6].label == "Senior (both parties)"
    assert [r.section for r in data.rows] == ["Delivery", "Delivery", "Relationship"]
    assert [c.label for c in cycles] == ["Cycle 1 · Resolve (Mar 2025)"]
