"""The review app in a real headless Chromium, on the demo relationship built end to end.

What AppTest cannot see: that the HTML heatmap really renders (colours, markers,
grey suppressed cells), that the sidebar's cycle select drives it, and that the
Value Code page draws its cards and chart. Screenshots go to test-artifacts/.

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
from pathlib import Path
from typing import Any

import pytest

from vm_cli.main import app_command
from vm_core.config import load_config
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
GREY = "rgb(236, 238, 241)"  # components.SUPPRESSED background
GREENISH = {"rgb(168, 212, 111)", "rgb(46, 158, 91)"}  # lime (4) and green (5)
TIMEOUT_MS = 60_000


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
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    env = {**os.environ, **demo_env, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    command = app_command(port)
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
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
def page(sync_playwright: Any, app_url: str) -> Iterator[Any]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1600, "height": 1000})
            tab.set_default_timeout(TIMEOUT_MS)
            # the first render reads the store and the scores: slow while the rest of the suite runs
            from playwright.sync_api import expect

            expect.set_options(timeout=TIMEOUT_MS)
            tab.goto(app_url)
            yield tab
        finally:
            browser.close()


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
    assert small.evaluate("e => getComputedStyle(e).backgroundColor") == GREY
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
    assert float(openness.get_attribute("data-mean")) >= 3.5
    assert openness.evaluate("e => getComputedStyle(e).backgroundColor") in GREENISH
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
