"""The Prefect flow end to end under one session-scoped temporary API, and the deployment file."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml
from prefect import Flow

from tests.conftest import Store
from vm_core.run.orchestration import SourcesFailed

REPO = Path(__file__).resolve().parent.parent


def test_every_prefect_yaml_entrypoint_is_a_flow() -> None:
    spec = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))
    assert spec["deployments"]
    for deployment in spec["deployments"]:
        module_path, name = deployment["entrypoint"].split(":")
        module = importlib.import_module(module_path.removesuffix(".py").replace("/", "."))
        assert isinstance(getattr(module, name), Flow), deployment["entrypoint"]
        assert (REPO / deployment["parameters"]["config_path"]).exists()


@pytest.mark.flow
@pytest.mark.store
def test_the_flow_loads_every_good_source_then_fails_for_a_bad_one(
    vm_env: Store, prefect_harness: None, demo_copy: Path
) -> None:
    from flows.run_relationship import run_relationship

    # a bad file fails only its source: every other source loads and is scored, the audit runs,
    # and then the flow run ends Failed with a one-line message
    export = demo_copy.parent / "responses" / "cycle-2.csv"
    good = export.read_bytes()
    export.write_text("not,a,qualtrics,export\r\n", encoding="utf-8")
    state = run_relationship(str(demo_copy), return_state=True)

    assert state.is_failed()
    failed = state.result(raise_on_failure=False)
    assert isinstance(failed, SourcesFailed)
    assert str(failed).startswith("1 of 3 sources failed: cycle 2 · diagnostic: cycle-2.csv, row 1: ")
    assert "\n" not in str(failed)
    assert str(failed) in (state.message or "")
    assert [r.mode for r in failed.run.cycles] == ["resolve", "solve", "dissolve"]
    one, two, three = failed.run.cycles
    for r in (one, three):
        (source,) = r.sources
        assert (source.status, source.quarantined) == ("loaded", 0)
        assert source.evaluations > 0
        assert r.scored_cells == 16 * 12
    assert two.sources[0].status == "failed"
    assert "cycle-2.csv" in (two.sources[0].error or "")
    assert two.no_data  # nothing committed: not scored
    assert failed.run.audited_tables > 0

    export.write_bytes(good)
    results = run_relationship(str(demo_copy), cycles=[2])  # Completed: the results come back

    assert [(r["cycle"], r["mode"], r["scored_cells"]) for r in results] == [(2, "solve", 16 * 12)]
    assert [s["status"] for s in results[0]["sources"]] == ["loaded"]


@pytest.mark.flow
@pytest.mark.store
def test_a_flow_run_whose_audit_finds_a_leak_fails(
    vm_env: Store, prefect_harness: None, demo_copy: Path
) -> None:
    from sqlalchemy import select

    from flows.run_relationship import run_relationship
    from tests.test_audit import show_groups_as_the_old_rule_did
    from vm_core.read.audit import AnonymityLeak
    from vm_core.store.models import Cycle, ValueCode

    run_relationship(str(demo_copy), cycles=[1])  # the audit passes: no exception

    with vm_env.sessions() as s, s.begin():
        cycle = s.scalar(select(Cycle).where(Cycle.number == 1))
        assert cycle is not None
        code = s.scalar(
            select(ValueCode.id).where(
                ValueCode.library_version_id == cycle.library_version_id,
                ValueCode.identifier == "VAL-COMMERCIAL",
            )
        )
        assert code is not None
        # every group shown: the 4 Contoso senior leaders' cell among them
        groups = {"all", "northwind", "contoso", "senior", "middle", "front_line"}
        groups |= {f"{p}/{q}" for p in ("northwind", "contoso") for q in ("senior", "middle", "front_line")}
        show_groups_as_the_old_rule_did(s, cycle.id, code, groups)

    with pytest.raises(
        AnonymityLeak, match=r"anonymity audit failed: leak: northwind-contoso cycle 1 VAL-COMMERCIAL"
    ):
        run_relationship(str(demo_copy), cycles=[1])
