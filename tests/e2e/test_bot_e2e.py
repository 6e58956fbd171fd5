"""The real bot process against the local Discord: login, command sync, the settings flow,
restarts, a dropped gateway, a rate limit, and a clean SIGTERM shutdown."""

from __future__ import annotations

import sqlite3

from sandbox.driver import InteractionResult
from tests.e2e.conftest import Stack

CALLBACK = "/interactions/{interaction_id}/{token}/callback"


async def set_zone(stack: Stack, zone: str, user: str = "alice") -> InteractionResult:
    result = await stack.driver.run_command(f"settings timezone zone:{zone}", user=user)
    return await result.wait_response()


async def show(stack: Stack, user: str = "alice") -> InteractionResult:
    result = await stack.driver.run_command("settings show", user=user)
    return await result.wait_response()


async def test_login_and_command_sync(stack: Stack) -> None:
    recorder = stack.emulator.recorder
    assert recorder.requests_to("GET", "/users/@me")[0].status == 200
    assert recorder.requests_to("GET", "/oauth2/applications/@me")[0].status == 200
    syncs = recorder.requests_to("PUT", "/applications/{application_id}/commands")
    assert [r.status for r in syncs] == [200]
    settings = next(c for c in stack.driver.commands() if c.name == "settings")
    assert {"timezone", "show"} <= {o["name"] for o in settings.options}
    identify = next(f for f in recorder.frames if f.direction == "receive" and f.op == 2)
    assert identify.data["token"] == "<redacted>"  # the recorder never keeps the token
    assert identify.data["intents"] & 1  # GUILDS
    assert stack.bot.running


async def test_settings_timezone_round_trip(stack: Stack) -> None:
    stored = await set_zone(stack, "Europe/Berlin")
    assert stored.ephemeral
    assert "Europe/Berlin" in stored.content
    mine = await show(stack)
    assert mine.ephemeral
    assert "Europe/Berlin" in mine.text()
    theirs = await show(stack, user="bob")
    assert "Europe/Berlin" not in theirs.text()


async def test_setting_survives_restart(stack: Stack) -> None:
    await set_zone(stack, "America/Mexico_City")
    await stack.bot.restart()
    assert stack.bot.starts == 2
    assert len(stack.emulator.gateway.connected_sessions) == 1
    assert "America/Mexico_City" in (await show(stack)).text()


async def test_command_answered_after_gateway_drop(stack: Stack) -> None:
    gateway = stack.emulator.gateway
    mark = stack.emulator.recorder.mark()
    assert await gateway.drop() == 1
    assert await gateway.wait_session(after=mark) == "RESUMED"
    assert "Europe/Berlin" in (await set_zone(stack, "Europe/Berlin")).content
    # and an interaction sent while the bot is away is delivered when it resumes
    gateway.pause_accepting()
    mark = stack.emulator.recorder.mark()
    await gateway.drop(code=4000)
    pending = await stack.driver.run_command("settings show", user="alice")
    gateway.resume_accepting()
    await pending.wait_response()
    assert "Europe/Berlin" in pending.text()
    assert await gateway.wait_session(after=mark) == "RESUMED"


async def test_rate_limited_response_is_retried(stack: Stack) -> None:
    fault = stack.emulator.faults.rate_limit(CALLBACK, method="POST", retry_after=0.4)
    result = await show(stack)
    assert result.ephemeral
    first, second = stack.emulator.recorder.requests_to("POST", CALLBACK)
    assert (first.status, first.fault) == (429, "429")
    assert second.status == 200
    assert second.at - first.at >= 0.4
    assert fault.hits == 1


async def test_sigterm_exits_zero_with_database_intact(stack: Stack) -> None:
    await set_zone(stack, "Asia/Tokyo")
    alice = stack.driver.member("alice").id
    assert await stack.bot.stop() == 0
    assert "Traceback" not in stack.bot.log_path.read_text()
    with sqlite3.connect(f"file:{stack.database_path}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        row = db.execute(
            "SELECT timezone FROM user_settings WHERE user_id = ?", (alice,)
        ).fetchone()
    assert row == ("Asia/Tokyo",)
