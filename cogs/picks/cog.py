"""``/rec share`` and ``/archive …``: sharing picks and digging through the scene archive."""

from __future__ import annotations

import asyncio
import io
import logging
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.archive_format import EXPORT_FORMATS
from bot.domain.jobs import Job, JobSpec
from bot.domain.picks import (
    FORMATS,
    RELATIONS,
    country_name,
    match_countries,
    normalize_tag,
    resolve_country,
)
from bot.domain.search import SearchFilters
from bot.domain.timeutil import discord_timestamp, from_epoch
from bot.errors import UserError
from bot.replies import EMBED_FIELD_VALUE_LIMIT, MESSAGE_CONTENT_LIMIT, clip
from bot.services import archive_io
from bot.services import picks as picks_service
from cogs.picks.charts import PANELS, render_stats_chart
from cogs.picks.embeds import (
    CARD_COLOUR,
    card_embed,
    details_embed,
    heading,
    lineage_embed,
    md,
    search_embed,
)
from cogs.picks.views import (
    ConfirmView,
    EditDetailsButton,
    EditPickModal,
    SearchPager,
    SecondPrompt,
    VoteButton,
    bot_of,
    card_view,
    guild_of,
    is_moderator,
    refresh_card,
)

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

log = logging.getLogger(__name__)

FORMAT_CHOICES = [app_commands.Choice(name=name, value=name) for name in FORMATS]
RELATION_CHOICES = [app_commands.Choice(name=name, value=name) for name in RELATIONS]
PURGE_JOB = "archive.purge_removed"
MAX_IMPORT_BYTES = 25_000_000
FORMER_MEMBER = "a former member"
CHOICE_LIMIT = 100  # Discord's limit on an autocomplete choice's name and value


async def autocomplete_subgenres(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """For a comma-separated list: completes the last piece with the server's tags, most used
    first, leaving out tags already in the list and any that would not fit the option."""
    if interaction.guild_id is None:
        return []
    done, _, last = current.rpartition(",")
    prefix = f"{done.strip()}, " if done.strip() else ""
    listed = {normalize_tag(piece) for piece in done.split(",")}
    tags = await picks_service.tag_suggestions(
        bot_of(interaction).db, interaction.guild_id, last, limit=25 + len(listed)
    )
    choices = []
    for tag, count in tags:
        value = prefix + tag
        if tag in listed or len(value) > CHOICE_LIMIT:
            continue
        name = f"{value} ({count})"
        if len(name) > CHOICE_LIMIT:  # keep the end in view: it is the tag being chosen
            name = "…" + name[-(CHOICE_LIMIT - 1) :]
        choices.append(app_commands.Choice(name=name, value=value))
    return choices[:25]


async def autocomplete_subgenre(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """For a single-subgenre filter: the server's tags containing what is typed, most used first."""
    if interaction.guild_id is None:
        return []
    tags = await picks_service.tag_suggestions(
        bot_of(interaction).db, interaction.guild_id, current
    )
    return [
        app_commands.Choice(name=clip(f"{tag} ({count})", CHOICE_LIMIT), value=tag)
        for tag, count in tags
        if len(tag) <= CHOICE_LIMIT
    ][:25]


async def autocomplete_country(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """Countries by name, code or common alias; the server's own countries first."""
    if interaction.guild_id is None:
        matches = match_countries(current)
    else:
        matches = await picks_service.country_choices(
            bot_of(interaction).db, interaction.guild_id, current
        )
    return [
        app_commands.Choice(name=clip(f"{name} ({code})", CHOICE_LIMIT), value=code)
        for code, name in matches
    ]


class RecCog(commands.GroupCog, group_name="rec", group_description="Share music with the server"):
    def __init__(self, bot: UndercurrentBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(
        name="share", description="Share a pick: it gets a card here and a place in the archive"
    )
    @app_commands.describe(
        artist="Who made it",
        title="The release or track",
        link="Bandcamp, Spotify, YouTube, SoundCloud, Apple Music, Tidal, Deezer, Discogs…",
        subgenres="Comma-separated, at most 8 (e.g. minimal synth, cold wave)",
        label="The label that released it",
        year="Year of release",
        country="Where it comes from (name or ISO code)",
        city="The city or town of its scene",
        format="What you heard it on",
        note="Why it matters to you (shown as your words)",
    )
    @app_commands.choices(format=FORMAT_CHOICES)
    @app_commands.autocomplete(subgenres=autocomplete_subgenres, country=autocomplete_country)
    async def share(
        self,
        interaction: discord.Interaction[Any],
        artist: app_commands.Range[str, 1, 200],
        title: app_commands.Range[str, 1, 200],
        link: app_commands.Range[str, 1, 512] | None = None,
        subgenres: app_commands.Range[str, 1, 300] | None = None,
        label: app_commands.Range[str, 1, 100] | None = None,
        year: app_commands.Range[int, 1900, 2100] | None = None,
        country: app_commands.Range[str, 1, 60] | None = None,
        city: app_commands.Range[str, 1, 100] | None = None,
        format: str | None = None,
        note: app_commands.Range[str, 1, 1000] | None = None,
    ) -> None:
        guild_id = guild_of(interaction)
        result = await picks_service.share_pick(
            self.bot.db, guild_id=guild_id, user_id=interaction.user.id, now=self.bot.clock.now(),
            artist=artist, title=title, link=link, subgenres=subgenres, label=label, year=year,
            country=country, city=city, format=format, note=note,
        )  # fmt: skip
        if result.duplicate is not None:
            existing = result.duplicate
            when = discord_timestamp(from_epoch(existing.created_at), "R")
            who = f"<@{existing.shared_by}>" if existing.shared_by else "a former member"
            text = f"**{clip(heading(existing), 300)}** is already in the archive as #{existing.id}, shared by {who} {when}."
            jump = existing.jump_url()
            if jump:
                text += f" [See the card]({jump})."
            if existing.shared_by != interaction.user.id:
                text += "\nYou can add your voice to it as a second" + (
                    " with your note." if note else "."
                )
                view: discord.ui.View = SecondPrompt(interaction.user.id, existing, note)
                await interaction.response.send_message(text, view=view, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
            return
        pick = result.pick
        assert pick is not None
        try:
            sent = await interaction.response.send_message(
                embed=card_embed(pick), view=card_view(pick)
            )
        except Exception:
            # No card, no entry: otherwise sharing it again would only say "already shared".
            await picks_service.discard_unposted(self.bot.db, guild_id, pick.id)
            raise
        if sent.message_id is not None and interaction.channel_id is not None:
            await picks_service.attach_card(
                self.bot.db, pick.id, interaction.channel_id, sent.message_id
            )


class ArchiveCog(
    commands.GroupCog, group_name="archive", group_description="The server's scene archive"
):
    def __init__(self, bot: UndercurrentBot) -> None:
        self.bot = bot
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(VoteButton, EditDetailsButton)
        self.bot.scheduler.register(PURGE_JOB, self._purge_removed)
        # Today's and tomorrow's purge, idempotently: even if one run fails for good, the chain
        # of daily runs continues (each run also schedules the next).
        now = self.bot.clock.now()
        for moment in (now, now + timedelta(days=1)):
            await self.bot.scheduler.schedule(
                PURGE_JOB, moment, {}, dedupe_key=f"{PURGE_JOB}:{moment:%Y-%m-%d}"
            )

    async def cog_unload(self) -> None:
        self.bot.scheduler.unregister(PURGE_JOB)
        self.bot.remove_dynamic_items(VoteButton, EditDetailsButton)

    async def _purge_removed(self, job: Job) -> list[JobSpec]:
        """Daily: forget picks removed more than 30 days ago; schedule tomorrow's run."""
        purged = await picks_service.purge_removed(self.bot.db, self.bot.clock.now())
        if purged:
            log.info("Purged %d pick(s) removed over 30 days ago", purged)
        tomorrow = job.run_at + timedelta(days=1)
        return [JobSpec(PURGE_JOB, tomorrow, {}, f"{PURGE_JOB}:{tomorrow:%Y-%m-%d}")]

    # -- finding -------------------------------------------------------------------------

    @app_commands.command(
        name="search", description="Search the archive: words, subgenres, places, labels, years"
    )
    @app_commands.describe(
        query="Words to find in artist, title, label, city, note or subgenres (prefixes work)",
        subgenre="Only this subgenre",
        label="Only this label",
        country="Only this country",
        city="Only this city",
        format="Only this format",
        year_from="Released in or after",
        year_to="Released in or before",
        shared_by="Only picks shared by this member",
        public="Post the results in the channel instead of privately",
    )
    @app_commands.choices(format=FORMAT_CHOICES)
    @app_commands.autocomplete(subgenre=autocomplete_subgenre, country=autocomplete_country)
    async def search(
        self,
        interaction: discord.Interaction[Any],
        query: app_commands.Range[str, 1, 200] | None = None,
        subgenre: app_commands.Range[str, 1, 32] | None = None,
        label: app_commands.Range[str, 1, 100] | None = None,
        country: app_commands.Range[str, 1, 60] | None = None,
        city: app_commands.Range[str, 1, 100] | None = None,
        format: str | None = None,
        year_from: app_commands.Range[int, 1900, 2100] | None = None,
        year_to: app_commands.Range[int, 1900, 2100] | None = None,
        shared_by: discord.User | None = None,
        public: bool = False,
    ) -> None:
        guild_id = guild_of(interaction)
        filters = SearchFilters(
            query=query, subgenre=subgenre, label=label, country=country, city=city, format=format,
            year_from=year_from, year_to=year_to, shared_by=shared_by.id if shared_by else None,
        )  # fmt: skip
        page = await picks_service.search_archive(
            self.bot.db, guild_id, filters, 1, self.bot.clock.now()
        )
        summary = describe_filters(filters, shared_by)
        embed = search_embed(page, summary)
        if page.pages > 1:
            pager = SearchPager(
                interaction.user.id, guild_id, filters, summary, page.page, page.pages
            )
            await interaction.response.send_message(embed=embed, view=pager, ephemeral=not public)
        else:
            await interaction.response.send_message(embed=embed, ephemeral=not public)

    @app_commands.command(name="show", description="Everything about one archive entry")
    @app_commands.describe(id="The entry's number (shown on its card as #id)")
    async def show(
        self, interaction: discord.Interaction[Any], id: app_commands.Range[int, 1]
    ) -> None:
        details = await picks_service.pick_details(self.bot.db, guild_of(interaction), id)
        await interaction.response.send_message(embed=details_embed(details), ephemeral=True)

    @app_commands.command(
        name="lineage", description="What an entry grew from and what grew from it"
    )
    @app_commands.describe(id="The entry's number")
    async def lineage(
        self, interaction: discord.Interaction[Any], id: app_commands.Range[int, 1]
    ) -> None:
        details = await picks_service.pick_details(self.bot.db, guild_of(interaction), id)
        await interaction.response.send_message(embed=lineage_embed(details), ephemeral=True)

    @app_commands.command(
        name="random", description="A pick you have not marked heard: digging, not charts"
    )
    @app_commands.describe(
        subgenre="Only this subgenre", country="Only this country", decade="e.g. 1980"
    )
    @app_commands.autocomplete(subgenre=autocomplete_subgenre, country=autocomplete_country)
    async def random(
        self,
        interaction: discord.Interaction[Any],
        subgenre: app_commands.Range[str, 1, 32] | None = None,
        country: app_commands.Range[str, 1, 60] | None = None,
        decade: app_commands.Range[int, 1900, 2100] | None = None,
    ) -> None:
        pick = await picks_service.random_unheard(
            self.bot.db, guild_of(interaction), interaction.user.id, self.bot.clock.now(),
            subgenre=subgenre, country=country, decade=decade,
        )  # fmt: skip
        if pick is None:
            await interaction.response.send_message(
                "Nothing left to dig up there: you have heard everything that matches "
                "(or the archive has nothing that matches yet).",
                ephemeral=True,
            )
            return
        await interaction.response.send_message(
            embed=card_embed(pick), view=card_view(pick), ephemeral=True
        )

    # -- changing ------------------------------------------------------------------------

    @app_commands.command(
        name="edit", description="Edit an entry (the member who shared it, or moderators)"
    )
    @app_commands.describe(id="The entry's number")
    async def edit(
        self, interaction: discord.Interaction[Any], id: app_commands.Range[int, 1]
    ) -> None:
        pick = await picks_service.check_can_manage(
            self.bot.db, guild_of(interaction), id, interaction.user.id, is_moderator(interaction)
        )
        await interaction.response.send_modal(EditPickModal(pick))

    @app_commands.command(
        name="remove", description="Remove an entry (moderators can restore it for 30 days)"
    )
    @app_commands.describe(id="The entry's number")
    async def remove(
        self, interaction: discord.Interaction[Any], id: app_commands.Range[int, 1]
    ) -> None:
        guild_id = guild_of(interaction)
        pick = await picks_service.check_can_manage(
            self.bot.db, guild_id, id, interaction.user.id, is_moderator(interaction)
        )

        async def confirmed(confirm: discord.Interaction[Any]) -> None:
            removed = await picks_service.remove_pick(
                self.bot.db,
                guild_id,
                id,
                confirm.user.id,
                is_moderator(confirm),
                self.bot.clock.now(),
            )
            await refresh_card(self.bot, removed, removed=True)
            await confirm.edit_original_response(
                content=f"Removed **#{id} {clip(heading(removed), 300)}**. "
                "Moderators can bring it back with `/archive restore` within 30 days."
            )

        view = ConfirmView(interaction.user.id, confirmed, "Remove", working="Removing…")
        await interaction.response.send_message(
            f"Remove **#{id} {clip(heading(pick), 300)}** from the archive?",
            view=view,
            ephemeral=True,
        )

    @app_commands.command(name="restore", description="Moderators: undo a removal (within 30 days)")
    @app_commands.describe(id="The entry's number")
    @app_commands.checks.has_permissions(manage_messages=True)
    async def restore(
        self, interaction: discord.Interaction[Any], id: app_commands.Range[int, 1]
    ) -> None:
        pick = await picks_service.restore_pick(
            self.bot.db, guild_of(interaction), id, self.bot.clock.now()
        )
        await interaction.response.send_message(
            f"Restored **#{id} {clip(heading(pick), 300)}**.", ephemeral=True
        )
        await refresh_card(self.bot, pick)

    @app_commands.command(
        name="link", description="Record lineage: how one entry relates to another"
    )
    @app_commands.describe(
        from_id="The entry that grew out of the other",
        to_id="The entry it grew out of",
        relation="How they are related",
    )
    @app_commands.choices(relation=RELATION_CHOICES)
    async def link(
        self,
        interaction: discord.Interaction[Any],
        from_id: app_commands.Range[int, 1],
        to_id: app_commands.Range[int, 1],
        relation: str,
    ) -> None:
        source, target = await picks_service.link_picks(
            self.bot.db,
            guild_of(interaction),
            from_id,
            to_id,
            relation,
            interaction.user.id,
            self.bot.clock.now(),
        )
        await interaction.response.send_message(
            clip(
                f"Linked: **#{source.id} {heading(source)}** is *{relation}* **#{target.id} {heading(target)}**.",
                MESSAGE_CONTENT_LIMIT,
            ),
            ephemeral=True,
        )

    # -- files and figures ---------------------------------------------------------------

    @app_commands.command(
        name="export", description="The whole archive as a file (CSV, JSON or Markdown)"
    )
    @app_commands.describe(format="csv and json can be imported back with /archive import")
    @app_commands.choices(format=[app_commands.Choice(name=f, value=f) for f in EXPORT_FORMATS])
    async def export(self, interaction: discord.Interaction[Any], format: str) -> None:
        guild_id = guild_of(interaction)
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
    @app_commands.checks.has_permissions(manage_messages=True)
    async def import_(
        self, interaction: discord.Interaction[Any], file: discord.Attachment
    ) -> None:
        guild_id = guild_of(interaction)
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
    async def stats(self, interaction: discord.Interaction[Any], public: bool = False) -> None:
        guild_id = guild_of(interaction)
        # Always think privately: if anything fails, the apology must not land in the channel.
        await interaction.response.defer(ephemeral=True, thinking=True)
        raw = await picks_service.stats(self.bot.db, guild_id)
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

    async def _member_name(self, interaction: discord.Interaction[Any], user_id: int) -> str:
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


def describe_filters(filters: SearchFilters, shared_by: discord.abc.User | None) -> str:
    parts = []
    if filters.query:
        parts.append(f"“{clip(filters.query, 60)}”")
    for name, value in (
        ("subgenre", filters.subgenre), ("label", filters.label), ("city", filters.city),
        ("format", filters.format),
    ):  # fmt: skip
        if value:
            parts.append(f"{name} {clip(value, 40)}")
    if filters.country:
        code = resolve_country(filters.country)  # valid: the search has already run with it
        parts.append(f"country {country_name(code) if code else filters.country}")
    if filters.year_from or filters.year_to:
        parts.append(f"years {filters.year_from or '…'} to {filters.year_to or '…'}")
    if shared_by is not None:
        parts.append(f"shared by {clip(shared_by.display_name, 40)}")
    return ", ".join(parts) if parts else "everything"
