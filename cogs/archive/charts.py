"""The ``/archive stats`` chart: six horizontal bar charts in one PNG (matplotlib, Agg backend).

Uses ``matplotlib.figure.Figure`` directly rather than pyplot, so there is no global figure
state and rendering is safe in a worker thread. matplotlib is imported on the first chart, not
when the bot starts: it is two thirds of a second of every start-up, for a command few run.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

PANELS = (
    ("subgenres", "Subgenres"),
    ("countries", "Countries"),
    ("labels", "Labels"),
    ("decades", "Decades"),
    ("formats", "Formats"),
    ("curators", "Curators"),
)
BAR_COLOUR = "#2E6F73"


def plain(text: str) -> str:
    """Member text with ``$`` escaped, so matplotlib never reads it as mathtext."""
    return text.replace("$", r"\$")


def render_stats_chart(data: Mapping[str, Sequence[tuple[str, int]]], title: str) -> bytes:
    """A PNG of the top entries per panel; ``data`` values are already display labels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

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
        labels = [plain(label if len(label) <= 28 else label[:27] + "…") for label, _ in rows][::-1]
        counts = [count for _, count in rows][::-1]
        ax.barh(labels, counts, color=BAR_COLOUR)
        ax.bar_label(ax.containers[0], padding=3, fontsize=9)
        ax.margins(x=0.15)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(axis="y", labelsize=9)
        ax.spines[["top", "right"]].set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
