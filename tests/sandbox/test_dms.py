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


class Quiet(discord.ui.View):
    """A button on a DM, answered from the DM (what party reminders carry)."""

    def __init__(self) -> None:
        super().__init__(timeout=60)
        self.clicked_in: list[tuple[object, object]] = []

    @discord.ui.button(label="Stop reminders", custom_id="dm:quiet")
    async def quiet(
        self, interaction: discord.Interaction, button: discord.ui.Button[Quiet]
    ) -> None:
        self.clicked_in.append((interaction.guild_id, type(interaction.channel)))
        await interaction.response.send_message("no more reminders", ephemeral=True)


async def test_a_button_on_a_dm_is_clicked_from_the_dm(emulator: Emulator, bot: ProbeBot) -> None:
    driver = emulator.driver
    alice = await bot.fetch_user(driver.member("alice").id)
    view = Quiet()
    await alice.send("your party starts soon", view=view)
    [dm] = driver.dms("alice")
    mark = emulator.recorder.mark()

    clicked = await driver.click_button(dm, "dm:quiet", user="alice")
    await clicked.wait_response()

    frame = await emulator.recorder.wait_for_frame(event="INTERACTION_CREATE", after=mark)
    assert "guild_id" not in frame.data and "member" not in frame.data
    assert frame.data["user"]["username"] == "alice" and frame.data["context"] == 1
    assert view.clicked_in == [(None, discord.DMChannel)]
    assert clicked.ephemeral and clicked.content == "no more reminders"
    assert clicked.interaction.guild_id is None
