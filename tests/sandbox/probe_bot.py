"""A tiny discord.py bot used to exercise the emulator: one command per emulator feature.

It records what happened to it (errors from Discord, timings) in ``self.seen`` so tests can
check the client side as well as the emulator side.
"""

from __future__ import annotations

import asyncio
import datetime
import io
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

ZONES = ["Europe/Berlin", "Europe/London", "America/New_York", "Asia/Tokyo"]


class Panel(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)
        self.likes = 0

    @discord.ui.button(label="Like", custom_id="panel:like", style=discord.ButtonStyle.primary)
    async def like(
        self, interaction: discord.Interaction, button: discord.ui.Button[Panel]
    ) -> None:
        self.likes += 1
        await interaction.response.edit_message(content=f"likes: {self.likes}", view=self)

    @discord.ui.select(
        custom_id="panel:genre",
        options=[
            discord.SelectOption(label=g, value=g.lower())
            for g in ("Shoegaze", "Minimal synth", "Dub")
        ],
    )
    async def genre(
        self, interaction: discord.Interaction, select: discord.ui.Select[Panel]
    ) -> None:
        await interaction.response.send_message(f"you picked {select.values[0]}", ephemeral=True)


class Feedback(discord.ui.Modal, title="Feedback"):
    summary = discord.ui.TextInput(label="Summary", custom_id="feedback:summary", max_length=50)
    details = discord.ui.TextInput(
        label="Details",
        custom_id="feedback:details",
        style=discord.TextStyle.paragraph,
        required=False,
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"thanks: {self.summary.value} / {self.details.value or '-'}"
        )


class ProbeBot(commands.Bot):
    def __init__(self) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            guild_ready_timeout=0.05,
            heartbeat_timeout=10.0,
        )
        self.seen: dict[str, Any] = {"errors": [], "zones": {}}
        self.slow_delay = 0.0
        self._errors_changed = asyncio.Event()
        self._register()

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s before every re-IDENTIFY (Discord's identify rate limit); the
        emulator has no such limit, so the probe skips the wait to keep tests fast."""

    def note_error(self, *entry: Any) -> None:
        self.seen["errors"].append(entry)
        self._errors_changed.set()

    async def errors_at_least(self, count: int) -> list[Any]:
        """Wait (by event) until the bot has noted ``count`` errors."""
        async with asyncio.timeout(5):
            while len(self.seen["errors"]) < count:
                self._errors_changed.clear()
                await self._errors_changed.wait()
        return list(self.seen["errors"])

    def _register(self) -> None:
        tree = self.tree
        seen = self.seen
        bot = self

        @tree.command(description="Say something back, then follow up")
        async def echo(interaction: discord.Interaction, text: str, times: int = 1) -> None:
            await interaction.response.send_message(text * times)
            await interaction.followup.send(f"followup: {text}")

        settings = app_commands.Group(name="settings", description="Your settings")

        @settings.command(name="timezone", description="Set your time zone")
        async def timezone(interaction: discord.Interaction, zone: str) -> None:
            seen["zones"][interaction.user.id] = zone
            await interaction.response.send_message(f"zone set to {zone}", ephemeral=True)

        @timezone.autocomplete("zone")
        async def zone_choices(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [
                app_commands.Choice(name=z, value=z) for z in ZONES if current.lower() in z.lower()
            ]

        @settings.command(name="show", description="Show your settings")
        async def show(interaction: discord.Interaction) -> None:
            zone = seen["zones"].get(interaction.user.id, "unset")
            await interaction.response.send_message(f"zone: {zone}", ephemeral=True)

        tree.add_command(settings)

        admin = app_commands.Group(
            name="admin",
            description="Moderator tools",
            default_permissions=discord.Permissions(manage_guild=True),
        )

        @admin.command(name="purge", description="Pretend to purge")
        async def purge(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("purged", ephemeral=True)

        tree.add_command(admin)

        @tree.command(description="Show a panel with a button and a select")
        async def panel(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("likes: 0", view=Panel())

        @tree.command(description="Open a modal")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(Feedback())

        @tree.command(description="Answer late")
        async def slow(interaction: discord.Interaction) -> None:
            await asyncio.sleep(bot.slow_delay)
            try:
                await interaction.response.send_message("finally")
            except discord.HTTPException as exc:
                bot.note_error("slow", exc.status, exc.code, exc.text)

        @tree.command(description="Answer too long")
        async def long(interaction: discord.Interaction, size: int = 2001) -> None:
            try:
                await interaction.response.send_message("x" * size)
            except discord.HTTPException as exc:
                bot.note_error("long", exc.status, exc.code, exc.text)
                await interaction.response.send_message("too long", ephemeral=True)

        @tree.command(description="Post to the channel")
        async def post(interaction: discord.Interaction, text: str) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            channel = interaction.channel
            assert isinstance(channel, discord.TextChannel)
            message = await channel.send(text)
            await interaction.followup.send(f"posted {message.id}", ephemeral=True)

        @tree.command(description="Think, then answer")
        async def think(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.followup.send("thought about it")
            await interaction.followup.send("and one more thing")

        @tree.command(description="Open a thread for a topic")
        async def topic(interaction: discord.Interaction, name: str) -> None:
            await interaction.response.send_message(f"thread for {name}")
            message = await interaction.original_response()
            thread = await message.create_thread(name=name)
            await thread.send("first post")

        @tree.command(description="DM someone")
        async def poke(interaction: discord.Interaction, member: discord.Member) -> None:
            try:
                await member.send(f"{interaction.user.display_name} poked you")
            except discord.Forbidden as exc:
                await interaction.response.send_message(f"cannot DM: {exc.code}", ephemeral=True)
                return
            await interaction.response.send_message("poked", ephemeral=True)

        @tree.command(description="Schedule a listening party")
        async def party(
            interaction: discord.Interaction, name: str, hours_from_now: int = 24
        ) -> None:
            assert interaction.guild is not None
            start = discord.utils.utcnow() + datetime.timedelta(hours=hours_from_now)
            try:
                event = await interaction.guild.create_scheduled_event(
                    name=name,
                    start_time=start,
                    end_time=start + datetime.timedelta(hours=2),
                    entity_type=discord.EntityType.external,
                    privacy_level=discord.PrivacyLevel.guild_only,
                    location="The usual place",
                )
            except discord.HTTPException as exc:
                bot.note_error("party", exc.status, exc.code, exc.text)
                await interaction.response.send_message(f"failed: {exc.code}", ephemeral=True)
                return
            await interaction.response.send_message(f"scheduled {event.id}")

        @tree.command(description="Upload a file")
        async def upload(interaction: discord.Interaction, text: str) -> None:
            file = discord.File(io.BytesIO(text.encode()), filename="note.txt")
            await interaction.response.send_message("here you go", file=file)

        @tree.command(description="Edit and delete the original")
        async def scratch(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("draft")
            await interaction.edit_original_response(content="final")
            note = await interaction.followup.send("temporary", wait=True)
            await note.delete()

        @tree.command(description="Answer twice")
        async def twice(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("one")
            try:
                await interaction.response.send_message("two")
            except discord.InteractionResponded:
                bot.note_error("twice", "library refused")
            try:
                await bot.http.request(
                    discord.http.Route(
                        "POST",
                        "/interactions/{i}/{t}/callback",
                        i=interaction.id,
                        t=interaction.token,
                    ),
                    json={"type": 4, "data": {"content": "two"}},
                )
            except discord.HTTPException as exc:
                bot.note_error("twice", exc.status, exc.code, exc.text)
