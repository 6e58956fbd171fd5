"""When the work outlasts Discord's 3 s, or Discord refuses a reply, nothing is half done: buttons
answer before they work, cards are updated whatever becomes of the reply, and a share whose card
could not be posted leaves no entry behind (simcord)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import simcord

from bot.client import UndercurrentBot
from bot.domain.cards import card_key
from bot.errors import UserError
from bot.interactions import APOLOGY
from bot.services import picks as picks_service
from bot.services import privacy as privacy_service
from tests.cogs.conftest import Server
from tests.fakes import wait_until


def held(
    real: Callable[..., Awaitable[Any]],
) -> tuple[Callable[..., Awaitable[Any]], asyncio.Event]:
    """``real``, made to wait until the returned event is set: work that takes its time."""
    release = asyncio.Event()

    async def waiting(*args: Any, **kwargs: Any) -> Any:
        await release.wait()
        return await real(*args, **kwargs)

    return waiting, release


async def share_with_card(server: Server) -> simcord.ResponseMessage:
    shared = await server.member.slash(
        server.channel, "rec share", artist="Kas Product", title="Try Out", note="my words"
    )
    assert shared.response is not None
    return shared.response


async def test_remove_answers_before_it_works_and_marks_the_card(
    server: Server, simcord_bot: UndercurrentBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = await share_with_card(server)
    asked = await server.member.slash(server.channel, "archive remove", id=1)
    assert asked.response is not None
    slow, release = held(picks_service.remove_pick)
    monkeypatch.setattr(picks_service, "remove_pick", slow)

    click = asyncio.create_task(server.member.click(asked.response, label="Remove"))
    await wait_until(lambda: asked.response is not None and asked.response.content == "Removing…")
    assert asked.response.components == []  # no second click while it works
    release.set()
    await click
    await server.env.settle()
    assert asked.response.content.startswith("Removed **#1 Kas Product — Try Out**")
    marked = server.channel.history()[0]
    assert marked.id == card.id and marked.embeds[0].title == "Removed from the archive"
    deadline = int((simcord_bot.clock.now() + picks_service.RESTORE_WINDOW).timestamp())
    assert marked.embeds[0].description == (
        f"#1 was removed. Moderators can restore it with `/archive restore` until <t:{deadline}:D>."
    )
    assert marked.components == []


async def test_remove_of_an_entry_removed_meanwhile_says_so_on_the_prompt(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    await share_with_card(server)
    asked = await server.member.slash(server.channel, "archive remove", id=1)
    assert asked.response is not None
    await picks_service.remove_pick(
        simcord_bot.db, server.guild.id, 1, server.moderator.id, True, simcord_bot.clock.now()
    )
    await server.member.click(asked.response, label="Remove")
    assert asked.response.content == "Entry #1 was removed from the archive."


async def test_forget_answers_first_and_updates_cards_even_if_the_last_reply_fails(
    server: Server, simcord_bot: UndercurrentBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = await share_with_card(server)
    asked = await server.member.slash(server.channel, "privacy forget")
    assert asked.response is not None
    slow, release = held(privacy_service.forget_user)
    monkeypatch.setattr(privacy_service, "forget_user", slow)
    # Discord will refuse the final "Done" (say the token ran out): the cards must change anyway.
    server.env.inject_error("PATCH", "/webhooks/*/messages/@original", status=404, code=10015)

    click = asyncio.create_task(
        server.member.click(asked.response, label="Keep my picks, without my name")
    )
    await wait_until(
        lambda: asked.response is not None and asked.response.content == "Forgetting you…"
    )
    assert asked.response.components == []
    release.set()
    await click
    await server.env.settle()
    updated = next(m for m in server.channel.history() if m.id == card.id)
    assert "my words\n— a former member" in (updated.embeds[0].description or "")
    pick = await picks_service.get_live_pick(simcord_bot.db, server.guild.id, 1)
    assert pick.shared_by is None
    simcord.assert_error(server.env, Exception)


async def test_a_share_whose_card_cannot_be_posted_leaves_no_entry(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    server.env.inject_error("POST", "/interactions/*/callback", status=400, code=50035)
    failed = await server.member.slash(
        server.channel, "rec share", artist="Kas Product", title="Try Out"
    )
    assert server.channel.last_message is None
    with pytest.raises(UserError):
        await picks_service.get_live_pick(simcord_bot.db, server.guild.id, 1)
    entry = await simcord_bot.outbox.get(card_key(1))
    assert entry is not None and entry.status == "dropped"  # no restart will post it either
    simcord.assert_error(server.env, Exception)
    assert failed.ephemeral and failed.response is not None  # told privately; nothing posted
    assert failed.response.content == APOLOGY

    again = await server.member.slash(
        server.channel, "rec share", artist="Kas Product", title="Try Out"
    )
    assert again.response is not None and not again.ephemeral
    assert again.response.embeds[0].title == "Kas Product — Try Out"
