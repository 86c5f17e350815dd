"""One look for every view: colours for stages, task states and workers, the font, escaping.

Stages use the Okabe-Ito palette (safe for the common colour-vision
deficiencies), workers use Tableau 10, task states their own fixed colours,
so a colour never means two things in one picture.  Every view takes its
colours from here, and its words and number formats from
:mod:`teachkit.model.vocabulary`.

>>> stage_color(0), stage_color(7) == stage_color(0), STATE_COLORS["re-run"]
('#E69F00', True, '#CC79A7')
"""

from __future__ import annotations

import html

#: Okabe-Ito without black: one colour per stage (cycled after 7).
STAGE_COLORS = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")

#: Tableau 10: one colour per worker process (cycled after 10).
WORKER_COLORS = ("#4E79A7", "#F28E2B", "#59A14F", "#B07AA1", "#76B7B2",
                 "#EDC948", "#FF9DA7", "#9C755F", "#E15759", "#BAB0AC")

#: Task states (:data:`teachkit.model.vocabulary.STATES`), as every view colours them.
STATE_COLORS = {
    "pending": "#E6E6E6",   # not yet runnable or not yet assigned
    "assigned": "#FFE9A8",  # the driver gave it to a worker; waiting for a free slot
    "running": "#56B4E9",
    "done": "#009E73",
    "lost": "#D55E00",      # its worker died (running, or holding the result)
    "re-run": "#CC79A7",    # a later attempt of a lost/rescheduled task
    "failed": "#000000",
}

#: Things that belong to no stage (shuffle plumbing, e.g. Dask's P2P barrier).
OTHER_COLOR = "#BBBBBB"
DEATH_COLOR = "#D55E00"
TRANSFER_COLOR = "#555555"
DRIVER_COLOR = "#333333"
FONT = "Helvetica, Arial, sans-serif"


def stage_color(stage_id: int | None) -> str:
    """Colour of stage ``stage_id`` (grey for ``None``: no stage)."""
    if stage_id is None:
        return OTHER_COLOR
    return STAGE_COLORS[int(stage_id) % len(STAGE_COLORS)]


def worker_color(index: int | None) -> str:
    """Colour of the ``index``-th worker of a recording (0-based; grey for ``None``)."""
    if index is None:
        return OTHER_COLOR
    return WORKER_COLORS[int(index) % len(WORKER_COLORS)]


def worker_colors(workers) -> dict[str, str]:
    """Map friendly worker names (``worker-1`` ...) to colours, in the recording's order."""
    return {w.name: worker_color(i) for i, w in enumerate(workers)}


def text_on(fill: str) -> str:
    """Black or white, whichever reads better on ``fill`` (``#RRGGBB``)."""
    r, g, b = (int(fill[i:i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if luminance > 0.45 else "#FFFFFF"


def tint(color: str, amount: float = 0.75) -> str:
    """``color`` mixed with white (``amount`` 0: unchanged, 1: white)."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    mix = [round(c + (255 - c) * amount) for c in (r, g, b)]
    return "#{:02X}{:02X}{:02X}".format(*mix)


def esc(text: object) -> str:
    """Escape text for SVG/HTML/graphviz HTML-like labels."""
    return html.escape(str(text), quote=True)
