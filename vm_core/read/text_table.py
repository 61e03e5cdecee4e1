"""Aligned plain-text tables, as every ``--format table`` listing prints them.

Columns are as wide as their widest cell (header included), two spaces apart, each left- or
right-aligned; a line has no trailing spaces. Cells are text already: formatting numbers is the
caller's job.
"""

from __future__ import annotations

from collections.abc import Sequence

LEFT = "<"
RIGHT = ">"


def column_widths(lines: Sequence[Sequence[str]]) -> list[int]:
    """Per column, the length of its longest cell in ``lines``."""
    return [max(len(cell) for cell in column) for column in zip(*lines, strict=True)]


def aligned(lines: Sequence[Sequence[str]], align: str) -> list[str]:
    """``lines`` (the header usually first) as text lines in columns; ``align`` has a character per
    column, :data:`LEFT` (``<``) or :data:`RIGHT` (``>``)."""
    if any(a not in (LEFT, RIGHT) for a in align):
        raise ValueError(f"align {align!r}: one {LEFT!r} or {RIGHT!r} per column")
    widths = column_widths(lines) if lines else [0] * len(align)
    return [
        "  ".join(
            cell.ljust(width) if a == LEFT else cell.rjust(width)
            for cell, width, a in zip(line, widths, align, strict=True)
        ).rstrip()
        for line in lines
    ]


def align_by_name(columns: Sequence[str], left: set[str] | frozenset[str]) -> str:
    """The ``align`` of :func:`aligned` for ``columns``: those in ``left`` left-aligned, the rest right."""
    return "".join(LEFT if c in left else RIGHT for c in columns)
