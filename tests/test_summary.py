"""Management summary (same numbers as the chapters, no false sentences) and appendix content."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import fmt
from helpers.analysis import actions as act
from helpers.config import ReportConfig
from helpers.dataset import from_transactions
from helpers.narrative import actions as actions_text
from helpers.narrative import appendix, summary

END = pd.Timestamp("2026-06-30")


def _ds():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "c", "c"],
            "order_date": [END - pd.Timedelta(days=400), END - pd.Timedelta(days=10), END - pd.Timedelta(days=500),
                           END - pd.Timedelta(days=30), END - pd.Timedelta(days=20), END],
            "revenue": [100.0, 50.0, 30.0, 10.0, 10.0, 20.0],
        }
    )
    return from_transactions(tx, END)


def test_direct_figures_by_hand():
    d = summary.direct_figures(_ds())
    assert d["n_customers"] == 3 and d["n_active_12m"] == 2       # a and c bought in (end-365, end]
    assert d["revenue_12m"] == pytest.approx(50 + 10 + 10 + 20)
    assert d["repeat_rate"] == pytest.approx(2 / 3)
    assert d["repeat_revenue_share"] == pytest.approx((150 + 40) / 220)
    assert d["observation_end"] == "2026-06-30" and d["revenue_total"] == pytest.approx(220.0)


def _chapter_figures():
    """Key figures as the CLV, churn and action chapters record them."""
    ds = _ds()
    rfm = pd.DataFrame({"segment": ["S1", "S2", "S1"], "action": "x"}, index=pd.Index(["a", "b", "c"], name="customer_id"))
    clv = pd.DataFrame({"p_alive": [0.8, 0.1, 0.9], "clv": [120.0, 5.0, 60.0]}, index=rfm.index)
    churn = pd.DataFrame({"churn_risk": [0.3, 0.6]}, index=pd.Index(["a", "c"], name="customer_id"))
    table = act.customer_table(ds.customers, ds.purchases, ds.observation_end, 0.3, rfm, clv, churn)
    matrix = act.segment_matrix(table)
    _, per_segment = act.allocate_budget(table, 100.0, 1.0, {"S1": 0.1, "S2": 0.1})
    totals = act.allocation_totals(per_segment, 100.0)
    kf = {
        "actions": act.key_figures(matrix, per_segment, totals, table, 1.0),
        "clv": {"model_ok": True, "clv_total": 185.0, "horizon_months": 12, "clv_top10_share": 0.6},
        "churn": {"status": "ok", "n_risk_50": 1, "roc_auc": 0.81},
    }
    return ds, matrix, totals, kf


def test_summary_numbers_equal_chapter_numbers():
    ds, matrix, totals, kf = _chapter_figures()
    rows = summary.key_figure_rows(kf, summary.direct_figures(ds)).set_index("label")
    var = rows.loc["Gefährdeter Deckungsbeitrag"]
    assert var["chapter"] == "actions"
    assert var["value"] == pytest.approx(matrix["value_at_risk"].sum())         # same source as @tbl-actions-matrix
    assert var["value"] == pytest.approx(0.3 * 120 + 0.1 * 0.0 + 0.6 * 60 + 0.9 * 5)  # hand: a, c churn; b 1-p_alive
    gain = rows.loc["Erwarteter Zusatz-Deckungsbeitrag der empfohlenen Kampagne", "value"]
    assert gain == pytest.approx(totals["expected_gain"])
    assert rows.loc["Erwarteter Kundenwert (CLV, Deckungsbeitrag) für 12 Monate", "value"] == 185.0
    assert rows.loc["Kundinnen und Kunden mit Abwanderungsrisiko ab 50 %", "value"] == 1
    table = summary.key_figure_table(summary.key_figure_rows(kf, summary.direct_figures(ds)))
    assert fmt.eur(matrix["value_at_risk"].sum()) in table["Wert"].tolist()
    assert len(table) <= 7


def test_chapter_figure_wins_over_direct_computation():
    kf = {"data": {"customers": 999, "revenue": 1234.5}, "economics": {"repeat_rate": 0.4, "repeat_revenue_share": 0.7}}
    direct = {"n_customers": 3, "repeat_rate": 0.5, "revenue_total": 10.0, "repeat_revenue_share": 0.6}
    rows = summary.key_figure_rows(kf, direct).set_index("label")
    assert rows.loc["Kundinnen und Kunden im Datenbestand", "value"] == 999
    assert rows.loc["Nettoumsatz im Beobachtungszeitraum", "value"] == 1234.5
    assert rows.loc["Anteil mit mindestens zwei Käufen (Wiederkaufrate)", ["value", "chapter"]].tolist() == [0.4, "economics"]
    rec = summary.rec_economics(direct, kf["economics"])
    assert fmt.pct(0.4) in rec and fmt.pct(0.7) in rec and "(@sec-economics)" in rec
    # without chapter figures the direct computation is used and labelled as data chapter
    rows = summary.key_figure_rows({}, direct).set_index("label")
    assert rows.loc["Kundinnen und Kunden im Datenbestand", ["value", "chapter"]].tolist() == [3, "data"]


def test_recommendations_reference_their_chapters():
    ds, _, _, kf = _chapter_figures()
    recs = summary.recommendations(kf, summary.direct_figures(ds))
    assert 3 <= len(recs) <= 5
    assert all("(@sec-" in r for r in recs)
    joined = " ".join(recs)
    assert "@sec-actions" in joined and "@sec-churn" in joined and "@sec-clv" in joined
    assert "eine Kundin bzw. ein Kunde" in joined  # n_risk_50 = 1, singular


def test_recommendations_adapt_to_skipped_models_and_no_budget():
    kf = {
        "clv": {"model_ok": False, "skip_reason": "too_few_repeat"},
        "churn": {"status": "skipped", "skip_text": "Zu wenige Kundinnen und Kunden."},
        "actions": {"contacts": 0, "value_at_risk": None},
    }
    recs = summary.recommendations(kf, {"repeat_rate": 0.2, "repeat_revenue_share": 0.1})
    assert len(recs) == 1 and recs[0].startswith("**Kein Kampagnenbudget verteilen:**")
    assert not any("@sec-churn" in r or "@sec-clv" in r for r in recs)
    lim = summary.limitations(kf)
    assert "zu wenige Kundinnen und Kunden mehr als einmal gekauft haben" in lim
    assert "Zu wenige Kundinnen und Kunden." in lim
    assert summary.limitations({"clv": {"model_ok": True, "clv_total": 1.0}}) == ""
    assert "keine belastbaren Empfehlungen" in summary.recommendations_markdown([])


def test_budget_text_is_true_for_the_numbers():
    per_segment = pd.DataFrame({"segment": ["A", "B"], "uplift": [0.1, 0.01], "customers": [2, 1],
                                "eligible": [2, 0], "contacts": [2, 0], "cost": [2.0, 0.0],
                                "expected_gain": [15.0, 0.0], "net_gain": [13.0, 0.0], "roi": [6.5, float("nan")],
                                "status": [act.STATUS_ALL, act.STATUS_BELOW_COST]})
    text = actions_text.budget_text(per_segment, act.allocation_totals(per_segment, 100.0), 1.0, True)
    assert f"{fmt.eur(2)} des Budgets von {fmt.eur(100)} an 2 Kundinnen und Kunden" in text
    assert f"{fmt.eur(98)} bleiben ungenutzt" in text and "„B“" in text and f"ROI {fmt.pct(6.5)}" in text
    none = per_segment.assign(contacts=0, cost=0.0, expected_gain=0.0, eligible=0)
    text = actions_text.budget_text(none, act.allocation_totals(none, 100.0), 1.0, True)
    assert "nicht lohnen" in text and "ROI" not in text


def test_appendix_settings_table_lists_every_setting_in_german():
    cfg = ReportConfig.from_settings("Test GmbH", {"gross_margin": 0.35, "actions.budget": 1234.5})
    settings = cfg.as_settings()
    table = appendix.settings_table(settings, observation_end=END)
    labels = table.set_index("Einstellung")["Wert"]
    assert set(settings) <= set(appendix.SETTING_LABELS)  # every setting has a German label
    assert labels["Deckungsbeitragsmarge (Anteil am Nettoumsatz)"] == "35\u00a0%"
    assert labels["Kampagnenbudget (Annahme)"] == fmt.eur(1234.5)
    assert labels["Beobachtungsende (Stichtag)"].startswith("30.06.2026")
    uplift_rows = [l for l in table["Einstellung"] if l.startswith("Erwartete Wirkung eines Kontakts")]
    assert len(uplift_rows) == len(cfg.actions.segment_uplift)


def test_appendix_ledger_text_and_glossary():
    from helpers.validation import Ledger

    led = Ledger(rows_read=100, rows_kept=90, dropped={"duplicate": 10})
    text = appendix.ledger_text(led)
    assert "100 Zeilen gelesen" in text and "Behalten wurden 90" in text and "verworfen 10 (10,0\u00a0%)" in text
    assert "kein Prüfprotokoll" in appendix.ledger_text(None)
    g = appendix.glossary_table()
    terms = set(g["Begriff"])
    assert {"Bestandskunde", "Abwanderung", "Kundenwert", "Warenkorb", "Kohorte", "Deckungsbeitrag",
            "Wiederkaufrate", "P(aktiv)", "Lift"} <= terms
    assert g.set_index("Begriff").loc["Kundenwert", "Englisch"] == "customer lifetime value (CLV)"
