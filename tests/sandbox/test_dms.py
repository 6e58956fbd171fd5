"""Direct messages as Discord answers them: opening the DM channel always works; the send is what
fails, 403 50007, when the user closed their DMs or no longer shares a server with the bot."""

from __future__ import annotations

import discord
import pytest

from sandbox import Emulator
from tests.sandbox.probe_bot import ProbeBot

DM_CHANNELS = "/users/@me/channels"
MESSAGES = "/channels/{channel_id}/messages"


async def test_a_dm_opens_and_arrives(emulator: Emulator, bot: ProbeBot) -> None:
    alice = await bot.fetch_user(emulator.driver.member("alice").id)
    sent = await alice.send("your party starts in 15 minutes")
    [received] = emulator.driver.dms("alice")
    assert (received.id, received.content) == (sent.id, "your party starts in 15 minutes")
    assert isinstance(sent.channel, discord.DMChannel)


async def test_closed_dms_refuse_the_send_not_the_channel(
    emulator: Emulator, bot: ProbeBot
) -> None:
    driver = emulator.driver
    driver.close_dms("bob")
    bob = await bot.fetch_user(driver.member("bob").id)
    channel = await bob.create_dm()  # Discord opens the channel all the same
    assert emulator.recorder.requests_to("POST", DM_CHANNELS)[-1].status == 200
    with pytest.raises(discord.Forbidden) as refused:
        await channel.send("reminder")
    assert (refused.value.status, refused.value.code) == (403, 50007)
    assert refused.value.text == "Cannot send messages to this user"
    assert emulator.recorder.requests_to("POST", MESSAGES)[-1].status == 403
    assert driver.dms("bob") == []

    driver.open_dms("bob")
    await channel.send("reminder")
    assert [m.content for m in driver.dms("bob")] == ["reminder"]


async def test_a_user_who_left_every_shared_server_cannot_be_messaged(
    emulator: Emulator, bot: ProbeBot
) -> None:
    guild = emulator.world.guild
    carol = guild.add_member("carol")
    channel = await (await bot.fetch_user(carol.id)).create_dm()
    del guild.members[carol.id]
    with pytest.raises(discord.Forbidden) as refused:
        await channel.send("are you still there?")
    assert refused.value.code == 50007
