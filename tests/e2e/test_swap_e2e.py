"""Swap rounds end to end, in the real bot process against the emulator and its clock: open →
four members join with the form → pairing DMs (a member with closed DMs uses the card's button)
→ reviews → a reminder only to the one who hasn't reviewed → the reveal thread, the picks in the
archive with their reviews."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sandbox.model import Message
from tests.e2e.conftest import Stack

PICKS = {
    "alice": ("Mdou Moctar", "Afrique Victime", "NE"),
    "bob": ("Kas Product", "Try Out", "FR"),
    "mod": ("Grouper", "Ruins", "US"),
    "owner": ("Moin", "Moot!", "GB"),
}


def labels(message: Any) -> list[str]:
    return [c.get("label", "") for row in message.components for c in row.get("components", [])]


def card_of(stack: Stack) -> Message:
    return next(m for m in stack.driver.messages("general") if "uc:swap:join:1" in m.custom_ids())


def assignment_dms(stack: Stack, member: str) -> list[Message]:
    return [m for m in stack.driver.dms(member) if m.content.startswith("🔁")]


async def join(stack: Stack, member: str) -> None:
    driver = stack.driver
    artist, title, country = PICKS[member]
    form = await driver.click_button(card_of(stack), label="Join", user=member)
    await form.wait_response()
    assert form.modal is not None
    joined = await driver.submit_modal(
        form, user=member, values={"artist": artist, "title": title, "note": f"{member} loves it"}
    )
    await joined.wait_done()
    assert joined.ephemeral and f"You're in with **{artist} — {title}**" in joined.text()
    details = await driver.click_button(
        joined.original, label="Add label, year, place and format", user=member
    )
    await details.wait_response()
    saved = await driver.submit_modal(details, user=member, values={"country": country})
    await saved.wait_done()
    assert "You now bring" in saved.text()


async def test_open_join_pair_review_remind_and_reveal(stack: Stack) -> None:
    driver = stack.driver
    await stack.bot.wait_for_log(r"Ready as ")
    opened = await driver.run_command(
        "swap open",
        user="mod",
        theme="A record from a city you've never been to",
        join_until="in 2 days",
        review_until="in 9 days",
        mode="cross-scene",
    )
    await opened.wait_done(within=10)
    assert "Opened swap round **#1" in opened.text()
    assert labels(card_of(stack)) == ["Join", "Leave"]
    for member in PICKS:
        await join(stack, member)
    await driver.wait_until(
        lambda: "4" in [f["value"] for f in card_of(stack).embeds[0]["fields"]] or None
    )
    # Nobody sees the swap picks in the archive before the reveal.
    search = await driver.run_command("archive search query:moctar", user="owner")
    await search.wait_done()
    assert "Mdou Moctar" not in search.text()

    driver.close_dms("bob")
    await driver.advance(timedelta(days=2, seconds=1))
    for member in ("alice", "mod", "owner"):
        await driver.wait_until(
            lambda m=member: assignment_dms(stack, m) or None,  # type: ignore[misc]
            within=15,
            what=f"{member}'s assignment",
        )
    await driver.wait_until(lambda: "Show my assignment" in labels(card_of(stack)) or None)
    mine = await driver.click_button(card_of(stack), label="Show my assignment", user="bob")
    await mine.wait_done()
    assert mine.ephemeral and mine.embeds and mine.embeds[0]["title"].startswith("Your swap")
    given_to_bob = mine.embeds[0]["description"]
    assert "Kas Product" not in given_to_bob  # nobody gets their own
    assert "loves it" in given_to_bob and "<@" not in given_to_bob  # anonymous: no giver named

    for member, rating in (("alice", 5), ("bob", 4), ("owner", 3)):
        reviewed = await driver.run_command(
            "swap review", user=member, rating=rating, favourite_track="the second one"
        )
        await reviewed.wait_done()
        assert reviewed.text().startswith("Saved your review of")

    # 24 hours before the reveal: a reminder to the one who hasn't reviewed, and only to them.
    await driver.advance(timedelta(days=6))
    await driver.wait_until(
        lambda: any(m.content.startswith("⏰") for m in driver.dms("mod")) or None, within=15
    )
    await driver.settle()
    assert not any(m.content.startswith("⏰") for m in driver.dms("alice") + driver.dms("owner"))

    await driver.advance(timedelta(days=1, seconds=1))
    thread = await driver.wait_until(lambda: driver.threads("general") or None, within=15)
    await driver.wait_until(
        lambda: any(m.embeds for m in driver.messages(thread[0])) or None, within=15
    )
    texts = [m.content or "" for m in driver.messages(thread[0])]
    pairs = [t for t in texts if " → " in t]
    assert len(pairs) == 4 and sum("No review." in t for t in pairs) == 1
    summary = next(m for m in driver.messages(thread[0]) if m.embeds).embeds[0]
    fields = {f["name"]: f["value"] for f in summary["fields"]}
    assert fields["Reviewed"] == "3 of 4" and fields["Average rating"] == "4.0 / 5"
    assert fields["Borders"].startswith("4 of 4 pairs crossed a border")

    found = await driver.run_command("archive search query:moctar", user="owner")
    await found.wait_done()
    assert "Mdou Moctar — Afrique Victime" in found.text()
    # The pick alice was given (and reviewed) shows her review in the archive.
    given_to_alice = assignment_dms(stack, "alice")[0].embeds[0]["description"]
    artist = given_to_alice.split("**", 2)[1].split(" — ")[0]
    found = await driver.run_command("archive search", user="owner", query=artist)
    await found.wait_done()
    pick_id = int(found.text().split("**#", 1)[1].split("**", 1)[0])
    shown = await driver.run_command("archive show", user="owner", id=pick_id)
    await shown.wait_done()
    reviews = next(f for f in shown.embeds[0]["fields"] if f["name"].startswith("Swap reviews"))
    assert "favourite: the second one" in reviews["value"]
    history = await driver.run_command("swap history", user="owner")
    await history.wait_done()
    assert "A record from a city" in str(history.embeds)
    # Each DM once.
    assert all(len(assignment_dms(stack, m)) == 1 for m in ("alice", "mod", "owner"))
