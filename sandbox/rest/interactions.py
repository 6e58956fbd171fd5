"""Interaction routes: the initial callback (with Discord's 3-second deadline and
single-acknowledgement rule) and the webhook routes for the original response and follow-ups
(valid for 15 minutes after the interaction was created).

The callback answers as Discord does for ``?with_response=1``: ``{"interaction": {...,
"response_message_id"}, "resource": {"type", "message"}}``. Its response is written and flushed
before the emulator records the acknowledgement, so a test that waited for the acknowledgement
knows the bot has at least received the answer.
"""

from __future__ import annotations

from typing import Any

from sandbox import errors
from sandbox.model import Channel, Interaction, InteractionType, Message, MessageFlag
from sandbox.rest.channels import delete_and_announce
from sandbox.rest.common import Ctx, Reply, RouteTable, edit_message, new_message, store_message
from sandbox.validation import FormErrors, check_autocomplete_choices, check_message, check_modal

routes = RouteTable()

JSON = dict[str, Any]

CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8
MODAL = 9

ALLOWED_CALLBACKS: dict[InteractionType, frozenset[int]] = {
    InteractionType.APPLICATION_COMMAND: frozenset({4, 5, 9}),
    InteractionType.MESSAGE_COMPONENT: frozenset({4, 5, 6, 7, 9}),
    InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE: frozenset({8}),
    InteractionType.MODAL_SUBMIT: frozenset({4, 5, 6, 7}),
}

#: Message types of interaction responses.
CHAT_INPUT_COMMAND = 20
CONTEXT_MENU_COMMAND = 23


def metadata(interaction: Interaction, **extra: Any) -> JSON:
    """The ``interaction_metadata`` Discord attaches to messages created by an interaction."""
    payload: JSON = {
        "id": str(interaction.id),
        "type": int(interaction.type),
        "user": interaction.user.to_payload(),
        "authorizing_integration_owners": {"0": str(interaction.guild_id)}
        if interaction.guild_id
        else {"1": str(interaction.user.id)},
    }
    if interaction.type == InteractionType.APPLICATION_COMMAND:
        payload["name"] = interaction.data.get("name")
        payload["command_type"] = interaction.data.get("type", 1)
    if interaction.message is not None:
        payload["interacted_message_id"] = str(interaction.message.id)
    payload.update(extra)
    return payload


def _channel(ctx: Ctx, interaction: Interaction) -> Channel:
    return ctx.world.channels[interaction.channel_id]


def _response_message(ctx: Ctx, interaction: Interaction, data: JSON, *, loading: bool) -> Message:
    channel = _channel(ctx, interaction)
    flags = int(data.get("flags") or 0)
    ephemeral = bool(flags & MessageFlag.EPHEMERAL)
    kind = 0
    if interaction.type == InteractionType.APPLICATION_COMMAND:
        kind = CHAT_INPUT_COMMAND if interaction.data.get("type", 1) == 1 else CONTEXT_MENU_COMMAND
    guild = ctx.world.guild_of(channel)
    message = new_message(
        ctx,
        channel,
        ctx.world.bot_user,
        data,
        member=None if guild is None else guild.members.get(ctx.world.bot_user.id),
        webhook_id=ctx.world.application_id,
        application_id=ctx.world.application_id,
        interaction_metadata=metadata(interaction),
        message_type=kind,
        flags_mask=int(MessageFlag.EPHEMERAL) | (1 << 2) | (1 << 12) | (1 << 15),
        ephemeral_for=interaction.user.id if ephemeral else None,
    )
    if loading:
        message.flags |= MessageFlag.LOADING
    return message


def _interaction_for_callback(ctx: Ctx) -> Interaction:
    interaction = ctx.world.interactions.get(
        ctx.snowflake("interaction_id", unknown=errors.unknown_interaction)
    )
    if interaction is None or interaction.token != ctx.param("token"):
        raise errors.unknown_interaction()
    return interaction


@routes.post("/interactions/{interaction_id}/{token}/callback", auth=False)
async def create_interaction_response(ctx: Ctx) -> Reply:
    interaction = _interaction_for_callback(ctx)
    emulator = ctx.emulator
    if interaction.callback_type is not None:
        raise errors.already_acknowledged()
    age = emulator.clock() - interaction.created_at
    if age > emulator.interaction_deadline:
        emulator.recorder.note(
            "interaction_deadline_missed", interaction=interaction.id, age=round(age, 3)
        )
        raise errors.unknown_interaction()
    body = ctx.json()
    kind = int(body.get("type") or 0)
    data: JSON = body.get("data") or {}
    if kind not in ALLOWED_CALLBACKS[interaction.type] or (
        kind in (6, 7) and interaction.message is None
    ):
        form = FormErrors()
        form.add(
            ("type",),
            "INTERACTION_RESPONSE_TYPE_INVALID",
            "Interaction response type is invalid for this interaction",
        )
        form.raise_if_any()
    message: Message | None = None
    if kind == CHANNEL_MESSAGE_WITH_SOURCE:
        check_message(data, files=len(ctx.files))
        message = _response_message(ctx, interaction, data, loading=False)
        store_message(ctx, _channel(ctx, interaction), message)
        interaction.original_message_id = message.id
    elif kind == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
        message = _response_message(ctx, interaction, {"flags": data.get("flags", 0)}, loading=True)
        store_message(ctx, _channel(ctx, interaction), message)
        interaction.original_message_id = message.id
    elif kind == DEFERRED_UPDATE_MESSAGE:
        assert interaction.message is not None
        interaction.original_message_id = interaction.message.id
    elif kind == UPDATE_MESSAGE:
        assert interaction.message is not None
        check_message(data, require_content=False, files=len(ctx.files))
        message = interaction.message
        edit_message(ctx, _channel(ctx, interaction), message, data)
        interaction.original_message_id = message.id
    elif kind == APPLICATION_COMMAND_AUTOCOMPLETE_RESULT:
        check_autocomplete_choices(data)
    elif kind == MODAL:
        check_modal(data)
    interaction.callback_type = kind
    interaction.callback_data = data
    described: JSON = {
        "id": str(interaction.id),
        "type": int(interaction.type),
        "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
        "response_message_ephemeral": bool(message is not None and message.ephemeral),
    }
    if interaction.original_message_id is not None:
        described["response_message_id"] = str(interaction.original_message_id)
    resource: JSON = {"type": kind}
    if message is not None:
        resource["message"] = message.to_payload()
    return Reply(body={"interaction": described, "resource": resource})


# -- webhook routes ----------------------------------------------------------------------------


def _interaction_for_webhook(ctx: Ctx) -> Interaction:
    if ctx.snowflake("application_id", unknown=errors.unknown_webhook) != ctx.world.application_id:
        raise errors.unknown_webhook()
    interaction = ctx.emulator.interaction_tokens.get(ctx.param("token"))
    if interaction is None:
        raise errors.unknown_webhook()
    if ctx.emulator.clock() - interaction.created_at > ctx.emulator.followup_lifetime:
        raise errors.invalid_webhook_token()
    if interaction.callback_type not in (4, 5, 6, 7):
        raise errors.unknown_webhook()
    return interaction


def _target(ctx: Ctx, interaction: Interaction) -> Message:
    raw = ctx.param("message_id")
    if raw == "@original":
        message_id = interaction.original_message_id
    elif raw.isdigit() and (
        int(raw) == interaction.original_message_id or int(raw) in interaction.followup_ids
    ):
        message_id = int(raw)
    else:
        message_id = None
    message = None if message_id is None else ctx.world.messages.get(message_id)
    if message is None or message.deleted:
        raise errors.unknown_message()
    return message


@routes.post("/webhooks/{application_id}/{token}", auth=False)
async def create_followup(ctx: Ctx) -> Reply:
    interaction = _interaction_for_webhook(ctx)
    body = ctx.json()
    check_message(body, files=len(ctx.files))
    channel = _channel(ctx, interaction)
    original = (
        None
        if interaction.original_message_id is None
        else ctx.world.messages.get(interaction.original_message_id)
    )
    if (
        interaction.callback_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
        and original is not None
        and original.loading
        and not original.deleted
    ):
        # Discord turns the first follow-up after a thinking defer into the response itself.
        original.flags &= ~MessageFlag.LOADING
        edit_message(ctx, channel, original, {k: v for k, v in body.items() if k != "flags"})
        message = original
    else:
        message = _response_message(ctx, interaction, body, loading=False)
        message.type = 0
        message.interaction_metadata = metadata(
            interaction, original_response_message_id=str(interaction.original_message_id)
        )
        store_message(ctx, channel, message)
        interaction.followup_ids.append(message.id)
    if not ctx.query_flag("wait"):
        return Reply(status=204)
    return Reply(body=message.to_payload())


@routes.get("/webhooks/{application_id}/{token}/messages/{message_id}", auth=False)
async def get_webhook_message(ctx: Ctx) -> Reply:
    interaction = _interaction_for_webhook(ctx)
    return Reply(body=_target(ctx, interaction).to_payload())


@routes.patch("/webhooks/{application_id}/{token}/messages/{message_id}", auth=False)
async def edit_webhook_message(ctx: Ctx) -> Reply:
    interaction = _interaction_for_webhook(ctx)
    message = _target(ctx, interaction)
    body = ctx.json()
    check_message(body, require_content=False, files=len(ctx.files))
    if message.loading:
        message.flags &= ~MessageFlag.LOADING
    edit_message(ctx, _channel(ctx, interaction), message, body)
    return Reply(body=message.to_payload())


@routes.delete("/webhooks/{application_id}/{token}/messages/{message_id}", auth=False)
async def delete_webhook_message(ctx: Ctx) -> Reply:
    interaction = _interaction_for_webhook(ctx)
    delete_and_announce(ctx, _target(ctx, interaction))
    return Reply(status=204)
