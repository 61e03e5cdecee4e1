"""The options every wide survey-export connector shares (one row per response, one column per question).

``questions`` / ``comments`` map a column to a Value Code, ``organisation_column`` / ``role_column``
name who answered, ``respondent_id`` the identity, ``keep_columns`` what lands besides, and
``free_text`` the boxes no Value Code covers. How a column is named is each connector's own
(Qualtrics ImportId or export tag; SurveyMonkey question text; Google Forms question title).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vm_core.errors import ConfigError
from vm_core.ingest.connector import ORGANISATION, ROLE, ConnectorContext, Option, SourceSpec


def column_options(named_by: str) -> tuple[Option, ...]:
    """The shared options' declarations; ``named_by`` says how this connector's columns are named."""
    return (
        Option(
            "questions",
            f"column ({named_by}) -> Value Code; default: columns named after Value Codes",
            (dict,),
            value_codes=True,
        ),
        Option(
            "comments", "column -> Value Code whose free-text comment it holds", (dict,), value_codes=True
        ),
        Option(
            "organisation_column",
            "column (a question, embedded data or a custom variable) holding the respondent's organisation "
            "(mapped to a party)",
            holds=ORGANISATION,
        ),
        Option(
            "role_column",
            "column (a question, embedded data or a custom variable) holding the respondent's role or job "
            "title (mapped to a perspective)",
            holds=ROLE,
        ),
        Option("respondent_id", "column identifying a respondent across cycles; default: e-mail, then id"),
        Option("keep_columns", "personal-data columns to land anyway (names)", (list,)),
        Option(
            "free_text",
            "free-text columns no Value Code covers (e.g. 'Anything else?'): landed scrubbed, read as "
            "comments on no Value Code (candidate new Things That Matter)",
            (list,),
        ),
    )


@dataclass(frozen=True)
class ColumnOptions:
    questions: dict[str, str] | None  # column name -> Value Code identifier (canonical spelling)
    comments: dict[str, str]
    organisation_column: str | None
    role_column: str | None
    respondent_id: str | None
    keep_columns: frozenset[str]  # lower-cased names
    free_text: tuple[str, ...]  # free-text columns no Value Code covers, as named in the configuration

    def keeps(self, *names: str) -> bool:
        """The configuration lists a column in ``keep_columns`` by one of these names."""
        return any(n.strip().lower() in self.keep_columns for n in names if n)


def check_known(source: SourceSpec, connector: str, known: frozenset[str]) -> None:
    unknown = sorted(set(source.options) - known)
    if unknown:
        raise ConfigError(
            f"source {source.key!r}: options: unknown option {unknown[0]!r} for connector {connector!r} "
            f"(known: {', '.join(sorted(known))})"
        )


def parse_column_options(
    source: SourceSpec, ctx: ConnectorContext, connector: str, known: frozenset[str]
) -> ColumnOptions:
    """The shared options of a source, checked (``known``: every option the connector declares)."""
    where = f"source {source.key!r}: options"
    options = source.options
    check_known(source, connector, known)
    codes = {code.lower(): code for code in ctx.value_codes}

    def mapping(name: str) -> dict[str, str] | None:
        value = options.get(name)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}.{name}: must be a mapping of column -> Value Code")
        result: dict[str, str] = {}
        for column, code in value.items():
            if not isinstance(column, str | int) or not isinstance(code, str):
                raise ConfigError(
                    f"{where}.{name}.{column}: must map a column name to a Value Code identifier"
                )
            if code.strip().lower() not in codes:
                raise ConfigError(
                    f"{where}.{name}.{column}: {code!r} is not a Value Code of this cycle's library"
                )
            result[str(column)] = codes[code.strip().lower()]
        return result

    def column(name: str) -> str | None:
        value = options.get(name)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}.{name}: must be a column name")
        return value or None

    def names(name: str) -> list[str]:
        value = options.get(name) or []
        if not isinstance(value, list | tuple) or not all(isinstance(k, str) for k in value):
            raise ConfigError(f"{where}.{name}: must be a list of column names")
        return list(value)

    keep = names("keep_columns")
    return ColumnOptions(
        questions=mapping("questions"),
        comments=mapping("comments") or {},
        organisation_column=column("organisation_column"),
        role_column=column("role_column"),
        respondent_id=column("respondent_id"),
        keep_columns=frozenset(k.strip().lower() for k in [*keep, *ctx.keep_columns]),
        free_text=tuple(names("free_text")),
    )
