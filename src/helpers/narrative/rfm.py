"""German text for the chapter "Kundensegmentierung nach RFM" (from :mod:`helpers.analysis.rfm`).

Every sentence is chosen from the numbers so that it is true for any client. Segments arrive as
ids and are shown with their German names from :mod:`helpers.labels` (a client's own segment id
is shown as written).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Mapping

import pandas as pd

from .. import fmt, labels
from ..report.display import md_escape

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.rfm import RfmKeyFigures


def _q(name: str) -> str:
    """Category name in German quotes, Markdown-safe."""
    return f"„{md_escape(name)}“"


def _qs(seg_id: str) -> str:
    """German segment name of ``seg_id`` in German quotes, Markdown-safe."""
    return _q(labels.segment(seg_id))


def _ok(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def summary(segments: pd.DataFrame, key: "RfmKeyFigures") -> str:
    """Two to four sentences: largest segment, segment with most revenue, customers at risk.

    ``segments`` and ``key`` are :attr:`RfmResult.segments` and :attr:`RfmResult.key`.
    """
    if segments.empty or key.largest_segment is None:
        return "Es gibt keine Kunden mit Käufen; eine Segmentierung ist nicht möglich."
    parts = []
    largest = key.largest_segment
    parts.append(f"Das größte Segment ist {_qs(largest)} mit {fmt.integer(segments.loc[largest, 'customers'])} Kunden "
                 f"({fmt.pct(segments.loc[largest, 'customer_share'])}).")
    if not key.rf_only and segments["revenue_share"].notna().any():
        top = segments["revenue_share"].idxmax()
        row = segments.loc[top]
        parts.append(f"Den größten Umsatzanteil hat das Segment {_qs(top)}: {fmt.pct(row['customer_share'])} der Kunden "
                     f"erzielen {fmt.pct(row['revenue_share'])} des Umsatzes.")
        risk = [s for s in labels.AT_RISK_SEGMENTS if s in segments.index]
        if risk and key.at_risk_revenue_share is not None:
            names = " und ".join(_qs(s) for s in risk)
            parts.append(f"{'In den Segmenten' if len(risk) > 1 else 'Im Segment'} {names} stehen "
                         f"{fmt.integer(key.at_risk_customers)} Kunden, auf die bisher "
                         f"{fmt.pct(key.at_risk_revenue_share)} des Umsatzes entfielen und "
                         "deren letzter Kauf vergleichsweise lange zurückliegt.")
    else:
        parts.append("Die Daten enthalten keinen Umsatz; die Segmente beruhen deshalb nur auf Recency und "
                     "Frequency, und Umsatzanteile können nicht angegeben werden.")
    return " ".join(parts[:4])


def score_note(rfm: pd.DataFrame) -> str:
    """Explain empty score levels caused by ties (e.g. many one-time buyers)."""
    notes = []
    one_share = float((rfm["frequency"] == rfm["frequency"].min()).mean()) if len(rfm) else 0.0
    counts = rfm["f_score"].value_counts()
    empty = [s for s in range(1, 6) if counts.get(s, 0) == 0]
    if empty and len(rfm):
        levels = ", ".join(str(s) for s in empty)
        notes.append(
            f"{fmt.pct(one_share)} der Kunden haben die kleinste Kaufhäufigkeit "
            f"({fmt.integer(rfm['frequency'].min())} Kauftag{'e' if rfm['frequency'].min() != 1 else ''}) und "
            f"erhalten deshalb alle den F-Score 1. Gleich häufige Käufer werden nicht willkürlich getrennt; "
            f"darum {'bleibt die Stufe' if len(empty) == 1 else 'bleiben die Stufen'} {levels} leer."
        )
    else:
        notes.append("Alle fünf Stufen des F-Scores sind besetzt.")
    return " ".join(notes)


def mix_sentence(mix: pd.DataFrame, what: str, a: str = "champions", b: str = "at_risk") -> str:
    """Compare what segments ``a`` and ``b`` (ids) buy (``mix`` from :func:`helpers.analysis.rfm.segment_mix`).

    ``what`` names the column with its nominative article, e.g. "die Warengruppe", "der Kanal".
    """
    qa, qb = _qs(a), _qs(b)
    if a not in mix.index or b not in mix.index or mix.empty:
        return (f"Ein Vergleich der Segmente {qa} und {qb} ist nicht möglich, weil eines der "
                "beiden Segmente in diesen Daten nicht vorkommt.")
    ra, rb = mix.loc[a].fillna(0), mix.loc[b].fillna(0)
    ta, tb = ra.idxmax(), rb.idxmax()
    if ta == tb:
        first = (f"In beiden Segmenten, {qa} und {qb}, liegt {what} {_q(ta)} vorn "
                 f"({fmt.pct(ra[ta])} bzw. {fmt.pct(rb[tb])} des Umsatzes).")
    else:
        first = (f"Bei {qa} liegt {what} {_q(ta)} vorn ({fmt.pct(ra[ta])} des Umsatzes), "
                 f"bei {qb} dagegen {_q(tb)} ({fmt.pct(rb[tb])}).")
    diff = (ra - rb).abs()
    d = diff.idxmax()
    if diff[d] < 0.005:
        return first + " Die Anteile unterscheiden sich kaum."
    if d == ta == tb:
        return first + " Bei allen anderen Werten ist der Unterschied zwischen den beiden Segmenten kleiner."
    return (first + f" Den größten Unterschied gibt es bei {_q(d)}: {fmt.pct(ra[d])} bei {qa} "
            f"gegenüber {fmt.pct(rb[d])} bei {qb}.")


def _span(lo, hi, f) -> str:
    if pd.isna(lo):
        return "leer"
    return f(lo) if lo == hi else f"{f(lo)} – {f(hi)}"


def score_table(ranges: pd.DataFrame, has_revenue: bool) -> pd.DataFrame:
    """Value range per score (German strings) from :func:`helpers.analysis.rfm.score_ranges`."""
    days = lambda v: f"{fmt.integer(v)} Tage"  # noqa: E731
    out = pd.DataFrame({
        "Score": [str(s) for s in ranges.index],
        "Recency (Tage seit letztem Kauf)": [_span(a, b, days) for a, b in zip(ranges["recency_min"], ranges["recency_max"])],
        "Frequency (Kauftage)": [_span(a, b, fmt.integer) for a, b in zip(ranges["frequency_min"], ranges["frequency_max"])],
    })
    if has_revenue:
        euro = lambda v: fmt.eur(v, 2)  # noqa: E731
        out["Monetary (Nettoumsatz)"] = [_span(a, b, euro) for a, b in zip(ranges["monetary_min"], ranges["monetary_max"])]
    return out


def _range(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}–{hi}"


def rules_table(rules, actions: Mapping[str, str]) -> pd.DataFrame:
    """Segment rules and recommended actions (German strings, names Markdown-escaped by show_table).

    ``rules``: rows ``(segment_id, r_min, r_max, f_min, f_max[, m_min, m_max])``; ``actions``: German
    action per segment id (:attr:`RfmResult.actions`); "–" where none is given.
    """
    rows = []
    for rule in rules:
        condition = f"R\u00a0{_range(rule[1], rule[2])}, F\u00a0{_range(rule[3], rule[4])}"
        if len(rule) == 7:
            condition += f", M\u00a0{_range(rule[5], rule[6])}"
        rows.append({"Segment": labels.segment(rule[0]), "Regel": condition,
                     "Empfohlene Maßnahme": actions.get(rule[0]) or "–"})
    return pd.DataFrame(rows, columns=["Segment", "Regel", "Empfohlene Maßnahme"])


def segment_table(segments: pd.DataFrame, has_revenue: bool) -> pd.DataFrame:
    """Per-segment key figures (German strings); ``segments`` indexed by segment id."""
    out = pd.DataFrame({
        "Segment": [labels.segment(s) for s in segments.index],
        "Kunden": [fmt.integer(v) for v in segments["customers"]],
        "Anteil Kunden": [fmt.pct(v) for v in segments["customer_share"]],
    })
    if has_revenue:
        out["Anteil Umsatz"] = [fmt.pct(v) for v in segments["revenue_share"]]
        out["Umsatz je Kunde"] = [fmt.eur(v) for v in segments["revenue_per_customer"]]
        out["Ø Bon"] = [fmt.eur(v, 2) for v in segments["aov"]]
    out["Kauftage je Kunde"] = [fmt.number(v, 1) for v in segments["mean_frequency"]]
    out["Median Tage seit letztem Kauf"] = [fmt.integer(v) for v in segments["median_recency"]]
    return out
