"""Input that could mislead or that no Discord client sends: the member gets a clear private
answer, the log stays clean, and a link button names only where the link really goes."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import simcord

from bot.client import UndercurrentBot
from bot.errors import UserError
from tests.cogs.conftest import Server

CYRILLIC_A = "\u0430"


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def button_labels(message: Any) -> list[str]:
    return [c["label"] for row in message.components for c in row["components"]]


async def share_link(server: Server, link: str) -> simcord.InteractionResult:
    return await server.member.slash(
        server.channel, "rec share", artist="Kas Product", title="Try Out", link=link
    )


@pytest.fixture
def past_discords_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """simcord checks options as Discord does; let through what only a forged client sends."""
    monkeypatch.setattr(simcord.interactions, "_INTEGER_LIMIT", 2**80)


@pytest.mark.usefixtures("past_discords_limits")
@pytest.mark.parametrize("command", ["archive show", "archive lineage", "archive restore"])
@pytest.mark.parametrize("number", [2**63, 2**64])
async def test_an_id_past_64_bits_is_a_private_error_not_a_traceback(
    server: Server,
    simcord_bot: UndercurrentBot,
    caplog: pytest.LogCaptureFixture,
    command: str,
    number: int,
) -> None:
    actor = server.moderator if command == "archive restore" else server.member
    result = await actor.slash(server.channel, command, id=number)
    assert result.ephemeral and result.response is not None
    assert result.response.content == f"`{number}` is not a valid value for **id**."
    assert errors_logged(caplog) == []


@pytest.mark.parametrize(
    "command,options,field",
    [
        ("rec share", {"artist": "Kas \ud800", "title": "Try Out"}, "artist"),
        ("rec share", {"artist": "Kas", "title": "Try Out", "note": "\udfff"}, "note"),
        ("archive search", {"query": "cold \ud83d wave"}, "query"),
    ],
)
async def test_a_broken_character_is_a_private_error_not_a_traceback(
    server: Server,
    simcord_bot: UndercurrentBot,
    caplog: pytest.LogCaptureFixture,
    command: str,
    options: dict[str, Any],
    field: str,
) -> None:
    result = await server.member.slash(server.channel, command, **options)
    assert result.ephemeral and result.response is not None
    assert result.response.content.startswith(f"**{field}** contains a broken character")
    assert server.channel.last_message is None
    assert errors_logged(caplog) == []


async def test_autocomplete_with_a_broken_character_offers_nothing_quietly(
    server: Server, simcord_bot: UndercurrentBot, caplog: pytest.LogCaptureFixture
) -> None:
    choices = await server.member.autocomplete(server.channel, "rec share", "subgenres", "\ud800")
    assert choices == []
    assert errors_logged(caplog) == []


async def test_a_link_with_direction_controls_is_refused_and_names_lose_them(
    server: Server, simcord_bot: UndercurrentBot, caplog: pytest.LogCaptureFixture
) -> None:
    refused = await share_link(server, "https://example.com/\u202egpj.exe")
    assert refused.ephemeral and refused.response is not None
    assert refused.response.content.startswith(
        "**link**: A link cannot contain invisible text-direction characters"
    )
    simcord.assert_error(server.env, UserError)
    shared = await server.member.slash(
        server.channel, "rec share", artist="\u202eKas Product\u202c", title="Try \u2067Out\u2069"
    )
    assert shared.response is not None
    assert shared.response.embeds[0].title == "Kas Product — Try Out"
    assert errors_logged(caplog) == []


@pytest.mark.parametrize(
    "link,label,url",
    [
        (
            f"https://b{CYRILLIC_A}ndcamp.com/album/x",
            "Listen on xn--bndcamp-2fg.com",
            "https://xn--bndcamp-2fg.com/album/x",
        ),
        (
            "https://open.spotify.com.evil.com/album/x",
            "Listen on open.spotify.com.evil.com",
            "https://open.spotify.com.evil.com/album/x",
        ),
        (
            "https://music.minimalwave.com/album/the-lost-tapes",
            "Listen on music.minimalwave.com",
            "https://music.minimalwave.com/album/the-lost-tapes",
        ),
        (
            "https://kasproduct.bandcamp.com/album/try-out",
            "Listen on Bandcamp",
            "https://kasproduct.bandcamp.com/album/try-out",
        ),
    ],
)
async def test_the_listen_button_names_the_host_it_goes_to(
    server: Server, simcord_bot: UndercurrentBot, link: str, label: str, url: str
) -> None:
    shared = await share_link(server, link)
    assert shared.response is not None
    assert button_labels(shared.response)[-1] == label
    assert shared.response.components[0]["components"][-1]["url"] == url


async def test_a_card_stored_as_bandcamp_on_another_host_is_relabelled(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    """A row from before this rule: platform "bandcamp", host percent-encoded. The next time
    its card is drawn (a vote here), the button names the host."""
    shared = await share_link(server, "https://music.minimalwave.com/album/the-lost-tapes")
    assert shared.response is not None
    async with simcord_bot.db.transaction() as conn:
        await conn.execute(
            "UPDATE picks SET link_platform = 'bandcamp', link_url = :url WHERE id = 1",
            {"url": "https://b%D0%B0ndcamp.com/album/x"},
        )
    await server.member.click(shared.response, custom_id="uc:pick:heard:1")
    card = server.channel.last_message
    assert card is not None
    labels = [child.label for row in card.components for child in row.children]  # type: ignore[attr-defined]
    assert labels[-1] == "Listen on xn--bndcamp-2fg.com"
