"""vm_core: the domain of the Value Management platform.

Everything a flow, connector or page needs lives here as plain functions over a
SQLAlchemy session; the edges (flows/, connectors/, app/, the CLI) stay thin.
Plugins write ``from vm_core import hookimpl``.
"""

from vm_core.ingest.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["__version__", "hookimpl"]
