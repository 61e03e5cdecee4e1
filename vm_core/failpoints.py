"""Deterministic kill points for crash tests.

Code that must survive a crash marks the moments worth crashing at::

    failpoints.reached("lake.written")

``reached(name)`` sends SIGKILL to its own process when ``name`` is listed in the environment
variable ``VM_KILL_AT`` (comma-separated, e.g. ``VM_KILL_AT=migrate.0002``), exactly as a power
cut, an OOM kill or ``kill -9`` would end it: no ``finally`` blocks, no ``atexit``, no rollback
sent to the database. A crash test runs the code in a subprocess with ``VM_KILL_AT`` set,
checks the returncode is ``-9``, and then checks that the next run repairs or ignores whatever
the killed one left behind.

For tests only, and harmless in production: ``VM_KILL_AT`` is read once, when this module is
imported, and with it unset a failpoint costs one set lookup. Before killing, one line naming the
failpoint goes to stderr, so a test failure shows where the process died.

Failpoints in vm:

- ``migrate.<revision>``: after each Alembic revision is applied, before the migration commits
  (``vm_core/store/migrations/env.py``).
"""

from __future__ import annotations

import os
import signal
from typing import Final

#: Environment variable listing the failpoints to kill at.
ENV_VAR: Final = "VM_KILL_AT"

_ARMED: Final = frozenset(name.strip() for name in os.environ.get(ENV_VAR, "").split(",") if name.strip())


def reached(name: str) -> None:
    """Kill this process with SIGKILL if ``name`` is listed in ``VM_KILL_AT``; otherwise do nothing."""
    if name in _ARMED:
        os.write(2, f"failpoint {name}: killing process {os.getpid()} (VM_KILL_AT)\n".encode())
        os.kill(os.getpid(), signal.SIGKILL)
