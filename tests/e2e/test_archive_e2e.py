"""The archive end to end, in the real bot process: share → card → Loved it → search → restart →
the card's buttons still work."""

from __future__ import annotations

import sqlite3
from typing import Any

from tests.e2e.conftest import Stack


def button_labels(message: Any) -> list[str]:
    return [c.get("label", "") for row in message.components for c in row.get("components", [])]


async def test_share_love_search_restart_and_the_button_still_works(stack: Stack) -> None:
    driver = stack.driver
    shared = await driver.run_command(
        "rec share",
        user="alice",
        artist="Kas Product",
        title="Try Out",
        link="https://kasproduct.bandcamp.com/album/try-out?from=discover_page",
        subgenres="Minimal Synth, cold wave",
        country="France",
        year=1982,
        note="@everyone this is the one",
    )
    await shared.wait_response()
    card = shared.original
    assert card is not None and not shared.ephemeral
    assert card.embeds[0]["title"] == "Kas Product — Try Out"
    assert card.embeds[0]["url"] == "https://kasproduct.bandcamp.com/album/try-out"
    assert button_labels(card) == ["Heard it · 0", "Loved it · 0", "Listen on Bandcamp"]
    assert not card.pings_anyone  # "@everyone" in the note pings nobody

    loved = await driver.click_button(card, label="Loved it · 0", user="bob")
    await loved.wait_done()
    assert button_labels(driver.messages("general")[-1]) == [
        "Heard it · 0",
        "Loved it · 1",
        "Listen on Bandcamp",
    ]

    found = await driver.run_command("archive search query:kas", user="bob")
    await found.wait_response()
    assert found.ephemeral
    assert "**#1** Kas Product — Try Out" in found.text()
    filtered = await driver.run_command(
        "archive search country:France subgenre:cold-wave year_from:1978 year_to:1991", user="bob"
    )
    await filtered.wait_response()
    assert "**#1** Kas Product — Try Out" in filtered.text()
    elsewhere = await driver.run_command("archive search country:FR year_from:1990", user="bob")
    await elsewhere.wait_response()
    assert (
        "Kas Product" not in elsewhere.text()
        and "Nothing in the archive matches" in elsewhere.text()
    )

    await stack.bot.restart()
    card = driver.messages("general")[-1]
    heard = await driver.click_button(card, custom_id="uc:pick:heard:1", user="alice")
    await heard.wait_done()
    assert button_labels(driver.messages("general")[-1]) == [
        "Heard it · 1",
        "Loved it · 1",
        "Listen on Bandcamp",
    ]


async def test_duplicate_share_is_private_and_posts_nothing(stack: Stack) -> None:
    driver = stack.driver
    first = await driver.run_command("rec share", user="alice", artist="Ruth", title="Polaroid")
    await first.wait_response()
    before = len(driver.messages("general"))
    again = await driver.run_command("rec share", user="bob", artist="RUTH", title="polaroïd!")
    await again.wait_response()
    assert again.ephemeral
    assert "already in the archive as #1" in again.content
    assert len(driver.messages("general")) == before


async def test_a_pick_with_every_field_at_its_limit_still_fits_discords_limits(
    stack: Stack,
) -> None:
    driver = stack.driver
    long_word = "ж" * 200  # non-ASCII on purpose: limits count characters
    shared = await driver.run_command(
        "rec share",
        user="alice",
        artist=long_word,
        title="t" * 200,
        link="https://example.org/" + "p" * 480,
        subgenres=", ".join(f"{'g' * 30}{n}" for n in range(8)),
        label="l" * 100,
        year=1999,
        country="Mali",
        city="c" * 100,
        format="cassette",
        note="\n".join(["n" * 99] * 10),
    )
    await shared.wait_response()
    assert shared.original is not None and not shared.ephemeral  # the emulator validated the card
    shown = await driver.run_command("archive show id:1", user="bob")
    await shown.wait_response()
    assert shown.ephemeral and shown.embeds
    assert stack.emulator.recorder.server_errors() == []


async def test_digging_pages_autocomplete_random_and_suggestions(stack: Stack) -> None:
    driver = stack.driver
    for n in range(11):
        shared = await driver.run_command(
            "rec share",
            user="alice",
            artist=f"Groupe {n}",
            title="Cassette",
            country="Niger" if n else "Mali",
            subgenres="desert blues",
        )
        await shared.wait_response()

    offered = await driver.autocomplete("archive search", user="bob", focused="country", value="")
    assert [c["value"] for c in offered][:2] == ["NE", "ML"]  # this server's, most used first

    found = await driver.run_command("archive search", user="bob", country="NE")
    await found.wait_response()
    assert found.ephemeral and "10 results for country Niger · page 1 of 1" in found.text()
    everything = await driver.run_command("archive search query:cassette", user="bob")
    await everything.wait_response()
    assert "page 1 of 2" in everything.text()
    page = everything.original
    assert page is not None
    turned = await driver.click_button(page, label="Next", user="bob")
    await turned.wait_done()
    assert "page 2 of 2" in everything.text() and everything.text().count("**#") == 1

    dug = await driver.run_command("archive random", user="bob", country="ML")
    await dug.wait_response()
    assert dug.ephemeral and dug.embeds[0]["title"] == "Groupe 0 — Cassette"
    assert dug.original is not None
    heard = await driver.click_button(dug.original, custom_id="uc:pick:heard:1", user="bob")
    await heard.wait_done()
    again = await driver.run_command("archive random", user="bob", country="ML")
    await again.wait_response()
    assert again.content.startswith("Nothing left to dig up")

    typo = await driver.run_command("archive search query:desrt", user="bob")
    await typo.wait_response()
    assert "Closest existing: subgenre `desert-blues`." in typo.text()
    assert stack.emulator.recorder.server_errors() == []


async def test_a_share_whose_answer_is_lost_still_has_exactly_one_linked_card(
    stack: Stack,
) -> None:
    """Discord posts the card, but its reply to the bot is lost: discord.py retries, is told the
    interaction was already answered, and the bot finds its card in the channel and links it
    instead of taking the pick back (which left a card with dead buttons)."""
    stack.emulator.faults.lose_reply(
        "/interactions/{interaction_id}/{token}/callback", method="POST"
    )
    shared = await stack.driver.run_command(
        "rec share", user="alice", artist="Kas Product", title="Try Out"
    )
    await shared.wait_response()
    general = stack.driver.messages("general")
    assert [m.custom_ids()[0] for m in general] == ["uc:pick:heard:1"]
    await stack.bot.wait_for_log(r"Outbox pick:1:card: found message \d+ already posted")
    with sqlite3.connect(stack.database_path) as conn:
        linked = conn.execute("SELECT message_id FROM picks WHERE id = 1").fetchone()
    assert linked == (general[0].id,)
