"""What the service tests share: two servers, three members, and sharing a pick in one call."""

from __future__ import annotations

from bot.db import Database
from bot.domain.picks import PickFields
from bot.services import picks as service
from tests.fakes import FakeClock

GUILD = 1001
OTHER_GUILD = 2002
ALICE, BOB, MOD = 11, 22, 33
CHANNEL = 3003


async def share(db: Database, clock: FakeClock, artist: str, title: str, **fields: object) -> int:
    given = PickFields(artist=artist, title=title, **fields)  # type: ignore[arg-type]
    result = await service.share_pick(
        db, guild_id=GUILD, user_id=ALICE, channel_id=CHANNEL, now=clock.now(), given=given
    )
    assert result.pick is not None, (
        f"unexpected duplicate of #{result.duplicate and result.duplicate.id}"
    )
    return result.pick.id
