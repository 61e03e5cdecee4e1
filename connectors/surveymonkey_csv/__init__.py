"""SurveyMonkey response CSV export → landed responses (Arrow batches) and an answer plan. See README.md."""

from __future__ import annotations

from collections.abc import Callable

from connectors.surveymonkey_csv import settings
from connectors.surveymonkey_csv.helpers import deliver
from vm_core import hookimpl
from vm_core.ingest.connector import Connector, ConnectorContext, Delivery, SourceSpec, files_fingerprint


class SurveyMonkeyCsvConnector:
    name = settings.NAME
    description = settings.DESCRIPTION
    options = settings.OPTIONS

    def fingerprint(self, source: SourceSpec, ctx: ConnectorContext) -> str:
        return files_fingerprint(source.files())

    def read(self, source: SourceSpec, ctx: ConnectorContext) -> Delivery:
        return deliver(source, ctx)


@hookimpl
def register_connectors(register: Callable[[Connector], None]) -> None:
    register(SurveyMonkeyCsvConnector())
