"""One annotated heatmap in plain matplotlib (the subset of ``seaborn.heatmap`` the charts use).

Seaborn's heatmap draws the whole figure once more while it is built (to measure tick labels) and
costs a second import per kernel; this keeps the same look: one cell per value with white grid
lines, row 0 on top, text annotations in dark or white by the cell's luminance, a labelled
colour bar. Missing values stay empty (white).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

DARK_TEXT = "0.15"
LIGHT_TEXT = "white"


def _luminance(rgba) -> float:
    """Relative luminance (WCAG) of an RGBA colour, 0 (black) to 1 (white)."""
    rgb = np.asarray(rgba[:3], dtype=float)
    rgb = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2])


def annotated_heatmap(
    ax,
    values: pd.DataFrame,
    annot: pd.DataFrame | None,
    *,
    cmap: str,
    vmin: float | None = None,
    vmax: float | None = None,
    center: float | None = None,
    fontsize: float = 8,
    linewidth: float = 0.5,
    cbar_label: str = "",
    cbar_format: Callable[[float, int], str] | None = None,
    cbar_shrink: float = 1.0,
    xticklabels: bool = True,
    yticklabels: bool = True,
):
    """Draw ``values`` (rows top to bottom) on ``ax``; ``annot`` holds the cell texts ("" = none).

    ``center``: a diverging scale symmetric around this value (``vmin``/``vmax`` given or from the
    data). Returns the colour bar.
    """
    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    from matplotlib.ticker import FuncFormatter

    data = values.to_numpy(dtype=float)
    masked = np.ma.masked_invalid(data)
    finite = data[np.isfinite(data)]
    lo = vmin if vmin is not None else (float(finite.min()) if finite.size else 0.0)
    hi = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.0)
    if center is not None and vmin is None and vmax is None:
        span = max(abs(hi - center), abs(center - lo))
        lo, hi = center - span, center + span
    if hi <= lo:
        hi = lo + 1.0
    norm = Normalize(lo, hi)
    colormap = colormaps[cmap]
    mesh = ax.pcolormesh(masked, cmap=colormap, norm=norm, edgecolors="white", linewidth=linewidth)
    n_rows, n_cols = data.shape
    ax.set_xlim(0, n_cols)
    ax.set_ylim(n_rows, 0)  # row 0 on top
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)
    ax.set_xticks(np.arange(n_cols) + 0.5, [str(c) for c in values.columns] if xticklabels else [])
    ax.set_yticks(np.arange(n_rows) + 0.5, [str(r) for r in values.index] if yticklabels else [],
                  rotation=0, va="center")
    if annot is not None:
        texts = annot.to_numpy()
        for i in range(n_rows):
            for j in range(n_cols):
                text = texts[i, j]
                if not isinstance(text, str) or not text or not np.isfinite(data[i, j]):
                    continue
                dark = _luminance(colormap(norm(data[i, j]))) > 0.408
                ax.text(j + 0.5, i + 0.5, text, ha="center", va="center", fontsize=fontsize,
                        color=DARK_TEXT if dark else LIGHT_TEXT)
    cbar = ax.figure.colorbar(mesh, ax=ax, shrink=cbar_shrink,
                              format=FuncFormatter(cbar_format) if cbar_format else None)
    cbar.set_label(cbar_label)
    cbar.outline.set_visible(False)
    ax.grid(False)
    return cbar
