"""The one chart style shared by all chapters (colours from ``reports/template/brand.yml``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import matplotlib

from ..config import TEMPLATE_DIR

A4_TEXT_WIDTH_IN = 6.3
"""Usable text width on A4 with the report margins, in inches."""


@lru_cache(maxsize=1)
def _brand() -> dict:
    import yaml

    with open(TEMPLATE_DIR / "brand.yml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


class _Brand:
    @property
    def colors(self) -> dict[str, str]:
        return _brand()["colors"]

    @property
    def palette(self) -> list[str]:
        return list(_brand()["palette"])

    @property
    def sequential(self) -> str:
        return _brand()["sequential"]


BRAND = _Brand()


def use_style() -> None:
    """Apply the kundenwert chart style (call once per notebook, in the setup cell)."""
    from cycler import cycler

    # Seaborn's "whitegrid"/"paper" look, set directly: importing seaborn here would
    # cost seconds in every notebook's first cell.
    c = BRAND.colors
    matplotlib.rcParams.update(
        {
            "figure.figsize": (A4_TEXT_WIDTH_IN, 3.4),
            "figure.dpi": 110,
            "savefig.dpi": 200,
            "savefig.bbox": "tight",
            "font.family": "sans-serif",
            "font.sans-serif": [_brand()["fonts"]["charts"], "DejaVu Sans"],
            "font.size": 9,
            "axes.titlesize": 10,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.labelsize": 9,
            "axes.edgecolor": c["neutral"],
            "axes.labelcolor": c["text"],
            "axes.prop_cycle": cycler(color=BRAND.palette),
            "axes.spines.top": False,
            "axes.spines.right": False,
            "xtick.color": c["text"],
            "ytick.color": c["text"],
            "legend.frameon": False,
            "legend.fontsize": 8,
            "grid.color": "#DDE3E8",
            "axes.grid": True,
            "axes.facecolor": "white",
            "axes.axisbelow": True,
            "grid.linewidth": 0.8,
            "lines.linewidth": 1.6,
            "axes.formatter.use_locale": False,
        }
    )


def new_figure(height: float = 3.4, ncols: int = 1, width: float = A4_TEXT_WIDTH_IN):
    """A figure sized for the A4 text width; returns ``(fig, ax_or_axes)``."""
    import matplotlib.pyplot as plt

    return plt.subplots(1, ncols, figsize=(width, height), constrained_layout=True)


def axis_format(ax, which: Literal["x", "y"] = "y",
                kind: Literal["int", "eur", "pct", "number"] = "int", decimals: int = 0) -> None:
    """German tick labels: ``kind`` 'int' (1.234), 'eur' (1.234 €), 'pct' (share 0.63 -> 63 %)."""
    from matplotlib.ticker import FuncFormatter

    from .. import fmt

    funcs = {
        "int": lambda v, _: fmt.number(v, decimals),
        "number": lambda v, _: fmt.number(v, decimals),
        "eur": lambda v, _: fmt.eur(v, decimals),
        "pct": lambda v, _: fmt.pct(v, decimals),
    }
    axis = ax.yaxis if which == "y" else ax.xaxis
    axis.set_major_formatter(FuncFormatter(funcs[kind]))
