"""What a member does on the page, each done through the ``Driver`` exactly as the Discord
client would deliver it (the emulator's permission and length rules apply; what they refuse
comes back as ``{"error": …}``).

Every action is ``POST /app/api/<name>`` with a JSON object carrying ``as`` (the acting
member's user ID) where a member acts:

    command       {channel, command, path: [sub…], options: {name: value}}
    autocomplete  {channel, command, path, options, focused, value}    -> {choices}
    click         {message, custom_id}
    select        {message, custom_id, values: [...]}
    modal         {interaction, values: {custom_id: text | [values]}}
    message       {channel, content}
    react         {message, emoji, on: bool}
    rsvp          {event, interested: bool}
    members       {name}                    (no ``as``: a new plain member joins the guild)
    advance       {seconds} | {next: true}  (no ``as``)
    restart       {}                        (no ``as``)

Interactions answer ``{"interaction", "response_type", "modal", "message"}`` once the bot has
answered (a modal to open, or the message the page will show on its next refresh).
Option values are typed by the option's declared type: user, channel and role options take IDs,
attachments ``{"filename", "data"}`` with the bytes in base64.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sandbox.driver import (
    ATTACHMENT,
    BOOLEAN,
    CHANNEL,
    INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    USER,
    ActionNotPossible,
    Driver,
    InteractionResult,
    leaf_options,
)
from sandbox.model import ApplicationCommand, Channel, ChannelType, Member, Message
from sandbox.page.guard import PageError
from sandbox.page.messages import display_name
from sandbox.page.state import acting_member, page_guild, visible_channel
from sandbox.validation import MESSAGE_CONTENT_LIMIT

if TYPE_CHECKING:
    from sandbox.server import Emulator

JSON = dict[str, Any]

USERNAME_RE = re.compile(r"^[a-z0-9_.]{2,32}$")
#: The longest single jump the time control makes (a bigger one is several clicks).
LONGEST_ADVANCE = datetime.timedelta(days=31)
#: Past the due time, so a job due at exactly that instant has come due.
SKIP_MARGIN = datetime.timedelta(seconds=1)
#: Selects whose values are IDs of users, roles, mentionables or channels.
ID_SELECTS = frozenset({5, 6, 7, 8})
ATTACHMENT_LIMIT = 10 * 1024 * 1024


class PageActions:
    """The page's actions against one emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    @property
    def driver(self) -> Driver:
        return self.emulator.driver

    # -- interactions -------------------------------------------------------------------------

    async def command(self, body: JSON) -> JSON:
        member, channel = self._member_and_channel(body)
        command, path = self._command(body, member, channel)
        options = self._typed_options(command, path, _mapping(body, "options"), strict=True)
        result = await self.driver.run_command(
            _command_line(command, path), user=member, channel=channel, options=options
        )
        return await self._outcome(result)

    async def autocomplete(self, body: JSON) -> JSON:
        member, channel = self._member_and_channel(body)
        command, path = self._command(body, member, channel)
        focused = _text(body, "focused")
        others = {k: v for k, v in _mapping(body, "options").items() if k != focused}
        options = self._typed_options(command, path, others, strict=False)
        choices = await self.driver.autocomplete(
            _command_line(command, path),
            user=member,
            channel=channel,
            focused=focused,
            value=str(body.get("value") or ""),
            options=options,
            within=self._deadline(),
        )
        return {"choices": choices}

    async def click(self, body: JSON) -> JSON:
        member = acting_member(self.emulator, body.get("as"))
        message = self._message(body, member)
        result = await self.driver.click_button(message, _text(body, "custom_id"), user=member.user)
        return await self._outcome(result)

    async def select(self, body: JSON) -> JSON:
        member = acting_member(self.emulator, body.get("as"))
        message = self._message(body, member)
        custom_id = _text(body, "custom_id")
        values = body.get("values")
        if not isinstance(values, list):
            raise PageError(400, "Choose at least one value.")
        component = message.find_component(custom_id) or {}
        if component.get("type") in ID_SELECTS:
            values = [_id(v, "value") for v in values]
        result = await self.driver.select(message, custom_id, values, user=member.user)
        return await self._outcome(result)

    async def modal(self, body: JSON) -> JSON:
        member = acting_member(self.emulator, body.get("as"))
        raw = str(body.get("interaction") or "")
        opened = self.emulator.world.interactions.get(int(raw)) if raw.isdigit() else None
        if opened is None or opened.user.id != member.id or opened.callback_type != 9:
            raise PageError(404, "That form is no longer open.")
        values = _mapping(body, "values")
        result = await self.driver.submit_modal(
            InteractionResult(self.driver, opened), values, user=member.user
        )
        return await self._outcome(result)

    # -- plain acts ---------------------------------------------------------------------------

    async def message(self, body: JSON) -> JSON:
        member, channel = self._member_and_channel(body)
        content = str(body.get("content") or "")
        if not content.strip():
            raise PageError(400, "Type a message first.")
        if len(content) > MESSAGE_CONTENT_LIMIT:
            raise PageError(
                400, f"Your message is too long ({len(content)}/{MESSAGE_CONTENT_LIMIT})."
            )
        if channel.type == ChannelType.DM:
            raise PageError(400, "In the sandbox, talk to the bot with its commands in the server.")
        sent = await self.driver.send_message(content, user=member.user, channel=channel)
        return {"message": str(sent.id)}

    async def react(self, body: JSON) -> JSON:
        member = acting_member(self.emulator, body.get("as"))
        message = self._message(body, member)
        emoji = _text(body, "emoji")
        if body.get("on", True):
            await self.driver.react(message, emoji, user=member.user)
        else:
            await self.driver.unreact(message, emoji, user=member.user)
        return {"ok": True}

    async def rsvp(self, body: JSON) -> JSON:
        member = acting_member(self.emulator, body.get("as"))
        event_id = _id(body.get("event"), "event")
        if event_id not in page_guild(self.emulator).scheduled_events:
            raise PageError(404, "There is no such event.")
        if body.get("interested", True):
            await self.driver.rsvp(event_id, user=member.user)
        else:
            await self.driver.unrsvp(event_id, user=member.user)
        return {"ok": True}

    async def add_member(self, body: JSON) -> JSON:
        name = str(body.get("name") or "").strip().lower()
        if not USERNAME_RE.match(name):
            raise PageError(
                400, "A name is 2 to 32 lowercase letters, digits, dots or underscores."
            )
        if self.emulator.world.has_user(name):
            raise PageError(409, f"{name} is already taken.")
        member = page_guild(self.emulator).add_member(name)
        return {"id": str(member.id), "name": display_name(member.user)}

    # -- the world ----------------------------------------------------------------------------

    async def advance(self, body: JSON) -> JSON:
        if body.get("next"):
            step = await self._until_next_job()
        else:
            try:
                step = datetime.timedelta(seconds=float(body.get("seconds") or 0))
            except (TypeError, ValueError, OverflowError) as exc:
                raise PageError(400, "Say how many seconds.") from exc
        if not datetime.timedelta(0) < step <= LONGEST_ADVANCE:
            raise PageError(400, "Time moves forward, at most a month at once.")
        await self.driver.advance(step)
        return {"clock": self.emulator.world.clock.reading(), "seconds": step.total_seconds()}

    async def restart(self, body: JSON) -> JSON:
        if self.emulator.restart_bot is None:
            raise PageError(404, "The bot cannot be restarted from here.")
        await self.emulator.restart_bot()
        return {"ok": True}

    async def _until_next_job(self) -> datetime.timedelta:
        if self.emulator.next_scheduled is None:
            raise PageError(404, "The bot's schedule cannot be seen from here.")
        due = await self.emulator.next_scheduled()
        if due is None:
            raise PageError(409, "The bot has nothing scheduled.")
        return max(due - self.emulator.world.now(), datetime.timedelta(0)) + SKIP_MARGIN

    # -- helpers ------------------------------------------------------------------------------

    def _deadline(self) -> float:
        """How long the page waits for the bot's answer: Discord's deadline and a little."""
        return self.emulator.interaction_deadline + 2.0

    async def _outcome(self, result: InteractionResult) -> JSON:
        await result.wait_response(within=self._deadline())
        original = result.interaction.original_message_id
        return {
            "interaction": str(result.interaction.id),
            "response_type": result.response_type,
            "modal": result.modal,
            "message": None if original is None else str(original),
        }

    def _member_and_channel(self, body: JSON) -> tuple[Member, Channel]:
        member = acting_member(self.emulator, body.get("as"))
        channel = visible_channel(self.emulator, member, body.get("channel"))
        if str(channel.id) != str(body.get("channel")):
            raise PageError(404, "You cannot see that channel.")
        return member, channel

    def _message(self, body: JSON, member: Member) -> Message:
        message = self.emulator.world.messages.get(_id(body.get("message"), "message"))
        if message is None or message.deleted:
            raise PageError(404, "That message is gone.")
        readable = visible_channel(self.emulator, member, message.channel_id)
        if readable.id != message.channel_id or message.ephemeral_for not in (None, member.id):
            raise PageError(404, "That message is gone.")
        return message

    def _command(
        self, body: JSON, member: Member, channel: Channel
    ) -> tuple[ApplicationCommand, list[str]]:
        if channel.type == ChannelType.DM:
            raise PageError(400, "Use the bot's commands in the server.")
        command = self.driver.find_command(_text(body, "command"), user=member, channel=channel)
        path = body.get("path") or []
        if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
            raise PageError(400, "A subcommand path is a list of names.")
        return command, path

    def _typed_options(
        self,
        command: ApplicationCommand,
        path: list[str],
        raw: Mapping[str, Any],
        *,
        strict: bool,
    ) -> dict[str, Any]:
        """Option values as the driver takes them, by each option's declared type. Not
        ``strict`` (autocomplete), a half-typed value that does not parse is left out."""
        declared = {o["name"]: o for o in leaf_options(command, path)[0]}
        typed: dict[str, Any] = {}
        for name, value in raw.items():
            option = declared.get(name)
            if option is None or value in (None, ""):
                if strict and option is None:
                    raise ActionNotPossible(f"/{command.name} has no option {name!r}")
                continue
            try:
                typed[name] = self._option_value(int(option["type"]), value)
            except (ValueError, TypeError) as exc:
                if strict:
                    raise PageError(400, f"{name}: {value!r} is not a valid value.") from exc
            except PageError:
                if strict:
                    raise
        return typed

    def _option_value(self, kind: int, value: Any) -> Any:
        if kind == INTEGER:
            return int(str(value))
        if kind == NUMBER:
            return float(str(value))
        if kind == BOOLEAN:
            return value if isinstance(value, bool) else str(value).lower() == "true"
        if kind in (USER, CHANNEL, ROLE):
            return _id(value, "option value")
        if kind == MENTIONABLE:
            found = _id(value, "option value")
            roles = page_guild(self.emulator).roles
            return roles.get(found, found)
        if kind == ATTACHMENT:
            return _attachment(value)
        return str(value)


def _command_line(command: ApplicationCommand, path: list[str]) -> str:
    return " ".join([command.name, *path])


def _mapping(body: JSON, key: str) -> dict[str, Any]:
    value = body.get(key) or {}
    if not isinstance(value, dict):
        raise PageError(400, f"{key} must be an object.")
    return value


def _text(body: JSON, key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise PageError(400, f"{key} is missing.")
    return value


def _id(raw: Any, what: str) -> int:
    text = str(raw or "")
    if not text.isdigit():
        raise PageError(400, f"That is not a {what} ID.")
    return int(text)


def _attachment(value: Any) -> tuple[str, bytes]:
    if not isinstance(value, dict):
        raise PageError(400, "Attach a file.")
    filename = str(value.get("filename") or "file.bin")
    try:
        data = base64.b64decode(str(value.get("data") or ""), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PageError(400, "That file did not arrive whole.") from exc
    if len(data) > ATTACHMENT_LIMIT:
        raise PageError(400, "Files may be at most 10 MB.")
    return filename, data
