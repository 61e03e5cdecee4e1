"""Which groups' comments may be shown: the release rule for comments, a pure function of commenter counts.

Comments are not counts. A reader who sees several groups' comments can match a comment across them by
its text, so besides *differencing* (a party's comments minus those of its shown perspectives are the
hidden perspective's) they can *intersect* (a comment in party P's list and in perspective Q's list was
written in the cell P × Q, even when that cell is hidden). We assume the worst: every comment is
recognisable by its text.

Model
    The atoms are the heatmap's (``vm_core.scoring.anonymity``): each party × perspective cell and each
    party's respondents without a perspective. What a reader learns about a shown comment is its
    *signature*: the set of shown groups that list it. Atoms with the same signature form a *class*;
    a class's comments are known to come from that class and from nothing finer, and every set a reader
    can isolate by differences and intersections of shown lists is a union of classes.

Rule
    Every class holding a comment holds at least ``minimum`` commenters (respondents who wrote one).
    A group with fewer commenters than that is never shown (it is a union of classes, one of which would
    be below the minimum): ``below_minimum``.

Release order
    Groups are considered most informative first: *all*, then each party, then party × perspective
    cells, then cross-party perspectives (the reverse of the order in which the score engine hides
    groups); within a kind the group with more commenters first; then display order. A group is shown
    when, with the groups already shown, every class keeps the rule; otherwise it is withheld
    (``complementary``). Hiding a group only merges classes or drops them from view, never splits one,
    so a table that keeps the rule still keeps it with any group hidden: the result is *maximal* — no
    withheld group could be shown beside the others.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from vm_core.scoring.anonymity import Atom, Group, HeatmapTable, Suppression

#: Kinds of group, most informative first: the order in which groups are offered for release.
RELEASE_ORDER = {"all": 0, "party": 1, "party_perspective": 2, "perspective": 3}


def commenters_in(table: HeatmapTable, group: Group, commenters: Mapping[Atom, int]) -> int:
    """Respondents of ``group`` who commented: the sum over its atoms."""
    return sum(commenters.get(atom, 0) for atom in table.members(group))


def classes(table: HeatmapTable, shown: Collection[Group]) -> list[frozenset[Atom]]:
    """The atoms a reader can tell apart from the ``shown`` groups: one set per signature, display order.

    Atoms in no shown group are in no class: nothing of theirs is shown.
    """
    by_signature: dict[frozenset[Group], set[Atom]] = {}
    for atom in table.atoms:
        signature = frozenset(g for g in shown if atom in table.members(g))
        if signature:
            by_signature.setdefault(signature, set()).add(atom)
    return [frozenset(atoms) for atoms in by_signature.values()]


def leak(
    table: HeatmapTable, shown: Collection[Group], commenters: Mapping[Atom, int], minimum: int
) -> frozenset[Atom] | None:
    """The class with the fewest commenters below ``minimum`` (but at least one), or None when none is."""
    small = [
        (count, atoms)
        for atoms in classes(table, shown)
        if 0 < (count := sum(commenters.get(atom, 0) for atom in atoms)) < minimum
    ]
    return min(small, key=lambda item: item[0])[1] if small else None


def release(
    table: HeatmapTable, commenters: Mapping[Atom, int], minimum: int
) -> dict[Group, Suppression | None]:
    """Every group of the table → None (its comments are shown) or why they are not (module docstring)."""
    order = {group: i for i, group in enumerate(table.groups)}
    sizes = {group: commenters_in(table, group, commenters) for group in table.groups}
    decisions: dict[Group, Suppression | None] = {
        group: "below_minimum" for group in table.groups if sizes[group] < minimum
    }
    shown: list[Group] = []
    for group in sorted(
        (g for g in table.groups if g not in decisions),
        key=lambda g: (RELEASE_ORDER[g.kind], -sizes[g], order[g]),
    ):
        if leak(table, [*shown, group], commenters, minimum) is None:
            shown.append(group)
            decisions[group] = None
        else:
            decisions[group] = "complementary"
    return {group: decisions[group] for group in table.groups}
