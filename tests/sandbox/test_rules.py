"""Pure rules of the emulator: permission computation, body validation, snowflakes and
timestamps, the world model's lookups."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.errors import ApiError
from sandbox.ids import iso, new_snowflake, parse_iso, snowflake_time
from sandbox.model import World
from sandbox.permissions import (
    ALL_PERMISSIONS,
    NO_PERMISSIONS,
    Overwrite,
    OverwriteType,
    Permission,
    apply_overwrites,
    base_permissions,
    parse_permissions,
)
from sandbox.validation import check_commands, check_message, check_modal, embed_length

P = Permission
GUILD, ROLE_A, ROLE_B, MEMBER = 1, 2, 3, 4
EVERYONE_DEFAULT = P.VIEW_CHANNEL | P.SEND_MESSAGES | P.EMBED_LINKS


def in_channel(base: Permission, *overwrites: Overwrite, roles: tuple[int, ...] = ()) -> Permission:
    return apply_overwrites(
        base, guild_id=GUILD, member_id=MEMBER, role_ids=roles, overwrites=overwrites
    )


def test_base_permissions_combine_roles() -> None:
    assert base_permissions(is_owner=False, everyone=P.VIEW_CHANNEL, roles=[P.MANAGE_EVENTS]) == (
        P.VIEW_CHANNEL | P.MANAGE_EVENTS
    )


@pytest.mark.parametrize(
    ("owner", "roles"),
    [(True, []), (False, [P.ADMINISTRATOR]), (False, [P.ADMINISTRATOR | P.SPEAK])],
)
def test_owner_and_administrator_get_everything(owner: bool, roles: list[Permission]) -> None:
    assert base_permissions(is_owner=owner, everyone=NO_PERMISSIONS, roles=roles) == ALL_PERMISSIONS


def test_overwrites_apply_everyone_then_roles_then_member() -> None:
    deny_everyone = Overwrite(GUILD, OverwriteType.ROLE, deny=P.SEND_MESSAGES)
    allow_role = Overwrite(ROLE_A, OverwriteType.ROLE, allow=P.SEND_MESSAGES)
    deny_member = Overwrite(MEMBER, OverwriteType.MEMBER, deny=P.SEND_MESSAGES)
    assert not in_channel(EVERYONE_DEFAULT, deny_everyone) & P.SEND_MESSAGES
    assert (
        in_channel(EVERYONE_DEFAULT, deny_everyone, allow_role, roles=(ROLE_A,)) & P.SEND_MESSAGES
    )
    assert not in_channel(
        EVERYONE_DEFAULT, deny_everyone, allow_role, deny_member, roles=(ROLE_A,)
    ) & (P.SEND_MESSAGES)


def test_role_allow_beats_another_roles_deny() -> None:
    deny_b = Overwrite(ROLE_B, OverwriteType.ROLE, deny=P.SEND_MESSAGES)
    allow_a = Overwrite(ROLE_A, OverwriteType.ROLE, allow=P.SEND_MESSAGES)
    assert in_channel(EVERYONE_DEFAULT, deny_b, allow_a, roles=(ROLE_A, ROLE_B)) & P.SEND_MESSAGES


def test_no_view_means_nothing_and_no_send_drops_embed_links() -> None:
    hidden = Overwrite(GUILD, OverwriteType.ROLE, deny=P.VIEW_CHANNEL)
    assert in_channel(EVERYONE_DEFAULT, hidden) == NO_PERMISSIONS
    muted = Overwrite(GUILD, OverwriteType.ROLE, deny=P.SEND_MESSAGES)
    assert not in_channel(EVERYONE_DEFAULT, muted) & P.EMBED_LINKS


def test_administrator_ignores_overwrites() -> None:
    hidden = Overwrite(GUILD, OverwriteType.ROLE, deny=P.VIEW_CHANNEL)
    assert in_channel(ALL_PERMISSIONS, hidden) == ALL_PERMISSIONS


@given(st.integers(min_value=0, max_value=(1 << 53) - 1))
def test_permissions_parse_from_int_and_string(value: int) -> None:
    assert parse_permissions(value) == parse_permissions(str(value)) == value


def test_parse_permissions_refuses_junk() -> None:
    assert parse_permissions(None) is None
    for junk in (True, "8a", 1.5):
        with pytest.raises(ValueError):
            parse_permissions(junk)


def test_world_default_permissions() -> None:
    world = World.default()
    guild = world.guild
    alice, mod, owner = guild.member("alice"), guild.member("mod"), guild.member("owner")
    mod_log, general = guild.channel("mod-log"), guild.channel("general")
    assert guild.permissions_in(alice, general) & P.SEND_MESSAGES
    assert guild.permissions_in(alice, mod_log) == NO_PERMISSIONS
    assert guild.permissions_in(mod, mod_log) & P.VIEW_CHANNEL
    assert guild.permissions_in(owner, mod_log) == ALL_PERMISSIONS
    assert world.bot_permissions_in(mod_log) & P.SEND_MESSAGES
    assert not guild.base_permissions(alice) & P.MANAGE_GUILD


def errors_of(call: object) -> dict[str, object]:
    assert callable(call)
    with pytest.raises(ApiError) as caught:
        call()
    assert caught.value.status == 400
    assert caught.value.code == 50035, caught.value.message
    assert caught.value.errors is not None
    return caught.value.errors


def test_content_limit() -> None:
    check_message({"content": "x" * 2000})
    errors = errors_of(lambda: check_message({"content": "x" * 2001}))
    assert errors == {
        "content": {
            "_errors": [
                {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}
            ]
        }
    }


def test_empty_message() -> None:
    with pytest.raises(ApiError) as caught:
        check_message({"content": ""})
    assert caught.value.code == 50006
    check_message({}, require_content=False)
    check_message({"content": ""}, files=1)


def test_embed_limits() -> None:
    errors = errors_of(
        lambda: check_message(
            {"embeds": [{"title": "t" * 257, "fields": [{"name": "n", "value": "v" * 1025}]}]}
        )
    )
    assert errors["embeds"]["0"]["title"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"  # type: ignore[index]
    assert "value" in errors["embeds"]["0"]["fields"]["0"]  # type: ignore[index]


def test_embed_total_over_6000() -> None:
    embeds = [{"description": "d" * 4000}, {"description": "d" * 2001}]
    assert sum(embed_length(e) for e in embeds) == 6001
    errors = errors_of(lambda: check_message({"embeds": embeds}))
    assert errors["embeds"]["_errors"][0]["code"] == "MAX_EMBED_SIZE_EXCEEDED"  # type: ignore[index]


def test_component_limits() -> None:
    button = {"type": 2, "style": 1, "label": "ok", "custom_id": "same"}
    errors = errors_of(
        lambda: check_message({"components": [{"type": 1, "components": [button, dict(button)]}]})
    )
    duplicated = errors["components"]["0"]["components"]["1"]["custom_id"]  # type: ignore[index]
    assert duplicated["_errors"][0]["code"] == "COMPONENT_CUSTOM_ID_DUPLICATED"
    long_id = {**button, "custom_id": "c" * 101}
    errors_of(lambda: check_message({"components": [{"type": 1, "components": [long_id]}]}))
    rows = [{"type": 1, "components": [{**button, "custom_id": str(i)}]} for i in range(6)]
    errors_of(lambda: check_message({"components": rows}))


def test_modal_limits() -> None:
    text = {"type": 4, "custom_id": "a", "label": "A", "style": 1}
    check_modal(
        {"title": "ok", "custom_id": "m", "components": [{"type": 1, "components": [text]}]}
    )
    errors = errors_of(lambda: check_modal({"title": "t" * 46, "custom_id": "m", "components": []}))
    assert set(errors["data"]) == {"title", "components"}  # type: ignore[arg-type]


def test_command_definitions() -> None:
    good = {"name": "settings", "description": "Your settings", "type": 1}
    check_commands([good])
    errors = errors_of(lambda: check_commands([{**good, "name": "Settings"}, good, good]))
    assert errors["0"]["name"]["_errors"][0]["code"] == "APPLICATION_COMMAND_INVALID_NAME"  # type: ignore[index]
    assert errors["2"]["name"]["_errors"][0]["code"] == "APPLICATION_COMMANDS_DUPLICATE_NAME"  # type: ignore[index]
    options = [
        {"name": "a", "description": "a", "type": 3},
        {"name": "b", "description": "b", "type": 3, "required": True},
    ]
    errors = errors_of(lambda: check_commands([{**good, "options": options}]))
    assert "required" in errors["0"]["options"]["1"]  # type: ignore[index]
    errors_of(lambda: check_commands([{**good, "description": ""}]))
    many = [{"name": f"o{i}", "description": "d", "type": 3} for i in range(26)]
    errors_of(lambda: check_commands([{**good, "options": many}]))


def test_snowflakes_are_increasing_and_time_based() -> None:
    before = datetime.datetime.now(tz=datetime.UTC)
    ids = [new_snowflake() for _ in range(5000)]
    assert ids == sorted(set(ids))
    created = snowflake_time(ids[-1])
    assert abs((created - before).total_seconds()) < 5


def test_timestamps_are_iso_with_offset() -> None:
    moment = datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.UTC)
    assert iso(moment) == "2024-05-01T12:30:00.000000+00:00"
    assert parse_iso("2024-05-01T12:30:00Z") == moment
    with pytest.raises(ValueError):
        iso(datetime.datetime(2024, 5, 1))
    with pytest.raises(ValueError):
        parse_iso("2024-05-01T12:30:00")
