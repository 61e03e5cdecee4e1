"""Qualtrics response CSV export → landing tables → long answers. See README.md beside this file."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import dlt

from connectors.qualtrics_csv import settings
from connectors.qualtrics_csv.helpers import Export, long_answers, read_export
from vm_core import hookimpl
from vm_core.connector import Connector, ConnectorContext, SourceSpec

if TYPE_CHECKING:
    import pandas as pd
    from dlt.extract.resource import DltResource


class _ParsedOnce:
    """Parse the file the first time either resource runs, count it into the report once."""

    def __init__(self, source: SourceSpec, ctx: ConnectorContext):
        self.source, self.ctx = source, ctx
        self._export: Export | None = None

    def get(self) -> Export:
        if self._export is None:
            export = read_export(self.source, self.ctx)
            report = self.ctx.report
            report.rows_read += export.rows_read
            report.dropped.update(export.dropped)
            report.pii_columns_removed.extend(export.pii_removed)
            report.columns_not_landed.extend(export.not_landed)
            report.scrubbed.update(export.scrubbed)
            self._export = export
        return self._export


@dlt.resource(
    name=settings.RESPONSES_TABLE, primary_key=settings.RESPONSES_PRIMARY_KEY, write_disposition="merge"
)
def qualtrics_responses(parsed: _ParsedOnce) -> Iterator[Any]:
    """One row per response (preview/test dropped; only mapped or kept columns, comments scrubbed)."""
    yield parsed.get().responses


@dlt.resource(
    name=settings.COLUMNS_TABLE, primary_key=settings.COLUMNS_PRIMARY_KEY, write_disposition="merge"
)
def qualtrics_columns(parsed: _ParsedOnce) -> Iterator[Any]:
    """One row per column of the file: position, key, export tag, label, ImportId."""
    yield parsed.get().column_table


class QualtricsCsvConnector:
    name = settings.NAME
    description = settings.DESCRIPTION
    landing_tables: tuple[str, ...] = (settings.RESPONSES_TABLE, settings.COLUMNS_TABLE)
    options = settings.OPTIONS

    def resources(self, source: SourceSpec, ctx: ConnectorContext) -> Sequence[DltResource]:
        parsed = _ParsedOnce(source, ctx)
        return [qualtrics_responses(parsed), qualtrics_columns(parsed)]

    def answers(
        self, landed: Mapping[str, pd.DataFrame], source: SourceSpec, ctx: ConnectorContext
    ) -> pd.DataFrame:
        return long_answers(landed, source, ctx)


@hookimpl
def register_connectors(register: Callable[[Connector], None]) -> None:
    register(QualtricsCsvConnector())
