"""German management summary from :class:`helpers.analysis.summary.SummaryResult`.

Numbers are the chapters' typed key figures, quoted unchanged (see :mod:`helpers.analysis.summary`);
this module only turns them into German sentences and a table. A recommendation is only made when
its numbers support it.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .. import fmt, labels
from ..analysis.summary import SummaryResult, key_fields
from ..report.display import md_escape

FIGURE_LABELS = {
    "customers": "Kundinnen und Kunden im Datenbestand",
    "revenue": "Nettoumsatz im Beobachtungszeitraum",
    "repeat_rate": "Anteil mit mindestens zwei Käufen (Wiederkaufrate)",
    "clv_total": "Erwarteter Kundenwert (CLV, Deckungsbeitrag) für {horizon} Monate",
    "value_at_risk": "Gefährdeter Deckungsbeitrag",
    "risk_50": "Kundinnen und Kunden mit Abwanderungsrisiko ab 50 % (kein Kauf in {window} Tagen)",
    "expected_gain": "Erwarteter Zusatz-Deckungsbeitrag der empfohlenen Kampagne",
}
"""Summary figure id -> German label (placeholders filled from the chapter's key figures)."""

CLV_SKIP_TEXT = {
    "no_data": "es keine Käufe im Datenbestand gibt",
    "too_few_repeat": "zu wenige Kundinnen und Kunden mehr als einmal gekauft haben",
    "no_fit": "sich das Modell nicht verlässlich an die Daten anpassen ließ",
}

_FORMAT = {"int": fmt.integer, "eur": fmt.eur, "pct": fmt.pct}


def _ok(value: Any) -> bool:
    """A usable number (not None/NaN/inf)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _people(n: int) -> str:
    return "eine Kundin bzw. ein Kunde" if n == 1 else f"{fmt.integer(n)} Kundinnen und Kunden"


def _key(res: SummaryResult, chapter: str, attribute: str) -> Any:
    """``res.keys[chapter].<attribute>``; ``None`` when the chapter has no key figures.
    An attribute the key figures do not define raises (a renamed field must fail loudly)."""
    key = res.keys.get(chapter)
    if key is None:
        return None
    if attribute not in key_fields(key):
        raise AttributeError(f"{chapter}: key figures have no attribute {attribute!r}")
    return getattr(key, attribute)


def _figure_label(res: SummaryResult, fig_id: str) -> str:
    text = FIGURE_LABELS[fig_id]
    if "{horizon}" in text:
        text = text.format(horizon=fmt.integer(_key(res, "clv", "horizon_months")))
    if "{window}" in text:
        text = text.format(window=fmt.integer(_key(res, "churn", "window_days")))
    return text


def key_figure_table(res: SummaryResult) -> pd.DataFrame:
    """German table ``Kennzahl``/``Wert``/``Kapitel`` (values formatted, e.g. ``1.234 €``)."""
    return pd.DataFrame(
        {
            "Kennzahl": [_figure_label(res, f.spec.id) for f in res.figures],
            "Wert": [_FORMAT[f.spec.kind](f.value) for f in res.figures],
            "Kapitel": [labels.chapter_title(f.spec.chapter) for f in res.figures],
        },
        columns=["Kennzahl", "Wert", "Kapitel"],
    )


def intro(res: SummaryResult, client: str) -> str:
    """Opening sentence: what the report is based on."""
    n = _key(res, "data", "customers")
    if not n:
        return f"Für {md_escape(client)} enthält der Datenbestand keine auswertbaren Käufe."
    first = pd.Timestamp(_key(res, "data", "period_start"))
    end = pd.Timestamp(_key(res, "data", "observation_end"))
    return (
        f"Dieser Bericht wertet die Käufe von {_people(int(n))} von {md_escape(client)} aus, "
        f"im Zeitraum vom {fmt.date(first)} bis zum {fmt.date(end)}."
    )


def _quote(seg_id: str) -> str:
    return f"„{md_escape(labels.segment(seg_id))}“"


def rec_actions_budget(res: SummaryResult) -> str | None:
    """Budget recommendation from the action plan's key figures."""
    contacts = _key(res, "actions", "contacts")
    if not _ok(contacts) or not _ok(_key(res, "actions", "expected_gain")):
        return None
    if contacts == 0:
        return ("**Kein Kampagnenbudget verteilen:** Unter den getroffenen Annahmen bringt kein Kontakt mehr "
                "zusätzlichen Deckungsbeitrag, als er kostet. Erst mit günstigeren Kontakten oder belegter "
                "höherer Wirkung lohnt sich eine Kampagne (@sec-actions).")
    segs = [s for s in _key(res, "actions", "budget_segments") if s][:3]
    where = f" vor allem in den Segmenten {', '.join(_quote(s) for s in segs)}" if len(segs) > 1 else (
        f" vor allem im Segment {_quote(segs[0])}" if segs else "")
    text = (
        f"**Budget gezielt einsetzen:** {fmt.integer(contacts)} Kontakte{where} kosten "
        f"{fmt.eur(_key(res, 'actions', 'cost'))} und bringen nach den Annahmen "
        f"{fmt.eur(_key(res, 'actions', 'expected_gain'))} zusätzlichen Deckungsbeitrag"
    )
    unspent, cost_per_contact = _key(res, "actions", "unspent"), _key(res, "actions", "cost_per_contact")
    if _ok(unspent) and _ok(cost_per_contact) and unspent >= cost_per_contact > 0:
        text += f"; {fmt.eur(unspent)} des Budgets sollten nicht ausgegeben werden, weil sich weitere Kontakte nicht rechnen"
    return text + " (@sec-actions)."


def rec_actions_priority(res: SummaryResult) -> str | None:
    """The segment with the largest value at risk."""
    seg = _key(res, "actions", "top_risk_segment")
    var = _key(res, "actions", "top_risk_value")
    total = _key(res, "churn", "value_at_risk")
    if not seg or not _ok(var) or not _ok(total) or total <= 0 or var <= 0:
        return None
    return (
        f"**Segment {_quote(seg)} zuerst sichern:** Hier ist mit {fmt.eur(var)} der größte Teil des "
        f"gefährdeten Deckungsbeitrags ({fmt.pct(var / total)}) gebunden (@sec-actions)."
    )


def rec_churn(res: SummaryResult) -> str | None:
    """Early-warning recommendation when the churn model ran."""
    if "churn" in res.skipped:
        return None
    n = _key(res, "churn", "n_risk_50")
    if not _ok(n) or n <= 0:
        return None
    auc = _key(res, "churn", "roc_auc")
    quality = ""
    if _ok(auc):
        from .churn import auc_quality

        quality = f" Das Modell trennt Abwandernde und Wiederkaufende {auc_quality(auc)} (ROC-AUC {fmt.number(auc, 2)})."
    return (
        f"**Frühwarnung nutzen:** {_people(int(n))} haben ein Abwanderungsrisiko von "
        f"mindestens 50 %.{quality} Sie sollten angesprochen werden, bevor der Kontakt abreißt (@sec-churn)."
    )


def rec_clv(res: SummaryResult) -> str | None:
    """Concentration of customer value."""
    share = _key(res, "clv", "clv_top10_share")
    if not _ok(share) or share <= 0.10:
        return None
    return (
        f"**Die wertvollsten Kundinnen und Kunden schützen:** Die oberen 10 % vereinen {fmt.pct(share)} "
        "des erwarteten Kundenwerts auf sich. Service und Bindung sollten sich zuerst an sie richten (@sec-clv)."
    )


def rec_rfm(res: SummaryResult) -> str | None:
    """The segment whose revenue share exceeds its customer share the most (from the RFM result)."""
    segments = res.segments
    if segments is None or segments.empty:
        return None
    total_c, total_r = segments["customers"].sum(), segments["revenue"].sum()
    if total_c <= 0 or total_r <= 0:
        return None
    s = segments.assign(c_share=segments["customers"] / total_c, r_share=segments["revenue"] / total_r)
    s = s.assign(ratio=s["r_share"] / s["c_share"]).sort_values("ratio", ascending=False, kind="stable")
    top_id, top = s.index[0], s.iloc[0]
    if not top["r_share"] > top["c_share"]:
        return None
    return (
        f"**Stammkundschaft pflegen:** Das Segment {_quote(top_id)} umfasst {fmt.pct(top['c_share'])} "
        f"der Kundinnen und Kunden, bringt aber {fmt.pct(top['r_share'])} des Umsatzes (@sec-rfm)."
    )


def rec_economics(res: SummaryResult) -> str | None:
    """Repeat buyers' share of revenue (the economics chapter's figures)."""
    rate, share = _key(res, "economics", "repeat_rate"), _key(res, "economics", "repeat_revenue_share")
    if not _ok(rate) or not _ok(share) or not share > rate or rate <= 0:
        return None
    return (
        f"**Wiederkäufe fördern:** Wer mehr als einmal kauft, macht {fmt.pct(rate)} der Kundschaft aus, "
        f"bringt aber {fmt.pct(share)} des Umsatzes. Jeder zusätzliche Wiederkauf zählt (@sec-economics)."
    )


def recommendations(res: SummaryResult, limit: int = 5) -> list[str]:
    """Three to five German recommendations (fewer only when the data supports fewer), each with a
    cross-reference to its chapter. Order: action plan, churn, CLV, RFM, economics."""
    candidates = [rec_actions_priority(res), rec_actions_budget(res), rec_churn(res), rec_clv(res),
                  rec_rfm(res), rec_economics(res)]
    return [c for c in candidates if c][:limit]


def recommendations_markdown(recs: list[str]) -> str:
    """Numbered Markdown list (or a German sentence when there is nothing to recommend)."""
    if not recs:
        return ("Aus den vorliegenden Daten lassen sich keine belastbaren Empfehlungen ableiten; die "
                "Kapitel nennen die Gründe.")
    return "\n".join(f"{i}. {r}" for i, r in enumerate(recs, start=1))


def limitations(res: SummaryResult) -> str:
    """Which models were skipped, in German (empty string when all ran)."""
    parts = []
    if "clv" in res.skipped:
        why = CLV_SKIP_TEXT.get(res.skipped["clv"], "die Daten dafür nicht ausreichen")
        parts.append(f"Die Kaufprognose und der Kundenwert (@sec-clv) entfallen, weil {why}.")
    elif "clv" in res.keys and not _ok(_key(res, "clv", "clv_total")):
        parts.append("Der Kundenwert in Euro (@sec-clv) entfällt; die Kaufprognose liegt vor.")
    if "churn" in res.skipped:
        from .churn import skip_sentence

        parts.append("Die Abwanderungsprognose (@sec-churn) entfällt: " + skip_sentence(res.skipped["churn"]))
    if not parts:
        return ""
    return "**Grenzen dieses Berichts:** " + " ".join(parts)


def limitations_paragraph(res: SummaryResult) -> str:
    """:func:`limitations` as a paragraph to append to the intro ("" when nothing was skipped)."""
    text = limitations(res)
    return "\n\n" + text if text else ""
