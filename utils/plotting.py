"""Plotting defaults: one idea per figure, modest size, labelled axes."""

from __future__ import annotations

import matplotlib as mpl

COURSE_STYLE: dict[str, object] = {
    "figure.figsize": (8.0, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "font.size": 10,
}


def use_course_style() -> None:
    """Apply the course's matplotlib defaults (8×4 in at 100 dpi, light grid, no top/right spine)."""
    mpl.rcParams.update(COURSE_STYLE)
