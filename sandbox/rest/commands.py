"""Application command routes, global and per guild: list, fetch, create, edit, delete and
bulk overwrite. Definitions are validated as Discord validates them; IDs survive an overwrite
for a command with the same type and name, as on Discord."""

from __future__ import annotations

from typing import Any

from sandbox import errors
from sandbox.model import ApplicationCommand
from sandbox.permissions import parse_permissions
from sandbox.rest.common import Ctx, Reply, RouteTable
from sandbox.validation import FormErrors, check_command, check_commands

routes = RouteTable()

JSON = dict[str, Any]
MAX_CHAT_INPUT_COMMANDS = 100
MAX_CONTEXT_MENU_COMMANDS = 5


def _check_application(ctx: Ctx) -> None:
    if ctx.snowflake("application_id") != ctx.world.application_id:
        raise errors.missing_access()


def _registry(ctx: Ctx) -> tuple[dict[int, ApplicationCommand], int | None]:
    _check_application(ctx)
    if "guild_id" not in ctx.request.match_info:
        return ctx.world.global_commands, None
    guild = ctx.guild()
    if ctx.world.bot_user.id not in guild.members:
        raise errors.missing_access()
    return guild.commands, guild.id


def _build(
    ctx: Ctx, payload: JSON, guild_id: int | None, existing: ApplicationCommand | None
) -> ApplicationCommand:
    try:
        permissions = parse_permissions(payload.get("default_member_permissions"))
    except ValueError:
        form = FormErrors()
        form.add(
            ("default_member_permissions",),
            "BASE_TYPE_BAD_INT",
            "Value is not a valid permission bit set.",
        )
        raise form.error() from None
    contexts = payload.get("contexts")
    if contexts is None and payload.get("dm_permission") is False:
        contexts = [0]
    command = ApplicationCommand(
        id=existing.id if existing else ctx.world.new_id(),
        application_id=ctx.world.application_id,
        guild_id=guild_id,
        name=str(payload["name"]),
        type=int(payload.get("type") or 1),
        description=str(payload.get("description") or ""),
        options=list(payload.get("options") or []),
        default_member_permissions=permissions,
        contexts=None if contexts is None else [int(c) for c in contexts],
        integration_types=[int(t) for t in payload.get("integration_types") or [0]],
        nsfw=bool(payload.get("nsfw", False)),
        version=existing.version if existing else ctx.world.new_id(),
        name_localizations=payload.get("name_localizations"),
        description_localizations=payload.get("description_localizations"),
    )
    if existing is not None and command.to_payload() != existing.to_payload():
        command.version = ctx.world.new_id()
    return command


def _check_counts(commands: list[ApplicationCommand]) -> None:
    chat = sum(1 for c in commands if c.type == 1)
    users = sum(1 for c in commands if c.type == 2)
    messages = sum(1 for c in commands if c.type == 3)
    if (
        chat > MAX_CHAT_INPUT_COMMANDS
        or users > MAX_CONTEXT_MENU_COMMANDS
        or messages > MAX_CONTEXT_MENU_COMMANDS
    ):
        raise errors.ApiError(400, 30032, "Maximum number of application commands reached")


@routes.get("/applications/{application_id}/guilds/{guild_id}/commands/permissions")
async def list_command_permissions(ctx: Ctx) -> Reply:
    _registry(ctx)
    return Reply(body=[])


@routes.get("/applications/{application_id}/commands")
@routes.get("/applications/{application_id}/guilds/{guild_id}/commands")
async def list_commands(ctx: Ctx) -> Reply:
    registry, _ = _registry(ctx)
    return Reply(body=[c.to_payload() for c in registry.values()])


@routes.put("/applications/{application_id}/commands")
@routes.put("/applications/{application_id}/guilds/{guild_id}/commands")
async def bulk_overwrite_commands(ctx: Ctx) -> Reply:
    registry, guild_id = _registry(ctx)
    body = ctx.body
    if not isinstance(body, list):
        form = FormErrors()
        form.add((), "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        form.raise_if_any()
    check_commands(body)
    by_key = {(c.type, c.name): c for c in registry.values()}
    updated = [
        _build(ctx, item, guild_id, by_key.get((int(item.get("type") or 1), item["name"])))
        for item in body
    ]
    _check_counts(updated)
    registry.clear()
    registry.update({c.id: c for c in updated})
    return Reply(body=[c.to_payload() for c in updated])


@routes.post("/applications/{application_id}/commands")
@routes.post("/applications/{application_id}/guilds/{guild_id}/commands")
async def create_command(ctx: Ctx) -> Reply:
    registry, guild_id = _registry(ctx)
    body = ctx.json()
    form = FormErrors()
    check_command(form, body, ())
    form.raise_if_any()
    existing = next(
        (
            c
            for c in registry.values()
            if (c.type, c.name) == (int(body.get("type") or 1), body["name"])
        ),
        None,
    )
    command = _build(ctx, body, guild_id, existing)
    _check_counts([c for c in registry.values() if c is not existing] + [command])
    registry[command.id] = command
    return Reply(status=200 if existing else 201, body=command.to_payload())


def _command(ctx: Ctx, registry: dict[int, ApplicationCommand]) -> ApplicationCommand:
    command = registry.get(ctx.snowflake("command_id", unknown=errors.unknown_command))
    if command is None:
        raise errors.unknown_command()
    return command


@routes.get("/applications/{application_id}/commands/{command_id}")
@routes.get("/applications/{application_id}/guilds/{guild_id}/commands/{command_id}")
async def get_command(ctx: Ctx) -> Reply:
    registry, _ = _registry(ctx)
    return Reply(body=_command(ctx, registry).to_payload())


@routes.patch("/applications/{application_id}/commands/{command_id}")
@routes.patch("/applications/{application_id}/guilds/{guild_id}/commands/{command_id}")
async def edit_command(ctx: Ctx) -> Reply:
    registry, guild_id = _registry(ctx)
    current = _command(ctx, registry)
    merged = {**current.to_payload(), **ctx.json()}
    form = FormErrors()
    check_command(form, merged, ())
    form.raise_if_any()
    command = _build(ctx, merged, guild_id, current)
    registry[command.id] = command
    return Reply(body=command.to_payload())


@routes.delete("/applications/{application_id}/commands/{command_id}")
@routes.delete("/applications/{application_id}/guilds/{guild_id}/commands/{command_id}")
async def delete_command(ctx: Ctx) -> Reply:
    registry, _ = _registry(ctx)
    del registry[_command(ctx, registry).id]
    return Reply(status=204)
