"""Constants of the Qualtrics response-CSV format (names as Qualtrics writes them)."""

from __future__ import annotations

from vm_core.ingest.connector import ORGANISATION, ROLE, Option

NAME = "qualtrics_csv"
DESCRIPTION = "Qualtrics response CSV export (3-header-row ImportId format, or legacy V1 format)"

RESPONSES_TABLE = "qualtrics_responses"
COLUMNS_TABLE = "qualtrics_columns"
RESPONSES_PRIMARY_KEY = ("cycle", "source_key", "response_id")
COLUMNS_PRIMARY_KEY = ("cycle", "source_key", "position")

#: header rows before the first response: export tags / labels / ImportId JSON
HEADER_ROWS = 3
#: the legacy (pre-2017) export has no ImportId row
LEGACY_HEADER_ROWS = 2
#: first cell of a legacy export's row 1
LEGACY_FIRST_TAG = "V1"

# Metadata fields, named as the current export's row-1 tags. A column's field is found from its
# ImportId (stable), else its export tag, else (legacy) its V-number.
RESPONSE_ID = "ResponseId"
STATUS = "Status"
FINISHED = "Finished"
RECORDED_DATE = "RecordedDate"
DISTRIBUTION_CHANNEL = "DistributionChannel"
RECIPIENT_EMAIL = "RecipientEmail"
EXTERNAL_REFERENCE = "ExternalReference"

IMPORT_ID_FIELDS: dict[str, str] = {
    "_recordId": RESPONSE_ID,
    "status": STATUS,
    "finished": FINISHED,
    "recordedDate": RECORDED_DATE,
    "distributionChannel": DISTRIBUTION_CHANNEL,
    "ipAddress": "IPAddress",
    "recipientLastName": "RecipientLastName",
    "recipientFirstName": "RecipientFirstName",
    "recipientEmail": RECIPIENT_EMAIL,
    "externalDataReference": EXTERNAL_REFERENCE,
    "locationLatitude": "LocationLatitude",
    "locationLongitude": "LocationLongitude",
}
#: export tags of the metadata fields (used only when a column has no ImportId)
TAG_FIELDS: dict[str, str] = {field: field for field in IMPORT_ID_FIELDS.values()}

#: legacy export: row-1 name -> (field, name the legacy export's row 2 gives it)
LEGACY_FIELDS: dict[str, tuple[str, str]] = {
    "V1": (RESPONSE_ID, "ResponseID"),
    "V2": ("ResponseSet", "ResponseSet"),
    "V3": ("Name", "Name"),
    "V4": (EXTERNAL_REFERENCE, "ExternalDataReference"),
    "V5": (RECIPIENT_EMAIL, "EmailAddress"),
    "V6": ("IPAddress", "IPAddress"),
    "V7": (STATUS, "Status"),
    "V8": ("StartDate", "StartDate"),
    "V9": ("EndDate", "EndDate"),
    "V10": (FINISHED, "Finished"),
    "LocationLatitude": ("LocationLatitude", "LocationLatitude"),
    "LocationLongitude": ("LocationLongitude", "LocationLongitude"),
    "LocationAccuracy": ("LocationAccuracy", "LocationAccuracy"),
}

#: fields holding personal data: never landed unless listed in ``keep_columns``
PERSONAL_FIELDS = frozenset(
    {
        "IPAddress",
        "RecipientLastName",
        "RecipientFirstName",
        RECIPIENT_EMAIL,
        EXTERNAL_REFERENCE,
        "LocationLatitude",
        "LocationLongitude",
        "LocationAccuracy",
        "Name",
    }
)

#: fields landed as their own columns of ``qualtrics_responses`` (so not repeated in ``cells``)
DEDICATED_FIELDS: dict[str, str] = {
    RESPONSE_ID: "response_id",
    STATUS: "status",
    FINISHED: "finished",
    RECORDED_DATE: "recorded_date",
}

#: default respondent identity: first non-blank of these fields
RESPONDENT_FIELDS = (RECIPIENT_EMAIL, EXTERNAL_REFERENCE, RESPONSE_ID)
LEGACY_RESPONDENT_FIELDS = (RECIPIENT_EMAIL, RESPONSE_ID)

# Status as label (useLabels) or code; DistributionChannel is never localised.
PREVIEW_STATUSES = frozenset({"survey preview", "1"})
TEST_STATUSES = frozenset({"survey test", "2"})
PREVIEW_CHANNEL = "preview"
TEST_CHANNEL = "test"

#: suffix joining an ImportId and its choiceId into a column key (``QID36#1``)
CHOICE_SEPARATOR = "#"
#: suffix making a repeated column key unique (``Q5~2`` for the second ``Q5``)
DUPLICATE_SEPARATOR = "~"
#: key of a column without any header text (``_col7``)
BLANK_KEY_PREFIX = "_col"

OPTIONS = (
    Option(
        "questions",
        "column (export tag or ImportId) -> Value Code; default: columns named after Value Codes",
        (dict,),
        value_codes=True,
    ),
    Option("comments", "column -> Value Code whose free-text comment it holds", (dict,), value_codes=True),
    Option(
        "organisation_column",
        "column (embedded data or a question) holding the respondent's organisation (mapped to a party)",
        holds=ORGANISATION,
    ),
    Option(
        "role_column",
        "column (embedded data or a question) holding the respondent's role or job title (mapped to a "
        "perspective)",
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
OPTION_NAMES = frozenset(option.name for option in OPTIONS)
