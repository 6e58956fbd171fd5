"""Identity and directory routes: the bot user, the application, gateway discovery, guilds,
members, roles and DM channels."""

from __future__ import annotations

from sandbox import errors
from sandbox.gateway import SESSION_START_TOTAL
from sandbox.model import Guild, Member, Role
from sandbox.permissions import Permission
from sandbox.rest.common import Ctx, Reply, RouteTable

routes = RouteTable()


@routes.get("/users/@me")
async def get_current_user(ctx: Ctx) -> Reply:
    user = ctx.world.bot_user
    return Reply(
        body={
            **user.to_payload(),
            "verified": True,
            "mfa_enabled": False,
            "flags": 0,
            "locale": "en-US",
            "email": None,
        }
    )


@routes.get("/users/{user_id}")
async def get_user(ctx: Ctx) -> Reply:
    user = ctx.world.users.get(ctx.snowflake("user_id", unknown=errors.unknown_user))
    if user is None:
        raise errors.unknown_user()
    return Reply(body=user.to_payload())


def _application(ctx: Ctx) -> Reply:
    world = ctx.world
    owner = next((u for u in world.users.values() if not u.bot), world.bot_user)
    return Reply(
        body={
            "id": str(world.application_id),
            "name": world.app_name,
            "icon": None,
            "description": "Local sandbox application",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": owner.to_payload(),
            "flags": ctx.emulator.gateway.application_flags(),
            "team": None,
            "bot": world.bot_user.to_payload(),
            "rpc_origins": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "tags": [],
            "approximate_guild_count": len(world.guilds),
            "install_params": {"scopes": ["bot", "applications.commands"], "permissions": "0"},
            "integration_types_config": {"0": {}, "1": {}},
        }
    )


@routes.get("/oauth2/applications/@me")
async def get_oauth_application(ctx: Ctx) -> Reply:
    return _application(ctx)


@routes.get("/applications/@me")
async def get_application(ctx: Ctx) -> Reply:
    return _application(ctx)


@routes.get("/gateway", auth=False)
async def get_gateway(ctx: Ctx) -> Reply:
    return Reply(body={"url": ctx.emulator.gateway_url})


@routes.get("/gateway/bot")
async def get_gateway_bot(ctx: Ctx) -> Reply:
    gateway = ctx.emulator.gateway
    return Reply(
        body={
            "url": ctx.emulator.gateway_url,
            "shards": gateway.recommended_shards,
            "session_start_limit": {
                "total": SESSION_START_TOTAL,
                "remaining": max(0, SESSION_START_TOTAL - gateway.session_starts),
                "reset_after": 86_400_000,
                "max_concurrency": gateway.max_concurrency,
            },
        }
    )


# -- guilds ------------------------------------------------------------------------------------


@routes.get("/guilds/{guild_id}")
async def get_guild(ctx: Ctx) -> Reply:
    guild = ctx.guild()
    payload = guild.to_payload()
    if ctx.query_flag("with_counts"):
        payload["approximate_member_count"] = len(guild.members)
        payload["approximate_presence_count"] = 0
    return Reply(body=payload)


@routes.get("/guilds/{guild_id}/channels")
async def get_guild_channels(ctx: Ctx) -> Reply:
    guild = ctx.guild()
    return Reply(body=[c.to_payload() for c in guild.channels.values() if not c.is_thread])


@routes.get("/guilds/{guild_id}/roles")
async def get_guild_roles(ctx: Ctx) -> Reply:
    return Reply(body=[r.to_payload() for r in ctx.guild().roles.values()])


@routes.get("/guilds/{guild_id}/members/{user_id}")
async def get_member(ctx: Ctx) -> Reply:
    guild = ctx.guild()
    member = guild.members.get(ctx.snowflake("user_id", unknown=errors.unknown_member))
    if member is None:
        raise errors.unknown_member()
    return Reply(body=member.to_payload())


@routes.get("/guilds/{guild_id}/members")
async def list_members(ctx: Ctx) -> Reply:
    guild = ctx.guild()
    limit = min(max(int(ctx.query.get("limit", "1")), 1), 1000)
    after = int(ctx.query.get("after", "0"))
    members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)[
        :limit
    ]
    return Reply(body=[m.to_payload() for m in members])


@routes.put("/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
async def add_member_role(ctx: Ctx) -> Reply:
    guild, member, role = _member_role(ctx)
    if role.id not in member.role_ids:
        member.role_ids.append(role.id)
        _announce_member_update(ctx, guild.id, member.to_payload())
    return Reply(status=204)


@routes.delete("/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
async def remove_member_role(ctx: Ctx) -> Reply:
    guild, member, role = _member_role(ctx)
    if role.id in member.role_ids:
        member.role_ids.remove(role.id)
        _announce_member_update(ctx, guild.id, member.to_payload())
    return Reply(status=204)


def _member_role(ctx: Ctx) -> tuple[Guild, Member, Role]:
    guild = ctx.guild()
    member = guild.members.get(ctx.snowflake("user_id", unknown=errors.unknown_member))
    if member is None:
        raise errors.unknown_member()
    role = guild.roles.get(ctx.snowflake("role_id", unknown=errors.unknown_role))
    if role is None:
        raise errors.unknown_role()
    ctx.require_guild(guild, Permission.MANAGE_ROLES)
    me = ctx.bot_member(guild)
    top = max((guild.roles[r].position for r in me.role_ids if r in guild.roles), default=0)
    if me.id != guild.owner_id and role.position >= top:
        raise errors.missing_permissions()
    return guild, member, role


def _announce_member_update(ctx: Ctx, guild_id: int, payload: dict[str, object]) -> None:
    ctx.world.announce("GUILD_MEMBER_UPDATE", {**payload, "guild_id": str(guild_id)}, guild_id)


# -- DMs ---------------------------------------------------------------------------------------


@routes.post("/users/@me/channels")
async def create_dm(ctx: Ctx) -> Reply:
    body = ctx.json()
    raw = str(body.get("recipient_id") or "")
    user = ctx.world.users.get(int(raw)) if raw.isdigit() else None
    if user is None:
        raise errors.unknown_user()
    if user.bot and user.id == ctx.world.bot_user.id:
        raise errors.cannot_dm_user()
    return Reply(body=ctx.world.dm_channel_for(user).to_payload())
