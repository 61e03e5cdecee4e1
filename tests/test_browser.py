"""The review app in a real headless Chromium, on the demo relationship built end to end.

What AppTest cannot see: that the HTML heatmap really renders (colours, markers,
grey suppressed cells), that the sidebar's cycle select drives it, that headings stay in
view while the table scrolls, that a cell's link and a pasted address open the same view,
how it looks at projector size, in a dark colour scheme and in print, and that nothing is
fetched from another machine. The app is started outside the repository, as `vm app` may be.
Screenshots go to test-artifacts/.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.heatmap_table import LEVEL_SCALE, THEMES
from vm_cli.main import app_command
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


def test_value_code_page_in_a_real_browser(page: Any) -> None:
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


def _viewport_screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def test_heatmap_at_projector_size_colours_sticks_and_links(browser: Any, app_url: str) -> None:
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

    # a cell is a link to its Value Code's page for its group
    openness = _cell(page, "REL-OPENNESS", "contoso/middle")
    published = page.locator('#vm-heatmap tr[data-value-code="REL-OPENNESS"] td[data-mean]').count()
    openness.locator("a").click()
    expect(page.get_by_role("heading", name="REL-OPENNESS", exact=True)).to_be_visible()
    assert urlsplit(page.url).path == "/value_code"
    assert "code=REL-OPENNESS" in page.url
    assert "group=contoso%2Fmiddle" in page.url
    summary = page.get_by_text("Contoso Services · Middle management: mean").first
    expect(summary).to_be_visible()
    # the table of groups shows every published group: no rows hidden below its own scrollbar
    assert published > 10
    table = page.locator('[data-testid="stDataFrame"]').first  # the groups; change and gap tables follow
    expect(table).to_be_visible()
    row_height = 35  # Streamlit's default; the header row is as tall
    assert table.bounding_box()["height"] >= row_height * (published + 1)
    _screenshot(page, "value-code-group.png")

    # the same address pasted into a fresh tab opens the same view
    again = _open(browser, page.url, viewport=PROJECTOR)
    expect(again.page.get_by_role("heading", name="REL-OPENNESS", exact=True)).to_be_visible()
    expect(again.page.get_by_text("Contoso Services · Middle management: mean").first).to_be_visible()
    for opened in (tab, again):
        opened.assert_nothing_left_this_machine()


def test_a_shared_heatmap_address_and_change_mode_in_a_dark_colour_scheme(browser: Any, app_url: str) -> None:
    from playwright.sync_api import expect

    shared = f"{app_url}/?cycle=3&mode=gap&sort=largest&perspective=middle"
    tab = _open(browser, shared, viewport=PROJECTOR, color_scheme="dark")
    page = tab.page
    table = page.locator("#vm-heatmap")
    expect(table).to_have_attribute("data-mode", "gap")
    expect(table).to_have_attribute("data-cycle", "3")
    expect(page.locator("#vm-heatmap tr.vm-groups th")).to_have_count(1)  # middle management only
    # DEL-KPI: the council's middle managers at 2.3, Contoso's at 3.4 — the largest gap comes first
    expect(page.locator("#vm-heatmap tr.vm-row").first).to_have_attribute("data-value-code", "DEL-KPI")

    _choose(page, "Show", "Change since the previous cycle")
    expect(table).to_have_attribute("data-mode", "change_previous")
    assert "mode=change_previous" in page.url
    # REL-OPENNESS, middle managers of both parties: 3.0 in cycle 2, 3.9 in cycle 3 (the filter stays)
    openness = _cell(page, "REL-OPENNESS", "middle")
    expect(openness).to_have_attribute("data-status", "compared")
    assert float(openness.get_attribute("data-delta")) == pytest.approx(0.9, abs=0.1)
    expect(openness).to_contain_text("+0.9")
    expect(openness).to_contain_text("3.0 → 3.9")

    # dark: Streamlit's dark theme, and the table's own colours follow it, every label readable
    app_background = _hex(
        page.locator('[data-testid="stApp"]').evaluate("e => getComputedStyle(e).backgroundColor")
    )
    assert relative_luminance(app_background) < 0.05
    frame = _hex(_background(page.locator("#vm-heatmap-wrap")))
    assert relative_luminance(frame) < 0.05
    for selector in (
        "#vm-heatmap .vm-id",
        "#vm-heatmap .vm-desc",
        "#vm-heatmap th.vm-corner",
        "#vm-legend",
    ):
        ink = _hex(page.locator(selector).first.evaluate("e => getComputedStyle(e).color"))
        assert contrast_ratio(ink, frame) >= MIN_TEXT_CONTRAST, selector
    _viewport_screenshot(page, "heatmap-dark.png")
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


def test_change_mode_verdicts_match_vm_gaps_and_a_cell_opens_its_change(
    browser: Any, app_url: str, demo_env: dict[str, str]
) -> None:
    from playwright.sync_api import expect

    from vm_core.read.gaps import read_gaps
    from vm_core.store.db import make_engine, session_factory

    engine = make_engine(demo_env["VM_DATABASE_URL"])
    with session_factory(engine)() as session:
        gaps = [g for g in read_gaps(session, "northwind-contoso", 3, ["change"]) if g.y.cycle == 2]
    engine.dispose()
    tab = _open(browser, f"{app_url}/?cycle=3", viewport=PROJECTOR)
    page = tab.page
    _choose(page, "Show", "Change since the previous cycle")
    expect(page.locator("#vm-heatmap")).to_have_attribute("data-mode", "change_previous")
    # the heatmap's verdicts are `vm gaps`' (the change family against the previous cycle)
    for gap in [g for g in gaps if g.x.group.kind == "perspective"][:6]:
        cell = _cell(page, gap.value_code, gap.x.group.key)
        expect(cell).to_have_attribute("data-verdict", gap.comparison.verdict)

    _cell(page, "REL-OPENNESS", "middle").locator("a").click()
    expect(page.get_by_role("heading", name="REL-OPENNESS", exact=True)).to_be_visible()
    assert "group=middle" in page.url
    expect(page.get_by_role("heading", name="Change over time")).to_be_visible()
    change = page.locator('[data-testid="stDataFrame"]').nth(1)
    change.scroll_into_view_if_needed()
    expect(change).to_be_visible()
    _viewport_screenshot(page, "value_code_change.png")

    page.goto(f"{app_url}/engagement?cycle=3")
    expect(page.get_by_role("heading", name="Engagement", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Things That Matter")).to_be_visible()
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(2)  # groups, then Things That Matter
    _screenshot(page, "engagement.png")


def test_an_action_created_from_a_finding_appears_on_the_actions_board(browser: Any, app_url: str) -> None:
    from playwright.sync_api import expect

    tab = _open(browser, f"{app_url}/findings")
    page = tab.page
    expect(page.get_by_role("heading", name="Findings", exact=True)).to_be_visible()
    first = page.locator(".st-key-finding-1")
    sentence = first.locator("h3").first.inner_text().strip()  # as shown: without the Markdown
    assert sentence
    name = page.get_by_role("textbox", name="Your name")
    name.fill("Ada Browser")
    name.press("Enter")
    first.get_by_text("Create an action").click()
    first.get_by_role("button", name="Create the action").click()
    created = page.get_by_text(re.compile(r"Action \d+ created"))
    expect(created).to_be_visible()
    _screenshot(page, "findings.png")

    link = page.get_by_role("link", name="Open it on the Actions page")
    href = link.get_attribute("href") or ""
    assert href.startswith("actions?")
    assert "action=" in href
    page.goto(f"{app_url}/{href}")  # Streamlit opens a Markdown link in a new tab: follow it here
    expect(page.get_by_role("heading", name="Actions", exact=True)).to_be_visible()
    card = page.locator('[class*="st-key-action-card-"]').filter(has_text=sentence)
    expect(card.first).to_be_visible()
    expect(page.get_by_text("Not started (", exact=False).first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"Save \(over version 1\)"))).to_be_visible()
    _screenshot(page, "actions.png")
    tab.assert_nothing_left_this_machine()
