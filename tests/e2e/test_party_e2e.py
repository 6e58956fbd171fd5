"""Listening parties end to end, in the real bot process against the emulator: the card and the
Discord event, RSVPs by button and by Interested, a new time and a cancellation told once to
each member (by DM, or mentioned when their DMs are closed)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sandbox import Emulator, World
from sandbox.model import Message, ScheduledEvent
from sandbox.permissions import Permission
from tests.e2e.conftest import Stack, bot_stack

EXTERNAL, SCHEDULED, CANCELED = 3, 1, 4


def labels(message: Any) -> list[str]:
    return [c.get("label", "") for row in message.components for c in row.get("components", [])]


def card_of(stack: Stack) -> Message:
    cards = [m for m in stack.driver.messages("general") if m.embeds and m.custom_ids()]
    assert cards, "no party card in #general"
    return cards[0]


async def test_schedule_rsvp_move_and_cancel_tell_each_member_once(stack: Stack) -> None:
    driver = stack.driver
    scheduled = await driver.run_command(
        "party schedule",
        user="mod",
        what="Mdou Moctar — Afrique Victime",
        when="in 3 days",
        voice="party-voice",
        description="Bring headphones. @everyone welcome",
    )
    await scheduled.wait_done(within=10)
    assert (
        scheduled.ephemeral and "Scheduled **#1 Mdou Moctar — Afrique Victime**" in scheduled.text()
    )

    [event] = driver.scheduled_events()
    assert (event.entity_type, event.status) == (EXTERNAL, SCHEDULED)
    assert event.name == "Mdou Moctar — Afrique Victime" and event.location == "🔊 party-voice"
    assert event.description is not None and event.description.endswith("(Undercurrent party 1)")
    card = card_of(stack)
    assert labels(card)[:3] == ["Going · 0", "Maybe · 0", "Can't · 0"]
    assert not card.pings_anyone

    going = await driver.click_button(card, label="Going · 0", user="alice")
    await going.wait_done()
    assert labels(card_of(stack))[:3] == ["Going · 1", "Maybe · 0", "Can't · 0"]
    await driver.rsvp(event, user="bob")  # Interested on the Discord event counts as Going
    driver.user("bob").dms_open = False

    moved = await driver.run_command("party edit", user="mod", party=1, when="in 4 days")
    await moved.wait_done(within=10)
    assert "The 2 member(s) Going or Maybe get one DM saying the time changed." in moved.text()
    alice_dm = await driver.wait_for_dm("alice", lambda m: "has a new time" in m.content, within=10)
    assert "Mdou Moctar — Afrique Victime" in alice_dm.content
    mention = await driver.wait_for_message(
        "general", lambda m: "I couldn't DM you" in (m.content or ""), within=10
    )
    bob = driver.user("bob")
    assert f"<@{bob.id}>" in mention.content and [u.id for u in mention.pinged_users] == [bob.id]
    assert event.scheduled_start_time.isoformat() in {
        e.scheduled_start_time.isoformat() for e in driver.scheduled_events()
    }

    cancelled = await driver.run_command(
        "party cancel", user="mod", party=1, reason="power cut at the venue"
    )
    await cancelled.wait_done(within=10)
    assert "Cancelled **#1 Mdou Moctar — Afrique Victime**" in cancelled.text()
    await driver.wait_for_dm("alice", lambda m: "was cancelled" in m.content, within=10)
    await driver.wait_until(lambda: driver.scheduled_events()[0].status == CANCELED, within=10)
    final = card_of(stack)
    assert final.embeds[0]["description"].startswith("**Cancelled**: power cut at the venue")
    assert labels(final) == ["RSVPs closed"]

    def mentions() -> list[Message]:
        return [m for m in driver.messages("general") if "I couldn't DM you" in (m.content or "")]

    await driver.wait_until(lambda: len(mentions()) == 2, within=10, what="the second mention")
    assert "was cancelled" in mentions()[1].content
    await driver.settle()
    assert [m.content.split(" ")[0] for m in driver.dms("alice")] == ["🕘", "✖"]
    assert len(mentions()) == 2  # the move and the cancellation, once each


TRACKLIST = (
    "--- side A\nTassili 4:00 | the opener, loud\nYa Habibti 3:00\n--- side B\nChismiten 5:00"
)


async def schedule_with_tracklist(stack: Stack, when: str) -> None:
    driver = stack.driver
    scheduled = await driver.run_command(
        "party schedule", user="mod", what="Mdou Moctar — Afrique Victime", when=when
    )
    await scheduled.wait_done(within=10)
    form = await driver.run_command("party tracklist", user="mod", party=1)
    await form.wait_response()
    saved = await driver.submit_modal(form, user="mod", values={"part1": TRACKLIST})
    await saved.wait_done()
    assert "3 tracks, 12:00" in saved.text()


def reminders(stack: Stack, member: str) -> list[Message]:
    return [m for m in stack.driver.dms(member) if m.content.startswith("⏰")]


def closed_dm_mentions(stack: Stack) -> list[Message]:
    return [m for m in stack.driver.messages("general") if "I couldn't DM you" in (m.content or "")]


def thread_texts(stack: Stack) -> list[str]:
    [thread] = stack.driver.threads("general")
    return [m.content or "" for m in stack.driver.messages(thread)]


def markers(stack: Stack) -> list[str]:
    return [
        t.split("\n")[0]
        for t in thread_texts(stack)
        if t.startswith(("▶ **", "⏏")) and "Press play" not in t
    ]


async def until_markers(stack: Stack, count: int) -> None:
    await stack.driver.wait_until(
        lambda: len(markers(stack)) >= count or None, within=15, what=f"{count} markers"
    )


async def test_a_party_reminds_runs_track_by_track_in_its_thread_and_is_remembered(
    stack: Stack,
) -> None:
    driver = stack.driver
    await stack.bot.wait_for_log(r"Ready as ")
    await schedule_with_tracklist(stack, "in 2 days")
    [event] = driver.scheduled_events()
    start = event.scheduled_start_time
    going = await driver.click_button(card_of(stack), label="Going · 0", user="alice")
    await going.wait_done()
    maybe = await driver.click_button(card_of(stack), label="Maybe · 0", user="owner")
    await maybe.wait_done()
    await driver.rsvp(event, user="bob")  # Interested: counts as Going
    driver.close_dms("owner")

    # 24 hours before: a DM each to Going and Maybe; the member with closed DMs is mentioned.
    await driver.advance(start - driver.now() - timedelta(hours=24) + timedelta(seconds=1))
    for member in ("alice", "bob"):
        reminder = await driver.wait_for_dm(member, lambda m: m.content.startswith("⏰"), within=10)
        assert "Mdou Moctar — Afrique Victime" in reminder.content
        assert "Stop party reminders" in labels(reminder)
    mention = await driver.wait_for_message(
        "general", lambda m: "I couldn't DM you" in (m.content or ""), within=10
    )
    assert [u.username for u in mention.pinged_users] == ["owner"]
    assert labels(card_of(stack))[:3] == ["Going · 2", "Maybe · 1", "Can't · 0"]

    # 15 minutes before: the second reminder, once each again.
    await driver.advance(start - driver.now() - timedelta(minutes=15) + timedelta(seconds=1))
    for member in ("alice", "bob"):
        await driver.wait_until(
            lambda m=member: len(reminders(stack, m)) == 2 or None,  # type: ignore[misc]
            within=10,
            what=f"{member}'s second reminder",
        )
    await driver.wait_until(lambda: len(closed_dm_mentions(stack)) == 2 or None, within=10)

    # The start: the event goes live by itself, the thread opens on the card, the countdown.
    await driver.advance(start - driver.now() + timedelta(seconds=1))
    await driver.wait_until(lambda: driver.threads("general") or None, within=10, what="thread")
    await driver.wait_until(
        lambda: any("Press play in 10 s" in t for t in thread_texts(stack)) or None, within=10
    )
    assert driver.scheduled_events()[0].status == 2  # ACTIVE
    await driver.advance(10)
    await until_markers(stack, 1)
    assert markers(stack) == ["▶ **1/3** · Tassili · 4:00"]
    assert "> the opener, loud" in thread_texts(stack)[-1]
    [thread] = driver.threads("general")
    await driver.send_message("that riff!!", user="alice", channel=thread)

    await driver.advance(4 * 60)
    await until_markers(stack, 2)
    second = next(m for m in driver.messages(thread) if (m.content or "").startswith("▶ **2/3**"))
    for member in ("alice", "bob"):
        await driver.react(second, "🔥", user=member)
    now = await driver.run_command("party now", user="bob")
    await now.wait_done()
    assert "2/3** · Ya Habibti" in now.text() and "Next: Chismiten" in now.text()

    # The host pauses for two minutes: nothing is posted meanwhile; resuming moves the rest on.
    await driver.advance(60)
    paused = await driver.run_command("party pause", user="mod")
    await paused.wait_done()
    assert paused.text().startswith("Paused")
    await driver.advance(2 * 60 + 30)
    await driver.settle()
    assert len(markers(stack)) == 2
    resumed = await driver.run_command("party resume", user="mod")
    await resumed.wait_done()
    assert resumed.text().startswith("Resumed")

    # The rest of track 2: side A is over, turn the record. A few seconds to spare: the pause
    # and resume are stored in whole seconds, rounded up, so the held time can be a second more.
    await driver.advance(2 * 60 + 5)
    await until_markers(stack, 3)
    await driver.advance(30)
    await until_markers(stack, 4)
    assert markers(stack) == [
        "▶ **1/3** · Tassili · 4:00",
        "▶ **2/3** · Ya Habibti · 3:00",
        "⏏ **Side A is over**: turn the record. Side B starts "
        + markers(stack)[2].split("starts ", 1)[1],
        "▶ **3/3** · Chismiten · 5:00",
    ]

    # The end: the recap, kept in the thread; the thread archived; the card says it is over.
    await driver.advance(5 * 60)
    recap = await driver.wait_for_message(
        thread,
        lambda m: bool(m.embeds) and m.embeds[0].get("title", "").startswith("Recap"),
        within=15,
    )
    fields = {f["name"]: f["value"] for f in recap.embeds[0]["fields"]}
    assert fields["Most reactions"] == "▶ 2 · Ya Habibti (2)"
    assert fields["In the thread"] == "1 member wrote along"
    assert fields["Going (2)"].count("<@") == 2
    assert "**1.** the opener, loud" in fields["The host's notes"]
    await driver.wait_until(lambda: driver.threads("general")[0].archived or None, within=10)
    await driver.wait_until(
        lambda: "The party is over" in card_of(stack).embeds[0]["description"] or None, within=10
    )

    replay = await driver.run_command("party replay", user="bob", party=1)
    await replay.wait_done()
    assert replay.ephemeral and replay.embeds[0]["title"].startswith("Recap")
    history = await driver.run_command("party history", user="bob")
    await history.wait_done()
    assert "**#1** Mdou Moctar — Afrique Victime" in history.text()
    # Every reminder and marker exactly once.
    assert len(reminders(stack, "alice")) == len(reminders(stack, "bob")) == 2
    assert len(closed_dm_mentions(stack)) == 2
    assert len(markers(stack)) == 4


async def test_without_create_events_the_party_works_and_the_host_is_told(
    tmp_path: Path,
) -> None:
    everything_but_events = Permission(0)
    for name in ("VIEW_CHANNEL", "SEND_MESSAGES", "SEND_MESSAGES_IN_THREADS", "EMBED_LINKS",
                 "READ_MESSAGE_HISTORY", "CREATE_PUBLIC_THREADS"):  # fmt: skip
        everything_but_events |= Permission[name]
    world = World.default(bot_permissions=everything_but_events)
    everyone = world.guild.everyone  # Discord's default @everyone may create events too
    everyone.permissions &= ~(Permission.CREATE_EVENTS | Permission.MANAGE_EVENTS)
    async with Emulator(world) as emulator, bot_stack(emulator, tmp_path) as stack:
        scheduled = await stack.driver.run_command(
            "party schedule", user="mod", what="Kas Product — Try Out", when="in 2 days"
        )
        await scheduled.wait_done(within=10)
        assert "I need the **Create Events** (or Manage Events) permission" in scheduled.text()
        assert stack.driver.scheduled_events() == []
        assert labels(card_of(stack))[:3] == ["Going · 0", "Maybe · 0", "Can't · 0"]


async def test_the_101st_event_is_refused_clearly_and_nothing_is_scheduled(
    tmp_path: Path,
) -> None:
    world = World.default()
    guild = world.guild
    start = world.now() + timedelta(days=3)
    for n in range(100):
        event_id = world.new_id()
        guild.scheduled_events[event_id] = ScheduledEvent(
            id=event_id, guild_id=guild.id, creator=world.user_named("owner"),
            name=f"Event {n}", scheduled_start_time=start, entity_type=3,
            scheduled_end_time=start + timedelta(hours=1), location="somewhere",
        )  # fmt: skip
    async with Emulator(world) as emulator, bot_stack(emulator, tmp_path) as stack:
        refused = await stack.driver.run_command(
            "party schedule", user="mod", what="Kas Product — Try Out", when="in 2 days"
        )
        await refused.wait_done(within=10)
        assert refused.ephemeral
        assert "This server has 100 scheduled events, Discord's limit is 100" in refused.text()
        assert [m for m in stack.driver.messages("general") if m.embeds] == []
        upcoming = await stack.driver.run_command("party list", user="mod")
        await upcoming.wait_done()
        assert "No parties are scheduled" in upcoming.text()
