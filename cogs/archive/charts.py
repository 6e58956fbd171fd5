"""The ``/archive stats`` chart: six horizontal bar charts in one PNG (drawn by
``bot.charts``)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from bot.charts import draw_bars, plain

PANELS = (
    ("subgenres", "Subgenres"),
    ("countries", "Countries"),
    ("labels", "Labels"),
    ("decades", "Decades"),
    ("formats", "Formats"),
    ("curators", "Curators"),
)


def render_stats_chart(data: Mapping[str, Sequence[tuple[str, int]]], title: str) -> bytes:
    """A PNG of the top entries per panel; ``data`` values are already display labels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 10), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(plain(title), fontsize=15)
    axes = figure.subplots(3, 2)
    for ax, (key, heading) in zip(axes.flat, PANELS, strict=True):
        rows = list(data.get(key, ()))[:10]
        ax.set_title(heading, loc="left", fontsize=12)
        if not rows:
            ax.text(0.5, 0.5, "nothing yet", ha="center", va="center", color="grey")
            ax.set_axis_off()
            continue
        draw_bars(ax, rows)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
