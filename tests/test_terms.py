"""One term for one thing, one gendering policy (issue 15).

The term list (:mod:`helpers.terms`) is enforced on the string literals of the narratives and of the
label catalogue, on the notebooks' report text and on generated text; the audience's words come from
one function (:func:`helpers.labels.audience_terms`); counts, shares and skipped parts go through the
shared guards of :mod:`helpers.narrative.common`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from helpers import chapters, fmt, labels, terms
from helpers.config import ReportConfig
from helpers.dataset import from_transactions
from helpers.narrative import common
from test_odd_data import bare_customer_words, render_report

SRC = Path(__file__).resolve().parents[1] / "src" / "helpers"
NARRATIVES = sorted((SRC / "narrative").glob("*.py"))
CHAPTER_OF = {"rfm": "rfm", "clv": "clv", "churn": "churn", "economics": "economics", "actions": "actions",
              "summary": "summary", "appendix": "appendix", "data": "data"}
NOT_MINE: dict[str, str] = {}
"""Narrative modules owned by another engineer: scanned, but a finding there is reported, not failed."""


# ---------------------------------------------------------------- helpers


def _docstring_nodes(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                ids.add(id(body[0].value))
        # attribute docstrings: a bare string right after an assignment
        body = getattr(node, "body", None)
        for i, stmt in enumerate(body if isinstance(body, list) else []):
            if i and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
                    and isinstance(stmt.value.value, str):
                ids.add(id(stmt.value))
    return ids


def string_literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal that can reach a reader (docstrings excluded; the parts of an
    f-string joined with „{}“ for the placeholders)."""
    tree = ast.parse(path.read_text("utf-8"))
    docs = _docstring_nodes(tree)
    inside_fstring = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            out.append((node.lineno, text))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs \
                and id(node) not in inside_fstring:
            out.append((node.lineno, node.value))
    return out


# ---------------------------------------------------------------- the list itself


def test_term_list_is_consistent():
    preferred = [t.preferred for t in terms.TERMS]
    assert len(preferred) == len(set(preferred))
    for t in terms.TERMS:
        assert t.meaning and t.forbidden, t.preferred
        for other in preferred:  # no preferred spelling is a forbidden variant of another term
            assert terms.find_forbidden(other, "clv", gender=False) == [], (t.preferred, other)
    assert terms.term("Wiederkaufrate").preferred == "Wiederkaufrate"


@pytest.mark.parametrize("text, found", [
    ("Die Wiederkaufquote liegt bei 45 %.", "Wiederkaufquote"),
    ("Erstkäufer kaufen selten wieder.", "Erstkäufer"),
    ("Wiederkäufer bringen mehr Umsatz.", "Wiederkäufer"),
    ("getrennt nach Einmal- und Mehrfachkäufern", "Mehrfachkäufern"),
    ("Trennschärfe (ROC-AUC 0,71)", "ROC-AUC"),
    ("PR-AUC", "PR-AUC"),
    ("Der Wert bei Bindung beträgt", "Wert bei Bindung"),
    ("Spalte Erwarteter Verlust", "Erwarteter Verlust"),
    ("Liebe KundInnen", "KundInnen"),
    ("alle Kund*innen", "Kund*innen"),
    ("eine Kundin bzw. ein Kunde", "Kundin bzw."),
])
def test_forbidden_variants_are_found(text, found):
    assert [h.found for h in terms.find_forbidden(text, "clv")] == [found]


@pytest.mark.parametrize("text", [
    "Die Wiederkaufrate liegt bei 45 %; die Bindungsquote bei 37 %.",
    "Einmalkäufer und Wiederholungskäufer; der Erstkauf liegt zurück.",
    "ROC AUC 0,71 und PR AUC 0,80; die ROC-Kurve steigt steil.",
    "Kaufspanne (Wochen vom ersten bis zum letzten Kauf) statt Recency (Tage seit dem letzten Kauf).",
    "Die RFM-Recency und der R-Score; zwei Bedeutungen von „Recency“; die Recency der RFM-Analyse.",
    "Marge (30 %) des Nettoumsatzes; gefährdeter Deckungsbeitrag; Wert bei Verbleib; Kundenwert (CLV).",
    "Kundinnen und Kunden, eine Kundin oder ein Kunde, Firmenkunden.",
])
def test_preferred_wording_passes(text):
    assert terms.find_forbidden(text, "clv") == []


def test_recency_is_only_checked_in_the_purchase_model_chapter():
    text = "Nach rechts wächst die Recency."
    assert terms.find_forbidden(text, "rfm") == [] and len(terms.find_forbidden(text, "clv")) == 1


# ---------------------------------------------------------------- audience words and shared guards


def test_audience_terms_one_function_for_the_words():
    b2c, b2b = labels.audience_terms("b2c"), labels.audience_terms("b2b")
    assert labels.audience_terms(None) == labels.audience_terms("auto") == b2c
    assert (b2c.people, b2c.one, b2c.person, b2c.order) == ("Kundinnen und Kunden", "eine Kundin oder ein Kunde",
                                                            "Person", "Bon")
    assert (b2b.people, b2b.one, b2b.person, b2b.order) == ("Firmenkunden", "ein Firmenkunde", "Firma", "Auftrag")
    assert b2b.label == labels.AUDIENCE_LABELS["b2b"] and b2c.label == labels.AUDIENCE_LABELS["b2c"]
    # default actions: consumer wording for b2c, account management and offers for b2b; own actions kept
    for seg in ("new", "about_to_sleep", "champions", "cannot_lose"):
        b2b_action = labels.segment_action(seg, "b2b")
        assert not re.search(r"Newsletter|Gutschein|Willkommensstrecke|Shop", b2b_action), seg
        assert labels.audience_action(seg, labels.segment_action(seg), "b2b") == b2b_action
        assert labels.audience_action(seg, labels.segment_action(seg), "b2c") == labels.segment_action(seg)
    assert labels.audience_action("new", "Eigene Maßnahme.", "b2b") == "Eigene Maßnahme."
    assert "kein Schwerpunkt des Budgets" in labels.segment_action("lost", "b2b")


def test_people_agrees_in_number_and_case():
    assert common.people(1) == "eine Kundin oder ein Kunde"
    assert common.people(1, "b2c", "acc") == "eine Kundin oder einen Kunden"
    assert common.people(1, "b2c", "dat") == "einer Kundin oder einem Kunden"
    assert common.people(0) == "keine Kundinnen und Kunden"
    assert common.people(1234) == "1.234 Kundinnen und Kunden"
    assert common.people(1, "b2b") == "ein Firmenkunde" and common.people(2, "b2b", "dat") == "2 Firmenkunden"
    assert common.count_phrase(1, "Kontakt", "Kontakte") == "1 Kontakt"
    assert common.pronoun(1) == "sie oder er" and common.pronoun(1, "b2b") == "er" and common.pronoun(3) == "sie"


def test_share_phrase_never_rounds_to_a_false_zero_or_hundred():
    plain = lambda s: s.replace("\u00a0", " ")  # noqa: E731
    assert plain(common.share_phrase(0.004)) == "weniger als 1 %"
    assert plain(common.share_phrase(0.9996, 1)) == "mehr als 99,9 %"
    assert plain(common.share_phrase(0.0)) == "0 %" and plain(common.share_phrase(1.0)) == "100 %"
    assert common.share_phrase(None) == fmt.MISSING and common.share_phrase(float("nan")) == fmt.MISSING
    assert common.money_phrase(None) == "nicht berechenbar" and common.money_phrase(float("nan")) == "nicht berechenbar"
    assert not common.group_ok(7) and common.group_ok(20) and common.group_ok(7, min_group=5)


# ---------------------------------------------------------------- source scan


@pytest.mark.parametrize("path", NARRATIVES + [SRC / "labels.py"], ids=lambda p: p.name)
def test_narratives_and_labels_use_the_preferred_terms(path):
    if path.name in NOT_MINE:
        pytest.xfail(NOT_MINE[path.name])
    chapter = CHAPTER_OF.get(path.stem)
    hits = [(line, str(h)) for line, text in string_literals(path) for h in terms.find_forbidden(text, chapter)]
    assert hits == [], hits


@pytest.mark.parametrize("path", [p for p in NARRATIVES if p.name not in NOT_MINE], ids=lambda p: p.name)
def test_narratives_write_no_literal_currency(path):
    """Money and the currency's name go through helpers.fmt (the report may be in US-Dollar)."""
    found = [(line, text) for line, text in string_literals(path)
             if any(re.search(p, text) for p in terms.CURRENCY_LITERALS)]
    assert found == [], found


def _notebook_text(chapter) -> list[tuple[int, str]]:
    nb = nbformat.read(chapter.path, as_version=4)
    return [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type in ("markdown", "code")]


@pytest.mark.parametrize("chapter", chapters.CHAPTERS, ids=lambda c: c.slug)
def test_notebook_text_uses_the_preferred_terms(chapter):
    hits = [(i, str(h)) for i, text in _notebook_text(chapter) for h in terms.find_forbidden(text, chapter.slug)]
    assert hits == [], hits


# ---------------------------------------------------------------- generated text (fast, small data)


def _small_dataset(seed: int = 3):
    """240 customers over three years with revenue and two categories (every chapter runs)."""
    rng = np.random.default_rng(seed)
    end = pd.Timestamp("2026-06-30")
    rows = []
    for i in range(240):
        first = end - pd.Timedelta(days=int(rng.integers(30, 1090)))
        n = int(rng.geometric(0.45))
        days = np.sort(rng.uniform(0, (end - first).days, size=n - 1)) if n > 1 else []
        for d in [0, *days]:
            rows.append((f"K{i:03d}", first + pd.Timedelta(days=int(d)), float(rng.gamma(2.0, 40.0)),
                         rng.choice(["Bekleidung", "Schuhe", "Sport"])))
    tx = pd.DataFrame(rows, columns=["customer_id", "order_date", "revenue", "category"])
    return from_transactions(tx, end)


@pytest.fixture(scope="module")
def small_reports():
    ds = _small_dataset()
    out = {}
    for audience in ("b2c", "b2b"):
        cfg = ReportConfig.from_settings("Test GmbH", {"audience": audience})
        results = chapters.compute_all(ds, cfg)
        out[audience] = (results, render_report(results, cfg))
    return out


@pytest.mark.parametrize("audience", ["b2c", "b2b"])
def test_generated_text_uses_the_preferred_terms(small_reports, audience):
    results, rendered = small_reports[audience]
    assert results["actions"].key.audience == audience
    for slug in rendered.prose:
        text = rendered.text(slug)
        hits = terms.find_forbidden(text, slug)
        assert hits == [], (slug, [str(h) for h in hits])


def test_generated_text_follows_the_gendering_policy(small_reports):
    _, b2c = small_reports["b2c"]
    for slug in b2c.prose:
        assert bare_customer_words(b2c.text(slug)) == [], slug
    _, b2b = small_reports["b2b"]
    for slug in b2b.prose:
        text = b2b.text(slug)
        assert not re.search(r"\bKundinnen\b|\bPersonen?\b|\bBons?\b|Newsletter|Gutschein|Willkommensstrecke", text), \
            (slug, re.findall(r"[^.]*(?:Kundinnen|Person|Bon|Newsletter|Gutschein|Willkommensstrecke)[^.]*", text)[:3])


def test_generated_text_follows_the_report_currency(small_reports):
    """No literal „€“/„Euro“: a report in US-Dollar says so everywhere (helpers.fmt)."""
    results, _ = small_reports["b2c"]
    cfg = ReportConfig.from_settings("Test GmbH", {"audience": "b2c"})
    with fmt.use_currency("USD"):
        rendered = render_report(results, cfg)
        text = rendered.text()
        assert "US-Dollar" in text and "$" in text
    assert not re.search(r"€|\bEuro\b", text), re.findall(r"[^.]*(?:€|Euro)[^.]*", text)[:3]
