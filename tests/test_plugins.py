"""The plugin host: built-ins as plugins, entry-point discovery, loud failures, and documented hooks."""

from __future__ import annotations

import inspect
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pluggy
import pytest

from vm_core import hookimpl
from vm_core.ingest import hookspecs
from vm_core.ingest.plugins import DEFAULT_PLUGINS, collect_connectors, make_plugin_manager

REPO = Path(__file__).resolve().parent.parent
HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "vm_spec")]


def test_there_are_hooks() -> None:
    assert HOOKS == ["register_connectors"]


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented(hook: str) -> None:
    docs = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    assert f"## {hook}(" in docs, f"docs/plugins.md has no section for hook {hook}"
    assert getattr(hookspecs, hook).__doc__


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_tested(hook: str) -> None:
    tests = "".join(p.read_text(encoding="utf-8") for p in (REPO / "tests").glob("test_*.py"))
    assert f"def test_{hook}_" in tests, f"no test named test_{hook}_* exercises hook {hook}"


def test_builtin_connectors_are_plugins() -> None:
    pm = make_plugin_manager(load_entry_points=False)
    assert {name for name, _ in pm.list_name_plugin()} >= set(DEFAULT_PLUGINS)
    assert set(collect_connectors(pm)) == {
        "qualtrics_csv",
        "csv_long",
        "surveymonkey_csv",
        "google_forms_csv",
    }


def test_tests_do_not_autoload_installed_plugins() -> None:
    assert os.environ.get("VM_LOAD_PLUGINS") == ""


def test_misspelt_hookimpl_fails_loudly() -> None:
    class Typo:
        @hookimpl
        def register_conectors(self, register):  # type: ignore[no-untyped-def]
            pass

    with pytest.raises(pluggy.PluginValidationError, match="register_conectors"):
        make_plugin_manager(load_entry_points=False, extra=[Typo()])


def _plugin_registering(obj: object) -> object:
    class Plugin:
        @hookimpl
        def register_connectors(self, register):  # type: ignore[no-untyped-def]
            register(obj)

    return Plugin()


def test_register_connectors_rejects_duplicate_names() -> None:
    from connectors.csv_long import CsvLongConnector

    pm = make_plugin_manager(load_entry_points=False, extra=[_plugin_registering(CsvLongConnector())])
    with pytest.raises(ValueError, match="two plugins register a connector named 'csv_long'"):
        collect_connectors(pm)


def test_register_connectors_rejects_a_non_connector() -> None:
    pm = make_plugin_manager(load_entry_points=False, extra=[_plugin_registering(object())])
    with pytest.raises(TypeError, match="is not a connector"):
        collect_connectors(pm)


RUN_WITH_THE_PLUGIN = """
import sys
from vm_core.config import load_config
from vm_core.run.orchestration import LocalSteps, run_relationship
from vm_core.ingest.plugins import connectors
from vm_core.settings import Settings
print(sorted(connectors()))
settings = Settings.from_env()
(cycle,) = run_relationship(load_config(sys.argv[1]), LocalSteps(settings)).cycles
(source,) = cycle.sources
print(source.status, source.rows_read, source.evaluations, source.quarantined, cycle.scored_cells)
"""
CONFIG = """
relationship: {key: plugged, name: Plugged in}
library: {file: library.csv, key: plugged, name: Plugged library, version: "1"}
parties:
  - {key: acme, name: Acme, role: client, match: ["Acme"]}
  - {key: globex, name: Globex, role: supplier, match: ["Globex"]}
perspectives: [{key: senior, name: Senior leadership}]
equivalences: [{role: "Director", perspective: senior}]
cycles:
  - number: 1
    mode: resolve
    sources: [{key: answers, connector: example_jsonl, path: answers.jsonl, options: {batch_rows: 2}}]
"""


def test_installed_package_is_discovered_by_entry_point(tmp_path: Path) -> None:
    """pip-install a tiny third-party connector package, see `vm` find it (honouring the allow-list) and run it."""
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(REPO / "tests" / "fixtures" / "vm-example-connector"),
        ],
        check=True,
        capture_output=True,
    )
    folder = tmp_path / "plugged"
    folder.mkdir()
    shutil.copy(REPO / "examples" / "demo" / "library.csv", folder / "library.csv")
    (folder / "relationship.yaml").write_text(CONFIG, encoding="utf-8")
    answers = [
        {"respondent": f"p{i}@example.org", "organisation": org, "role": "Director", "value_code": code,
         "level": level, "email": f"p{i}@example.org"}
        for i, org in enumerate(["Acme"] * 5 + ["Globex"] * 5)
        for code, level in (("REL-TRUST", 4), ("REL-OPENNESS", 9))
    ]  # fmt: skip
    (folder / "answers.jsonl").write_text("\n".join(json.dumps(a) for a in answers), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(REPO)])}
    env |= {"VM_HOME": str(tmp_path / "home"), "VM_SECRET": "plugged"}
    env.pop("VM_LOAD_PLUGINS")
    everything = subprocess.run(
        [sys.executable, "-c", RUN_WITH_THE_PLUGIN, str(folder / "relationship.yaml")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert everything.returncode == 0, everything.stderr[-3000:]
    listed, ran = everything.stdout.splitlines()[-2:]
    assert "example_jsonl" in listed
    # 20 answers read and landed; the level 9s are quarantined, the rest evaluated and scored
    assert ran == f"loaded 20 10 10 {16 * 6}"
    probe = "from vm_core.ingest.plugins import connectors; print(sorted(connectors()))"
    env["VM_LOAD_PLUGINS"] = ""
    none = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert "example_jsonl" not in none.stdout
    env["VM_LOAD_PLUGINS"] = "example"
    allowed = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert "example_jsonl" in allowed.stdout
