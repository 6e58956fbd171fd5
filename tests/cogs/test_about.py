"""/about through the real command tree (simcord)."""

from __future__ import annotations

from bot import __version__
from tests.cogs.conftest import Server


async def test_about_shows_version_uptime_and_the_command_reference(server: Server) -> None:
    result = await server.member.slash(server.channel, "about")
    assert result.ephemeral and result.response is not None
    embed = result.response.embeds[0]
    assert embed.title == "Undercurrent"
    assert embed.description and "listening communities" in embed.description
    fields = {field.name: field.value for field in embed.fields}
    assert fields["Version"] == __version__
    assert fields["Uptime"].endswith("R>)")
    assert "#command-reference" in fields["Commands"]
