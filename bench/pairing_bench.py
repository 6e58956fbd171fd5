"""Swap-round pairing benchmark: pair_round on a large server's round, in cross-scene mode.

    .venv/bin/python bench/pairing_bench.py [--members 10000] [--seeds 7] [--dominant 0.0]

Makes a round of ``--members`` entrants whose picks look like a big server's archive (about 40
countries, a few dominating; 15 % without a country; cities, labels and 0-3 subgenres of 30),
what they know (each knows 3 random picks, and 1 % of the picks are classics that 5 % of the
members know) and 3 earlier rounds of history (each a random pairing of 80 % of them). With
``--dominant`` the largest country brings that share of the picks. Then, for each of ``--seeds``
seeds, times pair_round (input preparation included) and prints p50/max, and the quality: pairs
breaking rules 1 and 2 against a lower bound of what no pairing avoids
(PairingProblem.unavoidable), country crossings against the most any pairing has, scene
crossings against a bound (members with nothing known cross nothing). The same for rounds of 100 and 1,000 members, and for
random mode, and for the round with one member who knows every pick and one pick everyone
knows (the slow path: a rule-breaking pair no exchange mends). Figures, not asserts: the
README records them.

Why this method: the exact assignment is O(n^3) (about 40 ms at 100 members in CPython, hours
at 10,000), while a round's conflicts (known picks, recent pairs) are few per member, so a
build that is already best for countries and needs only local repairs is near the optimum
(see bot/domain/pairing.py, and tests/unit/test_pairing.py for the comparison with it).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.domain.pairing import EXACT_UP_TO, Entrant, Pairing, PairingProblem, pair_round

SUBGENRES = ["shoegaze", "dream-pop", "slowcore", "post-rock", "ambient", "drone", "minimal-synth",
             "cold-wave", "ebm", "post-punk", "dub-techno", "kosmische", "italo", "noise", "library",
             "tishoumaren", "sahel-rock", "ethio-jazz", "city-pop", "kankyo-ongaku", "zouk",
             "highlife", "cumbia", "baile", "tropicalia", "krautrock", "no-wave", "darkwave",
             "vaporwave", "footwork"]  # fmt: skip
COUNTRIES = ["US", "GB", "DE", "FR", "JP", "IT", "NL", "BE", "SE", "CA", "AU", "ES", "BR", "ML",
             "NE", "NG", "GH", "ET", "MX", "CO", "AR", "IS", "NO", "FI", "DK", "PL", "CZ", "RU",
             "UA", "TR", "GR", "PT", "IE", "NZ", "KR", "CN", "IN", "ZA", "JM", "CU"]  # fmt: skip


Round = tuple[list[Entrant], set[tuple[int, int]], set[tuple[int, int]]]


def make_round(members: int, dominant: float, rng: random.Random) -> Round:
    """Entrants, knows and recent pairs of a made-up round (see the module)."""
    weights = [1 / (rank + 1) for rank in range(len(COUNTRIES))]  # Zipf: a few countries lead
    genre_weights = [1 / (rank + 1) ** 0.7 for rank in range(len(SUBGENRES))]
    labels = [f"label {number}" for number in range(max(20, members // 5))]
    entrants = []
    for number in range(members):
        user_id = 10**17 + number * 7919  # snowflake-sized ids
        if rng.random() < 0.15:
            country = None
        elif dominant and rng.random() < dominant / 0.85:
            country = COUNTRIES[0]
        else:
            country = rng.choices(COUNTRIES, weights)[0]
        city = f"{country}-city-{rng.randrange(6)}" if country and rng.random() < 0.5 else None
        label = rng.choice(labels) if rng.random() < 0.6 else None
        genres = frozenset(rng.choices(SUBGENRES, genre_weights, k=rng.randint(0, 3)))
        entrants.append(Entrant(user_id, country, city, label, genres))
    ids = [e.user_id for e in entrants]
    knows: set[tuple[int, int]] = set()
    for receiver in ids:
        for giver in rng.sample(ids, 3):
            knows.add((giver, receiver))
    for giver in rng.sample(ids, max(1, members // 100)):  # classics
        for receiver in rng.sample(ids, max(1, members // 20)):
            knows.add((giver, receiver))
    recent: set[tuple[int, int]] = set()
    for _ in range(3):
        earlier = rng.sample(ids, int(members * 0.8))
        shifted = earlier[1:] + earlier[:1]
        recent.update(zip(earlier, shifted, strict=True))
    return entrants, {p for p in knows if p[0] != p[1]}, recent


def run(
    label: str, members: int, args: argparse.Namespace, *, cross_scene: bool, crowded: bool = False
) -> None:
    rng = random.Random(members * 31 + int(args.dominant * 100))
    entrants, knows, recent = make_round(members, args.dominant, rng)
    if crowded:  # one member knows every pick, and everyone knows one pick
        ids = [e.user_id for e in entrants]
        knows |= {(giver, ids[0]) for giver in ids} | {(ids[1], receiver) for receiver in ids}
    problem = PairingProblem(entrants, knows=knows, recent=recent, cross_scene=cross_scene)
    most = problem.most_countries_crossed
    times, results = [], []
    for seed in range(args.seeds):
        gc.collect()
        started = time.perf_counter()
        pairing = pair_round(
            entrants, knows=knows, recent=recent, cross_scene=cross_scene, seed=seed
        )
        times.append((time.perf_counter() - started) * 1000)
        results.append(pairing)
    method = "exact" if members <= EXACT_UP_TO else "local"
    print(f"{label}: {members:,} members, {len(knows):,} knows pairs, {len(recent):,} recent pairs; "
          f"{'cross-scene' if cross_scene else 'random'} mode, {method} method")  # fmt: skip
    print(f"  time over {args.seeds} seeds: p50 {statistics.median(times):7.1f} ms, max {max(times):7.1f} ms")  # fmt: skip
    # Each member with no country, city, label or subgenre is in two pairs that cross no scene,
    # and a pair holds at most two such members: at least that many pairs cross none.
    blank = sum(1 for e in entrants if not (e.country or e.city or e.label or e.subgenres))
    bounds = (*problem.unavoidable, most, members - blank)
    quality(results, members, *bounds)


def quality(
    results: list[Pairing], members: int, knows_lb: int, repeats_lb: int, most: int, scenes_ub: int
) -> None:
    def spread(values: list[int]) -> str:
        return (
            f"{min(values):,}-{max(values):,}" if min(values) != max(values) else f"{values[0]:,}"
        )

    knows = [p.knows for p in results]
    repeats = [p.repeats for p in results]
    countries = [p.countries_crossed for p in results]
    scenes = [p.scenes_crossed for p in results]
    print(f"  knows left {spread(knows)} (lower bound {knows_lb}); repeats left {spread(repeats)} "
          f"(lower bound {repeats_lb})")  # fmt: skip
    print(f"  countries crossed {spread(countries)} of at most {most:,} "
          f"({min(countries) / max(most, 1):.2%} of the bound at worst; {most / members:.1%} of pairs)")  # fmt: skip
    print(f"  scenes crossed {spread(scenes)} of at most {scenes_ub:,} ({min(scenes) / scenes_ub:.2%} "
          "of the bound at worst)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=7)
    parser.add_argument("--dominant", type=float, default=0.0, help="share of the largest country")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]} on {os.cpu_count()} CPUs; pairing is exact (Hungarian, "
          f"O(n^3)) up to {EXACT_UP_TO} members, above that a build with the most country "
          "crossings possible, then exchanges and exact re-pairing of neighbourhoods of 40\n")  # fmt: skip
    run("The round", args.members, args, cross_scene=True)
    run("Random mode", args.members, args, cross_scene=False)
    run("Crowded", args.members, args, cross_scene=True, crowded=True)
    for members in (100, 1_000):
        run("Smaller", members, args, cross_scene=True)


if __name__ == "__main__":
    main()
