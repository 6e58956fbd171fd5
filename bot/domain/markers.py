"""When each track of a running party starts: the marker schedule, with the host's pauses,
resumes and skips.

Without any: track 1 starts at the party's start, each next one when the one before ends, with
``side_break`` between sides (time to turn the record). A **pause** holds every track not yet
started until the **resume**, which moves them on by the time paused. A **skip** ends the
playing track now: every later track starts that much earlier (a skip while paused resumes too).
Pure: the controls are given with their moments, in any order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.domain.tracklist import Track, Tracklist

ControlKind = Literal["pause", "resume", "skip"]


@dataclass(frozen=True, slots=True)
class Control:
    """What the host did (``/party pause``, ``resume``, ``skip``), and when."""

    kind: ControlKind
    at: datetime


@dataclass(frozen=True, slots=True)
class MarkerSchedule:
    """``starts[i]`` is when track ``i + 1`` starts; ``ends`` when the last one ends. While the
    party is paused (``paused_since`` set) the tracks not yet started wait: their times are
    still those planned before the pause, and move on by the time paused when it resumes."""

    starts: tuple[datetime, ...]
    ends: datetime
    paused_since: datetime | None

    def playing(self, now: datetime) -> int | None:
        """The index of the track playing at ``now``; None before the start or after the end."""
        if now < self.starts[0] or now >= self.ends:
            return None
        return max(i for i, start in enumerate(self.starts) if start <= now)


def marker_schedule(
    start: datetime,
    tracklist: Tracklist,
    side_break: timedelta,
    controls: Sequence[Control] = (),
) -> MarkerSchedule:
    """The schedule of ``tracklist`` started at ``start``, after ``controls``."""
    tracks = tracklist.tracks
    if not tracks:
        raise ValueError("a schedule needs tracks")
    starts = _planned(start, tracks, side_break)
    ends = starts[-1] + timedelta(seconds=tracks[-1].seconds)
    paused_since: datetime | None = None
    for control in sorted(controls, key=lambda c: c.at):
        if control.kind == "pause":
            paused_since = paused_since or control.at
            continue
        if paused_since is not None:  # resume (and a skip while paused resumes too)
            held = control.at - paused_since
            starts = [s + held if s > paused_since else s for s in starts]
            ends += held
            paused_since = None
        if control.kind == "skip":
            later = [i for i, s in enumerate(starts) if s > control.at]
            gained = (starts[later[0]] if later else ends) - control.at
            starts = [s - gained if s > control.at else s for s in starts]
            ends -= gained
    return MarkerSchedule(tuple(starts), ends, paused_since)


def _planned(start: datetime, tracks: Sequence[Track], side_break: timedelta) -> list[datetime]:
    starts: list[datetime] = []
    at = start
    for index, track in enumerate(tracks):
        if index and track.side != tracks[index - 1].side:
            at += side_break
        starts.append(at)
        at += timedelta(seconds=track.seconds)
    return starts
