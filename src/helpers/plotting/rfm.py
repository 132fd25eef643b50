"""Charts for the chapter "Kundensegmentierung nach RFM". Results in, Figure out.

Segment ids are shown with their German names from :mod:`helpers.labels`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import fmt, labels
from .heatmap import annotated_heatmap
from .style import A4_TEXT_WIDTH_IN, BRAND, axis_format, chart_money, money_axis_label, new_figure


def rf_heatmap(grid: pd.DataFrame, kind: str = "count"):
    """R score (rows, 5 on top) x F score heatmap; ``kind`` ``"count"`` (customers) or ``"eur"`` (mean EUR)."""
    fig, ax = new_figure(height=3.2, width=A4_TEXT_WIDTH_IN * 0.75)
    if kind == "count":
        annot = grid.apply(lambda c: c.map(fmt.integer))
        label = "Kunden"
    else:
        annot = grid.apply(lambda c: c.map(lambda v: "" if pd.isna(v) else chart_money(v)))
        label = money_axis_label("Durchschnittlicher Umsatz je Kunde")
    code = fmt.currency_code()
    annotated_heatmap(ax, grid, annot, cmap=BRAND.sequential, fontsize=8, cbar_label=label,
                      cbar_format=lambda v, _: fmt.integer(v) if kind == "count" else chart_money(v, currency=code))
    ax.set_xlabel("F-Score (Kaufhäufigkeit, 5 = am häufigsten)")
    ax.set_ylabel("R-Score (Aktualität, 5 = zuletzt gekauft)")
    return fig


def segment_bars(segments: pd.DataFrame):
    """Horizontal bars per segment (index: segment id): share of customers and (if available) share of revenue."""
    n = len(segments)
    fig, ax = new_figure(height=1.0 + 0.32 * n)
    y = np.arange(n)
    has_rev = segments["revenue_share"].notna().any()
    h = 0.38 if has_rev else 0.6
    ax.barh(y - (h / 2 if has_rev else 0), segments["customer_share"], height=h,
            color=BRAND.colors["neutral"], label="Anteil Kunden")
    if has_rev:
        ax.barh(y + h / 2, segments["revenue_share"].clip(lower=0), height=h, color=BRAND.colors["primary"],
                label="Anteil Umsatz")
    ax.set_yticks(y, [labels.segment(s) for s in segments.index])
    ax.invert_yaxis()
    axis_format(ax, "x", "pct")
    ax.set_xlabel("Anteil")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2)
    return fig


def mix_heatmap(mix: pd.DataFrame, column_label: str):
    """Segments (rows, segment ids) x values of a column (e.g. Warengruppe): share of the segment's revenue."""
    mix = mix.rename(index=labels.segment)

    fig, ax = new_figure(height=1.2 + 0.3 * len(mix))
    annot = mix.apply(lambda c: c.map(lambda v: "" if pd.isna(v) else fmt.number(100 * v, 0)))
    annotated_heatmap(ax, mix, annot, cmap=BRAND.sequential, vmin=0, fontsize=7, linewidth=0.4,
                      cbar_label="Anteil am Segmentumsatz", cbar_format=lambda v, _: fmt.pct(v))
    ax.set_xlabel(f"{column_label} (Werte in % des Segmentumsatzes)")
    ax.set_ylabel("")
    ax.tick_params(axis="x", rotation=30)
    for lbl in ax.get_xticklabels():
        lbl.set_ha("right")
    return fig
