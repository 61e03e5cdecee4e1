"""Who answered, when the export does not say: a source's own party, a question, a participant list.

End to end through the pipeline (`vm run --no-prefect` in this process) on real-shaped exports: the
real Qualtrics employee survey in tests/samples (a team question and a tenure question, no
organisation field) and the demo's Qualtrics export (with a CRM contact export made from its
recipients). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import logging
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from sqlalchemy import select

from tests.conftest import SAMPLES, Store
from tests.test_landing_privacy import lake_values, store_values
from vm_core.config import load_config
from vm_core.errors import ConfigError, SourceError
from vm_core.ingest.answers import NO_ORGANISATION, NOT_LISTED
from vm_core.ingest.connector import ConnectorContext, ParticipantListSpec
from vm_core.ingest.participant_list import read_participant_list
from vm_core.read.scores import read_scores
from vm_core.run import pipeline
from vm_core.run.orchestration import LocalSteps, SourcesFailed, run_relationship
from vm_core.run.participants import NobodyToForget, forget, pseudonym_for
from vm_core.run.pipeline import CycleResult, SourceStatus
from vm_core.store.models import QuarantinedRow

SALAMI = SAMPLES / "qualtrics" / "api_export_cats_salami_employee_survey.csv"
DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"
#: the survey's Likert choices, as the two Value Codes' evaluation statements 1–5
LIKERT = ["Definitely not", "Probably not", "Might or might not", "Probably yes", "Definitely yes"]
OFFICE = ["Executive", "Human Resources", "Finance", "Sales", "Product", "Customer Support"]


def _salami_relationship(folder: Path, sources: list[dict[str, Any]]) -> Path:
    """A relationship over the employee survey: two Value Codes, the teams as parties, tenure as level."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "library.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Section Name", "Value Code Identifier", "Description"]
                        + [f"Evaluation Statement {n}" for n in range(1, 6)])  # fmt: skip
        writer.writerow(["Team", "EFFECTIVE", "The extent to which salami makes people effective", *LIKERT])
        writer.writerow(["Team", "COMFORT", "The extent to which people feel part of their team", *LIKERT])
    config = {
        "relationship": {"key": "salami", "min_group_size": 5},
        "library": {"file": "library.csv", "version": "1"},
        "parties": [
            {"key": "litter", "name": "Litter Box Maintenance", "role": "client"},
            {"key": "office", "name": "Office", "role": "supplier", "match": OFFICE},
        ],
        "perspectives": [{"key": "veteran", "name": "Ten years or so"}, {"key": "newer", "name": "Newer"}],
        "equivalences": [
            {"role": "10+ years", "perspective": "veteran"},
            {"role": "7-9 years", "perspective": "veteran"},
            {"role": "*year*", "perspective": "newer"},
        ],
        "cycles": [{"number": 1, "mode": "resolve", "sources": sources}],
    }
    path = folder / "relationship.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def _run(store: Store, config_path: Path) -> CycleResult:
    """`vm run --no-prefect` in this process; a failed source comes back as its result."""
    try:
        run = run_relationship(load_config(config_path), LocalSteps(store.settings), [1])
    except SourcesFailed as failed:
        run = failed.run
    return run.cycles[0]


def _scores(store: Store, key: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    """(Value Code, group) -> (n, l1…l5, suppressed) of the published scores."""
    with pipeline.open_store(store.settings)() as session:
        frame = read_scores(session, key, 1)
    return {
        (row.value_code, row.group): (row.n, row.l1, row.l2, row.l3, row.l4, row.l5, row.suppressed)
        for row in frame.itertuples()
    }


def _quarantine_reasons(store: Store) -> dict[str, int]:
    with pipeline.open_store(store.settings)() as session:
        reasons = session.scalars(select(QuarantinedRow.reason)).all()
    return {reason: reasons.count(reason) for reason in set(reasons)}


# --- a question ------------------------------------------------------------------------------------


@pytest.mark.store
def test_organisation_and_level_answered_as_multiple_choice_questions(store: Store, tmp_path: Path) -> None:
    # "On which team do you currently work?" (QID1, choice labels) is the organisation,
    # "For how long have you worked at …?" (QID2) the level: ordinary questions, named by ImportId
    shutil.copy(SALAMI, tmp_path / SALAMI.name)
    source = {"key": "survey", "connector": "qualtrics_csv", "path": SALAMI.name,
              "options": {"questions": {"QID30": "EFFECTIVE", "QID37": "COMFORT"},
                          "organisation_column": "QID1", "role_column": "Q2.1"}}  # fmt: skip
    result = _run(store, _salami_relationship(tmp_path, [source]))

    (loaded,) = result.sources
    assert (loaded.status, loaded.rows_read, loaded.rows_dropped) == ("loaded", 45, {"preview": 1})
    scores = _scores(store, "salami")
    # 13 of Litter Box Maintenance answered; 7 of the six office teams (one left it blank)
    assert scores["EFFECTIVE", "litter"] == (13, 1, 2, 1, 3, 6, False)
    assert scores["EFFECTIVE", "office"] == (7, 1, 0, 1, 1, 4, False)
    assert scores["COMFORT", "litter"] == (13, 2, 0, 0, 3, 8, False)
    assert scores["EFFECTIVE", "litter/veteran"][0] == 7  # "10+ years" (5) and "7-9 years" (2)
    assert scores["EFFECTIVE", "litter/newer"][0] == 6
    # "Other" (9 people) is no party; 14 left the team question unanswered: their answers set aside
    assert _quarantine_reasons(store) == {
        "organisation matches no party (litter, office)": 9 * 2,
        NO_ORGANISATION: 14 * 2,
    }


# --- one survey per party --------------------------------------------------------------------------


def _second_survey(folder: Path) -> str:
    """The same survey as the office teams' own export: their rows only, with response ids of its own."""
    with SALAMI.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    team, response = rows[0].index("Q1.2"), rows[0].index("ResponseId")
    kept = rows[:3] + [row for row in rows[3:] if row[team] != "Litter Box Maintenance"]
    for row in kept[3:]:
        row[response] = row[response].replace("R_", "R_2", 1)
    with (folder / "office.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(kept)
    return "office.csv"


@pytest.mark.store
def test_one_survey_per_party(store: Store, tmp_path: Path) -> None:
    shutil.copy(SALAMI, tmp_path / "litter.csv")
    options = {"questions": {"QID30": "EFFECTIVE", "QID37": "COMFORT"}, "role_column": "QID2"}
    sources = [
        {"key": "litter", "connector": "qualtrics_csv", "path": "litter.csv", "party": "litter", "options": options},
        {"key": "office", "connector": "qualtrics_csv", "path": _second_survey(tmp_path), "party": "office",
         "options": options},
    ]  # fmt: skip
    config = _salami_relationship(tmp_path, sources)
    result = _run(store, config)

    assert [(s.status, s.quarantined) for s in result.sources] == [("loaded", 0), ("loaded", 0)]
    scores = _scores(store, "salami")
    # everyone in a survey is its party's, whatever they answered to the team question
    assert scores["EFFECTIVE", "litter"] == (27, 3, 3, 2, 4, 15, False)
    assert scores["EFFECTIVE", "office"] == (14, 2, 1, 1, 1, 9, False)
    assert scores["EFFECTIVE", "all"][0] == 41
    assert scores["EFFECTIVE", "office/veteran"][0] == 7  # perspectives still come from the role (tenure)
    before = _scores(store, "salami")

    again = _run(store, config)  # nothing changed: nothing is read or re-modelled
    assert [s.status for s in again.sources] == [SourceStatus.UNCHANGED] * 2
    assert _scores(store, "salami") == before

    # the second survey was the litter team's after all: re-modelled from the lake, not read again
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["cycles"][0]["sources"][1]["party"] = "litter"
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    moved = _run(store, config)
    assert [s.status for s in moved.sources] == [SourceStatus.UNCHANGED, SourceStatus.REMODELLED]
    assert _scores(store, "salami")["EFFECTIVE", "litter"][0] == 27 + 14


# --- nothing says who answered ---------------------------------------------------------------------


@pytest.mark.store
def test_a_source_nothing_gives_a_party_fails_with_one_line_naming_the_ways(
    store: Store, tmp_path: Path
) -> None:
    shutil.copy(SALAMI, tmp_path / SALAMI.name)
    source = {"key": "survey", "connector": "qualtrics_csv", "path": SALAMI.name,
              "options": {"questions": {"QID30": "EFFECTIVE", "QID37": "COMFORT"}, "role_column": "QID2"}}  # fmt: skip
    config = _salami_relationship(tmp_path, [source])
    (failed,) = _run(store, config).sources

    assert failed.status == SourceStatus.FAILED
    assert failed.error == (
        f"{SALAMI.name}: no response can have a party: nothing says which organisation answered; say who "
        "answered with `party:` on the source (one survey per party), options.organisation_column (a question, "
        "or embedded data / a custom variable / a hidden field), or a `participants:` list joined on the "
        "respondent's e-mail or id (README, 'Who answered')"
    )

    # a column that never names a party ("Other - Text": blank, or free text): the same ways, counted
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["cycles"][0]["sources"][0]["options"]["organisation_column"] = "QID1_10_TEXT"
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    (failed,) = _run(store, config).sources
    assert failed.error is not None
    assert failed.error.startswith(
        f"{SALAMI.name}: no response has a party (88): 84 for 'no organisation given'; 1 other reason(s); "
        "say who answered with `party:` on the source"
    )
    assert failed.error.endswith("; and check the parties' `match`")  # 4 gave a team no party takes


def test_vm_run_without_any_organisation_is_one_line_without_a_traceback(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from vm_cli.main import main

    shutil.copy(SALAMI, tmp_path / SALAMI.name)
    source = {"key": "survey", "connector": "qualtrics_csv", "path": SALAMI.name,
              "options": {"questions": {"QID30": "EFFECTIVE", "QID37": "COMFORT"}}}  # fmt: skip
    config = _salami_relationship(tmp_path, [source])
    env = {"VM_HOME": str(tmp_path / "home"), "VM_SECRET": "who-answered", "VM_DATABASE_URL": ""}
    outcome = CliRunner().invoke(main, ["run", str(config), "--no-prefect"], env=env)

    assert outcome.exit_code == 1
    assert "Traceback" not in outcome.output
    assert "no response can have a party" in outcome.output
    assert "`participants:` list" in outcome.output


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.flow
@pytest.mark.store
def test_the_prefect_flow_ends_failed_with_the_line_and_logs_no_traceback(
    vm_env: Store, prefect_harness: None, tmp_path: Path
) -> None:
    from flows.run_relationship import run_relationship as flow

    shutil.copy(SALAMI, tmp_path / SALAMI.name)
    source = {"key": "survey", "connector": "qualtrics_csv", "path": SALAMI.name,
              "options": {"questions": {"QID30": "EFFECTIVE", "QID37": "COMFORT"}}}  # fmt: skip
    handler = _Records()
    loggers = [logging.getLogger(name) for name in ("prefect.flow_runs", "prefect.task_runs")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        state = flow(str(_salami_relationship(tmp_path, [source])), return_state=True)
    finally:
        for logger in loggers:
            logger.removeHandler(handler)

    assert state.is_failed()
    assert isinstance(state.result(raise_on_failure=False), SourcesFailed)
    assert "no response can have a party" in (state.message or "")
    logged = [record.getMessage() for record in handler.records]
    assert any("no response can have a party" in line for line in logged)  # the run's log says it …
    assert not [r.getMessage() for r in handler.records if r.exc_info]  # … in one line, no Python traceback


# --- configuration ---------------------------------------------------------------------------------


def _demo_config(tmp_path: Path, change: Any) -> Path:
    data = yaml.safe_load((DEMO / "relationship.yaml").read_text(encoding="utf-8"))
    data["library"].pop("file")
    change(data["cycles"][0]["sources"][0])
    path = tmp_path / "relationship.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _without(*names: str) -> Any:
    def change(source: dict[str, Any]) -> None:
        source["options"] = {k: v for k, v in source["options"].items() if k not in names}

    return change


def _list(**columns: str) -> dict[str, str]:
    return {"file": "people.xlsx", "identity": "Email", **columns}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.update(party="northwnd"), "party: unknown party 'northwnd'; did you mean 'northwind'?"),
        (lambda s: s.update(party=["northwind"]), "party: must be text, not list ['northwind']"),
        (
            lambda s: s.update(party="northwind"),
            "options.organisation_column: the organisation already comes from `party: northwind`; "
            "give it one way only",
        ),
        (
            lambda s: s.update(participants=_list(organisation="Company")),
            "options.organisation_column: the organisation already comes from the participant list; "
            "give it one way only",
        ),
        (
            lambda s: (_without("organisation_column")(s), s.update(participants=_list(role="Job Title"))),
            "participants.role: the role already comes from options.role_column; give it one way only",
        ),
        (
            lambda s: (
                _without("organisation_column")(s),
                s.update(party="contoso", participants=_list(organisation="Company")),
            ),
            "participants.organisation: the organisation already comes from `party: contoso`; "
            "give it one way only",
        ),
        (
            lambda s: s.update(participants={"file": "people.csv", "identity": "Email", "organization": "X"}),
            "participants.organization: unknown key; did you mean 'organisation'?",
        ),
        (
            lambda s: (
                _without("organisation_column", "role_column")(s),
                s.update(participants={"file": "people.csv", "organisation": "Company"}),
            ),
            "participants.identity: is required",
        ),
        (
            lambda s: s.update(participants={"file": "people.csv", "identity": "Email"}),
            "participants: name the list's `organisation` column, its `role` column, or both",
        ),
        (
            lambda s: s.update(participants="people.csv"),
            "participants: must be a mapping, not str 'people.csv'",
        ),
    ],
)
def test_who_answered_is_checked_when_the_configuration_loads(
    tmp_path: Path, change: Any, message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(_demo_config(tmp_path, change))
    assert str(error.value) == f"relationship.yaml: cycles[0].sources[0].{message}"


def test_each_way_alone_loads(tmp_path: Path) -> None:
    party = load_config(
        _demo_config(tmp_path, lambda s: (_without("organisation_column")(s), s.update(party="contoso")))
    )
    assert party.cycles[0].sources[0].party == "contoso"
    listed = load_config(
        _demo_config(tmp_path, lambda s: (_without("organisation_column", "role_column")(s),
                                          s.update(participants=_list(organisation="Company", role="Title"))))
    )  # fmt: skip
    spec = listed.cycles[0].sources[0].participants
    assert spec == ParticipantListSpec(
        tmp_path / "people.xlsx",
        "Email",
        "Company",
        "Title",
        "relationship.yaml: cycles[0].sources[0].participants",
    )


# --- a participant list ----------------------------------------------------------------------------

CRM_HEADER = ["First Name", "Last Name", "Email", "Company Name", "Job Title", "Phone"]


def _recipients() -> list[dict[str, str]]:
    """The demo's cycle-1 recipients (real responses, previews left out) as the export has them."""
    with (DEMO / "responses" / "cycle-1.csv").open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[3:] if row[header.index("RecipientEmail")]]


def _crm_export(path: Path, people: list[dict[str, str]], extra: list[list[str]] | None = None) -> None:
    """A CRM contact export (XLSX): names, e-mail in any case, organisation, job title, phone."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(CRM_HEADER)
    for n, person in enumerate(people):
        email = person["RecipientEmail"]
        sheet.append([person["RecipientFirstName"], person["RecipientLastName"],
                      email.upper() if n % 2 else email, person["Organisation"], person["Role"],
                      f"+44 20 7946 {n:04d}"])  # fmt: skip
    for row in extra or []:
        sheet.append(row)
    book.save(path)


def _listed_demo(folder: Path, key: str, participants: bool) -> Path:
    """The demo's cycle 1 under ``key``: its organisation and role from embedded data, or from a list."""
    shutil.copytree(DEMO, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    data = yaml.safe_load((folder / "relationship.yaml").read_text(encoding="utf-8"))
    data["relationship"]["key"] = key
    data["cycles"] = data["cycles"][:1]
    source = data["cycles"][0]["sources"][0]
    if participants:
        _without("organisation_column", "role_column")(source)
        source["participants"] = {"file": "people.xlsx", "identity": "Email",
                                  "organisation": "company name", "role": "JOB TITLE"}  # fmt: skip
    path = folder / "relationship.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.store
def test_a_crm_contact_list_gives_the_scores_embedded_data_gives_and_is_never_stored(
    store: Store, tmp_path: Path
) -> None:
    people = _recipients()
    embedded = _run(store, _listed_demo(tmp_path / "embedded", "embedded", participants=False))
    config = _listed_demo(tmp_path / "listed", "listed", participants=True)
    _crm_export(config.parent / "people.xlsx", people)
    listed = _run(store, config)

    (source,) = listed.sources
    assert (source.status, source.quarantined) == ("loaded", 0)
    assert (source.list_rows, source.list_rows_without_response, source.respondents_not_listed) == (240, 0, 0)
    assert source.evaluations == embedded.sources[0].evaluations == 240 * 16
    assert source.unmapped_roles == embedded.sources[0].unmapped_roles  # the titles come from the list
    assert _scores(store, "listed") == _scores(store, "embedded")

    # three people missing from the list, two on it who did not answer: counted, never named
    _crm_export(config.parent / "people.xlsx", people[3:],
                extra=[["Ada", "Quinn", "ada.quinn@northwind-council.gov.example", "Northwind Council", "Head of Audit",
                        "+44 20 7946 9998"],
                       ["Ben", "Ortiz", "", "Contoso Services", "Service Agent", ""]])  # fmt: skip
    changed = _run(store, config)
    (source,) = changed.sources
    assert source.status == "loaded"  # a changed list is a new delivery: read again
    assert (source.list_rows, source.list_rows_without_response, source.respondents_not_listed) == (239, 2, 3)
    assert source.quarantined == 3 * 16
    assert source.reasons == {NOT_LISTED: 3 * 16}

    again = _run(store, config)  # rerun: nothing changed, nothing read
    assert again.sources[0].status == SourceStatus.UNCHANGED

    # nothing of the list but its pseudonyms, organisations and titles is anywhere in the store or lake
    secrets = {p["RecipientEmail"] for p in people} | {p["RecipientEmail"].upper() for p in people}
    secrets |= {f"{p['RecipientFirstName']} {p['RecipientLastName']}" for p in people}
    secrets |= {p["RecipientLastName"] for p in people} | {"ada.quinn@northwind-council.gov.example", "Quinn"}
    secrets |= {f"+44 20 7946 {n:04d}" for n in range(len(people))}
    everything = store_values(store.settings) | lake_values(store.settings.lake().root)
    assert not secrets & everything
    text = "\n".join(everything)
    assert not [s for s in secrets if "@" in s and s in text]
    on_disk = [p for p in store.settings.home.rglob("*") if p.is_file()]  # the SQLite file, Parquet files
    leaked = [(p.name, s) for p in on_disk for s in secrets if "@" in s and s.encode() in p.read_bytes()]
    assert not leaked

    # erasing a person takes their list row with their responses
    pseudonym = pseudonym_for(store.settings, "listed", people[5]["RecipientEmail"])
    forgotten = forget(store.settings, "listed", pseudonym)
    assert (forgotten.evaluations, forgotten.landed_rows) == (16, 2)  # the response and the list row
    with pytest.raises(NobodyToForget):  # no committed file of the relationship holds them any more
        forget(store.settings, "listed", pseudonym)


# --- a bad list ------------------------------------------------------------------------------------


def _ctx() -> ConnectorContext:
    return ConnectorContext("rel", 1, b"who-answered", ())


def _csv(path: Path, text: str, encoding: str = "utf-8") -> ParticipantListSpec:
    path.write_bytes(text.encode(encoding))
    return ParticipantListSpec(path, "E-mail", "Organisation", "Job title", "relationship.yaml: participants")


def test_a_list_as_a_german_excel_saves_it_is_read(tmp_path: Path) -> None:
    spec = _csv(tmp_path / "teilnehmer.csv",
                "Name;E-Mail;Organisation;Job title\r\nJürgen Weiß;J.Weiss@Example.org;Contoso;Leiter Vertrieb\r\n"
                ";;;\r\nAnna Berg;;Northwind;Officer\r\n", encoding="cp1252")  # fmt: skip
    table = read_participant_list(spec, _ctx()).to_pylist()

    assert [(r["source_row"], r["organisation"], r["role"]) for r in table] == [
        (2, "Contoso", "Leiter Vertrieb"),
        (4, "Northwind", "Officer"),
    ]
    assert table[0]["respondent_key"] == _ctx().pseudonymise(
        "j.weiss@example.org"
    )  # as the connector makes it
    assert table[1]["respondent_key"] is None  # no e-mail: matches no response
    assert set(table[0]) == {"source_file", "source_row", "respondent_key", "organisation", "role"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Name,Email,Organisation,Job title\n",
            "people.csv, row 1, column 'E-mail': participants.identity: no column 'E-mail' "
            "(row 1 has: Name, Email, Organisation, Job title)",
        ),
        ("", "people.csv, row 1: the participant list is empty: row 1 should name its columns"),
        (
            "E-mail,Organisation,Job title\n",
            "people.csv, row 2: the participant list has a header but no rows",
        ),
        (
            "E-mail,Organisation,Job title\na@x.org,Contoso,Officer\nb@x.org,Contoso,Officer\n"
            " A@X.org ,Northwind,Officer\n",
            "people.csv, row 4, column 'E-mail': the same E-mail is listed in row 2 with another organisation; "
            "list each person once",
        ),
        (
            "E-mail,Organisation,Job title\na@x.org,Con\x81toso,Officer\n",
            "people.csv: not UTF-8 or Windows-1252 text (byte 41); save it as UTF-8 CSV",
        ),
    ],
)
def test_a_bad_list_is_one_line_naming_file_row_and_column(tmp_path: Path, text: str, message: str) -> None:
    spec = _csv(tmp_path / "people.csv", text, encoding="latin-1")
    with pytest.raises(SourceError) as error:
        read_participant_list(spec, _ctx())
    assert str(error.value) == message


def test_the_same_person_listed_twice_alike_is_one_row_of_the_join(tmp_path: Path) -> None:
    spec = _csv(
        tmp_path / "people.csv",
        "E-mail,Organisation,Job title\na@x.org,Contoso,Officer\nA@x.org,Contoso,Officer\n",
    )
    assert len(read_participant_list(spec, _ctx())) == 2  # both rows land; the join takes them once


def test_a_missing_list_names_the_file_and_the_key(tmp_path: Path) -> None:
    spec = ParticipantListSpec(
        tmp_path / "gone.xlsx",
        "Email",
        "Company",
        None,
        "relationship.yaml: cycles[0].sources[0].participants",
    )
    with pytest.raises(SourceError) as error:
        read_participant_list(spec, _ctx())
    assert (
        str(error.value)
        == "gone.xlsx: participant list not found (relationship.yaml: cycles[0].sources[0].participants.file)"
    )
