"""Job kinds: payload parsing rules and retry policies (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.jobs import (
    JobKind,
    NoPayload,
    PayloadError,
    RetryPolicy,
    decode_payload,
    encode_payload,
)


@dataclass(frozen=True, slots=True)
class PartyReminder:
    party_id: int
    channel_id: int
    offsets: tuple[int, ...]
    note: str | None = None


REMINDER = JobKind("party.reminder", PartyReminder)
MOMENT = datetime(2026, 1, 5, 12, tzinfo=UTC)


def test_a_payload_round_trips_through_its_spec() -> None:
    payload = PartyReminder(7, 42, (60, 1440), "bring headphones")
    spec = REMINDER.spec(MOMENT, payload, "party:7:reminder")
    assert spec.payload == {
        "party_id": 7,
        "channel_id": 42,
        "offsets": (60, 1440),
        "note": "bring headphones",
    }
    text = '{"party_id": 7, "channel_id": 42, "offsets": [60, 1440], "note": "bring headphones"}'
    assert decode_payload(PartyReminder, text) == payload


def test_a_field_with_a_default_may_be_absent() -> None:
    text = '{"party_id": 7, "channel_id": 42, "offsets": []}'
    assert decode_payload(PartyReminder, text) == PartyReminder(7, 42, ())


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"channel_id": 42, "offsets": []}', "missing field 'party_id'"),
        ('{"party_id": 7, "channel_id": 42, "offsets": [], "x": 1}', "unexpected field 'x'"),
        (
            '{"party_id": "7", "channel_id": 42, "offsets": []}',
            "field 'party_id' should be a whole number, got '7'",
        ),
        (
            '{"party_id": true, "channel_id": 42, "offsets": []}',
            "field 'party_id' should be a whole number, got True",
        ),
        (
            '{"party_id": 7, "channel_id": 42, "offsets": [1, "2"]}',
            "field 'offsets' should be a list of a whole number, got [1, '2']",
        ),
        (
            '{"party_id": 7, "channel_id": 42, "offsets": [], "note": 3}',
            "field 'note' should be text or null, got 3",
        ),
    ],
)
def test_a_payload_that_does_not_match_says_what(text: str, reason: str) -> None:
    with pytest.raises(PayloadError) as caught:
        decode_payload(PartyReminder, text)
    assert str(caught.value).startswith("payload did not match PartyReminder: ")
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("text", "reason"), [("{not json", "payload is not JSON"), ("[1, 2]", "not a JSON object")]
)
def test_a_payload_that_is_not_a_json_object_is_refused(text: str, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        decode_payload(PartyReminder, text)


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(PayloadError) as caught:
        decode_payload(PartyReminder, '{"offsets": "no", "extra": 1}')
    message = str(caught.value)
    for reason in ("'party_id'", "'channel_id'", "'extra'", "'offsets' should be a list"):
        assert reason in message


def test_the_wrong_payload_type_is_refused_at_schedule_time() -> None:
    with pytest.raises(PayloadError, match="expected a PartyReminder payload, got NoPayload"):
        REMINDER.spec(MOMENT, NoPayload())  # type: ignore[arg-type]


def test_a_payload_field_json_cannot_carry_is_refused_at_declaration() -> None:
    @dataclass(frozen=True)
    class WithMoment:
        at: datetime

    with pytest.raises(TypeError, match=r"WithMoment\.at"):
        JobKind("bad", WithMoment)
    with pytest.raises(TypeError, match="must be a dataclass"):
        JobKind("bad", int)


def test_an_empty_payload() -> None:
    assert encode_payload(NoPayload, NoPayload()) == {}
    assert decode_payload(NoPayload, "{}") == NoPayload()
    with pytest.raises(PayloadError, match="unexpected field 'n'"):
        decode_payload(NoPayload, '{"n": 1}')


def test_untyped_payloads_are_the_json_object() -> None:
    assert decode_payload(dict, '{"n": 1}') == {"n": 1}
    with pytest.raises(PayloadError):
        decode_payload(dict, "3")


def test_a_fixed_policy_retries_hourly_three_times() -> None:
    hourly = RetryPolicy.fixed(timedelta(hours=1), retries=3)
    assert hourly.max_attempts == 4
    assert [hourly.delay_after(n) for n in (1, 2, 3)] == [timedelta(hours=1)] * 3
    assert [hourly.gives_up_after(n) for n in (1, 2, 3, 4)] == [False, False, False, True]


def test_an_exponential_policy_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy.exponential(timedelta(seconds=30), timedelta(minutes=2), retries=9)
    delays = [policy.delay_after(n).total_seconds() for n in range(1, 6)]
    assert delays == [30, 60, 120, 120, 120]


def test_no_retries_gives_up_after_the_first_run() -> None:
    assert RetryPolicy.fixed(timedelta(minutes=1), retries=0).gives_up_after(1)


@pytest.mark.parametrize(
    ("retries", "base", "cap"),
    [(-1, 1, 1), (1, 0, 1), (1, 10, 5)],
)
def test_nonsense_policies_are_refused(retries: int, base: int, cap: int) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(retries, timedelta(seconds=base), timedelta(seconds=cap))


@dataclass(frozen=True, slots=True)
class Reminder:
    minutes_before: int

    def __post_init__(self) -> None:
        if self.minutes_before <= 0:
            raise ValueError("a reminder comes before the party")


def test_a_payload_its_own_dataclass_refuses_is_a_payload_error() -> None:
    """A kind's dataclass may check its own fields; a stored payload it refuses fails that job
    clearly, like any other mismatch, instead of escaping the scheduler's handling."""
    with pytest.raises(PayloadError) as caught:
        decode_payload(Reminder, '{"minutes_before": -5}')
    assert str(caught.value) == "payload did not match Reminder: a reminder comes before the party"
