"""What the digest's write-side upkeep costs sharing a pick and marking one: the triggers of
migrations 0012 (each pick's Heard/Loved counts) and 0013 (``map_firsts``), and 0012's
covering index ``picks_week``.

    .venv/bin/python bench/digest_write_bench.py [--shares 200] [--rounds 4]

Copies the digest benchmark's database (``bench/digest_bench.py`` builds it under
bench/.data/ first) three times into a scratch folder beside it: as it is; without the
triggers of 0012 and 0013; and without those triggers nor ``picks_week`` (the write path before
the two migrations). On each, in rounds that take the three in turn (so a busy machine's
swings fall on all of them alike), shares ``--shares`` picks to the busiest server through the
service (``share_pick``: dedupe check, insert, subgenres, full-text index, card's outbox entry,
one transaction each), then toggles a Heard or Loved mark on each twice (``toggle_vote``, one
transaction each). Prints p50/p99 per share and per mark. The copies are deleted at the end;
the benchmark's database is never written.

Figures, not asserts: the README records them.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import digest_bench

from bot.db import Database
from bot.services import picks as picks_service

TRIGGERS_0012 = ("pick_mark_counts_added", "pick_mark_counts_removed", "pick_mark_counts_changed")
TRIGGERS_0013 = (
    "map_firsts_pick_added",
    "map_firsts_tag_added",
    "map_firsts_tag_removed",
    "map_firsts_pick_changed",
    "map_firsts_pick_deleted",
)
VARIANTS = {
    "as is (0012 + 0013 triggers, picks_week)": (),
    "without the 0012/0013 triggers": (*TRIGGERS_0012, *TRIGGERS_0013),
    "without those triggers nor picks_week": (*TRIGGERS_0012, *TRIGGERS_0013, "picks_week"),
}


def strip(path: Path, names: tuple[str, ...]) -> None:
    conn = sqlite3.connect(path)
    for name in names:
        kind = "INDEX" if name == "picks_week" else "TRIGGER"
        conn.execute(f"DROP {kind} {name}")
    conn.commit()
    conn.close()


def describe(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):6.2f} ms   p99 {p99:6.2f} ms   (n={len(ordered)})"


async def one_round(
    db: Database, gen: digest_bench.Generator, first: int, shares: int, rng: random.Random
) -> tuple[list[float], list[float]]:
    guild = digest_bench.guild_of(1)
    now = digest_bench.DUE + timedelta(hours=1)
    shared_ms, marked_ms, ids = [], [], []
    for n in range(first, first + shares):
        given = gen.fields(1, n)
        t0 = time.perf_counter()
        result = await picks_service.share_pick(
            db, guild_id=guild, user_id=digest_bench.member_of(1, n % 500), channel_id=1,
            now=now, given=given,
        )  # fmt: skip
        shared_ms.append((time.perf_counter() - t0) * 1000)
        if result.pick is not None:
            ids.append(result.pick.id)
    for pick_id in ids:
        for _ in range(2):
            t0 = time.perf_counter()
            await picks_service.toggle_vote(
                db, guild_id=guild, pick_id=pick_id, kind=rng.choice(("heard", "loved")),
                user_id=digest_bench.member_of(1, rng.randrange(500)), now=now,
            )  # fmt: skip
            marked_ms.append((time.perf_counter() - t0) * 1000)
    return shared_ms, marked_ms


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shares", type=int, default=200, help="picks shared per round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--picks", type=int, default=1_000_000)
    parser.add_argument("--servers", type=int, default=1_000)
    args = parser.parse_args()
    found = sorted(
        digest_bench.DATA.glob(
            f"digest-{args.picks}-{args.servers}-*-m{digest_bench.migrations_hash()}.sqlite3"
        )
    )
    if not found:
        sys.exit("Build the digest benchmark's database first: bench/digest_bench.py")
    source = found[0]
    with tempfile.TemporaryDirectory(dir=digest_bench.DATA, prefix="write-") as scratch:
        dbs: dict[str, Database] = {}
        for at, (label, names) in enumerate(VARIANTS.items()):
            copy = Path(scratch) / f"{at}.sqlite3"
            t0 = time.perf_counter()
            shutil.copyfile(source, copy)
            strip(copy, names)
            print(f"{label}: copied in {time.perf_counter() - t0:.0f} s")
            dbs[label] = await Database.open(copy)
        try:
            gen = digest_bench.Generator(args.servers, 99)
            samples: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in dbs}
            for round_ in range(args.rounds):
                labels = list(dbs)
                labels = labels[round_ % len(labels) :] + labels[: round_ % len(labels)]
                for label in labels:
                    first = 50_000_000 + round_ * args.shares
                    shared, marked = await one_round(
                        dbs[label], gen, first, args.shares, random.Random(round_)
                    )
                    samples[label][0].extend(shared)
                    samples[label][1].extend(marked)
            print(
                f"\nSharing a pick to the busiest server, one transaction each ({args.rounds} rounds)"
            )
            for label, (shared, _) in samples.items():
                print(f"  {label:<44} {describe(shared)}")
            print("Marking a pick Heard or Loved (or taking the mark back), one transaction each")
            for label, (_, marked) in samples.items():
                print(f"  {label:<44} {describe(marked)}")
        finally:
            for db in dbs.values():
                await db.close()


if __name__ == "__main__":
    asyncio.run(main())
