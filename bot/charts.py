"""Bar charts as PNG (matplotlib, Agg backend), shared by the features that draw them.

Uses ``matplotlib.figure.Figure`` directly rather than pyplot, so there is no global figure
state and rendering is safe in a worker thread. matplotlib is imported on the first chart, not
when the bot starts: it is two thirds of a second of every start-up.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

BAR_COLOUR = "#2E6F73"
#: Longest bar label drawn; longer ones end in an ellipsis.
LABEL_MAX = 28


def plain(text: str) -> str:
    """Member text with ``$`` escaped, so matplotlib never reads it as mathtext."""
    return text.replace("$", r"\$")


def short_label(text: str) -> str:
    return plain(text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1] + "…")


def draw_bars(ax: Any, rows: Sequence[tuple[str, int]]) -> None:
    """Horizontal bars, the first row on top, each with its count."""
    from matplotlib.ticker import MaxNLocator

    labels = [short_label(label) for label, _ in rows][::-1]
    counts = [count for _, count in rows][::-1]
    ax.barh(labels, counts, color=BAR_COLOUR)
    ax.bar_label(ax.containers[0], padding=3, fontsize=9)
    ax.margins(x=0.15)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="y", labelsize=9)
    ax.spines[["top", "right"]].set_visible(False)


def render_bar_chart(title: str, rows: Sequence[tuple[str, int]], *, limit: int = 10) -> bytes:
    """A PNG of one bar chart of the first ``limit`` rows (already display labels)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = list(rows)[:limit]
    # Fixed margins rather than a layout engine: "constrained" costs half as much again as the
    # drawing itself (160 ms instead of 105 for ten bars), and the labels are cut to LABEL_MAX.
    height = 1.2 + 0.38 * max(len(shown), 1)
    figure = Figure(figsize=(8, height), dpi=100)
    figure.subplots_adjust(left=0.3, right=0.95, top=1 - 0.55 / height, bottom=0.35 / height)
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    ax.set_title(plain(title), loc="left", fontsize=13)
    draw_bars(ax, shown)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
