"""Charts for the chapter "Datengrundlage". Results in, Figure out."""

from __future__ import annotations

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.ticker import FuncFormatter

from .. import fmt
from .style import A4_TEXT_WIDTH_IN, BRAND, axis_format, money_axis_label


def monthly(summary: pd.DataFrame):
    """Net revenue per month (bars, top; omitted without ``revenue``) and customers with a purchase
    per month (line, bottom). ``summary`` from :func:`helpers.analysis.overview.monthly_summary`."""
    import matplotlib.pyplot as plt

    has_rev = "revenue" in summary.columns
    nrows = 2 if has_rev else 1
    fig, axes = plt.subplots(nrows, 1, figsize=(A4_TEXT_WIDTH_IN, 2.0 + 1.6 * nrows), sharex=True,
                             constrained_layout=True, squeeze=False)
    axes = axes[:, 0]
    x = summary.index
    if has_rev:
        ax = axes[0]
        ax.bar(x + pd.Timedelta(days=15), summary["revenue"], width=20, color=BRAND.colors["primary"])
        ax.set(title="Nettoumsatz je Monat", ylabel=money_axis_label("Nettoumsatz"))
        axis_format(ax, "y", "eur")
    ax = axes[-1]
    ax.plot(x + pd.Timedelta(days=15), summary["customers"], color=BRAND.colors["accent"], marker="o", ms=2.5, lw=1.5)
    ax.set(title="Kundinnen und Kunden mit Kauf je Monat", ylabel="Anzahl", xlabel="Monat")
    ax.set_ylim(bottom=0)
    axis_format(ax, "y", "int")
    span = len(summary)
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7) if span > 18 else range(1, 13, 3 if span > 6 else 1)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.month(mdates.num2date(v))))
    return fig
