"""Charts for the chapter "Maßnahmenplan". Results in, Figure out (German labels via :mod:`helpers.labels`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from .. import labels
from .style import BRAND, axis_format, money_axis_label, new_figure

_PRIORITY_COLORS = {"high": "negative", "medium": "accent", "low": "neutral"}


def value_by_segment(matrix: pd.DataFrame, column: str = "value_at_risk"):
    """Horizontal bars per segment (EUR in ``column`` of the segment matrix), coloured by priority id,
    largest on top."""
    m = matrix.sort_values(column, ascending=True, kind="stable")
    fig, ax = new_figure(height=max(2.2, 0.32 * len(m) + 0.9))
    colors = [BRAND.colors[_PRIORITY_COLORS.get(p, "neutral")] for p in m["priority"]]
    ax.barh(m["segment"].map(labels.segment), m[column].fillna(0.0), color=colors)
    label = "Gefährdeter Deckungsbeitrag" if column == "value_at_risk" else "Kundenwert"
    ax.set(xlabel=money_axis_label(label), ylabel="")
    axis_format(ax, "x", "eur")
    ax.xaxis.set_major_locator(MaxNLocator(5))  # long German amounts must not overlap
    ax.grid(axis="y", visible=False)
    from matplotlib.patches import Patch

    handles = [Patch(color=BRAND.colors[c], label=f"Priorität {labels.priority(p)}")
               for p, c in _PRIORITY_COLORS.items()
               if p in set(m["priority"])]
    ax.legend(handles=handles, loc="lower right")
    return fig


def budget_by_segment(per_segment: pd.DataFrame):
    """Per segment with budgeted contacts: cost of the contacts and the contribution margin they are
    expected to save (EUR, before cost), with the low–high range of the uplift sensitivity as a
    whisker. Segments in priority order (the first on top)."""
    s = per_segment[per_segment["contacts"] > 0].iloc[::-1]
    fig, ax = new_figure(height=max(2.2, 0.42 * len(s) + 0.9))
    y = np.arange(len(s))
    saved = s["saved"] if "saved" in s.columns else s["expected_gain"] + s["cost"]
    ax.barh(y + 0.2, saved, height=0.4, color=BRAND.colors["positive"],
            label="Geretteter Deckungsbeitrag (vor Kosten)")
    if {"expected_gain_low", "expected_gain_high"} <= set(s.columns):
        low, high = s["expected_gain_low"] + s["cost"], s["expected_gain_high"] + s["cost"]
        ax.errorbar(saved, y + 0.2, xerr=[(saved - low).clip(lower=0), (high - saved).clip(lower=0)],
                    fmt="none", ecolor=BRAND.colors["text"], elinewidth=0.8, capsize=2,
                    label="Spanne der Wirkung")
    ax.barh(y - 0.2, s["cost"], height=0.4, color=BRAND.colors["neutral"], label="Kosten der Kontakte")
    ax.set_yticks(y, s["segment"].map(labels.segment))
    ax.set(xlabel=money_axis_label("Betrag"), ylabel="")
    axis_format(ax, "x", "eur")
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower right")
    return fig


def lift_heatmap(pairs: pd.DataFrame, categories: list[str]):
    """Lift of ``A -> B`` (rows: bought A, columns: also bought B); 1 = no association."""
    from .heatmap import annotated_heatmap

    grid = pd.DataFrame(np.nan, index=categories, columns=categories)
    if len(pairs):
        piv = pairs.pivot(index="antecedent", columns="consequent", values="lift")
        grid.update(piv)
    n = len(categories)
    fig, ax = new_figure(height=max(2.6, 0.38 * n + 1.2))
    vmax = float(np.nanmax(grid.to_numpy())) if grid.notna().any().any() else 2.0
    span = max(abs(vmax - 1.0), 0.1)
    annot = grid.map(lambda v: "" if pd.isna(v) else f"{v:.2f}".replace(".", ","))
    from .. import fmt

    annotated_heatmap(ax, grid, annot, cmap="RdBu_r", vmin=1 - span, vmax=1 + span, fontsize=7,
                      cbar_label="Lift", cbar_format=lambda v, _: fmt.number(v, 2))
    ax.set(xlabel="… kauft auch", ylabel="Wer … kauft")
    ax.tick_params(axis="x", labelrotation=30)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    return fig
