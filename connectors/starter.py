"""``vm sources sniff``: which built-in connector reads a file, and a starter ``sources:`` entry for it.

The connector is the one whose export the file's first records are (:func:`connectors.common.sniff_file`);
the connector reads the file's header as a run would and lists its candidate columns (every column but
the export's own metadata). The first records are sampled to sort them:

- a column whose question or name speaks of an organisation, company, employer … is the
  ``organisation_column`` (the others alike are listed as alternatives), and one speaking of a
  role, job title, position or level is the ``role_column``;
- a column with at most :data:`MAX_CHOICES` short distinct answers is a question, mapped to the
  placeholder :data:`PLACEHOLDER`: a Value Code the user fills in (the configuration refuses the
  placeholder until then, naming the column);
- the rest (free text, numbers, dates, several choices at once) are listed as comments of the
  entry: the user picks what to map, or lists free-text questions under ``free_text``.

A block of choice columns (SurveyMonkey's expanded layout) is one question when its cells hold
their own column's label, one choice per response; otherwise (a matrix) each column is a question
of its own. Nothing of a cell is printed: only counts of distinct answers.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from connectors.common import EXPORT_KINDS, Candidate, Candidates, sniff_file
from vm_core.errors import SourceError, VmError
from vm_core.keys import MAX_KEY_LENGTH

#: the Value Code a starter maps each question to, until the user names the real one
PLACEHOLDER = "VALUE_CODE"
#: data records read to sort the columns
SAMPLE_ROWS = 500
#: a question has at most this many distinct answers (a 0–10 scale has 11), each at most MAX_CHOICE_LENGTH
MAX_CHOICES = 12
MAX_CHOICE_LENGTH = 80
#: a column name at most this long is a field's name ("Organisation"), not a question's text
MAX_NAME_WORDS_LENGTH = 30

_ORGANISATION = r"organi[sz]ations?|company|employer|institution|agency|department|division|business unit"
_ROLE = r"roles?|job title|title|position|seniority|grade|level"
#: a column's name, or its question when it asks about the respondent's own ("your organisation",
#: "Which company do you work for?"; not "Trust between the organisations: anything you would add?")
ORGANISATION_WORDS = (
    re.compile(rf"\b({_ORGANISATION}|org)\b", re.IGNORECASE),
    re.compile(rf"\byour\s+({_ORGANISATION})\b|\b({_ORGANISATION})\b[^?:.]*\byou\b", re.IGNORECASE),
)
ROLE_WORDS = (
    re.compile(rf"\b({_ROLE}|job)\b", re.IGNORECASE),
    re.compile(rf"\byour\s+({_ROLE})\b|\b({_ROLE})\b[^?:.]*\byou\b", re.IGNORECASE),
)

_ZIP_MAGIC = b"PK\x03\x04"


class NotRecognised(VmError):
    """No built-in connector reads the file; the message says why, in one line."""


@dataclass(frozen=True)
class Column:
    """A candidate column with what its sample says about it."""

    candidate: Candidate
    answers: int  # distinct non-blank answers in the sample (a block: its chosen labels)
    question_like: bool  # few, short answers: can be a level

    @property
    def name(self) -> str:
        return self.candidate.name


@dataclass
class Starter:
    """A file's connector and the options a user fills in to read it."""

    connector: str
    path: str  # as the user gave it
    sampled: int  # data records sampled
    encoding: str | None = None  # a file that is not UTF-8: the encoding option it needs
    organisation: list[Column] = field(default_factory=list)  # the first is the one proposed
    role: list[Column] = field(default_factory=list)
    questions: list[Column] = field(default_factory=list)
    others: list[Column] = field(default_factory=list)

    def yaml(self) -> str:
        """The ``sources:`` entry, with comments, ready to paste under a cycle of relationship.yaml."""
        return starter_yaml(self)


def _candidates_of(connector: str) -> Callable[[Path], Candidates] | None:
    """The connector's own reading of a file's header into candidate columns (None: fixed columns)."""
    if connector == "qualtrics_csv":
        from connectors.qualtrics_csv.helpers import starter_candidates as qualtrics

        return qualtrics
    if connector == "surveymonkey_csv":
        from connectors.surveymonkey_csv.helpers import starter_candidates as surveymonkey

        return surveymonkey
    if connector == "google_forms_csv":
        from connectors.google_forms_csv.helpers import starter_candidates as google_forms

        return google_forms
    return None


def sniff(path: Path, shown_as: str | None = None) -> Starter:
    """The starter for ``path`` (``shown_as``: the path as the entry should name it).

    Raises :class:`NotRecognised` when no built-in connector reads the file, and the connector's
    :class:`~vm_core.errors.SourceError` when its export is recognised but cannot be read.
    """
    connector = sniff_file(path)
    if connector is None:
        raise NotRecognised(f"{path.name}: {_why_not(path)}")
    starter = Starter(connector, shown_as or str(path), 0)
    read = _candidates_of(connector)
    if read is None:
        return starter
    found = read(path)
    if found.text.encoding != "utf-8":
        starter.encoding = found.text.encoding
    records = _sample(found)
    starter.sampled = len(records)
    for candidate in found.columns:
        for column in _columns(candidate, records):
            _sort(starter, column)
    return starter


def _why_not(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(4)
    if not head:
        return "the file is empty"
    if head == _ZIP_MAGIC:
        return (
            "an Excel workbook (or another zip file): no built-in connector reads workbooks yet; "
            "export or save the responses as CSV"
        )
    kinds = "; ".join(f"{kind} (`{name}`)" for name, kind in EXPORT_KINDS.items())
    return f"its first rows are not the header of an export a built-in connector reads: {kinds}"


def _sample(found: Candidates) -> list[list[str]]:
    """Up to :data:`SAMPLE_ROWS` data records (bytes that are not text are replaced: only counted)."""
    records: list[list[str]] = []
    with found.text.path.open("rb") as fh:
        fh.seek(found.header.data_offset)
        reader = csv.reader(io.TextIOWrapper(fh, encoding="utf-8", errors="replace", newline=""))
        with contextlib.suppress(csv.Error):  # a broken record ends the sample (`vm sources check` names it)
            records.extend(itertools.islice(reader, SAMPLE_ROWS))
    return [r for r in records if any(c.strip() for c in r)]


def _cells(records: list[list[str]], position: int) -> list[str]:
    return [r[position - 1].strip() if position <= len(r) else "" for r in records]


def _columns(candidate: Candidate, records: list[list[str]]) -> list[Column]:
    """The candidate as the starter offers it: one column, one block, or a matrix's columns one by one."""
    if not candidate.parts:
        return [_column(candidate, _cells(records, candidate.positions[0]))]
    per_part = [_cells(records, p.positions[0]) for p in candidate.parts]
    own_labels = all(
        {cell for cell in cells if cell} <= {part.label.strip()}
        for part, cells in zip(candidate.parts, per_part, strict=True)
    )
    one_each = all(sum(1 for cells in per_part if cells[i]) <= 1 for i in range(len(records)))
    if own_labels and one_each:  # one choice per response, as the column's own label: one question
        chosen = [next((cells[i] for cells in per_part if cells[i]), "") for i in range(len(records))]
        return [_column(candidate, chosen)]
    if own_labels:  # several choices at once: never a level
        return [Column(candidate, len(candidate.parts), question_like=False)]
    return [_column(part, cells) for part, cells in zip(candidate.parts, per_part, strict=True)]


def _column(candidate: Candidate, cells: list[str]) -> Column:
    distinct = {cell for cell in cells if cell}
    short = all(len(cell) <= MAX_CHOICE_LENGTH for cell in distinct)
    return Column(candidate, len(distinct), question_like=len(distinct) <= MAX_CHOICES and short)


def _sort(starter: Starter, column: Column) -> None:
    if _about(column, ORGANISATION_WORDS):
        starter.organisation.append(column)
    elif _about(column, ROLE_WORDS):
        starter.role.append(column)
    elif column.question_like:
        starter.questions.append(column)
    else:
        starter.others.append(column)


def _about(column: Column, words: tuple[re.Pattern[str], re.Pattern[str]]) -> bool:
    """The column's own name says it (a short name: "Organisation", "Job Title"), or its question asks it."""
    name, question = words
    named = len(column.name) <= MAX_NAME_WORDS_LENGTH and name.search(column.name)
    return bool(named or question.search(column.candidate.text))


# ------------------------------------------------------------------ as YAML


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is YAML's)."""
    return json.dumps(text, ensure_ascii=False)


def _comment(text: str, limit: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _answers(column: Column, sampled: int) -> str:
    return f"{column.answers} distinct answer(s) in {sampled} row(s)"


def source_key(path: str) -> str:
    """A source key from the file's name: its first words, lower-case, joined by '-'."""
    key = ""
    for word in re.findall(r"[a-z0-9]+", Path(path).stem.lower()):
        if len(key) + len(word) + 1 > MAX_KEY_LENGTH:
            break
        key = f"{key}-{word}" if key else word
    return key or "survey"


def _about_text(column: Column, limit: int = 100) -> str:
    """``  # <question>`` when the question says more than the column's name."""
    text = " ".join(column.candidate.text.split())
    return "" if not text or text == column.name else f"  # {_comment(text, limit)}"


def starter_yaml(starter: Starter) -> str:
    kind = EXPORT_KINDS[starter.connector]
    lines = [
        f"# {Path(starter.path).name}: {kind}, read by `{starter.connector}`.",
        "# Paste under a cycle of relationship.yaml; then `vm sources check relationship.yaml`.",
    ]
    if starter.questions:
        lines.append(
            f"# Replace each {PLACEHOLDER} with a Value Code of your library, and delete the questions "
            "that are none."
        )
    lines += [
        "sources:",
        f"  - key: {source_key(starter.path)}",
        f"    connector: {starter.connector}",
        f"    path: {_quoted(starter.path)}  # relative to the folder of relationship.yaml",
    ]
    options = _options(starter)
    lines += ["    options:", *options] if options else []
    return "\n".join(lines) + "\n"


def _options(starter: Starter) -> list[str]:
    if starter.connector not in ("qualtrics_csv", "surveymonkey_csv", "google_forms_csv"):
        return []
    out: list[str] = []
    if starter.encoding:
        out.append(
            f"      encoding: {starter.encoding}  # the file is not UTF-8: check that its text reads right"
        )
    out.append("      questions:")
    for column in starter.questions:
        about = _about_text(column) or "  #"
        out.append(
            f"        {_quoted(column.name)}: {PLACEHOLDER}{about} ({_answers(column, starter.sampled)})"
        )
    if not starter.questions:
        out.append(f'        # no column looks like a scale question; map one: "column": {PLACEHOLDER}')
    for option, found, what in (
        ("organisation_column", starter.organisation, "organisation"),
        ("role_column", starter.role, "role or job title"),
    ):
        if found:
            first, *rest = found
            out.append(f"      {option}: {_quoted(first.name)}{_about_text(first)}")
            out += [f"      # or: {option}: {_quoted(c.name)}{_about_text(c)}" for c in rest]
        else:
            out.append(
                f"      # {option}: no column looks like the respondent's {what}; name the one holding it"
            )
    if starter.others:
        out.append(
            "      # other columns (free text, numbers, several choices): map one to a Value Code above,"
        )
        out.append("      # or list free-text questions under free_text: [...]")
        out += [
            f"      #   {_quoted(c.name)}{_about_text(c, 70) or '  #'} ({_answers(c, starter.sampled)})"
            for c in starter.others
        ]
    return out


__all__ = ["PLACEHOLDER", "NotRecognised", "SourceError", "Starter", "sniff", "starter_yaml"]
