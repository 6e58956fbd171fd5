"""Guild scheduled event routes: list, create, fetch, edit (including status transitions),
delete and interested users. Validation follows Discord: a start time in the world's future, an
end time and location for external events, a voice/stage channel for the others, only the status
transitions Discord allows, and at most 100 uncompleted (scheduled or active) events a guild.

Interested users come in ascending user-ID order, paged by ``before``/``after`` user IDs and
``limit`` (1 to 100, default 100): with ``before``, the ``limit`` users just below it. External events
start and end by themselves as the world's time passes (``sandbox.timers``)."""

from __future__ import annotations

import datetime
from typing import Any

from sandbox import errors
from sandbox.ids import parse_iso
from sandbox.model import ChannelType, EventEntityType, EventStatus, Guild, ScheduledEvent
from sandbox.permissions import Permission
from sandbox.rest.common import Ctx, Reply, RouteTable, page_of_ids
from sandbox.validation import FormErrors

routes = RouteTable()

JSON = dict[str, Any]

STAGE_INSTANCE, VOICE, EXTERNAL = EventEntityType
SCHEDULED, ACTIVE, COMPLETED, CANCELED = EventStatus
_TRANSITIONS: dict[int, set[int]] = {SCHEDULED: {ACTIVE, CANCELED}, ACTIVE: {COMPLETED}}
#: How many scheduled or active events a guild may have.
MAX_UNCOMPLETED_EVENTS = 100


def _time(form: FormErrors, body: JSON, key: str) -> datetime.datetime | None:
    raw = body.get(key)
    if raw is None:
        return None
    try:
        return parse_iso(str(raw))
    except ValueError:
        form.add((key,), "DATE_TIME_TYPE_PARSE", "Could not parse the date/time.")
        return None


def _validate(guild: Guild, body: JSON, *, current: ScheduledEvent | None) -> JSON:
    """Check a create/edit body merged over the current event; returns the merged values."""
    form = FormErrors()
    merged: JSON = {}
    if current is not None:
        merged = {
            "name": current.name,
            "description": current.description,
            "entity_type": current.entity_type,
            "channel_id": current.channel_id,
            "location": current.location,
            "start": current.scheduled_start_time,
            "end": current.scheduled_end_time,
            "privacy_level": current.privacy_level,
        }
    if "name" in body or current is None:
        merged["name"] = body.get("name")
        form.length_between(("name",), merged["name"] or "", 1, 100)
    if "description" in body:
        merged["description"] = body.get("description")
        form.max_length(("description",), merged["description"], 1000)
    if "privacy_level" in body or current is None:
        merged["privacy_level"] = body.get("privacy_level")
        if merged["privacy_level"] != 2:
            form.add(("privacy_level",), "BASE_TYPE_CHOICES", "Value must be one of {2}.")
    if "entity_type" in body or current is None:
        merged["entity_type"] = body.get("entity_type")
        if merged["entity_type"] not in (STAGE_INSTANCE, VOICE, EXTERNAL):
            form.add(("entity_type",), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}.")
    if "channel_id" in body:
        merged["channel_id"] = None if body["channel_id"] is None else int(body["channel_id"])
    if "entity_metadata" in body:
        merged["location"] = (body.get("entity_metadata") or {}).get("location")
    if "scheduled_start_time" in body or current is None:
        merged["start"] = _time(form, body, "scheduled_start_time")
        if merged["start"] is None and "scheduled_start_time" not in form.tree:
            form.required(("scheduled_start_time",), None)
        elif merged["start"] is not None and merged["start"] <= guild.world.now():
            form.add(
                ("scheduled_start_time",),
                "GUILD_SCHEDULED_EVENT_SCHEDULED_START_TIME_IN_PAST",
                "Cannot schedule event in the past.",
            )
    if "scheduled_end_time" in body:
        merged["end"] = _time(form, body, "scheduled_end_time")
    merged.setdefault("end", None)
    merged.setdefault("location", None)
    merged.setdefault("channel_id", None)
    start, end = merged.get("start"), merged.get("end")
    if start is not None and end is not None and end <= start:
        form.add(
            ("scheduled_end_time",),
            "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
            "End time must be after start time.",
        )
    if merged.get("entity_type") == EXTERNAL:
        if not merged["location"]:
            form.add(
                ("entity_metadata", "location"), "BASE_TYPE_REQUIRED", "This field is required"
            )
        else:
            form.max_length(("entity_metadata", "location"), merged["location"], 100)
        if end is None:
            form.add(("scheduled_end_time",), "BASE_TYPE_REQUIRED", "This field is required")
        if merged["channel_id"] is not None:
            form.add(
                ("channel_id",),
                "GUILD_SCHEDULED_EVENT_CHANNEL_ID_INVALID",
                "Must be null for external events.",
            )
    elif merged.get("entity_type") in (STAGE_INSTANCE, VOICE):
        wanted = (
            ChannelType.GUILD_STAGE_VOICE
            if merged["entity_type"] == STAGE_INSTANCE
            else ChannelType.GUILD_VOICE
        )
        channel = guild.channels.get(merged["channel_id"] or 0)
        if channel is None or channel.type != wanted:
            form.add(
                ("channel_id",),
                "GUILD_SCHEDULED_EVENT_CHANNEL_ID_INVALID",
                "Unknown or wrong channel type.",
            )
    form.raise_if_any()
    return merged


def _event(ctx: Ctx, guild: Guild) -> ScheduledEvent:
    event = guild.scheduled_events.get(
        ctx.snowflake("event_id", unknown=errors.unknown_scheduled_event)
    )
    if event is None or event.deleted:
        raise errors.unknown_scheduled_event()
    return event


def _may_manage(ctx: Ctx, guild: Guild, event: ScheduledEvent | None) -> None:
    perms = guild.base_permissions(ctx.bot_member(guild))
    if perms & Permission.MANAGE_EVENTS:
        return
    own = event is None or event.creator.id == ctx.world.bot_user.id
    if not (own and perms & Permission.CREATE_EVENTS):
        raise errors.missing_permissions()


@routes.get("/guilds/{guild_id}/scheduled-events")
async def list_events(ctx: Ctx) -> Reply:
    guild = ctx.guild()
    counted = ctx.query_flag("with_user_count")
    return Reply(
        body=[
            e.to_payload(with_user_count=counted)
            for e in guild.scheduled_events.values()
            if not e.deleted
        ]
    )


@routes.post("/guilds/{guild_id}/scheduled-events")
async def create_event(ctx: Ctx) -> Reply:
    guild = ctx.guild()
    _may_manage(ctx, guild, None)
    values = _validate(guild, ctx.json(), current=None)
    if sum(e.uncompleted for e in guild.scheduled_events.values()) >= MAX_UNCOMPLETED_EVENTS:
        raise errors.too_many_scheduled_events()
    event = ScheduledEvent(
        id=ctx.world.new_id(),
        guild_id=guild.id,
        creator=ctx.world.bot_user,
        name=values["name"],
        description=values.get("description"),
        scheduled_start_time=values["start"],
        scheduled_end_time=values["end"],
        entity_type=values["entity_type"],
        channel_id=values["channel_id"],
        location=values["location"],
    )
    guild.scheduled_events[event.id] = event
    ctx.world.announce("GUILD_SCHEDULED_EVENT_CREATE", event.to_payload(), guild.id)
    return Reply(body=event.to_payload())


@routes.get("/guilds/{guild_id}/scheduled-events/{event_id}")
async def get_event(ctx: Ctx) -> Reply:
    guild = ctx.guild()
    counted = ctx.query_flag("with_user_count")
    return Reply(body=_event(ctx, guild).to_payload(with_user_count=counted))


@routes.patch("/guilds/{guild_id}/scheduled-events/{event_id}")
async def edit_event(ctx: Ctx) -> Reply:
    guild = ctx.guild()
    event = _event(ctx, guild)
    _may_manage(ctx, guild, event)
    body = ctx.json()
    if event.status in (COMPLETED, CANCELED):
        raise errors.finished_event()
    moving = "status" in body and body["status"] != event.status
    if moving and body["status"] not in _TRANSITIONS.get(event.status, set()):
        form = FormErrors()
        form.add(
            ("status",),
            "GUILD_SCHEDULED_EVENT_INVALID_STATUS_TRANSITION",
            "Invalid status transition.",
        )
        form.raise_if_any()
    values = _validate(guild, {k: v for k, v in body.items() if k != "status"}, current=event)
    event.name = values["name"]
    event.description = values.get("description")
    event.scheduled_start_time = values["start"]
    event.scheduled_end_time = values["end"]
    event.entity_type = values["entity_type"]
    event.channel_id = values["channel_id"]
    event.location = values["location"]
    if "status" in body:
        event.status = int(body["status"])
    ctx.world.announce("GUILD_SCHEDULED_EVENT_UPDATE", event.to_payload(), guild.id)
    return Reply(body=event.to_payload())


@routes.delete("/guilds/{guild_id}/scheduled-events/{event_id}")
async def delete_event(ctx: Ctx) -> Reply:
    guild = ctx.guild()
    event = _event(ctx, guild)
    _may_manage(ctx, guild, event)
    event.deleted = True
    ctx.world.announce("GUILD_SCHEDULED_EVENT_DELETE", event.to_payload(), guild.id)
    return Reply(status=204)


@routes.get("/guilds/{guild_id}/scheduled-events/{event_id}/users")
async def list_event_users(ctx: Ctx) -> Reply:
    guild = ctx.guild()
    event = _event(ctx, guild)
    limit = ctx.query_int("limit", default=100, low=1, high=100)
    before, after = ctx.query_snowflake("before"), ctx.query_snowflake("after")
    with_member = ctx.query_flag("with_member")
    users: list[JSON] = []
    for user_id in page_of_ids(event.user_ids, before=before, after=after, limit=limit):
        entry: JSON = {
            "guild_scheduled_event_id": str(event.id),
            "user": ctx.world.users[user_id].to_payload(),
        }
        if with_member and user_id in guild.members:
            entry["member"] = guild.members[user_id].to_payload(with_user=False)
        users.append(entry)
    return Reply(body=users)
