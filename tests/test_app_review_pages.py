"""The Engagement page, the Value Code page's change, gap, comments, findings and actions sections, and
the Findings page opened from the Value Code page's link (``?finding=KEY``).

Runs on tests/test_app.py's seeded store: supplier × senior has two respondents, below the minimum,
so it (and a group it would give away) is hidden; a hidden row must never show a number.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import insert, select
from streamlit.testing.v1 import AppTest

from app import address
from tests import test_app
from tests.test_app import KEY, _app
from tests.test_app_actions import _sentences
from vm_core.read.findings import Finding, read_findings
from vm_core.store.db import make_engine, session_factory, transaction
from vm_core.store.models import Cycle, InvitedCount, Party, ThingThatMatters, ValueCode, value_code_thing

# the seeded stores of tests/test_app.py
store_url, seeded, two_cycles = test_app.store_url, test_app.seeded, test_app.two_cycles

ENGAGEMENT = "app_pages/engagement.py"
VALUE_CODE = "app_pages/value_code.py"
FINDINGS = "app_pages/findings.py"


def _open(page: str, **state: object) -> AppTest:
    at = _app(relationship=KEY, **state)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _tables(at: AppTest) -> list[list[dict[str, object]]]:
    return [frame.value.to_dict("records") for frame in at.dataframe]


#: Invited per party (perspective None: the party's whole population), the same in both cycles.
INVITED = {"client": 20, "supplier": 26}


def _invite(url: str) -> None:
    engine = make_engine(url)
    with transaction(session_factory(engine)) as s:
        parties = {p.key: p.id for p in s.scalars(select(Party))}
        for cycle_id in s.scalars(select(Cycle.id)):
            s.add_all(
                InvitedCount(cycle_id=cycle_id, party_id=parties[key], perspective_id=None, invited=n)
                for key, n in INVITED.items()
            )
    engine.dispose()


def _hidden_rows_show_no_number(rows: list[dict[str, object]], columns: tuple[str, ...]) -> None:
    hidden = [row for row in rows if any(str(value).startswith("hidden: ") for value in row.values())]
    assert hidden, "the seeded store has hidden groups"
    for row in hidden:
        for column in columns:
            # the reason may name the minimum group size (5), never a count of the group
            shown = str(row[column]).replace("fewer than 5 responses", "")
            assert not re.search(r"\d", shown), f"{row['Group']!r} shows a number in {column}"


def test_engagement_counts_people_and_hides_small_groups(seeded: str) -> None:
    at = _open(ENGAGEMENT, cycle=1)
    assert at.title[0].value == "Engagement"
    rows = {row["Group"]: row for row in _tables(at)[0]}
    # 7 + 5 + 5 client respondents; supplier 2 (senior) + 6 + 5
    assert rows["Client (all perspectives)"]["Responded"] == "17"
    assert rows["Supplier (all perspectives)"]["Responded"] == "13"
    assert rows["All respondents"]["Responded"] == "30"
    assert rows["Supplier · Senior"]["Responded"] == "hidden: fewer than 5 responses"
    # 13 − 6 − 5 = 2: the supplier's frontline would give its senior away
    assert rows["Supplier · Frontline"]["Responded"] == "hidden: withheld to protect a smaller group"
    _hidden_rows_show_no_number(list(rows.values()), ("Responded", "Response rate"))


def test_engagement_rate_and_change_since_the_previous_cycle(two_cycles: str) -> None:
    _invite(two_cycles)
    at = _open(ENGAGEMENT, cycle=2)
    rows = {row["Group"]: row for row in _tables(at)[0]}
    client, supplier = rows["Client (all perspectives)"], rows["Supplier (all perspectives)"]
    # cycle 2: 15 of 20 (75 %), cycle 1: 17 of 20 (85 %)
    assert (client["Invited"], client["Responded"], client["Response rate"]) == ("20", "15", "75%")
    assert client["Responded change since cycle 1"] == "-2"
    assert client["Rate change since cycle 1"] == "-10 pts"
    # cycle 2: 15 of 26 (57.7 %), cycle 1: 13 of 26 (50 %)
    assert (supplier["Responded"], supplier["Response rate"]) == ("15", "58%")
    assert supplier["Rate change since cycle 1"] == "+8 pts"
    chart = at.get("plotly_chart")[0].proto.spec
    assert "85%" in chart  # the chart shows its numbers
    assert "75%" in chart


def _things(url: str) -> None:
    """One Thing That Matters, "Delivery", pooling VC1 and VC2."""
    engine = make_engine(url)
    with transaction(session_factory(engine)) as s:
        codes = {vc.identifier: vc for vc in s.scalars(select(ValueCode))}
        thing = ThingThatMatters(library_version_id=codes["VC1"].library_version_id, name="Delivery")
        s.add(thing)
        s.flush()
        s.execute(
            insert(value_code_thing),
            [{"value_code_id": codes[vc].id, "thing_id": thing.id} for vc in ("VC1", "VC2")],
        )
    engine.dispose()


def test_things_that_matter_rollup_pools_and_hides_what_pools_a_hidden_cell(seeded: str) -> None:
    _things(seeded)
    at = _open(ENGAGEMENT, cycle=1)
    (delivery,) = _tables(at)[1]
    # client: levels 5,5,4,5,5,5 + 3,4,3,4,2 + 1,1,5,5,3 = 60 over 16, twice: 3.75 over 32
    assert delivery["Client (all perspectives)"] == "3.8 (n=32)"
    # supplier: 4,5 + 4,4,3,4,5 + 2,3,3,2,3 = 42 over 12, twice: 3.5 over 24
    assert delivery["Supplier (all perspectives)"] == "3.5 (n=24)"
    assert delivery["Value Codes"] == "VC1, VC2"

    at = _open(ENGAGEMENT, cycle=1, engagement_groups="party_perspective")
    (delivery,) = _tables(at)[1]
    assert delivery["Supplier · Senior"] == "hidden: a Value Code it pools is hidden for this group"
    assert delivery["Client · Senior"] == "4.8 (n=12)"  # 29 over 6, twice
    hidden = [v for v in delivery.values() if str(v).startswith("hidden")]
    assert hidden
    assert not any(re.search(r"\d", str(v)) for v in hidden)


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_value_code_page_shows_change_and_party_gap_of_the_group(two_cycles: str) -> None:
    at = _open(VALUE_CODE, cycle=2, value_code="VC3", value_code_group="client")
    headings = [s.value for s in at.subheader]
    assert headings[2:] == ["Change over time", "Gap between the parties", "Comments", "Findings", "Actions"]
    tables = _tables(at)
    # client VC3, cycle 1: 60 over 16 = 3.75; cycle 2: fifteen 3s
    assert tables[1] == [
        {
            "Since": "Cycle 1",
            "Mean now": "3.0",
            "Mean then": "3.8",
            "Difference": "-0.8",
            "θ (95% CI)": tables[1][0]["θ (95% CI)"],
            "Verdict": tables[1][0]["Verdict"],
        }
    ]
    (gap,) = tables[2]
    assert (gap["Party"], gap["Against"]) == ("Client", "Supplier")
    assert (gap["Mean"], gap["Mean (against)"], gap["Difference"]) == ("3.0", "5.0", "-2.0")
    # fewer than 10 commenters: the group's comments say why, no text
    assert any("comments not shown, fewer than 10 people" in i.value for i in at.info)


def _findings(url: str, cycle: int) -> list[Finding]:
    engine = make_engine(url)
    with session_factory(engine)() as s:
        found = read_findings(s, KEY, cycle)
    engine.dispose()
    return found


def _follow(link: str) -> dict[str, str]:
    """The query of a relative link as the server reads it (``+`` is a space unless encoded)."""
    return {name: values[-1] for name, values in parse_qs(urlsplit(link).query).items()}


def test_value_code_page_links_the_findings_that_cite_it(two_cycles: str) -> None:
    findings = [f for f in _findings(two_cycles, 2) if f.value_code == "VC3"]
    assert findings, "the two-cycle store has findings about VC3"
    text = _markdown(_open(VALUE_CODE, cycle=2, value_code="VC3", value_code_group="all"))
    links = re.findall(r"\[evidence\]\(([^)]+)\)", text)
    assert [urlsplit(link).path for link in links] == ["findings"] * len(findings)
    assert [_follow(link) for link in links] == [
        {"relationship": KEY, "cycle": "2", "finding": f.key} for f in findings
    ]
    for finding in findings:
        assert finding.sentence in text


def test_a_findings_link_carries_every_kind_of_finding_key() -> None:
    keys = [
        "party_gap:3:DEL-KPI:northwind/middle+contoso/middle",  # a "+" unencoded would arrive as a space
        "agreement:3:REL-ISSUES:*/middle",
        "change:3:REL-OPENNESS:middle:since-2",
    ]
    for key in keys:
        assert _follow(address.findings_link(KEY, 3, key)) == {
            "relationship": KEY,
            "cycle": "3",
            "finding": key,
        }


def _arrive(link: str) -> AppTest:
    """The app as a tab opened on ``link``."""
    at = _app().run()
    at.query_params.update(_follow(link))
    at.switch_page(FINDINGS).run()
    assert not at.exception, at.exception
    return at


def test_a_findings_link_opens_that_finding_until_show_all(two_cycles: str) -> None:
    everything = _findings(two_cycles, 2)
    rank, wanted = 2, everything[1]  # not the first: the link picks it
    at = _arrive(address.findings_link(KEY, 2, wanted.key))
    assert _sentences(at) == [wanted.sentence]
    assert at.markdown[0].value.startswith(f"**#{rank}** ")  # its rank among all of them
    assert at.info[0].value == f"One finding, opened from a link: #{rank} of {len(everything)}."
    evidence = next(e for e in at.expander if e.label == "Evidence")
    assert evidence.proto.expanded
    assert at.query_params["finding"] == wanted.key  # the address keeps it: the view can be shared

    at.run()  # a rerun (a form, a filter elsewhere) keeps it open
    assert _sentences(at) == [wanted.sentence]

    at.button(key="findings_show_all").click().run()
    assert _sentences(at) == [f.sentence for f in everything]
    assert "finding" not in at.query_params
    assert not any(e.proto.expanded for e in at.expander)


def test_a_link_to_a_finding_the_cycle_does_not_have_shows_them_all(two_cycles: str) -> None:
    everything = _findings(two_cycles, 2)
    at = _arrive(address.findings_link(KEY, 2, "change:2:VC1:supplier/senior:since-1"))  # a hidden group
    assert "not among cycle 2's findings" in at.warning[0].value
    assert _sentences(at) == [f.sentence for f in everything]
    assert "finding" not in at.query_params


def test_change_and_gap_verdicts_match_the_read_side(two_cycles: str) -> None:
    from vm_core.read.gaps import read_gaps

    engine = make_engine(two_cycles)
    with session_factory(engine)() as s:
        gaps = read_gaps(s, KEY, 2, ["change", "party"])
    engine.dispose()
    want = next(g for g in gaps if g.kind == "change" and g.value_code == "VC1" and g.x.group.key == "all")
    at = _open(VALUE_CODE, cycle=2, value_code="VC1", value_code_group="all")
    (change,) = _tables(at)[1]
    shown = {"higher": "improved", "lower": "declined"}.get(want.comparison.verdict, want.comparison.verdict)
    assert change["Verdict"] == shown
    assert change["θ (95% CI)"].startswith(f"{want.comparison.test.theta:.2f}")


def test_value_code_page_for_a_hidden_group_shows_no_number(seeded: str) -> None:
    at = _open(VALUE_CODE, cycle=1, value_code="VC1", value_code_group="supplier/senior")
    text = "\n".join([_markdown(at)] + [i.value for i in at.info] + [str(t) for t in _tables(at)[1:]])
    assert "Supplier · Senior: fewer than 5 responses" in text
    # no change (first cycle) and no party gap for a hidden cell: the sections say so, without numbers
    assert any("no change to show" in i.value for i in at.info)
    assert any("No party gap to show" in i.value for i in at.info)
    assert len(_tables(at)) == 1  # only the groups' table, which leaves the hidden group out
    assert "Supplier · Senior" not in str(_tables(at)[0])
