"""What a Prefect deployment of vm needs at deploy time and at run time (``prefect.yaml``).

Deploy time — ``check_environment`` is the build step of ``prefect.yaml``: ``prefect deploy`` imports and
runs it before it writes anything, so a deploying shell without ``VM_HOME`` or ``VM_REPO_DIR`` is refused
with one line (Prefect itself would store an empty value, and the run would crash on the worker). The
values it returns are what the deployment stores (the run's working folder and ``VM_HOME``).

Run time — ``load_runtime_secrets`` runs first in the flow: the deployment stores only the *names* of
Prefect Secret blocks (``VM_SECRET_BLOCKS=VM_DATABASE_URL=vm-database-url,VM_SECRET=...``), and the run
loads each block into the variable it names. A ``{{ prefect.blocks.secret.* }}`` template in
``prefect.yaml`` would instead be resolved by ``prefect deploy`` and stored in the deployment in plain text.
Values are never printed or logged.
"""

from __future__ import annotations

import os
from pathlib import Path

from vm_core.errors import VmError

#: Variables a deployment cannot run without, checked in the deploying shell.
REQUIRED_AT_DEPLOY = ("VM_HOME", "VM_REPO_DIR")
#: Job variable naming the Secret blocks a run loads: ``VAR=block-name`` pairs separated by commas.
SECRET_BLOCKS_VAR = "VM_SECRET_BLOCKS"


class DeploymentError(VmError):
    """A deployment is misconfigured: one line naming the variable or block."""


def check_environment(names: list[str] | None = None) -> dict[str, str]:
    """Refuse the deployment (exit 1, one line) unless each of ``names`` is an absolute path in the environment.

    A ``prefect deploy`` build step: it raises ``SystemExit`` with the message, because Prefect prints a
    traceback for any other exception a step raises. Returns ``{name: value}``, which ``prefect.yaml``
    reads back as ``{{ vm-env.VM_HOME }}``.
    """
    names = list(names or REQUIRED_AT_DEPLOY)
    missing = [name for name in names if not os.environ.get(name, "").strip()]
    if missing:
        listed = " and ".join(missing)
        raise SystemExit(
            f"prefect deploy refused: {listed} {'is' if len(missing) == 1 else 'are'} not set in this shell; "
            "export VM_HOME (the worker's vm folder) and VM_REPO_DIR (this repository's folder on the worker) "
            "as absolute paths, then deploy again"
        )
    values = {name: os.path.expanduser(os.environ[name].strip()) for name in names}
    for name, value in values.items():
        if not Path(value).is_absolute():
            raise SystemExit(
                f"prefect deploy refused: {name}={value!r} is a relative path; the worker would resolve it "
                "in another folder — give an absolute path"
            )
    return values


def parse_secret_blocks(spec: str) -> list[tuple[str, str]]:
    """``"VM_DATABASE_URL=vm-database-url,VM_SECRET=vm-pseudonym-secret"`` → ``[(variable, block), ...]``."""
    pairs = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        variable, sep, block = (s.strip() for s in item.partition("="))
        if not sep or not variable or not block:
            raise DeploymentError(
                f"{SECRET_BLOCKS_VAR}: {item!r} is not VARIABLE=secret-block-name "
                "(pairs separated by commas, e.g. VM_DATABASE_URL=vm-database-url)"
            )
        pairs.append((variable, block))
    return pairs


def load_runtime_secrets() -> list[str]:
    """Load each Secret block named in ``VM_SECRET_BLOCKS`` into its variable, unless that is already set.

    Returns the variables it set. No ``VM_SECRET_BLOCKS`` (a local run, the tests): does nothing.
    A block that does not exist, cannot be read or holds no text raises ``DeploymentError`` naming the
    block and the variable — never the value.
    """
    pairs = parse_secret_blocks(os.environ.get(SECRET_BLOCKS_VAR, ""))
    loaded = []
    for variable, block in pairs:
        if os.environ.get(variable):
            print(f"{variable}: already set in the run's environment; Secret block {block!r} not read")
            continue
        os.environ[variable] = _secret_text(block, variable)
        loaded.append(variable)
        print(f"{variable}: loaded from Secret block {block!r}")
    return loaded


def _secret_text(block: str, variable: str) -> str:
    from prefect.blocks.system import Secret

    where = f"Secret block {block!r} (for {variable}, named in {SECRET_BLOCKS_VAR})"
    try:
        secret = Secret.load(block)
    except ValueError as exc:
        if "Unable to find block document" in str(exc):
            raise DeploymentError(
                f"{where} does not exist on the Prefect server; create it (README: Deploying with Prefect)"
            ) from None
        # a validation error's text may quote the stored value: name its type only
        raise DeploymentError(f"{where} cannot be loaded: {type(exc).__name__}") from None
    except Exception as exc:
        raise DeploymentError(f"{where} cannot be loaded: {_first_line(exc)}") from None
    assert isinstance(secret, Secret)  # not a coroutine: the flow calls this outside an event loop
    # Not Secret.get(): it JSON-decodes text, so a secret such as "123e4" would come back as 1230000.0.
    value = secret.value.get_secret_value()
    if not isinstance(value, str) or not value:
        raise DeploymentError(f"{where} must hold a non-empty text value")
    return value


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
