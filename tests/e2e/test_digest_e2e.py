"""The weekly digest end to end, in the real bot process against the emulator and its clock:
set up → the digest appears at its time, once, though the bot is stopped and started around
that time and killed just as it comes due; a deleted channel is told to the mod-log and shown
by /digest status; a quiet week gets its one line."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sandbox import Emulator, World
from sandbox.model import Message
from tests.e2e.conftest import Stack, bot_stack, mod_log_notice


@asynccontextmanager
async def digest_stack(tmp_path: Path) -> AsyncIterator[Stack]:
    world = World.default()
    world.guild.add_text_channel("digests")
    async with Emulator(world) as emulator, bot_stack(emulator, tmp_path) as running:
        await running.bot.wait_for_log(r"Ready as ")
        yield running


async def set_up_in_two_days(stack: Stack) -> Any:
    """``/digest setup`` for two days from now (UTC); returns the due moment."""
    due = (stack.driver.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    options = {
        "channel": "digests",
        "weekday": due.weekday(),
        "at": f"{due:%H:%M}",
        "timezone": "UTC",
    }
    result = await stack.driver.run_command("digest setup", user="mod", options=options)
    await result.wait_done(within=10)
    assert result.ephemeral and f"<t:{int(due.timestamp())}:F>" in result.text(), result.text()
    return due


def digests(stack: Stack) -> list[Message]:
    return [
        m
        for m in stack.driver.messages("digests")
        if m.embeds and m.embeds[0].get("title", "").startswith("The week in")
    ]


async def restart(stack: Stack) -> None:
    offset = stack.bot.log_path.stat().st_size
    await stack.bot.start()
    await stack.bot.wait_for_log(r"Ready as ", offset=offset)


async def test_the_digest_comes_once_at_its_time_through_restarts_and_a_kill(
    tmp_path: Path,
) -> None:
    async with digest_stack(tmp_path) as stack:
        driver = stack.driver
        shared = await driver.run_command(
            "rec share", user="alice", artist="Tinariwen", title="Amassakoul", country="ML",
            subgenres="desert-blues", note="Desert blues for a cold week",
        )  # fmt: skip
        await shared.wait_done(within=10)
        shared = await driver.run_command(
            "rec share", user="bob", artist="Mdou Moctar", title="Ilana", country="NE",
            subgenres="tishoumaren",
        )  # fmt: skip
        await shared.wait_done(within=10)
        due = await set_up_in_two_days(stack)

        # Stopped just before its time, started again just after: posted once, on start.
        await driver.advance(due - timedelta(seconds=20) - driver.now())
        assert await stack.bot.stop() == 0
        await driver.advance(timedelta(seconds=30))
        await restart(stack)
        [digest] = await driver.wait_until(lambda: digests(stack) or None, within=20)
        fields = {f["name"]: f["value"] for f in digest.embeds[0]["fields"]}
        assert "Tinariwen — Amassakoul" in fields["Most loved this week"]
        assert "> Desert blues for a cold week" in fields["Most loved this week"]
        assert "First pick from **Mali**" in fields["New on the map"]
        assert [a.filename for a in digest.attachments] == ["week.png"]

        # Restarted again right after: nothing more.
        assert await stack.bot.stop() == 0
        await restart(stack)
        await driver.settle()
        assert len(digests(stack)) == 1

        # Next week: killed the moment it comes due, started again: once more, once.
        shared = await driver.run_command(
            "rec share", user="alice", artist="Kas Product", title="Try Out", country="FR"
        )
        await shared.wait_done(within=10)
        await driver.advance(due + timedelta(days=7) - driver.now())
        await stack.bot.kill()
        await restart(stack)
        await driver.wait_until(lambda: len(digests(stack)) == 2 or None, within=20)
        await driver.settle()
        assert len(digests(stack)) == 2
        # The week is recorded and the next planned as the job completes, just after the post.
        following = f"Next: <t:{int((due + timedelta(days=14)).timestamp())}:F>"
        for _ in range(20):
            status = await driver.run_command("digest status", user="alice")
            await status.wait_done()
            if following in status.text():
                break
            await asyncio.sleep(0.5)
        assert following in status.text()
        assert "Last posted: https://discord.com/channels/" in status.text()


async def test_a_deleted_channel_is_told_to_the_mod_log_and_a_quiet_week_gets_one_line(
    tmp_path: Path,
) -> None:
    async with digest_stack(tmp_path) as stack:
        driver = stack.driver
        mod_log = await driver.run_command(
            "settings mod-log", user="mod", options={"channel": "mod-log"}
        )
        await mod_log.wait_done()
        due = await set_up_in_two_days(stack)

        # A quiet week: one line, with the disabled "Quiet week" button.
        await driver.advance(due + timedelta(seconds=1) - driver.now())
        quiet = await driver.wait_until(
            lambda: (
                [m for m in driver.messages("digests") if m.content.startswith("A quiet week")]
                or None
            ),
            within=20,
        )
        assert len(quiet) == 1 and "Quiet week" in str(quiet[0].components)

        # The channel is deleted: next week the mod-log is told, and /digest status says why.
        world = stack.emulator.world
        channel = world.guild.channel("digests")
        del world.guild.channels[channel.id]
        del world.channels[channel.id]
        world.announce("CHANNEL_DELETE", channel.to_payload(), world.guild.id)
        await driver.settle()
        await driver.advance(timedelta(days=7))
        text = await mod_log_notice(driver)
        assert text.startswith("The weekly digest could not be posted. The digest channel")
        assert "I try again every hour, three times." in text
        status = await driver.run_command("digest status", user="mod")
        await status.wait_done()
        assert "**Right now** the digest channel is gone" in status.text()
        assert "Last problem" in status.text()
