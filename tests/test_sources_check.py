"""`vm sources check`: every source read and modelled as a run would, and nothing written anywhere."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from collections import Counter
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, inspect, select, text

from tests.conftest import REPO, Store
from tests.test_survey_exports import STAR_WARS, STAR_WARS_CONFIG
from vm_cli.main import main
from vm_core.config import load_config
from vm_core.run.check import SourceCheck, check_relationship
from vm_core.run.orchestration import LocalSteps, run_relationship
from vm_core.settings import Settings
from vm_core.store.models import LibraryVersion

#: the column of STAR_WARS holding the organisation (census region), and the one answering REL-TRUST
REGION, HAN_SOLO = 37, 15
NOT_A_LEVEL = "answer is not a level 1–5, a level label or statement of REL-TRUST, nor listed under `levels:`"


def star_wars(tmp_path: Path) -> Path:
    folder = tmp_path / "sw"
    folder.mkdir()
    shutil.copy(REPO / "examples" / "demo" / "library.csv", folder / "library.csv")
    shutil.copy(STAR_WARS, folder / STAR_WARS.name)
    config = folder / "relationship.yaml"
    config.write_text(STAR_WARS_CONFIG, encoding="utf-8")
    return config


def snapshot(store: Store) -> tuple[dict[str, list[tuple[object, ...]]], dict[str, str]]:
    """Every row of every store table, and every file under VM_HOME with its SHA-256."""
    with store.engine.connect() as conn:
        tables = sorted(inspect(conn).get_table_names())
        rows = {t: sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{t}"'))), key=repr) for t in tables}
    files = {
        str(p.relative_to(store.settings.home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(store.settings.home.rglob("*"))
        if p.is_file() and not p.name.startswith("vm.sqlite")  # the store's bytes: compared as rows above
    }
    return rows, files


def test_check_counts_what_a_run_stores_and_writes_nothing(store: Store, tmp_path: Path) -> None:
    config = load_config(star_wars(tmp_path))
    with STAR_WARS.open(newline="", encoding="mac_roman") as fh:
        rows = list(csv.reader(fh))[2:]
    no_region = sum(1 for r in rows if not r[REGION].strip())
    before = snapshot(store)

    (checked,) = check_relationship(store.settings, config)

    assert snapshot(store) == before
    assert checked.error is None
    assert (checked.files, checked.rows_read, checked.dropped) == ([STAR_WARS.name], 150, {})
    assert checked.without_party == no_region == 12
    assert {(s.reason, s.column): s.answers for s in checked.set_aside} == {
        ("no organisation given", "Please state whether you view the following characters favorably, "
         "unfavorably, or are unfamiliar with him/her. | Han Solo"): no_region,
        (NOT_A_LEVEL, "Please state whether you view the following characters favorably, unfavorably, "
         "or are unfamiliar with him/her. | Han Solo"): 1,
    }  # fmt: skip
    unfamiliar = sum(1 for r in rows if r[REGION].strip() and r[HAN_SOLO] == "Unfamiliar (N/A)")
    assert checked.answers == {"REL-TRUST": 150 - no_region - 1}
    assert checked.no_level == {
        "REL-TRUST": unfamiliar + sum(1 for r in rows if r[REGION].strip() and not r[HAN_SOLO])
    }

    (run,) = run_relationship(config, LocalSteps(store.settings)).cycles[0].sources
    assert (run.rows_read, run.evaluations, run.participants) == (
        checked.rows_read,
        sum(checked.answers.values()),
        checked.respondents,
    )
    assert run.reasons == dict(Counter({s.reason: s.answers for s in checked.set_aside}))

    # the cycle's library version from the store (only read) when the configuration names no file for it
    after_run = snapshot(store)
    stored = config.path.read_text(encoding="utf-8").replace("file: library.csv, ", "")
    config.path.write_text(stored, encoding="utf-8")
    (again,) = check_relationship(store.settings, load_config(config.path))
    assert snapshot(store) == after_run
    assert (again.error, again.answers, again.set_aside) == (None, checked.answers, checked.set_aside)
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LibraryVersion)) == 1


def test_check_before_any_run_creates_no_store_lake_or_secret(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = Settings.from_env({"VM_HOME": str(home)})
    (checked,) = check_relationship(settings, load_config(star_wars(tmp_path)))
    assert checked.error is None
    assert checked.rows_read == 150
    assert not home.exists()


def test_check_a_library_version_nowhere_is_that_sources_error(tmp_path: Path) -> None:
    config = star_wars(tmp_path)
    config.write_text(
        config.read_text(encoding="utf-8").replace("mode: resolve", 'mode: resolve\n    library_version: "2"')
    )
    settings = Settings.from_env({"VM_HOME": str(tmp_path / "home")})
    (checked,) = check_relationship(settings, load_config(config))
    assert checked.error == (
        "relationship.yaml: library 'sw' version '2' is not in the store; "
        "import it with `vm library import FILE --key sw --version 2`"
    )
    assert not (tmp_path / "home").exists()


def test_cli_reports_every_source_and_exits_1_when_one_fails(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(REPO / "examples" / "demo", demo, ignore=shutil.ignore_patterns("*.py"))
    config = demo / "relationship.yaml"
    # cycle 2's export replaced by a SurveyMonkey file: that source fails, the others are still tried
    shutil.copy(STAR_WARS, demo / "responses" / "cycle-2.csv")
    home = tmp_path / "home"
    result = CliRunner().invoke(main, ["sources", "check", str(config)], env={"VM_HOME": str(home)})

    assert result.exit_code == 1
    out = result.stdout
    assert (
        "cycle 1 · diagnostic (qualtrics_csv) [cycle-1.csv]: 242 rows would be read, dropped 2 preview" in out
    )
    assert (
        "cycle 2 · diagnostic (qualtrics_csv) [cycle-2.csv]: FAILED — cycle-2.csv, row 1: "
        "this looks like a SurveyMonkey export; use `surveymonkey_csv`"
    ) in out
    assert "cycle 3 · diagnostic (qualtrics_csv) [cycle-3.csv]: 240 rows would be read" in out
    assert "  answers it would store: 3840 (167 without a level) from 240 respondent(s)" in out
    assert "    GOV-DIRECTION: 240 (18 without a level)" in out
    assert "  answers it would quarantine: 0" in out
    # job titles held by fewer than the minimum group size are counted, never shown
    assert "  no perspective — contoso: 2 job titles held by fewer than 5 people each: 6 respondent(s)" in out
    assert "Error: 1 of 3 sources cannot be read" in result.stderr
    assert re.findall(r"^cycle \d · diagnostic: cycle-\d\.csv…$", result.stderr, re.M) == [
        "cycle 1 · diagnostic: cycle-1.csv…",
        "cycle 2 · diagnostic: cycle-2.csv…",
        "cycle 3 · diagnostic: cycle-3.csv…",
    ]
    assert not (home / "vm.sqlite").exists()
    assert not (home / "lake").exists()
    assert not (home / "secret.key").exists()


def test_cli_json_and_exit_0(tmp_path: Path) -> None:
    config = star_wars(tmp_path)
    result = CliRunner().invoke(
        main, ["sources", "check", str(config), "--format", "json"], env={"VM_HOME": str(tmp_path / "home")}
    )
    assert result.exit_code == 0, result.output
    (found,) = json.loads(result.stdout)
    checked = SourceCheck(**{**found, "set_aside": []})
    assert (checked.source_key, checked.connector, checked.rows_read) == ("sw", "surveymonkey_csv", 150)
    assert found["without_party"] == 12
    assert sum(s["answers"] for s in found["set_aside"]) == 13
    # counts and names only: no answer or organisation as written reaches the report
    assert "Somewhat unfavorably" not in result.stdout
    assert "Atlantic" not in result.stdout
