"""The try-out page's HTTP API (``sandbox.page``) against an emulator with the probe bot: what a
member sees, slash commands, autocomplete, components, modals, messages, reactions, RSVPs, new
members, the time control, the bot-status hooks, live updates, and the origin/host guard."""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sandbox import Emulator
from sandbox.page import BotStatus
from tests.sandbox.probe_bot import ProbeBot

JSON = dict[str, Any]


class PageClient:
    """The page's side of the API: requests from the emulator's own origin."""

    def __init__(self, emulator: Emulator, session: aiohttp.ClientSession) -> None:
        self.emulator = emulator
        self.session = session

    def id_of(self, username: str) -> str:
        return str(self.emulator.world.guild.member(username).id)

    def channel_id(self, name: str) -> str:
        return str(self.emulator.world.guild.channel(name).id)

    async def state(self, username: str, channel: str | None = None) -> JSON:
        params = {"as": self.id_of(username)}
        if channel is not None:
            params["channel"] = self.channel_id(channel)
        async with self.session.get("/app/api/state", params=params) as response:
            assert response.status == 200, await response.text()
            return dict(await response.json())

    async def post(self, action: str, body: JSON, *, status: int = 200) -> JSON:
        async with self.session.post(f"/app/api/{action}", json=body) as response:
            answer = dict(await response.json())
            assert response.status == status, answer
            return answer

    async def command(
        self, username: str, command: str, *path: str, status: int = 200, **options: Any
    ) -> JSON:
        body = {
            "as": self.id_of(username),
            "channel": self.channel_id("general"),
            "command": command,
            "path": list(path),
            "options": options,
        }
        return await self.post("command", body, status=status)


@pytest.fixture
async def page(emulator: Emulator, bot: ProbeBot) -> AsyncIterator[PageClient]:
    headers = {"Origin": emulator.base_url}
    async with aiohttp.ClientSession(base_url=emulator.base_url, headers=headers) as session:
        yield PageClient(emulator, session)


def contents(state: JSON) -> list[str]:
    return [m["content"] for m in state["messages"]]


# -- what a member sees ---------------------------------------------------------------------------


async def test_state_lists_channels_dms_events_and_members(page: PageClient) -> None:
    await page.command("mod", "party", name="Dub night")
    await page.command("alice", "poke", member=page.id_of("bob"))

    bob = await page.state("bob")

    assert [c["name"] for c in bob["channels"]] == ["general", "party-voice"]  # no #mod-log
    assert [d["name"] for d in bob["dms"]] == ["Undercurrent"]
    assert [e["name"] for e in bob["events"]] == ["Dub night"]
    assert bob["events"][0]["interested"] is False
    assert {m["username"] for m in bob["members"]} == {"owner", "mod", "alice", "bob"}
    assert bob["me"]["username"] == "bob"
    assert bob["channel"]["name"] == "general" and bob["channel"]["can_send"]
    mod = await page.state("mod")
    assert [c["name"] for c in mod["channels"]] == ["general", "mod-log", "party-voice"]


async def test_a_dm_shows_the_bots_message_to_its_member_only(page: PageClient) -> None:
    await page.command("alice", "poke", member=page.id_of("bob"))
    dm = (await page.state("bob"))["dms"][0]["id"]

    async with page.session.get(
        "/app/api/state", params={"as": page.id_of("bob"), "channel": dm}
    ) as response:
        seen = await response.json()
    async with page.session.get(
        "/app/api/state", params={"as": page.id_of("alice"), "channel": dm}
    ) as response:
        other = await response.json()

    assert seen["channel"]["kind"] == "dm" and contents(seen) == ["Alice poked you"]
    assert other["channel"]["name"] == "general"  # alice may not open bob's DMs


async def test_commands_offered_honour_default_member_permissions(page: PageClient) -> None:
    alice = {c["name"] for c in (await page.state("alice"))["commands"]}
    mod = {c["name"] for c in (await page.state("mod"))["commands"]}

    assert "admin" not in alice and "admin" in mod
    assert {"echo", "settings", "feedback", "panel"} <= alice
    await page.command("alice", "admin", "purge", status=400)


# -- slash commands -------------------------------------------------------------------------------


async def test_a_command_reaches_the_bot_and_its_ephemeral_answer_shows_to_its_member_only(
    page: PageClient, bot: ProbeBot
) -> None:
    outcome = await page.command("alice", "settings", "timezone", zone="Europe/Berlin")

    assert outcome["response_type"] == 4 and outcome["modal"] is None
    assert bot.seen["zones"][int(page.id_of("alice"))] == "Europe/Berlin"
    [answer] = (await page.state("alice"))["messages"]
    assert answer["content"] == "zone set to Europe/Berlin"
    assert answer["ephemeral"] and answer["author"]["bot"]
    assert answer["used"] == {"user": "Alice", "command": "settings timezone"}
    assert contents(await page.state("bob")) == []


async def test_dismissed_ephemeral_answers_leave_the_page_and_stay_the_bots_to_edit(
    page: PageClient, http: aiohttp.ClientSession
) -> None:
    alices = await page.command("alice", "settings", "timezone", zone="Europe/Berlin")
    await page.command("bob", "settings", "timezone", zone="Asia/Tokyo")
    await page.command("alice", "echo", text="hi")
    assert "zone set to Europe/Berlin" in contents(await page.state("alice"))

    assert page.emulator.driver.dismiss_ephemerals("alice") == 1
    echoed = ["hi", "followup: hi"]
    assert contents(await page.state("alice")) == echoed
    assert contents(await page.state("bob")) == ["zone set to Asia/Tokyo", *echoed]
    assert page.emulator.driver.dismiss_ephemerals() == 1  # bob's; alice's is gone already
    assert contents(await page.state("bob")) == echoed

    # As on Discord, the interaction can still edit what its member dismissed.
    interaction = page.emulator.world.interactions[int(alices["interaction"])]
    app = page.emulator.world.application_id
    async with http.patch(
        f"/api/v10/webhooks/{app}/{interaction.token}/messages/@original",
        json={"content": "zone set to Europe/Paris"},
    ) as response:
        assert response.status == 200, await response.text()
    assert contents(await page.state("alice")) == echoed


async def test_typed_options_and_refusals_come_back_as_errors(page: PageClient) -> None:
    await page.command("alice", "echo", text="hi", times="2")
    assert contents(await page.state("alice"))[:2] == ["hihi", "followup: hi"]

    missing = await page.command("alice", "echo", status=400)
    assert "required" in missing["error"]
    not_a_number = await page.command("alice", "echo", text="hi", times="two", status=400)
    assert "error" in not_a_number
    unknown = await page.command("alice", "echo", text="hi", loud="yes", status=400)
    assert "loud" in unknown["error"]


async def test_a_deferred_answer_shows_as_thinking_until_it_is_filled_in(
    page: PageClient,
) -> None:
    outcome = await page.command("alice", "think")

    assert outcome["response_type"] == 5
    driver = page.emulator.driver
    original = page.emulator.world.messages[int(outcome["message"])]
    await driver.wait_until(lambda: not original.loading, what="the deferred answer")
    answer = next(
        m for m in (await page.state("alice"))["messages"] if m["id"] == outcome["message"]
    )
    assert answer["loading"] is False and answer["content"] == "thought about it"


async def test_autocomplete_returns_the_bots_choices(page: PageClient) -> None:
    body = {
        "as": page.id_of("alice"),
        "channel": page.channel_id("general"),
        "command": "settings",
        "path": ["timezone"],
        "options": {},
        "focused": "zone",
        "value": "europe",
    }

    answer = await page.post("autocomplete", body)

    assert [c["value"] for c in answer["choices"]] == ["Europe/Berlin", "Europe/London"]


async def test_a_modal_round_trip(page: PageClient) -> None:
    opened = await page.command("bob", "feedback")
    modal = opened["modal"]
    assert opened["response_type"] == 9 and modal["title"] == "Feedback"

    too_long = {"feedback:summary": "x" * 51}
    body = {"as": page.id_of("bob"), "interaction": opened["interaction"], "values": too_long}
    refused = await page.post("modal", body, status=400)
    assert "at most 50" in refused["error"]
    someone_else = {**body, "as": page.id_of("alice")}
    await page.post("modal", someone_else, status=404)

    body["values"] = {"feedback:summary": "Great", "feedback:details": "More dub"}
    submitted = await page.post("modal", body)

    assert submitted["response_type"] == 4
    assert "thanks: Great / More dub" in contents(await page.state("alice"))


# -- components, messages, reactions, events, members ---------------------------------------------


async def test_buttons_and_selects_go_through_the_driver(page: PageClient) -> None:
    panel = await page.command("alice", "panel")
    message = panel["message"]
    clicked = await page.post(
        "click", {"as": page.id_of("bob"), "message": message, "custom_id": "panel:like"}
    )
    assert clicked["response_type"] == 7
    shown = next(m for m in (await page.state("bob"))["messages"] if m["id"] == message)
    assert shown["content"] == "likes: 1"
    assert shown["components"][0]["components"][0]["label"] == "Like"

    picked = await page.post(
        "select",
        {
            "as": page.id_of("bob"),
            "message": message,
            "custom_id": "panel:genre",
            "values": ["dub"],
        },
    )
    assert picked["response_type"] == 4
    assert "you picked dub" in contents(await page.state("bob"))
    await page.post(
        "select",
        {"as": page.id_of("bob"), "message": message, "custom_id": "panel:genre", "values": ["x"]},
        status=400,
    )


async def test_messages_follow_the_length_and_permission_rules(page: PageClient) -> None:
    general = page.channel_id("general")
    sent = await page.post(
        "message", {"as": page.id_of("alice"), "channel": general, "content": "anyone into dub?"}
    )
    assert page.emulator.world.messages[int(sent["message"])].content == "anyone into dub?"
    assert "anyone into dub?" in contents(await page.state("bob"))

    too_long = {"as": page.id_of("alice"), "channel": general, "content": "x" * 2001}
    assert "too long" in (await page.post("message", too_long, status=400))["error"]
    hidden = {"as": page.id_of("alice"), "channel": page.channel_id("mod-log"), "content": "hi"}
    await page.post("message", hidden, status=404)


async def test_reactions_toggle(page: PageClient) -> None:
    sent = await page.post(
        "message",
        {"as": page.id_of("alice"), "channel": page.channel_id("general"), "content": "a pick"},
    )
    body = {"as": page.id_of("bob"), "message": sent["message"], "emoji": "🔥", "on": True}
    await page.post("react", body)

    [message] = (await page.state("bob"))["messages"]
    assert message["reactions"] == [{"key": "🔥", "emoji": "🔥", "count": 1, "mine": True}]
    assert (await page.state("alice"))["messages"][0]["reactions"][0]["mine"] is False

    await page.post("react", {**body, "on": False})
    assert (await page.state("bob"))["messages"][0]["reactions"] == []
    await page.post("react", {**body, "emoji": "abc"}, status=400)


async def test_rsvp_marks_interest(page: PageClient) -> None:
    await page.command("mod", "party", name="Dub night")
    [event] = (await page.state("bob"))["events"]

    await page.post("rsvp", {"as": page.id_of("bob"), "event": event["id"], "interested": True})

    [seen] = (await page.state("bob"))["events"]
    assert seen["interested"] is True and seen["count"] == 1
    await page.post("rsvp", {"as": page.id_of("bob"), "event": event["id"], "interested": False})
    assert (await page.state("bob"))["events"][0]["count"] == 0


async def test_adding_a_member_announces_them(page: PageClient) -> None:
    world = page.emulator.world
    announced: list[tuple[str, JSON]] = []
    dispatch = world.dispatch
    assert dispatch is not None

    def spy(event: str, payload: JSON, guild_id: int | None) -> None:
        announced.append((event, payload))
        dispatch(event, payload, guild_id)

    world.dispatch = spy

    added = await page.post("members", {"name": "carol"})

    assert added["name"] == "Carol"
    [(event, payload)] = announced
    assert event == "GUILD_MEMBER_ADD" and payload["user"]["username"] == "carol"
    assert "carol" in {m["username"] for m in (await page.state("alice"))["members"]}
    await page.post("members", {"name": "carol"}, status=409)
    await page.post("members", {"name": "<b>"}, status=400)


# -- time and the bot -----------------------------------------------------------------------------


async def test_advance_moves_the_world_clock(page: PageClient) -> None:
    clock = page.emulator.world.clock
    before = clock.offset

    moved = await page.post("advance", {"seconds": 3600})

    assert clock.offset == before + 3600
    assert moved["clock"]["generation"] == clock.generation
    await page.post("advance", {"seconds": -5}, status=400)
    await page.post("advance", {"next": True}, status=404)  # no hook: the page hides the button
    assert (await page.state("alice"))["bot"]["can_skip"] is False


async def test_skip_ahead_goes_to_the_bots_next_job(page: PageClient) -> None:
    emulator = page.emulator
    due: list[datetime.datetime | None] = [emulator.world.now() + datetime.timedelta(hours=2)]

    async def next_scheduled() -> datetime.datetime | None:
        return due[0]

    emulator.next_scheduled = next_scheduled
    assert (await page.state("alice"))["bot"]["can_skip"] is True

    moved = await page.post("advance", {"next": True})

    assert moved["seconds"] == pytest.approx(2 * 3600 + 1, abs=0.1)
    assert emulator.world.now() > due[0]  # type: ignore[operator]
    due[0] = None
    assert "nothing scheduled" in (await page.post("advance", {"next": True}, status=409))["error"]


async def test_bot_status_and_restart_hooks(page: PageClient) -> None:
    emulator = page.emulator
    restarts: list[bool] = []
    status: BotStatus = {"running": False, "crashed": True, "log": ["Traceback", "Boom"]}

    async def restart() -> None:
        restarts.append(True)
        status.update(running=True, crashed=False)

    assert (await page.state("alice"))["bot"]["status"] is None
    await page.post("restart", {}, status=404)
    emulator.bot_status = lambda: status
    emulator.restart_bot = restart

    bot = (await page.state("alice"))["bot"]
    assert bot["status"]["crashed"] and bot["status"]["log"][-1] == "Boom" and bot["can_restart"]
    await page.post("restart", {})
    assert restarts == [True]
    assert (await page.state("alice"))["bot"]["status"]["crashed"] is False


# -- live updates ---------------------------------------------------------------------------------


async def next_event(stream: aiohttp.StreamReader) -> tuple[str, JSON]:
    """The next server-sent event (keep-alive comments skipped)."""
    name, data = "", ""
    while True:
        line = (await stream.readline()).decode().rstrip("\n")
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif line == "" and name:
            return name, json.loads(data)


async def test_live_stream_announces_a_posted_message(page: PageClient) -> None:
    async with page.session.get("/app/api/live") as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        hello, _ = await asyncio.wait_for(next_event(stream.content), 5)
        assert hello == "hello"

        await page.post(
            "message",
            {"as": page.id_of("bob"), "channel": page.channel_id("general"), "content": "live?"},
        )
        name, data = await asyncio.wait_for(next_event(stream.content), 5)

    assert name == "change"
    assert data["clock"]["generation"] == page.emulator.world.clock.generation


# -- the guard and the files ----------------------------------------------------------------------


async def test_foreign_origins_and_hosts_are_refused(page: PageClient) -> None:
    base = page.emulator.base_url
    port = page.emulator.port
    async with aiohttp.ClientSession(base_url=base) as bare:
        cases = [
            ("GET", "/app/api/state", {"Origin": "http://evil.example"}),
            ("POST", "/app/api/advance", {"Origin": "http://evil.example"}),
            ("POST", "/app/api/advance", {}),  # no Origin on a POST
            ("GET", "/app/api/state", {"Host": f"evil.example:{port}"}),  # DNS rebinding
            ("GET", "/app", {"Host": f"127.0.0.1.nip.io:{port}"}),
            ("GET", "/app/api/live", {"Origin": "null"}),
        ]
        for method, path, headers in cases:
            async with bare.request(method, path, headers=headers, json={"seconds": 60}) as answer:
                assert answer.status == 403, (method, path, headers)
                assert "error" in await answer.json()
        same = {"Origin": f"http://localhost:{port}", "Host": f"localhost:{port}"}
        async with bare.get("/app/api/state", headers=same) as answer:
            assert answer.status == 200
    assert page.emulator.world.clock.offset == 0


async def test_the_page_and_its_files_are_served(page: PageClient) -> None:
    async with page.session.get("/", allow_redirects=False) as root:
        assert root.status == 302 and root.headers["Location"] == "/app"
    async with page.session.get("/favicon.ico") as icon:  # none, and no 404 in the console
        assert icon.status == 204
    async with page.session.get("/app") as index:
        assert index.status == 200 and index.content_type == "text/html"
        assert "script-src 'self'" in index.headers["Content-Security-Policy"]
        assert index.headers["X-Frame-Options"] == "DENY"
        assert "/app/static/app.js" in await index.text()
    for name in ("app.js", "dom.js", "markdown.js", "render.js", "composer.js", "modal.js"):
        async with page.session.get(f"/app/static/{name}") as script:
            assert script.status == 200 and script.content_type == "text/javascript"
    async with page.session.get("/app/static/../server.py") as escape:
        assert escape.status == 404
    async with page.session.post("/app/api/advance", data="seconds=5") as not_json:
        assert not_json.status == 415
