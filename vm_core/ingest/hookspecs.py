"""Plugin hook specifications (pluggy project name ``vm``).

A plugin is a module or object with functions decorated by ``vm_core.hookimpl``.
Built-in connectors are plugins too; third-party packages expose theirs through
the entry-point group ``vm``. Hook arguments never have defaults: pluggy passes
arguments by name and ignores defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from vm_core.ingest.connector import Connector

hookspec = pluggy.HookspecMarker("vm")
hookimpl = pluggy.HookimplMarker("vm")


@hookspec
def register_connectors(register: Callable[[Connector], None]) -> None:
    """Register connectors by calling ``register(connector)`` once per connector.

    ``connector`` is any object satisfying :class:`vm_core.ingest.connector.Connector`:
    a unique ``name`` (used as ``connector:`` in a relationship configuration),
    a one-line ``description``, ``resources(...)`` returning dlt resources that land
    the source as received (minus personal data), and ``answers(...)`` that turns the
    landed rows into the canonical long answer frame. The host rejects duplicate
    names and objects missing any of these.
    """
