"""Generate the Northwind–Contoso demo: three Qualtrics API CSV exports of the Value Code diagnostic.

    python examples/demo/generate.py            # (re)write responses/cycle-1.csv … cycle-3.csv
    python examples/demo/generate.py --check    # regenerate into a temp dir; exit 1 if the files differ
    python examples/demo/generate.py --verify   # write, then re-read the CSVs and assert the story holds

Standard library only, and deterministic: one ``random.Random(SEED)`` drives everything, in a fixed
order, so the same script always writes the same bytes. The files reproduce the layout of a real
Qualtrics ``export-responses`` CSV (three header rows, ImportId JSON, CRLF records with bare LF inside
quoted cells, UTF-8 without BOM). ``relationship.yaml`` next to this script is hand-written and
describes these files; keep the population table below and its ``invited`` counts in step.

The story the heatmap should show is written down in ``STORY`` below, one row per pattern.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import fnmatch
import functools
import hashlib
import json
import math
import random
import struct
import sys
import tempfile
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

SEED = 2024
HERE = Path(__file__).parent
TIME_ZONE = "Europe/London"
STAMP = "%Y-%m-%d %H:%M:%S"

# --------------------------------------------------------------------------------------------------
# Parties, cycles and the survey
# --------------------------------------------------------------------------------------------------

PARTIES = {
    # key:      (Organisation embedded-data value, e-mail domain)
    "client": ("Northwind Council", "northwind-council.gov.example"),
    "supplier": ("Contoso Services", "contoso-services.example"),
}


@dataclass(frozen=True)
class Cycle:
    number: int
    mode: str
    opens: dt.date
    closes: dt.date
    use_labels: bool  # the export's `useLabels`: label texts (True) or numeric recodes (False)


CYCLES = (
    Cycle(1, "resolve", dt.date(2024, 3, 4), dt.date(2024, 3, 22), use_labels=True),
    Cycle(2, "solve", dt.date(2025, 3, 3), dt.date(2025, 3, 21), use_labels=False),
    Cycle(3, "dissolve", dt.date(2026, 3, 2), dt.date(2026, 3, 20), use_labels=True),
)

# One single-choice question per Value Code: (identifier, Qualtrics question number, question text).
VALUE_CODES = (
    ("GOV-DIRECTION", 1, "Shared strategic direction"),
    ("GOV-DECISIONS", 2, "Joint decision-making"),
    ("GOV-SPONSOR", 3, "Senior sponsorship"),
    ("GOV-RISK", 4, "Managing risk together"),
    ("REL-TRUST", 5, "Trust between the organisations"),
    ("REL-OPENNESS", 6, "Openness and sharing information"),
    ("REL-ISSUES", 7, "Resolving issues"),
    ("REL-CHANGE", 8, "Managing change together"),
    ("DEL-SERVICE", 9, "Quality of service to residents"),
    ("DEL-KPI", 10, "Performance measures (KPIs)"),
    ("DEL-IMPROVE", 11, "Continuous improvement"),
    ("DEL-RESOURCING", 12, "Resourcing and skills"),
    ("VAL-OUTCOMES", 13, "Outcomes and benefits"),
    ("VAL-COMMERCIAL", 14, "Commercial fairness"),
    ("VAL-INNOVATION", 15, "Innovation"),
    ("VAL-SOCIAL", 16, "Social value"),
)
CODES = tuple(code for code, _, _ in VALUE_CODES)
QUESTION_SUFFIX = ": which statement best describes the relationship today?"

# Optional comment boxes, added to the survey after the 16 questions (hence Q17…Q20), each shown
# straight after its Value Code question: Value Code -> text-entry question number.
COMMENT_BOXES = {"REL-TRUST": 17, "REL-OPENNESS": 18, "DEL-KPI": 19, "VAL-COMMERCIAL": 20}
COMMENT_SHARE = 0.15  # share of respondents who write at least one comment

# Answer choices. Cycles 1 and 3 are exported with labels, cycle 2 with numeric recodes.
LEVEL_LABELS = (
    "1 - Barely acceptable",
    "2 - Some way to go",
    "3 - Acceptable",
    "4 - Good",
    "5 - What good looks like",
)
NOT_APPLICABLE = "Not applicable"
NOT_APPLICABLE_RECODE = "6"
NA = 0  # how "Not applicable" is held internally (levels are 1..5)

# --------------------------------------------------------------------------------------------------
# Population: (party, perspective, role title, head count). Perspective None = a role the
# relationship's equivalence map does not cover (reported as unmapped by the platform).
# --------------------------------------------------------------------------------------------------

POPULATION = (
    # Northwind Council: 140 = 12 senior + 40 middle + 88 front line
    ("client", "senior", "Chief Executive", 1),
    ("client", "senior", "Corporate Director", 3),
    ("client", "senior", "Assistant Director", 8),
    ("client", "middle", "Head of Revenues & Benefits", 1),
    ("client", "middle", "Head of Customer Services", 1),
    ("client", "middle", "Head of Digital & ICT", 1),
    ("client", "middle", "Head of Commercial & Contracts", 1),
    ("client", "middle", "Head of Finance", 1),
    ("client", "middle", "Head of Service", 3),
    ("client", "middle", "Service Manager", 14),
    ("client", "middle", "Contract Manager", 6),
    ("client", "middle", "Team Leader", 12),
    ("client", "front_line", "Revenues Officer", 18),
    ("client", "front_line", "Benefits Officer", 20),
    ("client", "front_line", "Contract Monitoring Officer", 8),
    ("client", "front_line", "Customer Services Advisor", 26),
    ("client", "front_line", "Business Analyst", 6),
    ("client", "front_line", "ICT Support Officer", 6),
    ("client", "front_line", "Finance Assistant", 4),
    # Contoso Services: 160 = 7 senior + 45 middle + 100 front line + 8 apprentices (unmapped)
    ("supplier", "senior", "Account Director", 1),
    ("supplier", "senior", "Partnership Director", 1),
    ("supplier", "senior", "Operations Director", 2),
    ("supplier", "senior", "Commercial Director", 1),
    ("supplier", "senior", "Technology Director", 1),
    ("supplier", "senior", "Transformation Director", 1),
    ("supplier", "middle", "Head of Contact Centre", 1),
    ("supplier", "middle", "Head of Revenues Processing", 1),
    ("supplier", "middle", "Head of Service Desk", 1),
    ("supplier", "middle", "Operations Manager", 8),
    ("supplier", "middle", "Contract Manager", 4),
    ("supplier", "middle", "Service Delivery Manager", 10),
    ("supplier", "middle", "Team Lead", 20),
    ("supplier", "front_line", "Service Agent", 35),
    ("supplier", "front_line", "Senior Service Agent", 10),
    ("supplier", "front_line", "Benefits Assessor", 20),
    ("supplier", "front_line", "Revenues Caseworker", 12),
    ("supplier", "front_line", "Service Desk Analyst", 10),
    ("supplier", "front_line", "Field Engineer", 8),
    ("supplier", "front_line", "Data Analyst", 5),
    ("supplier", None, "Apprentice", 5),
    ("supplier", None, "Digital Apprentice", 3),
)
PERSPECTIVES = ("senior", "middle", "front_line")

RESPONSE_PROPENSITY = (0.68, 0.92)  # each person's chance of responding, drawn once, uniform
# Small groups whose turnout the story depends on: exactly this many respond per cycle.
# Supplier senior leadership (7 people) falls below min_group_size 5 in cycle 1. The apprentices (8 people,
# a role the equivalence map does not cover) always reach 5: an unmapped remainder below the minimum would
# be hidden, and complementary suppression would then hide the smallest perspective as well.
SUPPLIER_SENIORS_RESPONDING = {1: 4, 2: 6, 3: 5}
APPRENTICES_RESPONDING = {1: 6, 2: 7, 3: 5}
PARTIALS_PER_CYCLE = 2  # front-line respondents who give up part-way (Finished False, Progress < 100)
PREVIEWS_PER_CYCLE = 2  # "Survey Preview" rows from testing the survey before it opened

# --------------------------------------------------------------------------------------------------
# Answers. Weights over            L1    L2    L3    L4    L5    N/A
# --------------------------------------------------------------------------------------------------

BACKGROUND = {  # plausible noise around 3.1–3.5, moderate spread, a little "Not applicable"
    "GOV-DIRECTION": (0.03, 0.12, 0.38, 0.35, 0.10, 0.02),
    "GOV-DECISIONS": (0.05, 0.17, 0.40, 0.28, 0.07, 0.03),
    "GOV-SPONSOR": (0.02, 0.10, 0.35, 0.38, 0.13, 0.02),
    "GOV-RISK": (0.05, 0.18, 0.42, 0.25, 0.06, 0.04),
    "REL-TRUST": (0.04, 0.14, 0.36, 0.34, 0.10, 0.02),
    "REL-OPENNESS": (0.04, 0.16, 0.40, 0.30, 0.08, 0.02),
    "REL-ISSUES": (0.05, 0.20, 0.40, 0.28, 0.05, 0.02),
    "REL-CHANGE": (0.05, 0.16, 0.40, 0.30, 0.07, 0.02),
    "DEL-SERVICE": (0.02, 0.10, 0.34, 0.40, 0.12, 0.02),
    "DEL-KPI": (0.04, 0.16, 0.38, 0.30, 0.08, 0.04),
    "DEL-IMPROVE": (0.05, 0.18, 0.38, 0.29, 0.08, 0.02),
    "DEL-RESOURCING": (0.06, 0.18, 0.38, 0.28, 0.08, 0.02),
    "VAL-OUTCOMES": (0.03, 0.12, 0.36, 0.36, 0.11, 0.02),
    "VAL-COMMERCIAL": (0.05, 0.15, 0.38, 0.27, 0.07, 0.08),
    "VAL-INNOVATION": (0.06, 0.17, 0.37, 0.28, 0.08, 0.04),
    "VAL-SOCIAL": (0.03, 0.12, 0.38, 0.32, 0.10, 0.05),
}


@dataclass(frozen=True)
class Rule:
    code: str  # Value Code (shell wildcard)
    party: str  # "client", "supplier" or "*"
    perspective: str  # "senior", "middle", "front_line" or "*"
    cycles: tuple[int, ...]
    weights: tuple[float, ...]
    deal: bool  # True: deal the group's answers from a shuffled deck with exactly these shares
    #                   (story rows: small groups show the pattern every time); False: draw each independently


ALL = (1, 2, 3)
STORY = (
    #    Value Code        party       perspective   cycles  L1    L2    L3    L4    L5    N/A    deal
    # Senior leaders are divided on commercial fairness, within each party, every cycle.
    Rule("VAL-COMMERCIAL", "*", "senior", ALL, (0.20, 0.30, 0.00, 0.30, 0.20, 0.00), deal=True),
    # Middle managers on both sides agree issue resolution is weak: low mean, high consensus.
    Rule("REL-ISSUES", "*", "middle", ALL, (0.10, 0.80, 0.10, 0.00, 0.00, 0.00), deal=True),
    # The parties see the KPIs a level apart (client ≈ 2.3, supplier ≈ 3.4), at every level.
    Rule("DEL-KPI", "client", "*", ALL, (0.10, 0.50, 0.40, 0.00, 0.00, 0.00), deal=True),
    Rule("DEL-KPI", "supplier", "*", ALL, (0.00, 0.05, 0.50, 0.40, 0.05, 0.00), deal=True),
    # Openness improves cycle on cycle for everyone: ≈ 2.0 → 3.0 → 3.9.
    Rule("REL-OPENNESS", "*", "*", (1,), (0.20, 0.60, 0.20, 0.00, 0.00, 0.00), deal=True),
    Rule("REL-OPENNESS", "*", "*", (2,), (0.00, 0.20, 0.60, 0.20, 0.00, 0.00), deal=True),
    Rule("REL-OPENNESS", "*", "*", (3,), (0.00, 0.00, 0.25, 0.60, 0.15, 0.00), deal=True),
    # Background detail: the front line often cannot judge governance or commercials.
    Rule("GOV-*", "*", "front_line", ALL, (0.04, 0.14, 0.38, 0.28, 0.06, 0.10), deal=False),
    Rule("VAL-COMMERCIAL", "*", "front_line", ALL, (0.05, 0.16, 0.36, 0.22, 0.05, 0.16), deal=False),
)

# What the --verify step asserts (targets and tolerances of the story above).
TARGETS = {
    "DEL-KPI": {"client": 2.3, "supplier": 3.4},
    "REL-OPENNESS": {1: 2.0, 2: 3.0, 3: 3.9},
    "REL-ISSUES": 2.0,
}
TOLERANCE = 0.25

# --------------------------------------------------------------------------------------------------
# Comments: (Value Code, tone, party, cycles or None for any, text). Tone follows the respondent's
# own answer: low = levels 1–2, mid = 3, high = 4–5. "\n" is a line break inside the comment box.
# --------------------------------------------------------------------------------------------------

COMMENTS = (
    (
        "REL-TRUST",
        "low",
        "client",
        None,
        "Trust took a knock after last spring’s council tax billing error. We still check Contoso’s figures "
        "line by line before anything goes to members.",
    ),
    (
        "REL-TRUST",
        "low",
        "supplier",
        None,
        "Every conversation starts from the assumption that we’ve got something wrong. "
        "Hard to build trust like that.",
    ),
    (
        "REL-TRUST",
        "low",
        "*",
        None,
        "Good relationships between individuals, but not between the two organisations.",
    ),
    (
        "REL-TRUST",
        "mid",
        "*",
        None,
        "Depends who you deal with. Some of my counterparts I’d trust with anything, others less so.",
    ),
    (
        "REL-TRUST",
        "mid",
        "client",
        None,
        "Better than it was, but one bad month and we’re back to exchanging formal letters.",
    ),
    (
        "REL-TRUST",
        "mid",
        "supplier",
        None,
        "Day to day it's fine.\nAt board level it still feels like we're being audited rather than partnered.",
    ),
    ("REL-TRUST", "mid", "*", None, "Trust is there at working level, less so when money is involved."),
    (
        "REL-TRUST",
        "high",
        "client",
        None,
        "The Contoso team leads in the contact centre are brilliant – they ring us before a problem becomes "
        "a complaint.",
    ),
    (
        "REL-TRUST",
        "high",
        "supplier",
        None,
        "Our Northwind counterparts stood by us during the system outage in January, which we won’t forget.",
    ),
    (
        "REL-TRUST",
        "high",
        "*",
        None,
        "I trust my opposite number completely.\nWe sort things out over a coffee, not through the contract.",
    ),
    (
        "REL-OPENNESS",
        "low",
        "client",
        (1,),
        "We only find out about problems at the monthly contract board, by which time it’s too late "
        "to do anything.",
    ),
    (
        "REL-OPENNESS",
        "low",
        "*",
        (1, 2),
        "Information is shared on a “need to know” basis, and apparently we never need to know.",
    ),
    (
        "REL-OPENNESS",
        "low",
        "supplier",
        (1, 2),
        "We hear about the council’s transformation plans from the local paper, not from the council.",
    ),
    (
        "REL-OPENNESS",
        "low",
        "*",
        None,
        "Reports are sanitised before they reach us. I'd rather see the real numbers, warts and all.",
    ),
    (
        "REL-OPENNESS",
        "mid",
        "*",
        (2,),
        "The open-book review last autumn helped, but it felt like a one-off.",
    ),
    (
        "REL-OPENNESS",
        "mid",
        "*",
        None,
        "Getting better. The joint dashboard is a start, though it still takes weeks to get data out "
        "of some teams.",
    ),
    (
        "REL-OPENNESS",
        "mid",
        "client",
        (2, 3),
        "More open than a year ago.\n\nStill some reluctance to share the detail behind the monthly report.",
    ),
    (
        "REL-OPENNESS",
        "mid",
        "supplier",
        None,
        "The council shares more than it used to, but budget decisions still arrive as a surprise.",
    ),
    (
        "REL-OPENNESS",
        "high",
        "*",
        (3,),
        "Open-book sessions since last summer have made a real difference.\nWe now see the same numbers at the "
        "same time.",
    ),
    ("REL-OPENNESS", "high", "*", (2, 3), "Night and day compared with the first years of the contract 👍"),
    (
        "REL-OPENNESS",
        "high",
        "supplier",
        None,
        "People now raise bad news early, which is exactly what the council asked us to do.",
    ),
    (
        "REL-OPENNESS",
        "high",
        "client",
        (3,),
        "Contoso now shares its own risk register with us. Two years ago that would have been unthinkable.",
    ),
    (
        "DEL-KPI",
        "low",
        "client",
        None,
        "The KPIs are all “green” but residents still wait six weeks for a benefits decision. We are measuring "
        "the wrong things.",
    ),
    (
        "DEL-KPI",
        "low",
        "client",
        None,
        "KPI 7 (calls answered within 60 seconds) is met by answering and then transferring. It says nothing "
        "about whether the problem was solved.",
    ),
    (
        "DEL-KPI",
        "low",
        "client",
        None,
        "Half of the measures were written in 2020 and nobody can remember why.",
    ),
    (
        "DEL-KPI",
        "low",
        "*",
        None,
        "The performance report lands on day 20 of the following month, far too late to act on.",
    ),
    (
        "DEL-KPI",
        "low",
        "supplier",
        None,
        "KPIs get changed mid-year without a change note. Then we're told we've failed them 🙄",
    ),
    (
        "DEL-KPI",
        "mid",
        "client",
        None,
        "The numbers are accurate, I think, but they don't match what I hear from residents.",
    ),
    (
        "DEL-KPI",
        "mid",
        "supplier",
        None,
        "Some KPIs depend on things outside our control, e.g. processing times wait on the council’s own "
        "verification checks.",
    ),
    (
        "DEL-KPI",
        "mid",
        "*",
        None,
        "We spend more time arguing about how a KPI is calculated than improving the service behind it.",
    ),
    (
        "DEL-KPI",
        "mid",
        "client",
        None,
        "Most measures are fine; the complaints KPI should count reopened cases, though.",
    ),
    (
        "DEL-KPI",
        "mid",
        "supplier",
        None,
        "The KPIs are fine. The monthly report that goes with them is 40 pages long, and nobody reads it.",
    ),
    (
        "DEL-KPI",
        "high",
        "supplier",
        None,
        "We hit 47 of 52 KPIs last quarter and the whole meeting was about the five we missed.",
    ),
    (
        "DEL-KPI",
        "high",
        "supplier",
        None,
        "The regime is demanding but fair, and the figures speak for themselves:\nfirst-contact resolution is "
        "up from 68% to 74%.",
    ),
    (
        "DEL-KPI",
        "high",
        "*",
        None,
        "Clear measures, reported on time, and discussed properly at the ops meeting.",
    ),
    (
        "VAL-COMMERCIAL",
        "low",
        "client",
        None,
        "The gainshare mechanism has never paid out. Every change request costs more than we budgeted for.",
    ),
    (
        "VAL-COMMERCIAL",
        "low",
        "client",
        None,
        "We are paying for change requests that should be business as usual under the contract.",
    ),
    (
        "VAL-COMMERCIAL",
        "low",
        "supplier",
        None,
        "Customer contact is loss-making for us, and the indexation clause hasn’t kept up with wage inflation.",
    ),
    (
        "VAL-COMMERCIAL",
        "low",
        "supplier",
        (1,),
        "Margins are thin, and every change request turns into a negotiation.\nIt isn't sustainable for "
        "another seven years.",
    ),
    (
        "VAL-COMMERCIAL",
        "mid",
        "*",
        None,
        "Commercially it's okay, though change control is slow and nobody owns the pipeline.",
    ),
    (
        "VAL-COMMERCIAL",
        "low",
        "client",
        None,
        "Indexation has pushed the annual charge up by 14% in two years, while our own budget has been cut.",
    ),
    (
        "VAL-COMMERCIAL",
        "mid",
        "client",
        None,
        "Value for money is about what we expected. The problem is the cost of anything outside the core "
        "specification.",
    ),
    (
        "VAL-COMMERCIAL",
        "mid",
        "supplier",
        None,
        "We make a modest return overall, but the IT tower subsidises customer contact, which isn't healthy "
        "in the long term.",
    ),
    (
        "VAL-COMMERCIAL",
        "mid",
        "*",
        None,
        "Hard to judge from where I sit; the commercial side is handled well above my pay grade.",
    ),
    (
        "VAL-COMMERCIAL",
        "high",
        "supplier",
        None,
        "The contract pays fairly for what we do, and the council pays on time, which matters.",
    ),
    (
        "VAL-COMMERCIAL",
        "high",
        "client",
        None,
        "Good value compared with bringing the service back in-house, and the benchmarking backs that up.",
    ),
    (
        "VAL-COMMERCIAL",
        "high",
        "supplier",
        None,
        "A fair deal on both sides. Hard-nosed negotiations, but honest ones.",
    ),
    (
        "VAL-COMMERCIAL",
        "high",
        "*",
        (2, 3),
        "The re-baselining last year was tough, but it was fair, and the gainshare on the IT refresh "
        "paid out 💷",
    ),
    (
        "VAL-COMMERCIAL",
        "high",
        "client",
        None,
        "The savings are real: £4.2m a year, as promised in the business case.",
    ),
    (
        "REL-OPENNESS",
        "low",
        "supplier",
        None,
        "We find out about policy changes after they've been announced to residents, and then get the calls.",
    ),
    (
        "REL-OPENNESS",
        "low",
        "client",
        None,
        "Asking for the underlying data feels like pulling teeth. Why does a simple extract need a "
        "change request?",
    ),
    ("REL-OPENNESS", "low", "*", (1,), "Too much happens in side conversations between the two directors."),
    (
        "REL-OPENNESS",
        "high",
        "*",
        (3,),
        "The joint weekly huddle works well: short, honest, and problems get an owner there and then.",
    ),
    (
        "REL-OPENNESS",
        "high",
        "client",
        (2, 3),
        "Contoso flagged the backlog in benefits processing before we noticed it. That's a first.",
    ),
    (
        "REL-TRUST",
        "high",
        "supplier",
        None,
        "The council's service managers treat us as colleagues. Most of the time you wouldn't know who works "
        "for whom.",
    ),
    ("REL-TRUST", "high", "client", None, "When Contoso says it will do something, it gets done."),
    (
        "VAL-COMMERCIAL",
        "low",
        "supplier",
        None,
        "Every saving we find goes straight into the council's budget, and the gainshare never triggers.",
    ),
    (
        "VAL-COMMERCIAL",
        "low",
        "supplier",
        None,
        "We are absorbing the cost of extra demand (up 20% since the contract started) with no adjustment.",
    ),
)
PREVIEW_COMMENT = "Test – please ignore"

# --------------------------------------------------------------------------------------------------
# Fake people
# --------------------------------------------------------------------------------------------------

FIRST_NAMES = (
    "Aisha",
    "Alan",
    "Alice",
    "Amir",
    "Amy",
    "Andrew",
    "Anna",
    "Anthony",
    "Ben",
    "Bethan",
    "Carl",
    "Catherine",
    "Charlotte",
    "Chloe",
    "Chris",
    "Claire",
    "Daniel",
    "David",
    "Deborah",
    "Declan",
    "Eilidh",
    "Elena",
    "Emily",
    "Emma",
    "Fatima",
    "Fiona",
    "Gareth",
    "Gemma",
    "Grace",
    "Hannah",
    "Harpreet",
    "Helen",
    "Ian",
    "Imran",
    "Jack",
    "James",
    "Jane",
    "Jason",
    "Jennifer",
    "Joanne",
    "John",
    "Jonathan",
    "Karen",
    "Kate",
    "Kieran",
    "Laura",
    "Lee",
    "Leanne",
    "Lisa",
    "Louise",
    "Łukasz",
    "Mark",
    "Martin",
    "Matthew",
    "Megan",
    "Michael",
    "Mohammed",
    "Nadia",
    "Natalie",
    "Neil",
    "Nicola",
    "Oliver",
    "Olivia",
    "Paul",
    "Peter",
    "Priya",
    "Rachel",
    "Rebecca",
    "Richard",
    "Rob",
    "Ruth",
    "Ryan",
    "Samantha",
    "Sarah",
    "Sean",
    "Siân",
    "Simon",
    "Sophie",
    "Stephen",
    "Steve",
    "Susan",
    "Thomas",
    "Tom",
    "Tracey",
    "Victoria",
    "Wayne",
    "Yusuf",
    "Zoë",
)
LAST_NAMES = (
    "Adams",
    "Ahmed",
    "Ali",
    "Allen",
    "Anderson",
    "Bailey",
    "Baker",
    "Begum",
    "Bell",
    "Bennett",
    "Brown",
    "Campbell",
    "Carter",
    "Chapman",
    "Clarke",
    "Collins",
    "Cooper",
    "Cox",
    "Davies",
    "Dawson",
    "Edwards",
    "Evans",
    "Fisher",
    "Fletcher",
    "Foster",
    "Gill",
    "Graham",
    "Green",
    "Griffiths",
    "Hall",
    "Harris",
    "Hill",
    "Hughes",
    "Hussain",
    "Jackson",
    "James",
    "Johnson",
    "Jones",
    "Kaur",
    "Kelly",
    "Khan",
    "King",
    "Kowalski",
    "Lewis",
    "Lloyd",
    "Marshall",
    "Martin",
    "Mason",
    "Mitchell",
    "Moore",
    "Morgan",
    "Morris",
    "Murphy",
    "Nowak",
    "Okafor",
    "O'Brien",
    "O'Connor",
    "Owen",
    "Palmer",
    "Parker",
    "Patel",
    "Phillips",
    "Price",
    "Reid",
    "Richards",
    "Roberts",
    "Robinson",
    "Rogers",
    "Scott",
    "Shah",
    "Singh",
    "Smith",
    "Smith-Jones",
    "Stewart",
    "Taylor",
    "Thomas",
    "Thompson",
    "Turner",
    "Walker",
    "Ward",
    "Watson",
    "White",
    "Williams",
    "Wilson",
    "Wood",
    "Wright",
    "Young",
)
# First octets of UK consumer/business ranges, so the fake addresses look plausible.
IP_FIRST_OCTETS = (31, 46, 62, 77, 81, 82, 86, 90, 92, 94, 109, 146, 151, 185, 188, 194, 212, 213, 217)
# (latitude, longitude) of office sites; people are scattered a little around theirs.
SITES = {
    "client": ((52.6369, -1.1398),),
    "supplier": ((52.6369, -1.1398), (53.4808, -2.2426), (54.9783, -1.6178), (51.4816, -3.1791)),
}


@dataclass(frozen=True)
class Person:
    party: str
    perspective: str | None
    role: str
    first_name: str
    last_name: str
    email: str
    employee_number: str
    ip_address: str
    latitude: str
    longitude: str
    propensity: float


def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.replace("Ł", "L").replace("ł", "l"))
    return "".join(c for c in folded if c.isascii() and (c.isalpha() or c == "-")).lower()


def _float32(value: float) -> str:
    """A coordinate as Qualtrics writes it: the exact decimal expansion of a 32-bit float."""
    return str(Decimal(struct.unpack("<f", struct.pack("<f", value))[0]))


def _unique(seen: set[str], draw: Callable[[], str]) -> str:
    while (value := draw()) in seen:
        pass
    seen.add(value)
    return value


def make_people(rng: random.Random) -> list[Person]:
    people: list[Person] = []
    names: set[str] = set()
    numbers: set[str] = set()
    addresses: set[str] = set()

    def full_name() -> str:
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"

    def employee_number(party: str) -> str:  # council payroll numbers keep their leading zeros
        return f"{rng.randint(1000, 99999):06d}" if party == "client" else f"CS{rng.randint(100000, 999999)}"

    def ip_address() -> str:
        octets = (rng.choice(IP_FIRST_OCTETS), rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))
        return ".".join(map(str, octets))

    for party, perspective, role, count in POPULATION:
        domain = PARTIES[party][1]
        for _ in range(count):
            first, last = _unique(names, full_name).split(" ", 1)
            number = _unique(numbers, functools.partial(employee_number, party))
            ip = _unique(addresses, ip_address)
            lat, lon = rng.choice(SITES[party])
            people.append(
                Person(
                    party=party,
                    perspective=perspective,
                    role=role,
                    first_name=first,
                    last_name=last,
                    email=f"{_ascii(first)}.{_ascii(last)}@{domain}",
                    employee_number=number,
                    ip_address=ip,
                    latitude=_float32(lat + rng.uniform(-0.12, 0.12)),
                    longitude=_float32(lon + rng.uniform(-0.18, 0.18)),
                    propensity=rng.uniform(*RESPONSE_PROPENSITY),
                )
            )
    return people


# --------------------------------------------------------------------------------------------------
# Drawing answers
# --------------------------------------------------------------------------------------------------


def rule_for(code: str, party: str, perspective: str, cycle: int) -> Rule:
    for rule in STORY:
        if (
            fnmatch.fnmatchcase(code, rule.code)
            and rule.party in ("*", party)
            and rule.perspective in ("*", perspective)
            and cycle in rule.cycles
        ):
            return rule
    return Rule(code, party, perspective, (cycle,), BACKGROUND[code], deal=False)


def answers_for(rule: Rule, n: int, rng: random.Random) -> list[int]:
    """n answers (1..5, NA=0) for one group: dealt from a deck with the rule's exact shares, or drawn."""
    options = (1, 2, 3, 4, 5, NA)
    if not rule.deal:
        return rng.choices(options, weights=rule.weights, k=n)
    quotas = [w * n for w in rule.weights]
    counts = [math.floor(q) for q in quotas]
    ranked = sorted(range(len(options)), key=lambda i: (-(quotas[i] - counts[i]), rng.random()))
    for i in ranked[: n - sum(counts)]:
        counts[i] += 1
    deck = [option for option, count in zip(options, counts, strict=True) for _ in range(count)]
    rng.shuffle(deck)
    return deck


def tone(level: int) -> str:
    return "low" if level <= 2 else "mid" if level == 3 else "high"


# --------------------------------------------------------------------------------------------------
# Building one cycle's export
# --------------------------------------------------------------------------------------------------

METADATA = (  # export tag, row-2 label, ImportId, has time zone
    ("StartDate", "Start Date", "startDate", True),
    ("EndDate", "End Date", "endDate", True),
    ("Status", "Response Type", "status", False),
    ("IPAddress", "IP Address", "ipAddress", False),
    ("Progress", "Progress", "progress", False),
    ("Duration (in seconds)", "Duration (in seconds)", "duration", False),
    ("Finished", "Finished", "finished", False),
    ("RecordedDate", "Recorded Date", "recordedDate", True),
    ("ResponseId", "Response ID", "_recordId", False),
    ("RecipientLastName", "Recipient Last Name", "recipientLastName", False),
    ("RecipientFirstName", "Recipient First Name", "recipientFirstName", False),
    ("RecipientEmail", "Recipient Email", "recipientEmail", False),
    ("ExternalReference", "External Data Reference", "externalDataReference", False),
    ("LocationLatitude", "Location Latitude", "locationLatitude", False),
    ("LocationLongitude", "Location Longitude", "locationLongitude", False),
    ("DistributionChannel", "Distribution Channel", "distributionChannel", False),
    ("UserLanguage", "User Language", "userLanguage", False),
)
EMBEDDED = ("Organisation", "Role")


def columns() -> list[tuple[str, str, str, str | None]]:
    """(export tag, row-2 label, row-3 ImportId JSON, key) per column; key is a Value Code, 'comment:<code>',
    an embedded-data field or None for metadata."""
    cols: list[tuple[str, str, str, str | None]] = []
    for tag, label, import_id, zoned in METADATA:
        spec = {"ImportId": import_id, **({"timeZone": TIME_ZONE} if zoned else {})}
        cols.append((tag, label, _json(spec), None))
    for code, number, title in VALUE_CODES:
        cols.append((f"Q{number}", title + QUESTION_SUFFIX, _json({"ImportId": f"QID{number}"}), code))
        if code in COMMENT_BOXES:
            box = COMMENT_BOXES[code]
            cols.append(
                (
                    f"Q{box}",
                    f"{title}: is there anything you would like to add? (optional)",
                    _json({"ImportId": f"QID{box}_TEXT"}),
                    f"comment:{code}",
                )
            )
    cols += [(name, name, _json({"ImportId": name}), name) for name in EMBEDDED]
    return cols


def _json(value: dict[str, str]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _response_id(rng: random.Random) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "R_" + "".join(rng.choices(alphabet, k=15))


def _start(rng: random.Random, cycle: Cycle, last_day: dt.date) -> dt.datetime:
    days = [cycle.opens + dt.timedelta(d) for d in range((last_day - cycle.opens).days + 1)]
    weekdays = [d for d in days if d.weekday() < 5]
    day = rng.choice(weekdays)
    minute = rng.randint(7 * 60 + 30, 18 * 60) if rng.random() < 0.9 else rng.randint(18 * 60, 22 * 60)
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60, rng.randint(0, 59)))


@dataclass
class Response:
    person: Person | None  # None: a Survey Preview row
    levels: dict[str, int | None]  # None = not reached (partial response)
    comments: dict[str, str]
    start: dt.datetime
    duration: int
    recorded: dt.datetime
    progress: int
    response_id: str


def build_cycle(cycle: Cycle, people: list[Person], rng: random.Random) -> list[Response]:
    # 1. Who responds.
    supplier_seniors = [p for p in people if p.party == "supplier" and p.perspective == "senior"]
    apprentices = [p for p in people if p.perspective is None]
    fixed = supplier_seniors + apprentices
    responding = rng.sample(supplier_seniors, SUPPLIER_SENIORS_RESPONDING[cycle.number]) + rng.sample(
        apprentices, APPRENTICES_RESPONDING[cycle.number]
    )
    respondents = [p for p in people if (p in responding if p in fixed else rng.random() < p.propensity)]
    partials = [
        rng.choice([p for p in respondents if p.party == party and p.perspective == "front_line"])
        for party in list(PARTIES)[:PARTIALS_PER_CYCLE]
    ]

    # 2. What they answer: per group (party × perspective), per Value Code.
    levels: dict[Person, dict[str, int | None]] = {p: {} for p in respondents}
    groups: dict[tuple[str, str | None], list[Person]] = defaultdict(list)
    for person in respondents:
        groups[(person.party, person.perspective)].append(person)
    for (party, perspective), members in groups.items():
        for code in CODES:
            rule = rule_for(code, party, perspective or "front_line", cycle.number)
            for person, level in zip(members, answers_for(rule, len(members), rng), strict=True):
                levels[person][code] = level
    reached: dict[Person, int] = {p: rng.randint(4, 11) for p in partials}
    for person, count in reached.items():
        for code in CODES[count:]:
            levels[person][code] = None

    # 3. Comments: COMMENT_SHARE of respondents write one (a fifth of them two), in keeping with their answer.
    used: Counter[str] = Counter()
    comments: dict[Person, dict[str, str]] = {p: {} for p in respondents}
    writers = set(rng.sample(range(len(respondents)), round(COMMENT_SHARE * len(respondents))))
    for i, person in enumerate(respondents):
        if i not in writers:
            continue
        wanted = 2 if rng.random() < 0.2 else 1
        for code in rng.sample(list(COMMENT_BOXES), len(COMMENT_BOXES)):
            level = levels[person][code]
            if not level or len(comments[person]) == wanted:  # not applicable / not reached, or done
                continue
            pool = [
                text
                for c, t, party, cycles, text in COMMENTS
                if c == code
                and t == tone(level)
                and party in ("*", person.party)
                and (cycles is None or cycle.number in cycles)
            ]
            if pool:
                fewest = min(used[text] for text in pool)
                text = rng.choice([text for text in pool if used[text] == fewest])
                used[text] += 1
                comments[person][code] = text

    # 4. When: complete responses any weekday of the window; partials start in the first week and
    #    are recorded when Qualtrics closes them a week after the last activity.
    responses = []
    for person in respondents:
        if person in reached:
            start = _start(rng, cycle, cycle.opens + dt.timedelta(6))
            duration = rng.randint(60, 1500)
            recorded = start + dt.timedelta(days=7, seconds=duration + rng.randint(2, 30))
            progress = 100 * (1 + reached[person]) // (len(CODES) + 2)
        else:
            start = _start(rng, cycle, cycle.closes)
            duration = int(rng.lognormvariate(6.0, 0.45)) + 90 * len(comments[person])
            recorded = start + dt.timedelta(seconds=duration + rng.randint(0, 1))
            progress = 100
        responses.append(
            Response(
                person,
                levels[person],
                comments[person],
                start,
                duration,
                recorded,
                progress,
                _response_id(rng),
            )
        )

    # 5. Two previews by the survey owner before the survey opened.
    for days_before in (4, 3)[:PREVIEWS_PER_CYCLE]:
        start = dt.datetime.combine(
            cycle.opens - dt.timedelta(days_before), dt.time(10, rng.randint(0, 59), rng.randint(0, 59))
        )
        duration = rng.randint(40, 200)
        answers: dict[str, int | None] = {
            code: rng.choices((1, 2, 3, 4, 5, NA), weights=BACKGROUND[code])[0] for code in CODES
        }
        note = {"REL-TRUST": PREVIEW_COMMENT} if days_before == 4 else {}
        responses.append(
            Response(
                None,
                answers,
                note,
                start,
                duration,
                start + dt.timedelta(seconds=duration + 1),
                100,
                _response_id(rng),
            )
        )
    responses.sort(key=lambda r: (r.recorded, r.response_id))
    return responses


def row_for(response: Response, cycle: Cycle) -> list[str]:
    person = response.person
    finished = response.progress == 100
    if cycle.use_labels:
        status = "IP Address" if person else "Survey Preview"
        finished_cell = "True" if finished else "False"
    else:
        status = "0" if person else "1"
        finished_cell = "1" if finished else "0"
    located = finished  # Qualtrics fills the location when a response is submitted
    preview_site = SITES["client"][0]
    cells: dict[str, str] = {
        "StartDate": response.start.strftime(STAMP),
        "EndDate": (response.start + dt.timedelta(seconds=response.duration)).strftime(STAMP),
        "Status": status,
        "IPAddress": person.ip_address if person else "",
        "Progress": str(response.progress),
        "Duration (in seconds)": str(response.duration),
        "Finished": finished_cell,
        "RecordedDate": response.recorded.strftime(STAMP),
        "ResponseId": response.response_id,
        "RecipientLastName": person.last_name if person else "",
        "RecipientFirstName": person.first_name if person else "",
        "RecipientEmail": person.email if person else "",
        "ExternalReference": person.employee_number if person else "",
        "LocationLatitude": (person.latitude if person else _float32(preview_site[0])) if located else "",
        "LocationLongitude": (person.longitude if person else _float32(preview_site[1])) if located else "",
        "DistributionChannel": "email" if person else "preview",
        "UserLanguage": "EN-GB",
        "Organisation": PARTIES[person.party][0] if person else "",
        "Role": person.role if person else "",
    }
    row = []
    for tag, _, _, key in columns():
        if key is None or key in EMBEDDED:
            row.append(cells[tag])
        elif key.startswith("comment:"):
            row.append(response.comments.get(key.removeprefix("comment:"), ""))
        else:
            level = response.levels[key]
            if level is None:
                row.append("")
            elif level == NA:
                row.append(NOT_APPLICABLE if cycle.use_labels else NOT_APPLICABLE_RECODE)
            else:
                row.append(LEVEL_LABELS[level - 1] if cycle.use_labels else str(level))
    return row


def generate(out_dir: Path) -> list[Path]:
    rng = random.Random(SEED)
    people = make_people(rng)
    (out_dir / "responses").mkdir(parents=True, exist_ok=True)
    written = []
    for cycle in CYCLES:
        responses = build_cycle(cycle, people, rng)
        path = out_dir / "responses" / f"cycle-{cycle.number}.csv"
        cols = columns()
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
            for header_row in range(3):
                writer.writerow([col[header_row] for col in cols])
            writer.writerows(row_for(r, cycle) for r in responses)
        written.append(path)
    return written


# --------------------------------------------------------------------------------------------------
# --check and --verify
# --------------------------------------------------------------------------------------------------


def check() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        stale = []
        for path in fresh:
            committed = HERE / "responses" / path.name
            new = hashlib.sha256(path.read_bytes()).hexdigest()
            old = hashlib.sha256(committed.read_bytes()).hexdigest() if committed.exists() else "missing"
            print(f"{path.name}: {'ok' if new == old else 'DIFFERS'} ({new[:12]})")
            if new != old:
                stale.append(path.name)
    if stale:
        print(f"out of date: {', '.join(stale)}; run `python examples/demo/generate.py`", file=sys.stderr)
        return 1
    return 0


def _level(cell: str) -> int | None:
    """Level of an answer cell in either export ('3 - Acceptable' or '3'); None for N/A or blank."""
    return int(cell[0]) if cell[:1] in {"1", "2", "3", "4", "5"} else None


def _consensus(levels: list[int]) -> float:
    """Tastle & Wierman consensus on the 1–5 scale (1 = everyone agrees), as an indication."""
    mean = sum(levels) / len(levels)
    shares = Counter(levels)
    return 1 + sum(n / len(levels) * math.log2(1 - abs(x - mean) / 4) for x, n in shares.items())


def _mean(levels: list[int]) -> float:
    return sum(levels) / len(levels)


Answers = dict[tuple[str, str, str | None], list[int]]  # (Value Code, party, perspective) -> levels


def _pooled(answers: Answers, code: str, party: str = "*", perspective: str = "*") -> list[int]:
    return [
        level
        for (c, pa, pe), levels in answers.items()
        for level in levels
        if c == code and party in ("*", pa) and perspective in ("*", pe)
    ]


def verify(out_dir: Path) -> None:
    """Re-read the written CSVs as a reader would (by ImportId) and assert the story holds."""
    perspective_of = {(party, role): perspective for party, perspective, role, _ in POPULATION}
    party_of = {name: key for key, (name, _) in PARTIES.items()}
    invited: Counter[tuple[str, str | None]] = Counter()
    for party, perspective, _, count in POPULATION:
        invited[(party, perspective)] += count
    failures: list[str] = []

    def expect(ok: bool, what: str) -> None:
        print(f"  [{'ok' if ok else 'FAIL'}] {what}")
        if not ok:
            failures.append(what)

    for cycle in CYCLES:
        path = out_dir / "responses" / f"cycle-{cycle.number}.csv"
        raw = path.read_bytes()
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        col = {json.loads(cell)["ImportId"]: i for i, cell in enumerate(rows[2])}
        data = rows[3:]
        previews = [r for r in data if r[col["distributionChannel"]] == "preview"]
        real = [r for r in data if r[col["distributionChannel"]] != "preview"]
        partial = [r for r in real if r[col["finished"]] in ("False", "0")]
        export = "labels" if cycle.use_labels else "numeric recodes"
        print(
            f"\nCycle {cycle.number} ({cycle.mode}, {export}): {len(data)} rows = {len(real)} responses"
            f" + {len(previews)} previews; {len(partial)} partial"
        )
        expect(
            not raw.startswith(b"\xef\xbb\xbf")
            and raw.count(b"\r\n") == len(rows)
            and raw.count(b"\n") > len(rows),
            "UTF-8 without BOM, CRLF records, bare LF inside quoted comments",
        )
        expect(
            len(previews) == PREVIEWS_PER_CYCLE and len(partial) == PARTIALS_PER_CYCLE,
            f"{PREVIEWS_PER_CYCLE} preview rows, {PARTIALS_PER_CYCLE} partial responses",
        )
        expect(
            all(int(r[col["progress"]]) < 100 and "" in r for r in partial),
            "partials: Progress < 100, unanswered questions blank",
        )

        answers: Answers = defaultdict(list)
        counted: Counter[tuple[str, str | None]] = Counter()
        commented = 0
        for r in real:
            party = party_of[r[col["Organisation"]]]
            perspective = perspective_of[(party, r[col["Role"]])]
            counted[(party, perspective)] += 1
            for code, number, _ in VALUE_CODES:
                level = _level(r[col[f"QID{number}"]])
                if level is not None:
                    answers[(code, party, perspective)].append(level)
            commented += any(r[col[f"QID{box}_TEXT"]] for box in COMMENT_BOXES.values())

        print(
            "  responses/invited: "
            + ", ".join(
                f"{party}/{perspective or 'unmapped'} {counted[(party, perspective)]}/{n}"
                for (party, perspective), n in invited.items()
            )
        )
        rate = len(real) / sum(invited.values())
        expect(0.70 <= rate <= 0.85, f"response rate {rate:.0%} within 70–85%")
        seniors = counted[("supplier", "senior")]
        expected = SUPPLIER_SENIORS_RESPONDING[cycle.number]
        expect(
            seniors == expected and (seniors < 5) == (cycle.number == 1),
            f"supplier seniors responding: {seniors} ({'< 5, suppressed' if seniors < 5 else '>= 5'})",
        )
        smallest = min(n for k, n in counted.items() if k != ("supplier", "senior") and k[1] is not None)
        expect(smallest >= 5, f"every other party × perspective has ≥ 5 respondents (smallest {smallest})")
        apprentices = counted[("supplier", None)]
        expect(apprentices >= 5, f"apprentices (unmapped role) responding: {apprentices} (>= 5)")
        share = commented / len(real)
        expect(0.10 <= share <= 0.20, f"respondents with a comment: {share:.0%}")

        print("  VAL-COMMERCIAL, senior leaders: divided")
        for party in ("client", "supplier", "*"):
            lv = _pooled(answers, "VAL-COMMERCIAL", party, "senior")
            low, high = sum(x <= 2 for x in lv) / len(lv), sum(x >= 4 for x in lv) / len(lv)
            expect(
                0.35 <= low <= 0.65 and 0.35 <= high <= 0.65 and _consensus(lv) < 0.5,
                f"{party:>8}: n={len(lv)} levels 1–2 {low:.0%}, 4–5 {high:.0%}, mean {_mean(lv):.2f}, "
                f"consensus {_consensus(lv):.2f}",
            )

        print("  REL-ISSUES, middle managers: agree it is weak")
        for party in ("client", "supplier", "*"):
            lv = _pooled(answers, "REL-ISSUES", party, "middle")
            at2 = sum(x == 2 for x in lv) / len(lv)
            near = abs(_mean(lv) - TARGETS["REL-ISSUES"]) <= TOLERANCE
            expect(
                near and at2 >= 0.7 and _consensus(lv) >= 0.8,
                f"{party:>8}: n={len(lv)} mean {_mean(lv):.2f}, at level 2 {at2:.0%}, "
                f"consensus {_consensus(lv):.2f}",
            )

        print("  DEL-KPI: the parties a level apart")
        for party, target in TARGETS["DEL-KPI"].items():
            lv = _pooled(answers, "DEL-KPI", party)
            expect(
                abs(_mean(lv) - target) <= TOLERANCE,
                f"{party:>8}: n={len(lv)} mean {_mean(lv):.2f} (target {target})",
            )
        for perspective in PERSPECTIVES:
            client = _mean(_pooled(answers, "DEL-KPI", "client", perspective))
            supplier = _mean(_pooled(answers, "DEL-KPI", "supplier", perspective))
            expect(
                supplier - client >= 0.7, f"{perspective:>10}: client {client:.2f} vs supplier {supplier:.2f}"
            )

        print("  REL-OPENNESS: improving cycle on cycle")
        lv = _pooled(answers, "REL-OPENNESS")
        target = TARGETS["REL-OPENNESS"][cycle.number]
        expect(
            abs(_mean(lv) - target) <= TOLERANCE,
            f"everyone: n={len(lv)} mean {_mean(lv):.2f} (target {target})",
        )

        story = {"VAL-COMMERCIAL", "REL-ISSUES", "DEL-KPI", "REL-OPENNESS"}
        means = {code: _mean(_pooled(answers, code)) for code in CODES if code not in story}
        print("  everything else: " + ", ".join(f"{code} {m:.2f}" for code, m in means.items()))
        expect(all(2.9 <= m <= 3.7 for m in means.values()), "background means within 2.9–3.7")

    if failures:
        raise SystemExit(f"\nstory check FAILED: {len(failures)} problem(s)")
    print("\nstory check passed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed CSVs are out of date")
    parser.add_argument("--verify", action="store_true", help="re-read the CSVs and assert the story holds")
    args = parser.parse_args(argv)
    if args.check:
        status = check()
    else:
        for path in generate(HERE):
            print(f"wrote {path.relative_to(HERE)}")
        status = 0
    if args.verify:
        verify(HERE)
    return status


if __name__ == "__main__":
    sys.exit(main())
