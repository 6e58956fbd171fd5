"""Swap round assignment fan-out benchmark: the real bot process pairs a round of 2,000 members
and DMs each their assignment through the local emulator, under Discord-like rate limits, and is
killed halfway through once.

    .venv/bin/python bench/swap_fanout_bench.py [--members 2000] [--closed 0.05] [--no-kill]

The round is opened with ``/swap open``; the members' picks are then written into the bot's
database while it is stopped (2,000 form submissions through the driver would measure the
driver), across 20 countries, with ``--closed`` of the members' DMs closed. The emulator limits
each channel's messages to 5 per 5 s and all requests to 50 a second. Time jumps past the join
deadline: the bot checks who is still a member (one request each), pairs, and sends the DMs;
unless ``--no-kill`` it is killed (SIGKILL) once half are out, and started again. Prints the
time taken, DMs sent, duplicates (must be 0), members missed (must be 0), 429s answered.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.party_fanout_bench import bot_process, fan_out_main, poll, restart
from sandbox import Emulator, World

COUNTRIES = ["FR", "DE", "GB", "US", "ML", "NE", "JP", "IT", "BE", "NL",
             "IS", "CA", "SE", "ES", "BR", "MX", "NG", "KE", "AU", "KR"]  # fmt: skip


def seed_entries(database: Path, round_id: int, user_ids: list[int], rng: random.Random) -> None:
    now = int(time.time())
    with sqlite3.connect(database) as conn:
        conn.executemany(
            """INSERT INTO swap_entries (round_id, user_id, artist, title, note, country,
                subgenres, joined_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    round_id,
                    user_id,
                    f"Artist {n}",
                    f"Record {n}",
                    "why it matters",
                    rng.choice(COUNTRIES),
                    json.dumps([]),
                    now,
                    now,
                )
                for n, user_id in enumerate(user_ids)
            ],
        )


async def run(members: int, closed_share: float, kill: bool, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    world = World.default()
    names = [f"swapper{n:05d}" for n in range(members)]
    for name in names:
        world.guild.add_member(name)
    closed = set(rng.sample(names, int(members * closed_share)))
    with tempfile.TemporaryDirectory(prefix="swap-fanout-") as tmp:
        workdir = Path(tmp)
        async with Emulator(world) as emulator:
            driver = emulator.driver
            bot = bot_process(emulator, workdir)
            await restart(bot)
            try:
                await driver.wait_for_commands("swap", within=30)
                opened = await driver.run_command(
                    "swap open", user="mod", theme="Bench", join_until="in 2 days",
                    review_until="in 9 days", mode="cross-scene",
                )  # fmt: skip
                await opened.wait_done(within=30)
                assert await bot.stop() == 0
                ids = {name: driver.user(name).id for name in names}
                seed_entries(workdir / "undercurrent.sqlite3", 1, list(ids.values()), rng)
                for name in closed:
                    driver.close_dms(name)
                await restart(bot)
                emulator.limits.route("POST", "/channels/{channel_id}/messages", per=5, seconds=5.0)
                emulator.limits.global_limit(per=50, seconds=1.0)
                open_ids = {ids[n] for n in names if n not in closed}

                def assigned() -> Counter[int]:
                    counts: Counter[int] = Counter()
                    for user_id, channel in emulator.world.dm_channels.items():
                        counts[user_id] = sum(
                            1 for m in channel.messages if (m.content or "").startswith("🔁")
                        )
                    return counts

                began = time.perf_counter()
                await driver.advance(timedelta(days=2, seconds=1))
                killed_at = None
                if kill:
                    await poll(lambda: sum(assigned().values()) >= len(open_ids) // 2, within=3600)
                    killed_at = sum(assigned().values())
                    await bot.kill()
                    await restart(bot)
                await poll(
                    lambda: sum(1 for i in open_ids if assigned()[i] > 0) == len(open_ids),
                    within=3600,
                )
                took = time.perf_counter() - began
                await driver.settle()
                await asyncio.sleep(2)  # anything still in flight would show as a duplicate
                counts = assigned()
                result: dict[str, object] = {
                    "members": members,
                    "dms_closed": len(closed),
                    "seconds": round(took, 1),
                    "dms_sent": sum(counts.values()),
                    "duplicates": sum(c - 1 for c in counts.values() if c > 1),
                    "missed": sum(1 for i in open_ids if counts[i] == 0),
                    "answered_429": len(emulator.recorder.rate_limited()),
                    "killed_after_dms": killed_at,
                }
                await bot.stop()
                return result
            finally:
                await bot.kill()


def main() -> None:
    fan_out_main(__doc__ or "", run, 2000)


if __name__ == "__main__":
    main()
