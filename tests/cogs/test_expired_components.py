"""Buttons whose view is gone (timed out, or from before a restart) get a clear private answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import interactions
from bot.client import UndercurrentBot
from bot.interactions import EXPIRED
from tests.cogs.conftest import Server, restarted_bot
from tests.fakes import FakeClock


@pytest.fixture(autouse=True)
def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing here answers late on purpose: don't wait Discord's 2.5 s of real time for it."""
    monkeypatch.setattr(interactions, "EXPIRY_GRACE_SECONDS", 0.1)


async def test_search_pages_from_before_a_restart_say_they_expired(
    server: Server, simcord_bot: UndercurrentBot, db_path: Path, clock: FakeClock
) -> None:
    for n in range(11):
        await server.member.slash(server.channel, "rec share", artist=f"Artist {n}", title="Drone")
    found = await server.member.slash(server.channel, "archive search", query="drone")
    assert found.response is not None
    assert (await server.member.click(found.response, label="Next")).acknowledged  # live view

    async with restarted_bot(server.env, db_path, clock):
        stale = await server.member.click(found.response, label="Previous")
        assert stale.ephemeral and stale.response is not None
        assert stale.response.content == EXPIRED
        # Restart-proof buttons are still routed, and answered by their own handler.
        card = next(m for m in server.channel.history() if m.embeds)
        vote = await server.member.click(card, custom_id="uc:pick:loved:1")
        assert vote.followups[-1].content == "Marked: loved it. Click again to undo."


async def test_a_timed_out_confirmation_says_it_expired_and_changes_nothing(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    from bot.services import picks as picks_service

    await server.member.slash(server.channel, "rec share", artist="Ruth", title="Polaroid")
    asked = await server.member.slash(server.channel, "archive remove", id=1)
    assert asked.response is not None
    await server.env.advance_time(121)  # the confirmation lasts two minutes
    late = await server.member.click(asked.response, label="Remove")
    assert late.response is not None and late.response.content == EXPIRED
    assert (
        await picks_service.get_live_pick(simcord_bot.db, server.guild.id, 1)
    ).deleted_at is None


async def test_the_one_read_of_discord_py_s_view_store_still_sees_what_it_routes(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    """``live_routes`` reads discord.py's private view store (there is no public way to ask
    whether a click will be handled). If discord.py renames or reshapes it, this fails here,
    loudly, instead of every expired click going unanswered."""
    from bot.pick_cards import VoteButton

    routes = interactions.live_routes(simcord_bot)
    assert VoteButton.__discord_ui_compiled_template__ in routes.dynamic_items
    assert isinstance(routes.modals, dict) and isinstance(routes.views, dict)

    await server.member.slash(server.channel, "rec share", artist="Ruth", title="Polaroid")
    asked = await server.member.slash(server.channel, "archive remove", id=1)
    assert asked.response is not None
    live = [key for items in routes.views.values() for key in items]
    assert len(live) >= 2  # the confirmation's two buttons, keyed (component type, custom id)
    assert all(isinstance(kind, int) and isinstance(custom_id, str) for kind, custom_id in live)
