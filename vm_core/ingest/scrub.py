"""Scrub free-text comments of contact details before they land.

A comment is the one place a respondent writes freely, and people write what identifies them or a
colleague: "email jane.doe@contoso.example", "call me on +44 7700 900123", "see https://intranet/x".
Connectors pass every comment through :func:`scrub` before anything is yielded, so such details never
reach the landing, the store or any output. Replacements keep the sentence readable:
``[e-mail]``, ``[phone]``, ``[link]``.

Phone numbers are recognised in international form (``+`` and a country code), UK national form
(a leading ``0``, 10–11 digits) and US form (``(555) 123-4567``, ``555-123-4567``); a match must hold at
least :data:`MIN_PHONE_DIGITS` digits, so years, dates, counts, percentages and Value Code identifiers are
left alone.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import pyarrow as pa

EMAIL: Final = "[e-mail]"
PHONE: Final = "[phone]"
LINK: Final = "[link]"

#: fewest digits a phone number has (UK national numbers have 10–11, US 10, the shortest international 8)
MIN_PHONE_DIGITS: Final = 8

_LINK = re.compile(
    r"""(?ix)
    \b(?:(?:https?|ftp)://|www\.)     # a scheme, or a bare www. address
    [^\s<>"']*[^\s<>"'.,;:!?)\]}]      # up to the first space; trailing punctuation is the sentence's
    """
)
_EMAIL = re.compile(r"(?i)\b(?:mailto:)?[\w.%+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(
    r"""(?x)
    (?<![\w+/.-])                                          # not inside a word, number, date or code
    (?:
        \+\d{1,3}[\s.-]?(?:\(0\)[\s.-]?)?\(?\d{1,4}\)?(?:[\s.-]?\d{2,4}){1,4}   # +44 7700 900123
      | \(?0\d{2,4}\)?[\s-]?\d{3,4}[\s-]?\d{3,4}                              # 07700 900123, 020 7946 0958
      | \(\d{3}\)\s?\d{3}[\s.-]\d{4}                                         # (555) 123-4567
      | \d{3}[.-]\d{3}[.-]\d{4}                                              # 555-123-4567
    )
    (?![\w/.-]?\d)                                         # and not followed by more of a number
    """
)


#: Every text :func:`scrub` could change matches this (a cheap superset, in RE2 syntax for Arrow):
#: an ``@``, a scheme or ``www.``, or a run of digits and separators long enough for a phone number.
CANDIDATE: Final = r"@|://|(?i:www\.)|\d[\d\s().+/-]{6,}\d"


def scrub_counted(text: str) -> tuple[str, Counter[str]]:
    """The text with e-mail addresses, phone numbers and links replaced, and how many of each."""
    found: Counter[str] = Counter()

    def replace(kind: str) -> Callable[[re.Match[str]], str]:
        def sub(match: re.Match[str]) -> str:
            if kind == PHONE and sum(c.isdigit() for c in match.group()) < MIN_PHONE_DIGITS:
                return match.group()
            found[kind] += 1
            return kind

        return sub

    # links first: a URL may hold an address-like part (user@host) that is part of the link
    text = _LINK.sub(replace(LINK), text)
    text = _EMAIL.sub(replace(EMAIL), text)
    text = _PHONE.sub(replace(PHONE), text)
    return text, found


def scrub_array(values: pa.Array, counts: Counter[str]) -> pa.Array:
    """:func:`scrub` over an Arrow string array; only candidate texts (:data:`CANDIDATE`) reach Python."""
    import pyarrow as pa
    import pyarrow.compute as pc

    candidates = pc.fill_null(pc.match_substring_regex(values, CANDIDATE), False)
    if not pc.any(candidates).as_py():
        return values
    texts = values.to_pylist()
    for index in pc.indices_nonzero(candidates).to_pylist():
        texts[index], found = scrub_counted(texts[index])
        counts.update(found)
    return pa.array(texts, pa.string())


def scrub(text: str) -> str:
    """The text with e-mail addresses, phone numbers and links replaced by ``[e-mail]``, ``[phone]``, ``[link]``."""
    return scrub_counted(text)[0]
