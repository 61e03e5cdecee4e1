"""Comments: released only for groups enough people commented in, never recoverable by differencing or
intersecting what is shown, masked on the way out, in an order that says nothing, with TF-IDF themes."""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session

from tests.conftest import Store
from tests.factories import World, add_respondents, invoke_vm, read_rows, seed_world, write_rows
from vm_core.config import load_config
from vm_core.errors import ConfigError
from vm_core.read.comment_release import leak, release
from vm_core.read.comments import (
    CommentsError,
    CycleComments,
    Topic,
    comment_minimum,
    format_comments,
    read_comments,
)
from vm_core.read.themes import Keyword, keywords, terms
from vm_core.run.orchestration import LocalSteps, run_relationship
from vm_core.scoring.anonymity import Atom, Group, HeatmapTable
from vm_core.settings import Settings
from vm_core.store.models import Relationship

CLIENT, SUPPLIER = "client", "supplier"


# ---------------------------------------------------------------- helpers


def commenting(
    session: Session,
    world: World,
    party: str,
    perspective: str | None,
    count: int,
    text: str = "{party} {perspective} comment {i}",
    silent: int = 0,
) -> list[str]:
    """``count`` respondents of a cell who comment on VC1 (unique texts), and ``silent`` who only answer."""
    texts = [text.format(party=party, perspective=perspective, i=i) for i in range(count)]
    add_respondents(
        session,
        world,
        party=party,
        perspective=perspective,
        levels={"VC1": [3] * (count + silent)},
        comments={"VC1": [*texts, *[None] * silent]},
    )
    return texts


def read(store: Store, code: str | None = "VC1") -> CycleComments:
    with store.sessions() as session:
        return read_comments(session, store.settings.lake(), "acme-bolt", 1, code)


def topic(result: CycleComments, key: str = "VC1") -> Topic:
    return next(t for t in result.topics if t.key == key)


def shown(result: Topic) -> dict[str, list[str]]:
    """group key → its comments, for the groups shown."""
    return {g.group.key: list(g.comments) for g in result.groups if g.hidden is None}


def hidden(result: Topic) -> dict[str, str]:
    return {g.group.key: str(g.hidden) for g in result.groups if g.hidden is not None}


def attributable(shown_lists: Mapping[str, Sequence[str]]) -> list[set[str]]:
    """The attacker: from the shown lists alone, the sets of comments they can pin to one set of groups.

    Every comment is recognisable by its text (the tests write unique texts), so a reader knows which
    shown lists hold it; comments held by exactly the same lists are told apart from all others, and
    nothing finer: any set reachable by differences and intersections of lists is a union of these.
    """
    signatures: dict[str, set[str]] = {}
    for group, texts in shown_lists.items():
        for text in texts:
            signatures.setdefault(text, set()).add(group)
    classes: dict[frozenset[str], set[str]] = {}
    for text, groups in signatures.items():
        classes.setdefault(frozenset(groups), set()).add(text)
    return list(classes.values())


# ---------------------------------------------------------------- the minimum


@pytest.mark.store
@pytest.mark.parametrize(("commenters", "released"), [(9, False), (10, True), (11, True)])
def test_a_group_needs_ten_respondents_who_commented(store: Store, commenters: int, released: bool) -> None:
    with store.sessions() as s, s.begin():
        world = seed_world(s)
        # 20 more respondents in the same cell answered without commenting: they do not count
        texts = commenting(s, world, CLIENT, "senior", commenters, silent=20)
    result = topic(read(store))
    cell = {"all", CLIENT, "senior", f"{CLIENT}/senior"}
    if released:
        assert {key: sorted(texts) for key, texts in shown(result).items()} == {
            key: sorted(texts) for key in cell
        }
        assert set(hidden(result).values()) == {"below_minimum"}  # the groups nobody commented in
    else:
        assert shown(result) == {}
        assert set(hidden(result).values()) == {"below_minimum"}
        assert len(hidden(result)) == len(result.groups) == 12


@pytest.mark.store
def test_a_configured_comment_minimum_is_used(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = seed_world(s, comment_min_group_size=12)
        commenting(s, world, CLIENT, "senior", 11)
    result = read(store)
    assert result.minimum == 12
    assert shown(topic(result)) == {}


def test_the_comment_minimum_defaults_to_ten_and_is_never_below_the_score_minimum() -> None:
    assert comment_minimum(Relationship(min_group_size=5, comment_min_group_size=None)) == 10
    assert comment_minimum(Relationship(min_group_size=12, comment_min_group_size=None)) == 12
    assert comment_minimum(Relationship(min_group_size=5, comment_min_group_size=7)) == 7
    # a store edited by hand below the scores' minimum still gets the scores' minimum
    assert comment_minimum(Relationship(min_group_size=8, comment_min_group_size=4)) == 8


def _config(demo_copy: Path, **relationship: object) -> Path:
    data = yaml.safe_load(demo_copy.read_text(encoding="utf-8"))
    data["relationship"].update(relationship)
    demo_copy.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return demo_copy


def test_a_comment_minimum_below_the_score_minimum_is_refused_in_one_line(demo_copy: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(_config(demo_copy, min_group_size=6, comment_min_group_size=5))
    assert str(error.value) == (
        "relationship.yaml: relationship.comment_min_group_size: must be at least min_group_size (6), "
        "not 5: comments are never shown for a group smaller than the scores' minimum"
    )


def test_the_comment_minimum_in_the_configuration(demo_copy: Path) -> None:
    assert load_config(demo_copy).comment_min_group_size == 10
    assert load_config(_config(demo_copy, comment_min_group_size=15)).comment_min_group_size == 15
    assert load_config(_config(demo_copy, min_group_size=12)).comment_min_group_size == 15
    data = yaml.safe_load(demo_copy.read_text(encoding="utf-8"))
    del data["relationship"]["comment_min_group_size"]
    demo_copy.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert load_config(demo_copy).comment_min_group_size == 12  # the larger of 10 and min_group_size


# ---------------------------------------------------------------- differencing and intersection


def test_a_hidden_perspective_is_not_given_away_by_its_party_minus_the_others() -> None:
    """client shown with client/senior and client/middle: client − both = the 3 front-line comments."""
    table = HeatmapTable((CLIENT, SUPPLIER), ("senior", "middle", "frontline"))
    commenters = {Atom(CLIENT, "senior"): 10, Atom(CLIENT, "middle"): 10, Atom(CLIENT, "frontline"): 3}
    decisions = release(table, commenters, 10)
    assert {g.key for g, why in decisions.items() if why is None} == {
        "all",
        CLIENT,
        "senior",
        "client/senior",
    }
    assert decisions[Group("party_perspective", CLIENT, "middle")] == "complementary"
    assert decisions[Group("perspective", perspective="middle")] == "complementary"
    assert decisions[Group("party_perspective", CLIENT, "frontline")] == "below_minimum"
    # the rule a reader would break: every group of at least 10 shown
    naive = [g for g in table.groups if sum(commenters.get(a, 0) for a in table.members(g)) >= 10]
    assert leak(table, naive, commenters, 10) == frozenset({Atom(CLIENT, "frontline"), Atom(CLIENT, None)})


@pytest.mark.store
def test_the_differencing_attack_on_what_is_shown(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = seed_world(s)
        commenting(s, world, CLIENT, "senior", 10)
        commenting(s, world, CLIENT, "middle", 10)
        frontline = set(commenting(s, world, CLIENT, "frontline", 3))
    result = topic(read(store))
    lists = shown(result)
    assert set(lists) == {"all", CLIENT, "senior", "client/senior"}
    for pinned in attributable(lists):
        assert len(pinned) >= 10
        assert not pinned <= frontline
    # the same attack on the naive release pins the 3 front-line comments exactly: the attacker works
    naive = {key: lists[key] for key in ("all", CLIENT, "client/senior")}
    naive["client/middle"] = [t for t in lists["all"] if t.startswith("client middle")]
    assert frontline in attributable(naive)


@pytest.mark.store
def test_the_intersection_attack_on_a_hidden_cell(store: Store) -> None:
    """client ∩ senior is the cell client/senior: with 3 commenters there, not both may be shown."""
    with store.sessions() as s, s.begin():
        world = seed_world(s)
        cell = set(commenting(s, world, CLIENT, "senior", 3))
        commenting(s, world, CLIENT, "middle", 10)
        commenting(s, world, SUPPLIER, "senior", 10)
    result = topic(read(store))
    lists = shown(result)
    assert "all" in lists
    assert not {CLIENT, "senior"} <= set(lists)
    for pinned in attributable(lists):
        assert len(pinned) >= 10
        assert not pinned <= cell
    naive = {"all": lists["all"]}
    naive |= {key: [t for t in lists["all"] if t.startswith(prefix)] for key, prefix in
              ((CLIENT, "client"), ("senior", ("client senior", "supplier senior")))}  # fmt: skip
    assert cell in attributable(naive)


def test_no_generated_table_lets_a_reader_pin_fewer_than_the_minimum() -> None:
    """1,000 random relationships: the attacker, on the released lists of unique texts, never pins a
    set of comments written by fewer than the minimum; and every group left out would break that."""
    rng = random.Random(7)
    for _ in range(1000):
        table = HeatmapTable(
            tuple(f"p{i}" for i in range(rng.randint(1, 3))), tuple(f"q{i}" for i in range(rng.randint(0, 3)))
        )
        minimum = rng.choice((3, 5, 10))
        commenters = {a: rng.choice((0, 0, 1, 2, 4, 6, 9, 12)) for a in table.atoms}
        written = {a: [f"{a.label} #{i}" for i in range(n)] for a, n in commenters.items()}
        decisions = release(table, commenters, minimum)
        lists = {
            g.key: [t for a in table.members(g) for t in written[a]]
            for g, why in decisions.items()
            if why is None
        }
        assert all(len(pinned) >= minimum for pinned in attributable(lists))
        for group, why in decisions.items():
            if why == "complementary":  # maximal: showing it too would let someone be pinned
                more = [g for g, w in decisions.items() if w is None] + [group]
                assert leak(table, more, commenters, minimum) is not None


# ---------------------------------------------------------------- masking, order, no provenance


@pytest.mark.store
def test_contact_details_are_masked_again_on_the_way_out(store: Store) -> None:
    """Comments landed by an older version, or written to the lake by hand, are masked on read."""
    raw = "Mail jane.doe@contoso.example or call +44 7700 900123; see https://intranet.example/kpi"
    with store.sessions() as s, s.begin():
        world = seed_world(s)
        commenting(s, world, CLIENT, "senior", 9)
        commenting(s, world, CLIENT, "senior", 1, text=raw)
    result = read(store)
    assert topic(result).groups[0].comments.count("Mail [e-mail] or call [phone]; see [link]") == 1
    for fmt in ("table", "csv", "json"):
        out = format_comments(result, fmt)
        for secret in ("jane.doe", "contoso.example", "7700", "900123", "intranet"):
            assert secret not in out


@pytest.mark.store
def test_the_order_is_the_same_every_time_and_not_the_order_written(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = seed_world(s)
        written = commenting(s, world, CLIENT, "senior", 20, text="comment {i:02d}")
    first, second = read(store), read(store)
    comments = topic(first).groups[0].comments
    assert comments == topic(second).groups[0].comments
    assert sorted(comments) == sorted(written)
    assert list(comments) != written
    assert format_comments(first, "json") == format_comments(second, "json")


@pytest.mark.store
def test_outputs_carry_no_respondent_key_file_or_row(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = seed_world(s)
        commenting(s, world, CLIENT, "senior", 10)
        keys = [p.respondent_key for p in world.participants]
    result = read(store)
    data = json.loads(format_comments(result, "json"))
    assert set(data["topics"][0]["groups"][0]) == {"group_kind", "group", "hidden", "comments"}
    for fmt in ("table", "csv", "json"):
        out = format_comments(result, fmt)
        assert "survey.csv" not in out
        assert not any(key in out for key in keys)
        assert not re.search(r"\b[0-9a-f]{64}\b", out)


@pytest.mark.store
def test_formats(store: Store) -> None:
    with store.sessions() as s, s.begin():
        world = seed_world(s)
        commenting(s, world, CLIENT, "senior", 10, text="Reports arrive late, report {i}")
    result = read(store)
    rows = format_comments(result, "csv").splitlines()
    assert rows[0] == "relationship,cycle,topic_kind,topic,source,group_kind,group,suppression,comment"
    assert rows[1].startswith('acme-bolt,1,value_code,VC1,,all,all,,"Reports arrive late, report ')
    assert "acme-bolt,1,value_code,VC1,,party,supplier,below_minimum," in rows
    data = json.loads(format_comments(result, "json"))
    assert data["comment_min_group_size"] == 10
    assert data["topics"][0]["themes"] == []  # "reports", "arrive", "late" are in every comment: idf 0
    table = format_comments(result, "table")
    assert "  all (10 comments)" in table
    assert "  not shown (fewer than 10 commented): supplier, middle, frontline," in table
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        format_comments(result, "xml")


@pytest.mark.store
def test_what_is_not_in_the_store_is_one_line(store: Store) -> None:
    with store.sessions() as s, s.begin():
        seed_world(s)
    with store.sessions() as session:
        lake = store.settings.lake()
        with pytest.raises(
            CommentsError, match=r"^no relationship 'acme-blot' in the store; did you mean 'acme-bolt'\?$"
        ):
            read_comments(session, lake, "acme-blot", 1)
        with pytest.raises(CommentsError, match=r"^relationship 'acme-bolt' has no cycle 2 \(cycles: 1\)$"):
            read_comments(session, lake, "acme-bolt", 2)
        with pytest.raises(CommentsError, match=r"^no Value Code 'VC3' in cycle 1's library"):
            read_comments(session, lake, "acme-bolt", 1, "VC3")
        assert read_comments(session, lake, "acme-bolt", 1).topics == ()  # nothing written yet


# ---------------------------------------------------------------- themes


def test_terms() -> None:
    assert terms("The council's KPIs: we're told [e-mail] won’t reply, 2024!") == [
        "council",
        "kpis",
        "told",
        "reply",
    ]


def test_tf_idf_keywords_of_a_tiny_corpus_by_hand() -> None:
    """N = 4. late: df 4, idf 0 → weight 0. budget: tf 2 + 1, df 2 → 3·log10(4/2) = 0.903090.
    arrive: 2·log10(2) = 0.602060. reports: df 3 → 3·log10(4/3) = 0.374816. every, month, cuts,
    decisions, good, people: in one comment only (below the minimum document frequency)."""
    corpus = [
        "Reports arrive late every month",
        "Late reports again; budget surprises, budget cuts",
        "Budget decisions arrive late",
        "Good people, late reports",
    ]
    got = keywords(corpus)
    assert [k.term for k in got] == ["budget", "arrive", "reports"]
    expected = {"budget": 3 * math.log10(2), "arrive": 2 * math.log10(2), "reports": 3 * math.log10(4 / 3)}
    for keyword in got:
        assert keyword.weight == pytest.approx(expected[keyword.term], abs=1e-12)
    assert [k.documents for k in got] == [2, 2, 3]
    assert [round(k.weight, 6) for k in got] == [0.90309, 0.60206, 0.374816]


def test_keyword_ties_go_to_more_comments_then_the_alphabet() -> None:
    # alpha, beta: tf 2, df 2, idf log10(3/2); gamma: tf 1 in two comments + ... all equal weights differ by df
    corpus = ["beta alpha", "alpha beta", "zeta"]
    assert [k.term for k in keywords(corpus)] == ["alpha", "beta"]
    assert keywords(corpus, top=1) == [Keyword("alpha", 2 * math.log10(3 / 2), 2)]
    assert keywords([]) == []
    assert keywords(["the and of"]) == []


# ---------------------------------------------------------------- free text no Value Code covers


def _add_free_text(demo_copy: Path) -> tuple[Path, list[str], list[str]]:
    """Cycle 1 of the demo with an "Anything else?" box: every Northwind respondent fills it in (unique
    texts, one with an e-mail address), and three Contoso respondents do."""
    export = demo_copy.parent / "responses" / "cycle-1.csv"
    rows = read_rows(export)
    header, organisation = rows[0], rows[0].index("Organisation")
    rows[0] = [*header, "Q21"]
    rows[1] = [*rows[1], "Anything else you would like to tell us?"]
    rows[2] = [*rows[2], json.dumps({"ImportId": "QID21_TEXT"}, separators=(",", ":"))]
    northwind: list[str] = []
    contoso: list[str] = []
    for i, row in enumerate(rows[3:], start=3):
        text = ""
        if row[organisation].startswith("Northwind"):
            text = f"{('Parking at the depot is full', 'The canteen closes early')[i % 2]}, case {i}"
            if not northwind:
                text += ", write to jane.doe@northwind.example"
            northwind.append(text)
        elif len(contoso) < 3 and row[header.index("Status")] == "IP Address":
            text = f"Contoso van pool, case {i}"
            contoso.append(text)
        rows[i] = [*row, text]
    write_rows(export, rows)
    data = yaml.safe_load(demo_copy.read_text(encoding="utf-8"))
    source = data["cycles"][0]["sources"][0]  # its options are shared with cycles 2 and 3 (a YAML alias)
    source["options"] = {**source["options"], "free_text": ["QID21_TEXT"]}
    demo_copy.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return demo_copy, northwind, contoso


def test_free_text_no_value_code_covers_is_released_under_the_same_rules(
    demo_copy: Path, tmp_path: Path
) -> None:
    config_path, northwind, contoso = _add_free_text(demo_copy)
    home = tmp_path / "home"
    settings = Settings.from_env({"VM_HOME": str(home), "VM_SECRET": "comments"})
    run_relationship(load_config(config_path), LocalSteps(settings))

    from vm_core.run.pipeline import open_store

    with open_store(settings)() as session:
        result = read_comments(session, settings.lake(), "northwind-contoso", 1)
    (uncovered,) = [t for t in result.topics if t.kind == "uncovered"]
    assert (uncovered.key, uncovered.title, uncovered.source) == (
        "QID21_TEXT",
        "Anything else you would like to tell us?",
        "diagnostic",
    )
    lists = shown(uncovered)
    assert "all" in lists
    assert hidden(uncovered)["northwind"] == "complementary"  # all − northwind = Contoso's three
    assert hidden(uncovered)["contoso"] == "below_minimum"
    for pinned in attributable(lists):
        assert len(pinned) >= 10
        assert not pinned <= set(contoso)
    everything = {text for texts in lists.values() for text in texts}
    assert everything <= {
        text.replace("jane.doe@northwind.example", "[e-mail]") for text in northwind + contoso
    }
    assert any("[e-mail]" in text for text in everything)
    assert uncovered.themes == tuple(keywords(sorted(everything)))  # over what is shown, and only that
    assert "canteen" in {k.term for k in uncovered.themes}
    assert "case" not in {k.term for k in uncovered.themes}  # in every comment: idf 0
    assert [t.key for t in result.topics if t.kind == "value_code"] == [
        "REL-TRUST", "REL-OPENNESS", "DEL-KPI", "VAL-COMMERCIAL"
    ]  # fmt: skip

    code, out = invoke_vm(home, "comments", "comments", "--relationship", "northwind-contoso", "--cycle", "1")
    assert code == 0, out
    assert (
        "not covered by any Value Code: Anything else you would like to tell us? (diagnostic: QID21_TEXT)"
        in out
    )
    assert "jane.doe" not in out
    code, out = invoke_vm(
        home, "comments", "comments", "--relationship", "northwind-contoso", "--cycle", "1",
        "--value-code", "DEL-KPI", "--format", "json",
    )  # fmt: skip
    assert code == 0, out
    assert [t["key"] for t in json.loads(out)["topics"]] == ["DEL-KPI"]
    code, out = invoke_vm(home, "comments", "comments", "--relationship", "northwind-contoso", "--cycle", "7")
    assert (code, out) == (1, "Error: relationship 'northwind-contoso' has no cycle 7 (cycles: 1, 2, 3)\n")
