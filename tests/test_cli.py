"""The `vm` command as a data engineer uses it."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tests.conftest import Store
from vm_cli.main import DEMO_CONFIG, main
from vm_core.scoring import SCORE_COLUMNS


def test_help_imports_nothing_heavy() -> None:
    """`vm --help` must answer instantly: the CLI module may not import the data stack."""
    probe = (
        "import sys, vm_cli.main; heavy = [m for m in ('prefect', 'dlt', 'pandas', 'sqlalchemy', "
        "'streamlit', 'duckdb', 'pandera') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["run"],
        ["scores"],
        ["findings"],
        ["init"],
        ["library"],
        ["library", "import"],
        ["demo"],
        ["app"],
        ["actions"],
        ["actions", "list"],
        ["actions", "add"],
        ["actions", "update"],
        ["actions", "history"],
        ["actions", "export"],
        ["actions", "effect"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output
    assert len(result.output.splitlines()) > 3


def test_the_action_status_help_names_every_status() -> None:
    """The CLI spells the statuses out in its help without importing the models (`vm --help` stays fast)."""
    from vm_cli.main import ACTION_STATUS_HELP
    from vm_core.store.models import ACTION_STATUSES

    assert ", ".join(ACTION_STATUSES) == ACTION_STATUS_HELP


def test_init_scaffolds_a_configuration_that_loads(tmp_path: Path) -> None:
    from vm_core.config import load_config
    from vm_core.store.library import parse_library

    result = CliRunner().invoke(main, ["init", str(tmp_path / "acme"), "--key", "acme"])
    assert result.exit_code == 0, result.output
    config = load_config(tmp_path / "acme" / "relationship.yaml")
    assert config.key == "acme"
    assert config.cycles[0].sources[0].connector == "qualtrics_csv"
    assert config.library.file is not None
    assert parse_library(config.library.file).value_codes
    again = CliRunner().invoke(main, ["init", str(tmp_path / "acme")])
    assert again.exit_code != 0
    assert "already exists" in again.output


@pytest.mark.store
def test_run_then_scores_as_csv_json_and_table(vm_env: Store) -> None:
    runner = CliRunner()
    ran = runner.invoke(main, ["run", str(DEMO_CONFIG), "--cycle", "1", "--no-prefect"])
    assert ran.exit_code == 0, ran.output
    assert "Cycle 1 (resolve)" in ran.output
    assert "suppressed" in ran.output

    out = runner.invoke(
        main, ["scores", "--relationship", "northwind-contoso", "--cycle", "1", "--format", "csv"]
    )
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert tuple(rows[0]) == SCORE_COLUMNS
    assert len(rows) == 16 * 12
    hidden = [r for r in rows if r["suppressed"] == "true"]
    assert hidden
    assert all(r["mean"] == "" and r["l1"] == "" and r["consensus"] == "" for r in hidden)

    as_json = json.loads(runner.invoke(main, ["scores", "--format", "json"]).output)
    assert len(as_json) == 16 * 12
    table = runner.invoke(main, ["scores"]).output
    assert "REL-OPENNESS" in table


@pytest.mark.store
def test_scores_print_without_the_data_frame_stack(vm_env: Store) -> None:
    """`vm scores` reads, re-checks anonymity and prints through SQLAlchemy alone: importing pandas,
    pyarrow, duckdb (or pluggy, Alembic, SciPy) would cost most of its start-up (bench/README.md)."""
    ran = CliRunner().invoke(main, ["run", str(DEMO_CONFIG), "--cycle", "1", "--no-prefect"])
    assert ran.exit_code == 0, ran.output
    probe = (
        "import sys; from vm_cli.main import main\n"
        "try:\n"
        "    main(['scores', '--relationship', 'northwind-contoso', '--cycle', '1'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = ('pandas', 'pyarrow', 'duckdb', 'pluggy', 'alembic', 'scipy', 'prefect', 'dlt')\n"
        "print([m for m in heavy if m in sys.modules], file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "REL-OPENNESS" in out.stdout
    assert out.stderr.strip() == "[]"


def test_scores_on_an_empty_store_says_what_to_do(vm_env: Store) -> None:
    out = CliRunner().invoke(main, ["scores"])
    assert out.exit_code != 0
    assert "vm run" in out.output


def test_run_reports_a_bad_config_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "relationship.yaml"
    bad.write_text("relationship: {key: x}\nlibrary: {version: 1}\nparties: []\n", encoding="utf-8")
    out = CliRunner().invoke(main, ["run", str(bad), "--no-prefect"])
    assert out.exit_code != 0
    assert "relationship.yaml: parties: at least one party is required" in out.output


@pytest.mark.flow
def test_demo_runs_on_a_fresh_folder(tmp_path: Path, prefect_harness: None) -> None:
    """`vm demo --no-app` from an empty folder: three cycles through the Prefect flow, summary printed.

    The flow reports to the session's Prefect server (``PREFECT_API_URL``, as the README says a
    deployment would), so the test does not pay for a temporary server of its own.
    """
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith(("VM_", "PREFECT_"))}
    env["VM_HOME"] = str(tmp_path / "fresh" / ".vm")  # nothing of it exists yet
    env["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
    done = subprocess.run(
        [sys.executable, "-m", "vm_cli.main", "demo", "--no-app"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for cycle in ("Cycle 1 (resolve)", "Cycle 2 (solve)", "Cycle 3 (dissolve)"):
        assert cycle in done.stdout
    assert "responses read" in done.stdout
    assert "suppressed to protect anonymity" in done.stdout
    assert (tmp_path / "fresh" / ".vm" / "vm.sqlite").exists()


def test_library_import_list_and_export(vm_env: Store, tmp_path: Path) -> None:
    runner = CliRunner()
    demo_library = DEMO_CONFIG.parent / "library.csv"
    done = runner.invoke(main, ["library", "import", str(demo_library), "--version", "2024.1"])
    assert done.exit_code == 0, done.output
    assert "imported 16 Value Codes in 4 sections as library 2024.1" in done.output
    assert "library  2024.1  16 Value Codes" in runner.invoke(main, ["library", "list"]).output
    exported = tmp_path / "out.xlsx"
    assert runner.invoke(main, ["library", "export", "library", "2024.1", str(exported)]).exit_code == 0
    assert exported.stat().st_size > 0


def test_library_import_names_each_bad_row(vm_env: Store, tmp_path: Path) -> None:
    rows = (DEMO_CONFIG.parent / "library.csv").read_text(encoding="utf-8").splitlines()
    header = rows[0].split(",")
    broken = next(csv.reader([rows[2]]))
    broken[header.index("Evaluation Statement 3")] = ""
    bad = tmp_path / "bad.csv"
    out = io.StringIO()
    csv.writer(out).writerows([header, next(csv.reader([rows[1]])), broken])
    bad.write_text(out.getvalue(), encoding="utf-8")
    done = CliRunner().invoke(main, ["library", "import", str(bad)])
    assert done.exit_code != 0
    assert "bad.csv, row 3, column 'Evaluation Statement 3'" in done.output


@pytest.mark.store
def test_quarantine_lists_each_kept_aside_row(vm_env: Store, tmp_path: Path) -> None:
    import shutil

    demo = tmp_path / "demo"
    shutil.copytree(DEMO_CONFIG.parent, demo, ignore=shutil.ignore_patterns("*.py"))
    export = demo / "responses" / "cycle-1.csv"
    with export.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    status, q5 = rows[0].index("Status"), rows[0].index("Q5")
    target = next(i for i, r in enumerate(rows) if i >= 3 and r[status] != "Survey Preview")
    rows[target][q5] = "Brilliant"
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    export.write_text(out.getvalue(), encoding="utf-8", newline="")

    runner = CliRunner()
    ran = runner.invoke(main, ["run", str(demo / "relationship.yaml"), "--cycle", "1", "--no-prefect"])
    assert ran.exit_code == 0, ran.output
    assert "1 quarantined" in ran.output
    listed = runner.invoke(main, ["quarantine", "--cycle", "1"])
    assert (
        f"cycle-1.csv, row {target + 1}, column 'Q5' [text, 9 characters]: answer is not a level"
        in listed.output
    )
    as_csv = list(csv.DictReader(io.StringIO(runner.invoke(main, ["quarantine", "--format", "csv"]).output)))
    # masked: what people wrote stays in the store
    assert [r["value"] for r in as_csv] == ["text, 9 characters"]
    revealed = runner.invoke(main, ["quarantine", "--format", "csv", "--reveal-values"])
    assert [r["value"] for r in csv.DictReader(io.StringIO(revealed.stdout))] == ["Brilliant"]


@pytest.mark.store
def test_a_source_that_cannot_be_read_fails_alone_with_one_line(vm_env: Store, demo_copy: Path) -> None:
    demo = demo_copy.parent
    (demo / "responses" / "cycle-2.csv").write_bytes(b"\xff\xfe not a survey export")
    ran = CliRunner().invoke(main, ["run", str(demo_copy), "--no-prefect"])
    assert ran.exit_code == 1
    lines = ran.output.splitlines()
    progress = [
        i
        for i, line in enumerate(lines)
        if line.startswith("cycle 1 · diagnostic: ") and "cycle-1.csv" in line
    ]
    assert progress[0] < lines.index("Cycle 1 (resolve)")  # progress as it goes
    assert "diagnostic [cycle-2.csv]: FAILED — cycle-2.csv, row 1: not UTF-8 text" in ran.output
    assert "Cycle 3 (dissolve)" in ran.output  # the other cycles went on, were scored and audited
    assert "diagnostic [cycle-3.csv]: " in ran.output
    assert "anonymity audit: " in ran.output
    last = ran.output.strip().splitlines()[-1]
    assert last.startswith("Error: 1 of 3 sources failed: cycle 2 · diagnostic: cycle-2.csv, row 1: ")
    assert last.endswith("; what was committed before stays as it was")


@pytest.mark.store
def test_a_changed_mapping_is_remodelled_without_the_file(vm_env: Store, demo_copy: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["run", str(demo_copy), "--cycle", "1", "--no-prefect"])
    assert first.exit_code == 0, first.output
    assert "unmapped role (no perspective) — contoso" in first.output  # the apprentices
    config = yaml.safe_load(demo_copy.read_text(encoding="utf-8"))
    config["equivalences"].insert(0, {"party": "contoso", "role": "*Apprentice", "perspective": "front_line"})
    demo_copy.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (demo_copy.parent / "responses" / "cycle-1.csv").unlink()  # re-modelling reads the lake, not the file

    again = runner.invoke(main, ["run", str(demo_copy), "--cycle", "1", "--no-prefect"])

    assert again.exit_code == 0, again.output
    assert "diagnostic [cycle-1.csv]: re-modelled from the landed data" in again.output
    assert "unmapped role" not in again.output
