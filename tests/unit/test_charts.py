"""The stats chart renders member text literally (no mathtext)."""

from __future__ import annotations

from bot.domain.picks import FORMER_MEMBER
from cogs.archive.charts import render_stats_chart
from cogs.archive.files import distinct_names


def test_dollar_signs_in_labels_and_titles_render() -> None:
    png = render_stats_chart(
        {"labels": [("$^$", 4), ("Cash $ Money $", 2)], "curators": [("$x", 1)]}, "Server $x$"
    )
    assert png.startswith(b"\x89PNG")


def test_curators_on_a_chart_have_one_row_per_name() -> None:
    counts = [("wren", 9), (FORMER_MEMBER, 4), ("ines", 4), ("wren", 3), (FORMER_MEMBER, 6)]
    assert distinct_names(counts) == [
        ("former members", 10), ("wren", 9), ("ines", 4), ("wren (2)", 3),
    ]  # fmt: skip
