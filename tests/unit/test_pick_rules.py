"""Normalising subgenres, artist/title match keys, countries, years and formats."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.picks import (
    PickFields,
    build_draft,
    match_countries,
    match_key,
    normalize_format,
    normalize_tag,
    parse_subgenres,
    resolve_country,
)
from bot.domain.search import (
    SearchFilters,
    build_match,
    match_parts,
    suggest_alternatives,
    words,
    year_tokens,
)
from bot.errors import UserError


@pytest.mark.parametrize(
    "raw", ["Minimal Synth", "minimal-synth", " minimal  synth", "MINIMAL_SYNTH", "Mínimal Synth"]
)
def test_spellings_of_one_tag_are_one_tag(raw: str) -> None:
    assert normalize_tag(raw) == "minimal-synth"


@given(st.text(max_size=40))
def test_tag_normalisation_is_idempotent(raw: str) -> None:
    once = normalize_tag(raw)
    assert normalize_tag(once) == once
    assert once == once.strip("-")
    assert " " not in once


@given(
    st.lists(
        st.sampled_from(
            ["Minimal Synth", "minimal-synth", "cold wave", "Coldwave", "EBM", "ebm", ""]
        ),
        max_size=8,
    )
)
def test_parsed_subgenres_are_unique_normalised_and_ordered(pieces: list[str]) -> None:
    tags = parse_subgenres(",".join(pieces))
    assert len(tags) == len(set(tags))
    assert all(tag == normalize_tag(tag) and tag for tag in tags)


def test_more_than_eight_subgenres_are_refused() -> None:
    with pytest.raises(UserError, match="At most 8 subgenres"):
        parse_subgenres(",".join(f"tag {n}" for n in range(9)))
    assert len(parse_subgenres(",".join(f"tag {n}" for n in range(8)))) == 8


@pytest.mark.parametrize(
    "a,b",
    [
        (("Sigur Rós", "Ágætis byrjun"), ("sigur ros", "AGAETIS BYRJUN")),
        (("Simon & Garfunkel", "Bookends"), ("Simon and Garfunkel", "bookends")),
        (("!!!", "Myth Takes"), ("!!!", "myth takes")),
        (("Tinariwen", "Amassakoul"), ("  tinariwen ", "amassakoul.")),
        (("R.E.M.", "Murmur"), ("REM", "murmur")),
        (("AC/DC", "Powerage"), ("ACDC", "Power-age")),
        (("Joy Division", "Love Will Tear Us Apart"), ("Joy Division", "Love Will Tear Us Apart!")),
        (("The Cure", "Don't Cry"), ("the cure", "dont cry")),
        (("Lata Mangeshkar", "दिल"), ("lata mangeshkar", " दिल ")),
    ],
)
def test_match_key_ignores_case_spacing_punctuation_and_accents(
    a: tuple[str, str], b: tuple[str, str]
) -> None:
    assert match_key(*a) == match_key(*b)


def test_match_key_keeps_different_records_apart() -> None:
    assert match_key("!!!", "Myth Takes") != match_key("???", "Myth Takes")
    assert match_key("Can", "Tago Mago") != match_key("Cant", "Ago Mago")
    # Vowel signs are part of their words, not punctuation: दिल (heart) and दाल (lentils).
    assert match_key("Lata", "दिल") != match_key("Lata", "दाल")
    assert match_key("Pumpuang", "ลูกทุ่ง") != match_key("Pumpuang", "ลกทง")


@pytest.mark.parametrize(
    "raw,tag",
    [("हिंदी पॉप", "हिंदी-पॉप"), ("ลูกทุ่ง", "ลูกทุ่ง"), ("Kayōkyoku", "kayokyoku"), ("J-Pop", "j-pop")],
)
def test_tags_in_other_scripts_keep_their_letters(raw: str, tag: str) -> None:
    assert normalize_tag(raw) == tag


@pytest.mark.parametrize(
    "raw,code",
    [
        ("France", "FR"),
        ("fr", "FR"),
        ("FRA", "FR"),
        ("UK", "GB"),
        ("Côte d'Ivoire", "CI"),
        ("cote d'ivoire", "CI"),
        ("Russia", "RU"),
        ("Niger", "NE"),
    ],
)
def test_countries_resolve_to_alpha_2(raw: str, code: str) -> None:
    assert resolve_country(raw) == code


def test_unknown_country_suggests() -> None:
    with pytest.raises(UserError, match="Did you mean"):
        resolve_country("Franc")


def test_country_autocomplete() -> None:
    assert match_countries("ger")[0] == ("DE", "Germany")
    assert match_countries("ml")[0][0] == "ML"
    assert match_countries("UK")[0] == ("GB", "United Kingdom")  # an alias, not Ukraine
    assert match_countries("engl")[0][0] == "GB"
    assert match_countries("  Côte ")[0][0] == "CI"
    assert match_countries("zz") == []


def test_country_autocomplete_puts_a_servers_countries_first_within_each_kind_of_match() -> None:
    used = {"NE": 3, "US": 1}
    assert [code for code, _ in match_countries("", 3, used)] == ["NE", "US", "AF"]
    # Exact code first (NI, Nicaragua), then prefixes (Niger, used here, before Nigeria), then
    # names merely containing it (the United States, used here, before the rest).
    found = [code for code, _ in match_countries("ni", used=used)]
    assert found[:3] == ["NI", "NE", "NG"]
    assert found.index("US") < found.index("TN")  # Tunisia


@pytest.mark.parametrize(
    "raw,fmt", [("cd-r", "CD-R"), ("CD", "CD"), ("Vinyl", "vinyl"), ("mini disc", "minidisc")]
)
def test_formats(raw: str, fmt: str) -> None:
    assert normalize_format(raw) == fmt


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("year", 2028, "between 1900 and 2027"),
        ("label", "x" * 101, "**label** is too long: 101 characters, the limit is 100"),
        ("city", "y" * 101, "**city** is too long"),
        ("title", "", "**title** is required"),
    ],
)
def test_field_limits_name_the_field(field: str, value: object, message: str) -> None:
    with pytest.raises(UserError) as caught:
        build_draft(PickFields(artist="A", title="T").changed({field: value}), current_year=2026)
    assert message in caught.value.message


def test_year_range_tokens_use_decades_where_whole() -> None:
    assert year_tokens(1978, 1991, 1900, 2027) == ["y1978", "y1979", "d1980", "y1990", "y1991"]
    assert year_tokens(2010, None, 1900, 2027) == ["d2010", *(f"y{y}" for y in range(2020, 2028))]


def test_a_year_range_rides_on_each_filter_that_has_year_pairs() -> None:
    def parts(include_years: bool = True, **fields: object) -> list[str]:
        filters = SearchFilters(**fields)  # type: ignore[arg-type]
        return match_parts(
            filters, lowest_year=1900, highest_year=2027, include_years=include_years
        )

    assert parts(country="FR", subgenre="cold-wave", year_from=1979, year_to=1980) == [
        "facets: (y1979tcoldwave OR y1980tcoldwave)",
        "facets: (y1979cfr OR y1980cfr)",
    ]
    # The sharer has no year pairs; a words-only search keeps the range as its own part.
    assert parts(format="CD-R", shared_by=5, year_from=1980, year_to=1989) == [
        "facets: d1980fcdr",
        "facets: u5",
    ]
    assert parts(query="ambient", year_from=1989, year_to=1990)[1:] == ["facets: (y1989 OR y1990)"]
    assert parts(country="FR", year_from=2030) == ["facets: cfr", "facets: y0"]  # no such year
    assert parts(False, country="FR", year_from=1980) == ["facets: cfr"]


@given(st.text(max_size=100))
def test_search_text_never_becomes_fts_syntax(text: str) -> None:
    expression = build_match(7, SearchFilters(query=text), lowest_year=1900, highest_year=2027)
    for word in words(text):
        assert f'"{word}"' in expression
    assert expression.startswith("scope:g7")


def test_note_keeps_paragraphs_but_collapses_spaces() -> None:
    draft = build_draft(
        PickFields(artist="A", title="T", note="  first   line \n\n\n\nsecond\tline "),
        current_year=2026,
    )
    assert draft.note == "first line\n\nsecond line"


def test_only_the_last_word_is_a_prefix_and_only_from_three_letters() -> None:
    def expression(query: str) -> str:
        match = build_match(1, SearchFilters(query=query), lowest_year=1900, highest_year=2027)
        assert match is not None
        return match.replace("{artist title label city note tags}", "all")

    assert expression("Sonic Yout") == 'scope:g1 AND all: "sonic" AND all: "yout"*'
    assert expression("sigur ro") == 'scope:g1 AND all: "sigur" AND all: "ro"'


def test_expected_matches_multiplies_the_shares_of_the_parts() -> None:
    from bot.domain.search import expected_matches

    # A million ids; one part's 256 newest matches span the newest 2,560 ids (a tenth of the
    # range), another's span 25,600 (1 %); a third has only 40 matches in all.
    bounds = (1, 1_000_000)
    assert expected_matches([(256, 1_000_000 - 2_559)], 256, bounds) == 100_000
    two = expected_matches([(256, 1_000_000 - 2_559), (256, 1_000_000 - 25_599)], 256, bounds)
    assert round(two) == 1_000
    assert round(expected_matches([(256, 997_441), (40, 999_990)], 256, bounds)) == 4
    assert expected_matches([(0, 0)], 256, bounds) == 0


def test_only_a_server_that_is_most_of_the_database_searches_without_its_scope_token() -> None:
    from bot.domain.search import use_scope_token

    assert not use_scope_token(1_000_000, 1_100_000)  # most of it: check the server per row
    assert use_scope_token(100_000, 1_100_000)  # a tenth of it: the token skips the rest
    assert use_scope_token(12, 13)  # everything is cheap in a small database
    assert not use_scope_token(50, 50)  # the only server: nothing to skip
    assert use_scope_token(0, 50)  # an empty server never reads anyone else's picks


TAGS = ["minimal-synth", "cold-wave", "desert-blues", "dub-techno", "synth-pop"]
LABELS = ["Mute Records", "MUTE RECORDS", "Factory", "Sahel `Sounds`"]


@pytest.mark.parametrize(
    "filters,expected",
    [
        (
            SearchFilters(query="minimal synht"),
            ["subgenre `minimal-synth`", "subgenre `synth-pop`"],
        ),
        (SearchFilters(query="desrt"), ["subgenre `desert-blues`"]),  # one word of a tag
        (SearchFilters(subgenre="coldwave"), ["subgenre `cold-wave`"]),
        (SearchFilters(label="Mute Recrods"), ["label `Mute Records`"]),  # the most used spelling
        (SearchFilters(query="factroy"), ["label `Factory`"]),
        (SearchFilters(query="sahel sounds"), ["label `Sahel 'Sounds'`"]),  # no broken code span
        (SearchFilters(query="zydeco"), []),
        (SearchFilters(query="of"), []),  # short words suggest nothing
        (SearchFilters(country="FR"), []),
    ],
)
def test_no_results_suggests_the_closest_tags_and_labels(
    filters: SearchFilters, expected: list[str]
) -> None:
    assert suggest_alternatives(filters, TAGS, LABELS) == expected


def test_suggestions_are_nearest_first_then_most_used_three_of_a_kind() -> None:
    tags = ["synth-wave", "synth-punk", "synth-pop", "synth-rock"]  # most used first
    assert suggest_alternatives(SearchFilters(subgenre="synthpop"), tags, []) == [
        "subgenre `synth-pop`",  # nearest, though least used of these three
        "subgenre `synth-wave`",  # then equally near ("synth"), by use
        "subgenre `synth-punk`",
    ]
