"""The plugin host: built-ins as plugins, entry-point discovery, loud failures, and documented hooks."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pluggy
import pytest

from vm_core import hookimpl, hookspecs
from vm_core.plugins import DEFAULT_PLUGINS, collect_connectors, make_plugin_manager

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
    assert set(collect_connectors(pm)) == {"qualtrics_csv", "csv_long"}


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


def test_installed_package_is_discovered_by_entry_point(tmp_path: Path) -> None:
    """pip-install a tiny third-party connector package and see `vm` find it (and honour the allow-list)."""
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
    probe = "from vm_core.plugins import connectors; print(sorted(connectors()))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(REPO)])}
    env.pop("VM_LOAD_PLUGINS")
    everything = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert "example_jsonl" in everything.stdout
    env["VM_LOAD_PLUGINS"] = ""
    none = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert "example_jsonl" not in none.stdout
    env["VM_LOAD_PLUGINS"] = "example"
    allowed = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert "example_jsonl" in allowed.stdout
