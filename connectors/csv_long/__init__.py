"""Generic long CSV (one row per respondent × Value Code) → landing table → answers. See README.md."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import dlt

from connectors.csv_long import settings
from connectors.csv_long.helpers import long_answers, read_long
from vm_core import hookimpl
from vm_core.connector import Connector, ConnectorContext, SourceSpec

if TYPE_CHECKING:
    import pandas as pd
    from dlt.extract.resource import DltResource


@dlt.resource(name=settings.TABLE, primary_key=settings.PRIMARY_KEY, write_disposition="merge")
def csv_long_answers(source: SourceSpec, ctx: ConnectorContext) -> Iterator[Any]:
    """One row per respondent × Value Code, respondent pseudonymised, as one Arrow table."""
    table, rows_read = read_long(source, ctx)
    ctx.report.rows_read += rows_read
    ctx.report.pii_columns_removed.append("respondent_id")
    yield table


class CsvLongConnector:
    name = settings.NAME
    description = settings.DESCRIPTION
    landing_tables: tuple[str, ...] = (settings.TABLE,)
    options = settings.OPTIONS

    def resources(self, source: SourceSpec, ctx: ConnectorContext) -> Sequence[DltResource]:
        return [csv_long_answers(source, ctx)]

    def answers(
        self, landed: Mapping[str, pd.DataFrame], source: SourceSpec, ctx: ConnectorContext
    ) -> pd.DataFrame:
        return long_answers(landed, source, ctx)


@hookimpl
def register_connectors(register: Callable[[Connector], None]) -> None:
    register(CsvLongConnector())
