"""The try-out's demo server: the world it starts from, and how it is brought to life.

``demo_world()`` is a server, "Low Light Listening", with #general, #recs, #parties, #digests,
#mod-log (moderators only) and a voice channel; its owner juno, a moderator ines, and members
wren, tomas, adaeze, kenji and lea.

``seed()`` then does what its people would do, through the bot's own commands as Discord would
deliver them (the driver), never by writing the bot's database: the moderator sets the server
up and imports an archive of a few hundred real releases with lineage (``archive.csv``, the
bot's own import format); members share picks with their notes and mark each other's; a swap
round is opened, joined and paired (the world's clock moves an hour), so it is in its review
phase, and another is open for joining; a listening party with a short tracklist starts twenty
minutes later (after its 15-minute reminder); and the weekly digest is set for a couple of hours ahead.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from datetime import timedelta
from importlib import resources

from sandbox.driver import Driver, InteractionResult
from sandbox.model import ChannelType, World

log = logging.getLogger(__name__)

SERVER = "Low Light Listening"
OWNER, MODERATOR = "juno", "ines"
MEMBERS = ("wren", "tomas", "adaeze", "kenji", "lea")

#: Picks members share on the first day (artist, title, country, subgenres, note).
SHARES = (
    ("wren", "Slowdive", "Slowdive", "GB", "shoegaze, dream-pop",
     "The comeback nobody dared hope for, twenty-two years on. *Sugar for the Pill* first."),
    ("tomas", "Kas Product", "By Pass", "FR", "minimal-synth, cold-wave",
     "Their second, colder than Try Out. Mona Soyoc sounds like she's singing from a bunker."),
    ("adaeze", "Group Inerane", "Guitars from Agadez", "NE", "tishoumaren, desert-rock",
     "Recorded live, amps cranked, nobody polishing anything. Exactly right."),
    ("kenji", "Hiroshi Yoshimura", "Green", "JP", "kankyo-ongaku, ambient",
     "Like standing in a greenhouse while it rains. Put it on and do something slow."),
    ("lea", "Deepchord", "Vantage Isle", "US", "dub-techno",
     "Detroit by way of Basic Channel: hiss, chords and a kick drum that never hurries."),
)  # fmt: skip
#: The listening party: a short tracklist (title m:ss).
PARTY_WHAT = "Cocteau Twins — Heaven or Las Vegas"
PARTY_TRACKS = (
    "Cherry-coloured Funk 3:12\n"
    "Pitch the Baby 3:14 | the bass line is the whole point\n"
    "Iceblink Luck 3:18\n"
    "Fifty-fifty Clown 3:10\n"
    "Heaven or Las Vegas 4:58 | turn it up for this one"
)
#: The swap round: who joins with what.
SWAP_PICKS = {
    "wren": ("Grouper", "Dragging a Dead Deer Up a Hill", "US"),
    "tomas": ("Tinariwen", "Amassakoul", "ML"),
    "adaeze": ("Asmus Tietchens", "Spät-Europa", "DE"),
    "kenji": ("Chris & Cosey", "Trance", "GB"),
}

#: Who is already in the second round (open for joining), so one more makes a real swap.
RAINY_PICKS = {
    "lea": ("Bark Psychosis", "Hex", "GB"),
    "juno": ("Labradford", "Mi Media Naranja", "US"),
}

Step = Callable[[str], None]


def demo_world() -> World:
    """The demo server, before anyone has done anything in it."""
    world = World.create()
    guild = world.add_guild(SERVER, owner=OWNER)
    moderator = guild.add_moderator_role(color=0x2E6F73)
    general = guild.add_text_channel("general", topic="Say hello; swap rounds run here")
    guild.system_channel_id = general.id
    guild.add_text_channel("recs", topic="Share what you're listening to: /rec share")
    guild.add_text_channel("parties", topic="Listening parties: cards, threads, recaps")
    guild.add_text_channel("digests", topic="The week, every week")
    guild.add_text_channel(
        "mod-log",
        topic="Where the bot tells moderators what needs them",
        overwrites=guild.only_for(moderator),
    )
    guild.add_channel("listening-room", ChannelType.GUILD_VOICE)
    guild.add_member(MODERATOR, roles=[moderator])
    for name in MEMBERS:
        guild.add_member(name)
    return world


async def seed(driver: Driver, archive: bytes | None = None, *, step: Step = log.info) -> None:
    """Bring the demo server to life through the bot's commands (see the module docstring)."""
    archive = archive if archive is not None else demo_archive()
    step("Setting the server up")
    await _command(driver, "settings server-timezone", MODERATOR, zone="Europe/London")
    await _command(driver, "settings mod-log", MODERATOR, channel="mod-log")
    await _command(driver, "party settings", MODERATOR, channel="parties")
    step("Importing an archive of real releases")
    sharers = [driver.user(name).id for name in (*MEMBERS, MODERATOR, OWNER)]
    imported = await _command(
        driver, "archive import", MODERATOR, within=120,
        file=("archive.csv", credited(archive, sharers)),
    )  # fmt: skip
    if not imported.text().startswith("Imported "):
        raise RuntimeError(f"the demo archive was not imported: {imported.text()[:500]}")
    step("Members share picks")
    cards = []
    for member, artist, title, country, subgenres, note in SHARES:
        await _command(
            driver, "rec share", member, where="recs", artist=artist, title=title,
            country=country, subgenres=subgenres, note=note,
        )  # fmt: skip
        card = driver.last_message("recs")
        if card is None or not card.embeds or title not in card.embeds[0].get("title", ""):
            raise RuntimeError(f"the demo share of {artist} — {title} got no card")
        cards.append(card)
    for card, voter in zip(cards, ("lea", "wren", "kenji", "adaeze", "tomas"), strict=True):
        loved = [c for c in card.custom_ids() if c.startswith("uc:pick:loved:")]
        if loved:
            clicked = await driver.click_button(card, custom_id=loved[0], user=voter)
            await clicked.wait_done(within=10)
    step("A swap round is opened, joined and paired")
    await _command(
        driver, "swap open", MODERATOR,
        theme="A record from a city you've never been to",
        join_until="in 1 hour", review_until="in 3 days",
    )  # fmt: skip
    for member, (artist, title, country) in SWAP_PICKS.items():
        await _join_swap(driver, member, artist, title, country)
    await driver.advance(timedelta(hours=1, seconds=5))  # just past joining: paired on time
    await driver.wait_until(
        lambda: any(m.content.startswith("🔁") for m in driver.dms("wren")) or None,
        within=60,
        what="the swap round's pairing",
    )
    step("A listening party is scheduled")
    await _command(
        driver, "party schedule", MODERATOR, channel="parties", what=PARTY_WHAT,
        when="in 20 minutes",
        description="Headphones on. Say what you hear in the thread.",
    )  # fmt: skip
    form = await driver.run_command("party tracklist", user=MODERATOR, party=1)
    await form.wait_response(within=10)
    saved = await driver.submit_modal(form, {"part1": PARTY_TRACKS}, user=MODERATOR)
    await saved.wait_done(within=10)
    card = await driver.wait_until(
        lambda: next(
            (m for m in driver.messages("parties") if "uc:party:rsvp:going:1" in m.custom_ids()),
            None,
        ),
        within=30,
        what="the party's card",
    )
    for member, choice in (("wren", "going"), ("tomas", "going"), ("kenji", "maybe")):
        clicked = await driver.click_button(
            card, custom_id=f"uc:party:rsvp:{choice}:1", user=member
        )
        await clicked.wait_done(within=10)
    step("Another swap round opens for joining")
    await _command(
        driver, "swap open", MODERATOR, where="recs", theme="Something for a rainy Sunday",
        join_until="in 2 days", review_until="in 5 days",
    )  # fmt: skip
    for member, (artist, title, country) in RAINY_PICKS.items():
        await _join_swap(driver, member, artist, title, country, round_id=2, where="recs")
    step("The weekly digest is set up")
    due = driver.now() + timedelta(hours=2)
    await _command(
        driver, "digest setup", MODERATOR, channel="digests", weekday=due.weekday(),
        at=f"{due:%H:%M}", timezone="UTC",
    )  # fmt: skip
    await driver.settle()


def credited(archive: bytes, sharers: list[int]) -> bytes:
    """The archive with each entry credited to one of the demo's people in turn (the file
    names nobody: its people only exist once the demo server does)."""
    rows = list(csv.DictReader(io.StringIO(archive.decode("utf-8"))))
    if not rows:
        return archive
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for number, row in enumerate(rows):
        writer.writerow(row | {"shared_by": str(sharers[number % len(sharers)])})
    return out.getvalue().encode("utf-8")


def demo_archive() -> bytes:
    return resources.files(__package__).joinpath("archive.csv").read_bytes()


async def _command(
    driver: Driver,
    line: str,
    user: str,
    *,
    where: str = "general",
    within: float = 30,
    **options: object,
) -> InteractionResult:
    """Run a command as ``user`` in ``channel`` and wait for its answer; a refusal stops the
    seeding (it means the demo no longer matches the bot)."""
    result = await driver.run_command(line, user=user, channel=where, options=options)
    await result.wait_done(within=within)
    return result


async def _join_swap(
    driver: Driver,
    member: str,
    artist: str,
    title: str,
    country: str,
    *,
    round_id: int = 1,
    where: str = "general",
) -> None:
    marker = f"uc:swap:join:{round_id}"
    card = next(m for m in driver.messages(where) if marker in m.custom_ids())
    form = await driver.click_button(card, label="Join", user=member)
    await form.wait_response(within=10)
    joined = await driver.submit_modal(
        form,
        {"artist": artist, "title": title, "note": f"{member.title()} swears by it"},
        user=member,
    )
    await joined.wait_done(within=10)
    original = joined.original
    if original is None:
        return
    details = await driver.click_button(
        original, label="Add label, year, place and format", user=member
    )
    await details.wait_response(within=10)
    saved = await driver.submit_modal(details, {"country": country}, user=member)
    await saved.wait_done(within=10)
