"""What a connector is: the contract between a source system and vm (version 2).

A connector serves one configured source of one cycle:

1. ``fingerprint(source, ctx)`` says what the source holds now (a file's SHA-256, a folder's
   files and their hashes, an API's cursor). The pipeline compares it with the fingerprint of
   the last committed load: equal means unchanged, and nothing is read.
2. ``read(source, ctx)`` returns a :class:`Delivery`: one or more **landed tables**, each a
   stream of Arrow record batches with a fixed schema, and an :class:`AnswerPlan` saying how
   the rows of one of them become answers (respondent × Value Code). The pipeline writes the
   landed tables to the lake as they stream (memory does not grow with the size of a file),
   then models answers with one columnar query (:mod:`vm_core.ingest.modelling`). Tables the plan
   does not name (operational records from a CRM or contract system) are landed as they are.

What lands is an **allow-list**: the answer, comment, organisation and role columns the plan
reads, provenance, the pseudonymised respondent (``ctx.pseudonymise``: never the raw id or
e-mail) and the columns the configuration explicitly keeps (``keep_columns``). Every other
column is left behind and only its *name* is recorded in ``ctx.report.columns_not_landed``.
Comments pass through :func:`vm_core.ingest.scrub.scrub` before they are yielded.

The answers table has at least :data:`ANSWER_TABLE_COLUMNS` (source file, spreadsheet row,
response id, respondent key). A source's new delivery replaces what it delivered before to
that cycle; a source configured with ``delivery: append`` adds to it instead, the newest row
per ``delivery_key`` winning (see README, "Delivery semantics").

Errors (:class:`vm_core.errors.SourceError`) name file, row, column and the kind of problem,
never a cell's value: they end up in logs and Prefect artifacts. A connector may raise while
its batches stream; nothing of that load becomes visible.

Connectors declare their :class:`Option` s; the configuration is checked against them when it
loads, whether or not any file changed.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from vm_core.errors import ConfigError

#: Columns every landed answers table has (besides the columns its plan reads).
ANSWER_TABLE_COLUMNS: tuple[str, ...] = (
    "source_file",  # file name as received
    "source_row",  # spreadsheet row number in that file (header rows included, 1-based), int64
    "response_id",  # the source's own response id
    "respondent_key",  # HMAC pseudonym of the respondent (never the e-mail or id itself)
)


@dataclass(frozen=True)
class Option:
    """One key a connector accepts under a source's ``options:``; checked when the configuration loads."""

    name: str
    help: str
    types: tuple[type, ...] = (str,)
    #: a mapping of column -> Value Code identifier: every identifier must be in the cycle's library
    value_codes: bool = False
    #: :data:`ORGANISATION` or :data:`ROLE`: the option names the column holding the respondent's
    #: organisation or role, so the configuration refuses a source that also says it another way
    #: (``party:``, a ``participants:`` list)
    holds: str | None = None


#: what an option (:attr:`Option.holds`) or a participant list gives about a respondent
ORGANISATION = "organisation"
ROLE = "role"


@dataclass(frozen=True)
class ParticipantListSpec:
    """A source's ``participants:``: a list joined to its responses on the respondent's identity.

    ``identity`` is the list's column holding what the connector pseudonymises as the respondent
    (an e-mail address or an id); ``organisation`` and ``role`` name the columns read from it (at
    least one). Column names match ignoring case and spacing. Only the pseudonym, organisation
    and role of each row land (:mod:`vm_core.ingest.participant_list`).
    """

    file: Path
    identity: str
    organisation: str | None = None
    role: str | None = None
    where: str = (
        ""  # file and key path for messages, e.g. "relationship.yaml: cycles[0].sources[0].participants"
    )


@dataclass(frozen=True)
class SourceSpec:
    """One source of one cycle, as written in the relationship configuration."""

    key: str
    connector: str
    path: Path  # as configured (resolved against the configuration's folder): a file, a folder or a glob
    options: Mapping[str, Any] = field(default_factory=dict)
    delivery: str = "replace"  # "replace": each delivery is the whole source; "append": adds to earlier ones
    delivery_key: str | None = None  # with "append": the column identifying a delivered row
    #: one survey per party: every response of the source belongs to this party (key)
    party: str | None = None
    #: a participant list giving the respondents' organisation and/or role
    participants: ParticipantListSpec | None = None
    where: str = ""  # file and key path for messages, e.g. "relationship.yaml: cycles[0].sources[0]"

    def files(self) -> list[Path]:
        """The files the source names now: a file; a folder's files by name; a glob's matches by name."""
        where = f"{self.where}.path: " if self.where else ""
        if self.path.is_file():
            return [self.path]
        if self.path.is_dir():
            found = sorted(p for p in self.path.iterdir() if p.is_file() and not p.name.startswith("."))
            if not found:
                raise ConfigError(f"{where}folder has no files: {self.path}")
            return found
        parts = self.path.parts
        magic = next((i for i, part in enumerate(parts) if any(c in part for c in "*?[")), None)
        if magic is None:
            raise ConfigError(f"{where}no such file or folder: {self.path}")
        pattern = str(Path(*parts[magic:]))
        found = sorted(
            p for p in Path(*parts[:magic]).glob(pattern) if p.is_file() and not p.name.startswith(".")
        )
        if not found:
            raise ConfigError(f"{where}no file matches {self.path}")
        return found


@dataclass
class ExtractReport:
    """Counts a connector fills in while its resources are extracted."""

    rows_read: int = 0
    dropped: Counter[str] = field(default_factory=Counter)  # reason -> rows (e.g. "preview", "test")
    pii_columns_removed: list[str] = field(default_factory=list)  # known personal-data columns left behind
    columns_not_landed: list[str] = field(default_factory=list)  # any other column left behind (names only)
    scrubbed: Counter[str] = field(default_factory=Counter)  # "[e-mail]"/"[phone]"/"[link]" -> replaced


@dataclass(frozen=True)
class ConnectorContext:
    relationship_key: str
    cycle: int
    secret: bytes
    value_codes: Sequence[str]  # identifiers of the cycle's library version
    keep_columns: frozenset[str] = frozenset()  # personal-data columns the configuration keeps
    report: ExtractReport = field(default_factory=ExtractReport)

    def pseudonymise(self, respondent_id: str) -> str:
        """Keyed hash of a respondent id/e-mail: stable per installation, irreversible without the secret.

        HMAC-SHA256 (RFC 2104) of the id stripped and lower-cased, as 64 hex digits.
        """
        return self.pseudonymise_many([respondent_id])[0]

    def pseudonymise_many(self, respondent_ids: Iterable[str]) -> list[str]:
        """:meth:`pseudonymise` of each id: the keyed pads are hashed once, not once per id."""
        inner, outer = _hmac_pads(self.secret)
        out = []
        for respondent_id in respondent_ids:
            digest = inner.copy()
            digest.update(respondent_id.strip().lower().encode())
            final = outer.copy()
            final.update(digest.digest())
            out.append(final.hexdigest())
        return out


def _hmac_pads(secret: bytes) -> tuple[Any, Any]:
    """SHA-256 states after the HMAC inner and outer key pads (RFC 2104), to copy per message."""
    block = 64
    key = hashlib.sha256(secret).digest() if len(secret) > block else secret
    key = key.ljust(block, b"\0")
    return (
        hashlib.sha256(bytes(b ^ 0x36 for b in key)),
        hashlib.sha256(bytes(b ^ 0x5C for b in key)),
    )


@dataclass(frozen=True)
class PlanItem:
    """A wide table's Value Code: the column holding its answer, and the one holding its comment."""

    value_code: str
    value: str | None  # None: the Value Code has only a comment column
    comment: str | None
    source_column: str  # the column's name as the user knows it (error messages, quarantine)


@dataclass(frozen=True)
class FreeTextColumn:
    """A landed free-text column that no Value Code covers ("Anything else you would like to tell us?").

    Its answers are read as comments on no Value Code (``vm_core.read.comments``): candidate new
    Things That Matter. Scrubbed when landed, like every comment.
    """

    column: str  # the landed column of the plan's table
    label: str  # what respondents were asked (or the column's name as the user knows it)


@dataclass(frozen=True)
class AnswerPlan:
    """How the rows of the landed table ``table`` become answers; stored with the load (JSON).

    *Wide* (one row per response, one column per Value Code): ``items``. *Long* (one row per
    respondent × Value Code): ``value_code`` and ``value`` name columns, ``source_column`` is
    the name errors give for the value column. ``free_text``: landed columns of ``table`` holding
    free text no Value Code covers; modelling ignores them, the comments read side shows them.
    """

    table: str
    organisation: str | None
    role: str | None
    items: tuple[PlanItem, ...] = ()
    value_code: str | None = None
    value: str | None = None
    comment: str | None = None
    source_column: str | None = None
    free_text: tuple[FreeTextColumn, ...] = ()

    @property
    def long(self) -> bool:
        return self.value_code is not None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> AnswerPlan:
        data = json.loads(text)
        data["items"] = tuple(PlanItem(**item) for item in data.get("items", ()))
        data["free_text"] = tuple(FreeTextColumn(**column) for column in data.get("free_text", ()))
        return cls(**data)


@dataclass(frozen=True)
class LandedTable:
    """One table a delivery lands: a fixed schema and its batches (consumed once, as they stream)."""

    name: str
    schema: pa.Schema
    batches: Iterable[pa.RecordBatch]


@dataclass(frozen=True)
class Delivery:
    tables: tuple[LandedTable, ...]
    plan: AnswerPlan | None  # None: records only, no answers (operational measures)


@runtime_checkable
class Connector(Protocol):
    name: str
    description: str

    @property
    def options(self) -> tuple[Option, ...]:
        """Every key the connector accepts under ``options:`` (unknown keys are configuration errors)."""
        ...

    def fingerprint(self, source: SourceSpec, ctx: ConnectorContext) -> str: ...

    def read(self, source: SourceSpec, ctx: ConnectorContext) -> Delivery: ...


def files_fingerprint(paths: Sequence[Path]) -> str:
    """SHA-256 over the files' names and contents, in order: a change to any file changes it."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()
