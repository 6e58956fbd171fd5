"""Client behaviour: command sync only when the tree changed; nothing starts twice on reconnect."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.client import UndercurrentBot
from tests.cogs.conftest import Server


def command_puts(server: Server) -> int:
    return sum(
        1 for r in server.env.http_requests if r.method == "PUT" and r.path.endswith("/commands")
    )


async def test_commands_sync_once_and_then_only_when_they_change(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    assert command_puts(server) == 1  # the first start synced

    assert await simcord_bot.sync_commands() is False  # a restart with the same commands
    assert command_puts(server) == 1

    @app_commands.command(name="ping", description="A new command")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    simcord_bot.tree.add_command(ping)
    assert await simcord_bot.sync_commands() is True
    assert command_puts(server) == 2
    assert await simcord_bot.sync_commands() is False


async def test_registered_commands_are_the_documented_ones(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    registered = {c.name: c for c in await simcord_bot.tree.fetch_commands()}
    assert set(registered) == {
        "settings", "about", "rec", "archive", "privacy", "party", "swap", "digest",
    }  # fmt: skip
    subcommands = {option.name for option in registered["settings"].options}
    assert subcommands == {"timezone", "server-timezone", "mod-log", "show"}
    party = {option.name for option in registered["party"].options}
    assert party == {
        "schedule", "tracklist", "edit", "cancel", "list", "now", "pause", "resume", "skip",
        "calendar", "settings", "reminders", "history", "replay",
    }  # fmt: skip
    swap = {option.name for option in registered["swap"].options}
    assert swap == {"open", "status", "review", "cancel", "history"}
    digest = {option.name for option in registered["digest"].options}
    assert digest == {"setup", "preview", "now", "sections", "quiet", "status", "off"}


async def test_minimal_intents_and_no_pings(simcord_bot: UndercurrentBot) -> None:
    assert simcord_bot.intents.value == discord.Intents(guilds=True).value
    assert not simcord_bot.intents.members and not simcord_bot.intents.message_content
    mentions = simcord_bot.allowed_mentions
    assert mentions is not None
    assert mentions.to_dict() == {"parse": []}
