"""Swap-round pairing: who receives whose pick.

Every entrant gives one pick and receives one, and nobody receives their own: the result is a
derangement of the entrants. Among all derangements, in this order of priority (a better level
always wins over anything below it):

1. **knows** -- as few pairs as possible where the receiver already knows the pick (they shared
   it, or marked it Heard);
2. **repeats** -- as few pairs as possible that repeat a giver -> receiver pair of the server's
   last three rounds (same direction: the reverse pair is not a repeat);
3. in cross-scene mode only, as many pairs as possible **cross a country**, then, as the
   tie-break, as many as possible **cross a scene**.

What "crosses" means, for a giver's pick and a receiver's pick (a value that is None or empty is
unknown, and an unknown value never crosses anything):

* a pair crosses a **country** when both countries are known and differ;
* a pair crosses a **scene** when it crosses a country, or else when both cities are known and
  differ, or both labels are known and differ, or both subgenre sets are non-empty and share no
  subgenre. ``scenes_crossed`` therefore counts every country-crossing pair too.

In random mode level 3 is not sought (both counts are still reported); the rest is left to the
seed. The same entrants, history, mode and seed give the same pairing, whatever order they are
given in (entrants are sorted by user id first); a change to this module may change which
pairing a stored seed gives.

How: a round of up to ``EXACT_UP_TO`` entrants is solved exactly, as an assignment problem
(the Hungarian method, O(n^3)) whose costs order the levels lexicographically, with a seeded
random cost below all of them so that the seed chooses among equally good pairings. A larger
round is built, then improved, each step making the priority order strictly better:

* the build, in cross-scene mode, has the most country crossings any derangement can have
  (``PairingProblem.most_countries_crossed``): when no country holds more than half the entrants
  of known country, a shift around those entrants grouped by country makes every one of their
  pairs cross; otherwise everyone of another country gives to and receives from the largest
  country, in a cycle alternating the two. Which giver of a country gets which of the receivers
  meant for that country is then shuffled. In random mode the build is a shuffled derangement;
* each pair breaking rule 1 or 2 exchanges receivers with another giver's pair: a few random
  givers of the same country first (an exchange between two givers of one country keeps every
  country crossing), then random givers, then, within a work budget, the best giver of all;
  if that cost country crossings, pairs crossing no country try random exchanges too;
* while more pairs break rule 1 or 2 than ``PairingProblem.unavoidable`` shows no pairing
  avoids, or country crossings fall short of the most possible, neighbourhoods of 40 givers
  (half of them such pairs) are re-paired exactly among their own receivers, until several in a
  row gain nothing;
* in cross-scene mode, each pair that crosses no scene tries a few exchanges with givers of its
  country, then up to 8 neighbourhoods are re-paired as above around such pairs (leaving out
  members whose pick has nothing known to compare, who cross nothing).

So a larger round ends with no pick known and no repeat whenever every rule-breaking pair has an
exchange that mends it, which is certain (within the work budget) when the giver's and the
receiver's conflicts (pairs in ``knows`` or ``recent`` naming them as giver, resp. receiver) add
up to at most n - 3; beyond that it is as good as those exchanges and neighbourhoods make it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from operator import attrgetter

EXACT_UP_TO = 100
"""Rounds of this many entrants or fewer are solved exactly."""

# A pair's cost in the local search: one unit per level, each worth more than any change in the
# levels below it that an exchange of two pairs can make (each level changes by at most 2).
_SCENE, _COUNTRY, _REPEAT, _KNOWS = 1, 8, 64, 512
# The most an exchange can change the cost through the levels below each one: a gain above it
# is a gain at that level or above.
_LOWER_CHANGE = {_SCENE: 0, _COUNTRY: 2 * _SCENE, _REPEAT: 2 * (_COUNTRY + _SCENE)}
_TRIES = 12  # random exchange partners tried per pair, per kind of partner
_SCAN_BUDGET = 400_000  # pair costs evaluated by full scans, at most, per round
_NEIGHBOURHOOD = 40  # givers re-paired exactly at a time
# At most so many neighbourhoods for rules 1-3, and for scenes, stopping after so many in a row
# fail. Scenes get fewer: in a large round they could go on gaining a little for long.
_NEIGHBOURHOODS, _SCENE_NEIGHBOURHOODS, _FRUITLESS = 40, 8, 6


@dataclass(frozen=True, slots=True)
class Entrant:
    """A member in a round and what is known of the pick they bring."""

    user_id: int
    country: str | None = None  # ISO alpha-2 of the pick they bring
    city: str | None = None  # casefolded
    label: str | None = None  # casefolded
    subgenres: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Pairing:
    """Who gives to whom, the seed that chose it, and how well it keeps the rules."""

    receiver_of: dict[int, int]  # giver user_id -> receiver user_id (a permutation, no fixed point)
    seed: int
    knows: int  # pairs where the receiver already knows the pick (rule 1 broken)
    repeats: int  # pairs repeating a recent giver->receiver (rule 2 broken)
    countries_crossed: int  # pairs whose two picks come from different (known) countries
    scenes_crossed: int  # pairs crossing a country, else a city, label or subgenre set


def crosses_country(giver: Entrant, receiver: Entrant) -> bool:
    """Both picks' countries are known and differ."""
    return bool(giver.country and receiver.country and giver.country != receiver.country)


def crosses_scene(giver: Entrant, receiver: Entrant) -> bool:
    """The pair crosses a country, or else a city, a label or a subgenre set (see the module)."""
    return (
        crosses_country(giver, receiver)
        or bool(giver.city and receiver.city and giver.city != receiver.city)
        or bool(giver.label and receiver.label and giver.label != receiver.label)
        or bool(
            giver.subgenres
            and receiver.subgenres
            and giver.subgenres.isdisjoint(receiver.subgenres)
        )
    )


def pair_round(
    entrants: Sequence[Entrant],
    *,
    knows: Collection[tuple[int, int]],
    recent: Collection[tuple[int, int]],
    cross_scene: bool,
    seed: int,
) -> Pairing:
    """Pair a round's entrants (at least two, each user id once) by the rules of this module.

    ``knows`` holds (giver, receiver) where the receiver shared or marked Heard the giver's pick;
    ``recent`` the (giver, receiver) pairs of the server's last 3 rounds. Pairs naming someone
    not in ``entrants`` are ignored. Raises ValueError for fewer than two entrants or a user id
    given twice."""
    return PairingProblem(entrants, knows=knows, recent=recent, cross_scene=cross_scene).solve(seed)


class PairingProblem:
    """One round's entrants, conflicts and mode, prepared once; ``solve`` pairs them.

    ``solve_exactly`` and ``solve_locally`` force one method whatever the size (tests compare
    them; the exact one is O(n^3) and meant for small rounds)."""

    def __init__(
        self,
        entrants: Sequence[Entrant],
        *,
        knows: Collection[tuple[int, int]],
        recent: Collection[tuple[int, int]],
        cross_scene: bool,
    ) -> None:
        people = sorted(entrants, key=attrgetter("user_id"))
        if len(people) < 2:
            raise ValueError("a swap round needs at least two entrants")
        uids = [p.user_id for p in people]
        if len(set(uids)) != len(uids):
            raise ValueError("each entrant may be in a round once")
        self.people = people
        self.n = len(people)
        self.uids = uids
        self.knows = frozenset(knows)
        self.recent = frozenset(recent)
        self.cross_scene = cross_scene
        self.country = [p.country or None for p in people]
        self.city = [p.city or None for p in people]
        self.label = [p.label or None for p in people]
        self.subgenres = [p.subgenres for p in people]
        # Nothing known of their pick: no pair with them crosses a scene.
        self.blank = [not (p.country or p.city or p.label or p.subgenres) for p in people]

    # --- the rules, per pair (giver index, receiver index) ---------------------------------

    def cost(self, giver: int, receiver: int) -> int:
        """The pair's cost for the local search: one unit per level it falls short on."""
        key = (self.uids[giver], self.uids[receiver])
        cost = 0
        if key in self.knows:
            cost = _KNOWS
        if key in self.recent:
            cost += _REPEAT
        if self.cross_scene:
            country = self.country
            mine, theirs = country[giver], country[receiver]
            if mine is None or theirs is None or mine == theirs:
                cost += _COUNTRY
                if not self._crosses_below_country(giver, receiver):
                    cost += _SCENE
        return cost

    def _crosses_below_country(self, giver: int, receiver: int) -> bool:
        city, label, subgenres = self.city, self.label, self.subgenres
        a, b = city[giver], city[receiver]
        if a is not None and b is not None and a != b:
            return True
        a, b = label[giver], label[receiver]
        if a is not None and b is not None and a != b:
            return True
        mine, theirs = subgenres[giver], subgenres[receiver]
        return bool(mine and theirs and mine.isdisjoint(theirs))

    def _levels(self, giver: int, receiver: int) -> tuple[bool, bool, bool, bool]:
        """Whether the pair: breaks rule 1, breaks rule 2, crosses no country, crosses no scene."""
        key = (self.uids[giver], self.uids[receiver])
        mine, theirs = self.country[giver], self.country[receiver]
        country = mine is not None and theirs is not None and mine != theirs
        scene = country or self._crosses_below_country(giver, receiver)
        return key in self.knows, key in self.recent, not country, not scene

    @property
    def most_countries_crossed(self) -> int:
        """The most country-crossing pairs any derangement of these entrants has (ignoring
        rules 1 and 2): with K entrants of known country, the largest country holding m of them
        and u entrants of unknown country, K when 2m <= K (K - 1 when u is 1: someone of a known
        country must give to that one), else 2(K - m)."""
        known = [c for c in self.country if c is not None]
        if not known:
            return 0
        sizes: dict[str, int] = {}
        for c in known:
            sizes[c] = sizes.get(c, 0) + 1
        total, largest = len(known), max(sizes.values())
        if 2 * largest <= total:
            return total - 1 if self.n - total == 1 else total
        return 2 * (total - largest)

    @property
    def unavoidable(self) -> tuple[int, int]:
        """Lower bounds on the pairs breaking rule 1, and rule 2, in any pairing: a receiver
        who knows every other pick receives a known one, and a pick every other entrant knows
        goes to someone who knows it (one pair may be both)."""
        return _unavoidable(self.knows, self.uids), _unavoidable(self.recent, self.uids)

    # --- solving ---------------------------------------------------------------------------

    def solve(self, seed: int) -> Pairing:
        if self.n <= EXACT_UP_TO:
            return self.solve_exactly(seed)
        return self.solve_locally(seed)

    def solve_exactly(self, seed: int) -> Pairing:
        """The optimum of the priority order, by the Hungarian method; the seed breaks ties."""
        everyone = list(range(self.n))
        return self._pairing(self.best_receivers(everyone, everyone, random.Random(seed)), seed)

    def best_receivers(
        self, givers: list[int], receivers: list[int], rng: random.Random | None = None
    ) -> list[int]:
        """The order of ``receivers`` (indices) that, given to ``givers`` in turn, is best by
        the priority order, by the Hungarian method; with ``rng``, a random cost below every
        level breaks ties."""
        size = len(givers)
        # Lexicographic units: each level's unit is worth more than all the pairs' worth of
        # everything below it, so a sum of pair costs orders exactly as the levels do.
        noise = size if rng else 1  # a random 0 .. size-1 per pair, the lowest level
        units = []
        below = noise - 1
        for _ in range(4):
            unit = size * below + 1
            units.append(unit)
            below += unit
        scene_unit, country_unit, repeat_unit, knows_unit = units
        if not self.cross_scene:
            scene_unit = country_unit = 0
        forbidden = size * below + 1  # more than any derangement costs in all
        matrix = []
        for giver in givers:
            row = []
            for receiver in receivers:
                if giver == receiver:
                    row.append(forbidden)
                    continue
                knows, repeat, no_country, no_scene = self._levels(giver, receiver)
                row.append(
                    knows * knows_unit
                    + repeat * repeat_unit
                    + no_country * country_unit
                    + no_scene * scene_unit
                    + (rng.randrange(noise) if rng else 0)
                )
            matrix.append(row)
        return [receivers[column] for column in _hungarian(matrix)]

    def levels(self, givers: Sequence[int], receivers: Sequence[int]) -> tuple[int, ...]:
        """What the pairs (indices) score, in priority order, lower is better: knows, repeats,
        and in cross-scene mode pairs crossing no country, pairs crossing no scene."""
        knows = repeats = no_countries = no_scenes = 0
        for giver, receiver in zip(givers, receivers, strict=True):
            knew, repeat, no_country, no_scene = self._levels(giver, receiver)
            knows += knew
            repeats += repeat
            no_countries += no_country
            no_scenes += no_scene
        if self.cross_scene:
            return knows, repeats, no_countries, no_scenes
        return knows, repeats

    def solve_locally(self, seed: int) -> Pairing:
        """Build (see the module), then improve by exchanges of receivers."""
        rng = random.Random(seed)
        if self.cross_scene:
            receivers, buckets = self._build_across_countries(rng)
        else:
            receivers, buckets = _shuffled_derangement(self.n, rng), [list(range(self.n))]
        _Improver(self, receivers, buckets, rng).run()
        return self._pairing(receivers, seed)

    def _build_across_countries(self, rng: random.Random) -> tuple[list[int], list[list[int]]]:
        """A derangement with ``most_countries_crossed`` country crossings, and the entrants
        grouped by country (entrants of unknown country last, as one group)."""
        n = self.n
        by_country: dict[str, list[int]] = {}
        unknown: list[int] = []
        for member, country in enumerate(self.country):
            if country is None:
                unknown.append(member)
            else:
                by_country.setdefault(country, []).append(member)
        groups = [by_country[c] for c in sorted(by_country)]
        rng.shuffle(groups)
        for group in groups:
            rng.shuffle(group)
        rng.shuffle(unknown)
        receivers = [-1] * n
        total = sum(len(g) for g in groups)
        largest = max(groups, key=len, default=[])
        if groups and 2 * len(largest) <= total:
            # Around a ring of the groups laid end to end, a shift by s with m <= s <= K - m
            # lands every member outside their own group.
            ring = [member for group in groups for member in group]
            shift = rng.randint(len(largest), total - len(largest))
            for place, giver in enumerate(ring):
                receivers[giver] = ring[(place + shift) % total]
            rest = unknown
            if len(rest) == 1:  # the one of unknown country goes between two pairs
                giver = ring[rng.randrange(total)]
                receivers[rest[0]], receivers[giver] = receivers[giver], rest[0]
                rest = []
        else:
            # The largest country takes more than half: everyone else gives to it and receives
            # from it, in one cycle alternating the two; what is left is deranged apart.
            others = [member for group in groups if group is not largest for member in group]
            rng.shuffle(others)
            cycle = [member for pair in zip(largest, others, strict=False) for member in pair]
            for place, giver in enumerate(cycle):
                receivers[giver] = cycle[(place + 1) % len(cycle)]
            rest = largest[len(others) :] + unknown
            if len(rest) == 1 and cycle:  # then it is of the largest country: no crossing lost
                receivers[rest[0]], receivers[cycle[-1]] = receivers[cycle[-1]], rest[0]
                rest = []
        if rest:
            for giver, receiver in zip(rest, _derangement_of(rest, rng), strict=True):
                receivers[giver] = receiver
        buckets = [*groups, unknown] if unknown else groups
        for bucket in buckets:  # who in a group gets which of the group's receivers
            _shuffle_receivers(bucket, receivers, rng)
        return receivers, buckets

    def _pairing(self, receivers: list[int], seed: int) -> Pairing:
        knows = repeats = countries = scenes = 0
        for giver, receiver in enumerate(receivers):
            knew, repeat, no_country, no_scene = self._levels(giver, receiver)
            knows += knew
            repeats += repeat
            countries += not no_country
            scenes += not no_scene
        uids = self.uids
        return Pairing(
            receiver_of={uids[g]: uids[r] for g, r in enumerate(receivers)},
            seed=seed,
            knows=knows,
            repeats=repeats,
            countries_crossed=countries,
            scenes_crossed=scenes,
        )


class _Improver:
    """Exchanges of receivers between two givers, each making the priority order strictly
    better: rule-breaking pairs first, then lost country crossings, then scene crossings."""

    def __init__(
        self,
        problem: PairingProblem,
        receivers: list[int],
        buckets: list[list[int]],
        rng: random.Random,
    ) -> None:
        """``buckets``: the givers by country, whose exchanges among themselves keep every
        country crossing (in random mode, everyone as one)."""
        self.problem = problem
        self.receivers = receivers
        self.buckets = buckets
        self.bucket_of = [0] * problem.n
        for number, bucket in enumerate(buckets):
            for member in bucket:
                self.bucket_of[member] = number
        self.rng = rng
        self.costs = [problem.cost(g, r) for g, r in enumerate(receivers)]
        self.scan_budget = _SCAN_BUDGET

    def run(self) -> None:
        costs, n, problem = self.costs, self.problem.n, self.problem
        self._repair([g for g in range(n) if costs[g] >= _REPEAT], _REPEAT, scan=True)
        if problem.cross_scene and self._countries_short():
            self._repair([g for g in range(n) if costs[g] >= _COUNTRY], _COUNTRY, scan=False)
        if problem.cross_scene and self._countries_short():
            self._solve_neighbourhoods(lambda g: costs[g] >= _COUNTRY, levels=3)
        elif not self._rules_at_bound():
            self._solve_neighbourhoods(lambda g: costs[g] >= _REPEAT, levels=2)
        if problem.cross_scene:
            self._repair([g for g in range(n) if costs[g] % _COUNTRY], _SCENE, scan=False)
            receivers, blank = self.receivers, problem.blank
            self._solve_neighbourhoods(
                lambda g: bool(costs[g] % _COUNTRY) and not blank[g] and not blank[receivers[g]],
                levels=4,
                most=_SCENE_NEIGHBOURHOODS,
            )

    def _rules_at_bound(self) -> bool:
        """Whether the pairs breaking rules 1 and 2 are down to ``unavoidable`` ones."""
        broken = [g for g, cost in enumerate(self.costs) if cost >= _REPEAT]
        if not broken:
            return True
        knows, repeats = self.problem.levels(broken, [self.receivers[g] for g in broken])[:2]
        return (knows, repeats) == self.problem.unavoidable

    def _countries_short(self) -> bool:
        crossed = sum(1 for cost in self.costs if cost < _COUNTRY)
        return crossed < self.problem.most_countries_crossed

    def _solve_neighbourhoods(
        self, defective: Callable[[int], bool], *, levels: int, most: int = _NEIGHBOURHOODS
    ) -> None:
        """Re-pair neighbourhoods exactly, each of ``_NEIGHBOURHOOD`` givers among their own
        receivers, half of them (at most) givers whose pair is ``defective``, the rest random,
        while there are such givers. Stops after ``_FRUITLESS`` tries in a row gain nothing in
        the first ``levels`` levels, or ``most`` tries."""
        problem, costs, receivers, rng = self.problem, self.costs, self.receivers, self.rng
        n = problem.n
        size = min(n, _NEIGHBOURHOOD)
        left = [g for g in range(n) if defective(g)]
        fruitless = 0
        for _ in range(most):
            if not left or fruitless == _FRUITLESS:
                return
            chosen = set(rng.sample(left, min(len(left), size // 2)))
            while len(chosen) < size:
                chosen.add(rng.randrange(n))
            givers = sorted(chosen)
            before = [receivers[g] for g in givers]
            after = problem.best_receivers(givers, before)
            gained, lost = problem.levels(givers, after), problem.levels(givers, before)
            fruitless = 0 if gained[:levels] < lost[:levels] else fruitless + 1
            if gained < lost:
                for giver, receiver in zip(givers, after, strict=True):
                    receivers[giver] = receiver
                    costs[giver] = problem.cost(giver, receiver)
                left = [g for g in dict.fromkeys(left + givers) if defective(g)]

    def _repair(self, work: list[int], level: int, *, scan: bool) -> None:
        """Try to mend each giver's pair at ``level`` (see ``_short``) by random exchanges;
        with ``scan``, then those still short by the best exchange over all givers too (after
        the cheap pass, so that a full scan is not spent on what a random exchange mends)."""
        unmended = self._mend(work, level, scan=False)
        if scan:
            self._mend(unmended, level, scan=True)

    def _mend(self, work: list[int], level: int, *, scan: bool) -> list[int]:
        """One pass of ``_repair`` over ``work`` and the pairs its exchanges leave short; the
        givers it could not mend."""
        costs, unmended = self.costs, []
        work = work[::-1]
        while work:
            giver = work.pop()
            if not self._short(costs[giver], level):
                continue
            partner = self._exchange(giver, level, scan=scan)
            if partner is None:
                unmended.append(giver)
                continue
            for member in (partner, giver):
                if self._short(costs[member], level):
                    work.append(member)
        return unmended

    @staticmethod
    def _short(cost: int, level: int) -> bool:
        """Whether a pair of this cost needs mending at ``level``: for the rules and countries,
        a cost of that level's unit or more; for scenes, an odd cost."""
        return bool(cost % _COUNTRY) if level == _SCENE else cost >= level

    def _exchange(self, giver: int, level: int, *, scan: bool) -> int | None:
        """Exchange the giver's receiver with a better partner's, if one is found; the partner.

        Partners of the giver's own country keep every country crossing, so they come first,
        except when what is sought is a country crossing; any giver comes next, except for a
        scene crossing (which a partner of another country would give only by taking one)."""
        rng, n = self.rng, self.problem.n
        own = self.buckets[self.bucket_of[giver]]
        if level != _COUNTRY and len(own) > 1:
            for _ in range(_TRIES):
                partner = own[rng.randrange(len(own))]
                if self._exchanged(giver, partner, level):
                    return partner
        if level != _SCENE:
            for _ in range(_TRIES):
                partner = rng.randrange(n)
                if self._exchanged(giver, partner, level):
                    return partner
        if scan and self.scan_budget > 0:
            self.scan_budget -= 2 * n
            best = self._best_partner(giver, level)
            if best is not None and self._exchanged(giver, best, level):
                return best
        return None

    def _exchanged(self, giver: int, partner: int, level: int) -> bool:
        """Exchange the two givers' receivers if that makes the round better at ``level`` or
        above (and so better: lower levels count only once those are equal)."""
        receivers, costs = self.receivers, self.costs
        mine, theirs = receivers[giver], receivers[partner]
        if partner == giver or theirs == giver or mine == partner:
            return False
        cost = self.problem.cost
        new_mine, new_theirs = cost(giver, theirs), cost(partner, mine)
        if costs[giver] + costs[partner] - new_mine - new_theirs <= _LOWER_CHANGE[level]:
            return False
        receivers[giver], receivers[partner] = theirs, mine
        costs[giver], costs[partner] = new_mine, new_theirs
        return True

    def _best_partner(self, giver: int, level: int) -> int | None:
        """The partner whose exchange improves the round most, over all givers, if it improves
        it at ``level`` or above."""
        receivers, costs, cost = self.receivers, self.costs, self.problem.cost
        mine, before = receivers[giver], costs[giver]
        best, best_gain = None, _LOWER_CHANGE[level]
        for partner, theirs in enumerate(receivers):
            if partner == giver or theirs == giver or mine == partner:
                continue
            gain = before + costs[partner] - cost(giver, theirs) - cost(partner, mine)
            if gain > best_gain:
                best, best_gain = partner, gain
        return best


def _unavoidable(pairs: frozenset[tuple[int, int]], uids: list[int]) -> int:
    """See ``PairingProblem.unavoidable``."""
    members = set(uids)
    as_giver: dict[int, int] = {}
    as_receiver: dict[int, int] = {}
    for giver, receiver in pairs:
        if giver != receiver and giver in members and receiver in members:
            as_giver[giver] = as_giver.get(giver, 0) + 1
            as_receiver[receiver] = as_receiver.get(receiver, 0) + 1
    everyone_else = len(uids) - 1
    return max(
        sum(1 for count in as_giver.values() if count == everyone_else),
        sum(1 for count in as_receiver.values() if count == everyone_else),
    )


def _hungarian(matrix: list[list[int]]) -> list[int]:
    """The column of each row in a minimum-cost perfect matching of a square matrix
    (Kuhn-Munkres with potentials, shortest augmenting paths: O(n^3))."""
    n = len(matrix)
    infinity = 4 * (n + 2) * (1 + max(max(row) for row in matrix))
    row_potential = [0] * (n + 1)
    col_potential = [0] * (n + 1)
    row_of_col = [0] * (n + 1)  # 1-based rows; column 0 is the augmenting path's root
    way = [0] * (n + 1)
    for row in range(1, n + 1):
        row_of_col[0] = row
        col = 0
        slack = [infinity] * (n + 1)
        used = [False] * (n + 1)
        while True:
            used[col] = True
            current = row_of_col[col]
            costs = matrix[current - 1]
            potential = row_potential[current]
            delta, next_col = infinity, 0
            for j in range(1, n + 1):
                if not used[j]:
                    reduced = costs[j - 1] - potential - col_potential[j]
                    if reduced < slack[j]:
                        slack[j] = reduced
                        way[j] = col
                    if slack[j] < delta:
                        delta, next_col = slack[j], j
            for j in range(n + 1):
                if used[j]:
                    row_potential[row_of_col[j]] += delta
                    col_potential[j] -= delta
                else:
                    slack[j] -= delta
            col = next_col
            if row_of_col[col] == 0:
                break
        while col:
            previous = way[col]
            row_of_col[col] = row_of_col[previous]
            col = previous
    column_of = [0] * n
    for col in range(1, n + 1):
        column_of[row_of_col[col] - 1] = col - 1
    return column_of


def _shuffled_derangement(n: int, rng: random.Random) -> list[int]:
    """receivers[giver] for 0..n-1: a shuffle, each fixed point exchanged with a random other."""
    receivers = list(range(n))
    rng.shuffle(receivers)
    for giver in range(n):
        if receivers[giver] == giver:
            other = rng.randrange(n - 1)
            other += other >= giver
            receivers[giver], receivers[other] = receivers[other], giver
    return receivers


def _derangement_of(members: list[int], rng: random.Random) -> list[int]:
    """Receivers for ``members`` (two or more) among themselves, in their order."""
    return [members[i] for i in _shuffled_derangement(len(members), rng)]


def _shuffle_receivers(bucket: list[int], receivers: list[int], rng: random.Random) -> None:
    """Deal the bucket's receivers out again among its givers at random, then undo any fixed
    point by exchanging with another of the bucket (which keeps every crossing count)."""
    dealt = [receivers[g] for g in bucket]
    rng.shuffle(dealt)
    for giver, receiver in zip(bucket, dealt, strict=True):
        receivers[giver] = receiver
    for place, giver in enumerate(bucket):
        if receivers[giver] == giver:
            other = bucket[(place + 1 + rng.randrange(len(bucket) - 1)) % len(bucket)]
            receivers[giver], receivers[other] = receivers[other], giver
