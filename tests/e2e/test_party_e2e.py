"""Listening parties end to end, in the real bot process against the emulator: the card and the
Discord event, RSVPs by button and by Interested, a new time and a cancellation told once to
each member (by DM, or mentioned when their DMs are closed)."""

from __future__ import annotations

from typing import Any

from sandbox.model import Message
from tests.e2e.conftest import Stack

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
    assert "Everyone Going or Maybe gets one DM" in moved.text()
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
