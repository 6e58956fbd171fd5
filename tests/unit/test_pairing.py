"""Swap-round pairing (bot.domain.pairing): examples, the brute-force optimum on small rounds,
the hard rules and how well the soft ones are met on large rounds, and seeds."""

from __future__ import annotations

import itertools
import random
from collections.abc import Collection, Sequence
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.pairing import (
    EXACT_UP_TO,
    Entrant,
    Pairing,
    PairingProblem,
    crosses_country,
    crosses_scene,
    pair_round,
)

Pairs = Collection[tuple[int, int]]


def objective(
    entrants: Sequence[Entrant],
    receiver_of: dict[int, int],
    *,
    knows: Pairs,
    recent: Pairs,
    cross_scene: bool,
) -> tuple[int, ...]:
    """The priority order's score of a pairing, counted here from the rules, lower is better."""
    scores = pair_scores(entrants, knows=knows, recent=recent, cross_scene=cross_scene)
    columns = zip(*(scores[pair] for pair in receiver_of.items()), strict=True)
    return tuple(sum(column) for column in columns)


def pair_scores(
    entrants: Sequence[Entrant], *, knows: Pairs, recent: Pairs, cross_scene: bool
) -> dict[tuple[int, int], tuple[int, ...]]:
    """Each possible pair's part of the score: (knows, repeats[, -country, -scene])."""
    knows, recent = set(knows), set(recent)
    scores: dict[tuple[int, int], tuple[int, ...]] = {}
    for giver, receiver in itertools.permutations(entrants, 2):
        pair = (giver.user_id, receiver.user_id)
        score: tuple[int, ...] = (int(pair in knows), int(pair in recent))
        if cross_scene:
            crossed = (crosses_country(giver, receiver), crosses_scene(giver, receiver))
            score = (*score, -crossed[0], -crossed[1])
        scores[pair] = score
    return scores


def brute_force_best(
    entrants: Sequence[Entrant], *, knows: Pairs, recent: Pairs, cross_scene: bool
) -> tuple[int, ...]:
    """The best score over every derangement, by trying them all."""
    scores = pair_scores(entrants, knows=knows, recent=recent, cross_scene=cross_scene)
    # Each level sums to -8 .. 8, so as digits of a base-64 number they order as tuples do.
    weight = {
        pair: sum(level * 64 ** (3 - place) for place, level in enumerate(score))
        for pair, score in scores.items()
    }
    ids = [e.user_id for e in entrants]
    best, best_order = None, ids
    for order in itertools.permutations(ids):
        if any(g == r for g, r in zip(ids, order, strict=True)):
            continue
        total = sum(weight[pair] for pair in zip(ids, order, strict=True))
        if best is None or total < best:
            best, best_order = total, list(order)
    return objective(
        entrants,
        dict(zip(ids, best_order, strict=True)),
        knows=knows,
        recent=recent,
        cross_scene=cross_scene,
    )


def assert_a_pairing_of(
    entrants: Sequence[Entrant], pairing: Pairing, *, knows: Pairs, recent: Pairs
) -> None:
    """Everyone gives once and receives once, nobody their own, and the counts are true."""
    ids = sorted(e.user_id for e in entrants)
    assert sorted(pairing.receiver_of) == ids
    assert sorted(pairing.receiver_of.values()) == ids
    assert all(giver != receiver for giver, receiver in pairing.receiver_of.items())
    score = objective(entrants, pairing.receiver_of, knows=knows, recent=recent, cross_scene=True)
    assert (
        pairing.knows,
        pairing.repeats,
        -pairing.countries_crossed,
        -pairing.scenes_crossed,
    ) == score


def checked_pairing(
    round_: tuple[list[Entrant], Pairs, Pairs], *, cross_scene: bool, seed: int
) -> Pairing:
    """pair_round's answer, checked by ``assert_a_pairing_of``."""
    entrants, knows, recent = round_
    pairing = pair_round(entrants, knows=knows, recent=recent, cross_scene=cross_scene, seed=seed)
    assert_a_pairing_of(entrants, pairing, knows=knows, recent=recent)
    return pairing


def pair(
    entrants: Sequence[Entrant],
    knows: Pairs = (),
    recent: Pairs = (),
    *,
    cross_scene: bool = False,
    seed: int = 1,
) -> Pairing:
    return pair_round(entrants, knows=knows, recent=recent, cross_scene=cross_scene, seed=seed)


# --- examples -------------------------------------------------------------------------------


def test_two_members_swap() -> None:
    pairing = pair([Entrant(10), Entrant(20)])
    assert pairing.receiver_of == {10: 20, 20: 10}
    assert (pairing.knows, pairing.repeats, pairing.seed) == (0, 0, 1)


def test_three_members_avoid_the_one_pick_already_known() -> None:
    # Member 2 has heard member 1's pick: of the two ways round, only 1 -> 3 -> 2 -> 1 avoids it.
    for seed in range(10):
        pairing = pair([Entrant(1), Entrant(2), Entrant(3)], knows={(1, 2)}, seed=seed)
        assert pairing.receiver_of == {1: 3, 3: 2, 2: 1}
        assert pairing.knows == 0


def test_a_known_pick_weighs_more_than_a_repeat() -> None:
    # Either 1 gives to 2, who knows the pick, or 1 gives to 3 again: the repeat is the lesser evil.
    pairing = pair([Entrant(1), Entrant(2), Entrant(3)], knows={(1, 2)}, recent={(1, 3)})
    assert pairing.receiver_of == {1: 3, 3: 2, 2: 1}
    assert (pairing.knows, pairing.repeats) == (0, 1)


def test_the_same_pair_in_reverse_is_not_a_repeat() -> None:
    pairing = pair([Entrant(1), Entrant(2)], recent={(1, 2)})
    assert pairing.repeats == 1  # two members can only swap
    assert pair([Entrant(1), Entrant(2), Entrant(3)], recent={(1, 2), (2, 3)}).receiver_of == {
        1: 3,
        3: 2,
        2: 1,
    }


@pytest.mark.parametrize(
    ("entrants", "crossed"),
    [
        # two countries: everyone receives a pick from the other one
        ([Entrant(1, "ML"), Entrant(2, "ML"), Entrant(3, "JP"), Entrant(4, "JP")], (4, 4)),
        # one country: everyone receives a pick from the other city
        (
            [
                Entrant(1, "FR", "paris"),
                Entrant(2, "FR", "paris"),
                Entrant(3, "FR", "lyon"),
                Entrant(4, "FR", "lyon"),
            ],
            (0, 4),
        ),
    ],
)
def test_a_cross_scene_round_of_four_pairs_across(
    entrants: list[Entrant], crossed: tuple[int, int]
) -> None:
    for seed in range(10):
        pairing = pair(entrants, cross_scene=True, seed=seed)
        assert all(
            (giver <= 2) != (receiver <= 2) for giver, receiver in pairing.receiver_of.items()
        )
        assert (pairing.countries_crossed, pairing.scenes_crossed) == crossed


def test_a_member_with_nothing_known_crosses_no_scene() -> None:
    entrants = [
        Entrant(1, label="ant-zen", subgenres=frozenset({"ebm"})),
        Entrant(2, label="ant-zen", subgenres=frozenset({"ebm", "industrial"})),
        Entrant(3, label="mute", subgenres=frozenset({"industrial"})),
        Entrant(4),
    ]
    # 1 and 2 share a label and a subgenre, and 4 has nothing to compare: only pairs with 3
    # cross, and 3 is in two pairs (3 and 1, or 3 and 2, swap; 4 and the other one swap).
    pairing = pair(entrants, cross_scene=True)
    assert pairing.scenes_crossed == 2
    assert brute_force_best(entrants, knows=(), recent=(), cross_scene=True)[3] == -2


def test_a_country_crossing_weighs_more_than_any_number_of_scene_crossings() -> None:
    # 1 (FR, paris) can give 2 (DE) a country crossing, or give 3 (FR, lyon) a city crossing.
    entrants = [Entrant(1, "FR", "paris"), Entrant(2, "DE", "paris"), Entrant(3, "FR", "lyon")]
    pairing = pair(entrants, cross_scene=True)
    assert pairing.countries_crossed == 2
    assert (
        pairing.countries_crossed
        == PairingProblem(entrants, knows=(), recent=(), cross_scene=True).most_countries_crossed
    )


def test_what_crosses() -> None:
    fr, de, unknown = Entrant(1, "FR"), Entrant(2, "DE"), Entrant(3)
    assert crosses_country(fr, de) and crosses_scene(fr, de)
    assert not crosses_country(fr, unknown) and not crosses_scene(fr, unknown)
    assert not crosses_country(fr, replace(fr, user_id=4))
    assert not crosses_country(Entrant(1, ""), de)  # empty is unknown
    paris, lyon = Entrant(1, "FR", "paris"), Entrant(2, "FR", "lyon")
    assert crosses_scene(paris, lyon) and not crosses_scene(paris, replace(paris, user_id=3))
    assert crosses_scene(Entrant(1, label="a"), Entrant(2, label="b"))
    assert not crosses_scene(Entrant(1, label="a"), Entrant(2, city="b"))  # nothing to compare
    drone, ambient = frozenset({"drone"}), frozenset({"ambient"})
    assert crosses_scene(Entrant(1, subgenres=drone), Entrant(2, subgenres=ambient))
    assert not crosses_scene(Entrant(1, subgenres=drone), Entrant(2, subgenres=drone | ambient))
    assert not crosses_scene(Entrant(1, subgenres=drone), Entrant(2))


@pytest.mark.parametrize(
    ("countries", "most"),
    [
        (["FR", "DE"], 2),
        (["FR", "DE", None], 1),  # the one of unknown country takes a known one's pick
        (["FR", "DE", None, None], 2),
        (["US"] * 7 + ["FR", "FR", "JP", None], 6),  # the US gives to and receives from the rest
        (["US"] * 3 + ["FR"] * 3, 6),
        (["US"] * 5, 0),
        ([None, None], 0),
    ],
)
def test_the_most_countries_crossed(countries: list[str | None], most: int) -> None:
    entrants = [Entrant(n, c) for n, c in enumerate(countries)]
    problem = PairingProblem(entrants, knows=(), recent=(), cross_scene=True)
    assert problem.most_countries_crossed == most
    assert problem.solve_exactly(0).countries_crossed == most
    assert problem.solve_locally(0).countries_crossed == most


@pytest.mark.parametrize("size", [6, EXACT_UP_TO + 60])
def test_a_member_who_knows_every_pick_gets_one_they_know_and_no_one_else_does(size: int) -> None:
    entrants = [Entrant(n, ["FR", "DE", "ML"][n % 3]) for n in range(size)]
    # 0 knows every pick, and everyone knows 1's pick: 1 -> 0 is the one pair that breaks rule 1.
    knows = {(giver, 0) for giver in range(size)} | {(1, receiver) for receiver in range(size)}
    problem = PairingProblem(entrants, knows=knows, recent=(), cross_scene=True)
    assert problem.unavoidable == (1, 0)
    pairing = problem.solve(3)
    assert pairing.knows == 1
    assert pairing.receiver_of[1] == 0


def test_a_round_needs_two_members_once_each() -> None:
    with pytest.raises(ValueError, match="at least two"):
        pair([Entrant(1)])
    with pytest.raises(ValueError, match="once"):
        pair([Entrant(1), Entrant(1, "FR")])


def test_pairs_naming_someone_outside_the_round_are_ignored() -> None:
    pairing = pair([Entrant(1), Entrant(2)], knows={(1, 99), (99, 2), (1, 1)}, recent={(5, 6)})
    assert (pairing.knows, pairing.repeats) == (0, 0)


# --- properties -----------------------------------------------------------------------------

COUNTRIES = st.sampled_from([None, "FR", "DE", "ML", "JP"])
CITIES = st.sampled_from([None, "paris", "bamako", "osaka"])
LABELS = st.sampled_from([None, "sahel sounds", "4ad", "warp"])
SUBGENRES = st.frozensets(st.sampled_from(["drone", "ambient", "ebm", "tishoumaren"]), max_size=2)


@st.composite
def rounds(draw: st.DrawFn, sizes: st.SearchStrategy[int]) -> tuple[list[Entrant], Pairs, Pairs]:
    """Entrants with random ids and details, and random knows/recent pairs among them (dense or
    sparse), with a few naming outsiders."""
    size = draw(sizes)
    ids = draw(st.lists(st.integers(1, 2**63), min_size=size, max_size=size, unique=True))
    entrants = [
        Entrant(uid, draw(COUNTRIES), draw(CITIES), draw(LABELS), draw(SUBGENRES)) for uid in ids
    ]
    rng = random.Random(draw(st.integers(0, 2**32)))
    knows_density, recent_density = draw(st.sampled_from([0.0, 0.05, 0.3, 0.7])), rng.random() / 2
    everyone = [*ids, 0]  # 0 is not in the round
    knows = {(g, r) for g in everyone for r in everyone if rng.random() < knows_density}
    recent = {(g, r) for g in everyone for r in everyone if rng.random() < recent_density}
    return entrants, knows, recent


@settings(max_examples=150)
@given(rounds(st.integers(2, 8)), st.booleans(), st.integers())
def test_a_small_round_is_paired_as_well_as_a_brute_force_search_can(
    round_: tuple[list[Entrant], Pairs, Pairs], cross_scene: bool, seed: int
) -> None:
    entrants, knows, recent = round_
    pairing = checked_pairing(round_, cross_scene=cross_scene, seed=seed)
    best = brute_force_best(entrants, knows=knows, recent=recent, cross_scene=cross_scene)
    score = objective(
        entrants, pairing.receiver_of, knows=knows, recent=recent, cross_scene=cross_scene
    )
    assert score == best


def conflicts_per_member(knows: Pairs, recent: Pairs) -> tuple[dict[int, int], dict[int, int]]:
    as_giver: dict[int, int] = {}
    as_receiver: dict[int, int] = {}
    for giver, receiver in set(knows) | set(recent):
        if giver != receiver:
            as_giver[giver] = as_giver.get(giver, 0) + 1
            as_receiver[receiver] = as_receiver.get(receiver, 0) + 1
    return as_giver, as_receiver


def made_up_entrants(
    rng: random.Random, ids: Sequence[int], countries: Sequence[str | None]
) -> list[Entrant]:
    """Entrants with a country drawn from ``countries`` (a repeated one weighs more), and a
    city, a label and 0-2 subgenres drawn from a few each (or none)."""
    return [
        Entrant(
            uid,
            rng.choice(countries),
            rng.choice([None, "paris", "bamako", "osaka"]),
            rng.choice([None, "sahel sounds", "4ad"]),
            frozenset(rng.sample(["drone", "ambient", "ebm"], rng.randint(0, 2))),
        )
        for uid in ids
    ]


@st.composite
def large_rounds(draw: st.DrawFn) -> tuple[list[Entrant], Pairs, Pairs]:
    """Over EXACT_UP_TO members (so the local method answers), from no conflicts each to a
    third of the round; sometimes one country brings most picks."""
    size = draw(st.integers(EXACT_UP_TO + 1, 400))
    ids = list(range(1000, 1000 + 3 * size, 3))
    rng = random.Random(draw(st.integers(0, 2**32)))
    countries: list[str | None] = list(rng.sample(["FR", "DE", "ML", "JP", "BR", "NE"], 3))
    countries += draw(st.sampled_from([[], ["US"] * 9, [None], [None] * 3]))
    entrants = made_up_entrants(rng, ids, countries)
    known_per_member = draw(st.sampled_from([0, 2, 10, size // 3]))
    knows = {(rng.choice(ids), r) for r in ids for _ in range(known_per_member)}
    recent = {(g, rng.choice(ids)) for g in ids for _ in range(3)} if draw(st.booleans()) else set()
    return entrants, knows, recent


@settings(max_examples=40)
@given(large_rounds(), st.booleans(), st.integers())
def test_a_large_round_keeps_the_hard_rules_and_meets_the_soft_ones_where_an_exchange_can(
    round_: tuple[list[Entrant], Pairs, Pairs], cross_scene: bool, seed: int
) -> None:
    entrants, knows, recent = round_
    pairing = checked_pairing(round_, cross_scene=cross_scene, seed=seed)
    # An exchange mends any rule-breaking pair whose giver and receiver have at most n - 3
    # conflicts between them: then nothing is left broken.
    as_giver, as_receiver = conflicts_per_member(knows, recent)
    n = len(entrants)
    if max(as_giver.values(), default=0) + max(as_receiver.values(), default=0) <= n - 3:
        assert (pairing.knows, pairing.repeats) == (0, 0)
    if cross_scene:
        most = PairingProblem(
            entrants, knows=knows, recent=recent, cross_scene=True
        ).most_countries_crossed
        assert pairing.countries_crossed <= most
        if not knows and not recent:
            assert pairing.countries_crossed == most


# Measured, not promised by a proof: rounds just over EXACT_UP_TO with dense conflicts (up to
# 70 % of the pairs) against the exact optimum. Over rounds 0-99 of this kind the local method
# matched the optimum on rules 1 and 2 and on countries every time, and fell short by at most
# 6 scene crossings (of 115 pairs, in a round where no country was known); 24 of them run here.
@pytest.mark.parametrize("round_seed", range(24))
def test_the_local_method_against_the_exact_optimum_just_over_the_exact_size(
    round_seed: int,
) -> None:
    rng = random.Random(round_seed)
    n = rng.randint(EXACT_UP_TO + 1, EXACT_UP_TO + 20)
    palettes: list[list[str | None]] = [["FR", "DE", "JP", None], ["US", "US", "FR", None], [None]]
    palette = rng.choice(palettes)
    entrants = made_up_entrants(rng, range(n), palette)
    knows_density, recent_density = rng.choice([0.0, 0.05, 0.3, 0.7]), rng.choice([0.0, 0.2])
    knows = {(g, r) for g in range(n) for r in range(n) if rng.random() < knows_density}
    recent = {(g, r) for g in range(n) for r in range(n) if rng.random() < recent_density}
    problem = PairingProblem(entrants, knows=knows, recent=recent, cross_scene=True)
    exact, local = problem.solve_exactly(round_seed), problem.solve_locally(round_seed)
    assert (local.knows, local.repeats) == (exact.knows, exact.repeats)
    assert local.countries_crossed == exact.countries_crossed
    assert local.scenes_crossed >= exact.scenes_crossed - 0.06 * n


# --- seeds ------------------------------------------------------------------------------------


@settings(max_examples=40)
@given(rounds(st.integers(2, 12)) | large_rounds(), st.booleans(), st.integers(), st.randoms())
def test_the_same_seed_gives_the_same_pairing_whatever_the_order_of_the_input(
    round_: tuple[list[Entrant], Pairs, Pairs], cross_scene: bool, seed: int, rng: random.Random
) -> None:
    entrants, knows, recent = round_
    first = pair_round(entrants, knows=knows, recent=recent, cross_scene=cross_scene, seed=seed)
    shuffled = list(entrants)
    rng.shuffle(shuffled)
    again = pair_round(
        shuffled,
        knows=sorted(knows, reverse=True),
        recent=list(recent),
        cross_scene=cross_scene,
        seed=seed,
    )
    assert again == first


@pytest.mark.parametrize("size", [4, 12, EXACT_UP_TO + 50])
@pytest.mark.parametrize("cross_scene", [False, True])
def test_different_seeds_give_different_pairings(size: int, cross_scene: bool) -> None:
    entrants = [Entrant(n, ["FR", "DE", "ML"][n % 3]) for n in range(size)]
    pairings = {
        tuple(pair(entrants, cross_scene=cross_scene, seed=seed).receiver_of.items())
        for seed in range(10)
    }
    assert len(pairings) > 1
