"""A configuration you can trust: misspelt keys, connector options and Value Codes fail at load with one
line naming file and key path; sources may be a file, a folder or a glob; and nothing removed from the
configuration rewrites the past."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from tests.conftest import Store
from vm_core.config import check_value_codes, load_config
from vm_core.errors import ConfigError
from vm_core.ingest.connector import SourceSpec
from vm_core.run import pipeline
from vm_core.run.orchestration import LocalSteps, run_relationship
from vm_core.store.library import import_library, parse_library
from vm_core.store.models import InvitedCount, LakeFile, Party, Perspective, Relationship, Score
from vm_core.store.relationships import active_parties, active_perspectives

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo" / "relationship.yaml"


def _edit(path: Path, change: Any) -> Path:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _write(tmp_path: Path, change: Any) -> Path:
    """The demo configuration, changed, in a folder without its library file."""
    path = tmp_path / "relationship.yaml"
    path.write_text(DEMO.read_text(encoding="utf-8"), encoding="utf-8")
    return _edit(path, change)


def _source(d: dict[str, Any], cycle: int = 0) -> dict[str, Any]:
    source: dict[str, Any] = d["cycles"][cycle]["sources"][0]
    return source


def _options(d: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = _source(d)["options"]
    return options


def _error(path: Path) -> str:
    with pytest.raises(ConfigError) as error:
        load_config(path)
    return str(error.value)


# --- unknown keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(cycle=[]), "cycle: unknown key; did you mean 'cycles'?"),
        (
            lambda d: d["relationship"].update(min_grp_size=5),
            "relationship.min_grp_size: unknown key; did you mean 'min_group_size'?",
        ),
        (
            lambda d: d["relationship"]["agreement"].update(agreed_min_consenus=0.9),
            "relationship.agreement.agreed_min_consenus: unknown key; did you mean 'agreed_min_consensus'?",
        ),
        (lambda d: d["library"].update(versoin="1"), "library.versoin: unknown key; did you mean 'version'?"),
        (
            lambda d: d["parties"][1].update(matches=["C*"]),
            "parties[1].matches: unknown key; did you mean 'match'?",
        ),
        (
            lambda d: d["perspectives"][0].update(colour="red"),
            "perspectives[0].colour: unknown key; known keys: key, name",
        ),
        (
            lambda d: d["equivalences"][2].update(roles="x"),
            "equivalences[2].roles: unknown key; did you mean 'role'?",
        ),
        (
            lambda d: d["cycles"][1].update(source=[]),
            "cycles[1].source: unknown key; did you mean 'sources'?",
        ),
        (
            lambda d: _source(d).update(conector="csv_long"),
            "cycles[0].sources[0].conector: unknown key; did you mean 'connector'?",
        ),
        (
            lambda d: d["cycles"][2]["invited"].update(contso={"all": 3}),
            "cycles[2].invited.contso: unknown party; did you mean 'contoso'?",
        ),
        (
            lambda d: d["cycles"][0]["invited"]["northwind"].update(seniors=3),
            "cycles[0].invited.northwind.seniors: unknown perspective; did you mean 'senior'?",
        ),
        (
            lambda d: d["cycles"][0]["invited"]["northwind"].update(senior=-1),
            "cycles[0].invited.northwind.senior: must be 0 or more people, not -1",
        ),
        (
            lambda d: d["equivalences"][0].update(perspective="seniors"),
            "equivalences[0].perspective: unknown perspective 'seniors'; did you mean 'senior'?",
        ),
    ],
)
def test_an_unknown_key_is_an_error_with_the_nearest_known_one(
    tmp_path: Path, change: Any, message: str
) -> None:
    assert _error(_write(tmp_path, change)) == f"relationship.yaml: {message}"


def test_levels_are_free_text_and_invited_all_is_a_group(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["levels"]["Weet ik niet"] = None
        d["cycles"][0]["invited"]["contoso"] = {"all": 160}

    config = load_config(_write(tmp_path, change))
    assert config.levels["Weet ik niet"] is None
    assert config.cycles[0].invited["contoso"] == {"all": 160}


# --- agreement thresholds --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"agreed_min_consensus": 1.5}, "agreed_min_consensus: must be a number from 0 to 1, not 1.5"),
        ({"divided_min_end_share": -0.1}, "divided_min_end_share: must be a number from 0 to 1, not -0.1"),
        ({"agreed_min_consensus": "high"}, "agreed_min_consensus: must be a number, not str 'high'"),
        ({"agreed_min_consensus": True}, "agreed_min_consensus: must be a number, not bool True"),
        (
            {"agreed_min_consensus": 0.5, "divided_max_consensus": 0.5},
            ": divided_max_consensus (0.5) must be below agreed_min_consensus (0.5)",
        ),
        (
            {"divided_min_end_share": 0.6},
            ": divided_min_end_share must be at most 0.5 (both ends must be able to reach it), got 0.6",
        ),
    ],
)
def test_agreement_thresholds_are_checked_at_load(
    tmp_path: Path, values: dict[str, Any], message: str
) -> None:
    path = _write(tmp_path, lambda d: d["relationship"]["agreement"].update(values))
    sep = "" if message.startswith(":") else "."
    assert _error(path) == f"relationship.yaml: relationship.agreement{sep}{message}"


def test_agreement_keeps_what_the_file_sets(tmp_path: Path) -> None:
    config = load_config(
        _write(tmp_path, lambda d: d["relationship"].update(agreement={"agreed_min_consensus": 1}))
    )
    assert config.agreement == {"agreed_min_consensus": 1.0}


# --- connectors and their options ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: _source(d).update(connector="qualtrics"),
            "connector: unknown connector 'qualtrics'; did you mean 'qualtrics_csv'? "
            "(available: csv_long, google_forms_csv, qualtrics_csv, surveymonkey_csv)",
        ),
        (
            lambda d: _source(d).update(connector="typeform"),
            "connector: unknown connector 'typeform' "
            "(available: csv_long, google_forms_csv, qualtrics_csv, surveymonkey_csv)",
        ),
        (
            lambda d: _options(d).update(role_colum="Role"),
            "options.role_colum: unknown key; did you mean 'role_column'?",
        ),
        (
            lambda d: _source(d).update(connector="csv_long", options={"delimeter": ";"}),
            "options.delimeter: unknown key; did you mean 'delimiter'?",
        ),
        (
            lambda d: _options(d).update(questions=["QID1"]),
            "options.questions: must be a mapping, not list ['QID1']",
        ),
        (
            lambda d: _options(d).update(keep_columns="Name"),
            "options.keep_columns: must be a list, not str 'Name'",
        ),
        (lambda d: _options(d).update(role_column=7), "options.role_column: must be text, not int 7"),
        (
            lambda d: _options(d)["questions"].update(QID1=5),
            "options.questions.QID1: must be a Value Code identifier, not int 5",
        ),
    ],
)
def test_connector_and_options_are_checked_at_load(tmp_path: Path, change: Any, message: str) -> None:
    assert _error(_write(tmp_path, change)) == f"relationship.yaml: cycles[0].sources[0].{message}"


def test_value_codes_in_options_are_checked_against_the_library_file(demo_copy: Path) -> None:
    _edit(demo_copy, lambda d: _options(d)["questions"].update(QID9="DEL-SERVIC"))
    assert _error(demo_copy) == (
        "relationship.yaml: cycles[0].sources[0].options.questions.QID9: 'DEL-SERVIC' is not a Value Code of "
        "library 'northwind-contoso' version '2024.1' (did you mean 'DEL-SERVICE'?)"
    )
    _edit(demo_copy, lambda d: _options(d)["questions"].update(QID9="DEL-SERVICE"))
    _edit(demo_copy, lambda d: _options(d)["comments"].update(QID20_TEXT="ZZZ"))
    assert _error(demo_copy) == (
        "relationship.yaml: cycles[0].sources[0].options.comments.QID20_TEXT: 'ZZZ' is not a Value Code of "
        "library 'northwind-contoso' version '2024.1'"
    )
    # as the connectors match them: ignoring case and surrounding spaces
    _edit(demo_copy, lambda d: _options(d)["comments"].update(QID20_TEXT=" val-commercial "))
    load_config(demo_copy)


def test_value_codes_of_a_version_not_in_the_file_wait_for_the_store(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        _options(d)["questions"]["QID9"] = "VC99"
        for cycle in d["cycles"]:
            cycle["library_version"] = "2025.1"  # only the store can say what this version holds

    config = load_config(_write(tmp_path, change))  # and the library file is not there: nothing to check
    check_value_codes(config, {"2024.1": {"VC09"}})  # a version no cycle uses
    with pytest.raises(ConfigError) as error:
        check_value_codes(config, {"2025.1": {"VC09", "DEL-SERVICE"}})
    assert str(error.value).startswith(
        "relationship.yaml: cycles[0].sources[0].options.questions.QID1: 'GOV-DIRECTION' is not a Value Code"
    )
    codes = {code for cycle in config.cycles for code in _codes(cycle.sources[0])}
    with pytest.raises(ConfigError) as error:
        check_value_codes(config, {"2025.1": codes - {"VC99"} | {"VC09"}})
    assert str(error.value) == (
        "relationship.yaml: cycles[0].sources[0].options.questions.QID9: 'VC99' is not a Value Code of "
        "library 'northwind-contoso' version '2025.1' (did you mean 'VC09'?)"
    )


def _codes(source: SourceSpec) -> set[str]:
    return {*source.options["questions"].values(), *source.options["comments"].values()}


@pytest.mark.store
def test_prepare_checks_value_codes_against_the_library_in_the_store(store: Store, tmp_path: Path) -> None:
    with store.sessions() as s, s.begin():
        import_library(
            s,
            parse_library(DEMO.parent / "library.csv"),
            key="northwind-contoso",
            source_name="library.csv",
            name="Demo",
            version="2024.1",
        )

    def change(d: dict[str, Any]) -> None:
        d["library"].pop("file")
        _options(d)["questions"]["QID9"] = "DEL-SERVIC"

    config = load_config(_write(tmp_path, change))
    with pytest.raises(ConfigError) as error:
        pipeline.prepare(store.settings, config)
    assert str(error.value) == (
        "relationship.yaml: cycles[0].sources[0].options.questions.QID9: 'DEL-SERVIC' is not a Value Code of "
        "library 'northwind-contoso' version '2024.1' (did you mean 'DEL-SERVICE'?)"
    )
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Relationship)) == 0  # nothing half-prepared


# --- sources: a file, a folder or a glob -----------------------------------------------------------


def _spec(path: Path) -> SourceSpec:
    return SourceSpec("s", "csv_long", path, where="relationship.yaml: cycles[0].sources[0]")


def test_a_source_is_a_file_a_folder_or_a_glob(tmp_path: Path) -> None:
    folder = tmp_path / "responses"
    (folder / "old").mkdir(parents=True)
    for name in ("b.csv", "a.csv", "c.txt", ".hidden.csv", "old/z.csv"):
        (folder / name).write_text("x", encoding="utf-8")
    assert _spec(folder / "b.csv").files() == [folder / "b.csv"]
    assert _spec(folder).files() == [folder / "a.csv", folder / "b.csv", folder / "c.txt"]
    assert _spec(folder / "*.csv").files() == [folder / "a.csv", folder / "b.csv"]
    assert _spec(tmp_path / "*" / "*.csv").files() == [folder / "a.csv", folder / "b.csv"]
    assert _spec(folder / "**" / "*.csv").files() == [
        folder / "a.csv",
        folder / "b.csv",
        folder / "old" / "z.csv",
    ]


def test_a_source_with_nothing_to_read_fails_when_it_is_read(tmp_path: Path) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / ".keep").write_text("", encoding="utf-8")
    where = "relationship.yaml: cycles[0].sources[0].path"
    cases = {
        tmp_path / "missing.csv": f"{where}: no such file or folder: {tmp_path / 'missing.csv'}",
        tmp_path / "empty": f"{where}: folder has no files: {tmp_path / 'empty'}",
        tmp_path / "*.csv": f"{where}: no file matches {tmp_path / '*.csv'}",
    }
    for path, message in cases.items():
        with pytest.raises(ConfigError) as error:
            _spec(path).files()
        assert str(error.value) == message


def test_a_source_path_may_not_exist_yet_when_the_configuration_loads(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        _source(d, 0)["path"] = "later/cycle-1.csv"
        _source(d, 1)["path"] = "responses"
        _source(d, 2)["path"] = "responses/cycle-3-*.csv"

    config = load_config(_write(tmp_path, change))
    assert [c.sources[0].path for c in config.cycles] == [
        tmp_path / "later" / "cycle-1.csv",
        tmp_path / "responses",
        tmp_path / "responses" / "cycle-3-*.csv",
    ]
    (tmp_path / "responses").mkdir()
    (tmp_path / "responses" / "cycle-3-b.csv").write_text("x", encoding="utf-8")
    (tmp_path / "responses" / "cycle-3-a.csv").write_text("x", encoding="utf-8")
    assert config.cycle(3).sources[0].files() == [
        tmp_path / "responses" / "cycle-3-a.csv",
        tmp_path / "responses" / "cycle-3-b.csv",
    ]
    with pytest.raises(ConfigError) as error:
        config.cycle(1).sources[0].files()
    assert str(error.value).startswith(
        "relationship.yaml: cycles[0].sources[0].path: no such file or folder: "
    )


# --- delivery --------------------------------------------------------------------------------------


def test_delivery_replaces_by_default_and_appends_by_a_key(tmp_path: Path) -> None:
    config = load_config(
        _write(tmp_path, lambda d: _source(d, 1).update(delivery="append", delivery_key="ResponseId"))
    )
    first, second = config.cycle(1).sources[0], config.cycle(2).sources[0]
    assert (first.delivery, first.delivery_key) == ("replace", None)
    assert (second.delivery, second.delivery_key) == ("append", "ResponseId")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"delivery": "appnd"}, "delivery: must be replace or append, not 'appnd'; did you mean 'append'?"),
        (
            {"delivery": "append"},
            "delivery_key: is required with delivery: append (the column identifying a delivered row)",
        ),
        ({"delivery_key": "ResponseId"}, "delivery_key: is only used with delivery: append"),
        ({"delivery": "append", "delivery_key": ["a"]}, "delivery_key: must be text, not list ['a']"),
    ],
)
def test_a_bad_delivery_is_an_error(tmp_path: Path, source: dict[str, Any], message: str) -> None:
    assert _error(_write(tmp_path, lambda d: _source(d).update(source))) == (
        f"relationship.yaml: cycles[0].sources[0].{message}"
    )


# --- nothing removed from the configuration rewrites the past --------------------------------------


def _without_contoso_and_front_line(d: dict[str, Any]) -> None:
    d["parties"] = [p for p in d["parties"] if p["key"] != "contoso"]
    d["perspectives"] = [p for p in d["perspectives"] if p["key"] != "front_line"]
    d["equivalences"] = [
        e for e in d["equivalences"] if e.get("party") != "contoso" and e["perspective"] != "front_line"
    ]
    for cycle in d["cycles"]:
        cycle["invited"] = {"northwind": {"senior": 12, "middle": 40}}


@pytest.mark.store
def test_a_party_or_perspective_that_leaves_the_file_is_retired_and_its_scores_stay(
    store: Store, demo_copy: Path
) -> None:
    config = load_config(demo_copy)
    run_relationship(config, LocalSteps(store.settings), [1])

    def snapshot() -> tuple[list[tuple[Any, ...]], int, int]:
        with store.sessions() as s:
            scores = [
                tuple(row)
                for row in s.execute(
                    select(
                        Score.value_code_id,
                        Score.group_key,
                        Score.n,
                        Score.mean,
                        Score.party_id,
                        Score.perspective_id,
                    ).order_by(Score.value_code_id, Score.group_kind, Score.group_key)
                )
            ]
            evaluations = (
                s.scalar(select(func.sum(LakeFile.rows)).where(LakeFile.table_name == "evaluations")) or 0
            )
            invited = s.scalar(select(func.count()).select_from(InvitedCount)) or 0
        return scores, evaluations, invited

    scores, evaluations, invited = snapshot()
    assert len(scores) == 16 * 12  # all, 2 parties, 3 perspectives, 6 pairs

    _edit(demo_copy, _without_contoso_and_front_line)
    pipeline.prepare(store.settings, load_config(demo_copy))

    # every score, evaluation and invited count is still there (contoso's and front line's are the past)
    assert snapshot() == (scores, evaluations, invited)
    # and a run with the new file leaves the past cycle as it was: the retired groups keep mapping it
    run_relationship(load_config(demo_copy), LocalSteps(store.settings), [1])
    assert snapshot() == (scores, evaluations, invited)
    with store.sessions() as s:
        rel_id = s.scalar(select(Relationship.id))
        assert rel_id is not None
        retired = {p.key: p.retired_at for p in s.scalars(select(Party))}
        assert retired["northwind"] is None
        assert retired["contoso"] is not None
        assert {p.key: p.retired_at is not None for p in s.scalars(select(Perspective))} == {
            "senior": False,
            "middle": False,
            "front_line": True,
        }
        assert [p.key for p in active_parties(s, rel_id)] == ["northwind"]
        assert [p.key for p in active_perspectives(s, rel_id)] == ["senior", "middle"]

    # back in the file: reinstated, same rows
    _edit(demo_copy, lambda d: d.update(yaml.safe_load(DEMO.read_text(encoding="utf-8"))))
    pipeline.prepare(store.settings, load_config(demo_copy))
    assert snapshot() == (scores, evaluations, invited)
    with store.sessions() as s:
        assert all(p.retired_at is None for p in s.scalars(select(Party)))
        assert all(p.retired_at is None for p in s.scalars(select(Perspective)))
