"""The `vm` command: thin, over vm_core and flows (vm_core never imports this)."""

from vm_cli.main import main

__all__ = ["main"]
