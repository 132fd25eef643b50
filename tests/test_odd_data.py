"""Odd client data: every generated sentence must hold (issue 15, "Generated text that holds for any client").

The matrix: no revenue, one repeat buyer, tiny segments, four months of data, one category, the B2B
sample, one acquisition cohort (CDNOW sample from ``lifetimes``) and the shop sample as a baseline.

- Fast path (every dataset): ``chapters.compute_all``, then every chapter's generated text is rendered
  through the narrative functions exactly as the chapter notebooks call them (:func:`render_report`),
  assembled as report Markdown and checked with :func:`helpers.report.checks.check_markdown` (text
  rules, unresolved references = a text that points at a chart or table the notebook does not show,
  announced but missing figures), the term list (:mod:`helpers.terms`) and the contradiction checks
  below.
- PDF path (no revenue, four months, B2B): the full report through
  :func:`helpers.report.pipeline.build_report`; ``checks.errors(checks.check_pdf(pdf)) == []`` plus the
  same contradiction checks on the PDF text.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import chapters, labels, terms
from helpers.config import SAMPLE_DIR, ReportConfig
from helpers.data import load_dataset
from helpers.narrative import actions as actions_text
from helpers.narrative import appendix as appendix_text
from helpers.narrative import churn as churn_text
from helpers.narrative import clv as clv_text
from helpers.narrative import economics as econ_text
from helpers.narrative import rfm as rfm_text
from helpers.narrative import summary as summary_text
from helpers.report import checks
from helpers.report.display import Table

pytestmark = pytest.mark.slow

SHOP = SAMPLE_DIR / "onlineshop_transaktionen.csv"
B2B = SAMPLE_DIR / "grosshandel_export.csv"
CDNOW_SAMPLE = Path(__import__("lifetimes").__file__).parent / "datasets" / "CDNOW_sample.txt"
PDF_CASES = ("no_revenue", "four_months", "b2b")
"""Datasets whose full PDF is built and checked (each build takes about a minute)."""


# ---------------------------------------------------------------- the odd datasets


def _write(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


def _shop(customers: int | None = None, seed: int = 15) -> pd.DataFrame:
    df = pd.read_csv(SHOP, dtype={"customer_id": str, "order_id": str})
    if customers is not None:
        ids = df["customer_id"].drop_duplicates().sample(customers, random_state=seed)
        df = df[df["customer_id"].isin(ids)]
    return df


def make_datasets(folder: Path) -> dict[str, tuple[Path, str, dict]]:
    """name -> (CSV path, client name, settings) of every odd dataset (written into ``folder``)."""
    rng = np.random.default_rng(15)
    out: dict[str, tuple[Path, str, dict]] = {}
    # no revenue: the shop's customers, dates, categories and channels, but no amount
    out["no_revenue"] = (_write(_shop(2500).drop(columns=["net_revenue_eur", "quantity"]),
                                folder / "ohne_umsatz.csv"), "Ohne Umsatz GmbH", {})
    # one repeat buyer among 60 one-time buyers over two years
    start = pd.Timestamp("2024-07-01")
    rows = [(f"K{i:03d}", start + pd.Timedelta(days=11 * i), 20.0 + i) for i in range(60)]
    rows.append(("K000", pd.Timestamp("2026-05-04"), 35.0))
    out["one_repeat_buyer"] = (_write(pd.DataFrame(rows, columns=["customer_id", "order_date", "net_revenue_eur"]),
                                      folder / "ein_wiederholungskaeufer.csv"), "Ein Wiederkauf KG", {})
    # tiny segments: 45 customers with mixed histories over two years (every segment far below 20)
    rows = []
    for i in range(45):
        n = int(rng.integers(1, 6))
        days = np.sort(rng.choice(720, size=n, replace=False))
        rows += [(f"T{i:02d}", pd.Timestamp("2024-07-01") + pd.Timedelta(days=int(d)),
                  float(rng.integers(10, 300))) for d in days]
    out["tiny_segments"] = (_write(pd.DataFrame(rows, columns=["customer_id", "order_date", "net_revenue_eur"]),
                                   folder / "kleine_segmente.csv"), "Kleine Segmente GmbH", {})
    # four months: the shop's last four months only
    shop = _shop()
    recent = shop[pd.to_datetime(shop["order_date"]) >= pd.Timestamp("2026-06-01")]
    out["four_months"] = (_write(recent, folder / "vier_monate.csv"), "Vier Monate GmbH", {})
    # one category: every line in the same product category
    out["one_category"] = (_write(_shop(2000).assign(category="Bekleidung"), folder / "eine_warengruppe.csv"),
                           "Eine Warengruppe GmbH", {})
    # B2B sample (wholesaler, audience detected from legal forms, sales channel and large accounts)
    out["b2b"] = (B2B, "Beispiel Großhandel KG", {})
    # one acquisition cohort: CDNOW sample (all first purchases in Q1 1997, data end 1998)
    raw = pd.read_csv(CDNOW_SAMPLE, sep=r"\s+", header=None, dtype={0: str, 2: str},
                      names=["customer_id", "_", "date", "quantity", "revenue"])
    cdnow = pd.DataFrame({"customer_id": raw["customer_id"],
                          "order_date": pd.to_datetime(raw["date"], format="%Y%m%d").dt.strftime("%Y-%m-%d"),
                          "net_revenue_eur": raw["revenue"]})
    out["cdnow"] = (_write(cdnow, folder / "cdnow.csv"), "CDNOW Stichprobe", {"report_date": "2026-11-27"})
    out["shop"] = (SHOP, "Beispiel Onlineshop GmbH", {})
    return out


# ---------------------------------------------------------------- rendering like the notebooks


@dataclass
class Rendered:
    """The generated report text of one dataset, per chapter slug (report Markdown)."""

    chapters: dict[str, list[str]] = field(default_factory=dict)
    prose: dict[str, list[str]] = field(default_factory=dict)

    def add_prose(self, slug: str, text: str) -> None:
        if text and text.strip():
            self.chapters.setdefault(slug, []).append(text.strip())
            self.prose.setdefault(slug, []).append(text.strip())

    def add_table(self, slug: str, df: pd.DataFrame, caption: str, label: str, **kwargs) -> None:
        self.chapters.setdefault(slug, []).append(Table(df, caption, label, **kwargs)._repr_markdown_())

    def add_figure(self, slug: str, label: str, caption: str = "Abbildung") -> None:
        self.chapters.setdefault(slug, []).append(f"![{caption}](figures/{label}.png){{#{label}}}")

    def markdown(self, slug: str | None = None) -> str:
        slugs = [slug] if slug else [s for s in chapters.REPORT_ORDER if s in self.chapters]
        parts = []
        for s in slugs:
            parts.append(f"# {labels.chapter_title(s)} {{#sec-{s}}}")
            parts += self.chapters.get(s, [])
        return "\n\n".join(parts) + "\n"

    def text(self, slug: str | None = None) -> str:
        return "\n\n".join(t for s, ts in self.prose.items() if slug in (None, s) for t in ts)


def render_report(results: dict, cfg: ReportConfig) -> Rendered:
    """Every chapter's generated text, called as the chapter notebooks call the narratives (with the
    notebook-text changes of issue 15: audience and minimum group size passed, skipped parts empty)."""
    r = Rendered()
    act = results["actions"]
    aud = act.key.audience
    people = labels.audience_terms(aud).people
    mg = cfg.economics.min_group_size
    # management summary
    s = results["summary"]
    r.add_prose("summary", summary_text.intro(s, cfg.client_name) + summary_text.limitations_paragraph(s))
    r.add_table("summary", summary_text.key_figure_table(s), "Die wichtigsten Kennzahlen", "tbl-summary-figures",
                max_rows=None)
    r.add_prose("summary", summary_text.flow_sentence(s))
    r.add_prose("summary", summary_text.actions_markdown(s))
    # data chapter: only its section labels (its narrative is not part of this matrix)
    r.chapters.setdefault("data", [])
    # economics
    e = results["economics"]
    r.add_prose("economics", econ_text.intro(e, aud))
    r.add_prose("economics", econ_text.summary(e, aud))
    r.add_prose("economics", econ_text.flow_section(e, aud))
    if e.flow.ok:
        r.add_table("economics", econ_text.flow_table(e), econ_text.flow_caption(e, aud), "tbl-economics-flow")
        r.add_figure("economics", "fig-economics-flow")
    r.add_prose("economics", econ_text.groups_section(e, aud))
    if e.key.customers:
        r.add_table("economics", econ_text.group_table(e.groups, aud), "Einmal- und Wiederholungskäufer im Vergleich",
                    "tbl-economics-groups")
        r.add_figure("economics", "fig-economics-groups")
    r.add_prose("economics", econ_text.contrast_text(e, aud) + "\n\n" + econ_text.rules_of_thumb_text(e, aud))
    r.add_prose("economics", econ_text.cohort_section(e, aud))
    if e.has_cohorts:
        r.add_figure("economics", "fig-economics-cohorts")
    if e.has_activity:
        r.add_figure("economics", "fig-economics-activity")
    if e.has_revenue_cohorts:
        r.add_prose("economics", econ_text.revenue_cohort_text(e, aud))
        r.add_figure("economics", "fig-economics-revenue-cohorts")
    r.add_prose("economics", econ_text.yearly_section(e, aud))
    if e.has_nrr:
        r.add_table("economics", econ_text.yearly_table(e.yearly, mg), "NRR und GRR", "tbl-economics-nrr",
                    note=econ_text.yearly_note(aud))
        r.add_prose("economics", econ_text.nrr_sentence(e.yearly, e.has_revenue, mg, aud))
    r.add_prose("economics", econ_text.concentration_section(e, aud))
    if e.has_lorenz:
        r.add_figure("economics", "fig-economics-lorenz")
        r.add_prose("economics", econ_text.concentration_sentence(e.concentration, audience=aud))
    r.add_prose("economics", econ_text.lost_section(e, aud))
    if econ_text.show_lost_table(e):
        r.add_table("economics", econ_text.lost_table(e.lost, aud), "Rechenweg", "tbl-economics-lost")
    r.add_prose("economics", econ_text.whatif_section(e, aud))
    if e.whatif is not None:
        r.add_table("economics", econ_text.whatif_table(e.whatif), econ_text.whatif_caption(e.whatif),
                    "tbl-economics-whatif")
        r.add_figure("economics", "fig-economics-whatif")
    # RFM
    f = results["rfm"]
    r.add_prose("rfm", rfm_text.intro(f, aud))
    r.add_prose("rfm", "## Das Wichtigste in Kürze\n\n" + rfm_text.summary(f.segments, f.key, aud, mg))
    r.add_prose("rfm", rfm_text.rf_only_text(f))
    r.add_prose("rfm", "## RFM-Werte und Scores\n\n" + rfm_text.scores_intro(f, aud))
    r.add_table("rfm", rfm_text.score_table(f.score_ranges, f.has_revenue), "Scores", "tbl-rfm-scores")
    r.add_prose("rfm", rfm_text.score_note(f.customers, aud))
    r.add_prose("rfm", "## Recency und Frequency im Zusammenspiel\n\n" + rfm_text.heatmap_text(f, aud))
    r.add_figure("rfm", "fig-rfm-heatmap")
    if f.rf_monetary is not None:
        r.add_figure("rfm", "fig-rfm-heatmap-revenue")
    r.add_prose("rfm", rfm_text.revenue_heatmap_text(f, aud))
    r.add_prose("rfm", "## Segmente und empfohlene Maßnahmen\n\n" + rfm_text.rules_intro(aud))
    r.add_table("rfm", rfm_text.rules_table(f.rules, f.actions, aud), "Segmentregeln", "tbl-rfm-rules")
    r.add_table("rfm", rfm_text.segment_table(f.segments, f.has_revenue, aud), "Kennzahlen je Segment",
                "tbl-rfm-segments")
    r.add_figure("rfm", "fig-rfm-segments")
    r.add_prose("rfm", "## Was kaufen die Segmente?\n\n" + rfm_text.mix_intro(f))
    r.add_prose("rfm", rfm_text.mix_text(f, "category", mg, aud))
    if f.category_mix is not None:
        r.add_figure("rfm", "fig-rfm-category")
    r.add_prose("rfm", rfm_text.mix_text(f, "channel", mg, aud))
    if f.channel_mix is not None:
        r.add_figure("rfm", "fig-rfm-channel")
    # CLV
    c = results["clv"]
    r.add_prose("clv", clv_text.intro(c, aud))
    r.add_prose("clv", "## Ergebnis im Überblick\n\n" + clv_text.summary(c, aud))
    if c.ok:
        r.add_prose("clv", clv_text.validation_section(c, aud))
        if c.validation is not None and c.validation.ran:
            r.add_figure("clv", "fig-clv-holdout")
        if c.validation is not None and c.validation.comparison is not None:
            r.add_table("clv", clv_text.comparison_table(c), "Die drei Kaufmodelle", "tbl-clv-models")
        r.add_table("clv", clv_text.params_table(c), "Parameter", "tbl-clv-params")
        r.add_prose("clv", " ".join(clv_text.fit_warnings(c.fit)))
        r.add_prose("clv", clv_text.heatmap_text(c, aud))
        r.add_figure("clv", "fig-clv-heatmap-purchases")
        r.add_figure("clv", "fig-clv-heatmap-alive")
        r.add_prose("clv", clv_text.clv_section(c, aud))
    if c.has_clv:
        r.add_figure("clv", "fig-clv-deciles")
        r.add_table("clv", clv_text.summary_table(c.key, aud), "Kundenwert", "tbl-clv-summary")
    # churn
    h = results["churn"]
    r.add_prose("churn", churn_text.intro(h, aud))
    r.add_prose("churn", churn_text.opening(h, cfg.churn.active_days, aud))
    if h.ok:
        r.add_prose("churn", "## Ergebnis im Überblick\n\n" + churn_text.summary(h, aud))
        r.add_prose("churn", "## Prüfung an einem späteren Stichtag\n\n" + churn_text.validation_text(h, cfg, aud))
        r.add_table("churn", churn_text.metrics_table(h), "Trennschärfe", "tbl-churn-metrics",
                    formats=churn_text.METRICS_FORMATS, note=churn_text.metrics_note(h))
        r.add_figure("churn", "fig-churn-roc-pr")
        r.add_figure("churn", "fig-churn-gains")
        if h.evaluation.calibration:
            r.add_figure("churn", "fig-churn-calibration")
        r.add_prose("churn", churn_text.calibration_text(h, aud))
    if h.drivers is not None:
        r.add_prose("churn", churn_text.drivers_section(h))
        r.add_figure("churn", "fig-churn-drivers")
    r.add_prose("churn", churn_text.risk_block(h, cfg.churn.active_days, aud, mg))
    if h.fallback is not None and h.fallback.table is not None:
        r.add_table("churn", churn_text.fallback_table(h.fallback), "Beobachtete Abwanderung", "tbl-churn-recency",
                    formats=churn_text.FALLBACK_FORMATS)
    has_risk = h.customers is not None and h.customers["risk"].notna().any()
    if has_risk:
        r.add_figure("churn", "fig-churn-risk")
    r.add_prose("churn", churn_text.value_block(h, cfg.gross_margin, aud))
    if has_risk:
        r.add_table("churn", churn_text.risk_source_counts(h.customers), "Herkunft des Risikos", "tbl-churn-sources",
                    formats=churn_text.SOURCE_FORMATS)
    if h.matrix is not None:
        r.add_figure("churn", "fig-churn-matrix")
    if h.top is not None:
        r.add_table("churn", churn_text.top_table(h.top), f"Die 15 {people} mit dem höchsten gefährdeten "
                    "Deckungsbeitrag", "tbl-churn-top", formats=churn_text.TOP_FORMATS)
    # action plan
    a = cfg.actions
    r.add_prose("actions", actions_text.intro(act, aud))
    r.add_prose("actions", "## Segmente, Kundenwert und Risiko\n\n" + actions_text.audience_text(act) + "\n\n"
                + actions_text.bases_text(act.customers, act.key.value_horizon_months, aud))
    matrix_df, matrix_formats = actions_text.matrix_table(act.matrix, act.key.forecast_history_days)
    r.add_table("actions", matrix_df, "Segmente", "tbl-actions-matrix", formats=matrix_formats,
                note=actions_text.matrix_note(act.matrix, a.forecast_ratio_max, act.key.forecast_history_days, aud))
    r.add_prose("actions", actions_text.forecast_check_text(act, a.forecast_ratio_max, aud))
    r.add_table("actions", actions_text.action_table(act.matrix, act.segment_actions, aud), "Maßnahmen",
                "tbl-actions-measures", max_rows=None)
    if act.has_value:
        r.add_figure("actions", "fig-actions-risk")
    r.add_prose("actions", actions_text.matrix_summary(act) + "\n\n"
                + actions_text.priority_rule_text(act, a.reach_days, a.min_risk, aud))
    budget = ["## Budget: Wohin das Geld am meisten bringt"]
    if actions_text.has_budget(act):
        budget.append(actions_text.assumption_note(a.uplift_low_factor, a.uplift_high_factor))
    r.add_prose("actions", "\n\n".join(budget))
    if actions_text.has_budget(act):
        r.add_table("actions", actions_text.assumptions_table(act, a), "Annahmen", "tbl-actions-assumptions")
        alloc_df, alloc_formats = actions_text.allocation_table(act.allocation, act.key.roi_plausible_max,
                                                                a.uplift_low_factor, a.uplift_high_factor)
        r.add_table("actions", alloc_df, "Budgetverteilung", "tbl-actions-budget", formats=alloc_formats,
                    note=actions_text.allocation_note(a.uplift_low_factor, a.uplift_high_factor, act.allocation,
                                                      act.key.roi_plausible_max, aud))
    r.add_prose("actions", actions_text.budget_summary(act, a))
    if act.key.contacts > 0:
        r.add_figure("actions", "fig-actions-budget")
    cross = act.crosssell
    r.add_prose("actions", "## Zusatzkäufe: Welche Warengruppe passt als Nächstes?")
    if cross.ok:
        r.add_prose("actions", actions_text.crosssell_definitions(aud) + "\n\n"
                    + actions_text.crosssell_summary(cross, aud, mg))
        pairs_df, pairs_formats = actions_text.pairs_table(cross.pairs)
        if len(pairs_df):
            r.add_table("actions", pairs_df, "Kaufkombinationen", "tbl-actions-pairs", formats=pairs_formats)
        r.add_figure("actions", "fig-actions-lift")
        r.add_prose("actions", actions_text.crosssell_howto(aud))
    else:
        r.add_prose("actions", actions_text.crosssell_skip(cross))
    r.add_prose("actions", "## Zielgruppenlisten für das CRM\n\n"
                + actions_text.export_text(act.lists, cfg.pseudonymize, audience=aud))
    if len(act.lists):
        r.add_table("actions", actions_text.lists_table(act.lists), "Zielgruppenlisten", "tbl-actions-lists")
    # appendix
    res = {slug: results[slug] for slug in appendix_text.REPORT_CHAPTERS}
    r.add_prose("appendix", "## Methoden und Annahmen\n\n" + appendix_text.methods_text(res, cfg=cfg))
    app = results["appendix"]
    r.add_table("appendix", appendix_text.settings_table(app.settings, app.effective), "Einstellungen",
                "tbl-appendix-settings", max_rows=None)
    r.add_table("appendix", appendix_text.glossary_table(res), "Glossar", "tbl-appendix-glossary", max_rows=None)
    return r


# ---------------------------------------------------------------- checks


B2B_FORBIDDEN = (r"\bKundinnen\b", r"\bKundin\b", r"\bPersonen?\b", r"\bBons?\b", r"Bonbetrag", r"Newsletter",
                 r"Gutschein", r"Willkommensstrecke", r"\bShop\b", r"\bPrivatkundschaft\b(?! \(B2C\))")
"""Consumer words a Firmenkunden report must not use in running text (audience policy)."""


def _plain(text: str) -> str:
    return re.sub(r"[\u00a0\u202f]", " ", text).replace("\u00ad", "")


def contradictions(text: str, results: dict, *, pdf: bool = False) -> list[str]:
    """Statements that contradict the numbers of the run (empty = none); ``text`` may be Markdown."""
    text = re.sub(r"\\(.)", r"\1", _plain(text))
    churn, actions = results["churn"], results["actions"]
    found = []
    var = churn.key.value_at_risk
    if var is not None and var > 0:
        for pattern in (r"kein (?:nennenswerter )?Deckungsbeitrag (?:gefährdet|auf dem Spiel)",
                        r"Weder ein Abwanderungsmodell", r"Abwanderungsrisiko liegt für diesen Datenbestand nicht vor",
                        r"gefährdete Deckungsbeitrag ist (?:deshalb )?nicht berechenbar"):
            if re.search(pattern, text):
                found.append(f"value at risk {var:.0f} but: {pattern}")
    if var is None and re.search(r"Insgesamt sind [\d.]+ € erwarteter Deckungsbeitrag", text):
        found.append("value at risk not computable but an amount is stated")
    has_revenue = results["economics"].has_revenue
    if not has_revenue:
        for m in re.finditer(r"(?<![\d.,])0 ?€", text):
            found.append(f"no revenue but a zero amount: {text[max(0, m.start() - 60):m.end() + 30]!r}")
        if "nicht berechenbar" not in text and not pdf:
            found.append("no revenue but no 'nicht berechenbar'")
    k = actions.key
    if k.priority_basis != "gain":  # no gain per contact computable: no zero gain, no "does not pay"
        for pattern in (r"(?<![\d.,])0 ?€ \(je nach angenommener Wirkung", r"Keine Kampagne empfohlen",
                        r"Erwarteter Zusatz-Deckungsbeitrag der empfohlenen Kampagne \| 0"):
            if re.search(pattern, text):
                found.append(f"no budget computable but: {pattern}")
    if not (churn.key.n_risk_model + churn.key.n_risk_fallback):
        if re.search(r"Abwanderungsrisiko ab 50 %[^|\n]*\| 0 \|", text):
            found.append("no risk computable but 0 customers at risk are stated")
    if not actions.crosssell.ok and re.search(r"\*\*Support\*\* ist", text):
        found.append("cross-selling skipped but defined")
    for m in re.finditer(r"\bentfällt\b[^.!?]{0,200}?\bentfällt\b", text):
        found.append(f"doubled skip: {m.group(0)[:80]!r}")
    return found


def small_segment_shares(text: str, results: dict, min_group: int) -> list[str]:
    """Share statements about RFM segments with fewer than ``min_group`` customers."""
    seg = results["rfm"].segments
    out = []
    for seg_id, n in seg["customers"].items():
        if n >= min_group:
            continue
        name = re.escape(labels.segment(seg_id))
        for m in re.finditer(rf"„{name}“(?::| mit [^.(]*)\s*\(?\s*(?:weniger als |mehr als )?\d+(?:,\d+)? ?%", text):
            out.append(f"{labels.segment(seg_id)} ({n}): {m.group(0)!r}")
    return out


def bare_customer_words(text: str) -> list[str]:
    """„Kunde“/„Kunden“ outside the pair form, compounds, fixed names and quoted labels (gendering policy)."""
    allowed = [r"Kundinnen und Kunden", r"Kundin oder (?:ein(?:en|em|es)? )?(?:\w+ )?Kunden?",
               r"Kundin und kein Kunde", r"„[^“]*“", r"Kunden Vorjahr", r"Kunden-\w+"]
    allowed += [re.escape(name) for name, _ in labels.SEGMENTS.values()]
    stripped = re.sub("|".join(allowed), " ", text)
    return re.findall(r"(?<![\w-])Kunden?\b", stripped)


def audience_words(text: str) -> list[str]:
    return [m.group(0) for p in B2B_FORBIDDEN for m in re.finditer(p, _plain(text))]


# ---------------------------------------------------------------- fixtures and tests


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    """name -> (csv, cfg, results, rendered) for every dataset of the matrix (computed once)."""
    folder = tmp_path_factory.mktemp("odd")
    out = {}
    t0 = time.monotonic()
    for name, (path, client, settings) in make_datasets(folder).items():
        cfg = ReportConfig.from_settings(client, settings)
        ds = load_dataset(path, cfg)
        results = chapters.compute_all(ds, cfg)
        out[name] = (path, cfg, results, render_report(results, cfg))
    print(f"odd data, compute and render: {time.monotonic() - t0:.1f} s")
    return out


CASES = ("no_revenue", "one_repeat_buyer", "tiny_segments", "four_months", "one_category", "b2b", "cdnow", "shop")


def test_matrix_covers_the_odd_cases(odd):
    res = {name: case[2] for name, case in odd.items()}
    assert set(res) == set(CASES)
    assert not res["no_revenue"]["economics"].has_revenue
    assert res["one_repeat_buyer"]["economics"].key.repeat_customers == 1
    assert res["tiny_segments"]["rfm"].segments["customers"].max() < 20
    four = res["four_months"]["data"].key
    assert (pd.Timestamp(four.observation_end) - pd.Timestamp(four.period_start)).days < 130
    assert not res["one_category"]["actions"].crosssell.ok
    assert res["b2b"]["actions"].key.audience == "b2b" and res["shop"]["actions"].key.audience == "b2c"
    assert res["cdnow"]["economics"].key.single_cohort


@pytest.mark.parametrize("name", CASES)
def test_generated_text_holds(odd, name):
    _, cfg, results, rendered = odd[name]
    md = rendered.markdown()
    found = checks.errors(checks.check_markdown(md, f"{name}.md"))
    assert found == [], checks.format_findings(found)
    for slug in rendered.prose:
        hits = terms.find_forbidden(rendered.text(slug), slug)
        assert hits == [], (name, slug, [str(h) for h in hits])
    assert contradictions(md, results) == []
    assert small_segment_shares(rendered.text(), results, cfg.economics.min_group_size) == []
    if results["actions"].key.audience == "b2c":
        for slug in rendered.prose:
            assert bare_customer_words(rendered.text(slug)) == [], (name, slug)


def test_skipped_analyses_leave_no_shells(odd):
    res = {name: case[2] for name, case in odd.items()}
    text = {name: case[3] for name, case in odd.items()}
    # no revenue: no customer value in money, a not-computable value at risk, no money terms in the glossary
    no_rev = res["no_revenue"]
    glossary = set(appendix_text.glossary_table({s: no_rev[s] for s in appendix_text.REPORT_CHAPTERS})["Begriff"])
    assert not glossary & {"Gamma-Gamma", "Kundenwert (CLV)", "Nettoumsatz", "Gini-Koeffizient", "ROI"}
    assert no_rev["churn"].key.value_at_risk is None
    assert "nicht berechenbar" in text["no_revenue"].text("churn")
    assert "Gamma-Gamma" not in text["no_revenue"].text("appendix")
    # one category: cross-selling is skipped and explained once, nowhere defined
    one_cat = text["one_category"]
    assert "Support" not in one_cat.text("actions") and "Warengruppe" in one_cat.text("actions")
    assert "Zusatzkäufe" not in one_cat.text("appendix").split("**Maßnahmenplan.**")[-1]
    # a chapter whose model part is skipped has no introduction of its methods
    for name in CASES:
        if not res[name]["clv"].ok:
            assert clv_text.intro(res[name]["clv"]) == "" and "BG/NBD" not in text[name].text("clv").split("entfallen")[0]
        if not res[name]["churn"].ok:
            assert churn_text.intro(res[name]["churn"]) == ""
            glossary = set(appendix_text.glossary_table({s: res[name][s] for s in appendix_text.REPORT_CHAPTERS})
                           ["Begriff"])
            assert "ROC AUC" not in glossary and "PR AUC" not in glossary, name


def test_b2b_text_speaks_of_firms(odd):
    rendered = odd["b2b"][3]
    for slug in ("summary", "economics", "rfm", "clv", "churn", "actions", "appendix"):
        words = audience_words(rendered.text(slug))
        assert words == [], (slug, sorted(set(words)))
    assert "Firmenkunden" in rendered.text("economics")


# ---------------------------------------------------------------- full PDFs


@pytest.fixture(scope="module")
def pdfs(odd, tmp_path_factory):
    from helpers.report.pipeline import build_report

    out_dir = tmp_path_factory.mktemp("pdf")
    built = {}
    t0 = time.monotonic()
    for name in PDF_CASES:
        path, cfg, results, _ = odd[name]
        built[name] = build_report(path, cfg, out_dir, engine="auto")
    print(f"odd data, {len(built)} PDFs: {time.monotonic() - t0:.1f} s")
    return built


@pytest.mark.parametrize("name", PDF_CASES)
def test_pdf_passes_the_document_checks(odd, pdfs, name):
    pdf = pdfs[name]
    found = checks.errors(checks.check_pdf(pdf))
    assert found == [], checks.format_findings(found)
    text = "\n".join(checks.pdf_page_texts(pdf))
    assert contradictions(text, odd[name][2], pdf=True) == []


@pytest.mark.parametrize("name", PDF_CASES)
def test_pdf_uses_the_preferred_terms(pdfs, name):
    hits = terms.find_forbidden(_plain("\n".join(checks.pdf_page_texts(pdfs[name]))))
    assert hits == [], [str(h) for h in hits]


def test_b2b_pdf_speaks_of_firms(pdfs):
    pages = checks.pdf_page_texts(pdfs["b2b"])
    start = next(i for i, p in enumerate(pages) if "Warum Bestandskunden zählen" in p and i > 2)
    words = audience_words("\n".join(pages[start:]))
    assert words == [], sorted(set(words))
