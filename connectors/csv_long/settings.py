"""Constants of the generic long CSV format (one row per respondent × Value Code)."""

from __future__ import annotations

from vm_core.ingest.connector import Option

NAME = "csv_long"
DESCRIPTION = (
    "Generic long CSV: one row per respondent × Value Code (respondent_id, organisation, role, "
    "value_code, level)"
)

TABLE = "csv_long_answers"
PRIMARY_KEY = ("cycle", "source_key", "respondent_key", "value_code")

REQUIRED_COLUMNS = ("respondent_id", "organisation", "role", "value_code", "level")
OPTIONAL_COLUMNS = ("comment", "response_id", "submitted_at")

#: candidates for the delimiter when the ``delimiter`` option is not set
DELIMITERS = (",", ";", "\t")
#: spellings of the delimiter option that YAML makes awkward to write literally
DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t"}

#: the answer frame's ``source_column`` for every row
SOURCE_COLUMN = "level"

OPTIONS = (Option("delimiter", "one character: ',' ';' or 'tab'; default: detected from the header"),)
OPTION_NAMES = frozenset(option.name for option in OPTIONS)
