"""Time-zone lookup, autocomplete ranking and suggestions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.timezones import match_zones, resolve_zone, suggest_zones, zone_names
from bot.errors import UserError
from bot.services.settings import parse_timezone


@pytest.mark.parametrize(
    "typed,canonical",
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("  EUROPE/BERLIN ", "Europe/Berlin"),
        ("America/New York", "America/New_York"),
        ("america/mexico_city", "America/Mexico_City"),
        ("utc", "UTC"),
    ],
)
def test_resolve_forgives_case_and_spaces(typed: str, canonical: str) -> None:
    assert resolve_zone(typed) == canonical


@pytest.mark.parametrize("typed", ["", "Berlin", "Europe/Berln", "Mars/Olympus_Mons", "local"])
def test_resolve_refuses_what_is_not_a_zone_name(typed: str) -> None:
    assert resolve_zone(typed) is None


def test_not_zones_are_excluded() -> None:
    names = set(zone_names())
    assert "Factory" not in names and "localtime" not in names
    assert len(names) > 400


@pytest.mark.parametrize(
    "query,first",
    [
        ("berlin", "Europe/Berlin"),
        ("BERL", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("tokyo", "Asia/Tokyo"),
        ("Europe/Lis", "Europe/Lisbon"),
        ("utc", "UTC"),
        ("bamako", "Africa/Bamako"),
    ],
)
def test_autocomplete_puts_the_best_match_first(query: str, first: str) -> None:
    assert match_zones(query)[0] == first


def test_autocomplete_prefers_real_cities_over_legacy_aliases() -> None:
    assert "US/Eastern" in match_zones("eastern")  # legacy aliases stay findable
    pacific = match_zones("pacific")
    assert pacific[0].startswith("Pacific/")  # region zones before US/Pacific


def test_autocomplete_is_a_case_insensitive_substring_match_capped_at_25() -> None:
    found = match_zones("an")
    assert len(found) == 25
    assert all("an" in name.lower() for name in found)
    assert len(match_zones("")) == 25
    assert match_zones("zzzz") == []


def test_autocomplete_ranks_exact_then_prefix_then_part_then_substring() -> None:
    found = match_zones("america/a", limit=100)
    assert found == sorted(found, key=lambda n: 0 if n.lower().startswith("america/a") else 1)


def test_suggestions_for_a_typo() -> None:
    assert "Europe/Berlin" in suggest_zones("Europe/Berln")
    assert "Europe/Berlin" in suggest_zones("Berln")


def test_unknown_zone_error_suggests_close_matches() -> None:
    with pytest.raises(UserError) as caught:
        parse_timezone("Europe/Berln")
    assert "`Europe/Berln` is not a time zone I know" in caught.value.message
    assert "`Europe/Berlin`" in caught.value.message


def test_unknown_zone_without_any_match_explains_the_format() -> None:
    with pytest.raises(UserError, match="IANA name such as `Europe/Berlin`"):
        parse_timezone("qqqqqqqqq")


@given(st.sampled_from(zone_names()))
def test_every_zone_resolves_to_itself_and_autocompletes_first(name: str) -> None:
    assert resolve_zone(name) == name
    assert resolve_zone(name.upper()) == name
    assert match_zones(name)[0] == name


@given(st.text(max_size=40))
def test_autocomplete_never_exceeds_25_and_only_returns_real_zones(query: str) -> None:
    found = match_zones(query)
    assert len(found) <= 25
    assert set(found) <= set(zone_names())
