"""Fault injection and Discord's enforcement: dropped gateway connections, rate limits, server
errors, the interaction deadline, follow-up token expiry, body limits, double acknowledgement
and unimplemented routes."""

from __future__ import annotations

import discord
import pytest

from sandbox import Emulator
from sandbox.gateway import Op
from tests.sandbox.probe_bot import ProbeBot

CALLBACK = "/interactions/{interaction_id}/{token}/callback"
MESSAGES = "/channels/{channel_id}/messages"


async def answered(emulator: Emulator, user: str = "alice") -> str:
    result = await emulator.driver.run_command("echo text:still-here", user=user)
    await result.wait_response()
    return result.content


async def test_abrupt_drop_resumes_on_resume_url(emulator: Emulator, bot: ProbeBot) -> None:
    resumed: list[bool] = []

    async def on_resumed() -> None:
        resumed.append(True)

    bot.add_listener(on_resumed)
    mark = emulator.recorder.mark()
    assert await emulator.gateway.drop() == 1
    assert await emulator.gateway.wait_session(after=mark) == "RESUMED"
    resume = await emulator.recorder.wait_for_frame(op=Op.RESUME, direction="receive", after=mark)
    assert resume.data["seq"] > 0
    reconnect = [
        n for n in emulator.recorder.notes if n.kind == "gateway_connect" and n.index > mark
    ]
    assert reconnect[0].detail["path"] == "/gateway-resume"
    assert await answered(emulator) == "still-here"
    assert len(emulator.gateway.sessions) == 1
    assert resumed == [True]


async def test_events_sent_while_disconnected_are_replayed(
    emulator: Emulator, bot: ProbeBot
) -> None:
    (session,) = emulator.gateway.live_sessions
    emulator.gateway.pause_accepting()
    mark = emulator.recorder.mark()
    await emulator.gateway.drop()
    assert emulator.gateway.connected_sessions == []
    # the bot is away: the interaction waits in the session's backlog, as on Discord
    result = await emulator.driver.run_command("echo text:replayed", user="alice")
    emulator.gateway.resume_accepting()
    await result.wait_response()
    assert result.content == "replayed"
    assert session.resumes == 1
    replay = [
        f
        for f in emulator.recorder.frames
        if f.index > mark and f.direction == "send" and f.event in ("INTERACTION_CREATE", "RESUMED")
    ]
    assert [f.event for f in replay] == ["INTERACTION_CREATE", "RESUMED"]


async def test_close_code_4000_resumes(emulator: Emulator, bot: ProbeBot) -> None:
    mark = emulator.recorder.mark()
    await emulator.gateway.drop(code=4000)
    assert await emulator.gateway.wait_session(after=mark) == "RESUMED"
    assert await answered(emulator) == "still-here"


async def test_reconnect_request_resumes(emulator: Emulator, bot: ProbeBot) -> None:
    mark = emulator.recorder.mark()
    emulator.gateway.request_reconnect()
    assert await emulator.gateway.wait_session(after=mark) == "RESUMED"
    assert await answered(emulator) == "still-here"


async def test_invalid_session_makes_bot_identify_again(emulator: Emulator, bot: ProbeBot) -> None:
    mark = emulator.recorder.mark()
    emulator.gateway.invalidate_sessions(resumable=False)
    assert await emulator.gateway.wait_session(after=mark, kind="READY", within=10) == "READY"
    assert len(emulator.gateway.live_sessions) == 1
    assert await answered(emulator) == "still-here"


async def test_rate_limit_is_honoured(emulator: Emulator, bot: ProbeBot) -> None:
    fault = emulator.faults.rate_limit(MESSAGES, method="POST", retry_after=0.3)
    result = await emulator.driver.run_command("post text:patience", user="alice")
    await result.wait_done()
    assert result.content.startswith("posted ")
    first, second = emulator.recorder.requests_to("POST", MESSAGES)
    assert first.status == 429 and first.fault == "429"
    assert first.response == {
        "message": "You are being rate limited.",
        "retry_after": 0.3,
        "global": False,
    }
    assert second.status == 200
    assert second.at - first.at >= 0.3
    assert fault.hits == 1 and not emulator.faults.pending
    assert [m.content for m in emulator.driver.messages("general")] == ["patience"]


async def test_server_error_is_retried(emulator: Emulator, bot: ProbeBot) -> None:
    emulator.faults.server_error(MESSAGES, method="POST", times=1)
    result = await emulator.driver.run_command("post text:again", user="alice")
    await result.wait_done(within=5)
    statuses = [r.status for r in emulator.recorder.requests_to("POST", MESSAGES)]
    assert statuses == [500, 200]
    assert [m.content for m in emulator.driver.messages("general")] == ["again"]


async def test_late_callback_gets_unknown_interaction(emulator: Emulator, bot: ProbeBot) -> None:
    emulator.interaction_deadline = 0.1
    bot.slow_delay = 0.25
    result = await emulator.driver.run_command("slow", user="alice")
    refused = await emulator.recorder.wait_for_request(
        "POST", CALLBACK, where=lambda r: r.status == 404
    )
    assert refused.response == {"message": "Unknown interaction", "code": 10062}
    assert await bot.errors_at_least(1) == [("slow", 404, 10062, "Unknown interaction")]
    assert not result.acknowledged


async def test_followup_token_expires_after_15_minutes(emulator: Emulator, bot: ProbeBot) -> None:
    result = await emulator.driver.run_command("echo text:early", user="alice")
    await result.wait_followups(1)
    emulator.advance_clock(15 * 60 + 1)
    webhook = discord.Webhook.partial(
        emulator.world.application_id, result.interaction.token, client=bot
    )
    with pytest.raises(discord.HTTPException) as caught:
        await webhook.send("too late", wait=True)
    assert caught.value.status == 401 and caught.value.code == 50027


async def test_content_over_2000_characters_is_refused(emulator: Emulator, bot: ProbeBot) -> None:
    result = await emulator.driver.run_command("long", user="alice")
    await result.wait_response()
    assert result.content == "too long"
    refused = emulator.recorder.requests_to("POST", CALLBACK)[0]
    assert refused.status == 400
    assert refused.response == {
        "message": "Invalid Form Body",
        "code": 50035,
        "errors": {
            "content": {
                "_errors": [
                    {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}
                ]
            }
        },
    }
    assert refused.response["errors"]["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert bot.seen["errors"][0][:3] == ("long", 400, 50035)
    exactly = await emulator.driver.run_command("long size:2000", user="alice")
    await exactly.wait_response()
    assert len(exactly.content) == 2000


async def test_second_acknowledgement_is_refused(emulator: Emulator, bot: ProbeBot) -> None:
    result = await emulator.driver.run_command("twice", user="alice")
    errors = await bot.errors_at_least(2)
    assert result.content == "one"
    assert errors[1] == (
        "twice",
        400,
        40060,
        "Interaction has already been acknowledged.",
    )


async def test_unimplemented_route_is_recorded(emulator: Emulator, bot: ProbeBot) -> None:
    with pytest.raises(discord.NotFound):
        await bot.http.request(
            discord.http.Route("GET", "/guilds/{guild_id}/bans", guild_id=emulator.world.guild.id)
        )
    (missing,) = emulator.recorder.unimplemented()
    assert missing.path == f"/guilds/{emulator.world.guild.id}/bans"
    with pytest.raises(AssertionError, match="does not implement"):
        emulator.recorder.assert_all_implemented()
    emulator.recorder.requests.remove(missing)  # keep the fixture's own check green


async def test_wrong_token_is_refused(emulator: Emulator) -> None:
    with emulator.patch_discord():
        client = discord.Client(intents=discord.Intents.default())
        with pytest.raises(discord.LoginFailure):
            await client.login("not-the-token")
        await client.close()
