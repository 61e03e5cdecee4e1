"""Errors that reach a user: one line naming file, row and column."""

from __future__ import annotations


class VmError(Exception):
    """Base class for errors shown to a user as one line, without a traceback."""


class SourceError(VmError):
    """A source file (or one of its rows) cannot be read.

    ``row`` is the spreadsheet row number (header rows included, 1-based), as a user
    sees it when opening the file; ``column`` is the header as written in the file.
    """

    def __init__(self, file: str, message: str, row: int | None = None, column: str | None = None):
        self.file, self.row, self.column, self.message = file, row, column, message
        where = (
            file + (f", row {row}" if row is not None else "") + (f", column {column!r}" if column else "")
        )
        super().__init__(f"{where}: {message}")


class ConfigError(VmError):
    """A relationship configuration is invalid."""
