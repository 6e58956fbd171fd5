"""Party reminder fan-out benchmark: the real bot process reminds thousands of RSVPs through the
local emulator, under Discord-like rate limits, and is killed halfway through once.

    .venv/bin/python bench/party_fanout_bench.py [--members 5000] [--closed 0.05] [--no-kill]

A server of ``--members`` members: 40 say Going on the card (button clicks), the rest press
Interested on the Discord event (read back by the bot through REST, 100 a page), and a share
``--closed`` of them have their DMs closed. The emulator limits each channel's messages to 5 per
5 s and all requests to 50 a second (Discord's global limit). Time is jumped to 24 hours before
the party: the bot sends the reminder. Unless ``--no-kill``, it is killed (SIGKILL) once half the
DMs are out and started again. Prints the time taken, DMs and mentions sent, duplicates (must be
0), members missed (must be 0), and 429s answered. Figures, not asserts: the README records them.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox import BotProcess, Emulator, World

PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: Members who say Going on the card. Each click goes through the driver, which first makes sure
#: the bot has read everything (two gateway heartbeats), and discord.py answers at most about 110
#: gateway frames a minute: more clicks would measure that, not the fan-out.
BUTTON_CLICKS = 40


def bot_process(emulator: Emulator, workdir: Path) -> BotProcess:
    return BotProcess(
        emulator,
        database_path=workdir / "undercurrent.sqlite3",
        cwd=workdir,
        module="bot",
        pythonpath=[PROJECT_ROOT],
        python=sys.executable,
        log_level="INFO",
        log_path=workdir / "bot.log",
    )


async def poll(predicate: Callable[[], bool], *, within: float, every: float = 0.5) -> None:
    """Check ``predicate`` every ``every`` seconds (counting thousands of DMs on every frame,
    as ``driver.wait_until`` would, slows the emulator the bot is talking to)."""
    deadline = time.perf_counter() + within
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("the fan-out did not finish in time")
        await asyncio.sleep(every)


async def restart(bot: BotProcess) -> None:
    offset = bot.log_path.stat().st_size if bot.log_path.exists() else 0
    await bot.start(within=60)
    await bot.wait_for_log(r"Ready as ", offset=offset, within=60)


async def run(members: int, closed_share: float, kill: bool, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    world = World.default()
    guild = world.guild
    names = [f"listener{n:05d}" for n in range(members)]
    for name in names:
        guild.add_member(name)
    closed = set(rng.sample(names, int(members * closed_share)))
    by_button = set(rng.sample(names, min(BUTTON_CLICKS, members)))
    with tempfile.TemporaryDirectory(prefix="fanout-") as tmp:
        workdir = Path(tmp)
        async with Emulator(world) as emulator:
            driver = emulator.driver
            bot = bot_process(emulator, workdir)
            await restart(bot)
            try:
                await driver.wait_for_commands("party", within=30)
                scheduled = await driver.run_command(
                    "party schedule", user="mod", what="Bench — Fan-out", when="in 2 days"
                )
                await scheduled.wait_done(within=30)
                [event] = driver.scheduled_events()
                card = next(m for m in driver.messages("general") if m.custom_ids())
                clicking = time.perf_counter()
                for name in sorted(by_button):
                    click = await driver.click_button(
                        card, custom_id="uc:party:rsvp:going:1", user=name
                    )
                    await click.wait_done(within=60)
                click_seconds = time.perf_counter() - clicking
                for name in names:
                    if name not in by_button:
                        await driver.rsvp(event, user=name)
                for name in closed:
                    driver.close_dms(name)

                emulator.limits.route("POST", "/channels/{channel_id}/messages", per=5, seconds=5.0)
                emulator.limits.global_limit(per=50, seconds=1.0)
                open_members = members - len(closed)

                ids = {name: driver.user(name).id for name in names}
                closed_ids = {ids[name] for name in closed}

                def reminded() -> Counter[int]:
                    """Reminder DMs per member, from the world's DM channels (cheap enough to
                    poll while the emulator serves the bot)."""
                    counts: Counter[int] = Counter()
                    for user_id, channel in emulator.world.dm_channels.items():
                        counts[user_id] = sum(
                            1 for m in channel.messages if (m.content or "").startswith("⏰")
                        )
                    return counts

                began = time.perf_counter()
                await driver.advance(
                    event.scheduled_start_time
                    - driver.now()
                    - timedelta(hours=24)
                    + timedelta(seconds=1)
                )
                killed_at = None
                if kill:
                    await poll(lambda: sum(reminded().values()) >= open_members // 2, within=3600)
                    killed_at = sum(reminded().values())
                    await bot.kill()
                    await restart(bot)

                def mentioned() -> Counter[int]:
                    counts: Counter[int] = Counter()
                    for message in driver.messages("general"):
                        if "I couldn't DM you" in (message.content or ""):
                            counts.update(user.id for user in message.pinged_users)
                    return counts

                def all_told() -> bool:
                    dms = reminded()
                    told = sum(1 for i in ids.values() if i not in closed_ids and dms[i] > 0)
                    return told == open_members and len(mentioned()) == len(closed)

                await poll(all_told, within=3600)
                took = time.perf_counter() - began
                await driver.settle()
                await asyncio.sleep(2)  # anything still in flight would show as a duplicate
                dms = reminded()
                mentions = mentioned()
                result: dict[str, object] = {
                    "members": members,
                    "dms_closed": len(closed),
                    "seconds": round(took, 1),
                    "dms_sent": sum(dms.values()),
                    "mentions": sum(mentions.values()),
                    "mention_messages": sum(
                        1
                        for m in driver.messages("general")
                        if "I couldn't DM you" in (m.content or "")
                    ),
                    "duplicates": sum(c - 1 for c in dms.values() if c > 1)
                    + sum(c - 1 for c in mentions.values() if c > 1),
                    "missed": sum(1 for i in ids.values() if dms[i] == 0 and i not in mentions),
                    "answered_429": len(emulator.recorder.rate_limited()),
                    "killed_after_dms": killed_at,
                    "rsvp_clicks_per_s": round(len(by_button) / click_seconds, 1),
                }
                await bot.stop()
                return result
            finally:
                await bot.kill()


FanOut = Callable[[int, float, bool, int], Coroutine[Any, Any, dict[str, object]]]


def fan_out_main(doc: str, run_it: FanOut, members: int) -> None:
    """The command line both fan-out benchmarks share: parse, run, print the figures."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=members)
    parser.add_argument("--closed", type=float, default=0.05, help="share with DMs closed")
    parser.add_argument("--no-kill", action="store_true", help="don't kill the bot halfway")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = asyncio.run(run_it(args.members, args.closed, not args.no_kill, args.seed))
    width = max(len(key) for key in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


def main() -> None:
    fan_out_main(__doc__ or "", run, 5000)


if __name__ == "__main__":
    main()
