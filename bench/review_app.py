"""How fast the review app's heatmap page is: server-side compute in-process, and first paint in a browser.

    python bench/review_app.py [--home DIR] [--relationship KEY] [--cycle N] [--repeats 20] [--no-browser]

(a) **Server-side compute**, in this process, without Streamlit's cache: what the heatmap page asks of
    ``vm_core`` for one cycle — the heatmap data (``review.heatmap``), in a comparison mode its cells
    and verdicts (``heatmap_view.read_comparison``: the earlier cycle's heatmap and the read side's
    tests, ``vm_core.read.gaps``), the view (``heatmap_view.build_view``) — and the HTML it draws
    (``app.heatmap_table.heatmap_html``). Each of the four modes, median of ``--repeats`` runs on a
    fresh read-only session.
(b) **First paint**, in headless Chromium (/usr/bin/chromium): ``vm app``'s command on a free port,
    one page load to warm it (imports, caches), then five fresh tabs; the time from the start of
    navigation to the first heatmap row in the page (``performance.now()``), median.

Without ``--home`` the demo relationship is built into a temporary ``VM_HOME`` first (about 4 s).
Results go to stdout (and, with ``--home``, to ``<home>/review_app.json``). See bench/README.md, "Review app".
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
os.environ["VM_LOAD_PLUGINS"] = ""

DEMO = REPO / "examples" / "demo" / "relationship.yaml"
MODES = ("level", "change_previous", "change_first", "gap")
PAINTS = 5
CHROMIUM = "/usr/bin/chromium"


def _build_demo(home: Path) -> None:
    from vm_core.config import load_config
    from vm_core.run.orchestration import LocalSteps, run_relationship
    from vm_core.settings import Settings

    run_relationship(load_config(DEMO), LocalSteps(Settings.from_env()))
    print(f"demo built in {home}")


def _page_compute(database_url: str, relationship: str, cycle: int, mode: str) -> Callable[[], str]:
    from app.heatmap_table import heatmap_html
    from vm_core.read import heatmap_view, review
    from vm_core.read.reader import open_reader

    sessions = open_reader(database_url)

    def run() -> str:
        with sessions() as session:
            data = review.heatmap(session, relationship, cycle)
            comparison = None if mode == "level" else heatmap_view.read_comparison(session, data, mode)
            view = heatmap_view.build_view(data, heatmap_view.ViewState(mode=mode), comparison)
            return heatmap_html(data, view)

    return run


def server_side(database_url: str, relationship: str, cycle: int, repeats: int) -> dict[str, float]:
    timings: dict[str, float] = {}
    for mode in MODES:
        run = _page_compute(database_url, relationship, cycle, mode)
        run()  # imports and the first connection are not the page's cost
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            samples.append(time.perf_counter() - start)
        timings[mode] = statistics.median(samples)
        print(f"(a) server-side compute, {mode:<16} {timings[mode] * 1000:7.1f} ms (median of {repeats})")
    return timings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def first_paint(env: dict[str, str], relationship: str, cycle: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    from vm_cli.main import app_command

    port = _free_port()
    url = f"http://127.0.0.1:{port}/?relationship={relationship}&cycle={cycle}"
    with tempfile.TemporaryDirectory() as elsewhere:
        server = subprocess.Popen(
            app_command(port),
            cwd=elsewhere,
            env={**os.environ, **env, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                        if r.read() == b"ok":
                            break
                except OSError:
                    time.sleep(0.3)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                paints = []
                for attempt in range(PAINTS + 1):
                    page = browser.new_page(viewport={"width": 1280, "height": 720})
                    page.goto(url, wait_until="commit")
                    painted = page.evaluate(
                        """() => new Promise(resolve => {
                            const check = () => document.querySelector('#vm-heatmap tr.vm-row')
                                ? requestAnimationFrame(() => resolve(performance.now()))
                                : setTimeout(check, 5);
                            check();
                        })"""
                    )
                    page.close()
                    if attempt:  # the first load warms the app
                        paints.append(float(painted) / 1000)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=15)
    print(
        f"(b) first paint after warm-up      {statistics.median(paints) * 1000:7.0f} ms (median of {PAINTS})"
    )
    return paints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--home", type=Path, help="a VM_HOME holding the relationship (default: build the demo)"
    )
    parser.add_argument("--database-url", help="the store (default: SQLite in the home)")
    parser.add_argument("--relationship", default="northwind-contoso")
    parser.add_argument("--cycle", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--no-browser", action="store_true", help="only the server-side compute")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        home = args.home or Path(scratch) / "vmhome"
        url = args.database_url or f"sqlite:///{home / 'vm.sqlite'}"
        env = {"VM_HOME": str(home), "VM_DATABASE_URL": url}
        os.environ.update(env)
        if args.home is None:
            _build_demo(home)
        results: dict[str, Any] = {
            "server_side_seconds": server_side(url, args.relationship, args.cycle, args.repeats)
        }
        if not args.no_browser:
            results["first_paint_seconds"] = first_paint(env, args.relationship, args.cycle)
        if args.home is not None:
            (home / "review_app.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
