"""The archive as files and figures: ``/archive export``, ``import`` and ``stats``."""

from __future__ import annotations

import asyncio
import io
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.archive_format import EXPORT_FORMATS
from bot.domain.picks import FORMER_MEMBER, country_name
from bot.errors import UserError
from bot.interactions import moderators_only, require_guild
from bot.pick_cards import CARD_COLOUR
from bot.replies import EMBED_FIELD_VALUE_LIMIT, MESSAGE_CONTENT_LIMIT, clip, md
from bot.services import archive_io, archive_search
from cogs.archive.charts import PANELS, render_stats_chart

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

MAX_IMPORT_BYTES = 25_000_000


class FilesCommands(commands.Cog):
    """Mixed into ``ArchiveCog``: whole-archive files and the stats chart."""

    bot: UndercurrentBot

    @app_commands.command(
        name="export", description="The whole archive as a file (CSV, JSON or Markdown)"
    )
    @app_commands.describe(format="csv and json can be imported back with /archive import")
    @app_commands.choices(format=[app_commands.Choice(name=f, value=f) for f in EXPORT_FORMATS])
    async def export(self, interaction: discord.Interaction[UndercurrentBot], format: str) -> None:
        guild_id = require_guild(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        title = f"{interaction.guild.name if interaction.guild else 'Server'} — scene archive"
        with tempfile.TemporaryDirectory(prefix="undercurrent-export-") as folder:
            result = await archive_io.export_archive(
                self.bot.db,
                guild_id,
                format,
                Path(folder),
                limit_bytes=interaction.filesize_limit,
                title=title,
            )
            if result.entries == 0:
                await interaction.followup.send(
                    "The archive is empty: nothing to export yet.", ephemeral=True
                )
                return
            note = f"{result.entries:,} entries as {format}"
            if result.compressed:
                note += f", gzip-compressed in {len(result.files)} file(s) to fit Discord's upload limit"
            # Discord's upload limit is per message, so each part goes in a message of its own.
            for number, path in enumerate(result.files, start=1):
                text = note + "." if number == 1 else f"Part {number} of {len(result.files)}."
                await interaction.followup.send(
                    text, file=discord.File(path, filename=path.name), ephemeral=True
                )

    @app_commands.command(
        name="import", description="Moderators: add entries from an /archive export (CSV or JSON)"
    )
    @app_commands.describe(file="A .csv or .json file (optionally .gz) written by /archive export")
    @moderators_only
    async def import_(
        self, interaction: discord.Interaction[UndercurrentBot], file: discord.Attachment
    ) -> None:
        guild_id = require_guild(interaction)
        if file.size > MAX_IMPORT_BYTES:
            raise UserError(
                f"That file is {file.size / 1e6:.1f} MB; the import limit is {MAX_IMPORT_BYTES // 1_000_000} MB."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await file.read()
        try:
            result = await archive_io.import_archive(
                self.bot.db, guild_id, data, self.bot.clock.now()
            )
        except archive_io.ImportRejected as rejected:
            report = discord.File(
                io.BytesIO(archive_io.problems_report(rejected.problems)),
                filename="import-problems.txt",
            )
            await interaction.followup.send(
                clip(rejected.message, MESSAGE_CONTENT_LIMIT), file=report, ephemeral=True
            )
            return
        await interaction.followup.send(
            f"Imported {result.imported:,} entries, {result.links:,} lineage links and {result.seconds:,} seconds.",
            ephemeral=True,
        )

    @app_commands.command(
        name="stats", description="Top subgenres, countries, labels, decades, formats and curators"
    )
    @app_commands.describe(public="Post the chart in the channel instead of privately")
    async def stats(
        self, interaction: discord.Interaction[UndercurrentBot], public: bool = False
    ) -> None:
        guild_id = require_guild(interaction)
        # Always think privately: if anything fails, the apology must not land in the channel.
        await interaction.response.defer(ephemeral=True, thinking=True)
        raw = await archive_search.stats(self.bot.db, guild_id)
        data: dict[str, list[tuple[str, int]]] = {
            "subgenres": [(str(tag), n) for tag, n in raw["subgenres"]],
            "countries": [(country_name(str(code)), n) for code, n in raw["countries"]],
            "labels": [(str(label), n) for label, n in raw["labels"]],
            "decades": [(str(decade), n) for decade, n in raw["decades"]],
            "formats": [(str(fmt), n) for fmt, n in raw["formats"]],
            "curators": distinct_names(
                [
                    (await self._member_name(interaction, int(str(uid))), n)
                    for uid, n in raw["curators"]
                ]
            ),
        }
        guild_name = interaction.guild.name if interaction.guild else "This server"
        png = await asyncio.to_thread(render_stats_chart, data, f"{guild_name} — scene archive")
        embed = discord.Embed(title="Scene archive stats", colour=CARD_COLOUR)
        for key, panel_title in PANELS:
            top = data[key][:5]
            lines = [f"{md(clip(label, 40))} · {n}" for label, n in top] or ["—"]
            embed.add_field(name=panel_title, value=clip("\n".join(lines), EMBED_FIELD_VALUE_LIMIT))
        embed.set_image(url="attachment://archive-stats.png")
        chart = discord.File(io.BytesIO(png), filename="archive-stats.png")
        if not public:
            await interaction.followup.send(embed=embed, file=chart, ephemeral=True)
            return
        # The first follow-up would replace the private "thinking" message, so that is answered
        # first; it says "Posted" only once the chart is in the channel.
        await interaction.edit_original_response(content="Posting the stats in the channel…")
        await interaction.followup.send(embed=embed, file=chart)
        await interaction.edit_original_response(content="Posted the stats in the channel.")

    async def _member_name(
        self, interaction: discord.Interaction[UndercurrentBot], user_id: int
    ) -> str:
        guild = interaction.guild
        member = guild.get_member(user_id) if guild else None
        if member is None and guild is not None:
            try:
                member = await guild.fetch_member(user_id)
            except discord.HTTPException:
                return FORMER_MEMBER
        return member.display_name if member else FORMER_MEMBER


def distinct_names(counts: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """One row per name on a chart: members who left are added up as one "former members"
    row, and members who share a display name are numbered (a chart draws equal labels on one
    row, one bar hiding the other)."""
    former = sum(n for name, n in counts if name == FORMER_MEMBER)
    rows = [(name, n) for name, n in counts if name != FORMER_MEMBER]
    if former:
        rows.append(("former members", former))
        rows.sort(key=lambda row: -row[1])
    seen: dict[str, int] = {}
    distinct = []
    for name, n in rows:
        seen[name] = seen.get(name, 0) + 1
        distinct.append((name if seen[name] == 1 else f"{name} ({seen[name]})", n))
    return distinct
