"""BM25 ranking of a search's candidate window, computed here rather than by FTS5's ``bm25()``.

Why not ``bm25()``: FTS5 computes each phrase's IDF by counting every document that contains
it, across the whole index, before it scores the first row. For a word in 15 % of a million
picks that count alone is 3-4 ms whatever the LIMIT, so a two-word query spent 7 ms before
ranking anything. FTS5 still decides *what* matches; this module only decides the order of
the (at most ``RANK_WINDOW``) newest matches, using:

* per-column term frequencies found in the candidates' own text, folded much as the index
  folds it (case, Latin diacritics, "_" between words) -- where Python and unicode61 differ
  (some Greek and Cyrillic letters) only the order can change, never what matches;
* document frequencies supplied by the caller, estimated from the newest matches of each
  word (exact for rare words), because a ranking needs the ratio between words, not a count;
* BM25's length normalisation over the candidates' text length.

The text scan is one regex pass per column and word over all candidates joined together,
so 1,000 candidates rank in about a millisecond.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from operator import methodcaller
from typing import Any

from bot.domain.picks import LETTER_FOLDS

K1 = 1.2
B = 0.75
# The searchable text columns and their weights, in the order of Candidates.texts (the FTS5
# column filter and the SQL that reads candidates are built from this): a word in the artist
# or title says far more about what a pick is than the same word in a free-form note.
COLUMN_WEIGHTS = {"artist": 10.0, "title": 8.0, "label": 3.0, "city": 2.0, "note": 1.0, "tags": 4.0}
TEXT_COLUMNS = tuple(COLUMN_WEIGHTS)
WEIGHTS = tuple(COLUMN_WEIGHTS.values())
_SEPARATOR = "\x00"
_MARKER = "\x01"
_COUNT_MARKERS = methodcaller("count", _MARKER)
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


@dataclass(frozen=True, slots=True)
class RankTerm:
    word: str  # as typed (FTS5 folds it itself); folded here for the text scan
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Candidates:
    """A search's candidate window, newest first, held column by column: the text scan wants
    one sequence per field, and ``zip(*rows)`` turns a query's rows into that in one C call."""

    ids: Sequence[int]
    texts: Sequence[Sequence[str]] = ()  # one per TEXT_COLUMNS ("" for an empty field); or none
    lengths: Sequence[int] = ()  # characters across those fields: BM25's document length

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]], with_text: bool) -> Candidates:
        """From rows of ``(id, *texts)``, or of ``(id,)`` without text. Lengths are counted
        here: ``len`` of a str is free, where SQLite's ``length()`` walks the UTF-8."""
        if not rows:
            return EMPTY
        columns = list(zip(*rows, strict=True))
        if not with_text:
            return cls(columns[0])
        texts = columns[1:]
        lengths = list(map(sum, zip(*(map(len, column) for column in texts), strict=True)))
        return cls(columns[0], texts, lengths)

    def __len__(self) -> int:
        return len(self.ids)

    def head(self, count: int) -> Candidates:
        if count >= len(self.ids):
            return self
        return Candidates(self.ids[:count], [t[:count] for t in self.texts], self.lengths[:count])

    def then(self, older: Candidates) -> Candidates:
        """These followed by ``older`` (both read the same way, with or without text)."""
        if not older.ids:
            return self
        if not self.ids:
            return older
        return Candidates(
            [*self.ids, *older.ids],
            [[*mine, *theirs] for mine, theirs in zip(self.texts, older.texts, strict=True)],
            [*self.lengths, *older.lengths],
        )


EMPTY = Candidates(())


def fold(text: str) -> str:
    """Lower case without diacritics and with "_" as a space, near enough to how FTS5's
    ``unicode61 remove_diacritics 2`` reads words. Lengths change only outside ASCII, and
    control characters survive, so joined texts keep their separators."""
    if text.isascii():
        return text.lower().replace("_", " ")
    folded = _COMBINING.sub("", unicodedata.normalize("NFD", text.lower()))
    return folded.translate(LETTER_FOLDS).replace("_", " ")


def idf(document_frequency: float, documents: float) -> float:
    """BM25's inverse document frequency (the always-positive form: a word in more than half
    the archive still counts a little, rather than being clamped to nothing)."""
    n = min(max(document_frequency, 0.0), documents)
    return math.log(1.0 + (documents - n + 0.5) / (n + 0.5))


def _pattern(term: RankTerm) -> re.Pattern[str]:
    """The term at the start of a word: a prefix, or the whole word.

    The word comes first so the regex engine can jump between its occurrences (a leading
    ``\\b`` makes it try every position: 30 times slower); the fixed-width lookbehind then
    rejects an occurrence that continues an earlier word."""
    word = re.escape(fold(term.word))
    return re.compile(rf"{word}(?<!\w{word})" + ("" if term.prefix else r"\b"))


def term_frequencies(candidates: Candidates, terms: Sequence[RankTerm]) -> list[list[float]]:
    """``[term][candidate]``: column-weighted occurrences of each term in each candidate.

    Per column, the candidates' texts are joined with a separator and each term's occurrences
    are replaced by a marker, all in C; counting markers per candidate is then one split and
    a ``map``. Stored text never holds control characters (``clean_text`` strips them), so
    neither the separator nor the marker can come from a member."""
    found = [[0.0] * len(candidates) for _ in terms]
    if not candidates.ids:
        return found
    patterns = [_pattern(term) for term in terms]
    for texts, weight in zip(candidates.texts, WEIGHTS, strict=True):
        blob = fold(_SEPARATOR.join(texts))
        for t, pattern in enumerate(patterns):
            marked, hits = pattern.subn(_MARKER, blob)
            if hits:
                counts = map(_COUNT_MARKERS, marked.split(_SEPARATOR))
                found[t] = [f + weight * n for f, n in zip(found[t], counts, strict=True)]
    return found


def bm25_order(
    candidates: Candidates, terms: Sequence[RankTerm], idfs: Sequence[float]
) -> list[int]:
    """The candidates' ids, best first; equal scores keep the window's order (newest first)."""
    if not candidates.ids:
        return []
    lengths = candidates.lengths
    average = sum(lengths) / len(lengths) or 1.0
    norms = [K1 * (1.0 - B + B * length / average) for length in lengths]
    scores = [0.0] * len(candidates)
    for weight, tfs in zip(idfs, term_frequencies(candidates, terms), strict=True):
        scores = [
            s + weight * tf * (K1 + 1.0) / (tf + n)
            for s, tf, n in zip(scores, tfs, norms, strict=True)
        ]
    # Candidates come newest first and the sort is stable, so ties keep the newer first.
    order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)
    ids = candidates.ids
    return [ids[i] for i in order]


def estimate_document_frequency(
    sampled: int, sample_size: int, oldest_sampled: int, newest_id: int, documents: int
) -> float:
    """How many documents hold a word, from a sample of its ``sample_size`` newest matches.

    Fewer matches than the sample size: the count is exact. Otherwise the word is assumed to
    be as common across the archive as it is among the ids the sample spans. Ranking needs
    the ratio between words' frequencies, so an estimate this close serves as well as a count
    of every match, at a thousandth of the cost."""
    if sampled < sample_size:
        return float(sampled)
    span = max(1, newest_id - oldest_sampled + 1)
    return min(float(documents), documents * min(1.0, sampled / span))
