"""Constants of the SurveyMonkey response-CSV format (names as SurveyMonkey writes them)."""

from __future__ import annotations

from connectors.options import column_options
from vm_core.ingest.connector import Option

NAME = "surveymonkey_csv"
DESCRIPTION = "SurveyMonkey response CSV export (2 header rows; expanded or condensed; any era)"

RESPONSES_TABLE = "surveymonkey_responses"
COLUMNS_TABLE = "surveymonkey_columns"

#: row 1 (question text, carried over its block) and row 2 (choice / sub-question labels)
HEADER_ROWS = 2

# Metadata fields. A metadata column has a name in row 1 and nothing in row 2; it is recognised by
# its name with spaces removed and lower-cased ("Respondent ID" and the older "RespondentID" alike).
RESPONDENT_ID = "respondent_id"
COLLECTOR_ID = "collector_id"
START_DATE = "start_date"
END_DATE = "end_date"
IP_ADDRESS = "ip_address"
EMAIL_ADDRESS = "email_address"
FIRST_NAME = "first_name"
LAST_NAME = "last_name"
CUSTOM_DATA = "custom_data"

METADATA_NAMES: dict[str, str] = {
    "respondentid": RESPONDENT_ID,
    "collectorid": COLLECTOR_ID,
    "startdate": START_DATE,
    "enddate": END_DATE,
    "ipaddress": IP_ADDRESS,
    "emailaddress": EMAIL_ADDRESS,
    "firstname": FIRST_NAME,
    "lastname": LAST_NAME,
    "customdata": CUSTOM_DATA,  # also "Custom Data 1", "Custom Data 2", …
}

#: never landed unless listed in ``keep_columns``
PERSONAL_FIELDS = frozenset({IP_ADDRESS, EMAIL_ADDRESS, FIRST_NAME, LAST_NAME})
#: landed as their own columns of ``surveymonkey_responses``
DEDICATED_FIELDS: dict[str, str] = {
    COLLECTOR_ID: "collector_id",
    START_DATE: "start_date",
    END_DATE: "end_date",
}
#: default respondent identity: first non-blank of these fields
RESPONDENT_FIELDS = (EMAIL_ADDRESS, RESPONDENT_ID)

#: a block's "Other (please specify)" text column is not one of its choices
OTHER_LABEL = "other (please specify)"

OPTIONS = (
    *column_options("question text, or 'question | label' for one column of a block"),
    Option("encoding", "the file's encoding when it is not UTF-8: cp1252, mac_roman, latin-1, …"),
)
OPTION_NAMES = frozenset(option.name for option in OPTIONS)
