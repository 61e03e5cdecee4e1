"""The relationship configuration: what a data engineer writes, and the one-line errors they get back."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from vm_core.config import load_config
from vm_core.errors import ConfigError
from vm_core.ingest.mapping import (
    BLANK,
    UNRECOGNISED,
    LevelParser,
    PartyRule,
    PerspectiveRule,
    match_party,
    match_perspective,
)
from vm_core.settings import Settings

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo" / "relationship.yaml"


def _write(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "relationship.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_the_demo_configuration_loads() -> None:
    config = load_config(DEMO)
    assert config.key == "northwind-contoso"
    assert [c.mode for c in config.cycles] == ["resolve", "solve", "dissolve"]
    assert [p.key for p in config.parties] == ["northwind", "contoso"]
    assert config.levels["Not applicable"] is None
    source = config.cycle(2).sources[0]
    assert source.path == DEMO.parent / "responses" / "cycle-2.csv"  # relative to the file


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["relationship"].update(min_group_size=2),
            "relationship.min_group_size: must be at least 3",
        ),
        (lambda d: d["cycles"][0].update(mode="resolving"), "cycles[0].mode: must be one of resolve, solve"),
        (lambda d: d["equivalences"][0].update(party="acme"), "equivalences[0].party: unknown party 'acme'"),
        (lambda d: d["equivalences"][0].update(perspective="board"), "unknown perspective 'board'"),
        (lambda d: d["cycles"][0].update(opens="March 2024"), "cycles[0].opens: is not a date (YYYY-MM-DD)"),
        (lambda d: d["levels"].update({"Meh": 9}), "levels.Meh: must be a level 1-5 or null"),
        (lambda d: d["cycles"].append(d["cycles"][0]), "cycles: duplicate cycle number"),
        (lambda d: d.pop("parties"), "parties: at least one party is required"),
        (lambda d: d["relationship"].pop("key"), "relationship.key: is required"),
    ],
)
def test_a_bad_configuration_gets_one_line_naming_file_and_key(tmp_path: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as error:
        load_config(_write(tmp_path, change))
    assert str(error.value).startswith("relationship.yaml: ")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_asking_for_a_cycle_that_is_not_configured() -> None:
    with pytest.raises(ConfigError, match=r"no cycle 7 \(configured: 1, 2, 3\)"):
        load_config(DEMO).cycle(7)


def test_parties_and_perspectives_match_wildcards_in_order_ignoring_case_and_spacing() -> None:
    parties = [PartyRule("client", ("Northwind Council", "Northwind*")), PartyRule("supplier", ("Contoso*",))]
    assert match_party("  northwind   borough council ", parties) == "client"
    assert match_party("CONTOSO Services Ltd", parties) == "supplier"
    assert match_party("Fabrikam", parties) is None
    assert match_party("", parties) is None
    rules = [
        PerspectiveRule("client", "Chief Executive", "senior"),
        PerspectiveRule(None, "*Director", "senior"),
        PerspectiveRule(None, "*Manager", "middle"),
        PerspectiveRule("supplier", "*Agent", "front_line"),
    ]
    assert match_perspective("client", "chief executive", rules) == "senior"
    assert match_perspective("supplier", "Chief Executive", rules) is None  # that rule is the client's only
    assert match_perspective("supplier", "Account Director", rules) == "senior"
    assert match_perspective("client", "Service Manager", rules) == "middle"
    assert match_perspective("client", "Service Agent", rules) is None
    assert match_perspective("client", None, rules) is None


def test_answers_become_levels() -> None:
    parser = LevelParser(
        {"Not applicable": None, "3 - Acceptable": 3},
        {"VC": {"what good looks like": 5, "the contract is run to the letter.": 1}},
    )
    assert parser.parse("VC", None) is BLANK  # unanswered, apart from an explicit "no level"
    assert parser.parse("VC", "   ") is BLANK
    assert parser.parse("VC", "not  APPLICABLE") is None
    assert parser.parse("VC", "3 - acceptable") == 3
    assert parser.parse("VC", "4") == 4
    assert parser.parse("VC", "4.0") == 4
    assert parser.parse("VC", "7") == 7  # a number is passed on: the contract reports it out of range
    assert parser.parse("VC", "What good looks like") == 5
    assert parser.parse("VC", "The contract is run  to the letter.") == 1
    assert parser.parse("VC", "Excellent") is UNRECOGNISED
    assert parser.parse("VC", "-1") == -1  # a number below 1: the contract reports it out of range
    assert (
        parser.parse("OTHER", "What good looks like") is UNRECOGNISED
    )  # statements belong to their own Value Code


def test_the_installation_secret_is_created_once_and_private(tmp_path: Path) -> None:
    settings = Settings.from_env({"VM_HOME": str(tmp_path / "home")})
    first = settings.secret()
    assert len(first) == 64
    assert settings.secret() == first
    mode = (tmp_path / "home" / "secret.key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert Settings.from_env({"VM_HOME": str(tmp_path / "home"), "VM_SECRET": "x"}).secret() == b"x"


def test_the_store_setting_picks_the_landing() -> None:
    embedded = Settings.from_env({"VM_HOME": "h"})
    assert embedded.database_url.startswith("sqlite:///")
    assert embedded.landing == "duckdb"
    server = Settings.from_env({"VM_DATABASE_URL": "postgresql+psycopg://u@db/vm"})
    assert server.landing == "store"
    with pytest.raises(ValueError, match="VM_LANDING must be"):
        Settings.from_env({"VM_LANDING": "s3"})
