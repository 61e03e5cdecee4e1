"""The shared printers of every ``--format``: aligned tables, CSV and JSON text."""

from __future__ import annotations

import csv
import io
import json

import pytest

from vm_core.read.output_formats import csv_text, json_text, unknown_format
from vm_core.read.text_table import align_by_name, aligned, column_widths


def test_columns_are_as_wide_as_their_widest_cell_two_spaces_apart() -> None:
    lines = aligned([("code", "n", "mean"), ("DEL-KPI", "12", "2.30"), ("X", "7", "")], "<>>")
    assert lines == [
        "code      n  mean",
        "DEL-KPI  12  2.30",
        "X         7",  # no trailing spaces, even under a blank last cell
    ]


def test_right_aligned_numbers_line_up_on_their_last_digit() -> None:
    lines = aligned([("n",), ("7",), ("120",)], ">")
    assert [len(line) for line in lines] == [3, 3, 3]
    assert lines[1] == "  7"


def test_width_counts_characters_not_bytes() -> None:
    """A hidden cell's "—" (three bytes in UTF-8) is one column wide."""
    lines = aligned([("mean", "group"), ("—", "all")], "><")
    assert lines == ["mean  group", "   —  all"]


def test_a_header_alone_prints() -> None:
    assert aligned([("id", "title")], "><") == ["id  title"]


def test_column_widths_and_align_by_name() -> None:
    assert column_widths([("ab", ""), ("a", "xyz")]) == [2, 3]
    assert align_by_name(("kind", "n", "verdict"), {"kind", "verdict"}) == "<><"


def test_rows_of_another_length_or_a_bad_alignment_are_refused() -> None:
    with pytest.raises(ValueError, match="zip"):
        aligned([("a", "b"), ("c",)], "<<")
    with pytest.raises(ValueError, match="one '<' or '>' per column"):
        aligned([("a",)], "^")


def test_csv_text_reads_back_with_blank_for_none_and_quoted_commas() -> None:
    text = csv_text(("code", "n", "note"), [("A", 3, None), ("B", None, "one, two")])
    assert text == 'code,n,note\nA,3,\nB,,"one, two"\n'
    assert list(csv.reader(io.StringIO(text)))[2] == ["B", "", "one, two"]


def test_json_text_keeps_non_ascii_and_ends_with_a_line() -> None:
    text = json_text([{"name": "Qualität", "n": None}])
    assert text.endswith("]\n")
    assert "Qualität" in text
    assert json.loads(text) == [{"name": "Qualität", "n": None}]


def test_unknown_format_names_the_choices() -> None:
    assert unknown_format("xml") == "unknown format 'xml'; use one of table, csv, json"
    assert unknown_format("csv", ("table", "json")) == "unknown format 'csv'; use one of table, json"
