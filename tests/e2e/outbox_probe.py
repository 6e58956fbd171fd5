"""A small process that posts cards through ``bot.outbox`` against the emulator, to be killed.

Run as ``python -m tests.e2e.outbox_probe`` with the emulator's ``DISCORD_*`` variables,
``DATABASE_PATH`` and:

- ``OUTBOX_PROBE=post``: store ``OUTBOX_PROBE_CARDS`` entries (keys ``probe:1`` …) and post
  them, except the last ``OUTBOX_PROBE_UNPOSTED``, which are only stored (a share whose card never
  went out). Every post stops for good after Discord answered and before the message id is
  recorded: it logs ``sent entry N, not recorded`` and hangs there, waiting to be killed.
- ``OUTBOX_PROBE=reconcile``: what a restarted bot does, ``Outbox.reconcile()`` with a renderer
  for ``probe:``; logs ``reconciled <report>`` and exits 0.

``OUTBOX_PROBE_TRUST_NONCE_FOR`` (seconds) overrides how long the outbox counts on a nonce.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from datetime import timedelta
from pathlib import Path

import discord

from bot.clock import SystemClock
from bot.db import Database
from bot.domain.outbox import NONCE_TRUSTED_FOR, OutboxEntry
from bot.outbox import Outbox, OutboxMessage

log = logging.getLogger("outbox_probe")


def card(entry: OutboxEntry) -> OutboxMessage:
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Heard it", custom_id=entry.marker))
    return OutboxMessage(content=f"card for {entry.key}", view=view)


async def render(entry: OutboxEntry) -> OutboxMessage | None:
    return card(entry)


async def hang_after_send(entry: OutboxEntry, posted_id: int) -> None:
    """Stands in for ``Outbox._mark_posted``: the message went out; never record it (and hold
    no database lock meanwhile, so the other posts get as far)."""
    log.warning("sent entry %s, not recorded", entry.id)
    await asyncio.Event().wait()


async def post_cards(db: Database, outbox: Outbox, channel_id: int) -> None:
    cards = int(os.environ["OUTBOX_PROBE_CARDS"])
    unposted = int(os.environ.get("OUTBOX_PROBE_UNPOSTED", "0"))
    keys = [f"probe:{n}" for n in range(1, cards + 1)]
    for key in keys:
        async with db.transaction() as conn:
            await outbox.reserve(conn, key, marker=f"uc:{key}", channel_id=channel_id)
    log.warning("stored %d entries", len(keys))
    outbox._mark_posted = hang_after_send  # type: ignore[method-assign]
    to_post = keys[: len(keys) - unposted]
    await asyncio.gather(*(outbox.post(key) for key in to_post))


async def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    discord.http.Route.BASE = os.environ["DISCORD_API_BASE"]
    channel_id = int(os.environ["OUTBOX_PROBE_CHANNEL"])
    trusted = os.environ.get("OUTBOX_PROBE_TRUST_NONCE_FOR")
    db = await Database.open(Path(os.environ["DATABASE_PATH"]))
    client = discord.Client(intents=discord.Intents(guilds=True))
    try:
        await client.login(os.environ["DISCORD_TOKEN"])
        outbox = Outbox(
            db,
            client,
            SystemClock(),
            nonce_trusted_for=NONCE_TRUSTED_FOR
            if trusted is None
            else timedelta(seconds=float(trusted)),
        )
        outbox.register("probe:", render)
        if os.environ["OUTBOX_PROBE"] == "post":
            await post_cards(db, outbox, channel_id)
        else:
            report = await outbox.reconcile()
            log.warning("reconciled %s", report)
    finally:
        await client.close()
        await db.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
