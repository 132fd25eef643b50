"""Charts for the chapter "Warum Bestandskunden zählen". Results in, Figure out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import fmt
from ..narrative.economics import GROUP_LABELS
from .style import A4_TEXT_WIDTH_IN, BRAND, axis_format, new_figure


def group_shares(groups: pd.DataFrame):
    """Horizontal bars: share of customers, purchases and revenue of first-time vs existing customers."""
    fig, ax = new_figure(height=2.6)
    total_p = groups["purchases"].sum()
    measures = {"Kunden": groups["customer_share"],
                "Käufe": groups["purchases"] / total_p if total_p else groups["purchases"] * np.nan}
    if "revenue_share" in groups.columns:
        measures["Umsatz"] = groups["revenue_share"]
    labels = list(measures)
    y = np.arange(len(labels))
    left = np.zeros(len(labels))
    colors = {"first_time": BRAND.colors["neutral"], "existing": BRAND.colors["primary"]}
    for key in ("first_time", "existing"):
        vals = np.array([float(measures[m].get(key, 0.0)) for m in labels])
        vals = np.nan_to_num(vals)
        ax.barh(y, vals, left=left, color=colors[key], label=GROUP_LABELS[key], height=0.6)
        for yi, (l, v) in enumerate(zip(left, vals)):
            if v >= 0.06:
                ax.text(l + v / 2, yi, fmt.pct(v), ha="center", va="center", color="white", fontsize=8)
        left += vals
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    axis_format(ax, "x", "pct")
    ax.set_xlabel("Anteil")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2)
    return fig


def _period_label(p: pd.Period) -> str:
    if p.freqstr.startswith("Q"):
        return f"{p.quarter}. Qu. {p.year}"
    return fmt.month(p.start_time)


def cohort_heatmap(matrix: pd.DataFrame, period: str = "M", max_cohorts: int = 15, max_k: int = 12,
                   title: str | None = None, vmax: float | None = None):
    """Heatmap of a cohort matrix (shares) for the most recent ``max_cohorts`` cohorts, k = 1..max_k.

    Period 0 (always 100 %) is left out so the colour scale shows the differences.
    """
    import seaborn as sns

    m = matrix.iloc[-max_cohorts:, 1: max_k + 1]
    m = m.dropna(axis=1, how="all").dropna(axis=0, how="all")
    height = min(1.2 + 0.22 * len(m), 6.5)
    fig, ax = new_figure(height=height)
    unit = "Monat" if period == "M" else "Quartal"
    finite = m.to_numpy()[np.isfinite(m.to_numpy())]
    top = vmax if vmax is not None else (float(np.quantile(finite, 0.98)) if finite.size else 1.0)
    annot = m.apply(lambda col: col.map(lambda v: "" if pd.isna(v) else fmt.number(100 * v, 0)))
    sns.heatmap(m, ax=ax, cmap=BRAND.sequential, vmin=0, vmax=max(top, 0.01), annot=annot, fmt="",
                annot_kws={"fontsize": 6.5}, linewidths=0.4, linecolor="white",
                cbar_kws={"label": "Anteil", "format": _pct_formatter(), "shrink": 0.8})
    ax.set_yticks(np.arange(len(m)) + 0.5, [_period_label(p) for p in m.index], rotation=0)
    ax.set_xticks(np.arange(m.shape[1]) + 0.5, [str(k) for k in m.columns], rotation=0)
    ax.grid(False)
    ax.set_xlabel(f"{unit} nach dem ersten Kauf (Werte in %)")
    ax.set_ylabel(f"Erstkauf im {unit}")
    if title:
        ax.set_title(title)
    return fig


def _pct_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: fmt.pct(v))


def retention_curve(mean_retention: pd.Series, period: str = "M", max_k: int = 24):
    """Line: share of a cohort buying in period k, averaged over cohorts (weighted by size)."""
    fig, ax = new_figure(height=2.8)
    s = mean_retention.iloc[1: max_k + 1].dropna()
    ax.plot(s.index, s.values, marker="o", markersize=3, color=BRAND.colors["primary"])
    ax.set_ylim(0, max(0.05, float(s.max()) * 1.15) if len(s) else 1)
    axis_format(ax, "y", "pct")
    ax.set_xlabel(("Monate" if period == "M" else "Quartale") + " nach dem ersten Kauf")
    ax.set_ylabel("Anteil mit Kauf")
    return fig


def lorenz(curve: pd.DataFrame, top20: float | None = None):
    """Lorenz curve of customer revenue with the line of equal distribution."""
    if len(curve) > 2000:  # enough points for a smooth line; keeps large clients fast
        curve = curve.iloc[np.unique(np.linspace(0, len(curve) - 1, 2000).round().astype(int))]
    fig, ax = new_figure(height=3.4, width=A4_TEXT_WIDTH_IN * 0.75)
    ax.plot([0, 1], [0, 1], color=BRAND.colors["neutral"], linestyle="--", linewidth=1,
            label="Gleichverteilung")
    ax.plot(curve["customer_share"], curve["revenue_share"], color=BRAND.colors["primary"], linewidth=2,
            label="Tatsächliche Verteilung")
    ax.fill_between(curve["customer_share"], curve["revenue_share"], curve["customer_share"],
                    color=BRAND.colors["secondary"], alpha=0.12)
    if top20 is not None and np.isfinite(top20):
        ax.plot([0.8], [1 - top20], "o", color=BRAND.colors["accent"])
        ax.annotate(f"Top 20 % der Kunden:\n{fmt.pct(top20)} des Umsatzes", xy=(0.8, 1 - top20),
                    xytext=(0.1, 0.62), fontsize=8, arrowprops={"arrowstyle": "-", "color": BRAND.colors["accent"]})
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    axis_format(ax, "x", "pct")
    axis_format(ax, "y", "pct")
    ax.set_xlabel("Anteil der Kunden (aufsteigend nach Umsatz)")
    ax.set_ylabel("Anteil am Umsatz (kumuliert)")
    ax.legend(loc="upper left")
    return fig


def whatif_bars(table: pd.DataFrame):
    """Bars: extra revenue and extra contribution margin per year of the what-if."""
    fig, ax = new_figure(height=2.8)
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["extra_revenue"], width=0.4, color=BRAND.colors["secondary"], label="Zusätzlicher Umsatz")
    ax.bar(x + 0.2, table["extra_margin"], width=0.4, color=BRAND.colors["positive"],
           label="Zusätzlicher Deckungsbeitrag")
    ax.set_xticks(x, [f"Jahr {int(t)}" for t in table["year"]])
    axis_format(ax, "y", "eur")
    ax.set_ylabel("Euro")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2)
    return fig
