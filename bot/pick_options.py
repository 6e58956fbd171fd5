"""Slash-command options about picks, shared by every command that takes them: their types
(lengths and ranges derived from the domain's limits), fixed choices and autocompletes.

Shared Discord presentation, not a cog: ``/rec share``, ``/archive …`` and the features to come
(a party's record, a swap pick) take the same options and must accept the same values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.domain.picks import (
    FORMATS,
    LIMITS,
    MIN_YEAR,
    RELATIONS,
    YEAR_OPTION_MAX,
    match_countries,
    normalize_tag,
)
from bot.replies import clip
from bot.services import archive_search

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

CHOICE_LIMIT = 100  # Discord's limit on an autocomplete choice's name and value
MAX_CHOICES = 25  # Discord's limit on how many choices one autocomplete answer holds

# Option types: Discord refuses longer input before the bot sees it, and the form fields that
# edit the same things use the same limits.
ArtistOption = app_commands.Range[str, 1, LIMITS["artist"]]
TitleOption = app_commands.Range[str, 1, LIMITS["title"]]
LinkOption = app_commands.Range[str, 1, LIMITS["link"]]
SubgenresOption = app_commands.Range[str, 1, LIMITS["subgenres"]]
SubgenreOption = app_commands.Range[str, 1, LIMITS["subgenre"]]
LabelOption = app_commands.Range[str, 1, LIMITS["label"]]
CountryOption = app_commands.Range[str, 1, LIMITS["country"]]
CityOption = app_commands.Range[str, 1, LIMITS["city"]]
NoteOption = app_commands.Range[str, 1, LIMITS["note"]]
QueryOption = app_commands.Range[str, 1, LIMITS["query"]]
YearOption = app_commands.Range[int, MIN_YEAR, YEAR_OPTION_MAX]
EntryOption = app_commands.Range[int, 1]

FORMAT_CHOICES = [app_commands.Choice(name=name, value=name) for name in FORMATS]
RELATION_CHOICES = [app_commands.Choice(name=name, value=name) for name in RELATIONS]


async def autocomplete_subgenres(
    interaction: discord.Interaction[UndercurrentBot], current: str
) -> list[app_commands.Choice[str]]:
    """For a comma-separated list: completes the last piece with the server's tags, most used
    first, leaving out tags already in the list and any that would not fit the option."""
    if interaction.guild_id is None:
        return []
    done, _, last = current.rpartition(",")
    prefix = f"{done.strip()}, " if done.strip() else ""
    listed = {normalize_tag(piece) for piece in done.split(",")}
    tags = await archive_search.tag_suggestions(
        interaction.client.db, interaction.guild_id, last, limit=MAX_CHOICES + len(listed)
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
    return choices[:MAX_CHOICES]


async def autocomplete_subgenre(
    interaction: discord.Interaction[UndercurrentBot], current: str
) -> list[app_commands.Choice[str]]:
    """For a single-subgenre filter: the server's tags containing what is typed, most used first."""
    if interaction.guild_id is None:
        return []
    tags = await archive_search.tag_suggestions(
        interaction.client.db, interaction.guild_id, current
    )
    return [
        app_commands.Choice(name=clip(f"{tag} ({count})", CHOICE_LIMIT), value=tag)
        for tag, count in tags
        if len(tag) <= CHOICE_LIMIT
    ][:MAX_CHOICES]


async def autocomplete_country(
    interaction: discord.Interaction[UndercurrentBot], current: str
) -> list[app_commands.Choice[str]]:
    """Countries by name, code or common alias; the server's own countries first."""
    if interaction.guild_id is None:
        matches = match_countries(current, MAX_CHOICES)
    else:
        matches = await archive_search.country_choices(
            interaction.client.db, interaction.guild_id, current, MAX_CHOICES
        )
    return [
        app_commands.Choice(name=clip(f"{name} ({code})", CHOICE_LIMIT), value=code)
        for code, name in matches
    ]
