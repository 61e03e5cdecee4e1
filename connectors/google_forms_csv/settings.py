"""Constants of the Google Forms responses CSV (the "Form Responses" sheet downloaded as CSV)."""

from __future__ import annotations

from connectors.options import column_options

NAME = "google_forms_csv"
DESCRIPTION = "Google Forms responses CSV (the responses sheet downloaded as CSV)"

RESPONSES_TABLE = "google_forms_responses"
COLUMNS_TABLE = "google_forms_columns"

#: one header row: the question titles as written in the form
HEADER_ROWS = 1

# Metadata columns, recognised by their header with spaces removed and lower-cased.
TIMESTAMP = "timestamp"
EMAIL_ADDRESS = "email_address"
SCORE = "score"
METADATA_NAMES: dict[str, str] = {"timestamp": TIMESTAMP, "emailaddress": EMAIL_ADDRESS, "score": SCORE}

#: never landed unless listed in ``keep_columns``
PERSONAL_FIELDS = frozenset({EMAIL_ADDRESS})
#: landed as their own columns of ``google_forms_responses``
DEDICATED_FIELDS: dict[str, str] = {TIMESTAMP: "submitted_at"}
#: default respondent identity: the collected e-mail address, else the response itself
RESPONDENT_FIELDS = (EMAIL_ADDRESS,)
#: a response's id: its Timestamp and spreadsheet row (Google Forms writes no id of its own)
ROW_SEPARATOR = " #"

OPTIONS = column_options("question title as in row 1")
OPTION_NAMES = frozenset(option.name for option in OPTIONS)
