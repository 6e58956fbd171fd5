"""Finding things in the archive: ``/archive search``, ``show``, ``lineage`` and ``random``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.search import SearchFilters
from bot.interactions import require_guild
from bot.pick_cards import card_embed, card_view
from bot.pick_options import (
    FORMAT_CHOICES,
    CityOption,
    CountryOption,
    EntryOption,
    LabelOption,
    QueryOption,
    SubgenreOption,
    YearOption,
    autocomplete_country,
    autocomplete_subgenre,
)
from bot.services import archive_search
from bot.services import picks as picks_service
from cogs.archive.embeds import describe_filters, details_embed, lineage_embed, search_embed
from cogs.archive.views import SearchPager

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

NOTHING_LEFT = (
    "Nothing left to dig up there: you have heard everything that matches "
    "(or the archive has nothing that matches yet)."
)


class BrowseCommands(commands.Cog):
    """Mixed into ``ArchiveCog``: the commands that read the archive."""

    bot: UndercurrentBot

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
        interaction: discord.Interaction[UndercurrentBot],
        query: QueryOption | None = None,
        subgenre: SubgenreOption | None = None,
        label: LabelOption | None = None,
        country: CountryOption | None = None,
        city: CityOption | None = None,
        format: str | None = None,
        year_from: YearOption | None = None,
        year_to: YearOption | None = None,
        shared_by: discord.User | None = None,
        public: bool = False,
    ) -> None:
        guild_id = require_guild(interaction)
        filters = SearchFilters(
            query=query, subgenre=subgenre, label=label, country=country, city=city, format=format,
            year_from=year_from, year_to=year_to, shared_by=shared_by.id if shared_by else None,
        )  # fmt: skip
        page = await archive_search.search_archive(
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
        self, interaction: discord.Interaction[UndercurrentBot], id: EntryOption
    ) -> None:
        details = await picks_service.pick_details(self.bot.db, require_guild(interaction), id)
        await interaction.response.send_message(embed=details_embed(details), ephemeral=True)

    @app_commands.command(
        name="lineage", description="What an entry grew from and what grew from it"
    )
    @app_commands.describe(id="The entry's number")
    async def lineage(
        self, interaction: discord.Interaction[UndercurrentBot], id: EntryOption
    ) -> None:
        details = await picks_service.pick_details(self.bot.db, require_guild(interaction), id)
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
        interaction: discord.Interaction[UndercurrentBot],
        subgenre: SubgenreOption | None = None,
        country: CountryOption | None = None,
        decade: YearOption | None = None,
    ) -> None:
        pick = await archive_search.random_unheard(
            self.bot.db, require_guild(interaction), interaction.user.id, self.bot.clock.now(),
            subgenre=subgenre, country=country, decade=decade,
        )  # fmt: skip
        if pick is None:
            await interaction.response.send_message(NOTHING_LEFT, ephemeral=True)
            return
        await interaction.response.send_message(
            embed=card_embed(pick), view=card_view(pick), ephemeral=True
        )
