"""``/rec share`` survives kill -9: members share in a burst, the real bot process is killed at
a moment chosen at random, and after a restart every stored pick has exactly one card in the
channel, linked to it; no pick a member saw acknowledged is lost.

Before the outbox, each such kill left about fifty acknowledged picks whose card was never
linked (removing or editing them never updated their card), and now and then a pick stored with
no card at all."""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

from sandbox import Emulator, InteractionResult
from tests.e2e.conftest import bot_process
from tests.fakes import wait_until

SHARES = 40
MEMBERS = ("alice", "bob", "mod", "owner", "carol")
CARD_ID = re.compile(r"uc:pick:heard:(\d+)")


def picks_and_cards(database: Path) -> tuple[dict[int, int | None], dict[int, str]]:
    """``{pick id: card message id}`` and ``{pick id: outbox status}``, read as a bystander."""
    with sqlite3.connect(database) as conn:
        picks = dict(conn.execute("SELECT id, message_id FROM picks").fetchall())
        entries = conn.execute("SELECT key, status FROM outbox").fetchall()
    status = {int(key.split(":")[1]): state for key, state in entries}
    return picks, status


def acknowledged_pick(result: InteractionResult) -> int | None:
    """The pick whose card a member saw as the share's answer, if the answer came."""
    card = result.original
    if card is None or result.ephemeral:
        return None
    found = [int(m[1]) for c in card.custom_ids() if (m := CARD_ID.fullmatch(c))]
    return found[0] if found else None


KILLS = 3


def answered(results: list[InteractionResult], count: int) -> Callable[[], bool]:
    return lambda: sum(r.acknowledged for r in results) >= count


async def test_after_each_kill_every_stored_pick_has_exactly_one_linked_card(
    tmp_path: Path,
) -> None:
    """Three bursts, each cut short by a kill at a moment drawn at random (seeded), each
    followed by a restart: after every one, all the picks so far are checked."""
    rng = random.Random(11)
    database = tmp_path / "undercurrent.sqlite3"
    async with Emulator() as emulator:
        emulator.world.guild.add_member("carol")
        general = emulator.world.guild.channel("general")
        driver = emulator.driver
        bot = bot_process(emulator, tmp_path, database)
        await bot.start()
        try:
            await driver.wait_for_commands("rec", within=10)
            acknowledged: set[int] = set()
            for burst in range(KILLS):
                kill_after = rng.randint(1, SHARES - 5)  # answers seen before the kill
                results = [
                    await driver.run_command(
                        "rec share", user=MEMBERS[n % 5], artist=f"Artist {burst}.{n}", title="B"
                    )
                    for n in range(SHARES)
                ]
                await driver.wait_until(answered(results, kill_after), within=20)
                await asyncio.sleep(rng.uniform(0, 0.05))
                await bot.kill()
                acknowledged |= {p for r in results if (p := acknowledged_pick(r)) is not None}

                await bot.start()
                # The restarted bot links or posts the cards by itself, before anyone acts.
                await wait_until(
                    lambda: all(card is not None for card in picks_and_cards(database)[0].values()),
                    within=20,
                    what="every stored pick linked to a card",
                )
                picks, outbox = picks_and_cards(database)
                assert acknowledged <= set(picks)  # nothing a member saw acknowledged is lost
                cards: dict[int, list[int]] = {}
                for message in general.visible_messages():
                    for custom_id in message.custom_ids():
                        if match := CARD_ID.fullmatch(custom_id):
                            cards.setdefault(int(match[1]), []).append(message.id)
                assert {pick: [card] for pick, card in picks.items()} == cards  # once, linked
                assert set(outbox.values()) <= {"posted"} and set(outbox) == set(picks)

            # A card the restarted bot posted or found works like any other.
            last = max(picks)
            card = next(m for m in general.visible_messages() if m.id == picks[last])
            loved = await driver.click_button(card, custom_id=f"uc:pick:loved:{last}", user="bob")
            await loved.wait_done()
            updated = next(m for m in general.visible_messages() if m.id == card.id)
            labels = [c.get("label") for row in updated.components for c in row["components"]]
            assert "Loved it · 1" in labels
            assert await bot.stop() == 0, bot.log_tail()
            emulator.recorder.assert_all_implemented()
            assert emulator.recorder.server_errors() == []
        finally:
            await bot.kill()
