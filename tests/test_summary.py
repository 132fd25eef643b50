"""Management summary (the chapters' numbers, quoted unchanged; no false sentences) and appendix content."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pandas as pd
import pytest

from helpers import chapters, fmt, labels
from helpers.analysis import actions as act
from helpers.analysis.summary import FIGURES
from helpers.config import SAMPLE_DIR, ReportConfig
from helpers.data import load_dataset
from helpers.dataset import from_transactions
from helpers.narrative import actions as actions_text
from helpers.narrative import appendix
from helpers.narrative import data as data_text
from helpers.narrative import summary

END = pd.Timestamp("2026-06-30")
SAMPLES = {
    "shop": (SAMPLE_DIR / "onlineshop_transaktionen.csv", "Beispiel Onlineshop GmbH"),
    "b2b": (SAMPLE_DIR / "grosshandel_export.csv", "Beispiel Großhandel KG"),
}


@pytest.fixture(scope="module", params=sorted(SAMPLES))
def sample_results(request):
    path, client = SAMPLES[request.param]
    cfg = ReportConfig.from_settings(client)
    ds = load_dataset(Path(path), cfg)
    return chapters.compute_all(ds, cfg)


def test_every_summary_figure_names_a_typed_key_figure(sample_results):
    for spec in FIGURES:
        key = sample_results[spec.chapter].key
        assert spec.attribute in {f.name for f in fields(key)}, (spec.chapter, spec.attribute)


def test_key_figures_say_not_computable_with_none_never_nan(sample_results):
    import math

    for slug, res in sample_results.items():
        key = getattr(res, "key", None)
        for f in fields(key) if key is not None else ():
            value = getattr(key, f.name)
            assert not (isinstance(value, float) and not math.isfinite(value)), (slug, f.name, value)


def test_summary_figures_equal_chapter_figures_to_the_cent(sample_results):
    res = sample_results["summary"]
    shown = {f.spec.id: f for f in res.figures}
    assert {"customers", "revenue", "clv_total", "value_at_risk", "expected_gain"} <= set(shown)
    for fig in res.figures:
        assert fig.value == getattr(sample_results[fig.spec.chapter].key, fig.spec.attribute)
    # money at stake comes with its horizon and its 80 % range (issue 13)
    for fig_id in ("value_at_risk", "clv_total"):
        fig = shown[fig_id]
        assert fig.horizon_months and fig.horizon_months > 0
        assert fig.low is not None and fig.low <= fig.value <= fig.high
        assert fig.spec.range_kind == "interval"
    # value at risk: one definition, the same in the churn chapter, the action plan and the summary
    churn, actions = sample_results["churn"], sample_results["actions"]
    var = shown["value_at_risk"].value
    assert var == pytest.approx(churn.customers["value_at_risk"].sum(), abs=0.005)
    assert var == pytest.approx(actions.matrix["value_at_risk"].sum(), abs=0.005)
    assert actions.key.value_at_risk == var
    # customers: the data chapter's count is the RFM population and the churn/action population
    n = shown["customers"].value
    assert n == len(sample_results["rfm"].customers) == len(churn.customers) == len(actions.customers)
    # the German table prints exactly these numbers
    table = summary.key_figure_table(res).set_index("Kennzahl")["Wert"]
    assert fmt.integer(n) in table.tolist()
    var_label = next(label for label in table.index if label.startswith("Gefährdeter Deckungsbeitrag"))
    assert table[var_label].startswith(fmt.eur(var))


def test_summary_actions_are_the_plans_best_campaigns_with_owner_timing_and_kpi(sample_results):
    res = sample_results["summary"]
    plan = sample_results["actions"]
    budgeted = plan.allocation[(plan.allocation["contacts"] > 0) & (plan.allocation["expected_gain"] > 0)]
    assert 1 <= len(res.actions) <= 5 and len(res.actions) == min(5, len(budgeted))
    gains = [a.expected_gain for a in res.actions]
    assert gains == sorted(gains, reverse=True) and gains[0] == budgeted["expected_gain"].max()
    assert all(a.segment != "lost" for a in res.actions[:1])
    text = summary.actions_markdown(res)
    for a in res.actions:
        assert f"**{labels.segment(a.segment)}:**" in text and fmt.eur(a.expected_gain) in text
    assert text.count("Erfolgskennzahl:") == len(res.actions)
    assert any(owner in text for roles in summary.OWNERS.values() for owner in roles.values())
    assert "Start in 30 Tagen" in text or "Start in 60 Tagen" in text
    assert "Kontrollgruppe" in text and "(@sec-actions)" in text
    assert summary.flow_sentence(res).startswith("**Kundenbewegung")


def test_stale_data_is_warned_on_the_summary_page():
    ds = _tiny_ds()
    fresh = chapters.compute_all(ds, ReportConfig.from_settings("K", {"report_date": "2026-07-15"}))["summary"]
    old = chapters.compute_all(ds, ReportConfig.from_settings("K", {"report_date": "2029-01-31"}))["summary"]
    assert fresh.data_age_days == 15 and summary.stale_warning(fresh) == ""
    warning = summary.stale_warning(old)
    assert old.stale and "alte Daten" in warning and "30.06.2026" in warning and "rund 3 Jahre" in warning
    assert warning in summary.limitations_paragraph(old)


def _tiny_ds():
    """Three customers, one repeat buyer: CLV and churn models cannot run."""
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "c", "c"],
            "order_date": [END - pd.Timedelta(days=400), END - pd.Timedelta(days=10), END - pd.Timedelta(days=500),
                           END - pd.Timedelta(days=30), END - pd.Timedelta(days=20), END],
            "revenue": [100.0, 50.0, 30.0, 10.0, 10.0, 20.0],
        }
    )
    return from_transactions(tx, END)


def test_summary_states_skipped_models_and_recommends_only_what_is_supported():
    ds = _tiny_ds()
    results = chapters.compute_all(ds, ReportConfig.from_settings("Klein GmbH"))
    res = results["summary"]
    assert res.skipped.get("clv") == "too_few_repeat" and "churn" in res.skipped
    lim = summary.limitations(res)
    assert "zu wenige Kundinnen und Kunden mehr als einmal gekauft haben" in lim
    assert "Abwanderungsprognose (@sec-churn) entfällt" in lim
    assert "Kundenwert (@sec-clv) entfallen" in lim
    ids = {f.spec.id for f in res.figures}
    assert "clv_total" not in ids and ids >= {"customers", "revenue"}
    shown = {f.spec.id: f.value for f in res.figures}
    assert shown["customers"] == 3 and shown["revenue"] == pytest.approx(220.0)
    assert summary.intro(res, "Klein GmbH").startswith("Dieser Bericht wertet die Käufe von 3 Kundinnen und Kunden")


def test_budget_text_is_true_for_the_numbers():
    per_segment = pd.DataFrame({"segment": ["A", "B"], "uplift": [0.1, 0.01], "customers": [2, 1],
                                "eligible": [2, 0], "contacts": [2, 0], "cost": [2.0, 0.0],
                                "saved": [15.0, 0.0], "expected_gain": [13.0, 0.0], "roi": [6.5, float("nan")],
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
    effective = {"observation_end": END.date().isoformat(), "audience": "b2b", "actions.budget": 9.0,
                 "actions.cost_per_contact": 50.0}
    table = appendix.settings_table(settings, effective)
    shown = table.set_index("Einstellung")["Wert"]
    assert set(settings) <= set(labels.SETTING_LABELS)  # every setting has a German label
    assert shown["Deckungsbeitragsmarge (Anteil am Nettoumsatz)"] == "35\u00a0%"
    assert shown["Kampagnenbudget (Annahme)"] == fmt.eur(1234.5)
    assert shown["Beobachtungsende (Stichtag)"] == "30.06.2026 – letzter Tag mit Bestellungen"
    assert shown["Kampagnenbudget (Annahme)"] == fmt.eur(1234.5)                     # set: shown as set
    assert shown["Kosten je Kontakt (Annahme)"] == f"{fmt.eur(50, 2)} – Standard der Zielgruppe"
    assert shown["Zielgruppe des Berichts (B2C oder B2B)"] == "Firmenkunden (B2B) – aus den Daten erkannt"
    uplift_rows = [l for l in table["Einstellung"] if l.startswith("Erwartete Wirkung eines Kontakts")]
    assert len(uplift_rows) == len(cfg.actions.segment_uplift)


def test_appendix_ledger_text_and_glossary():
    from helpers.validation import Ledger

    led = Ledger(rows_read=100, rows_kept=90, dropped={"duplicate": 10})
    text = data_text.ledger_text(led)
    assert "100 Zeilen gelesen" in text and "Behalten wurden 90" in text and "verworfen 10 (10,0\u00a0%)" in text
    assert "kein Prüfprotokoll" in data_text.ledger_text(None)
    g = appendix.glossary_table()
    terms = set(g["Begriff"])
    assert {"Bestandskunde", "Abwanderung", "Kundenwert (CLV)", "Warenkorb", "Kohorte", "Deckungsbeitrag",
            "Wiederkaufrate", "P(aktiv)", "Lift"} <= terms
    assert g.set_index("Begriff").loc["Kundenwert (CLV)", "Englisch"] == "customer lifetime value (CLV)"
