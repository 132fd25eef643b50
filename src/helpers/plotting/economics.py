"""Charts for the chapter "Warum Bestandskunden zählen". Results in, Figure out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import fmt
from ..narrative.economics import GROUP_LABELS
from .heatmap import annotated_heatmap
from .style import A4_TEXT_WIDTH_IN, BRAND, axis_format, money_axis_label, new_figure


def group_shares(groups: pd.DataFrame):
    """Horizontal bars: share of customers, purchases and net revenue of one-time vs repeat buyers."""
    fig, ax = new_figure(height=2.6)
    total_p = groups["purchases"].sum()
    measures = {"Kunden": groups["customer_share"],
                "Käufe": groups["purchases"] / total_p if total_p else groups["purchases"] * np.nan}
    if "revenue_share" in groups.columns:
        measures["Nettoumsatz"] = groups["revenue_share"]
    labels = list(measures)
    y = np.arange(len(labels))
    left = np.zeros(len(labels))
    colors = {"one_time": BRAND.colors["neutral"], "repeat": BRAND.colors["primary"]}
    for key in ("one_time", "repeat"):
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


def cohort_heatmap(matrix: pd.DataFrame, period: str = "M", rows=None, max_k: int = 12,
                   title: str | None = None, vmax: float | None = None):
    """Heatmap of a cohort matrix (shares) for the cohorts ``rows`` (default: all), k = 1..max_k.

    Period 0 (always 100 %) is left out so the colour scale shows the differences. Which cohorts
    and columns are shown is decided by the analysis (:class:`helpers.analysis.economics.CohortView`)
    and stated in the text, never cut here.
    """
    m = matrix.loc[list(rows)] if rows is not None else matrix
    m = m.loc[:, [k for k in m.columns if 1 <= k <= max_k]]
    m = m.dropna(axis=1, how="all")
    height = min(1.2 + 0.24 * len(m), 6.5)
    fig, ax = new_figure(height=height)
    unit = "Monat" if period == "M" else "Quartal"
    finite = m.to_numpy()[np.isfinite(m.to_numpy())]
    top = vmax if vmax is not None else (float(np.quantile(finite, 0.98)) if finite.size else 1.0)
    annot = m.apply(lambda col: col.map(lambda v: "" if pd.isna(v) else fmt.number(100 * v, 0)))
    shown = pd.DataFrame(m.to_numpy(dtype=float), index=[_period_label(p) for p in m.index],
                         columns=[str(k) for k in m.columns])
    annot.index, annot.columns = shown.index, shown.columns
    annotated_heatmap(ax, shown, annot, cmap=BRAND.sequential, vmin=0, vmax=max(top, 0.01), fontsize=6.5,
                      linewidth=0.4, cbar_label="Anteil", cbar_format=lambda v, _: fmt.pct(v), cbar_shrink=0.8)
    ax.set_xlabel(f"{unit} nach dem ersten Kauf (Werte in %)")
    ax.set_ylabel(f"Erstkauf im {unit}")
    if title:
        ax.set_title(title)
    return fig


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


def lorenz(curve: pd.DataFrame, point: tuple[float, float] | None = None, top20: float | None = None):
    """Lorenz curve of customer revenue with the line of equal distribution.

    ``point`` (customer share, revenue share) is where the top 20 % of customers begin
    (:attr:`helpers.analysis.concentration.ConcentrationSummary.top_20_point`); the vertical distance
    from it to 100 % is the top 20 %'s share ``top20`` and is marked as such.
    """
    if len(curve) > 2000:  # enough points for a smooth line; keeps large clients fast
        curve = curve.iloc[np.unique(np.linspace(0, len(curve) - 1, 2000).round().astype(int))]
    fig, ax = new_figure(height=3.4, width=A4_TEXT_WIDTH_IN * 0.75)
    ax.plot([0, 1], [0, 1], color=BRAND.colors["neutral"], linestyle="--", linewidth=1,
            label="Gleichverteilung")
    ax.plot(curve["customer_share"], curve["revenue_share"], color=BRAND.colors["primary"], linewidth=2,
            label="Tatsächliche Verteilung")
    ax.fill_between(curve["customer_share"], curve["revenue_share"], curve["customer_share"],
                    color=BRAND.colors["secondary"], alpha=0.12)
    if point is not None and top20 is not None and np.isfinite(top20):
        x, y = point
        accent = BRAND.colors["accent"]
        ax.plot([x], [y], "o", color=accent, zorder=5)
        ax.annotate("", xy=(x, 1.0), xytext=(x, y),
                    arrowprops={"arrowstyle": "<->", "color": accent, "linewidth": 1.4, "shrinkA": 0, "shrinkB": 0})
        box = {"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "none", "alpha": 0.9}
        ax.text(x - 0.03, (y + 1.0) / 2, f"Top 20 % der Kunden:\n{fmt.pct(top20)} des Umsatzes",
                ha="right", va="center", fontsize=8, color=BRAND.colors["text"], bbox=box, zorder=6)
        ax.text(x - 0.03, y / 2 if y > 0.12 else y + 0.04,
                f"Übrige {fmt.pct(x)} der Kunden:\n{fmt.pct(y)} des Umsatzes", ha="right", va="center",
                fontsize=8, color=BRAND.colors["text"], bbox=box, zorder=6)
        ax.plot([x, x], [0, y], color=accent, linewidth=0.8, linestyle=":")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
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
    ax.set_ylabel(money_axis_label("Betrag"))
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2)
    return fig


def flow_waterfall(flow: pd.DataFrame, period: str, periods: int = 3):
    """Waterfall "Kundenbewegung": active customers, then the gains (new + reactivated, stacked) and
    the losses of each period, ending in the period's active customers.

    ``flow``: :attr:`helpers.analysis.cohorts.CustomerFlow.table` (oldest first); the last ``periods``
    periods are drawn, chained (each period's end bar is the next period's start).
    """
    from ..narrative.economics import period_label

    t = flow.iloc[-periods:]
    fig, ax = new_figure(height=3.2)
    c = BRAND.colors
    x, labels, tops, texts = [], [], [], []
    width = 0.7

    def total(pos, label, value):
        ax.bar(pos, value, width=width, color=c["primary"])
        x.append(pos)
        labels.append(label)
        tops.append(float(value))
        texts.append(fmt.integer(value))

    first = t.iloc[0]
    total(0, f"Aktiv\n{_short_before(first, period)}", first["active_previous"])
    pos = 1
    for _, row in t.iterrows():
        level = float(row["active_previous"])
        new, back, lost = float(row["new"]), float(row["reactivated"]), float(row["lost"])
        ax.bar(pos, new, bottom=level, width=width, color=c["positive"])
        ax.bar(pos, back, bottom=level + new, width=width, color=c["secondary"])
        ax.plot([pos - 1 + width / 2, pos - width / 2], [level, level], color=c["neutral"], linewidth=0.6)
        x.append(pos)
        labels.append("Zugänge")
        tops.append(level + new + back)
        texts.append("+" + fmt.integer(new + back))
        high = level + new + back
        ax.bar(pos + 1, lost, bottom=high - lost, width=width, color=c["negative"])
        ax.plot([pos + width / 2, pos + 1 - width / 2], [high, high], color=c["neutral"], linewidth=0.6)
        x.append(pos + 1)
        labels.append("Abgänge")
        tops.append(high)
        texts.append("−" + fmt.integer(lost))
        end = high - lost
        ax.plot([pos + 1 + width / 2, pos + 2 - width / 2], [end, end], color=c["neutral"], linewidth=0.6)
        total(pos + 2, f"Aktiv\n{period_label(row['period_start'], row['period_end'], short=True)}", row["active"])
        pos += 3
    top = max(tops) or 1.0
    for xi, yi, text in zip(x, tops, texts):
        ax.text(xi, yi + top * 0.01, text, ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_ylim(0, top * 1.12)
    axis_format(ax, "y", "int")
    ax.set_ylabel("Kunden")
    ax.grid(axis="x", visible=False)
    from matplotlib.patches import Patch

    handles = [Patch(color=c["primary"], label="Aktive Kunden"), Patch(color=c["positive"], label="Neu"),
               Patch(color=c["secondary"], label="Zurückgewonnen"), Patch(color=c["negative"], label="Verloren")]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=4)
    return fig


def _short_before(row: pd.Series, period: str) -> str:
    """Short label of the period before ``row``'s period."""
    from ..narrative.economics import period_label

    months = 12 if period == "year" else 3
    end = pd.Timestamp(row["period_start"]) - pd.Timedelta(days=1)
    start = pd.Timestamp(row["period_start"]) - pd.DateOffset(months=months)
    return period_label(start, end, short=True)


def cohort_activity(activity: pd.DataFrame, phase_end: pd.Timestamp | None = None):
    """Line: share of the one customer group buying in each calendar month (single acquisition cohort).

    Months up to ``phase_end`` (the acquisition phase) are shaded.
    """
    fig, ax = new_figure(height=2.8)
    x = np.arange(len(activity))
    ax.plot(x, activity["share"].to_numpy(), marker="o", markersize=3, color=BRAND.colors["primary"])
    if phase_end is not None:
        n_phase = int((activity.index.start_time <= pd.Timestamp(phase_end)).sum())
        if n_phase:
            ax.axvspan(-0.5, n_phase - 0.5, color=BRAND.colors["neutral"], alpha=0.15, linewidth=0)
            ax.text(-0.3, 0.02, "Gewinnungsphase", transform=ax.get_xaxis_transform(), fontsize=7,
                    color=BRAND.colors["text"], va="bottom")
    step = max(1, int(np.ceil(len(activity) / 12)))
    ax.set_xticks(x[::step], [fmt.month(p.start_time) for p in activity.index[::step]], fontsize=7)
    ax.set_ylim(0, max(0.05, float(activity["share"].max()) * 1.15))
    axis_format(ax, "y", "pct")
    ax.set_ylabel("Anteil der Gruppe mit Kauf")
    ax.set_xlabel("Kalendermonat")
    return fig
