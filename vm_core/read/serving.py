"""Serving the review app: on this computer only unless an operator chose otherwise, and never orphaned.

Streamlit listens on every interface when no address is configured (``streamlit run`` outside the
repository folder reads no ``.streamlit/config.toml``), and it cannot re-bind from inside the
script, so the app asks :func:`serving_decision` before it reads any data. ``vm app`` runs Streamlit
as a child that stops when ``vm app`` is stopped (SIGTERM, SIGHUP, SIGINT) or killed (Linux).
"""

from __future__ import annotations

import ipaddress
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

LOOPBACK_ADDRESS: Final = "127.0.0.1"
#: Signals that stop ``vm app`` and, through it, the app it serves.
STOP_SIGNALS: Final = (
    signal.SIGTERM,
    signal.SIGINT,
    *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()),
)
#: Time the app gets to shut down cleanly before it is killed.
STOP_GRACE_SECONDS: Final = 10
_PR_SET_PDEATHSIG: Final = 1  # <linux/prctl.h>


def is_loopback(address: str | None) -> bool:
    """True when ``address`` is reachable from this computer only (unset means every interface)."""
    if not address:
        return False
    if address.startswith("unix://") or address == "localhost":  # a socket file; the loopback name
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:  # a host name: whatever it resolves to is not known to be local
        return False


@dataclass(frozen=True)
class ServingDecision:
    serve: bool
    message: str | None  # why nothing is served, or a warning beside what is


def serving_decision(address: str | None, set_explicitly: bool) -> ServingDecision:
    """Whether the app may show data when Streamlit listens on ``address``.

    Loopback is always fine. Any other address is the operator's decision when it was set
    explicitly (command line, environment or a config file), served with a warning; listening on
    every interface because nothing was set is refused.
    """
    if is_loopback(address):
        return ServingDecision(True, None)
    if set_explicitly and address:
        return ServingDecision(
            True,
            f"Served on {address}, not only on this computer: anyone who can reach it can read these "
            "results.",
        )
    return ServingDecision(
        False,
        "This review app is listening on every network interface of this computer because no address "
        "was set, so anyone on the network could read it; it shows nothing. Start it with `vm app`, or "
        f"`streamlit run app/streamlit_app.py --server.address {LOOPBACK_ADDRESS}`. To serve the network "
        "on purpose, set the address explicitly (e.g. `--server.address 0.0.0.0`).",
    )


def run_until_stopped(command: Sequence[str]) -> int:
    """Run ``command`` as a child that ends with this process; return its exit status (shell style).

    SIGTERM, SIGHUP and SIGINT are passed on as SIGTERM and the child gets ``STOP_GRACE_SECONDS``
    to exit before it is killed. On Linux the kernel also sends the child SIGTERM if this process
    dies without a chance to pass anything on (SIGKILL); elsewhere that case is best effort.
    """
    import subprocess

    child = subprocess.Popen(list(command), preexec_fn=_die_with_parent_hook())

    def stop(_signum: int, _frame: Any) -> None:
        child.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        status = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    return status if status >= 0 else 128 - status


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to SIGTERM the child when its parent dies (None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork: the child only calls it
    parent = os.getpid()

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the request took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return hook
