"""Per-server options (``guild_options``): set, clear, read back, and what /privacy sees."""

from __future__ import annotations

import pytest

from bot.db import Database
from bot.db.repos import settings as settings_repo
from bot.domain.guild_options import MOD_LOG_CHANNEL
from bot.services import privacy as privacy_service
from bot.services import settings as settings_service
from tests.fakes import FakeClock

GUILD = 1001
MOD = 2002
CHANNEL = 1_456_074_443_980_800_014  # a real-sized snowflake survives JSON


async def test_set_read_and_clear_the_mod_log(db: Database, clock: FakeClock) -> None:
    assert await settings_service.get_mod_log_channel(db, GUILD) is None
    assert not await settings_service.set_mod_log_channel(db, GUILD, MOD, CHANNEL, clock.now())
    assert await settings_service.get_mod_log_channel(db, GUILD) == CHANNEL
    assert await settings_service.get_mod_log_channel(db, GUILD + 1) is None  # per server
    assert await settings_service.set_mod_log_channel(db, GUILD, MOD, CHANNEL + 1, clock.now())
    overview = await settings_service.get_settings_overview(db, GUILD, MOD)
    assert overview.mod_log_channel_id == CHANNEL + 1

    assert await settings_service.set_mod_log_channel(db, GUILD, MOD, None, clock.now())
    assert await settings_service.get_mod_log_channel(db, GUILD) is None
    assert not await settings_service.set_mod_log_channel(db, GUILD, MOD, None, clock.now())


async def test_a_stored_value_that_no_longer_parses_reads_as_unset(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async with db.transaction() as conn:
        await settings_repo.set_guild_option(conn, GUILD, MOD_LOG_CHANNEL.name, '"#mods"', MOD, 0)
    assert await settings_service.get_mod_log_channel(db, GUILD) is None
    assert "ignoring stored mod_log_channel" in caplog.text


def test_an_option_refuses_a_value_it_could_not_read_back() -> None:
    with pytest.raises(ValueError, match="not a Discord ID"):
        MOD_LOG_CHANNEL.encode(0)
    assert MOD_LOG_CHANNEL.decode(MOD_LOG_CHANNEL.encode(CHANNEL)) == CHANNEL


async def test_privacy_export_shows_and_forget_clears_who_set_an_option(
    db: Database, clock: FakeClock
) -> None:
    await settings_service.set_mod_log_channel(db, GUILD, MOD, CHANNEL, clock.now())
    exported = await privacy_service.export_user_data(db, MOD, clock.now())
    assert exported["settings"]["server_options_you_set"] == [
        {
            "guild_id": GUILD,
            "name": "mod_log_channel",
            "value": CHANNEL,
            "updated_at": int(clock.now().timestamp()),
        }
    ]

    await privacy_service.forget_user(db, MOD, delete_picks=False)
    exported = await privacy_service.export_user_data(db, MOD, clock.now())
    assert exported["settings"]["server_options_you_set"] == []
    # The server keeps its setting; only who set it is forgotten.
    assert await settings_service.get_mod_log_channel(db, GUILD) == CHANNEL
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT updated_by FROM guild_options")
    assert [tuple(row) for row in rows] == [(None,)]
