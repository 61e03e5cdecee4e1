"""The Prefect flow end to end under one session-scoped temporary API, and the deployment file."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml
from prefect import Flow

from tests.conftest import Store

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
def test_run_relationship_flow_scores_every_cycle(
    vm_env: Store, prefect_harness: None, demo_copy: Path
) -> None:
    from flows.run_relationship import run_relationship

    demo = demo_copy.parent
    results = run_relationship(str(demo_copy))

    assert [r["cycle"] for r in results] == [1, 2, 3]
    assert [r["mode"] for r in results] == ["resolve", "solve", "dissolve"]
    for r in results:
        (source,) = r["sources"]
        assert source["status"] == "loaded"
        assert source["evaluations"] > 0
        assert source["quarantined"] == 0
        assert r["scored_cells"] == 16 * 12

    # a bad file fails only its source, with one line, and the flow still scores the cycle
    (demo / "responses" / "cycle-2.csv").write_text("not,a,qualtrics,export\r\n", encoding="utf-8")
    again = run_relationship(str(demo / "relationship.yaml"), cycles=[2])
    (source,) = again[0]["sources"]
    assert source["status"] == "failed"
    assert "cycle-2.csv" in source["error"]
    assert again[0]["scored_cells"] == 16 * 12


@pytest.mark.flow
@pytest.mark.store
def test_a_flow_run_whose_audit_finds_a_leak_fails(
    vm_env: Store, prefect_harness: None, demo_copy: Path
) -> None:
    from sqlalchemy import select

    from flows.run_relationship import run_relationship
    from tests.test_audit import show_groups_as_the_old_rule_did
    from vm_core.audit import AnonymityLeak
    from vm_core.models import Cycle, ValueCode

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
