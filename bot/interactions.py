"""The interaction kit's plumbing: guards every command shares, and one way to turn any
interaction error into what the member sees.

* ``require_guild``, ``is_moderator`` and the ``moderators_only`` / ``server_managers_only``
  checks: what every feature asks of an interaction. Interactions are typed
  ``discord.Interaction[UndercurrentBot]``, so ``interaction.client`` is the bot, typed, in
  views and dynamic items that have no cog to hold it.
* ``report_error``: the command tree, every view, modal and restart-proof button route their
  errors here. A ``UserError`` becomes its message, privately; Discord's own check failures
  become a plain sentence; anything else is logged with where it happened and the member gets a
  short apology.
* ``answer_if_expired``: a click on buttons nothing handles any more gets a clear answer.

The views built on these (owned, confirm, fix-it, safe dynamic items) are in ``bot.views``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands

from bot.domain.text import broken_text_message, has_lone_surrogate
from bot.errors import UserError
from bot.replies import reply_privately

log = logging.getLogger(__name__)

EXPIRED = (
    "These buttons have expired (they time out, and a restart of the bot ends them). "
    "Run the command again for fresh ones."
)
APOLOGY = (
    "Sorry — something went wrong on our side and your request was not completed. "
    "It has been logged; please try again in a moment."
)


NOT_IN_A_SERVER = "That only works inside a server."

# Who counts as a moderator is Discord's own permissions, never a bot-specific role list.
moderators_only = app_commands.checks.has_permissions(manage_messages=True)
server_managers_only = app_commands.checks.has_permissions(manage_guild=True)


def require_guild(interaction: discord.Interaction[Any]) -> int:
    """The server the interaction came from; a private ``UserError`` in a DM."""
    if interaction.guild_id is None:
        raise UserError(NOT_IN_A_SERVER)
    return interaction.guild_id


def manages_events(interaction: discord.Interaction[Any]) -> bool:
    """Whether the member may run others' parties and swap rounds here (Manage Events)."""
    return bool(interaction.permissions.manage_events)


def is_moderator(interaction: discord.Interaction[Any]) -> bool:
    """Whether the member may moderate the archive here (Manage Messages)."""
    return bool(interaction.permissions.manage_messages)


# Discord sends integer and number options between -2**53 and 2**53; past that a value is
# not from Discord's own client (and past 2**63 SQLite can't even hold it).
OPTION_NUMBER_LIMIT = 2**53


def unusable_option(options: Sequence[Any]) -> str | None:
    """Why a command's options (``interaction.data["options"]``, subcommands included) can't be
    used, for the member; None if they can. Only what no real Discord client sends is caught
    here: a number past Discord's limit, or text holding half of a character."""
    for option in options:
        name, value = option.get("name", "?"), option.get("value")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not -OPTION_NUMBER_LIMIT <= value <= OPTION_NUMBER_LIMIT:
                return f"`{str(value)[:40]}` is not a valid value for **{name}**."
        elif isinstance(value, str) and has_lone_surrogate(value):
            return broken_text_message(name)
        problem = unusable_option(option.get("options", ()))
        if problem is not None:
            return problem
    return None


def describe_permissions(names: Sequence[str]) -> str:
    """``["manage_guild"]`` → ``Manage Server``, as Discord's own UI names it."""
    pretty = {"manage_guild": "Manage Server", "manage_messages": "Manage Messages"}
    return ", ".join(pretty.get(name, name.replace("_", " ").title()) for name in names)


def user_message_for(error: BaseException) -> str | None:
    """What to tell the member about ``error``, or None if it is our fault (log it, apologise)."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(original, UserError):
        return original.message
    if isinstance(error, app_commands.MissingPermissions):
        needed = describe_permissions(error.missing_permissions)
        return f"You need the **{needed}** permission to do that."
    if isinstance(error, app_commands.BotMissingPermissions):
        needed = describe_permissions(error.missing_permissions)
        return f"I need the **{needed}** permission here; ask a moderator to grant it."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That command only works inside a server."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little — try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.TransformerError):
        return f"`{str(error.value)[:100]}` is not a valid value for that option."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that command here."
    if isinstance(error, app_commands.CommandSignatureMismatch | app_commands.CommandNotFound):
        return "That command has just been updated. Please try again in a minute."
    return None


async def report_error(
    interaction: discord.Interaction[Any], error: BaseException, where: str
) -> None:
    """Tell the member what went wrong (privately); log it if it was not their doing."""
    message = user_message_for(error)
    if message is None:
        original = getattr(error, "original", error)
        log.error(
            "%s failed (guild=%s channel=%s user=%s options=%s)",
            where,
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id,
            dict(iter(interaction.namespace)),
            exc_info=original,
        )
        message = APOLOGY
    elif isinstance(error, app_commands.CommandSignatureMismatch | app_commands.CommandNotFound):
        log.warning("Discord's copy of the commands is out of date: %s", error)
    await reply_privately(interaction, message)


def is_routed_to_a_view(interaction: discord.Interaction[Any]) -> bool:
    """Whether discord.py found a live view, modal or dynamic item for this component click or
    form submission. If none, nothing will answer it and the member would only see Discord's
    "This interaction failed"."""
    data: dict[str, Any] = dict(interaction.data or {})
    custom_id = str(data.get("custom_id", ""))
    routes = live_routes(interaction.client)
    if interaction.type is discord.InteractionType.modal_submit:
        return custom_id in routes.modals
    if any(pattern.fullmatch(custom_id) for pattern in routes.dynamic_items):
        return True
    key = (data.get("component_type"), custom_id)
    message_id = interaction.message.id if interaction.message else None
    return key in routes.views.get(message_id, {}) or key in routes.views.get(None, {})


class LiveRoutes:
    """What discord.py would route a component or form to: modal custom ids, dynamic item
    patterns, and ``{message id or None: {(component type, custom id): item}}``."""

    __slots__ = ("dynamic_items", "modals", "views")

    def __init__(self, store: Any) -> None:
        self.modals: dict[str, Any] = store._modals
        self.dynamic_items: dict[Any, Any] = store._dynamic_items
        self.views: dict[int | None, dict[tuple[Any, str], Any]] = store._views


def live_routes(client: discord.Client) -> LiveRoutes:
    """The one read of discord.py's private view store.

    discord.py (2.7) has no public way to ask whether a component or form will be handled:
    ``Client.persistent_views`` lists only views without a timeout, and nothing lists modals or
    dynamic items. This mirrors the lookups ``ViewStore.dispatch_view``/``dispatch_modal`` make;
    ``tests/cogs/test_expired_components.py`` fails loudly if discord.py renames any of it."""
    return LiveRoutes(client._connection._view_store)


EXPIRY_GRACE_SECONDS = 2.5  # Discord's deadline for the first answer is 3 s


async def answer_if_expired(interaction: discord.Interaction[Any]) -> None:
    """Called for every interaction, after discord.py has routed it: a click or submission that
    no live view will handle (timed out, or from before a restart) gets a clear private answer.

    A view that stops itself while handling the click has already left the store, so "not
    routed" only means "maybe": any handler gets until just before Discord's deadline to answer
    first, and only an interaction nobody answered is told it expired."""
    routed_types = (discord.InteractionType.component, discord.InteractionType.modal_submit)
    if interaction.type not in routed_types or is_routed_to_a_view(interaction):
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + EXPIRY_GRACE_SECONDS
    # discord.py sets no event when an interaction is answered, so this polls.
    while not interaction.response.is_done() and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    if interaction.response.is_done():
        return
    try:
        await interaction.response.send_message(EXPIRED, ephemeral=True)
    except discord.HTTPException:
        log.info("Could not tell a member their buttons expired", exc_info=True)
