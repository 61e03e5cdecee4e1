"""The columnar path scores exactly what the first slice scored (row-wise parse, SQL store).

The golden files in ``tests/fixtures/golden`` were written by the first slice's pipeline
(commit 66cc1d4, before the lake): the demo's three cycles, and two generated Qualtrics exports
(``bench/generate_export.py`` with seeds 1 and 2). Every score row — counts, means, consensus,
agreement and what is suppressed — must come out the same.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO
from vm_core.config import load_config
from vm_core.ingest import modelling
from vm_core.read.scores import read_scores
from vm_core.run import pipeline
from vm_core.run.orchestration import LocalSteps, run_relationship
from vm_core.settings import Settings

GOLDEN = REPO / "tests" / "fixtures" / "golden"
CASES = {
    "demo": REPO / "examples" / "demo" / "relationship.yaml",
    "export_300x8": GOLDEN / "export_300x8" / "relationship.yaml",
    "export_1000x10": GOLDEN / "export_1000x10" / "relationship.yaml",
}


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b or (pd.isna(a) and pd.isna(b))  # type: ignore[call-overload]


@pytest.mark.parametrize("case", sorted(CASES))
def test_scores_equal_the_first_slice(case: str, tmp_path: Path) -> None:
    settings = Settings.from_env({"VM_HOME": str(tmp_path / "home"), "VM_SECRET": "golden"})
    config = load_config(CASES[case])
    run_relationship(config, LocalSteps(settings))
    assert_golden_scores(settings, config.key, case)


@pytest.mark.parametrize("case", ["demo", "export_300x8"])
def test_scores_are_the_same_modelled_a_few_respondents_at_a_time(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Modelling streams batch by batch: batches of a handful of respondents give the very same scores."""
    monkeypatch.setattr(modelling, "ROW_GROUP", 97)  # 6 demo respondents (16 Value Codes) per batch
    settings = Settings.from_env({"VM_HOME": str(tmp_path / "home"), "VM_SECRET": "golden"})
    config = load_config(CASES[case])
    run_relationship(config, LocalSteps(settings))
    assert_golden_scores(settings, config.key, case)


def assert_golden_scores(settings: Settings, relationship_key: str, case: str) -> None:
    """The stored scores of ``relationship_key`` are the golden ones of ``case`` (the secret must be "golden")."""
    with pipeline.open_store(settings)() as session:
        got = read_scores(session, relationship_key)
    want = pd.read_csv(GOLDEN / f"{case}.scores.csv", keep_default_na=True)
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    got = got.astype(object).where(got.notna(), None)
    want = want.astype(object).where(want.notna(), None)
    for (_, g), (_, w) in zip(got.iterrows(), want.iterrows(), strict=True):
        for column in want.columns:
            gv, wv = g[column], w[column]
            if isinstance(wv, float) or isinstance(gv, float):
                gv = float("nan") if gv is None else float(gv)
                wv = float("nan") if wv is None else float(wv)
            elif wv is not None and gv is not None:
                gv, wv = str(gv), str(wv)
            assert _same(gv, wv), (
                f"{case}: {column} of {w['cycle']}/{w['value_code']}/{w['group']}: {gv} != {wv}"
            )
