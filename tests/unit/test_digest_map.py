""" "New on the map"'s pure rules: how two spellings of a place or label are told apart (as
SQLite's NOCASE does), and the week's firsts, against a reference that walks each kind in
turn."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.digest import MAP_KINDS, FirstOnMap, MapFact, MapKind, firsts_on_map, map_key

ASCII_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@given(st.text(), st.sampled_from(MAP_KINDS))
def test_a_map_key_lowers_ascii_letters_only_and_only_for_cities_and_labels(
    value: str, kind: MapKind
) -> None:
    nocase = "".join(c.lower() if c in ASCII_UPPER else c for c in value)
    assert map_key(kind, value) == (nocase if kind in ("city", "label") else value)


def reference(week: list[MapFact], seen_before: dict[MapKind, set[str]]) -> list[FirstOnMap]:
    """Each kind in turn: the week's values no earlier pick had, with the first pick of each."""
    ordered = sorted(week, key=lambda fact: (fact.created_at, fact.pick_id))
    found = []
    for kind in MAP_KINDS:
        met = set(seen_before[kind])
        for fact in ordered:
            for value in fact.values(kind):
                if map_key(kind, value) not in met:
                    met.add(map_key(kind, value))
                    found.append(FirstOnMap(kind, value, fact.pick_id))
    return found


PLACES = st.sampled_from(["", "Bamako", "BAMAKO", "bamako", "Köln", "KÖLN", "Niamey"])
facts = st.lists(
    st.builds(
        MapFact,
        pick_id=st.integers(1, 50),
        created_at=st.integers(0, 20),
        country=st.sampled_from([None, "ML", "NE", "DE"]),
        city=st.none() | PLACES,
        label=st.none() | st.sampled_from(["Kranky", "KRANKY", "Sahel Sounds", "4AD"]),
        subgenres=st.lists(st.sampled_from(["drone", "desert-blues", "dub"]), unique=True).map(
            tuple
        ),
    ),
    max_size=12,
)
KEYS = {
    "country": ["ML", "NE", "DE"],
    "city": ["bamako", "köln", "KÖLN"],
    "label": ["kranky", "sahel sounds", "4ad"],
    "subgenre": ["drone", "desert-blues", "dub"],
}
old_keys = st.fixed_dictionaries(
    {kind: st.sets(st.sampled_from(keys)) for kind, keys in KEYS.items()}
)


@given(facts, old_keys)
def test_the_firsts_are_each_kinds_first_unseen_values_countries_first(
    week: list[MapFact], seen_before: dict[MapKind, set[str]]
) -> None:
    # what the server first saw since the week began: the week's values no earlier pick had
    # (and, say, one of a later week's)
    since: dict[MapKind, set[str]] = {
        kind: {map_key(kind, v) for fact in week for v in fact.values(kind)} - seen_before[kind]
        | {"later"}
        for kind in MAP_KINDS
    }
    assert firsts_on_map(week, since) == reference(week, seen_before)
