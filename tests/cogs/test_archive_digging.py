"""Digging through the archive as a member does: paging a search, /archive random, the country
autocomplete and the "did you mean" shown when nothing matches (simcord)."""

from __future__ import annotations

import re
from typing import Any

import simcord

from bot.client import UndercurrentBot
from bot.domain.picks import PickFields
from bot.errors import UserError
from bot.services import picks as picks_service
from tests.cogs.conftest import Server


async def seed(bot: UndercurrentBot, server: Server, **fields: Any) -> int:
    """A pick stored straight through the service (no card): these tests are about finding."""
    result = await picks_service.share_pick(
        bot.db,
        guild_id=server.guild.id,
        user_id=server.member.id,
        channel_id=server.channel.id,
        now=bot.clock.now(),
        given=PickFields(**fields),
    )
    assert result.pick is not None
    return result.pick.id


def listed_ids(message: simcord.ResponseMessage) -> list[int]:
    description = message.embeds[0].description or ""
    return [int(n) for n in re.findall(r"^\*\*#(\d+)\*\*", description, flags=re.MULTILINE)]


def buttons(message: simcord.ResponseMessage) -> dict[str, bool]:
    """Label → disabled, for every button under the message."""
    return {
        c["label"]: bool(c.get("disabled")) for row in message.components for c in row["components"]
    }


def footer(message: simcord.ResponseMessage) -> str:
    return message.embeds[0].footer.text or ""


async def test_paging_a_search_with_previous_and_next(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    ids = [
        await seed(simcord_bot, server, artist=f"Band {n}", title=f"Tape {n}") for n in range(23)
    ]
    found = await server.member.slash(server.channel, "archive search")
    page = found.response
    assert page is not None and page.ephemeral
    assert listed_ids(page) == ids[::-1][:10]  # no words to rank by: newest first
    assert footer(page) == "23 results for everything · page 1 of 3"
    assert buttons(page) == {"Previous": True, "Next": False}

    await server.member.click(page, label="Next")
    page = found.response
    assert page is not None
    assert listed_ids(page) == ids[::-1][10:20]
    assert footer(page).endswith("page 2 of 3")
    assert buttons(page) == {"Previous": False, "Next": False}

    await server.member.click(page, label="Next")
    page = found.response
    assert page is not None
    assert listed_ids(page) == ids[::-1][20:]
    assert buttons(page) == {"Previous": False, "Next": True}

    await server.member.click(page, label="Previous")
    page = found.response
    assert page is not None and footer(page).endswith("page 2 of 3")


async def test_a_ranked_search_pages_through_every_match_once(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    matching = set()
    for n in range(14):
        # Some mention the word once, some twice: a ranking to keep steady across pages.
        note = "cold and spare" if n % 2 else "cold, cold tape"
        matching.add(await seed(simcord_bot, server, artist=f"Band {n}", title="Tape", note=note))
    await seed(simcord_bot, server, artist="Warm Band", title="Tape", note="sunny")
    found = await server.member.slash(server.channel, "archive search", query="cold")
    assert found.response is not None
    first = listed_ids(found.response)
    await server.member.click(found.response, label="Next")
    second = listed_ids(found.response)
    assert len(first) == 10 and len(second) == 4
    assert set(first) | set(second) == matching and not set(first) & set(second)


async def test_pages_belong_to_the_member_who_searched(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    for n in range(12):
        await seed(simcord_bot, server, artist=f"Band {n}", title="Tape")
    found = await server.member.slash(server.channel, "archive search", public=True)
    assert found.response is not None and not found.response.ephemeral
    before = listed_ids(found.response)

    clicked = await server.moderator.click(found.response, label="Next")
    assert clicked.ephemeral and clicked.response is not None
    assert "belong to the member who searched" in clicked.response.content
    assert listed_ids(found.response) == before  # the member's page did not move


async def test_paging_after_picks_were_removed_stays_in_range(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    ids = [await seed(simcord_bot, server, artist=f"Band {n}", title="Tape") for n in range(11)]
    found = await server.member.slash(server.channel, "archive search")
    assert found.response is not None and footer(found.response).endswith("page 1 of 2")
    for pick_id in ids[:2]:
        await picks_service.remove_pick(
            simcord_bot.db,
            server.guild.id,
            pick_id,
            server.member.id,
            False,
            simcord_bot.clock.now(),
        )
    await server.member.click(found.response, label="Next")
    page = found.response
    assert footer(page) == "9 results for everything · page 1 of 1"
    assert listed_ids(page) == ids[2:][::-1]
    assert buttons(page) == {"Previous": True, "Next": True}


async def test_random_gives_a_pick_you_have_not_heard(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    heard = await seed(simcord_bot, server, artist="Heard Band", title="Old Tape")
    fresh = await seed(simcord_bot, server, artist="Fresh Band", title="New Tape")
    await picks_service.toggle_vote(
        simcord_bot.db, server.guild.id, heard, "heard", server.member.id, simcord_bot.clock.now()
    )
    for _ in range(5):
        dug = await server.member.slash(server.channel, "archive random")
        assert dug.ephemeral and dug.response is not None
        assert dug.response.embeds[0].title == "Fresh Band — New Tape"

    # Marking it heard from the card it came on: then there is nothing left to dig up.
    await server.member.click(dug.response, custom_id=f"uc:pick:heard:{fresh}")
    done = await server.member.slash(server.channel, "archive random")
    assert done.ephemeral and done.response is not None
    assert done.response.content.startswith("Nothing left to dig up")
    # Someone else has heard neither.
    other = await server.moderator.slash(server.channel, "archive random")
    assert other.response is not None and other.response.embeds


async def test_random_filters_by_subgenre_country_and_decade(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    await seed(simcord_bot, server, artist="A", title="Paris 79", country="FR", year=1979,
               subgenres="cold wave")  # fmt: skip
    await seed(simcord_bot, server, artist="B", title="Paris 84", country="FR", year=1984,
               subgenres="cold wave")  # fmt: skip
    await seed(simcord_bot, server, artist="C", title="Berlin 84", country="DE", year=1984,
               subgenres="cold wave")  # fmt: skip
    await seed(simcord_bot, server, artist="D", title="Lyon 85", country="FR", year=1985,
               subgenres="synth pop")  # fmt: skip
    for _ in range(5):
        dug = await server.member.slash(
            server.channel, "archive random", subgenre="cold-wave", country="France", decade=1980
        )
        assert dug.response is not None and dug.response.embeds[0].title == "B — Paris 84"
    decade_by_any_year = await server.member.slash(
        server.channel, "archive random", country="DE", decade=1987
    )
    assert decade_by_any_year.response is not None
    assert decade_by_any_year.response.embeds[0].title == "C — Berlin 84"


async def test_random_with_a_bad_filter_is_a_private_error(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    await seed(simcord_bot, server, artist="A", title="B")
    future = await server.member.slash(server.channel, "archive random", decade=2090)
    assert future.ephemeral and future.response is not None
    assert future.response.content == "**decade** must be a year from 1900 to 2026, such as 1980."
    simcord.assert_error(server.env, UserError)
    nowhere = await server.member.slash(server.channel, "archive random", country="Atlantis")
    assert nowhere.ephemeral and nowhere.response is not None
    assert "`Atlantis` is not a country I know" in nowhere.response.content
    simcord.assert_error(server.env, UserError, contains="Atlantis")


async def test_country_autocomplete_in_commands(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    typed = await server.member.autocomplete(server.channel, "archive search", "country", "fra")
    assert typed[0] == {"name": "France (FR)", "value": "FR"}
    by_code = await server.member.autocomplete(server.channel, "rec share", "country", "de")
    assert by_code[0]["value"] == "DE"
    by_alias = await server.member.autocomplete(server.channel, "archive random", "country", "uk")
    assert by_alias[0] == {"name": "United Kingdom (GB)", "value": "GB"}
    accents = await server.member.autocomplete(server.channel, "rec share", "country", "cote")
    assert accents[0]["value"] == "CI"

    # What autocomplete offers is what the command takes.
    await seed(simcord_bot, server, artist="Kas Product", title="Try Out", country="France")
    found = await server.member.slash(server.channel, "archive search", country=typed[0]["value"])
    assert found.response is not None and listed_ids(found.response) == [1]
    assert footer(found.response).startswith("1 result for country France")


async def test_country_autocomplete_offers_the_servers_countries_first(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    for n in range(3):
        await seed(simcord_bot, server, artist=f"M{n}", title="T", country="Mali")
    await seed(simcord_bot, server, artist="N", title="T", country="Niger")
    await seed(simcord_bot, server, artist="U", title="T", country="United States")
    offered = await server.member.autocomplete(server.channel, "archive search", "country", "")
    assert [c["value"] for c in offered][:3] == ["ML", "NE", "US"]
    # Typing narrows the server's countries first, then the rest of the world.
    typed = await server.member.autocomplete(server.channel, "rec share", "country", "mal")
    assert [c["value"] for c in typed][:3] == ["ML", "MW", "MY"]  # Mali (here), Malawi, Malaysia
    # An exact code still comes first: NI is Nicaragua's; then Niger, from here; then Nigeria.
    code = await server.member.autocomplete(server.channel, "archive search", "country", "ni")
    assert [c["value"] for c in code][:3] == ["NI", "NE", "NG"]


async def test_no_results_shows_the_closest_tags_and_labels(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    await seed(simcord_bot, server, artist="Kas Product", title="Try Out",
               subgenres="minimal synth", label="Mute Records")  # fmt: skip
    typo = await server.member.slash(server.channel, "archive search", query="minimal synht")
    assert typo.ephemeral and typo.response is not None
    text = typo.response.embeds[0].description
    assert text == (
        "Nothing in the archive matches “minimal synht”.\n"
        "Closest existing: subgenre `minimal-synth`."
    )
    assert typo.response.components == []  # nothing to page through

    label = await server.member.slash(server.channel, "archive search", label="Mute Recrods")
    assert label.response is not None
    assert "Closest existing: label `Mute Records`." in (label.response.embeds[0].description or "")

    nothing_close = await server.member.slash(server.channel, "archive search", query="zydeco")
    assert nothing_close.response is not None
    assert nothing_close.response.embeds[0].description == (
        "Nothing in the archive matches “zydeco”."
    )
