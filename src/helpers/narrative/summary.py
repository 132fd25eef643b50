"""German management summary from the key figures that the chapters recorded.

The summary never computes a chapter's number a second time in a different way: figures come
from ``session.load_key_figures`` (what each chapter recorded). Only basic facts about the data
(customers, revenue of the last 12 months, repeat buyers) are computed here directly from the
:class:`~helpers.dataset.Dataset` when the data chapter did not record them (interactive runs).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import pandas as pd

from .. import fmt
from ..report.display import md_escape

KeyFigures = Mapping[str, Mapping[str, Any]]

CHAPTER_TITLES = {
    "data": "Datengrundlage",
    "economics": "Warum Bestandskunden zählen",
    "rfm": "Kundensegmentierung nach RFM",
    "clv": "Kaufprognose und Kundenwert",
    "churn": "Abwanderungsprognose",
    "actions": "Maßnahmenplan",
}

CLV_SKIP_TEXT = {
    "no_data": "es keine Käufe im Datenbestand gibt",
    "too_few_repeat": "zu wenige Kundinnen und Kunden mehr als einmal gekauft haben",
    "no_fit": "sich das Modell nicht verlässlich an die Daten anpassen ließ",
}


def _ok(value: Any) -> bool:
    """A usable number (not None/NaN/inf)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _people(n: int) -> str:
    return "eine Kundin bzw. ein Kunde" if n == 1 else f"{fmt.integer(n)} Kundinnen und Kunden"


def direct_figures(ds) -> dict[str, Any]:
    """Basic facts computed from the dataset (used when the data chapter recorded none).

    ``n_customers`` (customers with at least one purchase day), ``n_active_12m`` (purchase in
    ``(end − 365 d, end]``), ``revenue_12m`` (EUR net of purchase days in that window; absent without
    revenue), ``repeat_rate`` (share with at least two purchase days), ``repeat_revenue_share``
    (share of net revenue from those customers), ``revenue_total`` (net EUR of all kept lines),
    ``first_date``, ``observation_end`` (ISO dates).
    """
    c = ds.customers
    end = ds.observation_end
    p = ds.purchases
    in_window = (p["order_date"] > end - pd.Timedelta(days=365)) & (p["order_date"] <= end)
    out: dict[str, Any] = {
        "n_customers": int(len(c)),
        "n_active_12m": int(p.loc[in_window, "customer_id"].nunique()),
        "repeat_rate": float((c["n_purchases"] >= 2).mean()) if len(c) else float("nan"),
        "first_date": ds.first_date.date().isoformat() if len(c) else None,
        "observation_end": end.date().isoformat(),
    }
    if ds.has_revenue:
        out["revenue_12m"] = float(p.loc[in_window, "revenue"].sum())
        out["revenue_total"] = float(ds.transactions["revenue"].sum())
        total = float(c["revenue"].sum())
        repeat = float(c.loc[c["n_purchases"] >= 2, "revenue"].sum())
        out["repeat_revenue_share"] = repeat / total if total > 0 else float("nan")
    return out


_REGISTRY: tuple[tuple[str, str, str, str], ...] = (
    ("data", "customers", "Kundinnen und Kunden im Datenbestand", "int"),
    ("direct", "n_customers", "Kundinnen und Kunden im Datenbestand", "int"),
    ("data", "revenue", "Nettoumsatz im Beobachtungszeitraum", "eur"),
    ("direct", "revenue_total", "Nettoumsatz im Beobachtungszeitraum", "eur"),
    ("economics", "repeat_rate", "Anteil mit mindestens zwei Käufen (Wiederkaufrate)", "pct"),
    ("direct", "repeat_rate", "Anteil mit mindestens zwei Käufen (Wiederkaufrate)", "pct"),
    ("clv", "clv_total", "Erwarteter Kundenwert (CLV, Deckungsbeitrag) {horizon}", "eur"),
    ("actions", "value_at_risk", "Gefährdeter Deckungsbeitrag", "eur"),
    ("churn", "expected_loss_eur", "Gefährdeter Deckungsbeitrag", "eur"),
    ("churn", "n_risk_50", "Kundinnen und Kunden mit Abwanderungsrisiko ab 50 % {window}", "int"),
    ("actions", "expected_gain", "Erwarteter Zusatz-Deckungsbeitrag der empfohlenen Kampagne", "eur"),
)
"""(chapter, key, German label, kind); per label the first source with a usable value wins,
so a chapter's recorded number always beats the direct computation (``"direct"``)."""

_FORMAT = {"int": fmt.integer, "eur": fmt.eur, "pct": fmt.pct, "number": lambda v: fmt.number(v, 2)}


def key_figure_rows(key_figures: KeyFigures, direct: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Up to seven key figures: ``label``, ``value`` (number, as recorded), ``kind``, ``chapter``.

    Each label is taken from the first source in :data:`_REGISTRY` that has a usable value, so a
    chapter's own number always wins over a direct computation.
    """
    sources = {**{k: dict(v) for k, v in key_figures.items()}, "direct": dict(direct or {})}
    rows, seen = [], set()
    for chapter, key, label, kind in _REGISTRY:
        value = sources.get(chapter, {}).get(key)
        if label in seen or not _ok(value):
            continue
        if chapter == "clv" and key == "clv_total":
            h = sources["clv"].get("horizon_months")
            label_out = label.format(horizon=f"für {fmt.integer(h)} Monate" if _ok(h) else "").strip()
        elif chapter == "churn" and key == "n_risk_50":
            w = sources["churn"].get("window_days")
            label_out = label.format(window=f"(kein Kauf in {fmt.integer(w)} Tagen)" if _ok(w) else "").strip()
        else:
            label_out = label
        seen.add(label)
        rows.append({"label": label_out, "value": float(value), "kind": kind,
                     "chapter": "data" if chapter == "direct" else chapter})
    return pd.DataFrame(rows[:7], columns=["label", "value", "kind", "chapter"])


def key_figure_table(rows: pd.DataFrame) -> pd.DataFrame:
    """German table ``Kennzahl``/``Wert``/``Kapitel`` (values formatted, e.g. ``1.234 €``)."""
    return pd.DataFrame(
        {
            "Kennzahl": rows["label"],
            "Wert": [_FORMAT[k](v) for k, v in zip(rows["kind"], rows["value"])],
            "Kapitel": rows["chapter"].map(CHAPTER_TITLES).fillna(""),
        }
    )


def intro(direct: Mapping[str, Any], client: str) -> str:
    """Opening sentence: what the report is based on."""
    n = direct.get("n_customers", 0)
    if not n:
        return f"Für {md_escape(client)} enthält der Datenbestand keine auswertbaren Käufe."
    first = pd.Timestamp(direct["first_date"])
    end = pd.Timestamp(direct["observation_end"])
    return (
        f"Dieser Bericht wertet die Käufe von {_people(int(n))} von {md_escape(client)} aus, "
        f"im Zeitraum vom {fmt.date(first)} bis zum {fmt.date(end)}."
    )


def _quote(name: str) -> str:
    return f"„{md_escape(name)}“"


def rec_actions_budget(a: Mapping[str, Any]) -> str | None:
    """Budget recommendation from the action chapter's key figures."""
    contacts = a.get("contacts")
    if not _ok(contacts) or a.get("value_basis") == "none":
        return None
    if contacts == 0:
        return ("**Kein Kampagnenbudget verteilen:** Unter den getroffenen Annahmen bringt kein Kontakt mehr "
                "zusätzlichen Deckungsbeitrag, als er kostet. Erst mit günstigeren Kontakten oder belegter "
                "höherer Wirkung lohnt sich eine Kampagne (@sec-actions).")
    segs = [s for s in a.get("budget_segments", []) if s][:3]
    where = f" vor allem in den Segmenten {', '.join(_quote(s) for s in segs)}" if len(segs) > 1 else (
        f" vor allem im Segment {_quote(segs[0])}" if segs else "")
    text = (
        f"**Budget gezielt einsetzen:** {fmt.integer(contacts)} Kontakte{where} kosten "
        f"{fmt.eur(a.get('cost'))} und bringen nach den Annahmen {fmt.eur(a.get('expected_gain'))} "
        "zusätzlichen Deckungsbeitrag"
    )
    if _ok(a.get("unspent")) and _ok(a.get("cost_per_contact")) and a["unspent"] >= a["cost_per_contact"] > 0:
        text += f"; {fmt.eur(a['unspent'])} des Budgets sollten nicht ausgegeben werden, weil sich weitere Kontakte nicht rechnen"
    return text + " (@sec-actions)."


def rec_actions_priority(a: Mapping[str, Any]) -> str | None:
    """The segment with the largest value at risk."""
    seg, var, total = a.get("top_risk_segment"), a.get("top_risk_value"), a.get("value_at_risk")
    if not seg or not _ok(var) or not _ok(total) or total <= 0 or var <= 0:
        return None
    return (
        f"**Segment {_quote(seg)} zuerst sichern:** Hier ist mit {fmt.eur(var)} der größte Teil des "
        f"gefährdeten Deckungsbeitrags ({fmt.pct(var / total)}) gebunden (@sec-actions)."
    )


def rec_churn(c: Mapping[str, Any]) -> str | None:
    """Early-warning recommendation when the churn model ran."""
    if c.get("status") != "ok" or not _ok(c.get("n_risk_50")) or c["n_risk_50"] <= 0:
        return None
    auc = c.get("roc_auc")
    quality = ""
    if _ok(auc):
        from .churn import auc_quality

        quality = f" Das Modell trennt Abwandernde und Wiederkaufende {auc_quality(auc)} (ROC-AUC {fmt.number(auc, 2)})."
    return (
        f"**Frühwarnung nutzen:** {_people(int(c['n_risk_50']))} haben ein Abwanderungsrisiko von "
        f"mindestens 50 %.{quality} Sie sollten angesprochen werden, bevor der Kontakt abreißt (@sec-churn)."
    )


def rec_clv(c: Mapping[str, Any]) -> str | None:
    """Concentration of customer value."""
    share = c.get("clv_top10_share")
    if not _ok(share) or share <= 0.10:
        return None
    return (
        f"**Die wertvollsten Kundinnen und Kunden schützen:** Die oberen 10 % vereinen {fmt.pct(share)} "
        "des erwarteten Kundenwerts auf sich. Service und Bindung sollten sich zuerst an sie richten (@sec-clv)."
    )


def rec_rfm(segments: pd.DataFrame | None) -> str | None:
    """The segment whose revenue share exceeds its customer share the most (from the RFM result).

    ``segments``: columns ``segment``, ``customers``, ``revenue`` (EUR).
    """
    if segments is None or segments.empty or "revenue" not in segments.columns:
        return None
    total_c, total_r = segments["customers"].sum(), segments["revenue"].sum()
    if total_c <= 0 or total_r <= 0:
        return None
    s = segments.assign(c_share=segments["customers"] / total_c, r_share=segments["revenue"] / total_r)
    s = s.assign(ratio=s["r_share"] / s["c_share"]).sort_values("ratio", ascending=False)
    top = s.iloc[0]
    if not top["r_share"] > top["c_share"]:
        return None
    return (
        f"**Stammkundschaft pflegen:** Das Segment {_quote(top['segment'])} umfasst {fmt.pct(top['c_share'])} "
        f"der Kundinnen und Kunden, bringt aber {fmt.pct(top['r_share'])} des Umsatzes (@sec-rfm)."
    )


def rec_economics(direct: Mapping[str, Any], economics: Mapping[str, Any] | None = None) -> str | None:
    """Repeat buyers' share of revenue (the economics chapter's figures when recorded)."""
    src = economics if economics and _ok(economics.get("repeat_rate")) else direct
    rate, share = src.get("repeat_rate"), src.get("repeat_revenue_share")
    if not _ok(rate) or not _ok(share) or not share > rate or rate <= 0:
        return None
    return (
        f"**Wiederkäufe fördern:** Wer mehr als einmal kauft, macht {fmt.pct(rate)} der Kundschaft aus, "
        f"bringt aber {fmt.pct(share)} des Umsatzes. Jeder zusätzliche Wiederkauf zählt (@sec-economics)."
    )


def recommendations(key_figures: KeyFigures, direct: Mapping[str, Any],
                    rfm_segments: pd.DataFrame | None = None, limit: int = 5) -> list[str]:
    """Three to five German recommendations (fewer only when the data supports fewer), each with a
    cross-reference to its chapter. Order: action plan, churn, CLV, RFM, economics."""
    a = key_figures.get("actions", {})
    candidates = [
        rec_actions_priority(a),
        rec_actions_budget(a),
        rec_churn(key_figures.get("churn", {})),
        rec_clv(key_figures.get("clv", {})),
        rec_rfm(rfm_segments),
        rec_economics(direct, key_figures.get("economics")),
    ]
    return [c for c in candidates if c][:limit]


def recommendations_markdown(recs: list[str]) -> str:
    """Numbered Markdown list (or a German sentence when there is nothing to recommend)."""
    if not recs:
        return ("Aus den vorliegenden Daten lassen sich keine belastbaren Empfehlungen ableiten; die "
                "Kapitel nennen die Gründe.")
    return "\n".join(f"{i}. {r}" for i, r in enumerate(recs, start=1))


def limitations(key_figures: KeyFigures) -> str:
    """Which models were skipped, in German (empty string when all ran)."""
    parts = []
    clv = key_figures.get("clv")
    if clv is not None and clv.get("model_ok") is False:
        why = CLV_SKIP_TEXT.get(clv.get("skip_reason") or "", "die Daten dafür nicht ausreichen")
        parts.append(f"Die Kaufprognose und der Kundenwert (@sec-clv) entfallen, weil {why}.")
    elif clv is not None and clv.get("model_ok") and "clv_total" not in clv:
        parts.append("Der Kundenwert in Euro (@sec-clv) entfällt; die Kaufprognose liegt vor.")
    churn = key_figures.get("churn")
    if churn is not None and churn.get("status") == "skipped":
        parts.append("Die Abwanderungsprognose (@sec-churn) entfällt: " + str(churn.get("skip_text", "")).strip())
    if not parts:
        return ""
    return "**Grenzen dieses Berichts:** " + " ".join(parts)
