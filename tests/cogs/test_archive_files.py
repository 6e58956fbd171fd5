"""/archive export|import|stats and /privacy through the real command tree (simcord)."""

from __future__ import annotations

import json

import simcord

from bot.client import UndercurrentBot
from bot.domain.search import SearchFilters
from bot.interactions import APOLOGY
from bot.services import archive_search
from bot.services import picks as picks_service
from tests.cogs.conftest import Server


async def seed(server: Server) -> None:
    await server.member.slash(
        server.channel, "rec share", artist="Kas Product", title="Try Out", subgenres="minimal synth",
        country="FR", year=1982, format="vinyl", label="RCA",
    )  # fmt: skip
    await server.moderator.slash(
        server.channel,
        "rec share",
        artist="Ruth",
        title="Polaroid",
        subgenres="minimal synth, cold wave",
        country="FR",
        year=1985,
    )


async def test_export_attaches_the_archive(server: Server) -> None:
    await seed(server)
    result = await server.member.slash(server.channel, "archive export", format="json")
    assert result.ephemeral and result.response is not None
    assert result.response.content == "2 entries as json."
    attachment = result.response.attachments[0]
    assert attachment.filename == "archive.json"
    exported = json.loads(await attachment.read())
    assert [e["title"] for e in exported["entries"]] == ["Try Out", "Polaroid"]
    assert exported["entries"][1]["subgenres"] == "minimal-synth, cold-wave"


async def test_export_of_an_empty_archive_says_so(server: Server) -> None:
    result = await server.member.slash(server.channel, "archive export", format="csv")
    assert result.response is not None
    assert result.response.content == "The archive is empty: nothing to export yet."


async def test_import_is_for_moderators_and_reports_bad_rows(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    csv_data = b"artist,title,year\nGood,Row,1984\nBad,Year,1850\n"
    denied = await server.member.slash(server.channel, "archive import", file=("a.csv", csv_data))
    assert denied.response is not None and "Manage Messages" in denied.response.content
    simcord.assert_error(server.env, Exception)

    rejected = await server.moderator.slash(
        server.channel, "archive import", file=("a.csv", csv_data)
    )
    assert rejected.response is not None
    assert rejected.response.content.startswith(
        "Nothing was imported: 1 problem(s).\n• line 3: **year** must be between 1900"
    )
    assert rejected.response.attachments[0].filename == "import-problems.txt"
    empty = await archive_search.search_archive(
        simcord_bot.db, server.guild.id, SearchFilters(), 1, simcord_bot.clock.now()
    )
    assert empty.total == 0

    good = await server.moderator.slash(
        server.channel, "archive import", file=("a.csv", b"artist,title\nGood,Row\n")
    )
    assert good.response is not None
    assert good.response.content == "Imported 1 entries, 0 lineage links and 0 seconds."


async def test_stats_attaches_a_chart(server: Server) -> None:
    await seed(server)
    result = await server.member.slash(server.channel, "archive stats")
    assert result.response is not None and result.ephemeral
    embed = result.response.embeds[0]
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Subgenres"] == "minimal-synth · 2\ncold-wave · 1"
    assert fields["Countries"] == "France · 2"
    assert fields["Decades"] == "1980s · 2"
    assert embed.image.url == "attachment://archive-stats.png"
    assert result.response.attachments[0].filename == "archive-stats.png"


async def test_privacy_export_and_forget_with_anonymised_picks(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    await seed(server)
    await server.member.slash(server.channel, "settings timezone", zone="Europe/Paris")
    await server.member.click(server.channel.history()[-1], custom_id="uc:pick:loved:2")

    exported = await server.member.slash(server.channel, "privacy export")
    assert exported.ephemeral and exported.response is not None
    assert exported.response.attachments[0].filename == f"undercurrent-{server.member.id}.json"
    message = exported.response.message
    data = json.loads(await message.attachments[0].read())
    assert data["settings"]["timezone"] == "Europe/Paris"
    assert [p["title"] for p in data["picks"]] == ["Try Out"]
    assert [(v["pick_id"], v["kind"]) for v in data["votes"]] == [(2, "loved")]

    asked = await server.member.slash(server.channel, "privacy forget")
    assert asked.response is not None
    done = await server.member.click(asked.response, label="Keep my picks, without my name")
    assert done.acknowledged
    pick = await picks_service.get_live_pick(simcord_bot.db, server.guild.id, 1)
    assert pick.shared_by is None
    await server.env.settle()
    card = next(
        m
        for m in server.channel.history()
        if m.embeds and m.embeds[0].title == "Kas Product — Try Out"
    )
    assert "Shared by a former member" in (card.embeds[0].description or "")
    other = await picks_service.get_live_pick(simcord_bot.db, server.guild.id, 2)
    assert other.loved == 0
    shown = await server.member.slash(server.channel, "settings show")
    assert shown.response is not None
    assert shown.response.embeds[0].fields[0].value.startswith("Not set")


async def test_forget_can_delete_picks(server: Server, simcord_bot: UndercurrentBot) -> None:
    await seed(server)
    asked = await server.member.slash(server.channel, "privacy forget")
    await server.member.click(asked.response, label="Delete my picks too")  # type: ignore[arg-type]
    remaining = await archive_search.search_archive(
        simcord_bot.db, server.guild.id, SearchFilters(), 1, simcord_bot.clock.now()
    )
    assert [p.title for p in remaining.results] == ["Polaroid"]


async def test_public_stats_go_to_the_channel_after_a_private_acknowledgement(
    server: Server,
) -> None:
    await seed(server)
    result = await server.member.slash(server.channel, "archive stats", public=True)
    assert result.ephemeral and result.response is not None
    assert result.response.content == "Posted the stats in the channel."
    chart = result.followups[-1]
    assert not chart.ephemeral and chart.embeds[0].title == "Scene archive stats"


async def test_public_stats_never_claim_a_post_that_failed(server: Server) -> None:
    await seed(server)
    server.env.inject_error("POST", "/webhooks/*", status=500)  # the chart's follow-up
    result = await server.member.slash(server.channel, "archive stats", public=True)
    assert result.response is not None
    assert result.response.content == "Posting the stats in the channel…"
    assert [m.content for m in result.followups] == [APOLOGY]
    assert all(m.ephemeral for m in result.followups)
    simcord.assert_error(server.env, Exception)
