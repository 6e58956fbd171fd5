"""Swap assignments survive the bot process: killed (SIGKILL) while it DMs the round's members
their assignments, the restarted bot finishes the list, and every member has exactly one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sandbox import Emulator, Message
from tests.e2e.conftest import bot_process
from tests.e2e.test_party_kill_e2e import restart

MEMBERS = ("alice", "bob", "carol", "dave", "erin", "frank")


def assignments(emulator: Emulator, member: str) -> list[Message]:
    return [m for m in emulator.driver.dms(member) if m.content.startswith("🔁")]


async def test_killed_while_dming_assignments_each_member_gets_one(tmp_path: Path) -> None:
    async with Emulator() as emulator:
        for name in MEMBERS[2:]:
            emulator.world.guild.add_member(name)
        driver = emulator.driver
        bot = bot_process(emulator, tmp_path, tmp_path / "undercurrent.sqlite3")
        await bot.start()
        try:
            await driver.wait_for_commands("swap", within=10)
            await bot.wait_for_log(r"Ready as ")
            opened = await driver.run_command(
                "swap open", user="mod", theme="Tapes", join_until="in 2 days",
                review_until="in 9 days",
            )  # fmt: skip
            await opened.wait_done(within=10)
            card = next(m for m in driver.messages("general") if "uc:swap:join:1" in m.custom_ids())
            for n, member in enumerate(MEMBERS):
                form = await driver.click_button(card, label="Join", user=member)
                await form.wait_response()
                joined = await driver.submit_modal(
                    form, user=member, values={"artist": f"Band {n}", "title": "Tape"}
                )
                await joined.wait_done()
            # Slow the DMs down so the kill lands in the middle of the list.
            emulator.limits.route("POST", "/users/@me/channels", per=1, seconds=0.4)
            await driver.advance(timedelta(days=2, seconds=1))
            await driver.wait_until(
                lambda: sum(bool(assignments(emulator, m)) for m in MEMBERS) >= 2 or None,
                within=20,
                what="the first assignments",
            )
            await bot.kill()
            sent_before = sum(bool(assignments(emulator, m)) for m in MEMBERS)
            assert sent_before < len(MEMBERS), "the kill came too late to test anything"
            await restart(bot)
            await driver.wait_until(
                lambda: all(assignments(emulator, m) for m in MEMBERS) or None,
                within=30,
                what="every assignment",
            )
            await driver.settle()
            assert [len(assignments(emulator, m)) for m in MEMBERS] == [1] * len(MEMBERS)
            assert await bot.stop() == 0, bot.log_tail()
            emulator.recorder.assert_all_implemented()
            assert emulator.recorder.server_errors() == []
        finally:
            await bot.kill()
