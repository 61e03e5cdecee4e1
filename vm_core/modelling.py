"""Answers (any connector) → the canonical evaluation frame, with mapping failures quarantined."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from vm_core.connector import ANSWER_COLUMNS
from vm_core.contract import EVALUATION_COLUMNS, QUARANTINE_COLUMNS, apply_contract
from vm_core.mapping import (
    BLANK,
    UNRECOGNISED,
    LevelParser,
    PartyRule,
    PerspectiveRule,
    match_party,
    match_perspective,
)

#: How a respondent without any role is listed among the unmapped roles.
NO_ROLE = "(no role)"


@dataclass(frozen=True)
class Modelled:
    evaluations: pd.DataFrame  # EVALUATION_COLUMNS, passed the contract
    quarantined: pd.DataFrame  # QUARANTINE_COLUMNS
    #: (party, role) -> respondents whose role maps to no perspective; raw titles, see vm_core.roles
    unmapped_roles: Counter[tuple[str, str]]


def _quarantine(rows: pd.DataFrame, reason: str | pd.Series) -> pd.DataFrame:
    return rows.assign(reason=reason)[list(QUARANTINE_COLUMNS)]


def model_answers(
    answers: pd.DataFrame,
    *,
    cycle: int,
    value_codes: Sequence[str],
    levels: LevelParser,
    parties: Sequence[PartyRule],
    perspectives: Sequence[PerspectiveRule],
) -> Modelled:
    missing = [c for c in ANSWER_COLUMNS if c not in answers.columns]
    if missing:
        raise ValueError(f"connector returned an answer frame without {missing}")
    frame = answers[list(ANSWER_COLUMNS)].reset_index(drop=True)
    bad: list[pd.DataFrame] = []

    known = frame["value_code"].isin(set(value_codes))
    if not known.all():
        rows = frame[~known]
        # the cell's text is not repeated (a connector may pass on whatever was written); file and row say where
        bad.append(_quarantine(rows, "Value Code is not in this cycle's library version"))
        frame = frame[known]

    organisations = frame["organisation"].dropna().unique()
    party_of = {org: match_party(org, parties) for org in organisations}
    frame = frame.assign(party=frame["organisation"].map(party_of))
    no_party = frame["party"].isna()
    if no_party.any():
        rows = frame[no_party]
        names = ", ".join(r.party for r in parties)
        # the organisation text stays out of the reason: reasons are shown unmasked (the file and row say where)
        given = rows["organisation"].map(lambda o: not (pd.isna(o) or not str(o).strip()))
        reason = given.map({True: f"organisation matches no party ({names})", False: "no organisation given"})
        bad.append(_quarantine(rows, reason))
        frame = frame[~no_party]

    # Mapping works on the few distinct (party, role) and (Value Code, answer) pairs, joined back to the rows.
    roles = frame[["party", "role"]].drop_duplicates()
    roles["perspective"] = [
        match_perspective(p, None if pd.isna(r) else str(r), perspectives)
        for p, r in roles.itertuples(index=False)
    ]
    answers_seen = frame[["value_code", "value"]].drop_duplicates()
    parsed = [
        levels.parse(code, None if pd.isna(v) else str(v)) for code, v in answers_seen.itertuples(index=False)
    ]
    # an unanswered cell is kept apart from an explicit "no level" answer: both have no level
    answers_seen["blank"] = pd.Series([p is BLANK for p in parsed], index=answers_seen.index, dtype=bool)
    answers_seen["level"] = pd.Series(
        [None if p is BLANK else p for p in parsed], index=answers_seen.index, dtype="object"
    )
    frame = frame.merge(roles, on=["party", "role"], how="left", sort=False).merge(
        answers_seen, on=["value_code", "value"], how="left", sort=False
    )
    unrecognised = frame["level"].eq(UNRECOGNISED)
    if unrecognised.any():
        rows = frame[unrecognised]
        bad.append(
            _quarantine(
                rows,
                "answer is not a level 1–5, a level label or statement of "
                + rows["value_code"]
                + ", nor listed under `levels:`",
            )
        )
        frame = frame[~unrecognised]
    frame = frame.assign(
        cycle=cycle, level=pd.array(frame["level"].tolist(), dtype="Int64"), blank=frame["blank"].astype(bool)
    )

    checked = apply_contract(frame[list(EVALUATION_COLUMNS)].reset_index(drop=True))
    bad.append(checked.quarantined)
    good = checked.good
    people = good.drop_duplicates("respondent_key")
    unmapped = people[people["perspective"].isna()]
    unmapped_roles = Counter(
        (str(p), NO_ROLE if pd.isna(r) or not str(r).strip() else str(r))
        for p, r in zip(unmapped["party"], unmapped["role"], strict=True)
    )
    quarantined = (
        pd.concat([b for b in bad if not b.empty], ignore_index=True)
        if any(not b.empty for b in bad)
        else pd.DataFrame(columns=list(QUARANTINE_COLUMNS))
    )
    return Modelled(good.reset_index(drop=True), quarantined, unmapped_roles)
