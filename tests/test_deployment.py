"""The Prefect deployment: refused at deploy time without VM_HOME/VM_REPO_DIR, secrets only at run time.

The deploy test runs the real ``prefect --no-prompt deploy --all`` (twice, at the same time) against the
session's temporary Prefect API, then reads the stored deployment back through the Prefect client.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from flows.deployment import (
    SECRET_BLOCKS_VAR,
    DeploymentError,
    check_environment,
    load_runtime_secrets,
    parse_secret_blocks,
)

REPO = Path(__file__).resolve().parent.parent
PREFECT = Path(sys.executable).with_name("prefect")


def _save_secret(name: str, value: str) -> None:
    from prefect.blocks.system import Secret

    Secret(value=value).save(name, overwrite=True)


def _deploy_env(tmp_path: Path, **variables: str) -> dict[str, str]:
    from prefect.settings import get_current_settings

    env = {k: v for k, v in os.environ.items() if not k.startswith("VM_")}
    env.update(
        PREFECT_API_URL=str(get_current_settings().api.url),
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PYTHONPATH=str(REPO),
        **variables,
    )
    return env


def _deploy(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(PREFECT), "--no-prompt", "deploy", "--all"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.flow
def test_prefect_deploy_refuses_a_shell_without_vm_home_and_stores_no_secret_value(
    prefect_harness: None, tmp_path: Path
) -> None:
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    database_url = f"postgresql+psycopg://vm:pw-{uuid.uuid4().hex}@db.example:5432/vm"
    pseudonym_secret = uuid.uuid4().hex + uuid.uuid4().hex
    _save_secret("vm-database-url", database_url)
    _save_secret("vm-pseudonym-secret", pseudonym_secret)
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="vm-pool", type="process"), overwrite=True)

    vm_home = str(tmp_path / "vm-home")
    refused = _deploy(_deploy_env(tmp_path, VM_REPO_DIR=str(REPO)))  # no VM_HOME
    deployed = _deploy(_deploy_env(tmp_path, VM_HOME=vm_home, VM_REPO_DIR=str(REPO)))
    out, err = refused.communicate(timeout=120)
    ok_out, ok_err = deployed.communicate(timeout=120)

    assert refused.returncode == 1, out + err
    refusal = [line for line in err.splitlines() if "refused" in line]
    assert refusal == [
        "prefect deploy refused: VM_HOME is not set in this shell; export VM_HOME (the worker's vm folder) "
        "and VM_REPO_DIR (this repository's folder on the worker) as absolute paths, then deploy again"
    ]
    assert "Traceback" not in err
    assert "successfully created" not in out

    assert deployed.returncode == 0, ok_out + ok_err
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("run-relationship/northwind-contoso")
    env = deployment.job_variables["env"]
    assert env["VM_HOME"] == vm_home
    assert env[SECRET_BLOCKS_VAR] == "VM_DATABASE_URL=vm-database-url,VM_SECRET=vm-pseudonym-secret"
    assert "VM_DATABASE_URL" not in env
    assert "VM_SECRET" not in env
    assert deployment.pull_steps == [
        {"prefect.deployments.steps.set_working_directory": {"directory": str(REPO)}}
    ]
    stored = deployment.model_dump_json()
    assert database_url not in stored
    assert pseudonym_secret not in stored


@pytest.mark.flow
def test_a_run_loads_the_named_secret_blocks_as_text_and_keeps_variables_already_set(
    prefect_harness: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql+psycopg://vm:pw-{uuid.uuid4().hex}@db.example:5432/vm"
    _save_secret("vm-test-url", url)
    _save_secret("vm-test-number-like", "123e4")  # Secret.get() would turn this into 1230000.0
    # empty counts as unset; setenv (not delenv) so that what the run sets is undone after the test
    monkeypatch.setenv("VM_DATABASE_URL", "")
    monkeypatch.setenv("VM_SECRET", "")
    monkeypatch.setenv("VM_LANDING", "store")
    monkeypatch.setenv(
        SECRET_BLOCKS_VAR,
        "VM_DATABASE_URL=vm-test-url, VM_SECRET=vm-test-number-like, VM_LANDING=vm-test-never-created",
    )

    assert load_runtime_secrets() == ["VM_DATABASE_URL", "VM_SECRET"]

    assert os.environ["VM_DATABASE_URL"] == url
    assert os.environ["VM_SECRET"] == "123e4"
    assert os.environ["VM_LANDING"] == "store"  # already set: its block is not even read
    printed = capsys.readouterr()
    assert "VM_DATABASE_URL: loaded from Secret block 'vm-test-url'" in printed.out
    assert url not in printed.out + printed.err
    assert "123e4" not in printed.out + printed.err


@pytest.mark.flow
def test_a_flow_run_naming_a_missing_secret_block_fails_with_one_line(
    prefect_harness: None, monkeypatch: pytest.MonkeyPatch, demo_copy: Path, tmp_path: Path
) -> None:
    from flows.run_relationship import run_relationship

    # were the secrets not loaded first, the run would write here, not in the repository
    monkeypatch.setenv("VM_HOME", str(tmp_path / "vm-home"))
    monkeypatch.setenv("VM_DATABASE_URL", "")
    monkeypatch.setenv(SECRET_BLOCKS_VAR, "VM_DATABASE_URL=vm-no-such-block")

    with pytest.raises(DeploymentError) as raised:
        run_relationship(str(demo_copy))

    assert str(raised.value) == (
        "Secret block 'vm-no-such-block' (for VM_DATABASE_URL, named in VM_SECRET_BLOCKS) does not exist "
        "on the Prefect server; create it (README: Deploying with Prefect)"
    )
    assert os.environ["VM_DATABASE_URL"] == ""


def test_secret_block_list_is_variable_equals_block_pairs() -> None:
    assert parse_secret_blocks("") == []
    assert parse_secret_blocks("A=a-block, B = b-block,") == [("A", "a-block"), ("B", "b-block")]
    with pytest.raises(DeploymentError, match=r"^VM_SECRET_BLOCKS: 'vm-database-url' is not VARIABLE="):
        parse_secret_blocks("VM_DATABASE_URL=vm-db,vm-database-url")


def test_deploy_check_refuses_relative_paths_and_returns_the_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VM_HOME", "/srv/vm")
    monkeypatch.setenv("VM_REPO_DIR", ".")
    with pytest.raises(SystemExit, match=r"VM_REPO_DIR='\.' is a relative path"):
        check_environment()
    monkeypatch.setenv("VM_REPO_DIR", "/srv/vm-repo")
    assert check_environment() == {"VM_HOME": "/srv/vm", "VM_REPO_DIR": "/srv/vm-repo"}
    monkeypatch.setenv("VM_HOME", "  ")
    with pytest.raises(SystemExit, match=r"^prefect deploy refused: VM_HOME is not set"):
        check_environment(["VM_HOME"])
