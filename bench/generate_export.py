"""Generate a Qualtrics-format response export of any size, with its library and relationship config.

    python bench/generate_export.py --respondents N --value-codes K --out DIR [--seed S]

writes, into DIR:

``export.csv``
    A response CSV shaped like a Qualtrics API export (the 3-header-row layout documented in connectors/qualtrics_csv/README.md):
    three header rows (export tags, labels, ImportId JSON), UTF-8 without BOM, CRLF record
    ends, bare LF inside quoted multi-line cells. Columns: the metadata fields
    ``StartDate … UserLanguage`` (with the personal-data ones: IP address, names, e-mail,
    location), K single-choice questions ``Q1..QK`` (ImportIds ``QID1..QIDK``) whose cells
    are ``"1"``–``"5"``, a label such as ``"3 - Acceptable"``, or blank (≈5 %), a free-text
    comment column after every 10th question (≈10 % filled, some multi-line), and the
    embedded-data fields ``Organisation`` (2 organisations) and ``Role`` (8 roles on 3 levels).
``library.csv``
    K Value Codes in the library table format (``Section Name, Value Code Identifier,
    Description, Evaluation Statement 1..5``).
``relationship.yaml``
    One relationship, one cycle, one ``qualtrics_csv`` source mapping the QIDs to the Value
    Codes, parties, perspectives, equivalences and ``levels:`` for the ``"n - label"`` answers.
``manifest.json``
    What was generated (sizes, seed, column tags → Value Codes), for ``bench/run.py``.

Rows are streamed to disk, so memory stays flat: 100,000 × 60 takes well under a minute.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import string
import sys
import time
from pathlib import Path
from typing import Any

EXPORT = "export.csv"
LIBRARY = "library.csv"
CONFIG = "relationship.yaml"
MANIFEST = "manifest.json"

RELATIONSHIP_KEY = "bench"
SOURCE_KEY = "diagnostic"
TIME_ZONE = "Europe/London"

#: (export tag, label in row 2, ImportId)
METADATA: tuple[tuple[str, str, str], ...] = (
    ("StartDate", "Start Date", "startDate"),
    ("EndDate", "End Date", "endDate"),
    ("Status", "Response Type", "status"),
    ("IPAddress", "IP Address", "ipAddress"),
    ("Progress", "Progress", "progress"),
    ("Duration (in seconds)", "Duration (in seconds)", "duration"),
    ("Finished", "Finished", "finished"),
    ("RecordedDate", "Recorded Date", "recordedDate"),
    ("ResponseId", "Response ID", "_recordId"),
    ("RecipientLastName", "Recipient Last Name", "recipientLastName"),
    ("RecipientFirstName", "Recipient First Name", "recipientFirstName"),
    ("RecipientEmail", "Recipient Email", "recipientEmail"),
    ("ExternalReference", "External Data Reference", "externalDataReference"),
    ("LocationLatitude", "Location Latitude", "locationLatitude"),
    ("LocationLongitude", "Location Longitude", "locationLongitude"),
    ("DistributionChannel", "Distribution Channel", "distributionChannel"),
    ("UserLanguage", "User Language", "userLanguage"),
)
TIMED_IMPORT_IDS = frozenset({"startDate", "endDate", "recordedDate"})

ORGANISATION_COLUMN = "Organisation"
ROLE_COLUMN = "Role"

#: organisation → (party key, party name, e-mail domain, share of respondents)
ORGANISATIONS: dict[str, tuple[str, str, str, float]] = {
    "Northwind Council": ("client", "Northwind Council", "northwind.example", 0.45),
    "Contoso Services Ltd": ("supplier", "Contoso Services", "contoso.example", 0.55),
}
#: role → (perspective, share of respondents)
ROLES: dict[str, tuple[str, float]] = {
    "Director": ("senior", 0.04),
    "Head of Service": ("senior", 0.05),
    "Account Director": ("senior", 0.03),
    "Contract Manager": ("middle", 0.10),
    "Service Manager": ("middle", 0.13),
    "Team Leader": ("middle", 0.15),
    "Caseworker": ("frontline", 0.25),
    "Field Engineer": ("frontline", 0.25),
}
PERSPECTIVES = (("senior", "Senior leadership"), ("middle", "Middle management"), ("frontline", "Front line"))
EQUIVALENCES = (
    ("*", "*Director", "senior"),
    ("*", "Head of*", "senior"),
    ("*", "*Manager*", "middle"),
    ("*", "Team Leader", "middle"),
    ("*", "*", "frontline"),
)

LEVEL_LABELS = {
    1: "Barely acceptable",
    2: "Some way to go",
    3: "Acceptable",
    4: "Good",
    5: "What good looks like",
}
BLANK_SHARE = 0.05
LABEL_SHARE = 0.20
COMMENT_EVERY = 10
COMMENT_SHARE = 0.10

FIRST_NAMES = (
    "Alex",
    "Sam",
    "Priya",
    "Jordan",
    "Chen",
    "Fatima",
    "Olu",
    "Maria",
    "Tom",
    "Aisha",
    "Lukas",
    "Sofia",
    "Kwame",
    "Ines",
    "Ravi",
    "Hannah",
    "Mateo",
    "Zoe",
    "Yusuf",
    "Ewa",
)
LAST_NAMES = (
    "Smith",
    "Patel",
    "Okafor",
    "Nowak",
    "García",
    "O'Neill",
    "Müller",
    "Khan",
    "Jones",
    "Silva",
    "Nguyen",
    "Evans",
    "Kowalski",
    "Rossi",
    "Brown",
    "Ahmed",
    "Taylor",
    "Dubois",
    "Lee",
    "Murphy",
)
COMMENTS = (
    "Works well day to day.",
    "Meetings are useful, but actions are not always followed up.",
    'The "one team" message is heard, not yet felt.',
    "Good progress since the last review.\nStill waiting on the data-sharing agreement.",
    "Escalations take too long, especially for cost changes.",
    "Hard to say; I joined recently.",
    "Excellent support from the account team 👍",
    "Two issues:\n- reporting is late\n- priorities change without notice\n",
)
SECTIONS = (
    "Leadership & Governance",
    "Delivery & Performance",
    "Commercial",
    "Relationship & Trust",
    "Innovation",
    "People & Culture",
)


def value_code(index: int) -> str:
    return f"VC-{index:03d}"


def question_columns(value_codes: int) -> list[dict[str, Any]]:
    """The answer and comment columns in export order: Q1..QK, a comment after every 10th."""
    columns: list[dict[str, Any]] = []
    comments = 0
    for i in range(1, value_codes + 1):
        code = value_code(i)
        section = SECTIONS[(i - 1) // 10 % len(SECTIONS)]
        columns.append(
            {
                "kind": "question",
                "tag": f"Q{i}",
                "import_id": f"QID{i}",
                "value_code": code,
                "label": f"How would you describe {code}, {section}?",
            }
        )
        if i % COMMENT_EVERY == 0:
            comments += 1
            qid = value_codes + comments
            columns.append(
                {
                    "kind": "comment",
                    "tag": f"Q{qid}",
                    "import_id": f"QID{qid}_TEXT",
                    "value_code": code,
                    "label": f"Is there anything you would like to add about {code}?",
                }
            )
    return columns


def _answer_population(label_share: float) -> tuple[list[str], list[list[float]]]:
    """Cell texts and, per organisation × perspective, their weights (blank ≈5 %, labels ≈20 %)."""
    texts = [""] + [str(lv) for lv in LEVEL_LABELS] + [f"{lv} - {lb}" for lv, lb in LEVEL_LABELS.items()]
    profiles = {  # level distributions: the supplier rates itself higher; senior people more positively
        ("client", "senior"): (0.05, 0.15, 0.35, 0.30, 0.15),
        ("client", "middle"): (0.10, 0.25, 0.35, 0.20, 0.10),
        ("client", "frontline"): (0.15, 0.30, 0.30, 0.20, 0.05),
        ("supplier", "senior"): (0.02, 0.08, 0.25, 0.40, 0.25),
        ("supplier", "middle"): (0.05, 0.15, 0.30, 0.35, 0.15),
        ("supplier", "frontline"): (0.10, 0.20, 0.35, 0.25, 0.10),
    }
    weights: list[list[float]] = []
    for party, _, _, _ in ORGANISATIONS.values():
        for perspective, _ in PERSPECTIVES:
            dist = profiles[(party, perspective)]
            answered = 1 - BLANK_SHARE
            weights.append(
                [BLANK_SHARE]
                + [answered * (1 - label_share) * p for p in dist]
                + [answered * label_share * p for p in dist]
            )
    return texts, weights


def _response_id(rng: random.Random, index: int) -> str:
    alphabet = string.ascii_letters + string.digits
    suffix = ""
    while True:  # 5 base-62 digits of the index make every id unique (up to 916 million rows)
        index, digit = divmod(index, 62)
        suffix = alphabet[digit] + suffix
        if len(suffix) == 5:
            break
    return "R_" + "".join(rng.choices(alphabet, k=10)) + suffix


def write_export(path: Path, respondents: int, value_codes: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    columns = question_columns(value_codes)
    embedded = [ORGANISATION_COLUMN, ROLE_COLUMN]
    header = [tag for tag, _, _ in METADATA] + [c["tag"] for c in columns] + embedded
    labels = [label for _, label, _ in METADATA] + [c["label"] for c in columns] + embedded
    import_ids = (
        [
            json.dumps(
                {"ImportId": iid, "timeZone": TIME_ZONE} if iid in TIMED_IMPORT_IDS else {"ImportId": iid},
                separators=(",", ":"),
            )
            for _, _, iid in METADATA
        ]
        + [json.dumps({"ImportId": c["import_id"]}, separators=(",", ":")) for c in columns]
        + [
            json.dumps({"ImportId": ORGANISATION_COLUMN}, separators=(",", ":")),
            json.dumps({"ImportId": ROLE_COLUMN}, separators=(",", ":")),
        ]
    )
    kinds = [c["kind"] for c in columns]
    question_count = kinds.count("question")
    texts, weights = _answer_population(LABEL_SHARE)
    orgs = list(ORGANISATIONS)
    org_weights = [v[3] for v in ORGANISATIONS.values()]
    roles = list(ROLES)
    role_weights = [v[1] for v in ROLES.values()]
    perspective_index = {p: i for i, (p, _) in enumerate(PERSPECTIVES)}
    start = dt.datetime(2026, 1, 5, 8, 0, 0)
    window = 25 * 24 * 3600
    filled_comments = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerow(labels)
        writer.writerow(import_ids)
        for index in range(respondents):
            org = rng.choices(orgs, org_weights)[0]
            _, _, domain, _ = ORGANISATIONS[org]
            role = rng.choices(roles, role_weights)[0]
            profile = weights[
                list(ORGANISATIONS).index(org) * len(PERSPECTIVES) + perspective_index[ROLES[role][0]]
            ]
            answers = iter(rng.choices(texts, profile, k=question_count))
            cells: list[str] = []
            for kind in kinds:
                if kind == "question":
                    cells.append(next(answers))
                elif rng.random() < COMMENT_SHARE:
                    cells.append(rng.choice(COMMENTS))
                    filled_comments += 1
                else:
                    cells.append("")
            begun = start + dt.timedelta(seconds=rng.randrange(window))
            duration = rng.randrange(90, 2400)
            ended = begun + dt.timedelta(seconds=duration)
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = f"{first}.{last}.{index}@{domain}".lower().replace("'", "")
            writer.writerow(
                [
                    begun.strftime("%Y-%m-%d %H:%M:%S"),
                    ended.strftime("%Y-%m-%d %H:%M:%S"),
                    "IP Address",
                    f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                    "100",
                    str(duration),
                    "True",
                    ended.strftime("%Y-%m-%d %H:%M:%S"),
                    _response_id(rng, index),
                    last,
                    first,
                    email,
                    "" if rng.random() < 0.5 else f"EMP{index:07d}",
                    f"{rng.uniform(50.0, 55.0):.11f}",
                    f"{rng.uniform(-3.0, 0.5):.11f}",
                    "email",
                    "EN",
                    *cells,
                    org,
                    role,
                ]
            )
    return {"rows": respondents, "columns": len(header), "filled_comments": filled_comments}


def write_library(path: Path, value_codes: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(
            [
                "Section Name",
                "Value Code Identifier",
                "Description",
                *(f"Evaluation Statement {n}" for n in range(1, 6)),
            ]
        )
        for i in range(1, value_codes + 1):
            code = value_code(i)
            section = SECTIONS[(i - 1) // 10 % len(SECTIONS)]
            writer.writerow(
                [
                    section,
                    code,
                    f"The extent to which both organisations work well on aspect {i} of {section.lower()}.",
                    f"On aspect {i}, each side works to its own agenda and problems surface as disputes.",
                    f"On aspect {i}, good intentions exist but are not yet turned into joint practice.",
                    f"On aspect {i}, an agreed way of working is in place and mostly followed.",
                    f"On aspect {i}, joint practice is routine, reviewed and improved together.",
                    f"On aspect {i}, both sides act as one team and others learn from how they work.",
                ]
            )


def _yaml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid YAML scalar


def write_config(path: Path, value_codes: int) -> None:
    columns = question_columns(value_codes)
    lines = [
        "# Generated by bench/generate_export.py: one cycle, one Qualtrics export.",
        "relationship:",
        f"  key: {RELATIONSHIP_KEY}",
        '  name: "Benchmark: Northwind Council ⇄ Contoso Services"',
        "  min_group_size: 5",
        "library:",
        f"  file: {LIBRARY}",
        f"  key: {RELATIONSHIP_KEY}",
        '  version: "1"',
        "parties:",
    ]
    for org, (key, name, _, _) in ORGANISATIONS.items():
        lines += [
            f"  - key: {key}",
            f"    name: {_yaml_str(name)}",
            f"    role: {key}",
            f"    match: [{_yaml_str(org.split()[0] + '*')}]",
        ]
    lines.append("perspectives:")
    lines += [f"  - {{key: {key}, name: {_yaml_str(name)}}}" for key, name in PERSPECTIVES]
    lines.append("equivalences:")
    lines += [
        f"  - {{party: {_yaml_str(party)}, role: {_yaml_str(role)}, perspective: {perspective}}}"
        for party, role, perspective in EQUIVALENCES
    ]
    lines.append("levels:")
    lines += [f"  {_yaml_str(f'{level} - {label}')}: {level}" for level, label in LEVEL_LABELS.items()]
    lines += [
        "cycles:",
        "  - number: 1",
        "    mode: resolve",
        "    opens: 2026-01-05",
        "    closes: 2026-01-30",
        "    sources:",
        f"      - key: {SOURCE_KEY}",
        "        connector: qualtrics_csv",
        f"        path: {EXPORT}",
        "        options:",
        f"          organisation_column: {ORGANISATION_COLUMN}",
        f"          role_column: {ROLE_COLUMN}",
        "          respondent_id: RecipientEmail",
        "          questions:",
    ]
    lines += [f"            {c['import_id']}: {c['value_code']}" for c in columns if c["kind"] == "question"]
    comments = [c for c in columns if c["kind"] == "comment"]
    if comments:
        lines.append("          comments:")
        lines += [f"            {c['import_id']}: {c['value_code']}" for c in comments]
    else:
        lines.append("          comments: {}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def generate(out: Path, respondents: int, value_codes: int, seed: int = 1) -> dict[str, Any]:
    """Write the export, library, configuration and manifest into ``out``; returns the manifest."""
    if respondents < 1 or value_codes < 1:
        raise ValueError("respondents and value codes must be at least 1")
    out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    stats = write_export(out / EXPORT, respondents, value_codes, seed)
    write_library(out / LIBRARY, value_codes)
    write_config(out / CONFIG, value_codes)
    columns = question_columns(value_codes)
    manifest = {
        "respondents": respondents,
        "value_codes": value_codes,
        "seed": seed,
        "export": EXPORT,
        "library": LIBRARY,
        "config": CONFIG,
        "header_rows": 3,
        "organisation_column": ORGANISATION_COLUMN,
        "role_column": ROLE_COLUMN,
        "questions": {c["tag"]: c["value_code"] for c in columns if c["kind"] == "question"},
        "comments": {c["tag"]: c["value_code"] for c in columns if c["kind"] == "comment"},
        "level_labels": {f"{lv} - {lb}": lv for lv, lb in LEVEL_LABELS.items()},
        "export_bytes": (out / EXPORT).stat().st_size,
        "seconds": round(time.perf_counter() - began, 2),
        **stats,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, required=True)
    parser.add_argument("--value-codes", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    manifest = generate(args.out, args.respondents, args.value_codes, args.seed)
    print(
        f"wrote {args.out / EXPORT}: {manifest['rows']:,} respondents × {args.value_codes} Value Codes, "
        f"{manifest['columns']} columns, {manifest['export_bytes'] / 1e6:.1f} MB "
        f"in {manifest['seconds']} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
