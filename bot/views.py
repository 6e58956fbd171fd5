"""The interaction kit's views: every feature's buttons, forms and prompts are built on these.

* ``SafeView``, ``SafeModal`` and ``SafeDynamicItem`` send any error through the one mapper in
  ``bot.interactions`` (a ``UserError`` is the member's private answer; anything else is logged
  and apologised for), so no feature writes its own ``try/except``.
* ``OwnedView``: buttons for the one member they were made for.
* ``ConfirmView``: Yes/No that answers at once and then does the (possibly slow) work.
* ``FixItView``: after a mistake in a form, reopens it with what the member typed.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Self, TypeVar

import discord

from bot.errors import UserError
from bot.interactions import report_error
from bot.replies import reply_privately

if TYPE_CHECKING:
    from bot.client import UndercurrentBot

ItemT = TypeVar("ItemT", bound=discord.ui.Item[Any])


class SafeView(discord.ui.View):
    """A view whose errors reach the member the same way command errors do."""

    # discord.py's hooks are generic in the client, so the overrides here take any interaction;
    # what features write (button callbacks, ``clicked``, ``submitted``) is typed for this bot.
    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        custom_id = getattr(item, "custom_id", None) or type(item).__name__
        await report_error(interaction, error, f"Component {custom_id}")


class OwnedView(SafeView):
    """A view for the one member it was made for; anyone else is told so, privately."""

    not_yours = "These buttons belong to the member who ran the command."

    def __init__(self, owner_id: int, *, timeout: float | None) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await reply_privately(interaction, self.not_yours)
        return False


class SafeModal(discord.ui.Modal):
    """A form whose errors reach the member the same way command errors do. Subclasses
    implement ``submitted``."""

    async def submitted(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        raise NotImplementedError

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        await self.submitted(interaction)

    # discord.py's Modal.on_error drops the ``item`` parameter of the View method it overrides.
    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        await report_error(interaction, error, f"Modal {self.title!r}")


class SafeDynamicItem(discord.ui.DynamicItem[ItemT], template=r"(?!)"):
    """A restart-proof component whose errors reach the member like command errors do.

    discord.py only logs what a dynamic item's callback raises, and the member is left with
    "This interaction failed". Subclasses implement ``clicked``; ``callback`` routes whatever it
    raises through the tree's mapper. (The base's template matches nothing, so the base itself
    can never be routed to.)"""

    async def clicked(self, interaction: discord.Interaction[UndercurrentBot]) -> None:
        raise NotImplementedError

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await self.clicked(interaction)
        except Exception as error:
            await report_error(interaction, error, f"Button {self.custom_id}")

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        return cls.from_match(match)

    @classmethod
    def from_match(cls, match: re.Match[str]) -> Self:
        """The item for a ``custom_id`` that matched the template (only ids are in it)."""
        raise NotImplementedError


class ConfirmView(OwnedView):
    """Yes/No, for the member who asked only.

    Confirming answers at once (the prompt becomes ``working``, without buttons), then runs
    ``on_confirm``, which reports through ``interaction.edit_original_response``: the work may
    take longer than Discord's 3 s for a first answer. A ``UserError`` (say, the entry was
    removed meanwhile) replaces the prompt."""

    def __init__(
        self,
        owner_id: int,
        on_confirm: Callable[[discord.Interaction[UndercurrentBot]], Awaitable[None]],
        confirm_label: str = "Confirm",
        *,
        working: str = "Working…",
    ) -> None:
        super().__init__(owner_id, timeout=120)
        self.on_confirm = on_confirm
        self.working = working
        self.confirm.label = confirm_label

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[UndercurrentBot], button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.edit_message(content=self.working, embed=None, view=None)
        self.stop()
        try:
            await self.on_confirm(interaction)
        except UserError as error:
            await interaction.edit_original_response(content=error.message)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[UndercurrentBot], button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(
            content="Cancelled; nothing was changed.", embed=None, view=None
        )


class FixItView(OwnedView):
    """Reopens a form after a mistake, filled with what the member typed."""

    def __init__(self, owner_id: int, form: Callable[[], discord.ui.Modal]) -> None:
        super().__init__(owner_id, timeout=900)
        self.form = form

    @discord.ui.button(label="Fix it", style=discord.ButtonStyle.primary)
    async def fix(
        self, interaction: discord.Interaction[UndercurrentBot], button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.send_modal(self.form())
