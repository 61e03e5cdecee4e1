"""What a connector is, and the frames it hands to the modelling step.

A connector does two things for one configured source of one cycle:

1. ``resources(source, ctx)`` returns dlt resources that land what the configuration asks
   for, and nothing else, into the landing dataset: an **allow-list** of the answer, comment,
   organisation and role columns, the pseudonymised respondent (``ctx.pseudonymise``, never
   the raw id or e-mail), response id / row bookkeeping, and the columns the configuration
   explicitly keeps (``keep_columns``). Every other column is left behind and only its *name*
   is recorded in ``ctx.report.columns_not_landed``. Comments pass through
   :func:`vm_core.scrub.scrub` (e-mail addresses, phone numbers, links) before they are
   yielded. Every landed row carries ``cycle``, ``source_key`` and ``response_id``; the
   primary key includes them and the write disposition is ``merge``, so landing the same
   or an overlapping export again changes nothing / updates in place.
2. ``answers(landed, source, ctx)`` turns those landed rows (read back as pandas
   frames, one per table in ``landing_tables``, filtered to this cycle and source,
   so a cycle can be re-modelled without the source file) into the long answer
   frame with :data:`ANSWER_COLUMNS`, one row per respondent × Value Code.

Errors (:class:`vm_core.errors.SourceError`) and reports name file, row, column and the kind
of problem, never a cell's value: they end up in logs and Prefect artifacts.

Everything after that (levels, parties, perspectives, validation, storage,
scoring) is the same for every connector and lives in ``vm_core``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from vm_core.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd
    from dlt.extract.resource import DltResource

#: Columns of the long answer frame every connector's ``answers`` returns.
ANSWER_COLUMNS: tuple[str, ...] = (
    "source_key",  # the source's key in the configuration
    "source_file",  # file name as received
    "source_row",  # spreadsheet row number in that file (header rows included, 1-based)
    "source_column",  # column header as written in the file, for error messages
    "response_id",  # the source's own response id
    "respondent_key",  # HMAC pseudonym of the respondent (never the e-mail or id itself)
    "organisation",  # raw organisation value, mapped to a party later (None if absent)
    "role",  # raw role/level value, mapped to a perspective later (None if absent)
    "value_code",  # Value Code identifier this answer is for
    "value",  # raw answer cell as text (label or number); None when blank
    "comment",  # free-text comment for this Value Code, if any
)

#: Columns every landed table has (and its primary key starts with), whatever else a connector keeps.
LANDING_KEY: tuple[str, ...] = ("cycle", "source_key")


@dataclass(frozen=True)
class Option:
    """One key a connector accepts under a source's ``options:``; checked when the configuration loads."""

    name: str
    help: str
    types: tuple[type, ...] = (str,)
    #: a mapping of column -> Value Code identifier: every identifier must be in the cycle's library
    value_codes: bool = False


@dataclass(frozen=True)
class SourceSpec:
    """One source of one cycle, as written in the relationship configuration."""

    key: str
    connector: str
    path: Path  # as configured (resolved against the configuration's folder): a file, a folder or a glob
    options: Mapping[str, Any] = field(default_factory=dict)
    delivery: str = "replace"  # "replace": each delivery is the whole source; "append": adds to earlier ones
    delivery_key: str | None = None  # with "append": the column identifying a delivered row
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
        """Keyed hash of a respondent id/e-mail: stable per installation, irreversible without the secret."""
        normalised = respondent_id.strip().lower().encode()
        return hmac.new(self.secret, normalised, hashlib.sha256).hexdigest()


@runtime_checkable
class Connector(Protocol):
    name: str
    description: str
    #: the landed tables ``answers`` reads back (resource names of ``resources``)
    landing_tables: tuple[str, ...]

    @property
    def options(self) -> tuple[Option, ...]:
        """Every key the connector accepts under ``options:`` (unknown keys are configuration errors)."""
        ...

    def resources(self, source: SourceSpec, ctx: ConnectorContext) -> Sequence[DltResource]: ...

    def answers(
        self, landed: Mapping[str, pd.DataFrame], source: SourceSpec, ctx: ConnectorContext
    ) -> pd.DataFrame: ...
