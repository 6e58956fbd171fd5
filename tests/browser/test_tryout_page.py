"""The try-out page in headless Chromium, as a person uses it: the real bot behind the local
Discord with the demo server (*Low Light Listening*), one try-out for the module.

Each test opens the page afresh and acts only through it: the member switcher, the channel list,
the composer's slash commands with the bot's autocomplete, buttons, forms and the clock. The
tests share one world: each acts as its own members on its own things, those that move the
clock run after those that need the world as it was set up, and the one that adds members last. Screenshots of each view are saved (see ``conftest``).
"""

from __future__ import annotations

import re

from tests.browser.page import TryoutPage, count_on

DEMO_PARTY = "Cocteau Twins — Heaven or Las Vegas"
SHARED_CARD = ("Pram — Sargasso Sea", "/archive show")
PARTY_CARD = ("Slowdive — Souvlaki", "RSVPs")
DIGEST = "The week in Low Light Listening"


def count(page: TryoutPage, label: str, *message: str) -> int:
    """The count on a button (``Loved it · 1``) of the latest message showing ``message``."""
    return count_on(label, page.button_text(label, *message))


def test_the_page_opens_on_the_demo_server_with_the_bot_online(page: TryoutPage) -> None:
    assert page.guild_name() == "Low Light Listening"
    assert page.bot_status() == "bot online"
    assert page.current_member() == "wren"  # the first plain member
    members = page.members()
    assert {"juno (owner)", "ines (moderator)", "wren", "tomas", "kenji"} <= set(members)
    channels = page.channel_names()
    assert channels[:4] == ["general", "recs", "parties", "digests"]
    assert "mod-log" not in channels  # only moderators see it
    assert page.chat_title() == "general"
    page.wait_for_message("Swap round", "Review until")
    # What the bot answered privately while the demo was set up is not left for a visitor.
    assert page.ephemeral_messages() == []  # wren joined the swap here
    assert "Scheduled" in page.event_card(DEMO_PARTY)

    commands = page.command_list("/")
    assert {"/rec share", "/archive search", "/party schedule"} <= set(commands)
    page.screenshot("01-general-with-commands")

    page.act_as("ines")
    assert "mod-log" in page.channel_names()
    page.wait_for_message("Swap round", "Review until")
    assert page.ephemeral_messages() == []  # ines set the server up from here

    page.act_as("lea")
    assert "0 interested" in page.event_card(DEMO_PARTY)
    page.click_interested(DEMO_PARTY)
    page.wait_for(lambda d: "1 interested" in page.event_card(DEMO_PARTY), "1 interested")
    assert "✓ Interested" in page.event_card(DEMO_PARTY)


def test_a_member_shares_a_pick_and_another_marks_it_loved(page: TryoutPage) -> None:
    page.act_as("adaeze")
    page.open_channel("recs")
    page.start_command("rec share")
    page.fill_option("artist", "Pram")
    page.fill_option("title", "Sargasso Sea")
    page.suggestions("subgenres", "dream", expected="dream-pop")
    page.pick_suggestion("subgenres", "dream-pop")
    page.fill_option("label", "Too Pure")
    page.fill_option("year", "1995")
    page.suggestions("country", "United K", expected="United Kingdom")
    page.pick_suggestion("country", "United Kingdom")
    page.send()

    card = page.wait_for_message(*SHARED_CARD)
    assert "Adaeze" in card and "used" in card and "/rec share" in card
    assert "Too Pure" in card and "1995" in card and "dream-pop" in card
    assert count(page, "Loved it", *SHARED_CARD) == 0
    page.show_message(*SHARED_CARD)
    page.screenshot("02-shared-pick-card")

    page.act_as("lea")
    page.click_button("Loved it", *SHARED_CARD)
    page.wait_for(lambda d: count(page, "Loved it", *SHARED_CARD) == 1, "Loved it to count 1")
    page.wait_for_message("Marked: loved it", ephemeral=True)
    page.show_message(*SHARED_CARD)
    page.screenshot("03-loved-it")

    page.click_button("Loved it", *SHARED_CARD)  # again: undone
    page.wait_for(lambda d: count(page, "Loved it", *SHARED_CARD) == 0, "Loved it back to 0")


def test_archive_search_with_the_bots_autocomplete(page: TryoutPage) -> None:
    page.act_as("tomas")
    page.open_channel("recs")
    page.start_command("archive search")
    offered = page.suggestions("subgenre", "shoe", expected="shoegaze")
    assert all("shoe" in label for label in offered), offered
    page.screenshot("04-search-autocomplete")
    assert page.pick_suggestion("subgenre", "shoegaze").startswith("shoegaze")
    page.suggestions("country", "United K", expected="United Kingdom")
    page.pick_suggestion("country", "United Kingdom")
    page.send()

    found = "results for subgenre shoegaze, country United Kingdom"
    results = page.wait_for_message("Archive search", found, ephemeral=True)
    assert "Only you can see this" in results
    lines = results.splitlines()
    entries = [i for i, line in enumerate(lines) if re.match(r"#\d+ ", line)]
    assert entries and "Slowdive — Souvlaki" in results
    assert all("United Kingdom" in lines[i + 1] for i in entries), results
    page.screenshot("05-search-results")
    if "page 1 of 1" not in results:
        page.click_button("Next", "Archive search", found)
        page.wait_for_message("Archive search", found, "page 2 of", ephemeral=True)


def test_a_member_reviews_their_swap_pick_in_a_form(page: TryoutPage) -> None:
    page.act_as("kenji")  # paired in the demo round, which is in its review phase
    page.open_channel("general")
    reviewed_before = page.embed_field("Reviewed", "Swap round", "Review until")
    page.click_button("Review", "Swap round", "Review until")
    assert page.form_title().startswith("Review:")
    assert page.form_labels()[0].startswith("Rating, 1 to 5")
    page.screenshot("06-review-form")

    page.submit_form()  # empty: the page checks the required field as Discord does
    assert "required" in page.form_error()
    page.form_input("Rating").send_keys("4")
    page.form_input("Favourite track").send_keys("The second side")
    page.form_input("What you heard").send_keys("Cold and warm at once; the drum machine breathes.")
    page.submit_form()
    page.wait_for_form_to_close()
    page.wait_for_message("Saved your review", "★★★★", ephemeral=True)

    page.wait_for(
        lambda d: page.embed_field("Reviewed", "Swap round", "Review until") != reviewed_before,
        "the swap card to count the review",
    )
    assert page.embed_field("Reviewed", "Swap round", "Review until").startswith("1 of")
    page.screenshot("07-review-submitted")


def test_a_moderator_schedules_a_party_and_skipping_ahead_brings_reminder_and_markers(
    page: TryoutPage,
) -> None:
    page.act_as("ines")
    page.open_channel("parties")
    page.start_command("party schedule")
    page.suggestions("what", "Souvlaki", expected="Slowdive — Souvlaki")
    page.pick_suggestion("what", "Slowdive — Souvlaki")
    page.fill_option("when", "in 30 minutes")
    page.send()
    page.wait_for_message("Scheduled", "Slowdive — Souvlaki", ephemeral=True)
    page.wait_for_message(*PARTY_CARD)
    assert "Scheduled" in page.event_card("Slowdive — Souvlaki")
    page.show_message(*PARTY_CARD)
    page.screenshot("08-party-scheduled")

    page.act_as("wren")
    page.click_button("Going", *PARTY_CARD)
    page.wait_for(lambda d: count(page, "Going", *PARTY_CARD) == 1, "Going to count 1")

    page.open_dm()
    reminder = ("⏰", "Slowdive — Souvlaki", "starts")
    page.skip_ahead_until(lambda: page.has_message(*reminder), "the party's reminder DM")
    dm = page.wait_for_message(*reminder)
    assert "Low Light Listening" in dm and "Stop party reminders" in dm
    page.screenshot("09-reminder-dm")

    # Skipping on, the demo party starts: its thread, under #parties, has the track markers.
    page.skip_ahead_until(
        lambda: any(DEMO_PARTY in name for name in page.channel_names()), "the demo party's thread"
    )
    page.open_channel(DEMO_PARTY)
    page.skip_ahead_until(
        lambda: page.has_message("2/5", "Pitch the Baby"), "the second track's marker"
    )
    page.wait_for_message("1/5", "Cherry-coloured Funk")
    page.wait_for_message("2/5", "Pitch the Baby")
    page.screenshot("10-party-thread-markers")

    now = page.sandbox.clock()["now"]
    page.add_hour()
    assert page.sandbox.clock()["now"] - now >= 3600
    page.wait_for(
        lambda d: "Scheduled" not in page.event_card("Slowdive — Souvlaki"),
        "the party's event to start (+1 h is past its start)",
    )


def test_skipping_ahead_brings_the_weekly_digest_with_its_chart(page: TryoutPage) -> None:
    page.act_as("ines")
    page.open_channel("digests")
    page.skip_ahead_until(lambda: page.has_message(DIGEST), "the weekly digest")
    digest = page.wait_for_message(DIGEST)
    assert "Undercurrent" in digest and "picks shared by" in digest
    # The chart is the digest's own file, served by the local Discord at its keyed address.
    page.wait_for(
        lambda d: (widths := page.image_widths(DIGEST)) and 0 not in widths,
        "the digest's chart to load",
    )
    page.show_message(DIGEST, block="start")
    page.screenshot("11-digest")

    # The times shown follow the world's clock: a day on, the digest is no longer today's.
    page.add_day()
    page.wait_for(
        lambda d: not page.message_time(DIGEST).startswith("Today"),
        "the digest's time to be read against the world's new date",
    )


def test_the_switcher_names_four_members_and_keeps_the_rest_in_a_menu(page: TryoutPage) -> None:
    everyone = page.members()
    assert len(everyone) == 7  # the demo's people
    assert page.members_in_the_bar() == ["juno (owner)", "ines (moderator)", "wren", "tomas"]
    assert page.more_members() == "3 more ▾"
    assert page.open_member_menu() == ["adaeze", "kenji", "lea", "+ add a member"]
    page.screenshot("01b-member-menu")

    page.act_as("lea")  # from the menu: the menu closes, and lea is named in the bar
    assert not page.member_menu_is_open()
    assert page.members_in_the_bar() == ["juno (owner)", "ines (moderator)", "wren", "lea"]
    assert page.open_member_menu() == ["tomas", "adaeze", "kenji", "+ add a member"]
    page.act_as("tomas")
    assert page.members_in_the_bar()[-1] == "tomas"

    # However many join, the bar keeps to one line, the newcomers in the menu.
    for name in ("mireille", "oskar_b", "sunniva"):
        page.add_member(name)
        assert page.members_in_the_bar()[-1] == name and page.top_bar_is_one_line()
    assert page.more_members() == "6 more ▾"
    assert len(page.members()) == len(everyone) + 3
    page.screenshot("01c-members-added")
