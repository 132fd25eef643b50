"""Chapter notebooks: storage hygiene and conventions (fast), execution with timings (slow).

The slow test executes every chapter once, as the instructor version (solutions run, exercise
scaffolds skipped), from ``notebooks/`` with the default parameters on the sample data. It
only asserts that the notebook runs (in the project's executor, kernel ``kundenwert``); per-cell durations are written to
``build/notebook-timings/`` and summarised on the terminal (budget: 1,5 s per cell); the executed
notebooks go to ``build/notebook-timings/executed/`` (``python -m helpers.handout --executed
build/notebook-timings/executed`` renders handouts from them without executing again). That the
*student* version also runs follows from the fast check that no later cell needs a name only a
solution cell defines (``course.solution_leaks``). ``KUNDENWERT_NB_VARIANT=studierende`` executes
the student version instead, ``KUNDENWERT_NB_VARIANT=alle`` also runs the unfilled exercise
scaffolds (what "Run All" in JupyterLab does).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import nbformat
import pytest
import yaml

from helpers import course
from helpers.chapters import CHAPTERS
from helpers.config import NOTEBOOK_DIR, PROJECT_ROOT
from helpers.report.execute import KERNELSPEC, cell_timings, execute_notebook

PARAMETER_NAMES = ["data_path", "client_name", "settings", "work_dir"]
"""The four parameters of every chapter (docs/chapter-contract.md); the report injects them."""
SETUP_LINES = [
    "from helpers import session, fmt, labels",
    "from helpers.report.display import show_text, show_table",
    "ctx = session.open(data_path, client_name, settings, work_dir=work_dir)",
    "cfg, ds = ctx.cfg, ctx.ds",
]
FORBIDDEN_IN_CODE = ("prepared_dir", "save_result", "record_key_figures", "load_result", "session.setup")
"""Bookkeeping of the old design: results are computed in the package and read with ``ctx.result``."""
WITH_EXERCISES = {"summary", "data", "economics", "rfm", "clv", "churn", "actions", "appendix"}
MIN_EXERCISES = 2
WALKTHROUGHS = {
    "rfm": ("rank(method=\"min\")", "groupby("),
    "clv": ("BetaGeoFitter", "ModifiedBetaGeoFitter", "ParetoNBDFitter", "GammaGammaFitter",
            "summary_data_from_transaction_data", "conditional_probability_alive",
            "conditional_expected_number_of_purchases_up_to_time", "conditional_expected_average_profit"),
    "churn": ("Pipeline(", "LogisticRegression(", "roc_auc_score(", "build_features(", "build_labels("),
    "actions": ("res.key.budget / kosten",),
}
"""Library calls the teaching cells must show (the method, not only the package's result)."""
CELL_BUDGET_S = 1.5
"""Workshop target per cell (issue 17), with the lab cache filled (the first chapter fills it)."""
TIMINGS_DIR = PROJECT_ROOT / "build" / "notebook-timings"
# Umlaut transliterations that must not appear in German text (ä, ö, ü, ß are required).
TRANSLITERATED = re.compile(
    r"\b(fuer|ueber|koennen|muessen|moechten|waehlen|zaehl\w*|Massnahme\w*|Groesse|groesser|"
    r"hoeher|Kaeufe\w*|Abwandrung|naechste\w*|pruef\w*)\b",
    re.IGNORECASE,
)


def _chapter_params():
    return [pytest.param(ch, id=ch.notebook.removesuffix(".ipynb")) for ch in CHAPTERS]


def _load(chapter):
    return nbformat.read(chapter.path, as_version=4)


@pytest.mark.parametrize("chapter", _chapter_params())
def test_notebook_hygiene(chapter):
    nb = _load(chapter)
    nbformat.validate(nb)
    problems: list[str] = []

    assert dict(nb.metadata.get("kernelspec", {})) == KERNELSPEC, f"kernelspec muss {KERNELSPEC} sein"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            problems.append(f"Zelle {i}: gespeicherte Ausgaben/Ausführungszähler")
        if cell.cell_type == "code":
            found = [word for word in FORBIDDEN_IN_CODE if word in cell.source]
            if found:
                problems.append(f"Zelle {i}: alte Buchführung im Code: {found}")
        if "injected-parameters" in course.tags(cell):
            problems.append(f"Zelle {i}: übrig gebliebene injected-parameters")

    # 1. raw front matter
    first = nb.cells[0]
    assert first.cell_type == "raw" and first.source.lstrip().startswith("---"), "erste Zelle: raw Front Matter"
    front = yaml.safe_load(first.source.strip().strip("-"))
    assert front.get("lang") == "de" and front.get("title"), f"Front Matter unvollständig: {front}"

    # 2. exactly one parameters cell with the standard names, right after the front matter
    params = [i for i, c in enumerate(nb.cells) if "parameters" in course.tags(c)]
    assert params == [1], f"genau eine parameters-Zelle an Position 1 erwartet, gefunden: {params}"
    assert list(course.parameter_values(nb)) == PARAMETER_NAMES

    # 3. shared setup cell
    setup = nb.cells[2]
    missing = [line for line in SETUP_LINES if line not in setup.source]
    assert setup.cell_type == "code" and not missing, f"Setup-Zelle weicht ab: {missing}"

    # 4. chapter heading, plain Markdown (the assembler adds {#sec-<slug>}, tests/test_notebook_markup.py)
    heading = nb.cells[3]
    assert heading.cell_type == "markdown"
    assert heading.source.strip().splitlines()[0] == f"# {chapter.title}"

    # 5. exercises: task text, scaffold (skipped on execution) and solution
    ex_md = [c for c in nb.cells if c.cell_type == "markdown" and "exercise" in course.tags(c)]
    ex_code = [c for c in nb.cells if c.cell_type == "code" and "exercise" in course.tags(c)]
    solutions = [c for c in nb.cells if "solution" in course.tags(c)]
    if chapter.slug in WITH_EXERCISES:
        assert ex_md and ex_code and solutions, "mindestens eine Übung mit Aufgabe, Gerüst und Lösung"
    leaks = course.solution_leaks(nb)
    if leaks:
        problems.append(f"Spätere Zellen brauchen Namen aus Lösungszellen: {leaks}")

    # 6. German text with umlauts, not transliterations
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            hits = sorted({m.group(0) for m in TRANSLITERATED.finditer(cell.source)})
            if hits:
                problems.append(f"Zelle {i}: Umlaute umschrieben: {hits}")

    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("chapter", _chapter_params())
def test_exercise_scaffolds_are_skipped(chapter):
    """Scaffolds with ``...`` gaps must be skipped by papermill/nbclient and nbval.

    Fix: ``python -m helpers.course tag notebooks/<file>.ipynb``.
    """
    nb = _load(chapter)
    untagged = [
        c.source.splitlines()[0][:50] if c.source else ""
        for c in nb.cells
        if c.cell_type == "code" and "exercise" in course.tags(c)
        and not all(t in course.tags(c) for t in course.SKIP_TAGS)
    ]
    assert not untagged, f"Übungszellen ohne {list(course.SKIP_TAGS)}: {untagged}"


@pytest.mark.parametrize("chapter", _chapter_params())
def test_course_structure(chapter):
    """Learning goals after the heading, a recap with 3-5 questions at the end, at least two
    exercises with scaffold and a self-checking solution, and walk-throughs ending in a self-check."""
    nb = _load(chapter)
    teaching = [c for c in nb.cells if "teaching" in course.tags(c)]
    goals = nb.cells[4]
    assert "teaching" in course.tags(goals) and goals.source.startswith("## Lernziele"), "Lernziele fehlen nach dem Titel"
    recap = nb.cells[-1]
    assert "teaching" in course.tags(recap) and recap.source.startswith("## Rückblick und Selbsttest")
    questions = re.findall(r"^\d+\. ", recap.source, flags=re.M)
    assert 3 <= len(questions) <= 5, f"Rückblick: {len(questions)} Fragen"
    if chapter.slug in WITH_EXERCISES:
        tasks = [c for c in nb.cells if c.cell_type == "markdown" and "exercise" in course.tags(c)]
        scaffolds = [c for c in nb.cells if c.cell_type == "code" and "exercise" in course.tags(c)]
        solutions = [c for c in nb.cells if "solution" in course.tags(c)]
        assert len(tasks) >= MIN_EXERCISES and len(scaffolds) == len(tasks) == len(solutions)
        assert all("check(" in c.source for c in solutions), "jede Musterlösung prüft sich selbst"
        assert all("check(" in c.source for c in scaffolds), "jedes Gerüst enthält die Selbstkontrolle"
        assert all("Hinweis" in c.source for c in tasks), "jede Aufgabe hat Hinweise"
    code = "\n".join(c.source for c in teaching if c.cell_type == "code")
    missing = [call for call in WALKTHROUGHS.get(chapter.slug, ()) if call not in code]
    assert not missing, f"Rundgang zeigt nicht: {missing}"
    if chapter.slug in WALKTHROUGHS:
        # every walk-through (a run of teaching cells with code) ends with a self-check
        runs, current = [], []
        for c in nb.cells:
            if "teaching" in course.tags(c):
                current.append(c)
            elif current:
                runs.append(current)
                current = []
        runs.append(current)
        for run in runs:
            codes = [c for c in run if c.cell_type == "code"]
            if codes:
                assert "check(" in codes[-1].source, f"Rundgang ohne Selbstkontrolle: {codes[-1].source[:60]}"


@pytest.mark.parametrize("chapter", _chapter_params())
def test_report_cells_read_only_results_that_are_ready(chapter):
    """In the report a chapter starts as soon as its own result is stored (results are stored in
    dependency order), so its report cells may read only that result and its dependencies."""
    from helpers import chapters

    allowed = set(chapters.dependency_order([chapter.slug]))
    nb = nbformat.read(str(chapter.path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code" or set(course.tags(cell)) & {"teaching", "exercise", "solution"}:
            continue
        read = set(re.findall(r"ctx\.result\(\s*[\"']([a-z]+)[\"']", cell.source))
        assert read <= allowed, f"{chapter.notebook}: liest {sorted(read - allowed)} vor deren Berechnung"


def test_transliteration_pattern():
    assert TRANSLITERATED.search("Die Massnahmen fuer Kunden")
    assert not TRANSLITERATED.search("Die Maßnahmen für Kunden, neue Kundschaft, Masse")


@pytest.mark.slow
@pytest.mark.parametrize("chapter", _chapter_params())
def test_notebook_executes(chapter, capsys):
    nb = _load(chapter)
    variant = os.environ.get("KUNDENWERT_NB_VARIANT", "lehrende")
    student = variant == "studierende"
    version = course.version(nb, instructor=not student)
    if variant == "alle":  # like "Run All" in JupyterLab: exercise scaffolds run too (unfilled)
        for cell in version.cells:
            cell.metadata["tags"] = [t for t in course.tags(cell) if t not in course.SKIP_TAGS]
    executed_dir = TIMINGS_DIR / "executed"
    # raises a German RenderError naming the chapter on the first failing cell
    executed = execute_notebook(version, executed_dir / chapter.notebook, cwd=NOTEBOOK_DIR, title=chapter.title)
    timings = cell_timings(executed)
    assert executed.cells
    record = {
        "notebook": chapter.notebook,
        "variant": variant,
        "total_s": round(sum(t.seconds for t in timings), 2),
        "cells": [{"index": t.index, "seconds": round(t.seconds, 3), "code": t.first_line} for t in timings],
    }
    (TIMINGS_DIR / f"{chapter.notebook.removesuffix('.ipynb')}.json").write_text(
        json.dumps(record, ensure_ascii=False, indent=2), "utf-8"
    )
    # executed_dir is reusable: python -m helpers.handout --executed build/notebook-timings/executed
    slow = [t for t in timings if t.seconds > CELL_BUDGET_S]
    lines = [f"\n{chapter.notebook}: {len(timings)} Zellen, gesamt {record['total_s']:.1f} s, "
             f"langsamste {max((t.seconds for t in timings), default=0):.1f} s"]
    lines += [f"  ÜBER {CELL_BUDGET_S:.1f} s: Zelle {t.index} ({t.seconds:.1f} s) {t.first_line}" for t in slow]
    with capsys.disabled():
        print("\n".join(lines))


@pytest.mark.slow
def test_nbval_chapters_and_course_builds(tmp_path, capsys):
    """``pytest --nbval-lax`` over the chapter notebooks and over the student and instructor builds.

    What participants open (``make student``) is exactly what is tested: every cell runs in the kernel
    ``kundenwert`` without an error; exercise scaffolds are skipped by their ``nbval-skip`` tag, the
    walk-throughs' and solutions' self-checks (``helpers.course.check``) raise on a mismatch. nbval
    runs in its own pytest process (its collector must not mix with this suite's options).
    """
    kurs = tmp_path / "kurs"
    course.build(kurs / "studierende")
    course.build(kurs / "lehrende", instructor=True)
    paths = [str(ch.path) for ch in CHAPTERS] + sorted(str(p) for p in kurs.glob("*/*.ipynb"))
    (tmp_path / "pytest.ini").write_text("[pytest]\n", "utf-8")
    cmd = [sys.executable, "-m", "pytest", "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path),
           "-p", "no:cacheprovider", "-q", "--nbval-lax", "--nbval-kernel-name", "kundenwert", *paths]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=1500)
    with capsys.disabled():
        print(f"\nnbval: {len(paths)} Notebooks in {time.perf_counter() - start:.0f} s")
    assert proc.returncode == 0, "nbval meldet Fehler:\n" + proc.stdout[-6000:] + proc.stderr[-2000:]
