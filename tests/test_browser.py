"""The review app in a real headless Chromium, on the demo relationship built end to end.

What AppTest cannot see: that the HTML heatmap really renders (colours, markers,
grey suppressed cells), that the sidebar's cycle select drives it, that headings stay in
view while the table scrolls, that a shared address opens the same view, how it looks at
projector size, in a dark colour scheme and in print, and that nothing is fetched from
another machine. One test walks the review loop as a person does: heatmap → change mode →
a cell → its Value Code → a finding citing it → an action → the Actions board.
The app is started outside the repository, as `vm app` may be. Screenshots go to test-artifacts/.

Needs /usr/bin/chromium and the ``playwright`` package (no ``playwright install``:
the system Chromium is used). Skipped without them, except when CI is set.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app.heatmap_table import LEVEL_SCALE, THEMES
from vm_cli.main import app_command
from vm_core.actions import list_actions
from vm_core.config import load_config
from vm_core.read.colour_scale import MIN_TEXT_CONTRAST, contrast_ratio, relative_luminance
from vm_core.run.orchestration import LocalSteps, run_relationship
from vm_core.settings import Settings

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "examples" / "demo" / "relationship.yaml"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000
PROJECTOR = {"width": 1280, "height": 720}
#: A4 landscape at the 96 px per inch Chromium lays out print at.
A4_LANDSCAPE = {"width": 1123, "height": 794}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
RELATIONSHIP = "northwind-contoso"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def sync_playwright() -> Any:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    return sync_playwright


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A store holding the demo relationship's three cycles, run in-process without Prefect."""
    home = tmp_path_factory.mktemp("browser") / "vmhome"
    env = {"VM_HOME": str(home), "VM_DATABASE_URL": f"sqlite:///{home / 'vm.sqlite'}"}
    settings = Settings.from_env(env)
    run_relationship(load_config(DEMO), LocalSteps(settings))
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(demo_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    elsewhere = tmp_path_factory.mktemp("streamlit")  # not the repository: its .streamlit/ is not read
    log = elsewhere / "streamlit.log"
    env = {**os.environ, **demo_env, "PYTHONPATH": str(REPO)}
    env.pop("STREAMLIT_BROWSER_GATHER_USAGE_STATS", None)  # app_command's flags must do it
    env.pop("STREAMLIT_SERVER_ADDRESS", None)
    command = app_command(port)
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=elsewhere, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not become healthy in 60 s:\n{log.read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


@pytest.fixture
def browser(sync_playwright: Any) -> Iterator[Any]:
    from playwright.sync_api import expect

    # the first render reads the store and the scores: slow while the rest of the suite runs
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Tab:
    """A browser tab and every address it requested."""

    page: Any
    requested: list[str] = field(default_factory=list)

    def assert_nothing_left_this_machine(self) -> None:
        hosts = {
            urlsplit(url).hostname
            for url in self.requested
            if urlsplit(url).scheme in ("http", "https", "ws", "wss")
        }
        assert hosts <= LOOPBACK, f"requests to other machines: {sorted(hosts - LOOPBACK)}"
        assert self.requested, "the tab made no request at all"


def _open(
    browser: Any, url: str, *, viewport: dict[str, int] | None = None, color_scheme: str = "light"
) -> Tab:
    """A fresh tab (its own Streamlit session) at ``url``, recording every request it makes."""
    page = browser.new_page(viewport=viewport or {"width": 1600, "height": 1000}, color_scheme=color_scheme)
    page.set_default_timeout(TIMEOUT_MS)
    tab = Tab(page)
    page.on("request", lambda request: tab.requested.append(request.url))
    page.goto(url)
    return tab


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    tab = _open(browser, app_url)
    yield tab.page
    tab.assert_nothing_left_this_machine()


def _rgb(colour: str) -> str:
    """#RRGGBB as getComputedStyle writes it."""
    return "rgb({}, {}, {})".format(*(int(colour[i : i + 2], 16) for i in (1, 3, 5)))


def _hex(rgb: str) -> str:
    return "#" + "".join(f"{int(v):02X}" for v in re.findall(r"\d+", rgb)[:3])


def _background(locator: Any) -> str:
    return str(locator.evaluate("e => getComputedStyle(e).backgroundColor"))


def _choose(page: Any, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label`` (typing filters its virtual list)."""
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option).first.click()


def _cell(page: Any, value_code: str, group: str) -> Any:
    return page.locator(f'#vm-heatmap td[data-value-code="{value_code}"][data-group="{group}"]')


def _screenshot(page: Any, name: str) -> None:
    """A full-page screenshot: Streamlit scrolls inside its own container, so grow the viewport first."""
    height = page.evaluate(
        "() => Math.max(...Array.from(document.querySelectorAll('[data-testid=stMain] *'))"
        ".map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": 1600, "height": min(int(height) + 40, 8000)})
    page.wait_for_timeout(500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    page.set_viewport_size({"width": 1600, "height": 1000})


def test_heatmap_in_a_real_browser(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#vm-heatmap")).to_be_visible()
    _choose(page, "Cycle", "Cycle 1 · Resolve (Mar 2024)")
    expect(page.get_by_text("Cycle 1 · Resolve (Mar 2024) · mean level")).to_be_visible()
    expect(page.locator("#vm-heatmap")).to_have_attribute("data-cycle", "1")
    expect(page.locator("#vm-heatmap tr.vm-row")).to_have_count(16)

    # the council's senior leaders are divided on commercial fairness
    divided = _cell(page, "VAL-COMMERCIAL", "northwind/senior")
    expect(divided).to_have_attribute("data-agreement", "divided")
    expect(divided).to_contain_text("◐")
    # middle managers on both sides agree issue resolution is weak
    agreed = _cell(page, "REL-ISSUES", "middle")
    expect(agreed).to_have_attribute("data-agreement", "agreed")
    assert float(agreed.get_attribute("data-mean")) < 2.5

    small = _cell(page, "VAL-COMMERCIAL", "contoso/senior")  # 4 of Contoso's 7 senior leaders answered
    expect(small).to_have_attribute("data-suppressed", "true")
    expect(small).to_have_text("fewer than 5 responses")
    assert _background(small) == _rgb(THEMES["light"]["hidden-bg"])
    suppressed = page.locator('#vm-heatmap td[data-suppressed="true"]')
    for text in suppressed.all_inner_texts():
        assert not re.search(r"\d", text.replace("fewer than 5 responses", ""))
    # complementary suppression: senior leaders of both parties − the council's would give Contoso's four
    # away; the cross-party row is withheld, the council's own cell stays
    expect(_cell(page, "VAL-COMMERCIAL", "senior")).to_have_text("withheld to protect a smaller group")
    expect(_cell(page, "VAL-COMMERCIAL", "northwind/senior")).to_have_attribute("data-suppressed", "false")
    expect(page.locator('#vm-heatmap td[data-suppressed="true"][data-n]')).to_have_count(0)

    _choose(page, "Cycle", "Cycle 3 · Dissolve (Mar 2026)")
    expect(page.get_by_text("Cycle 3 · Dissolve (Mar 2026) · mean level")).to_be_visible()
    expect(page.locator("#vm-heatmap")).to_have_attribute("data-cycle", "3")
    openness = _cell(page, "REL-OPENNESS", "all")
    expect(openness).to_have_attribute("data-suppressed", "false")
    mean = float(openness.get_attribute("data-mean"))
    assert mean >= 3.5
    assert _background(openness) == _rgb(LEVEL_SCALE(mean))  # its place on the continuous scale
    _screenshot(page, "heatmap.png")


def test_value_code_and_engagement_pages_in_a_real_browser(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#vm-heatmap")).to_be_visible()
    _choose(page, "Open a Value Code", "VAL-COMMERCIAL — The extent to which the commercial")
    expect(page.get_by_role("heading", name="VAL-COMMERCIAL", exact=True)).to_be_visible()
    expect(page.locator("#vm-levels div.vm-card")).to_have_count(5)
    expect(page.locator('[data-testid="stPlotlyChart"] .main-svg').first).to_be_visible()
    expect(page.get_by_text("Not shown, to protect anonymity")).to_be_visible()
    _screenshot(page, "value-code.png")

    page.get_by_role("link", name="Heatmap").click()
    expect(page.locator("#vm-heatmap")).to_be_visible()
    expect(page.get_by_role("heading", name="VAL-COMMERCIAL", exact=True)).to_have_count(0)

    page.get_by_role("link", name="Engagement").click()
    expect(page.get_by_role("heading", name="Engagement", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Things That Matter")).to_be_visible()
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(2)  # groups, then Things That Matter
    _screenshot(page, "engagement.png")


def _viewport_screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def test_heatmap_at_projector_size_colours_and_sticky_headings(browser: Any, app_url: str) -> None:
    from playwright.sync_api import expect

    tab = _open(browser, f"{app_url}/?cycle=3", viewport=PROJECTOR)
    page = tab.page
    expect(page.locator("#vm-heatmap tr.vm-row")).to_have_count(16)
    # vm app started outside the repository still has the minimal toolbar: no Deploy button, no menu
    expect(page.locator('[data-testid="stAppDeployButton"]')).to_have_count(0)
    expect(page.locator('[data-testid="stMainMenu"]')).to_have_count(0)

    # two cells of the same nearest level (3), one low and one high: different colours
    means = page.eval_on_selector_all(
        "#vm-heatmap td[data-mean]",
        "cells => cells.map(c => [c.dataset.valueCode, c.dataset.group, +c.dataset.mean])",
    )
    low = min(means, key=lambda m: abs(m[2] - 2.6))
    high = min(means, key=lambda m: abs(m[2] - 3.4))
    assert abs(low[2] - 2.6) < 0.05, low
    assert abs(high[2] - 3.4) < 0.05, high
    low_cell, high_cell = _cell(page, low[0], low[1]), _cell(page, high[0], high[1])
    expect(low_cell).to_have_attribute("data-level", "3")
    expect(high_cell).to_have_attribute("data-level", "3")
    assert _background(low_cell) != _background(high_cell)
    for cell in (low_cell, high_cell):
        text = cell.evaluate("e => getComputedStyle(e).color")
        assert contrast_ratio(_hex(_background(cell)), _hex(text)) >= MIN_TEXT_CONTRAST
        expect(cell).to_contain_text("L3")  # the level stays readable beside the mean
    _viewport_screenshot(page, "heatmap-1280x720.png")

    # headings and the first column stay in view while the table scrolls both ways
    wrap = page.locator("#vm-heatmap-wrap")
    wrap.evaluate("e => { e.scrollTop = 500; e.scrollLeft = 300; }")
    page.wait_for_timeout(200)
    frame = wrap.bounding_box()
    band = page.locator("#vm-heatmap tr.vm-bands th").nth(1).bounding_box()
    group = page.locator("#vm-heatmap tr.vm-groups th").first.bounding_box()
    code = page.locator("#vm-heatmap tbody th.vm-code").nth(8).bounding_box()
    assert abs(band["y"] - frame["y"]) < 2
    assert abs(group["y"] - (band["y"] + band["height"])) < 2
    assert abs(code["x"] - frame["x"]) < 2
    wrap.evaluate("e => { e.scrollTop = 0; e.scrollLeft = 0; }")

    tab.assert_nothing_left_this_machine()


def test_a_shared_heatmap_address_opens_its_gap_view(browser: Any, app_url: str) -> None:
    from playwright.sync_api import expect

    shared = f"{app_url}/?cycle=3&mode=gap&sort=largest&perspective=middle"
    tab = _open(browser, shared, viewport=PROJECTOR)
    page = tab.page
    table = page.locator("#vm-heatmap")
    expect(table).to_have_attribute("data-mode", "gap")
    expect(table).to_have_attribute("data-cycle", "3")
    expect(page.locator("#vm-heatmap tr.vm-groups th")).to_have_count(1)  # middle management only
    # DEL-KPI: the council's middle managers at 2.3, Contoso's at 3.4 — the largest gap comes first
    expect(page.locator("#vm-heatmap tr.vm-row").first).to_have_attribute("data-value-code", "DEL-KPI")

    _viewport_screenshot(page, "heatmap-gap-middle.png")
    tab.assert_nothing_left_this_machine()


def test_the_heatmap_prints_on_a4_landscape_without_cutting(browser: Any, app_url: str) -> None:
    from playwright.sync_api import expect

    tab = _open(browser, f"{app_url}/?cycle=3", viewport=PROJECTOR)
    page = tab.page
    expect(page.locator("#vm-heatmap tr.vm-row")).to_have_count(16)
    page.emulate_media(media="print")
    page.set_viewport_size(A4_LANDSCAPE)
    page.wait_for_timeout(300)
    wrap = page.locator("#vm-heatmap-wrap")
    width, client_width, height, client_height = wrap.evaluate(
        "e => [e.scrollWidth, e.clientWidth, e.scrollHeight, e.clientHeight]"
    )
    assert width <= client_width, "columns cut on the right"
    assert height <= client_height, "rows cut at the bottom"
    assert page.locator("#vm-heatmap").bounding_box()["width"] <= A4_LANDSCAPE["width"]
    expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
    expect(page.locator("#vm-heatmap thead th").first).to_have_css("position", "static")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "heatmap-print.png"), full_page=True)
    page.pdf(path=str(ARTIFACTS / "heatmap-print.pdf"), format="A4", landscape=True, print_background=True)
    tab.assert_nothing_left_this_machine()


def _read_side(demo_env: dict[str, str]) -> tuple[list[Any], list[Any]]:
    """Cycle 3's changes since cycle 2 (`vm gaps`) and its findings about REL-OPENNESS (`vm findings`)."""
    from vm_core.read.findings import read_findings
    from vm_core.read.gaps import read_gaps

    with _store(demo_env) as session:
        changes = [g for g in read_gaps(session, RELATIONSHIP, 3, ["change"]) if g.y.cycle == 2]
        findings = [f for f in read_findings(session, RELATIONSHIP, 3) if f.value_code == "REL-OPENNESS"]
    return changes, findings


@contextmanager
def _store(demo_env: dict[str, str]) -> Iterator[Any]:
    from vm_core.store.db import make_engine, session_factory

    engine = make_engine(demo_env["VM_DATABASE_URL"])
    try:
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _is_dark(page: Any) -> bool:
    app = page.locator('[data-testid="stApp"]').evaluate("e => getComputedStyle(e).backgroundColor")
    return relative_luminance(_hex(app)) < 0.05


def _wait_for_scheme(page: Any, *, dark: bool) -> None:
    """Wait until the app has followed the computer's colour scheme (Streamlit listens for the change)."""
    page.wait_for_function(
        """dark => {
            const app = document.querySelector('[data-testid=stApp]');
            const [r, g, b] = getComputedStyle(app).backgroundColor.match(/\\d+/g).map(Number);
            return (r + g + b < 200) === dark;
        }""",
        arg=dark,
    )


def test_the_review_loop_from_the_heatmap_to_an_action_on_the_board(
    browser: Any, app_url: str, demo_env: dict[str, str]
) -> None:
    """Preparing a workshop as a person does it, at projector size on a computer in a dark colour scheme:
    the heatmap → change since the previous cycle → a cell → its Value Code and group with its change →
    a finding citing it → an action from that finding → the action on the Actions board.

    One browser context: links that open a new tab open it there, as they do for the person.
    Screenshots of every step go to test-artifacts/journey-*.png (one of them light).
    """
    from playwright.sync_api import expect

    changes, findings = _read_side(demo_env)
    assert findings, "the demo has findings about REL-OPENNESS in cycle 3"
    context = browser.new_context(viewport=PROJECTOR, color_scheme="dark")
    context.set_default_timeout(TIMEOUT_MS)
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()

    # 1. the heatmap: the latest cycle, level mode; Streamlit's dark theme and the table's own colours
    page.goto(app_url)
    table = page.locator("#vm-heatmap")
    expect(table).to_have_attribute("data-cycle", "3")
    expect(table).to_have_attribute("data-mode", "level")
    assert _is_dark(page)
    frame = _hex(_background(page.locator("#vm-heatmap-wrap")))
    assert relative_luminance(frame) < 0.05
    for selector in ("#vm-heatmap .vm-id", "#vm-heatmap .vm-desc", "#vm-heatmap th.vm-corner", "#vm-legend"):
        ink = _hex(page.locator(selector).first.evaluate("e => getComputedStyle(e).color"))
        assert contrast_ratio(ink, frame) >= MIN_TEXT_CONTRAST, selector
    published = page.locator('#vm-heatmap tr[data-value-code="REL-OPENNESS"] td[data-mean]').count()
    _viewport_screenshot(page, "journey-1-heatmap-dark.png")

    # 2. change since the previous cycle, through the control; its verdicts are `vm gaps`'
    _choose(page, "Show", "Change since the previous cycle")
    expect(table).to_have_attribute("data-mode", "change_previous")
    assert "mode=change_previous" in page.url
    for gap in [g for g in changes if g.x.group.kind == "perspective"][:6]:
        expect(_cell(page, gap.value_code, gap.x.group.key)).to_have_attribute(
            "data-verdict", gap.comparison.verdict
        )
    # REL-OPENNESS, middle managers of both parties: 3.0 in cycle 2, 3.9 in cycle 3
    openness = _cell(page, "REL-OPENNESS", "middle")
    expect(openness).to_have_attribute("data-status", "compared")
    assert float(openness.get_attribute("data-delta")) == pytest.approx(0.9, abs=0.1)
    expect(openness).to_contain_text("+0.9")
    expect(openness).to_contain_text("3.0 → 3.9")
    _viewport_screenshot(page, "journey-2-change-dark.png")

    # 3. the cell opens its Value Code for its group, with the change
    openness.locator("a").click()
    expect(page.get_by_role("heading", name="REL-OPENNESS", exact=True)).to_be_visible()
    assert urlsplit(page.url).path == "/value_code"
    assert "code=REL-OPENNESS" in page.url
    assert "group=middle" in page.url
    expect(page.get_by_text("Middle management (both parties): mean").first).to_be_visible()
    # the table of groups shows every published group: no rows hidden below its own scrollbar
    assert published > 10
    groups = page.locator('[data-testid="stDataFrame"]').first
    expect(groups).to_be_visible()
    row_height = 35  # Streamlit's default; the header row is as tall
    assert groups.bounding_box()["height"] >= row_height * (published + 1)
    page.get_by_role("heading", name="Change over time").scroll_into_view_if_needed()
    expect(page.locator('[data-testid="stDataFrame"]').nth(1)).to_be_visible()
    _viewport_screenshot(page, "journey-3-value-code-change-dark.png")
    # the same page when the computer switches to a light colour scheme
    page.emulate_media(color_scheme="light")
    _wait_for_scheme(page, dark=False)
    assert not _is_dark(page)
    _viewport_screenshot(page, "journey-3-value-code-change-light.png")
    page.emulate_media(color_scheme="dark")
    _wait_for_scheme(page, dark=True)

    # 4. its findings link to the Findings page, that finding open (a new tab, as Streamlit opens links)
    cited = findings[0]
    sentence = cited.sentence.replace("*", "")  # as shown: without the Markdown
    item = page.locator("li").filter(has_text=sentence)
    with context.expect_page() as opened:
        item.get_by_role("link", name="evidence").click()
    page = opened.value
    expect(page.get_by_role("heading", name="Findings", exact=True)).to_be_visible()
    cards = page.locator('[class*="st-key-finding-"]')
    expect(cards).to_have_count(1)
    card = cards.first
    expect(card.locator("h3")).to_have_text(sentence)
    expect(card.locator("details").first).to_have_attribute("open", "")  # its evidence, open
    expect(page.get_by_role("button", name="Show all findings")).to_be_visible()
    assert parse_qs(urlsplit(page.url).query)["finding"] == [cited.key]
    _viewport_screenshot(page, "journey-4-finding-dark.png")

    # 5. "Create an action" from it
    name = page.get_by_role("textbox", name="Your name")
    name.fill("Ada Browser")
    name.press("Enter")
    card.get_by_text("Create an action").click()
    card.get_by_role("button", name="Create the action").click()
    created = page.get_by_text(re.compile(r"Action \d+ created"))
    expect(created).to_be_visible()
    created.scroll_into_view_if_needed()
    _viewport_screenshot(page, "journey-5-action-created-dark.png")
    with _store(demo_env) as session:
        [made] = [a for a in list_actions(session) if a.fields.finding_key == cited.key]
    assert made.fields.value_codes == ("REL-OPENNESS",)
    assert (made.fields.title, made.cycle, made.created_by) == (sentence, 3, "Ada Browser")

    # 6. the action on the Actions board, linked to the finding's Value Code, open for editing
    with context.expect_page() as opened:
        page.get_by_role("link", name="Open it on the Actions page").click()
    page = opened.value
    expect(page.get_by_role("heading", name="Actions", exact=True)).to_be_visible()
    assert urlsplit(page.url).path == "/actions"
    board_card = page.locator(f".st-key-action-card-{made.id}")
    expect(board_card).to_contain_text(sentence)
    expect(board_card).to_contain_text("REL-OPENNESS")
    column = page.locator('[data-testid="stColumn"]').filter(has=board_card).last
    expect(column).to_contain_text("Not started")  # on the board, in its status's column
    expect(page.get_by_role("combobox", name="Action")).to_have_value(
        f"#{made.id} {sentence}"
    )  # open to edit
    expect(page.get_by_role("button", name=re.compile(r"Save \(over version 1\)"))).to_be_visible()
    board_card.scroll_into_view_if_needed()
    _viewport_screenshot(page, "journey-6-actions-dark.png")

    context.close()
    Tab(page, requested).assert_nothing_left_this_machine()
