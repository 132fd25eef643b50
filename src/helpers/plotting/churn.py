"""Charts for the chapter "Abwanderungsprognose". Results in, Figure out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import fmt
from .style import BRAND, axis_format, chart_money, money_axis_label, new_figure

_COLORS = {"recency": "secondary", "frequency": "positive", "bgnbd_purchases": "primary",
           "pareto_alive": "primary", "mbgnbd_alive": "primary", "bgnbd_alive": "neutral",
           "logit": "accent", "hgb": "accent", "recency_by_group": "neutral"}


def _label(model: str) -> str:
    from ..narrative.churn import model_label

    return model_label(model)


def _color(model: str) -> str:
    return BRAND.colors[_COLORS.get(model, "secondary")]


def shown_models(evaluation) -> list[str]:
    """The curves worth drawing: the score used, the best baseline, the ML candidate and the BG/NBD
    P(aktiv) reference (each once, only those computed)."""
    c = evaluation.choice
    ids = [c.best, c.best_baseline, c.best_ml, "bgnbd_alive"]
    return [m for m in dict.fromkeys(ids) if m is not None and m in evaluation.metrics.index]


def _style(model: str, used: str) -> dict:
    return {"color": _color(model), "lw": 2.2 if model == used else 1.3,
            "ls": ":" if model == "bgnbd_alive" else "-"}


def roc_pr(evaluation):
    """ROC curve (left) and precision-recall curve (right) at the evaluation cut-off for
    :func:`shown_models` (``evaluation``: :class:`helpers.analysis.churn.Evaluation`)."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    predictions = evaluation.predictions
    fig, (ax1, ax2) = new_figure(height=3.0, ncols=2)
    y = predictions["churned"].to_numpy()
    for m in shown_models(evaluation):
        fpr, tpr, _ = roc_curve(y, predictions[m])
        ax1.plot(fpr, tpr, label=_label(m), **_style(m, evaluation.best_model))
        prec, rec, _ = precision_recall_curve(y, predictions[m])
        ax2.plot(rec, prec, label=_label(m), **_style(m, evaluation.best_model))
    ax1.plot([0, 1], [0, 1], ls="--", color=BRAND.colors["neutral"], lw=0.8, label="Zufall")
    ax2.axhline(y.mean(), ls="--", color=BRAND.colors["neutral"], lw=0.8, label="Zufall")
    ax1.set(xlabel="Anteil fälschlich gewarnter Wiederkaufender", ylabel="Anteil erkannter Abwandernder",
            title="ROC-Kurve")
    ax2.set(xlabel="Anteil erkannter Abwandernder", ylabel="Trefferquote der Warnungen",
            title="Precision-Recall-Kurve", ylim=(0, 1.02))
    for ax in (ax1, ax2):
        axis_format(ax, "x", "pct")
        axis_format(ax, "y", "pct")
    ax1.legend(loc="lower right", fontsize=7)
    return fig


def gains_lift(evaluation):
    """Cumulative gains of :func:`shown_models` (left) and lift per decile of the score used (right)."""
    fig, (ax1, ax2) = new_figure(height=3.0, ncols=2)
    best = evaluation.best_model
    for m in shown_models(evaluation):
        df = evaluation.lift[m]
        x = np.r_[0, df["cum_share_customers"].to_numpy()]
        g = np.r_[0, df["cum_share_churners"].to_numpy()]
        ax1.plot(x, g, marker="o", ms=2.5, label=_label(m), **_style(m, best))
    ax1.plot([0, 1], [0, 1], ls="--", color=BRAND.colors["neutral"], lw=0.8, label="Zufall")
    ax1.set(xlabel="Angesprochene Kundschaft (nach Risiko sortiert)", ylabel="Anteil erreichter Abwandernder",
            title="Gewinnkurve (Gains)")
    axis_format(ax1, "x", "pct")
    axis_format(ax1, "y", "pct")
    ax1.legend(loc="lower right", fontsize=7)
    df = evaluation.lift[best]
    ax2.bar(df.index, df["lift"], color=_color(best))
    ax2.axhline(1, ls="--", color=BRAND.colors["neutral"], lw=0.8)
    ax2.set(xlabel="Risiko-Dezil (1 = höchstes Risiko)", ylabel="Lift (Quote / Durchschnitt)",
            title=f"Lift je Dezil: {_label(best)}")
    ax2.set_xticks(df.index)
    axis_format(ax2, "y", "number", 1)
    return fig


def calibration(calib: dict[str, pd.DataFrame], models=("logit", "hgb")):
    """Mean predicted churn probability vs observed churn rate per score decile of the ML models."""
    fig, ax = new_figure(height=3.2, width=4.2)
    for m in [m for m in models if m in calib]:
        df = calib[m]
        ax.plot(df["mean_predicted"], df["observed_rate"], marker="o", ms=3,
                color=BRAND.colors["accent" if m == "logit" else "primary"], label=_label(m))
    ax.plot([0, 1], [0, 1], ls="--", color=BRAND.colors["neutral"], lw=0.8, label="perfekt kalibriert")
    ax.set(xlabel="Vorhergesagte Abwanderungswahrscheinlichkeit", ylabel="Tatsächliche Abwanderungsquote",
           title="Kalibrierung", xlim=(0, 1), ylim=(0, 1))
    axis_format(ax, "x", "pct")
    axis_format(ax, "y", "pct")
    ax.legend(loc="upper left")
    return fig


def drivers(coefficients: pd.DataFrame, importance: pd.DataFrame, n: int = 8):
    """Top drivers: standardized coefficients (left) and permutation importance (right)."""
    from ..narrative.churn import feature_label

    fig, (ax1, ax2) = new_figure(height=3.4, ncols=2)
    c = coefficients.head(n).iloc[::-1]
    colors = [BRAND.colors["negative"] if v > 0 else BRAND.colors["positive"] for v in c["coefficient"]]
    ax1.barh([_wrap(feature_label(f)) for f in c["feature"]], c["coefficient"], color=colors)
    ax1.axvline(0, color=BRAND.colors["neutral"], lw=0.8)
    ax1.set(xlabel="Standardisierter Koeffizient (> 0: höheres Risiko)", title="Logistische Regression")
    axis_format(ax1, "x", "number", 1)
    i = importance.head(n).iloc[::-1]
    ax2.barh([_wrap(feature_label(f)) for f in i["feature"]], i["importance"],
             xerr=i["importance_std"], color=BRAND.colors["accent"])
    ax2.set(xlabel="Rückgang der ROC AUC beim Vertauschen", title="Gradient Boosting")
    axis_format(ax2, "x", "number", 2)
    for ax in (ax1, ax2):
        ax.tick_params(axis="y", labelsize=7)
    return fig


def _wrap(text: str, width: int = 28) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def risk_value_matrix(matrix: pd.DataFrame):
    """3 x 3 heatmap: value at risk (EUR, colour) and customer count per risk x value tercile
    (``matrix``: :attr:`helpers.analysis.churn.ChurnResult.matrix`)."""
    from ..narrative.churn import GROUP_NAMES

    loss = matrix.pivot(index="risk_group", columns="value_group", values="value_at_risk").sort_index(ascending=False)
    count = matrix.pivot(index="risk_group", columns="value_group", values="customers").loc[loss.index, loss.columns]
    fig, ax = new_figure(height=3.0, width=4.8)
    im = ax.imshow(loss.to_numpy(dtype=float), cmap=BRAND.sequential, aspect="auto")
    vmax = float(np.nanmax(loss.to_numpy(dtype=float))) or 1.0
    for r in range(3):
        for c in range(3):
            v = float(loss.iloc[r, c])
            ax.text(c, r, f"{chart_money(v)}\n{fmt.integer(count.iloc[r, c])} Kunden", ha="center", va="center",
                    fontsize=8, color="white" if v > 0.6 * vmax else BRAND.colors["text"])
    ax.set_xticks(range(3), [GROUP_NAMES[g] for g in loss.columns])
    ax.set_yticks(range(3), [GROUP_NAMES[g] for g in loss.index])
    ax.set(xlabel="Kundenwert (Drittel)", ylabel="Abwanderungsrisiko (Drittel)",
           title="Erwarteter Verlust nach Risiko und Wert")
    ax.grid(False)
    cb = fig.colorbar(im, ax=ax, shrink=0.8)
    axis_format(cb.ax, "y", "eur")
    cb.set_label(money_axis_label("Gefährdeter Deckungsbeitrag"))
    return fig


def risk_distribution(customers: pd.DataFrame):
    """Histogram of the risk of ALL customers, stacked by ``risk_source`` (the score used vs the
    recency-based estimate; customers without a risk are left out)."""
    fig, ax = new_figure(height=2.8)
    known = customers[customers["risk"].notna()]
    sources = list(dict.fromkeys(known["risk_source"]))
    data = [known.loc[known["risk_source"] == s, "risk"].to_numpy() for s in sources]
    colors = [BRAND.colors["neutral"] if s == "recency_by_group" else BRAND.colors["primary"] for s in sources]
    ax.hist(data, bins=np.linspace(0, 1, 21), stacked=True, color=colors, edgecolor="white",
            label=[_label(s) for s in sources])
    ax.set(xlabel="Abwanderungsrisiko", ylabel="Kundinnen und Kunden", title="Verteilung des Abwanderungsrisikos")
    axis_format(ax, "x", "pct")
    axis_format(ax, "y", "int")
    if len(sources) > 1:
        ax.legend(loc="upper left", fontsize=7)
    return fig
