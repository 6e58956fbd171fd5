"""A listening party survives the bot process: killed (SIGKILL) at random moments in the middle of
a party, or given a new gateway session (on_ready again), every marker and the recap are posted
exactly once; down at the start, a party starts
late with a note; down for a whole party, it is marked missed and the moderators are told."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from sandbox import BotProcess, Emulator
from tests.e2e.conftest import bot_process

TRACKS = 6


@asynccontextmanager
async def running_bot(emulator: Emulator, tmp_path: Path) -> AsyncIterator[BotProcess]:
    bot = bot_process(emulator, tmp_path, tmp_path / "undercurrent.sqlite3")
    await bot.start()
    try:
        await emulator.driver.wait_for_commands("party", within=10)
        await bot.wait_for_log(r"Ready as ")
        yield bot
        if bot.running:
            assert await bot.stop() == 0, bot.log_tail()
        emulator.recorder.assert_all_implemented()
        assert emulator.recorder.server_errors() == []
    finally:
        await bot.kill()


async def restart(bot: BotProcess) -> None:
    offset = bot.log_path.stat().st_size
    await bot.start()
    await bot.wait_for_log(r"Ready as ", offset=offset)


async def schedule(emulator: Emulator, when: str, tracklist: str | None = None) -> None:
    driver = emulator.driver
    scheduled = await driver.run_command(
        "party schedule", user="mod", what="Kas Product — Try Out", when=when
    )
    await scheduled.wait_done(within=10)
    assert "Scheduled **#1" in scheduled.text()
    if tracklist is not None:
        form = await driver.run_command("party tracklist", user="mod", party=1)
        await form.wait_response()
        saved = await driver.submit_modal(form, user="mod", values={"part1": tracklist})
        await saved.wait_done()


def thread_texts(emulator: Emulator) -> list[str]:
    threads = emulator.driver.threads("general")
    if not threads:
        return []
    return [m.content or "" for m in emulator.driver.messages(threads[0])]


def track_markers(emulator: Emulator) -> list[str]:
    return [t for t in thread_texts(emulator) if t.startswith("▶ **") and "/" in t.split(" ")[1]]


async def test_killed_mid_party_every_marker_and_the_recap_are_posted_once(
    tmp_path: Path,
) -> None:
    rng = random.Random(12)
    tracklist = "\n".join(f"Track {n} 1:00" for n in range(1, TRACKS + 1))
    async with Emulator() as emulator, running_bot(emulator, tmp_path) as bot:
        driver = emulator.driver
        await schedule(emulator, "in 1 hour", tracklist)
        [event] = driver.scheduled_events()
        await driver.advance(event.scheduled_start_time - driver.now() + timedelta(seconds=11))
        await driver.wait_until(lambda: len(track_markers(emulator)) == 1 or None, within=15)
        for track in range(2, TRACKS + 1):
            await driver.advance(60)
            if track % 2 == 0:
                # Kill at a random moment while the marker is being posted (or just before),
                # then restart: the marker is there once.
                await asyncio.sleep(rng.uniform(0.0, 0.08))
                await bot.kill()
                await restart(bot)
            elif track == 3:
                # A new gateway session (on_ready fires again in the same process) starts
                # nothing twice.
                offset = bot.log_path.stat().st_size
                emulator.gateway.invalidate_sessions()
                await bot.wait_for_log(r"Ready as ", offset=offset, within=20)
            await driver.wait_until(
                lambda n=track: len(track_markers(emulator)) >= n or None,  # type: ignore[misc]
                within=20,
                what=f"marker {track}",
            )
        # Down while the last track ends: the recap comes when the bot is back.
        await bot.kill()
        await driver.advance(61)
        await restart(bot)
        await driver.wait_until(
            lambda: any(t == "" for t in thread_texts(emulator)[-1:]) or None, within=20
        )
        [thread] = driver.threads("general")
        recaps = [
            m for m in driver.messages(thread) if m.embeds and "Recap" in m.embeds[0]["title"]
        ]
        assert len(recaps) == 1
        assert [t.split(" · ")[0] for t in track_markers(emulator)] == [
            f"▶ **{n}/{TRACKS}**" for n in range(1, TRACKS + 1)
        ]
        starts = [t for t in thread_texts(emulator) if "Press play" in t]
        assert len(starts) == 1


async def test_down_at_the_start_it_starts_late_with_a_note(tmp_path: Path) -> None:
    async with Emulator() as emulator, running_bot(emulator, tmp_path) as bot:
        driver = emulator.driver
        await schedule(emulator, "in 1 hour")
        [event] = driver.scheduled_events()
        assert await bot.stop() == 0
        await driver.advance(event.scheduled_start_time - driver.now() + timedelta(minutes=5))
        await restart(bot)
        await driver.wait_until(lambda: thread_texts(emulator) or None, within=20)
        start = thread_texts(emulator)[0]
        assert start.startswith("▶ **We're starting 5m late**: the bot was offline at the start.")


async def test_down_for_the_whole_party_it_is_marked_missed_and_moderators_told(
    tmp_path: Path,
) -> None:
    async with Emulator() as emulator, running_bot(emulator, tmp_path) as bot:
        driver = emulator.driver
        await schedule(emulator, "in 1 hour")
        assert await bot.stop() == 0
        await driver.advance(timedelta(hours=3))
        await restart(bot)
        # No mod-log channel is set: the notice goes to the system channel (#general).
        notice = await driver.wait_for_message(
            "general", lambda m: "was missed" in str(m.embeds), within=20
        )
        assert "Kas Product — Try Out" in str(notice.embeds or notice.content)
        await driver.wait_until(
            lambda: (
                "Missed" in (driver.messages("general")[0].embeds[0].get("description") or "")
                or None
            ),
            within=10,
        )
        assert driver.threads("general") == []
