"""simcord fixtures: the real bot, its real command tree, a fake Discord in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest
import pytest_asyncio
import simcord

from bot.client import UndercurrentBot
from bot.config import Secret, Settings
from bot.db import Database
from tests.fakes import FakeClock


@pytest_asyncio.fixture
async def simcord_bot(db_path: Path, clock: FakeClock) -> AsyncIterator[UndercurrentBot]:
    database = await Database.open(db_path)
    settings = Settings(discord_token=Secret("unused-by-simcord"), database_path=db_path)
    # The runner task would be a never-settling background wait to simcord; cog tests advance the
    # fake clock and call ``bot.scheduler.run_due()`` instead (the runner has its own tests).
    # simcord needs an AutoShardedBot's shard count up front (it has no GET /gateway/bot).
    bot = UndercurrentBot(
        settings=settings, db=database, clock=clock, run_background_work=False, shard_count=1
    )
    yield bot
    # simcord never calls close(): do it here, or aiosqlite's worker thread keeps pytest alive.
    # An AutoShardedBot can only close once it has logged in (discord.py makes its shard queue
    # then); a test that never started simcord has nothing to close.
    if isinstance(bot.loop, asyncio.AbstractEventLoop):
        await bot.close()
    await database.close()


@asynccontextmanager
async def restarted_bot(
    env: simcord.Env, db_path: Path, clock: FakeClock
) -> AsyncIterator[UndercurrentBot]:
    """The bot as it comes back after a restart: a new process state over the same database."""
    database = await Database.open(db_path)
    settings = Settings(discord_token=Secret("unused-by-simcord"), database_path=db_path)
    fresh = UndercurrentBot(
        settings=settings, db=database, clock=clock, run_background_work=False, shard_count=1
    )
    try:
        await env.restart_bot(fresh)
        yield fresh
    finally:
        await fresh.close()
        await database.close()


@dataclass
class Server:
    """A guild with a channel, an ordinary member and a moderator (Manage Server, Manage Messages)."""

    env: simcord.Env
    guild: simcord.GuildHandle
    channel: simcord.ChannelHandle
    member: simcord.MemberActor
    moderator: simcord.MemberActor


@pytest.fixture
def server(simcord_env: simcord.Env) -> Server:
    guild = simcord_env.create_guild("Minimal Synth Society")
    channel = guild.create_text_channel("recommendations")
    mods = guild.create_role(
        "Moderators", permissions=discord.Permissions(manage_guild=True, manage_messages=True)
    )
    member = guild.add_member(simcord_env.create_user("wren"))
    moderator = guild.add_member(simcord_env.create_user("ines"), roles=[mods])
    return Server(simcord_env, guild, channel, member, moderator)
