"""Exactly-once posts survive kill -9: a process posting through ``bot.outbox`` is killed after
Discord answered its sends and before any message id was recorded; the restarted process
reconciles, and the channel holds each card exactly once, every entry linked to its own card.

The process is ``tests.e2e.outbox_probe`` (the outbox alone, over real sockets to the emulator);
``test_share_kill_e2e.py`` does the same to the real bot in the middle of a burst of shares."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest

from sandbox import BotProcess, Emulator
from tests.e2e.conftest import bot_process

CARDS = 5
UNPOSTED = 2  # stored with their entries, the process killed before their cards went out


def probe(emulator: Emulator, tmp_path: Path, mode: str, **env: str) -> BotProcess:
    channel = emulator.world.guild.channel("general")
    return bot_process(
        emulator,
        tmp_path,
        tmp_path / "outbox.sqlite3",
        module="tests.e2e.outbox_probe",
        log_name=f"probe-{mode}.log",
        extra_env={
            "OUTBOX_PROBE": mode,
            "OUTBOX_PROBE_CARDS": str(CARDS),
            "OUTBOX_PROBE_UNPOSTED": str(UNPOSTED),
            "OUTBOX_PROBE_CHANNEL": str(channel.id),
            **env,
        },
    )


def entries(tmp_path: Path) -> list[tuple[str, str, int | None]]:
    with sqlite3.connect(tmp_path / "outbox.sqlite3") as conn:
        rows = conn.execute("SELECT key, status, posted_id FROM outbox ORDER BY id").fetchall()
    return [(str(key), str(status), posted_id) for key, status, posted_id in rows]


@pytest.mark.parametrize("restart", ["within_the_nonce_window", "after_the_nonce_window"])
async def test_a_kill_between_send_and_record_leaves_each_card_posted_once(
    tmp_path: Path, restart: str
) -> None:
    async with Emulator() as emulator:
        general = emulator.world.guild.channel("general")
        first = probe(emulator, tmp_path, "post")
        await first.start(wait_ready=False)
        try:
            for n in range(1, CARDS - UNPOSTED + 1):
                await first.wait_for_log(rf"sent entry {n}, not recorded", within=20)
        finally:
            await first.kill()
        sent = [m.id for m in general.visible_messages()]
        assert len(sent) == CARDS - UNPOSTED
        assert {status for _, status, _ in entries(tmp_path)} == {"pending"}

        env: dict[str, str] = {}
        if restart == "after_the_nonce_window":
            emulator.advance_clock(emulator.nonce_window)  # Discord has forgotten the nonces
            env["OUTBOX_PROBE_TRUST_NONCE_FOR"] = "0"  # and the outbox knows not to count on them
        second = probe(emulator, tmp_path, "reconcile", **env)
        await second.start(wait_ready=False)
        line = await second.wait_for_log(r"reconciled ", within=20)
        assert second.process is not None
        assert await asyncio.wait_for(second.process.wait(), 20) == 0, second.log_tail()

        cards = general.visible_messages()
        assert len(cards) == CARDS, [m.content for m in cards]
        stored = entries(tmp_path)
        assert [status for _, status, _ in stored] == ["posted"] * CARDS
        by_id = {m.id: m for m in cards}
        for key, _, posted_id in stored:
            assert posted_id in by_id and by_id[posted_id].custom_ids() == [f"uc:{key}"]
        assert [m.id for m in cards[: len(sent)]] == sent
        linked = CARDS - UNPOSTED if restart == "after_the_nonce_window" else 0
        counts = dict(re.findall(r"(\w+)=(\d+)", line))
        assert int(counts["linked"]) == linked
        assert int(counts["posted"]) == CARDS - linked
        emulator.recorder.assert_all_implemented()
        assert emulator.recorder.server_errors() == []
