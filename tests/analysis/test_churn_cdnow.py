"""Published reference: churn scores on ``CDNOW_sample.txt`` (ships inside ``lifetimes``).

Issue 13 (measured with lifetimes 0.11.3): calibration to 1997-09-30, label "buys again in the next
39 weeks" (base rate 29 %), over ALL customers: ROC AUC of days since the last purchase alone 0,771;
number of purchases alone 0,764; BG/NBD expected purchases 0,773; Pareto/NBD P(aktiv) 0,726;
BG/NBD P(aktiv) 0,316 (every one-time buyer gets exactly 1,0). Reproduced within 2 % through the
project's own path: transactions -> Dataset -> churn chapter.

How this maps to the chapter's cut-offs: the data end on 1998-06-30; with a churn window of 273 days
(39 weeks) the evaluation cut-off t2 = end − 273 days is exactly 1997-09-30, and every CDNOW customer
(first purchase in Q1 1997) bought within the last 365 days before t2, so the chapter's population
(active customers at t2) is the reference's "all customers". The ML models need a second cut-off
t1 = t2 − 273 days, before the first purchase, so they are skipped (``ml_skip``) – the other
candidates are still compared. Scores are oriented "higher = churn", the AUC is the same as the
reference's for "buys again" with the score reversed.
"""

from pathlib import Path

import pandas as pd
import pytest

from helpers import chapters
from helpers.analysis import churn as ch
from helpers.analysis.clv_data import read_cdnow_transactions
from helpers.config import ReportConfig
from helpers.dataset import from_transactions

REFERENCE = {"recency": 0.771, "frequency": 0.764, "bgnbd_purchases": 0.773, "pareto_alive": 0.726,
             "bgnbd_alive": 0.316}
CUTOFF = pd.Timestamp("1997-09-30")


@pytest.fixture(scope="module")
def cdnow():
    import lifetimes

    path = Path(lifetimes.__file__).parent / "datasets" / "CDNOW_sample.txt"
    return from_transactions(read_cdnow_transactions(path), "1998-06-30")


@pytest.fixture(scope="module")
def results(cdnow):
    cfg = ReportConfig.from_settings("CDNOW", {"churn.window_days": 273})
    return chapters.compute_all(cdnow, cfg, ["churn"])


def test_reference_aucs_through_the_chapter(results):
    r = results["churn"]
    assert r.ok and r.plan.t2 == CUTOFF and r.plan.end == pd.Timestamp("1998-06-30")
    assert r.ml_skip.code == "short_history" and r.plan.t1 is None
    m = r.evaluation.metrics
    # all customers are in the evaluation (8 of the 2.357 ids only have purchases of 0 EUR: no purchase day)
    assert r.key.n_test == len(r.customers) == 2349
    assert 1 - r.key.churn_rate_test == pytest.approx(0.29, abs=0.005)
    for score, auc in REFERENCE.items():
        assert m.loc[score, "roc_auc"] == pytest.approx(auc, rel=0.02), score
    # BG/NBD P(aktiv) is worse than chance and never used; the best score is used
    assert m.loc["bgnbd_alive", "roc_auc"] < 0.5 and r.key.best_model == "bgnbd_purchases"
    assert r.key.baseline_model == "recency" and r.key.ml_model is None


def test_the_standalone_evaluation_gives_the_same_numbers(cdnow, results):
    ev = ch.holdout_evaluation(cdnow.purchases, CUTOFF, 273)  # all customers up to the cut-off
    pd.testing.assert_frame_equal(ev.metrics, results["churn"].evaluation.metrics)


def test_every_customer_lost_for_a_year_has_value_at_risk(cdnow, results):
    r = results["churn"]
    c = r.customers
    old = cdnow.customers["recency_days"] > 365
    assert r.key.n_over_365 == int(old.sum()) > 1000
    # they are not covered by the chosen score; their risk is the observed churn of long pauses, and
    # with their value if retained from the CLV chapter the value at risk is above 0 for each
    assert (c.loc[old, "risk_source"] == "recency_by_group").all() and (c.loc[old, "risk"] > 0.5).all()
    assert (c.loc[old, "value_at_risk"] > 0).all() and r.key.n_over_365_at_risk == r.key.n_over_365
    # at t2 nobody had paused a year yet (all customers started in Q1 1997): their risk is the rate of the
    # longest pause observed, and the text says so
    assert max(r.fallback.max_recency.values()) < 365 and r.key.n_risk_extrapolated == r.key.n_risk_fallback >= int(old.sum())
    from helpers.narrative import churn as nc

    assert "eine eigene Beobachtung gibt es nicht" in nc.fallback_text(r, 365)
