"""The test driver: act as a guild member (slash commands, autocomplete, buttons, selects,
modals, plain messages, reactions, event RSVPs, closing DMs), move the world's time forward, and
read back what the bot did.

Commands are resolved against what the bot registered, as the Discord client does: the command
line ``settings timezone zone:Europe/Berlin`` walks subcommand groups and subcommands by name,
then types each ``name:value`` (or keyword argument) by the option's declared type, checks
choices and bounds, and fills ``resolved`` for users, members, roles, channels and attachments.
A member who may not see a command (``default_member_permissions``, contexts, another guild's
command) gets ``CommandNotAvailable``, because Discord would not offer it to them.

Waiting is event-driven (``Recorder.wait_until``). The one heuristic: before a component click
or a modal submit the driver asks the bot's gateway connection for two heartbeats in a row. The
bot stores a view or modal only after reading the HTTP answer that created it, and no frame tells
the emulator when that happened; two heartbeat round trips after the answer was flushed give the
bot's event loop many turns to get there.

Kept as one module (about 1,000 lines): one class, the member's side of the emulator; each method is
one kind of action a member takes.
"""

from __future__ import annotations

import datetime
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sandbox.ids import new_token
from sandbox.model import (
    MAX_REACTION_EMOJI,
    ApplicationCommand,
    Attachment,
    Channel,
    ChannelType,
    Guild,
    Interaction,
    InteractionType,
    Member,
    Message,
    Role,
    ScheduledEvent,
    User,
    World,
    reaction_emoji,
)
from sandbox.permissions import Permission
from sandbox.recorder import Recorder

if TYPE_CHECKING:
    from sandbox.server import Emulator

JSON = dict[str, Any]
T = TypeVar("T")
UserRef = str | int | User | Member
ChannelRef = str | int | Channel

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = (
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
)
BUTTON, STRING_SELECT, TEXT_INPUT, LABEL = 2, 3, 4, 18
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
#: The longest ``Driver.advance`` waits for a bot following the clock to take a jump in (one
#: HTTP round trip when all is well; a bot killed meanwhile never does).
FOLLOW_WITHIN = 5.0


class CommandNotAvailable(LookupError):
    """The Discord client would not offer this command to this member here."""


class ActionNotPossible(ValueError):
    """The Discord client would not let the member do this (bad option, disabled button…)."""


class InteractionResult:
    """What the bot did with one interaction; read it after awaiting one of the waits."""

    def __init__(self, driver: Driver, interaction: Interaction) -> None:
        self.driver = driver
        self.interaction = interaction

    def __repr__(self) -> str:
        return f"<InteractionResult id={self.interaction.id} type={self.interaction.type.name} callback={self.response_type}>"

    # -- waiting ------------------------------------------------------------------------------

    async def wait_response(self, *, within: float = 5.0) -> InteractionResult:
        """Wait for the initial callback (reply, defer, modal, update, autocomplete result)."""
        await self.driver.recorder.wait_until(
            lambda: self.interaction.callback_type is not None,
            within=within,
            what=f"response to {self!r}",
        )
        return self

    async def wait_done(self, *, within: float = 5.0) -> InteractionResult:
        """Wait for the callback and, after a thinking defer, for the response to be filled in."""
        await self.wait_response(within=within)

        def done() -> bool:
            original = self.original
            return original is None or not original.loading

        await self.driver.recorder.wait_until(
            done, within=within, what=f"deferred response of {self!r}"
        )
        return self

    async def wait_followups(self, count: int = 1, *, within: float = 5.0) -> list[Message]:
        """Wait until at least ``count`` follow-up messages exist (a follow-up that filled in a
        thinking defer counts as the response, not as a follow-up)."""
        await self.driver.recorder.wait_until(
            lambda: len(self.followups) >= count,
            within=within,
            what=f"{count} follow-ups of {self!r}",
        )
        return self.followups

    # -- reading ------------------------------------------------------------------------------

    @property
    def acknowledged(self) -> bool:
        return self.interaction.callback_type is not None

    @property
    def response_type(self) -> int | None:
        """The callback type: 4 reply, 5 defer, 6 deferred update, 7 update, 8 choices, 9 modal."""
        return self.interaction.callback_type

    @property
    def original(self) -> Message | None:
        """The response message (or, after an update, the message that was updated)."""
        message_id = self.interaction.original_message_id
        return None if message_id is None else self.driver.world.messages.get(message_id)

    @property
    def followups(self) -> list[Message]:
        messages = (self.driver.world.messages.get(i) for i in self.interaction.followup_ids)
        return [m for m in messages if m is not None and not m.deleted]

    @property
    def content(self) -> str:
        """The response message's content ('' when there is none)."""
        return self.original.content if self.original is not None else ""

    @property
    def embeds(self) -> list[JSON]:
        return self.original.embeds if self.original is not None else []

    @property
    def ephemeral(self) -> bool:
        return self.original is not None and self.original.ephemeral

    @property
    def deleted(self) -> bool:
        """Whether the response message was deleted."""
        message_id = self.interaction.original_message_id
        message = None if message_id is None else self.driver.world.messages.get(message_id)
        return message is not None and message.deleted

    @property
    def modal(self) -> JSON | None:
        """The modal the bot opened (callback type 9)."""
        return self.interaction.callback_data if self.response_type == 9 else None

    @property
    def choices(self) -> list[JSON]:
        """Autocomplete choices (callback type 8)."""
        if self.response_type != 8 or self.interaction.callback_data is None:
            return []
        return list(self.interaction.callback_data.get("choices") or [])

    def text(self) -> str:
        """Content plus embed titles, descriptions and fields, for loose assertions."""
        message = self.original
        return "" if message is None else message_text(message)


def message_text(message: Message) -> str:
    """A message's content and embed text joined with newlines."""
    parts = [message.content]
    for embed in message.embeds:
        parts.extend(str(embed.get(k) or "") for k in ("title", "description"))
        for item in embed.get("fields") or []:
            parts.extend((str(item.get("name") or ""), str(item.get("value") or "")))
        parts.append(str((embed.get("footer") or {}).get("text") or ""))
    return "\n".join(p for p in parts if p)


class Driver:
    """Acts as members of the emulated guilds and reads back the bot's effects."""

    def __init__(self, emulator: Emulator, *, home: Guild | None = None) -> None:
        self.emulator = emulator
        #: The guild members act in when none is named; None: the world's first guild.
        self.home = home

    def in_guild(self, guild: Guild | str | int) -> Driver:
        """A driver whose members act in ``guild`` (commands, clicks, messages)."""
        return Driver(self.emulator, home=self.guild(guild))

    @property
    def world(self) -> World:
        return self.emulator.world

    @property
    def recorder(self) -> Recorder:
        return self.emulator.recorder

    # -- lookups ------------------------------------------------------------------------------

    def guild(self, guild: Guild | str | int | None = None) -> Guild:
        if isinstance(guild, Guild):
            return guild
        if guild is None:
            return self.home if self.home is not None else self.world.guild
        for candidate in self.world.guilds.values():
            if guild in (candidate.id, candidate.name):
                return candidate
        raise KeyError(f"no guild {guild!r}")

    def member(self, user: UserRef, guild: Guild | None = None) -> Member:
        guild = self.guild(guild)
        if isinstance(user, Member):
            return user
        if isinstance(user, User):
            return guild.members[user.id]
        return guild.member(user)

    def user(self, user: UserRef) -> User:
        if isinstance(user, User):
            return user
        if isinstance(user, Member):
            return user.user
        for candidate in self.world.users.values():
            if user in (candidate.id, candidate.username):
                return candidate
        raise KeyError(f"no user {user!r}")

    def channel(self, channel: ChannelRef | None = None, guild: Guild | None = None) -> Channel:
        if isinstance(channel, Channel):
            return channel
        guild = self.guild(guild)
        if channel is None:
            if guild.system_channel_id is None:
                raise KeyError("guild has no system channel; pass channel=")
            return guild.channels[guild.system_channel_id]
        return guild.channel(channel)

    # -- reading ------------------------------------------------------------------------------

    def messages(
        self, channel: ChannelRef | None = None, *, seen_by: UserRef | None = None
    ) -> list[Message]:
        """Messages in a channel, oldest first; ephemeral ones only for ``seen_by``."""
        viewer = None if seen_by is None else self.user(seen_by).id
        return self.channel(channel).visible_messages(viewer)

    def last_message(self, channel: ChannelRef | None = None) -> Message | None:
        messages = self.messages(channel)
        return messages[-1] if messages else None

    def dms(self, user: UserRef) -> list[Message]:
        """Messages in the bot's DM channel with ``user``."""
        channel = self.world.dm_channels.get(self.user(user).id)
        return [] if channel is None else channel.visible_messages()

    def dismiss_ephemerals(self, user: UserRef | None = None) -> int:
        """Dismiss ephemeral messages, as a member does with "Dismiss message": every member's,
        or only ``user``'s. They leave their member's view (the page's too) and stay the
        interaction's to edit, as on Discord. Returns how many were dismissed."""
        member = None if user is None else self.user(user).id
        dismissed = 0
        for message in self.world.messages.values():
            if message.ephemeral_for is None or message.dismissed:
                continue
            if member is None or message.ephemeral_for == member:
                message.dismissed = True
                dismissed += 1
        if dismissed:
            self.recorder.notify()  # the page redraws
        return dismissed

    def threads(
        self, parent: ChannelRef | None = None, guild: Guild | None = None
    ) -> list[Channel]:
        guild = self.guild(guild)
        return guild.threads(None if parent is None else self.channel(parent, guild))

    def scheduled_events(self, guild: Guild | None = None) -> list[ScheduledEvent]:
        return [e for e in self.guild(guild).scheduled_events.values() if not e.deleted]

    def commands(
        self, guild: Guild | str | int | None = None, *, include_global: bool = True
    ) -> list[ApplicationCommand]:
        """Registered commands: global ones (if asked) plus the guild's."""
        found = list(self.world.global_commands.values()) if include_global else []
        found.extend(self.guild(guild).commands.values())
        return found

    async def wait_until(
        self, predicate: Callable[[], T | None], *, within: float = 5.0, what: str = ""
    ) -> T:
        """Wait (event-driven) until ``predicate()`` returns something truthy; return it."""
        return await self.recorder.wait_until(predicate, within=within, what=what)

    async def wait_for_message(
        self,
        channel: ChannelRef | None = None,
        predicate: Callable[[Message], bool] | None = None,
        *,
        after: int = 0,
        within: float = 5.0,
    ) -> Message:
        """The first message in ``channel`` with ID greater than ``after`` matching ``predicate``."""
        target = self.channel(channel)

        def find() -> Message | None:
            for message in target.visible_messages():
                if message.id > after and (predicate is None or predicate(message)):
                    return message
            return None

        return await self.wait_until(find, within=within, what=f"message in #{target.name}")

    async def wait_for_dm(
        self,
        user: UserRef,
        predicate: Callable[[Message], bool] | None = None,
        *,
        within: float = 5.0,
    ) -> Message:
        target = self.user(user)

        def find() -> Message | None:
            for message in self.dms(target):
                if predicate is None or predicate(message):
                    return message
            return None

        return await self.wait_until(find, within=within, what=f"DM to {target.username}")

    async def wait_for_commands(
        self, *names: str, guild: Guild | str | int | None = None, within: float = 10.0
    ) -> list[ApplicationCommand]:
        """Wait until commands with these names are registered (globally or in ``guild``)."""

        def find() -> list[ApplicationCommand] | None:
            registered = self.commands(guild)
            if all(any(c.name == name for c in registered) for name in names):
                return registered
            return None

        return await self.wait_until(find, within=within, what=f"commands {names}")

    async def settle(self) -> None:
        """A barrier: the bot has handled every gateway frame sent so far (two heartbeat round
        trips; see the module docstring)."""
        await self.emulator.gateway.ping()
        await self.emulator.gateway.ping()

    # -- slash commands -----------------------------------------------------------------------

    def find_command(
        self, name: str, *, user: UserRef, channel: ChannelRef | None = None
    ) -> ApplicationCommand:
        """The chat-input command ``name`` as offered to ``user`` in ``channel``."""
        guild = self.guild()
        target = self.channel(channel, guild)
        member = self.member(user, guild)
        candidates = [
            c for c in self.world.commands_for(guild) if c.type == 1 and c.name == name.lstrip("/")
        ]
        if not candidates:
            raise CommandNotAvailable(f"/{name} is not registered")
        command: ApplicationCommand = sorted(candidates, key=lambda c: c.guild_id is None)[0]
        self._check_visible(command, guild, member, target)
        return command

    def _check_visible(
        self, command: ApplicationCommand, guild: Guild, member: Member, channel: Channel
    ) -> None:
        reason = _unusable_reason(command, guild, member, channel)
        if reason is None and _lacks_default_permissions(command, guild, member, channel):
            self.recorder.note("command_hidden", command=command.name, user=member.user.username)
            reason = _needs_permissions_reason(command, member, channel)
        if reason is not None:
            raise CommandNotAvailable(reason)

    def offered_commands(
        self, *, user: UserRef, channel: ChannelRef | None = None
    ) -> list[ApplicationCommand]:
        """The chat-input commands the Discord client lists for ``user`` in ``channel`` when they
        type ``/``: guild commands first (they win over a global one of the same name), by name."""
        guild = self.guild()
        target = self.channel(channel, guild)
        member = self.member(user, guild)
        ordered = sorted(
            (c for c in self.world.commands_for(guild) if c.type == 1),
            key=lambda c: (c.name, c.guild_id is None),
        )
        offered: dict[str, ApplicationCommand] = {}
        for command in ordered:
            if (
                command.name not in offered
                and hidden_reason(command, guild, member, target) is None
            ):
                offered[command.name] = command
        return list(offered.values())

    async def run_command(
        self,
        command_line: str,
        *,
        user: UserRef,
        channel: ChannelRef | None = None,
        options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> InteractionResult:
        """Invoke a slash command as ``user``.

        ``command_line`` is what a member types, e.g. ``"settings timezone zone:Europe/Berlin"``
        (quotes group spaces: ``title:"Late night"``); options may also be given as
        ``options={...}`` or keyword arguments. Values may be members, users, roles, channels or
        ``(filename, bytes)`` for attachments. Returns once the interaction is dispatched.
        """
        target = self.channel(channel)
        member = self.member(user)
        name, path, typed = _parse_command_line(command_line)
        command = self.find_command(name, user=member, channel=target)
        values = {**typed, **(options or {}), **kwargs}
        resolved: JSON = {}
        data: JSON = {"id": str(command.id), "name": command.name, "type": command.type}
        if command.guild_id is not None:
            data["guild_id"] = str(command.guild_id)
        data["options"] = self._build_options(command, path, values, resolved, focused=None)
        if not data["options"]:
            del data["options"]
        if resolved:
            data["resolved"] = resolved
        return await self._dispatch(
            InteractionType.APPLICATION_COMMAND, data, member, target, command=command
        )

    async def autocomplete(
        self,
        command_line: str,
        *,
        user: UserRef,
        focused: str,
        value: str,
        channel: ChannelRef | None = None,
        within: float = 5.0,
        options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[JSON]:
        """Type ``value`` into option ``focused`` and return the choices the bot offers; the
        other options already filled in come from the line, ``options`` or keyword arguments."""
        target = self.channel(channel)
        member = self.member(user)
        name, path, typed = _parse_command_line(command_line)
        command = self.find_command(name, user=member, channel=target)
        values = {**typed, **(options or {}), **kwargs, focused: value}
        resolved: JSON = {}
        data: JSON = {"id": str(command.id), "name": command.name, "type": command.type}
        data["options"] = self._build_options(command, path, values, resolved, focused=focused)
        if resolved:
            data["resolved"] = resolved
        result = await self._dispatch(
            InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE, data, member, target, command=command
        )
        await result.wait_response(within=within)
        return result.choices

    def _build_options(
        self,
        command: ApplicationCommand,
        path: Sequence[str],
        values: Mapping[str, Any],
        resolved: JSON,
        *,
        focused: str | None,
    ) -> list[JSON]:
        declared, chain = leaf_options(command, path)
        wrappers: list[JSON] = [
            {"name": o["name"], "type": o["type"], "options": []} for o in chain
        ]
        if any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in declared):
            names = ", ".join(o["name"] for o in declared)
            raise ActionNotPossible(f"/{command.name} {' '.join(path)} needs a subcommand: {names}")
        leaf: list[JSON] = []
        known = {o["name"]: o for o in declared}
        for key in values:
            if key not in known:
                raise ActionNotPossible(
                    f"/{command.name} has no option {key!r} (has: {', '.join(known) or 'none'})"
                )
        for option in declared:
            key = option["name"]
            if key not in values:
                if option.get("required") and focused is None:
                    raise ActionNotPossible(f"/{command.name}: option {key!r} is required")
                continue
            if key == focused:
                leaf.append(
                    {
                        "name": key,
                        "type": option["type"],
                        "value": str(values[key]),
                        "focused": True,
                    }
                )
            else:
                leaf.append(
                    {
                        "name": key,
                        "type": option["type"],
                        "value": self._option_value(option, values[key], resolved),
                    }
                )
        if not wrappers:
            return leaf
        wrappers[-1]["options"] = leaf
        for outer, inner in zip(reversed(wrappers[:-1]), reversed(wrappers[1:]), strict=True):
            outer["options"] = [inner]
        return [wrappers[0]]

    def _option_value(self, option: JSON, raw: Any, resolved: JSON) -> Any:
        kind = option["type"]
        name = option["name"]
        value: Any
        if kind == STRING:
            value = str(raw)
            if "min_length" in option and len(value) < option["min_length"]:
                raise ActionNotPossible(f"{name}: at least {option['min_length']} characters")
            if "max_length" in option and len(value) > option["max_length"]:
                raise ActionNotPossible(f"{name}: at most {option['max_length']} characters")
        elif kind == INTEGER:
            value = int(raw)
        elif kind == NUMBER:
            value = float(raw)
        elif kind == BOOLEAN:
            value = raw if isinstance(raw, bool) else str(raw).lower() in ("true", "yes", "1")
        elif (
            kind in (USER, MENTIONABLE)
            and not isinstance(raw, Role)
            and not (kind == MENTIONABLE and isinstance(raw, str) and self._is_role_name(raw))
        ):
            user = self.user(raw)
            resolved.setdefault("users", {})[str(user.id)] = user.to_payload()
            guild_member = self.guild().members.get(user.id)
            if guild_member is not None:
                channel_perms = self.guild().base_permissions(guild_member)
                resolved.setdefault("members", {})[str(user.id)] = guild_member.to_payload(
                    with_user=False, permissions=channel_perms
                )
            value = str(user.id)
        elif kind in (ROLE, MENTIONABLE):
            role = raw if isinstance(raw, Role) else self.guild().role(raw)
            resolved.setdefault("roles", {})[str(role.id)] = role.to_payload()
            value = str(role.id)
        elif kind == CHANNEL:
            channel = self.channel(raw)
            allowed = option.get("channel_types")
            if allowed and int(channel.type) not in allowed:
                raise ActionNotPossible(f"{name}: #{channel.name} is not an allowed channel type")
            payload = channel.to_payload()
            payload["permissions"] = str(int(self.world.bot_permissions_in(channel)))
            resolved.setdefault("channels", {})[str(channel.id)] = payload
            value = str(channel.id)
        elif kind == ATTACHMENT:
            filename, data = raw if isinstance(raw, tuple) else ("file.bin", bytes(raw))
            attachment = self.emulator.attachments.add(
                Attachment(self.world.new_id(), filename, None, data, ""), channel_id=0
            )
            resolved.setdefault("attachments", {})[str(attachment.id)] = attachment.to_payload()
            value = str(attachment.id)
        else:
            raise ActionNotPossible(f"option type {kind} is not supported")
        if kind in (INTEGER, NUMBER):
            if "min_value" in option and value < option["min_value"]:
                raise ActionNotPossible(f"{name}: must be at least {option['min_value']}")
            if "max_value" in option and value > option["max_value"]:
                raise ActionNotPossible(f"{name}: must be at most {option['max_value']}")
        choices = option.get("choices")
        if choices:
            by_name = {c["name"]: c["value"] for c in choices}
            if value in by_name and value not in by_name.values():
                value = by_name[value]
            if value not in by_name.values():
                raise ActionNotPossible(
                    f"{name}: {value!r} is not one of the choices {list(by_name.values())}"
                )
        return value

    def _is_role_name(self, name: str) -> bool:
        return any(r.name == name for r in self.guild().roles.values())

    # -- components and modals ----------------------------------------------------------------

    def _visible_message(self, message: Message | int, user: User) -> Message:
        found = message if isinstance(message, Message) else self.world.messages.get(message)
        if found is None or found.deleted:
            raise ActionNotPossible(f"message {message!r} does not exist")
        if found.ephemeral_for is not None and found.ephemeral_for != user.id:
            raise ActionNotPossible("that ephemeral message belongs to someone else")
        return found

    async def click_button(
        self,
        message: Message | int,
        custom_id: str | None = None,
        *,
        user: UserRef,
        label: str | None = None,
    ) -> InteractionResult:
        """Click a button on a message, found by ``custom_id`` or by ``label``."""
        member = self.member(user)
        target = self._visible_message(message, member.user)
        component = _find_button(target, custom_id, label)
        if component.get("disabled"):
            raise ActionNotPossible(f"button {component.get('label')!r} is disabled")
        data = {"custom_id": component["custom_id"], "component_type": BUTTON}
        await self.settle()
        return await self._dispatch(
            InteractionType.MESSAGE_COMPONENT,
            data,
            member,
            self.world.channels[target.channel_id],
            message=target,
        )

    async def select(
        self, message: Message | int, custom_id: str, values: Sequence[Any], *, user: UserRef
    ) -> InteractionResult:
        """Choose ``values`` in a select menu (option values, or users/roles/channels for the
        auto-populated selects)."""
        member = self.member(user)
        target = self._visible_message(message, member.user)
        component = target.find_component(custom_id)
        if component is None:
            raise ActionNotPossible(f"message {target.id} has no component {custom_id!r}")
        if component.get("disabled"):
            raise ActionNotPossible(f"select {custom_id!r} is disabled")
        low, high = int(component.get("min_values", 1)), int(component.get("max_values", 1))
        if not low <= len(values) <= high:
            raise ActionNotPossible(
                f"select {custom_id!r} takes {low}..{high} values, got {len(values)}"
            )
        kind = int(component["type"])
        data: JSON = {"custom_id": custom_id, "component_type": kind}
        if kind == STRING_SELECT:
            offered = [o["value"] for o in component.get("options") or []]
            for value in values:
                if value not in offered:
                    raise ActionNotPossible(
                        f"{value!r} is not an option of {custom_id!r} ({offered})"
                    )
            data["values"] = list(values)
        else:
            resolved: JSON = {}
            option_type = {5: USER, 6: ROLE, 7: MENTIONABLE, 8: CHANNEL}[kind]
            data["values"] = [
                self._option_value({"type": option_type, "name": custom_id}, v, resolved)
                for v in values
            ]
            data["resolved"] = resolved
        await self.settle()
        return await self._dispatch(
            InteractionType.MESSAGE_COMPONENT,
            data,
            member,
            self.world.channels[target.channel_id],
            message=target,
        )

    async def submit_modal(
        self, opened: InteractionResult, values: Mapping[str, Any], *, user: UserRef | None = None
    ) -> InteractionResult:
        """Fill in and submit the modal the bot opened in ``opened``; ``values`` maps each text
        input's custom_id to its text (or a select's custom_id to its chosen values)."""
        modal = opened.modal
        if modal is None:
            raise ActionNotPossible(f"{opened!r} did not open a modal")
        member = self.member(user if user is not None else opened.interaction.user)
        unknown = set(values) - set(_modal_inputs(modal["components"]))
        if unknown:
            raise ActionNotPossible(f"modal {modal['custom_id']!r} has no inputs {sorted(unknown)}")
        data = {
            "custom_id": modal["custom_id"],
            "components": _fill_modal(modal["components"], values),
        }
        channel = self.world.channels[opened.interaction.channel_id]
        await self.settle()
        return await self._dispatch(
            InteractionType.MODAL_SUBMIT, data, member, channel, message=opened.interaction.message
        )

    # -- members acting without interactions --------------------------------------------------

    async def send_message(
        self, content: str, *, user: UserRef, channel: ChannelRef | None = None
    ) -> Message:
        """Post a message as a member (MESSAGE_CREATE reaches the bot)."""
        member = self.member(user)
        target = self.channel(channel)
        guild = self.guild()
        perms = guild.permissions_in(member, target)
        needed = (
            Permission.SEND_MESSAGES_IN_THREADS if target.is_thread else Permission.SEND_MESSAGES
        )
        if not perms & Permission.VIEW_CHANNEL or not perms & needed:
            raise ActionNotPossible(f"{member.user.username} may not post in #{target.name}")
        message = Message(
            id=self.world.new_id(),
            channel_id=target.id,
            guild_id=guild.id,
            author=member.user,
            content=content,
            member=member,
            created_at=self.world.now(),
        )
        self.world.messages[message.id] = message
        target.messages.append(message)
        target.last_message_id = message.id
        if target.is_thread:
            target.message_count += 1
        self.emulator.gateway.dispatch_message("MESSAGE_CREATE", message)
        return message

    async def rsvp(self, event: ScheduledEvent | int, *, user: UserRef) -> None:
        """Mark a member as interested in a scheduled event (GUILD_SCHEDULED_EVENT_USER_ADD;
        nothing if they already were). Not possible once the event is over or deleted."""
        await self._set_interest(event, user, interested=True)

    async def unrsvp(self, event: ScheduledEvent | int, *, user: UserRef) -> None:
        """Take back a member's interest (GUILD_SCHEDULED_EVENT_USER_REMOVE; nothing if they
        were not interested)."""
        await self._set_interest(event, user, interested=False)

    async def _set_interest(
        self, event: ScheduledEvent | int, user: UserRef, *, interested: bool
    ) -> None:
        found = self._event(event)
        member = self.member(user, self.guild(found.guild_id))
        if found.deleted or not found.uncompleted:
            raise ActionNotPossible(f"event {found.name!r} is over or deleted")
        if (member.id in found.user_ids) == interested:
            return
        if interested:
            found.user_ids.add(member.id)
        else:
            found.user_ids.discard(member.id)
        payload = {
            "guild_scheduled_event_id": str(found.id),
            "user_id": str(member.id),
            "guild_id": str(found.guild_id),
        }
        name = (
            "GUILD_SCHEDULED_EVENT_USER_ADD" if interested else "GUILD_SCHEDULED_EVENT_USER_REMOVE"
        )
        self.world.announce(name, payload, found.guild_id)

    def _event(self, event: ScheduledEvent | int) -> ScheduledEvent:
        if isinstance(event, ScheduledEvent):
            return event
        for guild in self.world.guilds.values():
            if event in guild.scheduled_events:
                return guild.scheduled_events[event]
        raise KeyError(f"no scheduled event {event}")

    async def react(self, message: Message | int, emoji: str, *, user: UserRef) -> None:
        """React to a message as a user (MESSAGE_REACTION_ADD; nothing if they already had).
        ``emoji`` is a Unicode emoji or a custom one as ``name:id``. In a guild the member needs
        READ_MESSAGE_HISTORY there, and ADD_REACTIONS for an emoji nobody used on it yet; a
        message takes at most 20 different emoji."""
        reactor, target, key, partial = self._reaction(message, emoji, user)
        channel = self.world.channels[target.channel_id]
        guild = self.world.guild_of(channel)
        member = None if guild is None else guild.members.get(reactor.id)
        if key not in target.reactions and len(target.reactions) >= MAX_REACTION_EMOJI:
            raise ActionNotPossible(f"message {target.id} already has 20 different emoji")
        if guild is not None:
            needed = Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY
            if key not in target.reactions:
                needed |= Permission.ADD_REACTIONS
            if member is None or guild.permissions_in(member, channel) & needed != needed:
                raise ActionNotPossible(f"{reactor.username} may not react with {emoji} there")
        if target.add_reaction(key, partial, reactor.id, by_bot=False):
            event = target.reaction_event(partial, reactor.id, member, added=True)
            self.world.announce("MESSAGE_REACTION_ADD", event, target.guild_id)

    async def unreact(self, message: Message | int, emoji: str, *, user: UserRef) -> None:
        """Take a user's reaction back (MESSAGE_REACTION_REMOVE; nothing if they had none)."""
        reactor, target, key, partial = self._reaction(message, emoji, user)
        if target.remove_reaction(key, reactor.id, by_bot=False):
            event = target.reaction_event(partial, reactor.id, None, added=False)
            self.world.announce("MESSAGE_REACTION_REMOVE", event, target.guild_id)

    def _reaction(
        self, message: Message | int, emoji: str, user: UserRef
    ) -> tuple[User, Message, str, JSON]:
        reactor = self.user(user)
        target = self._visible_message(message, reactor)
        if target.ephemeral_for is not None:
            raise ActionNotPossible("ephemeral messages take no reactions")
        found = reaction_emoji(emoji)
        if found is None:
            raise ActionNotPossible(f"{emoji!r} is not an emoji")
        return reactor, target, *found

    # -- direct messages ----------------------------------------------------------------------

    def close_dms(self, user: UserRef) -> None:
        """The user stops accepting DMs from the bot: its sends answer 403 50007 (opening the DM
        channel still works, as on Discord)."""
        self.user(user).dms_open = False

    def open_dms(self, user: UserRef) -> None:
        """The user accepts DMs from the bot again."""
        self.user(user).dms_open = True

    # -- time ---------------------------------------------------------------------------------

    async def advance(self, seconds: float | datetime.timedelta) -> None:
        """Jump the world's clock forward and make what fell due meanwhile happen (external
        events start and end, quiet threads archive), in order, before returning. A bot whose
        long poll of ``GET /sandbox/clock`` was waiting (as it is but for a round trip every
        25 s, or while the emulator is unreachable) has taken the jump in by then, so what the
        test does next happens at the new time for the bot too; after ``FOLLOW_WITHIN``
        seconds without that, the recorder notes ``clock_not_followed`` and this returns
        anyway. Wait for the bot's reaction to the jump as for any other
        (``wait_for_message``, ``wait_until``)."""
        clock = self.world.clock
        followers = clock.followers()
        self.emulator.advance_clock(seconds)
        self.emulator.timers.run_due()
        self.recorder.notify()
        generation = clock.generation
        if not await clock.caught_up(generation, followers, within=FOLLOW_WITHIN):
            self.recorder.note("clock_not_followed", generation=generation, within=FOLLOW_WITHIN)

    def now(self) -> datetime.datetime:
        """The world's current time."""
        return self.world.now()

    # -- dispatch -----------------------------------------------------------------------------

    async def _dispatch(
        self,
        kind: InteractionType,
        data: JSON,
        member: Member,
        channel: Channel,
        *,
        command: ApplicationCommand | None = None,
        message: Message | None = None,
    ) -> InteractionResult:
        if not self.emulator.gateway.live_sessions:
            raise RuntimeError("no bot has a gateway session")
        in_dm = channel.type == ChannelType.DM
        guild = self.guild()
        interaction = Interaction(
            id=self.world.new_id(),
            token=new_token("aW50ZXJhY3Rpb24"),
            type=kind,
            application_id=self.world.application_id,
            user=member.user,
            guild_id=None if in_dm else guild.id,
            channel_id=channel.id,
            data=data,
            created_at=self.emulator.clock(),
            message=message,
            command=command,
        )
        self.emulator.register_interaction(interaction)
        payload: JSON = {
            "id": str(interaction.id),
            "application_id": str(interaction.application_id),
            "type": int(kind),
            "data": data,
            "channel_id": str(channel.id),
            "token": interaction.token,
            "version": 1,
            "app_permissions": str(int(self.world.bot_permissions_in(channel))),
            "locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if in_dm:
            payload.update(_dm_context(member, channel, self.world.bot_permissions_in(channel)))
        else:
            payload.update(_guild_context(guild, member, channel))
        if message is not None:
            payload["message"] = message.to_payload()
        self.emulator.gateway.dispatch("INTERACTION_CREATE", payload, guild_id=interaction.guild_id)
        return InteractionResult(self, interaction)


def _guild_context(guild: Guild, member: Member, channel: Channel) -> JSON:
    """The parts of an interaction payload that say it happened in a guild channel."""
    permissions = guild.permissions_in(member, channel)
    channel_payload = channel.to_payload()
    channel_payload["permissions"] = str(int(permissions))
    return {
        "guild_id": str(guild.id),
        "guild": {"id": str(guild.id), "locale": "en-US", "features": ["COMMUNITY"]},
        "channel": channel_payload,
        "member": member.to_payload(permissions=permissions),
        "guild_locale": "en-US",
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
    }


def _dm_context(member: Member, channel: Channel, permissions: Permission) -> JSON:
    """The parts of an interaction payload that say it happened in the bot's DM with the member
    (a button on a message the bot sent there): ``user`` instead of ``member``, context 1, and
    the guild-install owner "0", as Discord sends them."""
    channel_payload = channel.to_payload()
    channel_payload["permissions"] = str(int(permissions))
    return {
        "channel": channel_payload,
        "user": member.user.to_payload(),
        "authorizing_integration_owners": {"0": "0"},
        "context": 1,
    }


def hidden_reason(
    command: ApplicationCommand, guild: Guild, member: Member, channel: Channel
) -> str | None:
    """Why the Discord client would not offer ``command`` to ``member`` in ``channel`` (its
    contexts, USE_APPLICATION_COMMANDS, ``default_member_permissions``), or None if it would."""
    reason = _unusable_reason(command, guild, member, channel)
    if reason is None and _lacks_default_permissions(command, guild, member, channel):
        reason = _needs_permissions_reason(command, member, channel)
    return reason


def _unusable_reason(
    command: ApplicationCommand, guild: Guild, member: Member, channel: Channel
) -> str | None:
    if command.contexts is not None and 0 not in command.contexts:
        return f"/{command.name} is not available in servers"
    if not guild.permissions_in(member, channel) & Permission.USE_APPLICATION_COMMANDS:
        return f"{member.user.username} may not use application commands in #{channel.name}"
    return None


def _lacks_default_permissions(
    command: ApplicationCommand, guild: Guild, member: Member, channel: Channel
) -> bool:
    required = command.default_member_permissions
    if required is None:
        return False
    perms = guild.permissions_in(member, channel)
    if required == 0:
        return not perms & Permission.ADMINISTRATOR
    return perms & required != required


def _needs_permissions_reason(command: ApplicationCommand, member: Member, channel: Channel) -> str:
    return (
        f"/{command.name} needs {command.default_member_permissions!r}; "
        f"{member.user.username} does not have it in #{channel.name}"
    )


def _parse_command_line(line: str) -> tuple[str, list[str], dict[str, str]]:
    tokens = shlex.split(line.strip().lstrip("/"))
    if not tokens:
        raise ActionNotPossible("empty command line")
    path: list[str] = []
    options: dict[str, str] = {}
    for token in tokens[1:]:
        if ":" in token:
            key, _, value = token.partition(":")
            options[key] = value
        elif options:
            raise ActionNotPossible(f"subcommand {token!r} after options")
        else:
            path.append(token)
    return tokens[0], path, options


def _find_button(message: Message, custom_id: str | None, label: str | None) -> JSON:
    def walk(items: Iterable[JSON]) -> JSON | None:
        for item in items:
            if item.get("type") == BUTTON and (
                (custom_id is not None and item.get("custom_id") == custom_id)
                or (label is not None and item.get("label") == label)
            ):
                return item
            found = walk(item.get("components") or [])
            if found is not None:
                return found
            accessory = item.get("accessory")
            if isinstance(accessory, dict):
                found = walk([accessory])
                if found is not None:
                    return found
        return None

    found = walk(message.components)
    if found is None or "custom_id" not in found:
        raise ActionNotPossible(
            f"message {message.id} has no button {custom_id or label!r} (has {message.custom_ids()})"
        )
    return found


def _modal_inputs(components: Iterable[JSON]) -> list[str]:
    found: list[str] = []
    for item in components:
        if item.get("type") in (TEXT_INPUT, STRING_SELECT, 5, 6, 7, 8):
            found.append(str(item["custom_id"]))
        found.extend(_modal_inputs(item.get("components") or []))
        child = item.get("component")
        if isinstance(child, dict):
            found.extend(_modal_inputs([child]))
    return found


def _fill_modal(components: Iterable[JSON], values: Mapping[str, Any]) -> list[JSON]:
    """The submitted component tree: the modal's layout with each input's value."""
    filled: list[JSON] = []
    for item in components:
        kind = item.get("type")
        if kind == TEXT_INPUT:
            custom_id = str(item["custom_id"])
            text = str(values.get(custom_id, item.get("value") or ""))
            if item.get("required", True) and not text:
                raise ActionNotPossible(f"text input {custom_id!r} is required")
            if "min_length" in item and text and len(text) < item["min_length"]:
                raise ActionNotPossible(
                    f"text input {custom_id!r} needs at least {item['min_length']} characters"
                )
            if "max_length" in item and len(text) > item["max_length"]:
                raise ActionNotPossible(
                    f"text input {custom_id!r} takes at most {item['max_length']} characters"
                )
            filled.append(
                {"type": TEXT_INPUT, "id": item.get("id", 0), "custom_id": custom_id, "value": text}
            )
        elif kind == STRING_SELECT:
            custom_id = str(item["custom_id"])
            chosen = values.get(custom_id, [])
            filled.append(
                {
                    "type": kind,
                    "id": item.get("id", 0),
                    "custom_id": custom_id,
                    "values": list(chosen),
                }
            )
        elif kind == LABEL:
            inner = _fill_modal([item["component"]], values)
            filled.append({"type": LABEL, "id": item.get("id", 0), "component": inner[0]})
        elif kind == 1:
            filled.append(
                {
                    "type": 1,
                    "id": item.get("id", 0),
                    "components": _fill_modal(item.get("components") or [], values),
                }
            )
        else:
            filled.append({"type": kind, "id": item.get("id", 0)})
    return filled


__all__ = [
    "ActionNotPossible",
    "ChannelType",
    "CommandNotAvailable",
    "Driver",
    "InteractionResult",
    "message_text",
]


def leaf_options(command: ApplicationCommand, path: Sequence[str]) -> tuple[list[JSON], list[JSON]]:
    """The options of the subcommand ``path`` names (``["party", "schedule"]``...), and the
    subcommand (group) options walked through to reach it."""
    declared: list[JSON] = command.options
    chain: list[JSON] = []
    for step in path:
        match = next(
            (
                o
                for o in declared
                if o["name"] == step and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)
            ),
            None,
        )
        if match is None:
            raise ActionNotPossible(f"/{command.name} has no subcommand {step!r}")
        chain.append(match)
        declared = match.get("options") or []
    return declared, chain
