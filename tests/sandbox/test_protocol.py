"""The emulator's wire protocol checked with a bare aiohttp client: headers, auth, error
shapes, permission refusals, and the gateway's handshake, compression and close codes."""

from __future__ import annotations

import json
import zlib
from typing import Any

import aiohttp
import pytest

from sandbox import Emulator
from sandbox.gateway import Intent
from sandbox.ids import new_snowflake
from sandbox.model import Message
from sandbox.permissions import Overwrite, OverwriteType, Permission
from tests.sandbox.conftest import call


async def test_json_content_type_is_exact(http: aiohttp.ClientSession) -> None:
    status, body, headers = await call(http, "GET", "/users/@me")
    assert status == 200 and body["bot"] is True
    assert headers["Content-Type"] == "application/json"  # type: ignore[index]
    assert headers["Via"] == "1.1 google"  # type: ignore[index]
    assert "X-RateLimit-Remaining" in headers  # type: ignore[operator]


async def test_missing_token_is_unauthorized(emulator: Emulator) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(emulator.api_base + "/users/@me") as response,
    ):
        assert response.status == 401
        assert await response.json() == {"message": "401: Unauthorized", "code": 0}


async def test_unknown_channel_and_message(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    status, body, _ = await call(http, "GET", "/channels/123/messages/456")
    assert (status, body) == (404, {"message": "Unknown Channel", "code": 10003})
    general = emulator.world.guild.channel("general").id
    status, body, _ = await call(http, "GET", f"/channels/{general}/messages/456")
    assert (status, body["code"]) == (404, 10008)


async def test_bot_without_access_is_refused(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    guild = emulator.world.guild
    mod_log = guild.channel("mod-log")
    mod_log.overwrites = [o for o in mod_log.overwrites if o.type != OverwriteType.MEMBER]
    status, body, _ = await call(
        http, "POST", f"/channels/{mod_log.id}/messages", {"content": "hi"}
    )
    assert (status, body) == (403, {"message": "Missing Access", "code": 50001})
    mod_log.overwrites.append(
        Overwrite(
            emulator.world.bot_user.id,
            OverwriteType.MEMBER,
            allow=Permission.VIEW_CHANNEL,
            deny=Permission.SEND_MESSAGES,
        )
    )
    status, body, _ = await call(
        http, "POST", f"/channels/{mod_log.id}/messages", {"content": "hi"}
    )
    assert (status, body) == (403, {"message": "Missing Permissions", "code": 50013})


async def test_message_crud_and_history(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    channel = emulator.world.guild.channel("general").id
    ids = []
    for n in range(3):
        status, body, _ = await call(
            http, "POST", f"/channels/{channel}/messages", {"content": f"m{n}"}
        )
        assert status == 200
        ids.append(int(body["id"]))
    status, body, _ = await call(http, "GET", f"/channels/{channel}/messages?limit=2")
    assert [m["content"] for m in body] == ["m2", "m1"]
    status, body, _ = await call(http, "GET", f"/channels/{channel}/messages?before={ids[1]}")
    assert [m["content"] for m in body] == ["m0"]
    status, body, _ = await call(
        http, "PATCH", f"/channels/{channel}/messages/{ids[0]}", {"content": "edited"}
    )
    assert body["content"] == "edited" and body["edited_timestamp"].endswith("+00:00")
    status, _, _ = await call(http, "DELETE", f"/channels/{channel}/messages/{ids[0]}")
    assert status == 204
    status, _, _ = await call(http, "GET", f"/channels/{channel}/messages/{ids[0]}")
    assert status == 404


async def test_member_message_cannot_be_edited_by_bot(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    guild = emulator.world.guild
    general = guild.channel("general")
    alice = guild.member("alice")
    message = Message(
        new_snowflake(), general.id, guild.id, alice.user, content="mine", member=alice
    )
    emulator.world.messages[message.id] = message
    general.messages.append(message)
    status, body, _ = await call(
        http, "PATCH", f"/channels/{general.id}/messages/{message.id}", {"content": "x"}
    )
    assert (status, body["code"]) == (403, 50005)
    status, _, _ = await call(http, "DELETE", f"/channels/{general.id}/messages/{message.id}")
    assert status == 204  # the bot has MANAGE_MESSAGES


async def test_multipart_upload_with_payload_json(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    channel = emulator.world.guild.channel("general").id
    form = aiohttp.FormData(quote_fields=False)
    form.add_field(
        "payload_json",
        json.dumps(
            {
                "content": "file!",
                "attachments": [{"id": 0, "filename": "a.txt", "description": "A"}],
            }
        ),
        content_type="application/json",
    )
    form.add_field("files[0]", b"abc", filename="a.txt", content_type="text/plain")
    async with http.post(f"/api/v10/channels/{channel}/messages", data=form) as response:
        body = await response.json()
    assert body["content"] == "file!"
    (attachment,) = body["attachments"]
    assert attachment["filename"] == "a.txt" and attachment["size"] == 3
    assert attachment["description"] == "A"
    recorded = emulator.recorder.requests_to("POST", "/channels/{channel_id}/messages")[-1]
    assert recorded.body["content"] == "file!" and recorded.files[0].size == 3


async def test_command_validation_errors(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    app = emulator.world.application_id
    bad = [{"name": "Bad Name", "description": "x", "type": 1}]
    status, body, _ = await call(http, "PUT", f"/applications/{app}/commands", bad)
    assert status == 400 and body["code"] == 50035
    assert body["errors"]["0"]["name"]["_errors"][0]["code"] == "APPLICATION_COMMAND_INVALID_NAME"
    good = [{"name": "ping", "description": "Ping", "default_member_permissions": "32"}]
    status, first, _ = await call(http, "PUT", f"/applications/{app}/commands", good)
    assert status == 200 and first[0]["default_member_permissions"] == "32"
    status, second, _ = await call(http, "PUT", f"/applications/{app}/commands", good)
    assert second[0]["id"] == first[0]["id"]  # IDs survive an overwrite, as on Discord
    guild = emulator.world.guild.id
    status, body, _ = await call(http, "PUT", f"/applications/{app}/guilds/{guild}/commands", good)
    assert status == 200 and body[0]["guild_id"] == str(guild)


async def test_scheduled_event_rules(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    guild = emulator.world.guild
    base = {
        "name": "Party",
        "privacy_level": 2,
        "entity_type": 3,
        "scheduled_start_time": "2999-01-01T20:00:00+00:00",
    }
    status, body, _ = await call(http, "POST", f"/guilds/{guild.id}/scheduled-events", base)
    assert status == 400
    assert set(body["errors"]) == {"entity_metadata", "scheduled_end_time"}
    full = {
        **base,
        "scheduled_end_time": "2999-01-01T22:00:00+00:00",
        "entity_metadata": {"location": "Here"},
    }
    status, event, _ = await call(http, "POST", f"/guilds/{guild.id}/scheduled-events", full)
    assert status == 200 and event["status"] == 1
    path = f"/guilds/{guild.id}/scheduled-events/{event['id']}"
    status, body, _ = await call(http, "PATCH", path, {"status": 3})
    assert status == 400  # scheduled -> completed is not allowed
    status, body, _ = await call(http, "PATCH", path, {"status": 2})
    assert body["status"] == 2
    voice = guild.channel("party-voice").id
    status, body, _ = await call(
        http,
        "POST",
        f"/guilds/{guild.id}/scheduled-events",
        {**base, "entity_type": 2, "channel_id": str(voice)},
    )
    assert status == 200 and body["channel_id"] == str(voice)


async def test_threads_and_dm_routes(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    guild = emulator.world.guild
    general = guild.channel("general").id
    status, thread, _ = await call(
        http, "POST", f"/channels/{general}/threads", {"name": "private", "type": 12}
    )
    assert status == 201 and thread["type"] == 12
    status, body, _ = await call(
        http, "PATCH", f"/channels/{thread['id']}", {"archived": True, "locked": True}
    )
    assert body["thread_metadata"]["archived"] is True
    status, body, _ = await call(
        http, "POST", f"/channels/{thread['id']}/messages", {"content": "x"}
    )
    assert (status, body["code"]) == (400, 50083)
    status, body, _ = await call(http, "GET", f"/guilds/{guild.id}/threads/active")
    assert body["threads"] == []
    alice = guild.member("alice").id
    status, dm, _ = await call(http, "POST", "/users/@me/channels", {"recipient_id": str(alice)})
    assert dm["type"] == 1 and dm["recipients"][0]["id"] == str(alice)
    status, body, _ = await call(
        http, "POST", f"/channels/{dm['id']}/messages", {"content": "hello"}
    )
    assert status == 200


# -- gateway -----------------------------------------------------------------------------------


async def receive(ws: aiohttp.ClientWebSocketResponse, inflator: Any = None) -> dict[str, Any]:
    message = await ws.receive(timeout=5)
    if message.type == aiohttp.WSMsgType.BINARY:
        assert inflator is not None
        return json.loads(inflator.decompress(message.data))  # type: ignore[no-any-return]
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return json.loads(message.data)  # type: ignore[no-any-return]


async def test_gateway_handshake_and_zlib_stream(emulator: Emulator) -> None:
    inflator = zlib.decompressobj()
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(emulator.gateway_url + "?v=10&encoding=json&compress=zlib-stream") as ws,
    ):
        hello = await receive(ws, inflator)
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
        await ws.send_json({"op": 1, "d": None})
        assert (await receive(ws, inflator))["op"] == 11
        await ws.send_json(
            {"op": 2, "d": {"token": emulator.world.token, "intents": 1, "properties": {}}}
        )
        ready = await receive(ws, inflator)
        assert ready["t"] == "READY" and ready["s"] == 1
        assert ready["d"]["resume_gateway_url"] == emulator.resume_gateway_url
        created = await receive(ws, inflator)
        assert created["t"] == "GUILD_CREATE"
        # without GUILD_MEMBERS only the bot's own member is sent, with the true member count
        assert len(created["d"]["members"]) == 1 and created["d"]["member_count"] == 5
        assert all("flags" in m for m in created["d"]["members"])


@pytest.mark.parametrize(
    ("first", "code"),
    [
        ({"op": 2, "d": {"token": "wrong", "intents": 1}}, 4004),
        ({"op": 2, "d": {"token": "TOKEN", "intents": None}}, 4013),
        ({"op": 8, "d": {"guild_id": "1"}}, 4003),
        ({"op": 99, "d": None}, 4003),
    ],
)
async def test_gateway_close_codes(emulator: Emulator, first: dict[str, Any], code: int) -> None:
    if first["d"] and first["d"].get("token") == "TOKEN":
        first["d"]["token"] = emulator.world.token
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(emulator.gateway_url + "?v=10&encoding=json") as ws,
    ):
        await receive(ws)
        await ws.send_json(first)
        closing = await ws.receive(timeout=5)
        assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == code


async def test_privileged_intents_must_be_allowed(emulator: Emulator) -> None:
    emulator.gateway.allowed_privileged = Intent(0)
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(emulator.gateway_url + "?v=10") as ws,
    ):
        await receive(ws)
        await ws.send_json(
            {"op": 2, "d": {"token": emulator.world.token, "intents": 1 | (1 << 15)}}
        )
        closing = await ws.receive(timeout=5)
        assert closing.data == 4014


async def test_resume_with_unknown_session_is_invalid(emulator: Emulator) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(emulator.resume_gateway_url + "?v=10") as ws,
    ):
        await receive(ws)
        await ws.send_json(
            {"op": 6, "d": {"token": emulator.world.token, "session_id": "nope", "seq": 3}}
        )
        assert await receive(ws) == {"op": 9, "d": False}


async def test_normal_close_ends_the_session(emulator: Emulator) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(emulator.gateway_url + "?v=10") as ws:
            await receive(ws)
            await ws.send_json({"op": 2, "d": {"token": emulator.world.token, "intents": 1}})
            await receive(ws)
            assert len(emulator.gateway.live_sessions) == 1
            await ws.close(code=1000)
        await emulator.recorder.wait_until(lambda: not emulator.gateway.live_sessions)


async def test_mentions_follow_allowed_mentions(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    guild = emulator.world.guild
    general = guild.channel("general").id
    alice = guild.member("alice").id
    moderator = guild.role("Moderator").id
    content = f"hey <@{alice}> and <@&{moderator}> and @everyone"
    path = f"/channels/{general}/messages"
    _, loud, _ = await call(http, "POST", path, {"content": content})
    assert [u["id"] for u in loud["mentions"]] == [str(alice)]
    # the bot lacks MENTION_EVERYONE and the role is not mentionable
    assert loud["mention_roles"] == [] and loud["mention_everyone"] is False
    _, quiet, _ = await call(
        http, "POST", path, {"content": content, "allowed_mentions": {"parse": []}}
    )
    assert quiet["mentions"] == [] and quiet["mention_roles"] == []
    _, chosen, _ = await call(
        http, "POST", path, {"content": content, "allowed_mentions": {"users": [str(alice)]}}
    )
    assert [u["id"] for u in chosen["mentions"]] == [str(alice)]
    assert not emulator.world.messages[int(quiet["id"])].pings_anyone
