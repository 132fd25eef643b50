"""Retention economics and its German narrative against hand computation, CDNOW and odd data."""

import dataclasses
import math
import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import cohorts as co
from helpers.analysis import economics as ec
from helpers.config import EconomicsSettings, ReportConfig
from helpers.dataset import from_transactions
from helpers.narrative import economics as ne

from .fixtures import YEAR_ROWS, dataset

GROUP_ROWS = [
    ("A", "2024-05-01", 100.0), ("A", "2025-03-01", 50.0), ("A", "2025-04-01", 30.0),
    ("B", "2025-01-01", 60.0),
    ("C", "2025-02-01", 20.0), ("C", "2025-02-01", 10.0),  # two lines, one purchase day
    ("D", "2025-06-01", 40.0), ("D", "2025-07-01", -10.0),  # return day is no purchase
    ("E", "2024-12-01", 100.0), ("E", "2025-12-01", 100.0),
]
CDNOW_MASTER = Path(__import__("lifetimes").__file__).parent / "datasets" / "CDNOW_master.txt"


def _plain(text: str) -> str:
    """Formats use non-breaking spaces (``1.000\xa0€``); compare with plain spaces."""
    return text.replace("\xa0", " ")


_ds = dataset


def _cfg(**economics) -> ReportConfig:
    return ReportConfig(economics=EconomicsSettings(**economics))


def test_group_comparison_by_hand():
    ds = _ds(GROUP_ROWS, "2025-12-31")
    g = ec.group_comparison(ds.customers, ds.purchases)
    one, rep = g.loc["one_time"], g.loc["repeat"]
    assert (one["customers"], one["purchases"], rep["customers"], rep["purchases"]) == (3, 3, 2, 5)
    assert one["revenue"] == pytest.approx(120) and rep["revenue"] == pytest.approx(380)  # D: 40 − 10 (net)
    assert rep["revenue_share"] == pytest.approx(0.76)
    assert rep["customer_share"] == pytest.approx(0.4)
    assert one["aov"] == pytest.approx(40) and rep["aov"] == pytest.approx(76)
    assert rep["revenue_per_customer"] == pytest.approx(190)
    assert rep["active_years"] == 4 and one["active_years"] == 3
    assert rep["revenue_per_customer_year"] == pytest.approx(95)
    c = ec.contrast(g, min_group_size=1)
    assert c.reason is None
    assert c.factor == pytest.approx(190 / 40)
    assert c.factor_per_year == pytest.approx(95 / 40)
    assert c.aov_ratio == pytest.approx(76 / 40)
    # with the default minimum group size, three one-time buyers are too few for a comparison
    assert ec.contrast(g, min_group_size=20) == ec.GroupContrast(None, None, None, "too_few_one_time")


def _groups(one_aov, rep_aov, n=30):
    return pd.DataFrame({
        "customers": [n, n], "purchases": [n, 3 * n], "customer_share": [0.5, 0.5],
        "revenue": [n * one_aov, 3 * n * rep_aov],
        "revenue_share": [one_aov / (one_aov + 3 * rep_aov), 3 * rep_aov / (one_aov + 3 * rep_aov)],
        "aov": [one_aov, rep_aov], "revenue_per_customer": [one_aov, 3 * rep_aov],
        "revenue_per_customer_year": [one_aov, 1.5 * rep_aov],
    }, index=["one_time", "repeat"])


class _Res:
    """The parts of a result :func:`ne.contrast_text` and :func:`ne.rules_of_thumb_text` read."""

    def __init__(self, groups, min_group_size=20):
        self.groups, self.min_group_size = groups, min_group_size
        self.contrast = ec.contrast(groups, min_group_size)
        self.lost = ec.LostRevenue(False, "too_short")


@pytest.mark.parametrize("one_aov, rep_aov, phrase", [
    (100.0, 102.0, "etwa so hoch wie bei Einmalkäufern"),
    (100.0, 125.0, "um 25 % höher"),
    (100.0, 80.0, "um 20 % niedriger"),
])
def test_contrast_names_what_is_true_by_construction(one_aov, rep_aov, phrase):
    res = _Res(_groups(one_aov, rep_aov))
    text = _plain(ne.contrast_text(res))
    assert phrase in text
    assert "rechnerisch vorgegeben" in text
    assert f"das {3 * rep_aov / one_aov:.1f}".replace(".", ",") + "-Fache" in text
    assert "bestätigt" not in text and "Faustregel" not in text


def test_rules_of_thumb_are_lore_not_confirmed_facts():
    for rep_aov in (80.0, 230.0, 1000.0):  # factor 2.4, 6.9 (inside "6–7"), 30
        res = _Res(_groups(100.0, rep_aov))
        text = _plain(ne.rules_of_thumb_text(res) + " " + ne.contrast_text(res))
        assert "keine belastbare Primärquelle" in text and "prüft sie nicht" in text
        assert "6- bis 7-Fache" in text and "5- bis 10-mal" in text
        assert not re.search(r"bestätigt|belegt|bewiesen", text)


def test_contrast_reasons_for_small_groups():
    res = _Res(_groups(100.0, 120.0, n=5))
    assert _plain(ne.contrast_text(res)) == ("Für einen Vergleich der Umsätze gibt es zu wenige Einmalkäufer (5; "
                                             "nötig sind mindestens 20).")


def test_share_never_rounds_to_a_false_claim():
    assert _plain(ne.share(0.004)) == "weniger als 1 %"
    assert _plain(ne.share(0.0004, 1)) == "weniger als 0,1 %"
    assert _plain(ne.share(0.998)) == "mehr als 99 %"
    assert _plain(ne.share(0.0)) == "0 %" and _plain(ne.share(1.0)) == "100 %"
    assert _plain(ne.share(0.634)) == "63 %"
    assert ne.count(1, "Kunde", "Kunden") == "1 Kunde" and ne.count(2, "Kunde", "Kunden") == "2 Kunden"


def test_lost_revenue_by_hand():
    ds = _ds(YEAR_ROWS, "2025-12-31")
    lost = ec.lost_revenue(ds.purchases, ds.transactions, ds.first_date, ds.observation_end, 50.0, 10.0, 1)
    assert lost.computable
    assert lost.base_customers == 3 and lost.lost_customers == 1  # R
    assert lost.lost_revenue == pytest.approx(100)
    # new in 2024: P (100 + 150 within 365 days), Q (200; 2025-07-01 is later), R (100)
    assert lost.new_customer_year_revenue == pytest.approx(550 / 3)
    assert lost.new_customer_sample == 3
    assert lost.new_customers_needed == 1
    assert lost.replacement_cost == pytest.approx(50)
    # looking after all 3 customers costs 30 €; one prevented loss saves 50 € / 1 -> 1 is enough
    assert lost.care_cost == pytest.approx(30) and lost.breakeven_saved == 1 and lost.breakeven_reachable
    text = _plain(ne.lost_text(lost))
    assert "Das trifft auf 1 von 3 Kundinnen und Kunden zu; sie oder er brachte in diesem Jahr 100 € Nettoumsatz" in text
    assert "rund 1 Neukunde nötig" in text
    assert "mindestens 1 der 1 Abwanderungen" in text and "Test mit Kontrollgruppe" in text
    # perfect foresight and 100 % success are not claimed any more
    assert "hätte" not in text and "nur 10 €" not in text


def test_lost_revenue_is_net_and_needs_enough_new_customers():
    rows = YEAR_ROWS + [("R", "2024-10-01", -40.0), ("R", "2025-03-01", -20.0)]  # returns without purchase
    ds = _ds(rows, "2025-12-31")
    lost = ec.lost_revenue(ds.purchases, ds.transactions, ds.first_date, ds.observation_end, 50.0, 10.0, 1)
    assert lost.lost_customers == 1 and lost.lost_revenue == pytest.approx(100 - 40)  # 2024 net of R
    assert lost.new_customer_year_revenue == pytest.approx((250 + 200 + 40) / 3)  # R: 100 − 40 − 20
    few = ec.lost_revenue(ds.purchases, ds.transactions, ds.first_date, ds.observation_end, 50.0, 10.0, 20)
    assert not few.computable and few.reason == "too_few_new" and few.new_customer_sample == 3
    text = _plain(ne.lost_text(few))
    assert "nur 3 Kundinnen und Kunden zum ersten Mal gekauft" in text and "01.01.2024 bis zum 31.12.2024" in text


def test_lost_revenue_single_year_not_computable():
    rows = [("A", "2025-01-03", 10.0), ("A", "2025-06-01", 20.0), ("B", "2025-12-01", 5.0)]
    ds = _ds(rows, "2025-12-31")
    lost = ec.lost_revenue(ds.purchases, ds.transactions, ds.first_date, ds.observation_end, 50.0, 10.0)
    assert not lost.computable and lost.reason == "too_short"
    assert "zwei volle Jahre" in ne.lost_text(lost)


def test_breakeven_not_reachable_is_said_so():
    lost = ec.LostRevenue(True, lost_customers=10, base_customers=1000, lost_revenue=500.0,
                          new_customer_year_revenue=100.0, new_customer_sample=50, new_customers_needed=5,
                          replacement_cost=250.0, care_cost=10_000.0, breakeven_saved=400,
                          window_start=pd.Timestamp("2024-01-01"), window_end=pd.Timestamp("2024-12-31"),
                          cost_per_new_customer=50.0, cost_per_retained_customer=10.0)
    assert not lost.breakeven_reachable
    text = _plain(ne.breakeven_text(lost))
    assert "selbst dann teurer" in text and "400" not in text


def test_whatif_by_hand():
    w = ec.retention_whatif(1000, 0.5, 10, 100.0, 0.3, 2, 50.0)
    assert w["customers_base"].tolist() == pytest.approx([500, 250])
    assert w["customers_improved"].tolist() == pytest.approx([600, 360])
    assert w["extra_customers"].tolist() == pytest.approx([100, 110])
    assert w["extra_revenue"].tolist() == pytest.approx([10_000, 11_000])
    assert w["extra_margin"].tolist() == pytest.approx([3_000, 3_300])
    assert w["acquisition_equivalent"].tolist() == pytest.approx([5_000, 5_500])
    capped = ec.retention_whatif(100, 0.95, 10, 1.0, 0.3, 1, 1.0)
    assert capped["customers_improved"].iloc[0] == pytest.approx(100)
    wi = ec.WhatIf(active_customers=1000, retention=0.5, uplift_pp=10, revenue_per_customer=100.0,
                   gross_margin=0.3, years=2, table=w)
    assert wi.extra_revenue == pytest.approx(21_000) and wi.extra_margin == pytest.approx(6_300)
    text = _plain(ne.whatif_text(wi))
    assert "21.000 €" in text and "6.300 €" in text and "60,0 %" in text and "Marge 30 % des Nettoumsatzes" in text
    assert "**Annahmen:**" in text and "Kosten der Maßnahmen sind nicht eingerechnet" in text
    assert "höchstens 6.300 € kosten" in text
    assert "entfällt" in ne.whatif_text(None)


def test_compute_whatif_from_latest_year_by_hand():
    ds = _ds(YEAR_ROWS, "2025-12-31")
    res = ec.compute(ds, _cfg(min_group_size=1), {})
    wi = res.whatif
    # 2025: P, Q, S bought; of the 2024 buyers P, Q, R, P and Q came back with 150 + 50
    assert wi.active_customers == 3 and res.key.whatif_active_customers == 3
    assert wi.retention == pytest.approx(2 / 3)
    assert wi.revenue_per_customer == pytest.approx(200 / 2)
    expected = ec.retention_whatif(3, 2 / 3, 5.0, 100.0, 0.3, 3, 50.0)
    assert res.key.whatif_extra_margin == pytest.approx(expected["extra_margin"].sum())
    assert res.key.nrr == pytest.approx(200 / 400) and res.key.grr == pytest.approx(150 / 400)
    assert res.key.lost_customers == 1 and res.key.replacement_cost == pytest.approx(50)
    assert res.key.care_cost == pytest.approx(30) and res.key.breakeven_saved_customers == 1
    # the default minimum group size (20) does not support any of these statements for 5 customers
    small = ec.compute(ds, ReportConfig(), {})
    assert small.whatif is None and small.whatif_skip == "too_few_retained"
    assert small.key.nrr is None and small.key.lost_revenue is None and small.key.top_20_revenue_share is None
    assert small.key.factor_repeat_vs_one_time is None


def test_flow_key_figures_for_the_latest_period():
    from .test_cohorts import FLOW_ROWS

    res = ec.compute(_ds(FLOW_ROWS, "2025-12-31"), ReportConfig(), {})
    k = res.key
    assert k.flow_period == "year"
    assert (k.flow_period_start, k.flow_period_end) == (pd.Timestamp("2025-01-01"), pd.Timestamp("2025-12-31"))
    assert (k.flow_active_previous, k.flow_new, k.flow_retained, k.flow_reactivated, k.flow_lost, k.flow_active) == (
        4, 1, 2, 1, 2, 4)
    text = _plain(ne.flow_sentence(res))
    assert text == ("In den zwölf Monaten bis zum 31.12.2025 kamen 1 Neukunde und eine zurückgewonnene Kundin oder "
                    "ein zurückgewonnener Kunde hinzu, 2 Kundinnen und Kunden des Vorjahres kauften nicht mehr: Die "
                    "Zahl der aktiven Kundinnen und Kunden blieb bei 4.")
    assert "ein zurückgewonnener Firmenkunde" in ne.flow_sentence(res, "b2b")


def test_compute_without_two_years_has_none_not_nan():
    rows = [("A", "2025-01-03", 10.0), ("A", "2025-06-01", 20.0), ("B", "2025-12-01", 5.0)]
    res = ec.compute(_ds(rows, "2025-12-31"), ReportConfig(), {})
    assert res.ok and res.whatif is None and not res.has_nrr
    assert res.key.nrr is None and res.key.lost_revenue is None and res.key.whatif_extra_margin is None
    for f in dataclasses.fields(res.key):
        v = getattr(res.key, f.name)
        assert not (isinstance(v, float) and math.isnan(v)), f.name
    assert "mindestens zwei volle Jahre" in ne.yearly_missing_text(res)


def test_result_is_frozen_and_picklable():
    res = ec.compute(_ds(YEAR_ROWS, "2025-12-31"), ReportConfig(), {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.key = None
    back = pickle.loads(pickle.dumps(res))
    assert back.key == res.key and back.groups.equals(res.groups)


@pytest.fixture(scope="module")
def samples():
    from helpers.config import SAMPLE_DIR
    from helpers.data import load_dataset

    out = {}
    for name, file in (("shop", "onlineshop_transaktionen.csv"), ("b2b", "grosshandel_export.csv")):
        cfg = ReportConfig.from_settings("Test")
        ds = load_dataset(SAMPLE_DIR / file, cfg)
        out[name] = (ds, ec.compute(ds, cfg, {}))
    return out


def test_compute_on_sample_equals_pandas(samples):
    """The chapter's key figures, recomputed with plain pandas from the sample file."""
    ds, res = samples["shop"]
    key = res.key
    c = ds.customers
    repeat = c["n_purchases"] >= 2
    assert key.customers == len(c)
    assert key.repeat_rate == pytest.approx(repeat.mean())
    assert key.repeat_revenue_share == pytest.approx(c.loc[repeat, "revenue"].sum() / c["revenue"].sum())
    rev = c["revenue"].clip(lower=0).sort_values(ascending=False)
    assert key.top_20_revenue_share == pytest.approx(rev.iloc[: math.ceil(0.2 * len(rev))].sum() / rev.sum())
    # NRR of the latest year: windows (end − 24 months, end − 12 months] and (end − 12 months, end];
    # who bought: purchase days; revenue: all lines, returns included (also on days without a purchase)
    p, tx, end = ds.purchases, ds.transactions, ds.observation_end
    mid, start = end - pd.DateOffset(months=12), end - pd.DateOffset(months=24)

    def window(frame, a, b):
        return frame[(frame["order_date"] > a) & (frame["order_date"] <= b)]

    base = window(p, start, mid)["customer_id"].unique()
    came_back = set(window(p, mid, end)["customer_id"])
    prev = window(tx, start, mid).groupby("customer_id")["revenue"].sum().reindex(base, fill_value=0.0)
    cur = window(tx, mid, end).groupby("customer_id")["revenue"].sum().reindex(base, fill_value=0.0)
    assert key.nrr == pytest.approx(cur.sum() / prev.sum())
    assert key.grr == pytest.approx(np.minimum(cur, prev).sum() / prev.sum())
    lost = [cid for cid in base if cid not in came_back]
    assert key.lost_customers == len(lost)
    assert key.lost_revenue == pytest.approx(prev[lost].sum())
    active = window(p, end - pd.Timedelta(days=365), end)["customer_id"].nunique()
    assert key.whatif_active_customers == active
    # the flow's latest active customers are the data chapter's customers of the last 12 months
    assert key.flow_active == active
    assert key.flow_active_previous - key.flow_lost + key.flow_new + key.flow_reactivated == key.flow_active


def test_samples_are_customer_bases_with_quarterly_cohort_heatmaps(samples):
    for name, (ds, res) in samples.items():
        assert not res.key.single_cohort, name
        assert res.view.aggregated and res.view.period == "Q"  # > 15 monthly cohorts
        text = _plain(ne.cohort_section(res))
        assert f"{res.view.n_requested} vollständig beobachtete Monatskohorten" in text
        assert f"zu {res.view.n_cohorts} Quartalskohorten zusammengefasst" in text
        shown = len(res.view.shown) + res.view.small + res.view.older + res.view.young
        assert shown == res.view.n_cohorts  # every cohort is shown or named as left out
        for _, row in res.flow.table.iterrows():
            assert row["active_previous"] - row["lost"] + row["new"] + row["reactivated"] == row["active"]


def test_cohort_view_names_what_it_leaves_out():
    months = pd.date_range("2024-01-01", periods=24, freq="MS")  # 24 monthly cohorts of 30 customers
    rows = [(f"C{m}-{i}", day + pd.Timedelta(days=i % 9), 10.0) for m, day in enumerate(months) for i in range(30)]
    ds = _ds(rows, "2025-12-31")
    res = ec.compute(ds, _cfg(max_cohorts=6), {})
    v = res.view
    assert v.aggregated and v.n_requested == 24 and v.n_cohorts == 8
    # Q4 2025 has no later quarter yet; of the other 7 the 6 most recent are shown
    assert v.young == 1 and len(v.shown) == 6 and v.older == 1 and v.small == 0
    assert str(v.shown[0]) == "2024Q2" and str(v.shown[-1]) == "2025Q3"
    assert v.max_k == 5 and v.hidden_k == 1  # Q2 2024 is observed up to k = 6
    text = _plain(ne.cohort_view_note(res))
    assert "Die Daten enthalten 24 vollständig beobachtete Monatskohorten" in text
    assert "Die jüngste Kohorte hat noch kein vollständig beobachtetes Quartal nach dem Erstkauf" in text
    assert "Gezeigt werden die jüngsten 6 Kohorten; 1 ältere fehlt in der Grafik." in text
    assert "Die Spalten reichen bis zum 5. Quartal nach dem Erstkauf; 1 späteres ist nicht gezeigt." in text


# --- single acquisition cohort: CDNOW (all first purchases in Q1 1997) -----------------------------


def read_cdnow_master() -> pd.DataFrame:
    raw = pd.read_csv(CDNOW_MASTER, sep=r"\s+", dtype={"customer_id": str, "date": str})
    return pd.DataFrame({"customer_id": raw["customer_id"],
                         "order_date": pd.to_datetime(raw["date"], format="%Y%m%d"),
                         "revenue": raw["dollar_value"].astype(float)})


@pytest.fixture(scope="module")
def cdnow():
    df = read_cdnow_master()
    ds = from_transactions(df)
    return df, ds, ec.compute(ds, ReportConfig(), {})


def test_cdnow_is_one_acquisition_cohort(cdnow):
    df, ds, res = cdnow
    # published: 23.570 customers, all with their first purchase in the first quarter of 1997
    assert df["customer_id"].nunique() == 23_570
    first = df.groupby("customer_id")["order_date"].min()
    assert first.max() < pd.Timestamp("1997-04-01")
    a = res.acquisition
    assert res.key.single_cohort and a.single_cohort
    assert res.key.first_purchase_share_in_window >= 0.95
    assert a.first_from == pd.Timestamp("1997-01-01") and a.first_to < pd.Timestamp("1997-04-01")
    # customers whose Q1 purchase had no value start later: an artefact, named, not a cohort
    assert a.later == int((ds.customers["first_purchase"] >= pd.Timestamp("1997-04-01")).sum()) <= 10
    assert not res.has_cohorts and not res.has_revenue_cohorts and res.has_activity
    assert res.flow.period == "quarter" and res.flow.table["new"].iloc[1:].sum() == a.later
    assert res.lost.reason == "too_short" and res.whatif is None


def test_cdnow_text_reframes_and_makes_no_cohort_claims(cdnow):
    _, _, res = cdnow
    text = _plain(_all_text(res))
    assert "Die Daten beschreiben eine einzige Kundengruppe" in text
    assert "Kohortenstudie" in text and "Eine Kundengruppe im Zeitverlauf" in text
    assert "Neukunden eines" not in text and "Heatmap" not in text and "@fig-economics-cohorts" not in text
    assert "im ersten vollen Monat nach der Gewinnungsphase (Apr. 1997)".lower() in text.lower()
    assert "Im Quartal vom 01.04.1998 bis zum 30.06.1998" in ne.summary(res)


def test_cohort_rule_is_not_met_by_a_customer_base():
    # acquisition spread over the whole period: 40 customers, one new every 3 weeks
    rows = [(f"C{i}", pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=3 * i), 10.0) for i in range(40)]
    res = ec.compute(_ds(rows, "2026-06-30"), ReportConfig(), {})
    assert not res.key.single_cohort and res.key.first_purchase_share_in_window < 0.5


# --- odd data: every sentence true -----------------------------------------------------------------


def _all_text(res) -> str:
    """Every generated text of the chapter in notebook order (each shown under the notebook's condition)."""
    parts = [ne.intro(res), ne.summary(res), ne.flow_section(res), ne.groups_section(res),
             ne.contrast_text(res) + "\n\n" + ne.rules_of_thumb_text(res), ne.cohort_section(res),
             ne.revenue_cohort_text(res) if res.has_revenue_cohorts else "", ne.yearly_section(res),
             ne.nrr_sentence(res.yearly, res.has_revenue, res.min_group_size) if res.has_nrr else "",
             ne.concentration_section(res),
             ne.concentration_sentence(res.concentration) if res.has_lorenz else "",
             ne.lost_section(res), ne.whatif_section(res)]
    return "\n\n".join(p for p in parts if p)


def _odd_datasets():
    rng = np.random.default_rng(7)
    no_rev = [(f"C{i}", pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(d)))
              for i in range(60) for d in rng.choice(900, size=rng.integers(1, 5), replace=False)]
    one_repeat = [(f"C{i}", pd.Timestamp("2024-01-01") + pd.Timedelta(days=7 * i), 20.0 + i) for i in range(40)]
    one_repeat.append(("C0", "2025-03-01", 35.0))
    four_months = [(f"C{i}", pd.Timestamp("2026-03-01") + pd.Timedelta(days=int(d)), float(rng.integers(10, 100)))
                   for i in range(80) for d in rng.choice(120, size=rng.integers(1, 4), replace=False)]
    tiny = [("A", "2024-01-05", 10.0), ("A", "2025-02-01", 30.0), ("B", "2024-03-01", 5.0), ("C", "2025-06-01", 7.0),
            ("D", "2024-06-01", 100.0), ("D", "2024-06-20", -100.0)]
    return {
        "no_revenue": from_transactions(pd.DataFrame(no_rev, columns=["customer_id", "order_date"]), "2025-06-30"),
        "one_repeat_buyer": _ds(one_repeat, "2025-12-31"),
        "four_months": _ds(four_months, "2026-06-28"),
        "tiny": _ds(tiny, "2025-12-31"),
    }


FIGURE_CONDITIONS = {
    "fig-economics-flow": lambda r: r.flow.ok,
    "fig-economics-groups": lambda r: r.key.customers > 0,
    "fig-economics-cohorts": lambda r: r.has_cohorts,
    "fig-economics-activity": lambda r: r.has_activity,
    "fig-economics-revenue-cohorts": lambda r: r.has_revenue_cohorts,
    "fig-economics-lorenz": lambda r: r.has_lorenz,
    "tbl-economics-flow": lambda r: r.flow.ok,
    "tbl-economics-groups": lambda r: r.key.customers > 0,
    "tbl-economics-nrr": lambda r: r.has_nrr,
    "tbl-economics-whatif": lambda r: r.whatif is not None,
}
"""Each cross-reference the text may make -> the condition under which the notebook shows it."""
FORBIDDEN = [
    r"\bnan\b", r"\bNone\b", r"\binf\b", r"bestätigt sich", r"(?<![\d.,])0 %", r"(?<![\d.])1 Kunden\b",
    r"(?<![\d.])1 Neukunden\b", r"(?<![\d.])1 zurückgewonnene Kunden", r"\bhaben 1 ", r"(?<![\d.])1 Tage\b",
    r"(?<![\d.])1 Jahre\b", r"\. [a-zäöü]", r"^[a-zäöü]", r"\bhätte\b.*\bnur\b", r"Neukunden eines Monats.*Bestand",
]


def _check(name, res, text):
    plain = _plain(text)
    for pattern in FORBIDDEN:
        hit = re.search(pattern, plain, flags=re.MULTILINE)
        assert not hit, (name, pattern, plain[max(0, hit.start() - 80): hit.end() + 80])
    for ref in set(re.findall(r"@((?:fig|tbl)-economics-[a-z-]+)", plain)):
        assert FIGURE_CONDITIONS[ref](res), (name, ref)
    for paragraph in plain.split("\n\n"):  # a skipped analysis announces no figure or table
        if re.search(r"entfällt|nicht berechnen|zu wenige|nicht möglich", paragraph):
            assert not re.search(r"@fig|@tbl|Heatmap|folgende", paragraph), (name, paragraph)
    for section in plain.split("## ")[1:]:  # and its section has no introduction
        first = section.split("\n\n")[1] if "\n\n" in section else ""
        if re.search(r"entfällt|nicht berechnen", first):
            assert section.strip().count("\n\n") <= 1, (name, section)
    summary = _plain(ne.summary(res))
    assert 1 <= summary.count(". ") + 1 <= 4, (name, summary)


def test_every_sentence_holds_on_odd_data(cdnow, samples):
    datasets = {name: (ds, ReportConfig()) for name, ds in _odd_datasets().items()}
    cases = {name: ec.compute(ds, cfg, {}) for name, (ds, cfg) in datasets.items()}
    cases["cdnow"] = cdnow[2]
    cases["b2b"] = samples["b2b"][1]
    cases["shop"] = samples["shop"][1]
    for name, res in cases.items():
        _check(name, res, _all_text(res))
        for f in dataclasses.fields(res.key):
            v = getattr(res.key, f.name)
            assert not (isinstance(v, float) and not math.isfinite(v)), (name, f.name)
        for _, row in res.flow.table.iterrows():
            assert row["active_previous"] - row["lost"] + row["new"] + row["reactivated"] == row["active"], name

    no_rev = _plain(_all_text(cases["no_revenue"]))
    assert "auf sie entfallen" in no_rev and "Ohne Umsatzangaben" in no_rev and "Nettoumsatzes." not in no_rev
    assert cases["no_revenue"].key.repeat_revenue_share is None and cases["no_revenue"].lorenz is None

    one = cases["one_repeat_buyer"]
    one_text = _plain(_all_text(one))
    assert one.key.repeat_customers == 1 and one.contrast.reason == "too_few_repeat"
    assert "zu wenige Wiederholungskäufer (1; nötig sind mindestens 20)" in one_text
    assert "Von den 40 aktiven Kundinnen und Kunden des Vorjahres hat 1 (2 %)" in one_text
    assert one.whatif is None and "wieder gekauft hat 1; nötig sind mindestens 20" in one_text

    four = cases["four_months"]
    four_text = _plain(_all_text(four))
    assert not four.flow.ok and four.key.flow_new is None
    days = (four.observation_end - four.first_date).days + 1
    assert 100 < days <= 120 and "mindestens zwei volle Quartale" in four_text and f"nur {days} Tage" in four_text
    assert "zwei volle Jahre" in four_text and four.key.nrr is None

    tiny = _plain(_all_text(cases["tiny"]))
    assert ("Von 4 Kundinnen und Kunden hat 1 an mindestens zwei Tagen gekauft; für Anteile sind es zu wenige "
            "Kundinnen und Kunden.") in tiny
    assert "nur 3 Kundinnen und Kunden gekauft (nötig sind mindestens 20)" in tiny and "@tbl-economics-nrr" not in tiny
    assert cases["tiny"].key.nrr is None and cases["tiny"].key.top_20_revenue_share is None

    b2b = _plain(_all_text(cases["b2b"]))
    assert "eine zurückgewonnene Kundin oder ein zurückgewonnener Kunde" in b2b


def test_summary_shrinking_vs_growing_and_single_year():
    cfg = _cfg(min_group_size=1)

    def summary(rows):
        return _plain(ne.summary(ec.compute(_ds(rows, "2025-12-31"), cfg, {})))

    shrinking = summary(YEAR_ROWS)
    assert "50 % des Vorjahresumsatzes" in shrinking and "zurückgegangen" in shrinking
    growing = summary(YEAR_ROWS + [("R", "2025-03-01", 500.0)])
    assert "gewachsen" in growing and "zurückgegangen" not in growing
    single = summary(GROUP_ROWS[2:])
    assert "nicht berechnen" in single
    for text in (shrinking, growing, single):
        assert 2 <= text.count(". ") + 1 <= 4


def test_summary_without_repeat_buyers():
    rows = [("A", "2025-01-03", 10.0), ("B", "2025-06-01", 20.0)]
    text = _plain(ne.summary(ec.compute(_ds(rows, "2025-12-31"), ReportConfig(), {})))
    assert "Niemand hat" in text and "Wiederholungskäufer bringt" not in text


def test_nrr_needs_revenue_and_enough_customers():
    ds = from_transactions(pd.DataFrame(YEAR_ROWS, columns=["customer_id", "order_date", "revenue"])
                           .drop(columns="revenue"), "2025-12-31")
    yr = co.yearly_retention(ds.purchases, ds.transactions, ds.first_date, ds.observation_end)
    assert "Ohne Umsatzangaben" in ne.nrr_sentence(yr, has_revenue=False)
    res = ec.compute(ds, ReportConfig(), {})
    assert "revenue_share" not in res.groups.columns
    assert res.concentration is None and res.lorenz is None and res.whatif is None
    assert res.key.repeat_revenue_share is None and res.key.factor_repeat_vs_one_time is None
    assert "Ohne Umsatzangaben" in ne.yearly_missing_text(res)
    assert "Ohne Umsatzangaben" in ne.concentration_sentence(res.concentration, res.concentration_skip, res)
    with_rev = _ds(YEAR_ROWS, "2025-12-31")
    yr = co.yearly_retention(with_rev.purchases, with_rev.transactions, with_rev.first_date, with_rev.observation_end)
    assert _plain(ne.nrr_sentence(yr, True, 20)) == (
        "Für die Net Revenue Retention sind es zu wenige Kundinnen und Kunden: In den zwölf Monaten vor dem "
        "01.01.2025 haben nur 3 Kundinnen und Kunden gekauft (nötig sind mindestens 20).")
    assert ne.yearly_table(yr, 20).empty and len(ne.yearly_table(yr, 1)) == 2


def test_nrr_table_headers_are_short():
    ds = _ds(YEAR_ROWS, "2025-12-31")
    yr = co.yearly_retention(ds.purchases, ds.transactions, ds.first_date, ds.observation_end)
    table = ne.yearly_table(yr)
    assert list(table.columns) == list(ne.YEARLY_ALIGN)
    assert max(len(word) for col in table.columns for word in col.split()) <= 8  # no long word per header line
    assert table["Zeitraum"].tolist() == ["2025", "2024"]


def test_lorenz_annotation_points_at_the_top_20_point():
    import matplotlib

    matplotlib.use("Agg")
    from helpers.analysis import concentration as cc
    from helpers.plotting import economics as ep

    rev = pd.Series([7.0, 1.0, 1.0, 1.0, 3.0])
    conc = cc.concentration_summary(rev)
    fig = ep.lorenz(cc.lorenz_curve(rev), conc.top_20_point, conc.top_20)
    ax = fig.axes[0]
    x, y = conc.top_20_point
    assert (x, y) == pytest.approx((0.8, 1 - 7 / 13))
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == 1
    assert arrows[0].xy == pytest.approx((x, 1.0)) and arrows[0].xyann == pytest.approx((x, y))
    label = next(t for t in ax.texts if t.get_text().startswith("Top 20 %"))
    assert "54 %" in _plain(label.get_text())  # 7 of 13
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_flow_waterfall_chains_the_periods():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plotting import economics as ep

    from .test_cohorts import FLOW_ROWS

    res = ec.compute(_ds(FLOW_ROWS, "2025-12-31"), ReportConfig(), {})
    fig = ep.flow_waterfall(res.flow.table, res.flow.period, 3)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["Aktiv\n2023", "Zugänge", "Abgänge", "Aktiv\n2024", "Zugänge", "Abgänge", "Aktiv\n2025"]
    values = [t.get_text() for t in fig.axes[0].texts]
    assert values == ["4", "+3", "−3", "4", "+2", "−2", "4"]
    plt.close(fig)


def test_flow_waterfall_keeps_every_label_in_the_report_style(cdnow):
    """Three quarters = ten bars: the labels fit, so the chart style need not leave any out."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plotting import economics as ep
    from helpers.plotting.style import use_style

    use_style()
    res = cdnow[2]
    fig = ep.flow_waterfall(res.flow.table, res.flow.period, 3)
    fig.savefig(__import__("io").BytesIO(), format="png")
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_visible() and t.get_text()]
    assert labels == ["Aktiv\nQ3 1997", "Zugänge", "Abgänge", "Aktiv\nQ4 1997", "Zugänge", "Abgänge",
                      "Aktiv\nQ1 1998", "Zugänge", "Abgänge", "Aktiv\nQ2 1998"]
    plt.close(fig)


@pytest.mark.slow
def test_economics_notebook_shows_the_result(tmp_path):
    """The notebook with its default parameters (JupyterLab mode) prints the result's key figures."""
    import papermill as pm

    from helpers import fmt
    from helpers.config import NOTEBOOK_DIR, SAMPLE_DATA
    from helpers.data import load_dataset

    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(NOTEBOOK_DIR / "02-bestandskunden.ipynb"), str(out), cwd=str(NOTEBOOK_DIR),
                        kernel_name="kundenwert", progress_bar=False)
    cfg = ReportConfig()
    key = ec.compute(load_dataset(SAMPLE_DATA, cfg), cfg, {}).key
    text = out.read_text("utf-8")
    assert f"brachte im folgenden Jahr {fmt.pct(key.nrr)} des Vorjahresumsatzes" in text
    assert f"{fmt.eur(key.whatif_extra_margin)} zusätzlichen Deckungsbeitrag" in text
    assert f"kostet das rund {fmt.eur(key.replacement_cost)}" in text
    assert f"kamen {fmt.integer(key.flow_new)} Neukunden" in text
    assert "Traceback" not in text and "bestätigt sich" not in text
