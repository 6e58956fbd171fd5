"""The stats chart renders member text literally (no mathtext)."""

from __future__ import annotations

from cogs.picks.charts import render_stats_chart


def test_dollar_signs_in_labels_and_titles_render() -> None:
    png = render_stats_chart(
        {"labels": [("$^$", 4), ("Cash $ Money $", 2)], "curators": [("$x", 1)]}, "Server $x$"
    )
    assert png.startswith(b"\x89PNG")
