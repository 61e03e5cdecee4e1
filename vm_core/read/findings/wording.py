"""The words of a finding: pure functions from names and level counts to text (docs/statistics.md, "Findings").

Amounts are computed exactly from the counts (fractions), so a mean difference of exactly 1.25 or
a mean of exactly 2.5 is never rounded one way on one machine and the other way on another.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from fractions import Fraction

from vm_core.scoring.anonymity import Group
from vm_core.store.models import LEVELS

#: The prefix a description of the method's library starts with ("The extent to which issues are …").
DESCRIPTION_LEAD = "the extent to which"
#: Longest name taken from a description, in words (an ellipsis marks the cut).
NAME_WORDS = 6

_PARTS = re.compile(r"[-_.\s]+")
_HALVES = {
    0: "slightly",
    1: "half a level",
    2: "a level",
    3: "one and a half levels",
    4: "two levels",
    5: "two and a half levels",
    6: "three levels",
    7: "three and a half levels",
    8: "four levels",
}


# ---------------------------------------------------------------- names


def readable_name(identifier: str, description: str, short_name: str | None) -> str:
    """A Value Code's name in a sentence or on a page: its short name from the library ("Issue
    resolution"), else one derived from its identifier or description (:func:`derived_name`)."""
    return short_name or derived_name(identifier, description)


def derived_name(identifier: str, description: str) -> str:
    """A name for a Value Code whose library gives it no short name: from its identifier, else its description.

    The identifier is split into words at ``-``, ``_``, ``.`` and spaces. When it has more than one
    word and the first is a prefix of at most four letters (the section: ``REL``, ``DEL``), the
    prefix is dropped. Words are written in lower case with the first letter capitalised, except an
    acronym (all capitals, at most three letters: ``KPI``) and a word holding a digit (``VC1``),
    which keep their spelling: ``REL-OPENNESS`` → "Openness", ``DEL-KPI`` → "KPI",
    ``DEL-SERVICE-QUALITY`` → "Service quality", ``VC1`` → "VC1". An identifier without a letter
    (``1.2``) says nothing, so the description's first clause is used: after a leading "The extent
    to which", up to the first comma, semicolon or full stop, at most :data:`NAME_WORDS` words.
    """
    words = [w for w in _PARTS.split(identifier.strip()) if w]
    if len(words) > 1 and words[0].isalpha() and len(words[0]) <= 4 and _has_letter(words[1:]):
        words = words[1:]
    if not _has_letter(words):
        return _clause(description) or identifier
    spelt = [w if _keeps_spelling(w) else w.lower() for w in words]
    return _capitalised(" ".join(spelt))


def _has_letter(words: Sequence[str]) -> bool:
    return any(c.isalpha() for w in words for c in w)


def _keeps_spelling(word: str) -> bool:
    return (word.isalpha() and word.isupper() and len(word) <= 3) or any(c.isdigit() for c in word)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _clause(description: str) -> str:
    text = " ".join(description.split())
    if text.lower().startswith(DESCRIPTION_LEAD):
        text = text[len(DESCRIPTION_LEAD) :].strip()
    text = re.split(r"[,;.]", text, maxsplit=1)[0].strip()
    words = text.split()
    if len(words) > NAME_WORDS:
        return _capitalised(" ".join(words[:NAME_WORDS])) + "…"
    return _capitalised(text)


def sides(parties: int) -> str:
    """ "both sides" for two parties, "all sides" for more."""
    return "both sides" if parties == 2 else "all sides"


def group_phrase(group: Group, parties: Mapping[str, str], perspectives: Mapping[str, str]) -> str:
    """Who a group is, in words: "Northwind Council", "Middle management", "Middle management at Northwind Council"."""
    party = parties.get(str(group.party), str(group.party))  # a name, else the key
    perspective = perspectives.get(str(group.perspective), str(group.perspective))
    if group.kind == "all":
        return "Everybody"
    if group.kind == "party":
        return party
    if group.kind == "perspective":
        return perspective
    return f"{perspective} at {party}"


def since(baseline: int, earlier_modes: Mapping[int, str]) -> str:
    """The baseline cycle by its mode ("Resolve") when no other earlier cycle has that mode, else "cycle 2"."""
    mode = earlier_modes.get(baseline)
    if mode and sum(1 for m in earlier_modes.values() if m == mode) == 1:
        return mode.title()
    return f"cycle {baseline}"


# ---------------------------------------------------------------- amounts


def exact_mean(counts: Sequence[int]) -> Fraction:
    """Mean level Σ i·l_i / n as an exact fraction (n > 0)."""
    n = sum(counts)
    if n == 0:
        raise ValueError("the mean of an empty cell is undefined")
    return Fraction(sum(level * c for level, c in zip(LEVELS, counts, strict=True)), n)


def nearest_level(counts: Sequence[int]) -> int | None:
    """The level nearest the cell's mean; None when the mean lies exactly halfway between two levels."""
    mean = exact_mean(counts)
    lower = mean.numerator // mean.denominator
    distance = mean - lower
    if distance == Fraction(1, 2):
        return None
    return lower + 1 if distance > Fraction(1, 2) else lower


def _half_up(value: Fraction) -> int:
    """``value`` (≥ 0) rounded to a whole number, halves up."""
    return int((value + Fraction(1, 2)) // 1)


def gap_amount(difference: Fraction) -> str:
    """A mean difference in words, to the nearest half level: "half a level", "a level", "two levels"…

    Under a quarter of a level it is "slightly". The sign is the caller's: this is the size.
    """
    return _HALVES[_half_up(abs(difference) * 2)]


def change_amount(difference: Fraction) -> str | None:
    """A mean difference to one decimal, "0.9 levels"; None when it rounds to 0.0."""
    tenths = _half_up(abs(difference) * 10)
    if tenths == 0:
        return None
    return f"{tenths // 10}.{tenths % 10} levels"


# ---------------------------------------------------------------- sentences


def agreement_sentence(perspective: str, parties: int, name: str, label: str) -> str:
    """ "Middle management on both sides agree that *Issue resolution* is at 'Some way to go'." """
    return f"{perspective} on {sides(parties)} agree that *{name}* is at '{label}'."


def division_sentence(who: str, name: str) -> str:
    """ "Senior leadership are divided about *Commercial arrangements*." (``who`` says which senior leaders)."""
    return f"{who} are divided about *{name}*."


def party_gap_sentence(
    higher: str, lower: str, perspective: str | None, name: str, amount: str | None
) -> str:
    """ "Contoso Services rates *KPIs* a level higher than Northwind Council." — or, within a perspective,
    "Middle management at Contoso Services rate *KPIs* a level higher than at Northwind Council."
    ``amount`` None: the mean difference disagrees with the verdict's direction, so no size is put on it.
    """
    size = f"{amount} higher" if amount else "higher"
    if perspective is None:
        return f"{higher} rates *{name}* {size} than {lower}."
    return f"{perspective} at {higher} rate *{name}* {size} than at {lower}."


def change_sentence(name: str, improved: bool, amount: str | None, since: str, who: str | None) -> str:
    """ "*Openness* improved by 0.9 levels since Resolve." — led by the group for any group but everybody:
    "Front line at Contoso Services: *Openness* improved …". ``amount`` None: no size is put on it.
    """
    verb = "improved" if improved else "declined"
    size = f" by {amount}" if amount else ""
    sentence = f"*{name}* {verb}{size} since {since}."
    return sentence if who is None else f"{who}: {sentence}"
