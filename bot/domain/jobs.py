"""Durable jobs as values: what a kind of job declares, its typed payload, and retry rules.

A feature declares each kind of job it schedules as a ``JobKind``: a name, the dataclass its
payload is stored as, how it retries, how late it may still run, and — for the moderators who
are told when it gives up — what it does and what they can do about it. Payloads are stored as
JSON objects and parsed back into their dataclass strictly (no missing, extra or wrong-typed
field), so a payload written by an older version fails that one job with a clear reason.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, Literal

from typing_extensions import TypeVar

JobStatus = Literal["pending", "running", "done", "failed", "cancelled", "skipped"]

# A bare ``Job`` (a handler that does not care) is ``Job[Any]``.
P = TypeVar("P", default=Any)
Q = TypeVar("Q")

# Field types a payload dataclass may use: JSON has exactly these (and lists of them).
_SCALARS: tuple[type, ...] = (str, int, float, bool)


class PayloadError(ValueError):
    """A stored payload does not match its kind's dataclass (or a payload cannot be stored)."""


@dataclass(frozen=True, slots=True)
class NoPayload:
    """The payload of a kind that needs no data (a daily purge, say)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a failing job is tried again: ``retries`` more times, ``base`` apart, doubling each
    time up to ``cap``; with ``cap`` equal to ``base`` the interval is fixed."""

    retries: int
    base: timedelta
    cap: timedelta

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError("retries must be 0 or more")
        if self.base <= timedelta(0) or self.cap < self.base:
            raise ValueError("retry delays must be positive, with cap >= base")

    @classmethod
    def fixed(cls, interval: timedelta, *, retries: int) -> RetryPolicy:
        """Retry every ``interval``, ``retries`` times (a digest: hourly, 3 times)."""
        return cls(retries, interval, interval)

    @classmethod
    def exponential(cls, base: timedelta, cap: timedelta, *, retries: int) -> RetryPolicy:
        return cls(retries, base, cap)

    @property
    def max_attempts(self) -> int:
        """The first run plus every retry."""
        return self.retries + 1

    def gives_up_after(self, attempt: int) -> bool:
        """True when the ``attempt``-th run (counting from 1) was the last one allowed."""
        return attempt >= self.max_attempts

    def delay_after(self, attempt: int) -> timedelta:
        """How long to wait after the ``attempt``-th run failed before the next."""
        return retry_delay(attempt, self.base, self.cap)


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A job to be scheduled: what kind, when, with which data, and an optional idempotency key.

    Two specs with the same ``dedupe_key`` make one job, ever (unless the first was cancelled).
    Typed callers build specs with ``JobKind.spec``, which serialises the payload dataclass.
    """

    kind: str
    run_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None
    guild_id: int | None = None

    def __post_init__(self) -> None:
        if self.run_at.tzinfo is None:
            raise ValueError("JobSpec.run_at must be an aware datetime")
        if not self.kind:
            raise ValueError("JobSpec.kind must not be empty")


@dataclass(frozen=True, slots=True)
class JobKind(Generic[P]):
    """One kind of job, declared once by the feature that schedules it.

    ``payload`` is a dataclass whose fields are str, int, float, bool, None, lists of those, or
    unions of those (``int | None``); ``dict`` means an untyped JSON object (the runner's own
    tests; features declare a dataclass).
    ``retry`` None uses the scheduler's default policy. ``max_lateness`` None runs a job however
    late it is; otherwise a job overdue by more is skipped. ``summary`` names the work in words a
    moderator knows ("the weekly digest") and ``what_to_do`` is the sentence they are given when
    a job of this kind gives up.
    """

    name: str
    payload: type[P]
    retry: RetryPolicy | None = None
    max_lateness: timedelta | None = None
    summary: str = ""
    what_to_do: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a job kind needs a name")
        if self.payload is not dict:
            check_payload_type(self.payload)

    def spec(
        self,
        run_at: datetime,
        payload: P,
        dedupe_key: str | None = None,
        *,
        guild_id: int | None = None,
    ) -> JobSpec:
        """A ``JobSpec`` of this kind, its payload serialised (and checked against the type)."""
        return JobSpec(
            self.name, run_at, encode_payload(self.payload, payload), dedupe_key, guild_id
        )


@dataclass(frozen=True, slots=True)
class Job(Generic[P]):
    """A stored job, as its handler receives it. ``attempts`` counts this run.

    The repository returns ``Job[str]`` (the payload as stored JSON); the scheduler hands the
    handler a ``Job`` whose payload is parsed into its kind's dataclass."""

    id: int
    kind: str
    guild_id: int | None
    run_at: datetime
    payload: P
    dedupe_key: str | None
    status: JobStatus
    attempts: int
    last_error: str | None

    def with_payload(self, payload: Q) -> Job[Q]:
        return Job(
            self.id,
            self.kind,
            self.guild_id,
            self.run_at,
            payload,
            self.dedupe_key,
            self.status,
            self.attempts,
            self.last_error,
        )


# -- payloads -------------------------------------------------------------------------------


def check_payload_type(cls: type[Any]) -> None:
    """Refuse, at declaration, a payload type that JSON cannot carry faithfully."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"a job payload must be a dataclass, not {cls!r}")
    for name, hint in _field_hints(cls).items():
        if not _supported(hint):
            raise TypeError(f"{cls.__name__}.{name}: {hint!r} cannot be stored as JSON")


def encode_payload(cls: type[Any], payload: object) -> dict[str, Any]:
    """``payload`` (an instance of ``cls``) as a JSON object; ``dict`` kinds take a mapping."""
    if cls is dict:
        if not isinstance(payload, Mapping):
            raise PayloadError(f"an untyped job payload must be a mapping, not {payload!r}")
        return dict(payload)
    names = [f.name for f in dataclasses.fields(cls)]
    if type(payload) is not cls:
        raise PayloadError(f"expected a {cls.__name__} payload, got {type(payload).__name__}")
    data = {name: getattr(payload, name) for name in names}
    decode_payload(cls, json.dumps(data))  # what is written must read back
    return data


def decode_payload(cls: type[P], text: str) -> P:
    """Parse stored JSON into ``cls``; ``PayloadError`` says exactly what did not match."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise PayloadError(f"payload is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise PayloadError(f"payload is not a JSON object but {type(data).__name__}")
    if cls is dict:
        return typing.cast(P, data)
    hints = _field_hints(cls)
    problems: list[str] = []
    missing = [
        f.name
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]  # checked at declaration
        if f.name not in data
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    problems += [f"missing field {name!r}" for name in missing]
    problems += [f"unexpected field {name!r}" for name in sorted(set(data) - set(hints))]
    for name, value in data.items():
        hint = hints.get(name)
        if hint is not None and not _matches(value, hint):
            problems.append(f"field {name!r} should be {_describe(hint)}, got {value!r}")
    if problems:
        raise PayloadError(f"payload did not match {cls.__name__}: " + "; ".join(problems))
    converted = {name: _convert(value, hints[name]) for name, value in data.items()}
    try:
        return cls(**converted)
    except (TypeError, ValueError) as exc:  # the dataclass's own checks (``__post_init__``)
        raise PayloadError(f"payload did not match {cls.__name__}: {exc}") from None


def _field_hints(cls: type[Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _union_args(hint: Any) -> tuple[Any, ...] | None:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return typing.get_args(hint)
    return None


def _supported(hint: Any) -> bool:
    if hint is type(None) or hint in _SCALARS:
        return True
    union = _union_args(hint)
    if union is not None:
        return all(_supported(arg) for arg in union)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list and len(args) == 1:
        return _supported(args[0])
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _supported(args[0])
    return False


def _matches(value: object, hint: Any) -> bool:
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    union = _union_args(hint)
    if union is not None:
        return any(_matches(value, arg) for arg in union)
    args = typing.get_args(hint)
    return isinstance(value, list) and all(_matches(item, args[0]) for item in value)


def _convert(value: Any, hint: Any) -> Any:
    """A JSON list becomes a tuple where the field declares one (``tuple[int, ...] | None``)."""
    if not isinstance(value, list):
        return value
    candidates = _union_args(hint) or (hint,)
    if any(typing.get_origin(arg) is tuple for arg in candidates):
        return tuple(value)
    return value


def _describe(hint: Any) -> str:
    if hint is type(None):
        return "null"
    union = _union_args(hint)
    if union is not None:
        return " or ".join(_describe(arg) for arg in union)
    if typing.get_origin(hint) in (list, tuple):
        return f"a list of {_describe(typing.get_args(hint)[0])}"
    return {str: "text", int: "a whole number", float: "a number", bool: "true or false"}.get(
        hint, repr(hint)
    )


# -- timing ---------------------------------------------------------------------------------


def retry_delay(attempt: int, base: timedelta, cap: timedelta) -> timedelta:
    """Exponential backoff after the ``attempt``-th failure: base, 2·base, 4·base … at most cap."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    factor: int = 2 ** min(attempt - 1, 30)
    return min(cap, base * factor)


def is_stale(run_at: datetime, now: datetime, max_lateness: timedelta | None) -> bool:
    """True when a job is so overdue that running it now would be wrong (e.g. a past reminder)."""
    return max_lateness is not None and now - run_at > max_lateness
