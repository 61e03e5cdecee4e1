"""Deterministic kill points for crash tests: ``VM_KILL_AT=name[,name…]`` makes the process SIGKILL itself.

Placed where a crash would matter (after landing, before a commit…); a point not listed costs
one dictionary lookup. Used by the crash tests only; harmless in production.
"""

from __future__ import annotations

import os
import signal


def reached(name: str) -> None:
    """SIGKILL this process if ``name`` is listed in ``VM_KILL_AT``."""
    wanted = os.environ.get("VM_KILL_AT")
    if wanted and name in wanted.split(","):
        os.kill(os.getpid(), signal.SIGKILL)
