"""The two pages of a pick's form, shared by every feature that asks a member for a pick: the
words (artist, title, link, subgenres, note) and the details (label, year, country, city,
format). A Discord form holds five inputs, hence two pages; each input's length limit is the
domain's for that field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.domain.picks import FORMATS, LIMITS, MAX_TAGS
from bot.errors import UserError


@dataclass(frozen=True, slots=True)
class FormField:
    """One text input of a pick form; its length limit is the domain's for that field."""

    name: str  # a PickFields field, and the text input's custom_id
    label: str
    required: bool = False
    paragraph: bool = False
    placeholder: str | None = None

    @property
    def max_length(self) -> int:
        return LIMITS[self.name]


WORDS = (
    FormField("artist", "Artist", required=True),
    FormField("title", "Title", required=True),
    FormField("link", "Link"),
    FormField("subgenres", f"Subgenres (comma-separated, at most {MAX_TAGS})"),
    FormField("note", "Note", paragraph=True),
)
DETAILS = (
    FormField("label", "Label"),
    FormField("year", "Year"),
    FormField("country", "Country (name or ISO code)"),
    FormField("city", "City"),
    FormField("format", "Format", placeholder=", ".join(FORMATS[:-1]) + f" or {FORMATS[-1]}"),
)


def add_inputs(
    form: discord.ui.Modal, fields: Sequence[FormField], shown: Mapping[str, str]
) -> dict[str, discord.ui.TextInput[Any]]:
    """Add a text input per field to ``form``, filled with ``shown``; returns them by name."""
    inputs: dict[str, discord.ui.TextInput[Any]] = {}
    for field in fields:
        item: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id=field.name,
            label=field.label,
            default=shown.get(field.name) or None,
            required=field.required,
            max_length=field.max_length,
            placeholder=field.placeholder,
            style=discord.TextStyle.paragraph if field.paragraph else discord.TextStyle.short,
        )
        inputs[field.name] = item
        form.add_item(item)
    return inputs


def typed_value(name: str, value: str) -> Any:
    """A form's text as the pick field takes it: empty is None; the year is a number."""
    value = value.strip()
    if name != "year" or not value:
        return value or None
    if not (value.isascii() and value.isdecimal()):
        raise UserError("**year** must be a number such as 1983.")
    return int(value)
