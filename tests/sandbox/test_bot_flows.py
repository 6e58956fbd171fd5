"""A real discord.py client against the emulator: login, READY, command sync, and every kind of
interaction the driver can perform."""

from __future__ import annotations

import aiohttp
import discord
import pytest

from sandbox import ActionNotPossible, CommandNotAvailable, Emulator
from sandbox.model import ChannelType, MessageFlag
from tests.sandbox.probe_bot import ProbeBot


async def test_login_ready_and_guild_create(emulator: Emulator, bot: ProbeBot) -> None:
    world = emulator.world
    assert bot.user is not None and bot.user.id == world.bot_user.id
    assert bot.application_id == world.application_id
    guild = bot.get_guild(world.guild.id)
    assert guild is not None and guild.name == "Sandbox"
    assert {c.name for c in guild.text_channels} == {"general", "mod-log"}
    assert guild.me is not None and guild.me.guild_permissions.manage_events
    # the bot cannot see nothing it should not: mod-log has an overwrite for the bot itself
    mod_log = guild.get_channel(world.guild.channel("mod-log").id)
    assert mod_log is not None and mod_log.permissions_for(guild.me).view_channel
    recorder = emulator.recorder
    assert recorder.requests_to("GET", "/users/@me")
    assert recorder.requests_to("GET", "/oauth2/applications/@me")
    connect = next(n for n in recorder.notes if n.kind == "gateway_connect")
    assert connect.detail["query"]["v"] == "10"
    assert connect.detail["query"]["encoding"] == "json"
    assert connect.detail["query"].get("compress") == "zlib-stream"
    assert [f.event for f in recorder.frames if f.direction == "send" and f.op == 0][:2] == [
        "READY",
        "GUILD_CREATE",
    ]


async def test_command_sync_registers_definitions(emulator: Emulator, bot: ProbeBot) -> None:
    sync = emulator.recorder.requests_to("PUT", "/applications/{application_id}/commands")
    assert len(sync) == 1 and sync[0].status == 200
    commands = {c.name: c for c in emulator.driver.commands()}
    assert {"echo", "settings", "admin", "panel", "feedback"} <= set(commands)
    settings = commands["settings"]
    assert [o["name"] for o in settings.options] == ["timezone", "show"]
    assert commands["admin"].default_member_permissions is not None
    # a GET afterwards returns the same IDs discord.py got back from the PUT
    fetched = await bot.tree.fetch_commands()
    assert {c.id for c in fetched} == {c.id for c in commands.values()}


async def test_slash_command_with_response_and_followup(emulator: Emulator, bot: ProbeBot) -> None:
    result = await emulator.driver.run_command('echo text:"hi there" times:2', user="alice")
    await result.wait_response()
    assert result.response_type == 4
    assert result.content == "hi therehi there"
    assert not result.ephemeral
    followups = await result.wait_followups(1)
    assert followups[0].content == "followup: hi there"
    general = emulator.driver.messages("general")
    assert [m.content for m in general] == ["hi therehi there", "followup: hi there"]
    assert general[0].interaction_metadata is not None
    assert general[0].interaction_metadata["user"]["username"] == "alice"


async def test_subcommand_group_and_ephemeral_reply(emulator: Emulator, bot: ProbeBot) -> None:
    driver = emulator.driver
    result = await driver.run_command("/settings timezone zone:Europe/Berlin", user="alice")
    await result.wait_response()
    assert result.ephemeral
    assert result.content == "zone set to Europe/Berlin"
    alice = driver.member("alice")
    assert bot.seen["zones"] == {alice.id: "Europe/Berlin"}
    shown = await driver.run_command("settings show", user="alice")
    await shown.wait_response()
    assert shown.content == "zone: Europe/Berlin" and shown.ephemeral
    # ephemeral messages are only visible to the member they were for
    assert driver.messages("general") == []
    assert len(driver.messages("general", seen_by="alice")) == 2


async def test_autocomplete_offers_choices(emulator: Emulator, bot: ProbeBot) -> None:
    choices = await emulator.driver.autocomplete(
        "settings timezone", focused="zone", value="europe", user="bob"
    )
    assert [c["value"] for c in choices] == ["Europe/Berlin", "Europe/London"]


async def test_button_click_updates_the_message(emulator: Emulator, bot: ProbeBot) -> None:
    driver = emulator.driver
    shown = await driver.run_command("panel", user="alice")
    await shown.wait_response()
    panel = shown.original
    assert panel is not None and "panel:like" in panel.custom_ids()
    click = await driver.click_button(panel, "panel:like", user="bob")
    await click.wait_response()
    assert click.response_type == 7
    assert panel.content == "likes: 1"
    again = await driver.click_button(panel, label="Like", user="alice")
    await again.wait_response()
    assert panel.content == "likes: 2"
    assert panel.edited_at is not None


async def test_select_menu(emulator: Emulator, bot: ProbeBot) -> None:
    driver = emulator.driver
    shown = await driver.run_command("panel", user="alice")
    await shown.wait_response()
    assert shown.original is not None
    with pytest.raises(ActionNotPossible):
        await driver.select(shown.original, "panel:genre", ["polka"], user="bob")
    picked = await driver.select(shown.original, "panel:genre", ["dub"], user="bob")
    await picked.wait_response()
    assert picked.content == "you picked dub" and picked.ephemeral


async def test_modal_submit(emulator: Emulator, bot: ProbeBot) -> None:
    driver = emulator.driver
    opened = await driver.run_command("feedback", user="alice")
    await opened.wait_response()
    assert opened.modal is not None and opened.modal["title"] == "Feedback"
    with pytest.raises(ActionNotPossible):
        await driver.submit_modal(opened, {"feedback:summary": "x" * 51})
    submitted = await driver.submit_modal(opened, {"feedback:summary": "Great party"})
    await submitted.wait_response()
    assert submitted.content == "thanks: Great party / -"


async def test_command_hidden_from_members_without_permission(
    emulator: Emulator, bot: ProbeBot
) -> None:
    driver = emulator.driver
    with pytest.raises(CommandNotAvailable):
        await driver.run_command("admin purge", user="alice")
    assert any(n.kind == "command_hidden" for n in emulator.recorder.notes)
    for allowed in ("mod", "owner"):
        result = await driver.run_command("admin purge", user=allowed)
        await result.wait_response()
        assert result.content == "purged"


async def test_unknown_options_and_subcommands_are_refused(
    emulator: Emulator, bot: ProbeBot
) -> None:
    driver = emulator.driver
    with pytest.raises(ActionNotPossible, match="no option"):
        await driver.run_command("echo text:a colour:red", user="alice")
    with pytest.raises(ActionNotPossible, match="required"):
        await driver.run_command("echo", user="alice")
    with pytest.raises(ActionNotPossible, match="needs a subcommand"):
        await driver.run_command("settings", user="alice")
    with pytest.raises(CommandNotAvailable):
        await driver.run_command("nonexistent", user="alice")


async def test_defer_then_followups(emulator: Emulator, bot: ProbeBot) -> None:
    result = await emulator.driver.run_command("think", user="alice")
    await result.wait_done()
    assert result.response_type == 5
    assert result.original is not None and not result.original.loading
    assert result.content == "thought about it"
    followups = await result.wait_followups(1)
    assert [m.content for m in followups] == ["and one more thing"]


async def test_edit_original_and_delete_followup(emulator: Emulator, bot: ProbeBot) -> None:
    result = await emulator.driver.run_command("scratch", user="alice")
    await result.wait_response()
    await emulator.recorder.wait_for_request(
        "DELETE", "/webhooks/{application_id}/{token}/messages/{message_id}"
    )
    assert result.content == "final"
    assert result.followups == []
    assert [m.content for m in emulator.driver.messages("general")] == ["final"]


async def test_thread_from_response(emulator: Emulator, bot: ProbeBot) -> None:
    driver = emulator.driver
    result = await driver.run_command('topic name:"Slowdive deep cuts"', user="alice")
    await result.wait_response()
    thread = await driver.wait_until(lambda: next(iter(driver.threads("general")), None))
    assert thread.name == "Slowdive deep cuts" and thread.type == ChannelType.PUBLIC_THREAD
    assert result.original is not None and thread.id == result.original.id
    first = await driver.wait_for_message(thread)
    assert first.content == "first post"
    assert bot.get_channel(thread.id) is not None


async def test_direct_message_and_closed_dms(emulator: Emulator, bot: ProbeBot) -> None:
    driver = emulator.driver
    result = await driver.run_command("poke", member=driver.member("bob"), user="alice")
    await result.wait_response()
    assert result.content == "poked"
    assert [m.content for m in driver.dms("bob")] == ["Alice poked you"]
    driver.member("bob").user.dms_open = False
    refused = await driver.run_command("poke member:bob", user="alice")
    await refused.wait_response()
    assert refused.content == "cannot DM: 50007"


async def test_scheduled_event(emulator: Emulator, bot: ProbeBot) -> None:
    driver = emulator.driver
    result = await driver.run_command('party name:"Loveless at 33"', user="mod")
    await result.wait_response()
    (event,) = driver.scheduled_events()
    assert event.name == "Loveless at 33" and event.location == "The usual place"
    assert result.content == f"scheduled {event.id}"
    past = await driver.run_command("party name:Late hours_from_now:-1", user="mod")
    await past.wait_response()
    assert past.content == "failed: 50035"
    assert (
        "In scheduled_start_time: Cannot schedule event in the past." in bot.seen["errors"][-1][3]
    )
    refused = emulator.recorder.requests_to("POST", "/guilds/{guild_id}/scheduled-events")[-1]
    assert refused.status == 400
    errors = refused.response["errors"]["scheduled_start_time"]["_errors"]
    assert errors[0]["code"] == "GUILD_SCHEDULED_EVENT_SCHEDULED_START_TIME_IN_PAST"


async def test_file_attachment_round_trip(emulator: Emulator, bot: ProbeBot) -> None:
    result = await emulator.driver.run_command("upload text:hello-file", user="alice")
    await result.wait_response()
    assert result.original is not None
    (attachment,) = result.original.attachments
    assert attachment.filename == "note.txt" and attachment.data == b"hello-file"
    callback = emulator.recorder.requests_to(
        "POST", "/interactions/{interaction_id}/{token}/callback"
    )[-1]
    assert callback.files[0].filename == "note.txt"
    async with aiohttp.ClientSession() as session, session.get(attachment.url) as response:
        assert await response.read() == b"hello-file"


async def test_member_message_reaches_bot(emulator: Emulator, bot: ProbeBot) -> None:
    received: list[str] = []

    async def on_message(message: object) -> None:
        received.append(getattr(message, "content", "?"))

    bot.add_listener(on_message)
    await emulator.driver.send_message("anyone into dub techno?", user="alice")
    await emulator.driver.settle()
    # the probe bot lacks the privileged MESSAGE_CONTENT intent: Discord blanks the content
    assert received == [""]
    assert emulator.driver.last_message() is not None


async def test_ephemeral_flag_kept_on_defer(emulator: Emulator, bot: ProbeBot) -> None:
    result = await emulator.driver.run_command("post text:hello", user="alice")
    await result.wait_done()
    assert result.original is not None
    assert result.original.flags & MessageFlag.EPHEMERAL
    assert result.content.startswith("posted ")
    assert emulator.driver.messages("general")[-1].content == "hello"


async def test_world_changes_reach_the_connected_bot(emulator: Emulator, bot: ProbeBot) -> None:
    guild = emulator.world.guild
    channel = guild.add_text_channel("listening-party", topic="Fridays")
    role = guild.add_role("DJ")
    await emulator.driver.settle()
    seen = bot.get_channel(channel.id)
    assert isinstance(seen, discord.TextChannel) and seen.topic == "Fridays"
    discord_guild = bot.get_guild(guild.id)
    assert discord_guild is not None and discord_guild.get_role(role.id) is not None


async def test_closed_client_leaves_a_resumable_session(emulator: Emulator, bot: ProbeBot) -> None:
    # discord.py closes with 4000 while its reader is polling, so on Discord (and here) the
    # session stays resumable rather than ending as a 1000 close would end it
    await bot.close()
    await emulator.driver.wait_until(lambda: not emulator.gateway.connected_sessions)
    assert len(emulator.gateway.live_sessions) == 1
