"""The anonymity engine: which groups of a table may be shown, and proof that nothing else can be worked out.

Model
    A table an output shows (today the heatmap of one cycle × Value Code) is a set of *groups*, each
    the union of some *atoms*: the finest groups of respondents. For the heatmap the atoms are the
    party × perspective cells and, per party, its respondents without a perspective (an unmapped
    role). Every group's numbers are the sum of its atoms' *tallies*: counts of respondents per
    answer category (:data:`CATEGORIES`: levels 1–5, an explicit "no level", a blank).

    ``n`` is the number of respondents who gave a level. A group is *shown* with all its numbers,
    or *hidden* with none (not even ``n``).

What must never be derivable
    Whoever reads the shown groups knows, for each shown group g, the tally of g; by adding and
    subtracting shown groups (any real linear combination: the table's additive relations
    total = parties, party = its perspectives + its unmapped rest, perspective = its parties) they
    know the tally of every union S of atoms whose indicator vector lies in the row space of the
    shown groups. Such a union *leaks* when it holds at least one respondent and fewer than the
    minimum group size gave a level in it (``0 < respondents(S)`` and ``n(S) < minimum``): for
    example *all − client − supplier* = two one-person partner organisations, both level 5.

    :func:`find_leak` searches every union exactly (exhaustively over the atoms that matter, or
    with an integer program through HiGHS for large tables). :func:`suppress` hides every group
    below the minimum (*primary*) and then, while a leak exists, hides the cheapest shown group
    that the leak's derivation uses (*complementary*); finally it tries to show again each
    complementary group, most expensive first, and keeps it shown when no leak returns. So every
    result is re-checked by the same exact search: the table it returns has no leak.

Cost of hiding a group (documented priority)
    Least informative first: a cross-party perspective row (the parties' cells beside it keep the
    level-for-level comparison the method is about), then a party × perspective cell, then a party,
    then *all*; within a kind the smallest first (fewest respondents whose numbers disappear); then
    display order. Of the ways to stop a leak, the one whose finished table costs least wins. So the
    demo's four Contoso senior leaders (cycle 1) are protected by hiding the cross-party *senior*
    row, and every Northwind cell stays visible: 32 of 192 cells hidden, where the first slice's
    rule hid 64.

Re-scoring
    Publishing new numbers for a cycle whose numbers were already shown lets anyone holding both
    difference them. :func:`differencing_risk` says whether the difference between two published
    versions singles out fewer than the minimum number of people (see ``docs/anonymity.md``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache, cached_property
from typing import Literal, NamedTuple

import numpy as np

#: Answer categories of a tally, in order.
CATEGORIES: tuple[str, ...] = ("l1", "l2", "l3", "l4", "l5", "no_level", "blank")
#: Indices of the level categories (their sum is ``n``).
LEVEL_SLOTS = slice(0, 5)
Tally = tuple[int, ...]
ZERO: Tally = (0,) * len(CATEGORIES)
Suppression = Literal["below_minimum", "complementary"]

#: Above this many atoms that matter, the leak search is an integer program instead of an enumeration.
ENUMERATION_LIMIT = 16


class Group(NamedTuple):
    """One scored group: ``kind`` with the party and/or perspective key it is about."""

    kind: str
    party: str | None = None
    perspective: str | None = None

    @property
    def key(self) -> str:
        """The ``score.group_key``: "all", the party key, the perspective key, or "party/perspective"."""
        if self.kind == "all":
            return "all"
        if self.kind == "party":
            return str(self.party)
        if self.kind == "perspective":
            return str(self.perspective)
        return f"{self.party}/{self.perspective}"


ALL = Group("all")


class Atom(NamedTuple):
    """A finest group: a party × perspective cell, or a party's respondents without a perspective."""

    party: str
    perspective: str | None

    @property
    def label(self) -> str:
        if self.perspective is None:
            return f"{self.party} (no perspective)"
        return f"{self.party}/{self.perspective}"


#: Cost order of group kinds when several groups of one size could be hidden (module docstring).
_KIND_COST = {"perspective": 0, "party_perspective": 1, "party": 2, "all": 3}


@dataclass(frozen=True)
class HeatmapTable:
    """The heatmap of one cycle × Value Code: all, parties, perspectives and party × perspective cells."""

    parties: tuple[str, ...]
    perspectives: tuple[str, ...]

    @cached_property
    def groups(self) -> tuple[Group, ...]:
        """Display order: all, parties, perspectives, then party × perspective."""
        return (
            ALL,
            *(Group("party", party=p) for p in self.parties),
            *(Group("perspective", perspective=q) for q in self.perspectives),
            *(Group("party_perspective", p, q) for p in self.parties for q in self.perspectives),
        )

    @cached_property
    def atoms(self) -> tuple[Atom, ...]:
        return tuple(Atom(p, q) for p in self.parties for q in (*self.perspectives, None))

    @cached_property
    def _members(self) -> dict[Group, frozenset[Atom]]:
        out: dict[Group, frozenset[Atom]] = {}
        for group in self.groups:
            out[group] = frozenset(
                a
                for a in self.atoms
                if (group.party is None or a.party == group.party)
                and (group.perspective is None or a.perspective == group.perspective)
            )
        return out

    def members(self, group: Group) -> frozenset[Atom]:
        return self._members[group]

    def group_tally(self, group: Group, tallies: Mapping[Atom, Sequence[int]]) -> Tally:
        """The group's counts: the sum of its atoms' tallies (a missing atom counts zero)."""
        total = [0] * len(CATEGORIES)
        for atom in self.members(group):
            for i, count in enumerate(tallies.get(atom, ZERO)):
                total[i] += int(count)
        return tuple(total)

    def _rows(self, groups: Iterable[Group]) -> tuple[int, ...]:
        """Shown groups as bit masks over the atoms (cache keys for the exact algebra)."""
        index = {a: i for i, a in enumerate(self.atoms)}
        return tuple(sorted({sum(1 << index[a] for a in self.members(g)) for g in groups}))


def level_count(tally: Sequence[int]) -> int:
    """``n``: respondents who gave a level."""
    return int(sum(tally[LEVEL_SLOTS]))


# ---------------------------------------------------------------- exact linear algebra


@cache
def _null_space(rows: tuple[int, ...], width: int) -> tuple[tuple[int, ...], ...]:
    """An integer basis of {z : A z = 0} for the 0/1 matrix A whose rows are the bit masks ``rows``.

    A vector x is a combination of A's rows exactly when it is orthogonal to every basis vector,
    so these vectors are what decides whether a union of atoms can be worked out. Computed with
    fractions (exact), cached: tables repeat the same pattern of shown groups.
    """
    matrix = [[Fraction((row >> j) & 1) for j in range(width)] for row in rows]
    pivots: list[int] = []
    r = 0
    for col in range(width):
        pivot = next((i for i in range(r, len(matrix)) if matrix[i][col] != 0), None)
        if pivot is None:
            continue
        matrix[r], matrix[pivot] = matrix[pivot], matrix[r]
        lead = matrix[r][col]
        matrix[r] = [v / lead for v in matrix[r]]
        for i in range(len(matrix)):
            if i != r and matrix[i][col] != 0:
                factor = matrix[i][col]
                matrix[i] = [a - factor * b for a, b in zip(matrix[i], matrix[r], strict=True)]
        pivots.append(col)
        r += 1
        if r == len(matrix):
            break
    basis: list[tuple[int, ...]] = []
    for free in (c for c in range(width) if c not in pivots):
        vector = [Fraction(0)] * width
        vector[free] = Fraction(1)
        for i, col in enumerate(pivots):
            vector[col] = -matrix[i][free]
        scale = 1
        for v in vector:
            scale = scale * v.denominator // _gcd(scale, v.denominator)
        basis.append(tuple(int(v * scale) for v in vector))
    return tuple(basis)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def _kernel(table: HeatmapTable, shown: Iterable[Group]) -> np.ndarray:
    """Atoms × k integer matrix: a union S is derivable from ``shown`` iff 1_S @ kernel == 0."""
    basis = _null_space(table._rows(shown), len(table.atoms))
    if not basis:
        return np.zeros((len(table.atoms), 0), dtype=np.int64)
    return np.array(basis, dtype=np.int64).T


def _subsets(count: int) -> np.ndarray:
    """All 0/1 vectors of length ``count`` as rows (2**count × count)."""
    return ((np.arange(1 << count)[:, None] >> np.arange(count)) & 1).astype(np.int64)


def _filler_sums(kernel: np.ndarray, fillers: Sequence[int]) -> dict[tuple[int, ...], tuple[int, ...]]:
    """Kernel sums reachable by adding any subset of the ``fillers`` atoms → one such subset.

    Fillers are atoms that change no count of interest (nobody is in them, or nothing changed in
    them): adding them to a union changes only whether the union can be worked out.
    """
    subsets = _subsets(len(fillers))
    sums: dict[tuple[int, ...], tuple[int, ...]] = {}
    for row, total in zip(subsets, subsets @ kernel[list(fillers)], strict=True):
        sums.setdefault(
            tuple(int(v) for v in total), tuple(f for f, b in zip(fillers, row, strict=True) if b)
        )
    return sums


# ---------------------------------------------------------------- leaks


@dataclass(frozen=True)
class Leak:
    """A union of atoms whose numbers the shown groups give away."""

    atoms: frozenset[Atom]
    n: int  # respondents in it who gave a level
    respondents: int
    table: HeatmapTable
    shown: tuple[Group, ...]
    members: tuple[int, ...]  # atom indices of the union, including empty atoms it needs

    @cached_property
    def derivation(self) -> str:
        """How: a combination of shown groups, e.g. "all − northwind − contoso"."""
        return _derivation(self.table, self.shown, self.members)

    def describe(self) -> str:
        who = " + ".join(sorted(a.label for a in self.atoms))
        return f"{who} ({self.respondents} respondent(s), {self.n} with a level) = {self.derivation}"


def find_leak(
    table: HeatmapTable,
    shown: Collection[Group],
    tallies: Mapping[Atom, Sequence[int]],
    min_size: int,
) -> Leak | None:
    """The smallest union of atoms (by ``n``) that leaks from ``shown``, or None when none does."""
    atoms = table.atoms
    kernel = _kernel(table, shown)
    n = np.array([level_count(tallies.get(a, ZERO)) for a in atoms], dtype=np.int64)
    people = np.array([sum(tallies.get(a, ZERO)) for a in atoms], dtype=np.int64)
    chosen = _smallest_derivable(kernel, n, people, min_size)
    if chosen is None:
        return None
    members = [atoms[i] for i in chosen]
    return Leak(
        atoms=frozenset(a for a in members if sum(tallies.get(a, ZERO))),
        n=int(n[list(chosen)].sum()),
        respondents=int(people[list(chosen)].sum()),
        table=table,
        shown=tuple(shown),
        members=tuple(chosen),
    )


def _smallest_derivable(
    kernel: np.ndarray, n: np.ndarray, people: np.ndarray, min_size: int
) -> tuple[int, ...] | None:
    """Atom indices of a derivable union with people ≥ 1 and n < min_size (smallest n), or None.

    Atoms nobody is in change no count, only which unions are derivable: they are enumerated
    apart, as "fillers" whose kernel sums are looked up.
    """
    width = len(n)
    if kernel.shape[1] == 0:  # everything is derivable: every single atom is known
        candidates = [i for i in range(width) if people[i] >= 1 and n[i] < min_size]
        return (min(candidates, key=lambda i: (n[i], i)),) if candidates else None
    occupied = [i for i in range(width) if people[i] >= 1]
    empty = [i for i in range(width) if people[i] == 0]
    if len(occupied) > ENUMERATION_LIMIT or len(empty) > ENUMERATION_LIMIT:
        return _smallest_derivable_milp(kernel, n, people, min_size)
    filler_sums = _filler_sums(kernel, empty)
    subsets = _subsets(len(occupied))[1:]  # not the empty union
    sums = subsets @ kernel[occupied]
    sizes = subsets @ n[occupied]
    best: tuple[int, tuple[int, ...]] | None = None
    for row in np.argsort(sizes, kind="stable"):
        if sizes[row] >= min_size:
            break
        fill = filler_sums.get(tuple(int(-v) for v in sums[row]))
        if fill is not None:
            picked = tuple(o for o, b in zip(occupied, subsets[row], strict=True) if b)
            best = (int(sizes[row]), tuple(sorted(picked + fill)))
            break
    return best[1] if best else None


def _smallest_derivable_milp(
    kernel: np.ndarray, n: np.ndarray, people: np.ndarray, min_size: int
) -> tuple[int, ...] | None:
    """The same search as an integer program (HiGHS): minimise n(S) s.t. 1_S ⟂ kernel, people(S) ≥ 1."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    width = len(n)
    constraints = [
        LinearConstraint(kernel.T.astype(float), 0, 0),
        LinearConstraint(people.astype(float)[None, :], 1, np.inf),
        LinearConstraint(n.astype(float)[None, :], 0, min_size - 1),
    ]
    result = milp(
        c=n.astype(float) + 1e-3,  # among equally small unions, the one with fewest atoms
        constraints=constraints,
        integrality=np.ones(width),
        bounds=Bounds(0, 1),
    )
    if result.status != 0 or result.x is None:
        return None
    chosen = tuple(int(i) for i in np.flatnonzero(np.round(result.x) == 1))
    # re-check exactly: the solver works in floating point
    vector = np.zeros(width, dtype=np.int64)
    vector[list(chosen)] = 1
    if np.any(vector @ kernel) or people[list(chosen)].sum() < 1 or n[list(chosen)].sum() >= min_size:
        return None  # pragma: no cover - HiGHS is exact on 0/1 problems of this size
    return chosen


def _derivation(table: HeatmapTable, shown: Collection[Group], chosen: Sequence[int]) -> str:
    """A combination of shown groups equal to the union, as text ("all − northwind − contoso").

    The sparsest combination with coefficients ±1 of up to four groups when there is one (what a
    person would write), else the least-squares one with fractional coefficients.
    """
    groups = [g for g in table.groups if g in shown]
    if not groups:
        return "(nothing shown)"
    index = {a: i for i, a in enumerate(table.atoms)}
    matrix = np.zeros((len(groups), len(table.atoms)), dtype=np.int64)
    for r, g in enumerate(groups):
        for a in table.members(g):
            matrix[r, index[a]] = 1
    target = np.zeros(len(table.atoms), dtype=np.int64)
    target[list(chosen)] = 1
    for size in range(1, 5):
        for rows in itertools.combinations(range(len(groups)), size):
            for signs in itertools.product((1, -1), repeat=size):
                if signs[0] < 0:
                    continue  # lead with a plus: "all − x", not "− x + all"
                if np.array_equal(np.array(signs) @ matrix[list(rows)], target):
                    return _terms([(groups[r], Fraction(sign)) for r, sign in zip(rows, signs, strict=True)])
    coefficients = np.linalg.lstsq(matrix.T.astype(float), target.astype(float), rcond=None)[0]
    return _terms(
        [(g, Fraction(float(c)).limit_denominator(24)) for g, c in zip(groups, coefficients, strict=True)]
    )


def _terms(terms: Sequence[tuple[Group, Fraction]]) -> str:
    parts = []
    for group, value in terms:
        if value == 0:
            continue
        magnitude = abs(value)
        name = group.key if magnitude == 1 else f"{magnitude}·{group.key}"
        parts.append(f"{'−' if value < 0 else '+'} {name}")
    text = " ".join(parts) or "(derivable)"
    return text[2:] if text.startswith("+ ") else text


# ---------------------------------------------------------------- suppression

#: How many of the cheapest ways to stop a leak are each followed to the end before one is chosen.
LOOKAHEAD = 6


def suppress(
    table: HeatmapTable,
    tallies: Mapping[Atom, Sequence[int]],
    min_size: int,
    *,
    already_hidden: Collection[Group] = (),
) -> dict[Group, Suppression]:
    """The groups to hide and why: primary (n < min_size), then complementary until no leak remains.

    Complementary groups are chosen leak by leak: of the shown groups whose hiding stops the
    smallest leak, each of the :data:`LOOKAHEAD` cheapest is followed to a leak-free table, and the
    choice whose table costs least (respondents whose numbers disappear) wins; a final pass shows
    again every complementary group the result does not need. ``already_hidden`` are groups hidden
    for another reason (the read path passes the stored flags): they stay hidden.
    """
    order = {g: i for i, g in enumerate(table.groups)}
    sizes = {g: level_count(table.group_tally(g, tallies)) for g in table.groups}
    primary = {g for g in table.groups if sizes[g] < min_size}
    fixed = primary | (set(already_hidden) & set(table.groups))

    def cost(g: Group) -> tuple[int, int, int]:
        return (_KIND_COST[g.kind], sizes[g], order[g])

    search = _Search(table, tallies, min_size, fixed, cost)
    hidden = search.complete(fixed, lookahead=True)
    return {g: ("below_minimum" if g in primary else "complementary") for g in table.groups if g in hidden}


@dataclass
class _Search:
    table: HeatmapTable
    tallies: Mapping[Atom, Sequence[int]]
    min_size: int
    fixed: set[Group]
    cost: Callable[[Group], tuple[int, int, int]]

    def shown(self, hidden: Collection[Group]) -> list[Group]:
        return [g for g in self.table.groups if g not in hidden]

    def leak(self, hidden: Collection[Group]) -> Leak | None:
        return find_leak(self.table, self.shown(hidden), self.tallies, self.min_size)

    def price(self, hidden: Collection[Group]) -> tuple[int, int]:
        """What a choice costs: kind costs added up, then respondents whose numbers disappear."""
        extra = [self.cost(g) for g in hidden if g not in self.fixed]
        return (sum(c[0] for c in extra), sum(c[1] for c in extra))

    def complete(self, start: set[Group], *, lookahead: bool) -> set[Group]:
        hidden = set(start)
        while (leak := self.leak(hidden)) is not None:
            breakers = self.breakers(hidden, leak)
            if lookahead and len(breakers) > 1:
                hidden.add(
                    min(
                        breakers[:LOOKAHEAD],
                        key=lambda g: self.price(self.complete(hidden | {g}, lookahead=False)),
                    )
                )
            else:
                hidden.add(breakers[0])
        return self.prune(hidden)

    def prune(self, hidden: set[Group]) -> set[Group]:
        """Show again, most expensive first, each complementary group the table does not need."""
        hidden = set(hidden)
        for g in sorted(hidden - self.fixed, key=self.cost, reverse=True):
            hidden.discard(g)
            if self.leak(hidden) is not None:
                hidden.add(g)
        return hidden

    def breakers(self, hidden: set[Group], leak: Leak) -> list[Group]:
        """Shown groups whose hiding alone stops this leak, cheapest first (else see below)."""
        shown = sorted(self.shown(hidden), key=self.cost)
        index = {a: i for i, a in enumerate(self.table.atoms)}
        target = np.zeros(len(self.table.atoms), dtype=np.int64)
        for a in leak.atoms:
            target[index[a]] = 1
        empty = [i for i, a in enumerate(self.table.atoms) if not sum(self.tallies.get(a, ZERO))]
        found = [g for g in shown if not self._derivable(hidden | {g}, target, empty)]
        if found:
            return found
        # Several derivations: the cheapest pair that stops it, cheaper member first (the next
        # round finds its partner as a single breaker); else the cheapest group over the leak.
        pairs = [
            pair
            for pair in itertools.combinations(shown, 2)
            if not self._derivable(hidden | set(pair), target, empty)
        ]
        if pairs:
            best = min(pairs, key=lambda pair: self.price(pair))
            return sorted(best, key=self.cost)
        return [g for g in shown if self.table.members(g) & leak.atoms][:1] or shown[:1]

    def _derivable(self, hidden: set[Group], target: np.ndarray, empty: list[int]) -> bool:
        """Whether the union ``target`` (with or without empty atoms) can be worked out."""
        kernel = _kernel(self.table, self.shown(hidden))
        if kernel.shape[1] == 0 or not np.any(target @ kernel):
            return True
        if len(empty) > ENUMERATION_LIMIT:
            return True  # conservative: treat as derivable, so a group it uses is hidden
        return tuple(int(-v) for v in target @ kernel) in _filler_sums(kernel, empty)


# ---------------------------------------------------------------- re-scoring


def _people_bound(delta: Sequence[int]) -> int:
    """Fewest people who can change a tally by ``delta``: each adds to one category and/or leaves one."""
    gained = sum(d for d in delta if d > 0)
    lost = -sum(d for d in delta if d < 0)
    return max(gained, lost)


#: Above this many changed atoms, re-scoring checks single atoms, groups and pairs only.
DIFFERENCING_LIMIT = 18


def differencing_risk(
    table: HeatmapTable,
    before_shown: Collection[Group],
    now_shown: Collection[Group],
    before: Mapping[Atom, Sequence[int]],
    now: Mapping[Atom, Sequence[int]],
    min_size: int,
) -> str | None:
    """Whether publishing ``now`` after ``before`` lets the difference single out a few people.

    A union S of atoms whose numbers can be worked out from both versions (its indicator in both
    row spaces) gives away its change ``now(S) − before(S)``. That change is a disclosure when it
    is not zero and fewer than ``min_size`` people can have caused it (each person adds one answer
    and/or removes one). Returns None when no union does, else one line saying which.
    """
    atoms = table.atoms
    delta = {a: tuple(int(x) - int(y) for x, y in zip(now.get(a, ZERO), before.get(a, ZERO), strict=True))
             for a in atoms}  # fmt: skip
    changed = [i for i, a in enumerate(atoms) if any(delta[a])]
    if not changed:
        return None
    kernel = np.hstack([_kernel(table, before_shown), _kernel(table, now_shown)])
    steady = [i for i in range(len(atoms)) if i not in changed]
    deltas = np.array([delta[atoms[i]] for i in changed], dtype=np.int64)

    def risky(members: Sequence[int], total: np.ndarray) -> str | None:
        bound = _people_bound([int(v) for v in total])
        if not any(total) or bound >= min_size:
            return None
        who = " + ".join(sorted(atoms[changed[m]].label for m in members))
        return (
            f"{who}: changed by {bound} respondent(s), fewer than {min_size}; "
            "comparing with the scores already shown would single them out"
        )

    if len(changed) > DIFFERENCING_LIMIT or len(steady) > ENUMERATION_LIMIT:
        # Large change: single changed atoms and pairs (sound for the common cases; docs/anonymity.md).
        for members in itertools.chain(
            ((i,) for i in range(len(changed))), itertools.combinations(range(len(changed)), 2)
        ):
            message = risky(members, deltas[list(members)].sum(axis=0))
            if message:
                return message
        return None
    filler = _filler_sums(kernel, steady)
    subsets = _subsets(len(changed))[1:]
    sums = subsets @ kernel[changed] if kernel.shape[1] else np.zeros((len(subsets), 0), dtype=np.int64)
    totals = subsets @ deltas
    for row, kernel_sum, total in zip(subsets, sums, totals, strict=True):
        if kernel.shape[1] and tuple(int(-v) for v in kernel_sum) not in filler:
            continue
        message = risky([m for m, b in enumerate(row) if b], total)
        if message:
            return message
    return None
