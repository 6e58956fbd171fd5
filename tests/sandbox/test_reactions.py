"""Reactions by members and by the bot: the gateway events, Discord's ``reactions`` array on
fetched messages and history, and who reacted, paged, read through discord.py."""

from __future__ import annotations

import discord
import pytest

from sandbox import ActionNotPossible, Emulator
from sandbox.permissions import Overwrite, OverwriteType, Permission
from tests.sandbox.probe_bot import ProbeBot

REACTIONS_ROUTE = "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}"


async def marker(
    emulator: Emulator, bot: ProbeBot, text: str = "Side A, track 3"
) -> discord.Message:
    channel = bot.get_channel(emulator.world.guild.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    return await channel.send(text)


async def test_member_reactions_reach_the_bot_and_show_on_the_message(
    emulator: Emulator, bot: ProbeBot
) -> None:
    added: list[discord.RawReactionActionEvent] = []
    removed: list[discord.RawReactionActionEvent] = []

    async def on_raw_reaction_add(payload: discord.RawReactionActionEvent) -> None:
        added.append(payload)

    async def on_raw_reaction_remove(payload: discord.RawReactionActionEvent) -> None:
        removed.append(payload)

    bot.add_listener(on_raw_reaction_add)
    bot.add_listener(on_raw_reaction_remove)
    sent = await marker(emulator, bot)
    driver = emulator.driver
    await driver.react(sent.id, "🔥", user="alice")
    await driver.react(sent.id, "🔥", user="bob")
    await driver.react(sent.id, "🔥", user="bob")  # already reacted: nothing new
    await driver.react(sent.id, "party:1234567890", user="alice")
    await sent.add_reaction("🔥")
    await driver.unreact(sent.id, "🔥", user="bob")
    await driver.settle()

    alice, bob = driver.member("alice").id, driver.member("bob").id
    assert [(p.user_id, str(p.emoji)) for p in added] == [
        (alice, "🔥"),
        (bob, "🔥"),
        (alice, "<:party:1234567890>"),
        (bot.user.id if bot.user else 0, "🔥"),
    ]
    assert added[0].member is not None and added[0].member.id == alice
    assert added[0].message_author_id == sent.author.id
    assert [(p.user_id, str(p.emoji)) for p in removed] == [(bob, "🔥")]

    fetched = await sent.channel.fetch_message(sent.id)
    assert [
        (str(r.emoji), r.count, r.me, r.normal_count, r.burst_count) for r in fetched.reactions
    ] == [
        ("🔥", 2, True, 2, 0),
        ("<:party:1234567890>", 1, False, 1, 0),
    ]
    [from_history] = [m async for m in sent.channel.history(limit=1)]
    assert [r.count for r in from_history.reactions] == [2, 1]
    raw = emulator.recorder.requests_to("GET", "/channels/{channel_id}/messages/{message_id}")
    assert raw[-1].response["reactions"][0] == {
        "emoji": {"id": None, "name": "🔥"},
        "count": 2,
        "count_details": {"burst": 0, "normal": 2},
        "burst_colors": [],
        "me_burst": False,
        "burst_me": False,
        "me": True,
        "burst_count": 0,
    }


async def test_who_reacted_pages_by_user_id(emulator: Emulator, bot: ProbeBot) -> None:
    sent = await marker(emulator, bot)
    guild = emulator.world.guild
    fans = [guild.add_member(f"fan{n}") for n in range(130)]
    for fan in reversed(fans):
        await emulator.driver.react(sent.id, "🎧", user=fan)
    fetched = await sent.channel.fetch_message(sent.id)
    [reaction] = fetched.reactions
    users = [u.id async for u in reaction.users()]
    # each once (discord.py hands every page out last-first, so sort before comparing)
    assert sorted(users) == sorted(f.id for f in fans) and len(users) == 130
    users.sort()
    pages = emulator.recorder.requests_to("GET", REACTIONS_ROUTE)
    assert [len(p.response) for p in pages] == [100, 30]
    # the default page is 25, and ``after`` is a user ID
    first = await bot.http.get_reaction_users(sent.channel.id, sent.id, "🎧", 25)
    assert len(first) == 25
    rest = await bot.http.get_reaction_users(sent.channel.id, sent.id, "🎧", 100, after=users[24])
    assert [int(u["id"]) for u in rest] == users[25:125]
    assert await bot.http.get_reaction_users(sent.channel.id, sent.id, "🙃", 100) == []


async def test_reaction_rules(emulator: Emulator, bot: ProbeBot) -> None:
    sent = await marker(emulator, bot)
    driver = emulator.driver
    with pytest.raises(discord.HTTPException) as refused:
        await sent.add_reaction("party")
    assert (refused.value.status, refused.value.code) == (400, 10014)
    with pytest.raises(ActionNotPossible):
        await driver.react(sent.id, "smile", user="alice")
    emoji = [chr(0x1F600 + n) for n in range(20)]
    for face in emoji:
        await driver.react(sent.id, face, user="alice")
    with pytest.raises(ActionNotPossible):
        await driver.react(sent.id, "🎧", user="bob")
    with pytest.raises(discord.HTTPException) as refused:
        await sent.add_reaction("🎧")
    assert refused.value.code == 30010
    await sent.add_reaction(emoji[0])  # an emoji already there is fine

    # without ADD_REACTIONS a member may only add to an emoji someone already used
    general = emulator.world.guild.channel("general")
    general.overwrites.append(
        Overwrite(driver.member("bob").id, OverwriteType.MEMBER, deny=Permission.ADD_REACTIONS)
    )
    quiet = await marker(emulator, bot, "another marker")
    await driver.react(quiet.id, "🔥", user="alice")
    await driver.react(quiet.id, "🔥", user="bob")
    with pytest.raises(ActionNotPossible):
        await driver.react(quiet.id, "🌊", user="bob")
