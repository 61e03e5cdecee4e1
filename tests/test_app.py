"""The review app under Streamlit's AppTest: every page against a small seeded store.

The store is seeded with tests/factories.py and scored with vm_core.scoring; the
app is pointed at it through VM_DATABASE_URL/VM_HOME, as in production.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.factories import BLANK, Answer, add_respondents, counts, seed_cycle, seed_world, use_lake
from vm_cli.main import APP_SETTINGS, app_command
from vm_core.read import review
from vm_core.read.colour_scale import MIN_TEXT_CONTRAST, contrast_ratio
from vm_core.read.scores import read_scores
from vm_core.scoring import score_cycle
from vm_core.settings import Settings
from vm_core.store.db import make_engine, migrate, schema_revisions, session_factory, transaction

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "app" / "streamlit_app.py"
PAGES = ("app_pages/heatmap.py", "app_pages/value_code.py", "app_pages/findings.py", "app_pages/actions.py")
KEY = "acme-bolt"
SECTIONS = {"Delivery": ("VC1", "VC2"), "Relationship": ("VC3",)}
# 2 parties × 3 perspectives + 3 perspectives + 2 parties + all
N_COLUMNS = 12


#: Cycle 2: five respondents per party × perspective, each party answering one level per Value Code.
CYCLE_2 = {
    "client": {"VC1": 4, "VC2": 2, "VC3": 3},
    "supplier": {"VC1": 4, "VC2": 3, "VC3": 5},
}


def _levels(*values: Answer) -> dict[str, list[Answer]]:
    return {code: list(values) for codes in SECTIONS.values() for code in codes}


def _seed(url: str, *, second_cycle: bool = False) -> None:
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
        if second_cycle:
            cycle = seed_cycle(s, world.relationship, world.library_version, number=2, mode="solve")
            cycle.opens_on = dt.date(2026, 3, 2)
            for party, answers in CYCLE_2.items():
                for perspective in ("senior", "middle", "frontline"):
                    levels = {code: [level] * 5 for code, level in answers.items()}
                    add_respondents(
                        s, world, party=party, perspective=perspective, levels=levels, cycle=cycle
                    )
            score_cycle(s, cycle.id, counts(s, cycle))
    engine.dispose()


#: Cycle 2: five respondents per party × perspective, each group answering one level per Value Code.
CYCLE_2 = {
    "client": {"VC1": 4, "VC2": 2, "VC3": 3},
    "supplier": {"VC1": 4, "VC2": 3, "VC3": 5},
}


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


@pytest.fixture
def two_cycles(store_url: str) -> Iterator[str]:
    use_lake(Settings.from_env().lake())
    _seed(store_url, second_cycle=True)
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
        elif tag == "a" and self._cell is not None:
            self._cell["href"] = found["href"]
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
            assert "background-color:" in cell["style"]


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


# ---------------------------------------------------------------- heatmap v2: modes, order, filters, address


def _codes(table: _Table) -> list[str]:
    return [row[0]["data-value-code"] for row in table.rows]


def test_gap_mode_shows_the_second_party_minus_the_first(seeded: str) -> None:
    at = _app(relationship=KEY, cycle=1).run()
    at.selectbox(key="heatmap_mode").select("gap").run()
    assert not at.exception
    body, table = _heatmap(at)
    assert 'data-mode="gap"' in body
    assert table.headers == ["Senior", "Middle", "Frontline", "All perspectives"]
    # VC1 front line: client 1, 1, 5, 5, 3 → 3.0; supplier 2, 3, 3, 2, 3 → 2.6
    frontline = _cell(table, "VC1", "frontline")
    assert float(frontline["data-delta"]) == pytest.approx(-0.4)
    assert frontline["text"] == "−0.4?3.0 vs 2.6"
    # five answers a side: too few for the test, so the cell stays on the theme's neutral colour
    assert frontline["data-verdict"] == "insufficient evidence"
    assert "vm-neutral" in frontline["class"]
    assert "style" not in frontline
    # all perspectives: client 60/16 = 3.75, supplier 42/12 = 3.5
    assert float(_cell(table, "VC1", "all")["data-delta"]) == pytest.approx(-0.25)
    # supplier · senior has 2 respondents: no gap, and not the client's number either
    for group in ("senior", "middle"):
        hidden = _cell(table, "VC1", group)
        assert (hidden["data-status"], hidden["text"]) == ("hidden", "hidden")
        assert "data-delta" not in hidden
        assert not re.search(r"\d", hidden["title"].split(":", 1)[1])
    assert at.query_params["mode"] == "gap"


def test_change_mode_compares_with_the_previous_cycle(two_cycles: str) -> None:
    at = _app(relationship=KEY, cycle=2).run()
    at.selectbox(key="heatmap_mode").select("change_previous").run()
    assert not at.exception
    body, table = _heatmap(at)
    assert 'data-mode="change_previous"' in body
    assert "change in mean level since Cycle 1 · Resolve (Mar 2025)" in at.markdown[0].value
    # VC1, everybody: cycle 1 102/28 = 3.643; cycle 2 all at 4 → +0.357
    everybody = _cell(table, "VC1", "all")
    assert float(everybody["data-delta"]) == pytest.approx(4 - 102 / 28, abs=1e-4)
    assert everybody["text"] == "+0.4≈3.6 → 4.0"
    # θ = P(4 > cycle 1) + ½·P(4 = cycle 1) = (12 + 7/2)/28 = 0.554, below the practical 0.56
    assert everybody["data-verdict"] == "no detectable difference"
    assert float(_cell(table, "VC1", "frontline")["data-delta"]) == pytest.approx(4 - 2.8)
    assert float(_cell(table, "VC1", "client/senior")["data-delta"]) == pytest.approx(4 - 29 / 6, abs=1e-4)
    assert _cell(table, "VC1", "supplier/senior")["data-status"] == "hidden"  # hidden in cycle 1
    assert "the legend says how" in at.caption[0].value


def test_change_mode_in_the_first_cycle_says_there_is_nothing_to_compare(seeded: str) -> None:
    at = _app(relationship=KEY, cycle=1).run()
    at.selectbox(key="heatmap_mode").select("change_first").run()
    assert not at.exception
    assert "cycle 1 is the first cycle: there is no earlier cycle to compare with" in at.info[0].value
    assert not [h for h in at.html if 'id="vm-heatmap"' in h.value]


def test_rows_sort_by_the_broadest_column_and_filter_by_section(two_cycles: str) -> None:
    at = _app(relationship=KEY, cycle=2).run()
    # cycle 2, everybody: VC1 4.0, VC2 2.5, VC3 4.0
    at.selectbox(key="heatmap_sort").select("lowest").run()
    _, table = _heatmap(at)
    assert _codes(table) == ["VC2", "VC1", "VC3"]  # a tie keeps the section order
    assert "Rows in order of “All respondents”" in at.caption[0].value
    at.selectbox(key="heatmap_sort").select("highest").run()
    assert _codes(_heatmap(at)[1]) == ["VC1", "VC3", "VC2"]
    assert "largest" not in at.selectbox(key="heatmap_sort").options  # only where there is a difference
    at.selectbox(key="heatmap_mode").select("change_first").run()
    at.selectbox(key="heatmap_sort").select("largest").run()
    assert _codes(_heatmap(at)[1]) == ["VC2", "VC1", "VC3"]  # −1.14, +0.36, +0.36
    at.selectbox(key="heatmap_mode").select("level").run()  # "largest" has no meaning here
    assert at.session_state["heatmap_sort"] == "section"
    at.multiselect(key="heatmap_sections").select("Relationship").run()
    assert _codes(_heatmap(at)[1]) == ["VC3"]
    assert at.query_params["section"] == "Relationship"


def test_party_and_perspective_filters_keep_the_columns_within_them(seeded: str) -> None:
    at = _app(relationship=KEY, cycle=1).run()
    at.multiselect(key="heatmap_parties").select("supplier").run()
    assert _heatmap(at)[1].headers == ["Senior", "Middle", "Frontline", "Supplier"]
    at.multiselect(key="heatmap_perspectives").select("frontline").run()
    _, table = _heatmap(at)
    assert table.headers == ["Frontline"]
    assert [c["data-group"] for c in table.rows[0]] == ["supplier/frontline"]
    assert at.query_params["party"] == "supplier"
    assert at.query_params["perspective"] == "frontline"


def test_only_divided_cells_keep_their_colour(seeded: str) -> None:
    at = _app(relationship=KEY, cycle=1).run()
    at.selectbox(key="heatmap_labels").select("divided").run()
    _, table = _heatmap(at)
    cells = [c for row in table.rows for c in row if c["data-suppressed"] == "false"]
    coloured = [c for c in cells if "vm-muted" not in c["class"]]
    assert coloured
    assert all(c["data-agreement"] == "divided" and "style" in c for c in coloured)
    assert all(c["data-agreement"] != "divided" and "style" not in c for c in cells if c not in coloured)
    assert "vm-muted" not in _cell(table, "VC1", "client/frontline")["class"]  # 1, 1, 5, 5, 3


def test_a_shared_address_opens_the_same_view(two_cycles: str) -> None:
    link = {"relationship": KEY, "cycle": "1", "mode": "gap", "sort": "lowest", "perspective": "frontline"}
    at = _app()
    at.query_params.update(link)
    at.run()
    assert not at.exception
    assert (at.session_state["cycle"], at.session_state["heatmap_mode"]) == (1, "gap")
    body, table = _heatmap(at)
    assert 'data-cycle="1"' in body
    assert 'data-mode="gap"' in body
    assert table.headers == ["Frontline"]
    assert at.query_params == link  # and the address still says so


def test_the_address_follows_the_controls_and_leaves_defaults_out(seeded: str) -> None:
    at = _app().run()
    assert at.query_params == {"relationship": KEY, "cycle": "1"}
    at.selectbox(key="heatmap_mode").select("gap").run()
    assert at.query_params == {"relationship": KEY, "cycle": "1", "mode": "gap"}
    at.selectbox(key="heatmap_mode").select("level").run()  # the widget wins over the address it had
    assert at.session_state["heatmap_mode"] == "level"
    assert at.query_params == {"relationship": KEY, "cycle": "1"}


def test_each_cell_links_to_its_value_code_and_group(seeded: str) -> None:
    at = _app(relationship=KEY, cycle=1).run()
    _, table = _heatmap(at)
    cell = _cell(table, "VC1", "client/senior")
    assert cell["href"] == "value_code?relationship=acme-bolt&cycle=1&code=VC1&group=client%2Fsenior"
    assert all(c["href"].startswith("value_code?") for row in table.rows for c in row)


def test_a_link_opens_the_value_code_page_on_its_group(seeded: str) -> None:
    at = _app().run()
    at.query_params.update({"code": "VC2", "group": "client/frontline"})  # as if a cell link was followed
    at.switch_page("app_pages/value_code.py").run()
    assert not at.exception
    assert at.title[0].value == "VC2"
    assert at.session_state["value_code_group"] == "client/frontline"
    assert at.sidebar.selectbox(key="value_code_group_choice").value == "client/frontline"
    summary = next(m.value for m in at.markdown if m.value.startswith("**Client · Frontline**"))
    assert "mean **3.0**, nearest level 3 · Level 3 (n=5" in summary
    cards = next(h.value for h in at.html if 'id="vm-levels"' in h.value)
    assert re.search(r'vm-card vm-current" data-level="3"', cards)
    assert "Client · Frontline: mean 3.0" in cards
    assert at.query_params == {"relationship": KEY, "cycle": "1", "code": "VC2", "group": "client/frontline"}


def test_a_link_to_a_hidden_group_says_why_and_shows_no_number(seeded: str) -> None:
    at = _app().run()
    at.query_params.update({"code": "VC1", "group": "supplier/senior"})
    at.switch_page("app_pages/value_code.py").run()
    assert not at.exception
    assert at.info[0].value == "Supplier · Senior: fewer than 5 responses."
    cards = next(h.value for h in at.html if 'id="vm-levels"' in h.value)
    assert "vm-card vm-current" not in cards


def test_every_coloured_cell_has_readable_text(seeded: str) -> None:
    at = _app(relationship=KEY, cycle=1).run()
    _, table = _heatmap(at)
    styled = [c for row in table.rows for c in row if "style" in c]
    assert styled
    for cell in styled:
        colours = dict(part.split(":") for part in cell["style"].split(";"))
        assert contrast_ratio(colours["background-color"], colours["color"]) >= MIN_TEXT_CONTRAST, cell


def test_vm_app_uses_the_repository_streamlit_settings_wherever_it_starts() -> None:
    """Streamlit reads .streamlit/config.toml only from the folder it starts in; `vm app` passes flags."""
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))

    def flat(table: dict[str, object], prefix: str = "") -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in table.items():
            if isinstance(value, dict):
                out |= flat(value, f"{prefix}{key}.")
            else:
                out[f"{prefix}{key}"] = str(value).lower() if isinstance(value, bool) else str(value)
        return out

    assert flat(config) == APP_SETTINGS
    command = app_command(8501)
    for name, value in APP_SETTINGS.items():
        assert command[command.index(f"--{name}") + 1] == value
    assert APP_SETTINGS["client.toolbarMode"] == "minimal"
