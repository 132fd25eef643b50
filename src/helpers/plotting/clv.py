"""Charts for the chapter "Kaufprognose und Kundenwert". Results in, Figure out."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from .. import fmt
from .style import BRAND, axis_format, new_figure


def holdout_by_frequency(groups: pd.DataFrame, holdout_weeks: int, model_name: str = "BG/NBD"):
    """Mean predicted vs. actual purchases in the holdout per calibration-frequency group.

    ``groups``: columns ``group``, ``customers``, ``predicted``, ``actual`` (from
    ``clv_validation.by_frequency_group``); empty groups are left out. ``model_name``: the model
    whose predictions are shown (legend).
    """
    g = groups[groups["customers"] > 0]
    fig, ax = new_figure(height=3.0)
    x = np.arange(len(g))
    ax.bar(x - 0.2, g["actual"], width=0.4, color=BRAND.colors["neutral"], label="Tatsächlich")
    ax.bar(x + 0.2, g["predicted"], width=0.4, color=BRAND.colors["primary"], label=f"Prognose ({model_name})")
    ax.set_xticks(x, [f"{grp}\n(n = {fmt.integer(n)})" for grp, n in zip(g["group"], g["customers"])],
                  fontsize=7)
    ax.set(xlabel="Wiederholungskäufe im Kalibrierungszeitraum (Kundenzahl)",
           ylabel="Käufe je Kunde im Prüfzeitraum",
           title=f"Prognose und Wirklichkeit in den letzten {fmt.integer(holdout_weeks)} Wochen")
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))
    axis_format(ax, "y", "number", 1)
    ax.legend(loc="upper left")
    return fig


def _heatmap(grid: pd.DataFrame, title: str, cbar_label: str, kind: str, decimals: int):
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, ax = new_figure(height=3.4)
    data = grid.to_numpy()
    rec = grid.columns.to_numpy(dtype=float)
    step = rec[1] - rec[0] if len(rec) > 1 else 1.0
    extent = (rec[0] - step / 2, rec[-1] + step / 2, grid.index[-1] + 0.5, grid.index[0] - 0.5)
    im = ax.imshow(data, aspect="auto", cmap=plt.get_cmap(BRAND.sequential), extent=extent,
                   vmin=0, vmax=1 if kind == "pct" else None, interpolation="nearest")
    ax.set(xlabel="Wochen zwischen erstem und letztem Kauf (Kaufspanne)",
           ylabel="Wiederholungskäufe (Frequency)", title=title)
    ax.grid(False)
    axis_format(ax, "x", "int")
    axis_format(ax, "y", "int")
    cb = fig.colorbar(im, ax=ax, shrink=0.9)
    fun = (lambda v, _: fmt.pct(v)) if kind == "pct" else (lambda v, _: fmt.number(v, decimals))
    cb.ax.yaxis.set_major_formatter(FuncFormatter(fun))
    cb.set_label(cbar_label)
    return fig


def expected_purchases_heatmap(grid: pd.DataFrame, days: int, T_weeks: float):
    """Expected purchases in the next ``days`` days by frequency × recency (customers of age ``T_weeks``)."""
    return _heatmap(grid, f"Erwartete Käufe in den nächsten {fmt.integer(days)} Tagen",
                    f"Käufe (Kundenalter {fmt.number(T_weeks, 0)} Wochen)", "number", 1)


def p_alive_heatmap(grid: pd.DataFrame, T_weeks: float):
    """P(alive) by frequency × recency (customers of age ``T_weeks``)."""
    return _heatmap(grid, "Wahrscheinlichkeit, noch aktiv zu sein (P(aktiv))",
                    f"P(aktiv) (Kundenalter {fmt.number(T_weeks, 0)} Wochen)", "pct", 0)


def clv_deciles(deciles: pd.DataFrame, horizon_months: int):
    """Share of total predicted CLV per customer decile (1 = most valuable 10 %)."""
    fig, ax = new_figure(height=3.0)
    colors = [BRAND.colors["accent"]] + [BRAND.colors["primary"]] * (len(deciles) - 1)
    ax.bar(deciles["decile"], deciles["share"], color=colors)
    ax.set_xticks(deciles["decile"], [f"{int(d) * 10 - 9}–{int(d) * 10} %" for d in deciles["decile"]],
                  rotation=0, fontsize=7)
    ax.set(xlabel="Kundschaft, nach prognostiziertem Kundenwert sortiert",
           ylabel="Anteil am gesamten Kundenwert",
           title=f"Verteilung des Kundenwerts ({fmt.integer(horizon_months)} Monate, Deckungsbeitrag)")
    axis_format(ax, "y", "pct")
    top = deciles["share"].iloc[0]
    ax.set_ylim(0, max(top * 1.15, 0.05))
    ax.annotate(f"Top 10 %: {fmt.pct(top)}", (deciles["decile"].iloc[0], top), xytext=(0, 3),
                textcoords="offset points", ha="center", va="bottom", fontsize=8, color=BRAND.colors["text"])
    return fig
