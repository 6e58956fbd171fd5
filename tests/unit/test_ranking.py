"""BM25 ranking of search candidates (bot.domain.ranking)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.ranking import (
    Candidates,
    RankTerm,
    bm25_order,
    estimate_document_frequency,
    fold,
    idf,
    term_frequencies,
)

Row = tuple[int, str, str, str, str, str, str]  # id and the six text columns


def pick(pick_id: int, artist: str = "", title: str = "", *, note: str = "", tags: str = "") -> Row:
    return (pick_id, artist, title, "", "", note, tags)


def window(*rows: Row) -> Candidates:
    return Candidates.from_rows(rows, with_text=True)


def test_fold_lowers_and_drops_diacritics_like_the_index() -> None:
    assert (
        fold("Sigur Rós — Ágætis Byrjun, Røyksopp, Straße")
        == "sigur ros — agaetis byrjun, royksopp, strasse"
    )
    assert fold("MÚM\x00Café") == "mum\x00cafe"
    assert fold("DJ_Koze") == "dj koze"


def test_a_word_in_the_title_outranks_the_same_word_in_a_note() -> None:
    in_note = pick(3, "Someone", "Untitled", note="a hypnotic record")
    in_title = pick(2, "Someone", "Hypnotic")
    assert bm25_order(window(in_note, in_title), [RankTerm("hypnotic")], [1.0]) == [2, 3]


def test_a_shorter_entry_outranks_a_longer_one_and_ties_go_to_the_newer() -> None:
    short = pick(1, "Drone", "Ash")
    long = pick(2, "Drone", "Ash and the long winter of the northern coast")
    same_as_short = pick(5, "Drone", "Ash")
    # A window is newest first, as every search reads it.
    order = bm25_order(window(same_as_short, long, short), [RankTerm("drone")], [1.0])
    assert order == [5, 1, 2]


def test_the_rarer_words_placement_decides_between_two_words() -> None:
    rare_in_title = pick(1, "Ambient", "Tishoumaren")
    common_in_title = pick(2, "Tishoumaren", "Ambient")
    rare_in_title_note = pick(3, "X", "Tishoumaren", note="ambient")
    common_in_title_note = pick(4, "X", "Ambient", note="tishoumaren")
    terms = [RankTerm("ambient"), RankTerm("tishoumaren")]
    weights = [idf(150_000, 1_000_000), idf(300, 1_000_000)]
    order = bm25_order(
        window(rare_in_title, common_in_title, rare_in_title_note, common_in_title_note),
        terms,
        weights,
    )
    assert order.index(3) < order.index(4)


def test_prefix_terms_match_word_starts_only() -> None:
    candidates = window(
        pick(1, note="hypnotic hypnosis"), pick(2, note="ahypnotic"), pick(3, note="hyp")
    )
    tfs = term_frequencies(candidates, [RankTerm("hyp", prefix=True), RankTerm("hyp")])
    assert tfs[0] == [2.0, 0.0, 1.0]  # the note's weight is 1
    assert tfs[1] == [0.0, 0.0, 1.0]


def test_document_frequency_is_exact_below_the_sample_and_scaled_above() -> None:
    assert estimate_document_frequency(37, 1000, 5, 900, 1_000_000) == 37
    # 1,000 matches among the newest 10,000 ids of a million: about a tenth of everything.
    assert estimate_document_frequency(1000, 1000, 990_001, 1_000_000, 1_000_000) == 100_000
    assert idf(10, 1_000_000) > idf(100_000, 1_000_000) > idf(900_000, 1_000_000) > 0


_TEXT = st.text(alphabet="ab cé-_Á'\n", max_size=20)


def _reference_frequencies(
    texts: list[tuple[str, ...]], terms: list[RankTerm]
) -> list[list[float]]:
    weights = (10.0, 8.0, 3.0, 2.0, 1.0, 4.0)
    found = [[0.0] * len(texts) for _ in terms]
    for t, term in enumerate(terms):
        word = fold(term.word)
        for c, fields in enumerate(texts):
            for column, text in enumerate(fields):
                for token in re.findall(r"[^\W_]+", fold(text)):
                    if token == word or (term.prefix and token.startswith(word)):
                        found[t][c] += weights[column]
    return found


@given(
    st.lists(st.tuples(_TEXT, _TEXT, _TEXT, _TEXT, _TEXT, _TEXT), min_size=1, max_size=6),
    st.lists(
        st.tuples(st.sampled_from(["a", "ab", "b", "cé", "ce", "á"]), st.booleans()),
        min_size=1,
        max_size=3,
    ),
)
def test_term_frequencies_agree_with_counting_words_one_by_one(
    texts: list[tuple[str, ...]], words: list[tuple[str, bool]]
) -> None:
    candidates = window(*((n, *t) for n, t in enumerate(texts)))  # type: ignore[misc]
    terms = [RankTerm(word, prefix) for word, prefix in words]
    assert term_frequencies(candidates, terms) == _reference_frequencies(texts, terms)
    order = bm25_order(candidates, terms, [1.0] * len(terms))
    assert sorted(order) == list(range(len(candidates)))


def test_a_window_keeps_its_columns_aligned_when_cut_and_joined() -> None:
    newer = window(pick(9, "Newest", "A"), pick(8, "Newer", "B"))
    older = window(pick(4, "Older", "C", note="n"))
    joined = newer.then(older)
    assert list(joined.ids) == [9, 8, 4]
    assert [list(column) for column in joined.texts][:2] == [
        ["Newest", "Newer", "Older"],
        ["A", "B", "C"],
    ]
    assert list(joined.lengths) == [7, 6, 7]
    head = joined.head(2)
    assert list(head.ids) == [9, 8] and list(head.texts[0]) == ["Newest", "Newer"]
    assert list(head.lengths) == [7, 6]
    ids_only = Candidates.from_rows([(3,), (2,)], with_text=False)
    assert list(ids_only.ids) == [3, 2] and not ids_only.texts
    assert len(Candidates.from_rows([], with_text=True)) == 0
