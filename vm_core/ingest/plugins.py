"""Plugin manager: built-in connectors are plugins; others come from entry points.

``VM_LOAD_PLUGINS``  comma-separated allow-list of entry-point plugins to load
                     (empty string: load none); unset: load all installed.
``VM_TRACE_PLUGINS`` set to trace every hook call to stderr.

A third-party plugin that cannot be imported, implements a hook wrongly or registers something
that is not a connector is reported (:data:`PROBLEMS`, ``vm connectors``) and skipped; the
built-in connectors and every other plugin keep working.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from functools import cache
from importlib.metadata import EntryPoint, entry_points

import pluggy

from vm_core.errors import ConfigError
from vm_core.ingest import hookspecs
from vm_core.ingest.connector import Connector

DEFAULT_PLUGINS: tuple[str, ...] = (
    "connectors.qualtrics_csv",
    "connectors.csv_long",
    "connectors.surveymonkey_csv",
    "connectors.google_forms_csv",
)


#: entry-point plugins that were skipped: name -> one line saying why
PROBLEMS: dict[str, str] = {}
#: names of the plugins loaded from entry points (third-party code: its failures are contained)
_ENTRY_POINTS: set[str] = set()


def _load_entry_point(pm: pluggy.PluginManager, ep: EntryPoint) -> None:
    """Register one installed plugin; a broken one is recorded in PROBLEMS and skipped."""
    try:
        plugin = ep.load()
        pm.register(plugin, name=ep.name)
        _ENTRY_POINTS.add(ep.name)
    except Exception as exc:
        PROBLEMS[ep.name] = (
            f"cannot be loaded: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        )
        return
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        pm.unregister(plugin)
        PROBLEMS[ep.name] = f"implements no known hook correctly: {str(exc).splitlines()[0]}"


def make_plugin_manager(load_entry_points: bool = True, extra: Iterable[object] = ()) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("vm")
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    for plugin in extra:
        pm.register(plugin)
    pm.check_pending()  # a misspelt hookimpl of a built-in (or a test's plugin) fails loudly
    if load_entry_points:
        allow = os.environ.get("VM_LOAD_PLUGINS")
        wanted = None if allow is None else {n.strip() for n in allow.split(",") if n.strip()}
        for ep in entry_points(group="vm"):
            if wanted is None or ep.name in wanted:
                _load_entry_point(pm, ep)
    if os.environ.get("VM_TRACE_PLUGINS"):
        pm.trace.root.setwriter(lambda msg: print(msg, end="", file=sys.stderr))
        pm.enable_tracing()
    return pm


def collect_connectors(pm: pluggy.PluginManager) -> dict[str, Connector]:
    """Ask every plugin to register its connectors; validate names and shape."""
    found: dict[str, Connector] = {}

    def register(connector: Connector) -> None:
        if not isinstance(connector, Connector):
            raise TypeError(
                f"{connector!r} is not a connector (needs name, description, options, fingerprint(), read())"
            )
        if connector.name in found:
            raise ValueError(f"two plugins register a connector named {connector.name!r}")
        found[connector.name] = connector

    for impl in pm.hook.register_connectors.get_hookimpls():
        if impl.plugin_name not in _ENTRY_POINTS:
            impl.function(register=register)  # built-ins and a caller's own plugins: a bug is loud
            continue
        before = dict(found)
        try:
            impl.function(register=register)
        except Exception as exc:
            found.clear()
            found.update(before)  # nothing of a plugin that failed half-way
            PROBLEMS[impl.plugin_name] = f"failed to register its connectors: {exc}".splitlines()[0]
    return found


@cache
def connectors() -> dict[str, Connector]:
    """All connectors available in this process (built-ins plus installed plugins)."""
    return collect_connectors(make_plugin_manager())


def get_connector(name: str) -> Connector:
    available = connectors()
    if name not in available:
        raise ConfigError(f"unknown connector {name!r}; available: {', '.join(sorted(available))}")
    return available[name]
