"""Plugin manager: built-in connectors are plugins; others come from entry points.

``VM_LOAD_PLUGINS``  comma-separated allow-list of entry-point plugins to load
                     (empty string: load none); unset: load all installed.
``VM_TRACE_PLUGINS`` set to trace every hook call to stderr.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from functools import cache
from importlib.metadata import entry_points

import pluggy

from vm_core import hookspecs
from vm_core.connector import Connector
from vm_core.errors import ConfigError

DEFAULT_PLUGINS: tuple[str, ...] = (
    "connectors.qualtrics_csv",
    "connectors.csv_long",
)


def make_plugin_manager(load_entry_points: bool = True, extra: Iterable[object] = ()) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("vm")
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    if load_entry_points:
        allow = os.environ.get("VM_LOAD_PLUGINS")
        if allow is None:
            pm.load_setuptools_entrypoints("vm")
        else:
            wanted = {n.strip() for n in allow.split(",") if n.strip()}
            for ep in entry_points(group="vm"):
                if ep.name in wanted:
                    pm.register(ep.load(), name=ep.name)
    for plugin in extra:
        pm.register(plugin)
    pm.check_pending()  # a misspelt hookimpl fails loudly instead of being ignored
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
                f"{connector!r} is not a connector (needs name, description, landing_tables, "
                "resources(), answers())"
            )
        if connector.name in found:
            raise ValueError(f"two plugins register a connector named {connector.name!r}")
        found[connector.name] = connector

    pm.hook.register_connectors(register=register)
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
