"""vm_core: the domain of the Value Management platform.

Everything a flow, connector or page needs lives here as plain functions over a
SQLAlchemy session; the edges (flows/, connectors/, app/, the CLI) stay thin.
Plugins write ``from vm_core import hookimpl`` (imported on first use, so that commands
that load no plugin, such as ``vm scores``, do not import pluggy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vm_core.ingest.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["__version__", "hookimpl"]


def __getattr__(name: str) -> Any:
    if name == "hookimpl":
        from vm_core.ingest.hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
