"""/rec share and /archive through the real command tree (simcord)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import simcord

from bot.client import UndercurrentBot
from bot.domain.search import SearchFilters
from bot.errors import UserError
from bot.services import archive_search
from bot.services import picks as picks_service
from tests.cogs.conftest import Server, restarted_bot
from tests.fakes import FakeClock

KAS = {
    "artist": "Kas Product",
    "title": "Try Out",
    "link": "https://kasproduct.bandcamp.com/album/try-out?from=discover_page",
    "subgenres": "Minimal Synth, cold wave",
    "label": "RCA",
    "year": 1982,
    "country": "France",
    "city": "Nancy",
    "format": "vinyl",
    "note": "Spatial and cold. @everyone should hear it",
}


async def share_kas(server: Server) -> simcord.InteractionResult:
    return await server.member.slash(server.channel, "rec share", **KAS)


async def test_share_posts_a_card_with_buttons_and_stores_the_pick(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    result = await share_kas(server)
    assert result.response is not None and not result.ephemeral
    card = result.response.embeds[0]
    assert card.title == "Kas Product — Try Out"
    assert card.url == "https://kasproduct.bandcamp.com/album/try-out"
    assert card.description is not None
    assert "RCA · 1982 · Nancy, France · vinyl" in card.description
    assert "`minimal-synth` `cold-wave`" in card.description
    assert (
        f"> Spatial and cold. @everyone should hear it\n— <@{server.member.id}>" in card.description
    )
    labels = [c["label"] for row in result.response.components for c in row["components"]]
    assert labels == ["Heard it · 0", "Loved it · 0", "Listen on Bandcamp"]

    pick = await picks_service.get_live_pick(simcord_bot.db, server.guild.id, 1)
    assert pick.message_id == result.response.id and pick.channel_id == server.channel.id
    assert (
        pick.jump_url()
        == f"https://discord.com/channels/{server.guild.id}/{server.channel.id}/{result.response.id}"
    )
    callback = next(r for r in server.env.http_requests if r.path.endswith("/callback"))
    assert callback.json["data"]["allowed_mentions"] == {
        "parse": []
    }  # @everyone in the note pings nobody


async def test_loved_it_toggles_and_updates_the_count(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    card = (await share_kas(server)).response
    assert card is not None
    clicked = await server.moderator.click(card, custom_id="uc:pick:loved:1")
    assert clicked.acknowledged
    message = server.channel.last_message
    assert message is not None
    labels = [child.label for row in message.components for child in row.children]  # type: ignore[attr-defined]
    assert labels[:2] == ["Heard it · 0", "Loved it · 1"]
    assert clicked.followups[-1].content == "Marked: loved it. Click again to undo."
    await server.moderator.click(message, custom_id="uc:pick:loved:1")
    pick = await picks_service.get_live_pick(simcord_bot.db, server.guild.id, 1)
    assert pick.loved == 0


async def test_buttons_work_after_a_restart(
    server: Server, simcord_bot: UndercurrentBot, db_path: Path, clock: FakeClock
) -> None:
    card = (await share_kas(server)).response
    assert card is not None
    async with restarted_bot(server.env, db_path, clock) as fresh:
        clicked = await server.member.click(
            server.channel.last_message, custom_id="uc:pick:heard:1"
        )
        assert clicked.acknowledged
        pick = await picks_service.get_live_pick(fresh.db, server.guild.id, 1)
        assert pick.heard == 1


async def test_duplicate_is_refused_privately_and_can_be_seconded(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    await share_kas(server)
    again = await server.moderator.slash(
        server.channel, "rec share", artist="KAS PRODUCT", title="try out!", note="my favourite"
    )
    assert again.ephemeral and again.response is not None
    assert "is already in the archive as #1" in again.response.content
    assert f"shared by <@{server.member.id}>" in again.response.content
    assert "[See the card](https://discord.com/channels/" in again.response.content
    seconded = await server.moderator.click(again.response, label="Add my note as a second")
    assert seconded.acknowledged
    details = await picks_service.pick_details(simcord_bot.db, server.guild.id, 1)
    assert [(s.user_id, s.note) for s in details.seconds] == [(server.moderator.id, "my favourite")]
    assert (
        await archive_search.search_archive(
            simcord_bot.db,
            server.guild.id,
            SearchFilters(),
            1,
            simcord_bot.clock.now(),
        )
    ).total == 1


async def test_bad_link_is_a_private_error_and_nothing_is_posted(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    result = await server.member.slash(
        server.channel, "rec share", artist="A", title="B", link="javascript:alert(1)"
    )
    assert result.ephemeral and result.response is not None
    assert (
        result.response.content
        == "**link**: Only web links (http:// or https://) can be shared, not `javascript:`."
    )
    simcord.assert_error(server.env, UserError)
    assert server.channel.last_message is None


async def test_subgenre_autocomplete_offers_existing_tags_most_used_first(server: Server) -> None:
    await share_kas(server)
    await server.member.slash(
        server.channel,
        "rec share",
        artist="Oppenheimer Analysis",
        title="New Mexico",
        subgenres="minimal synth",
    )
    choices = await server.member.autocomplete(server.channel, "rec share", "subgenres", "")
    assert [c["value"] for c in choices][:2] == ["minimal-synth", "cold-wave"]
    partial = await server.member.autocomplete(
        server.channel, "rec share", "subgenres", "minimal synth, co"
    )
    assert partial[0]["value"] == "minimal synth, cold-wave"
    listed = await server.member.autocomplete(
        server.channel, "rec share", "subgenres", "Minimal Synth, "
    )
    assert [c["value"] for c in listed] == ["Minimal Synth, cold-wave"]  # not listed twice

    # A long list: a tag that would not fit Discord's 100 characters is not offered (picking it
    # would store it cut short), and what is offered shows the tag, not the start of the list.
    long_list = "experimental-electronic, post-punk-revival, ethereal-wave, darkwave, zolo, "
    near_full = await server.member.autocomplete(
        server.channel, "rec share", "subgenres", long_list + "c"
    )
    assert [c["value"] for c in near_full] == [long_list.strip() + " cold-wave"]
    assert near_full[0]["name"].endswith("darkwave, zolo, cold-wave (1)")
    assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in near_full)
    too_long = long_list + "more-words-to-fill-the-option, m"
    assert (
        await server.member.autocomplete(server.channel, "rec share", "subgenres", too_long) == []
    )

    # The search and random filters take one subgenre: no lists there.
    single = await server.member.autocomplete(server.channel, "archive search", "subgenre", "syn")
    assert single == [{"name": "minimal-synth (2)", "value": "minimal-synth"}]
    typed_comma = await server.member.autocomplete(
        server.channel, "archive random", "subgenre", "cold, wa"
    )
    assert [c["value"] for c in typed_comma] == ["cold-wave"]


async def test_search_show_and_lineage(server: Server) -> None:
    await share_kas(server)
    await server.member.slash(
        server.channel,
        "rec share",
        artist="Martin Dupont",
        title="Just Because",
        subgenres="minimal synth",
        country="FR",
        year=1987,
    )
    await server.member.slash(
        server.channel, "archive link", from_id=2, to_id=1, relation="same-scene"
    )

    found = await server.member.slash(server.channel, "archive search", query="kas try")
    assert found.ephemeral and found.response is not None
    embed = found.response.embeds[0]
    assert embed.description is not None and embed.description.startswith(
        "**#1** Kas Product — Try Out"
    )
    assert embed.footer.text is not None and embed.footer.text.startswith("1 result for “kas try”")

    filtered = await server.member.slash(
        server.channel, "archive search", subgenre="minimal-synth", country="france", public=True
    )
    assert not filtered.ephemeral
    assert filtered.response is not None and "2 results" in (
        filtered.response.embeds[0].footer.text or ""
    )

    shown = await server.member.slash(server.channel, "archive show", id=1)
    fields = {f.name: f.value for f in shown.response.embeds[0].fields}  # type: ignore[union-attr]
    assert fields["Label"] == "RCA" and fields["Place"] == "Nancy, France"
    assert "#2 Martin Dupont — Just Because" in fields["Lineage"]

    lineage = await server.member.slash(server.channel, "archive lineage", id=2)
    assert "same-scene" in (lineage.response.embeds[0].description or "")  # type: ignore[union-attr]


async def test_remove_needs_the_sharer_or_a_moderator_and_confirmation(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    await share_kas(server)
    other = server.guild.add_member(server.env.create_user("stranger"))
    denied = await other.slash(server.channel, "archive remove", id=1)
    assert (
        denied.response is not None
        and "Only the member who shared this pick" in denied.response.content
    )
    simcord.assert_error(server.env, UserError)

    asked = await server.member.slash(server.channel, "archive remove", id=1)
    assert (
        asked.response is not None
        and "Remove **#1 Kas Product — Try Out**" in asked.response.content
    )
    done = await server.member.click(asked.response, label="Remove")
    assert done.acknowledged
    with pytest.raises(UserError):
        await picks_service.get_live_pick(simcord_bot.db, server.guild.id, 1)

    not_mod = await server.member.slash(server.channel, "archive restore", id=1)
    assert not_mod.response is not None and "Manage Messages" in not_mod.response.content
    simcord.assert_error(server.env, Exception)


async def test_edit_opens_a_prefilled_modal_and_saves_both_pages(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    await share_kas(server)
    shown = await server.member.slash(server.channel, "archive edit", id=1)
    assert shown.modal is not None
    prefilled = modal_values(shown.modal)
    assert prefilled == {
        "artist": "Kas Product", "title": "Try Out", "link": "https://kasproduct.bandcamp.com/album/try-out",
        "subgenres": "minimal-synth, cold-wave", "note": "Spatial and cold. @everyone should hear it",
    }  # fmt: skip
    saved = await server.member.submit_modal(
        shown, prefilled | {"title": "Try Out (Reissue)", "subgenres": "coldwave"}
    )
    assert saved.ephemeral and saved.response is not None and "Saved **#1" in saved.response.content
    pick = await picks_service.get_live_pick(simcord_bot.db, server.guild.id, 1)
    assert (pick.title, pick.subgenres, pick.edited_by) == (
        "Try Out (Reissue)",
        ("coldwave",),
        server.member.id,
    )
    card = server.channel.history()[0]
    assert card.embeds[0].title == "Kas Product — Try Out (Reissue)"  # the card followed

    details = await server.member.click(saved.response, label="Edit label, year, place and format")
    assert details.modal is not None
    typed = {"label": "Dorian", "year": "1x83", "country": "FR", "city": "Nancy", "format": "vinyl"}
    second = await server.member.submit_modal(details, typed)
    assert second.ephemeral and second.response is not None
    assert second.response.content.startswith("**year** must be a number such as 1983.\n")
    # The mistake saved nothing and lost nothing: Fix it opens the form with what was typed.
    fix = await server.member.click(second.response, label="Fix it")
    assert fix.modal is not None
    assert modal_values(fix.modal) == typed
    await server.member.submit_modal(fix, typed | {"year": "1983", "format": "cassette"})
    pick = await picks_service.get_live_pick(simcord_bot.db, server.guild.id, 1)
    assert (pick.label, pick.year, pick.format, pick.city) == ("Dorian", 1983, "cassette", "Nancy")


def modal_values(modal: dict[str, Any]) -> dict[str, str | None]:
    return {
        row["components"][0]["custom_id"]: row["components"][0].get("value")
        for row in modal["components"]
    }


async def test_a_mistake_in_the_edit_form_loses_nothing(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    await share_kas(server)
    shown = await server.member.slash(server.channel, "archive edit", id=1)
    assert shown.modal is not None
    typed = modal_values(shown.modal) | {
        "title": "Try Out (2021 remaster)",
        "subgenres": "a, b, c, d, e, f, g, h, i",
        "note": "A long note I would hate to type again.",
    }
    refused = await server.member.submit_modal(shown, typed)
    assert refused.response is not None
    assert refused.response.content.startswith("At most 8 subgenres per pick (you gave 9).\n")
    pick = await picks_service.get_live_pick(simcord_bot.db, server.guild.id, 1)
    assert pick.title == "Try Out" and pick.edited_at is None  # nothing saved
    fix = await server.member.click(refused.response, label="Fix it")
    assert fix.modal is not None and modal_values(fix.modal) == typed


async def test_a_form_left_open_does_not_undo_someone_elses_edit(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    await share_kas(server)
    moderators_form = await server.moderator.slash(server.channel, "archive edit", id=1)
    sharers_form = await server.member.slash(server.channel, "archive edit", id=1)
    assert moderators_form.modal is not None and sharers_form.modal is not None
    await server.member.submit_modal(
        sharers_form, modal_values(sharers_form.modal) | {"note": "Better words."}
    )
    await server.moderator.submit_modal(
        moderators_form, modal_values(moderators_form.modal) | {"title": "Try Out!"}
    )
    pick = await picks_service.get_live_pick(simcord_bot.db, server.guild.id, 1)
    assert (pick.title, pick.note) == ("Try Out!", "Better words.")
    assert pick.edited_by == server.moderator.id


async def test_edit_by_someone_else_is_refused(server: Server) -> None:
    await share_kas(server)
    stranger = server.guild.add_member(server.env.create_user("stranger"))
    refused = await stranger.slash(server.channel, "archive edit", id=1)
    assert refused.modal is None and refused.response is not None
    assert "Only the member who shared this pick, or a moderator" in refused.response.content
    simcord.assert_error(server.env, UserError)


async def test_member_text_is_shown_as_written_never_as_formatting(server: Server) -> None:
    shared = await server.member.slash(
        server.channel,
        "rec share",
        artist="M*A*S*H",
        title="[Official stream](https://evil.example)",
        label="||spoiler||",
        city="_Lyon_",
    )
    card = shared.response.embeds[0]  # type: ignore[union-attr]
    assert card.title == r"M\*A\*S\*H — \[Official stream](https://evil.example)"
    assert card.description is not None and r"\|\|spoiler\|\| · \_Lyon\_" in card.description

    found = await server.member.slash(server.channel, "archive search", query="official")
    line = (found.response.embeds[0].description or "").splitlines()[0]  # type: ignore[union-attr]
    assert line == r"**#1** M\*A\*S\*H — \[Official stream](https://evil.example)"

    bait = "[Claim your free Nitro](https://evil.example/login)"
    public = await server.member.slash(server.channel, "archive search", query=bait, public=True)
    text = public.response.embeds[0].description or ""  # type: ignore[union-attr]
    assert r"“\[Claim your free Nitro](https://evil.example/login)”" in text


async def test_a_vote_on_a_random_pick_updates_its_card_in_the_channel(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    card = (await share_kas(server)).response
    assert card is not None
    dug = await server.moderator.slash(server.channel, "archive random")
    assert dug.response is not None and dug.response.ephemeral
    await server.moderator.click(dug.response, custom_id="uc:pick:heard:1")
    await server.env.settle()
    in_channel = next(m for m in server.channel.history() if m.id == card.id)
    labels = [child.label for row in in_channel.components for child in row.children]  # type: ignore[attr-defined]
    assert labels[:2] == ["Heard it · 1", "Loved it · 0"]
