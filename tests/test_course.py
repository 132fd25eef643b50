"""Student/instructor builder and self-check (helpers.course) on a tiny fixture notebook."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell

from helpers import course

FIXTURES = Path(__file__).parent / "fixtures"
MINI = FIXTURES / "kurs_mini.ipynb"


@pytest.fixture()
def nb():
    return nbformat.read(MINI, as_version=4)


def _with_outputs(nb):
    for c in nb.cells:
        if c.cell_type == "code":
            c.execution_count = 3
            c.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x\n")]
    return nb


def _comparable(cell):
    meta = dict(cell.metadata)
    meta["tags"] = [t for t in meta.get("tags", []) if t not in course.SKIP_TAGS]
    return cell.cell_type, cell.source, meta


def test_student_version_drops_solutions_only(nb):
    student = course.student_version(_with_outputs(nb))
    kept = [c for c in nb.cells if "solution" not in c.metadata.get("tags", [])]
    assert len(nb.cells) == 11 and len(student.cells) == 10
    assert not any("solution" in course.tags(c) for c in student.cells)
    # Every other cell (exercise prompt and scaffold included) is unchanged apart from skip tags.
    assert [_comparable(c) for c in student.cells] == [_comparable(c) for c in kept]
    assert all(c.outputs == [] and c.execution_count is None for c in student.cells if c.cell_type == "code")


def test_instructor_version_keeps_solutions(nb):
    instructor = course.instructor_version(nb)
    assert [_comparable(c) for c in instructor.cells] == [_comparable(c) for c in nb.cells]
    solutions = [c for c in instructor.cells if "solution" in course.tags(c)]
    assert len(solutions) == 1 and "umsatz.mean()" in solutions[0].source


def test_exercise_code_cells_are_marked_for_skipping(nb):
    student = course.student_version(nb)
    ex_code = [c for c in student.cells if c.cell_type == "code" and "exercise" in course.tags(c)]
    ex_md = [c for c in student.cells if c.cell_type == "markdown" and "exercise" in course.tags(c)]
    assert len(ex_code) == 1 and course.tags(ex_code[0]) == ["exercise", "skip-execution", "nbval-skip"]
    assert course.tags(ex_md[0]) == ["exercise"]  # markdown is not executed, no skip tags
    # idempotent: marking twice does not duplicate tags
    assert course.tags(course.mark_exercises(student).cells[7]) == course.tags(student.cells[7])
    # the source notebook object is not modified
    assert nb.cells[7].metadata["tags"] == ["exercise"]


def test_parameter_values(nb):
    assert course.parameter_values(nb) == {"data_path": "kurs_mini.csv", "client_name": "Test GmbH"}


def test_solution_leaks_detects_names_needed_later(nb):
    assert course.solution_leaks(nb) == []
    leaky = nbformat.read(MINI, as_version=4)
    leaky.cells.append(new_code_cell("print(mittel * 2)"))
    assert course.solution_leaks(leaky) == [(11, "mittel")]
    # rebinding the name in a normal cell before use is fine
    fixed = nbformat.read(MINI, as_version=4)
    fixed.cells += [new_code_cell("mittel = 1"), new_code_cell("print(mittel)")]
    assert course.solution_leaks(fixed) == []


def test_build_writes_both_versions_and_copies_data(tmp_path):
    student = course.build(tmp_path / "studierende", notebooks=[MINI])
    instructor = course.build(tmp_path / "lehrende", instructor=True, notebooks=[MINI])
    s = nbformat.read(student.notebooks[0], as_version=4)
    i = nbformat.read(instructor.notebooks[0], as_version=4)
    assert len(s.cells) == 10 and len(i.cells) == 11
    assert (tmp_path / "studierende" / "kurs_mini.csv").read_text("utf-8").startswith("customer_id,revenue")
    assert s.metadata.kernelspec.name == i.metadata.kernelspec.name == "kundenwert"


def test_cli_build(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(course, "_chapter_paths", lambda: [MINI])
    assert course.main(["build", "--out", str(tmp_path / "k"), "--instructor"]) == 0
    assert "Lehrendenversion: 1 Notebooks" in capsys.readouterr().out
    assert (tmp_path / "k" / "kurs_mini.ipynb").exists()
    monkeypatch.setattr(course, "_chapter_paths", lambda: [tmp_path / "fehlt.ipynb"])
    assert course.main(["build", "--out", str(tmp_path / "leer")]) == 1
    assert "Kapitel-Notebook nicht gefunden" in capsys.readouterr().err


def test_check_numbers_series_and_placeholders(capsys):
    assert course.check(25.0, 100 / 4)
    assert "Richtig" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="Teilen Sie"):
        course.check(24.0, 25.0, "Teilen Sie durch die Anzahl.")
    with pytest.raises(AssertionError, match="noch nicht ausgefüllt"):
        course.check(..., 25.0)
    s = pd.Series([1.0, 2.0], index=["a", "b"])
    assert course.check(s.copy(), s)
    with pytest.raises(AssertionError):
        course.check(s * 2, s)
    with pytest.raises(AssertionError):
        course.check("Champions", "Treue Kunden")


@pytest.mark.slow
def test_student_and_instructor_versions_execute(nb, tmp_path):
    from helpers.report.execute import cell_timings, execute_notebook

    student = execute_notebook(course.student_version(nb), tmp_path / "s.ipynb", cwd=FIXTURES, timeout=60)
    timings = cell_timings(student)
    printed = "".join(o.get("text", "") for c in student.cells if c.cell_type == "code" for o in c.outputs)
    assert "Gesamt: 100.00" in printed and "4\n" in printed
    scaffold = next(c for c in student.cells if "exercise" in course.tags(c) and c.cell_type == "code")
    assert scaffold.outputs == []  # skipped, although it would raise
    assert len(timings) == 4 and all(t.seconds >= 0 for t in timings)  # 5 code cells minus the scaffold
    instructor = execute_notebook(course.instructor_version(nb), tmp_path / "i.ipynb", cwd=FIXTURES, timeout=60)
    printed = "".join(o.get("text", "") for c in instructor.cells if c.cell_type == "code" for o in c.outputs)
    assert "Mittel: 25.00" in printed


def test_cli_tag_marks_in_place(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_bytes(MINI.read_bytes())
    assert course.main(["tag", str(path)]) == 0
    marked = nbformat.read(path, as_version=4)
    assert course.tags(marked.cells[7]) == ["exercise", "skip-execution", "nbval-skip"]
    assert len(marked.cells) == 11  # nothing else removed


def test_every_chapter_builds_in_both_versions(tmp_path):
    from helpers.chapters import CHAPTERS

    existing = [ch.path for ch in CHAPTERS]
    student = course.build(tmp_path / "studierende")
    instructor = course.build(tmp_path / "lehrende", instructor=True)
    assert [p.name for p in student.notebooks] == [p.name for p in existing]
    assert (tmp_path / "data" / "sample" / "onlineshop_transaktionen.csv").exists()
    for src, s_path, i_path in zip(existing, student.notebooks, instructor.notebooks):
        original = nbformat.read(src, as_version=4)
        s, i = nbformat.read(s_path, as_version=4), nbformat.read(i_path, as_version=4)
        n_solutions = sum("solution" in course.tags(c) for c in original.cells)
        assert len(s.cells) == len(original.cells) - n_solutions and len(i.cells) == len(original.cells)
        kept = [c for c in original.cells if "solution" not in course.tags(c)]
        assert [_comparable(c) for c in s.cells] == [_comparable(c) for c in kept]


def test_solution_leaks_counts_names_from_skipped_scaffolds(nb):
    leaky = nbformat.read(MINI, as_version=4)
    leaky.cells[8].source = "pass"  # solution no longer binds `mittel`; only the scaffold does
    leaky.cells.append(new_code_cell("print(mittel)"))
    assert course.solution_leaks(leaky) == [(11, "mittel")]


def test_check_absolute_tolerance():
    # "the same ROC AUC within 0,01": an absolute tolerance, independent of the size of the value
    assert course.check(0.695, 0.6925, abs_tol=0.01)
    with pytest.raises(AssertionError, match="Zeitachse"):
        course.check(0.71, 0.6925, "Zeitachse prüfen.", abs_tol=0.01)
    s = pd.Series([0.0, 0.5])
    assert course.check(s + 0.0005, s, rel_tol=0.0, abs_tol=1e-3)
    with pytest.raises(AssertionError):
        course.check(s + 0.01, s, rel_tol=0.0, abs_tol=1e-3)


# ------------------------------------------------------------- stored as JupyterLab saves it

CHAPTER_NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def test_language_info_is_what_the_course_kernel_reports():
    """ipykernel's language_info without the Python version, which differs between laptops."""
    from ipykernel.ipkernel import IPythonKernel

    expected = {k: v for k, v in IPythonKernel.language_info.items() if k != "version"}
    assert course.language_info() == expected
    assert course.CourseKernel.language_info == expected
    assert issubclass(course.CourseKernel, IPythonKernel)


def test_install_kernel_runs_the_course_kernel(tmp_path):
    import json

    from traitlets.utils.importstring import import_item

    folder = course.install_kernel(prefix=str(tmp_path))
    spec = json.loads((folder / "kernel.json").read_text("utf-8"))
    assert folder.name == "kundenwert" and spec["display_name"] == "Python (kundenwert)"
    assert spec["argv"][-1] == f"--IPKernelApp.kernel_class={course.KERNEL_CLASS}"
    assert import_item(course.KERNEL_CLASS) is course.CourseKernel
    course.install_kernel(prefix=str(tmp_path))  # again: the option once
    assert json.loads((folder / "kernel.json").read_text("utf-8"))["argv"].count(spec["argv"][-1]) == 1


def test_importing_check_stays_cheap():
    """Students run ``from helpers.course import check`` in many cells: no nbformat, no kernel."""
    import subprocess
    import sys

    code = "import sys, helpers.course; print(sorted(m for m in ('nbformat', 'ipykernel', 'nbclient') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("path", CHAPTER_NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_metadata_is_version_free(path):
    nb = nbformat.read(path, as_version=4)
    assert dict(nb.metadata) == {
        "kernelspec": {"display_name": "Python (kundenwert)", "language": "python", "name": "kundenwert"},
        "language_info": course.language_info(),
    }, f"{path.name}: python -m helpers.course normalize {path}"


@pytest.mark.parametrize("path", CHAPTER_NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_not_modified_by_opening_and_saving(path):
    """JupyterLab fills in kernelspec and ``language_info`` when the kernel starts and saves with
    ``nbformat.write`` (indent 1, final newline): a stored notebook must already look like that,
    otherwise it is marked modified on open and autosave rewrites the tracked file."""
    raw = path.read_text(encoding="utf-8")
    nb = nbformat.reads(raw, as_version=nbformat.NO_CONVERT)
    assert nbformat.writes(nb, version=nbformat.NO_CONVERT) + "\n" == raw, \
        f"{path.name}: nicht im Format von JupyterLab gespeichert – python -m helpers.course normalize {path}"
    assert nbformat.writes(course.normalize(nb)) + "\n" == raw, \
        f"{path.name}: Metadaten weichen ab – python -m helpers.course normalize {path}"


def test_cli_normalize_changes_metadata_only(tmp_path, nb):
    nb.metadata["language_info"] = {"name": "python"}
    path = tmp_path / "k.ipynb"
    path.write_text(nbformat.writes(nb), encoding="utf-8")  # no final newline either
    assert course.main(["normalize", str(path)]) == 0
    again = nbformat.read(path, as_version=4)
    assert again.metadata.language_info == course.language_info()
    assert again.metadata.kernelspec.name == "kundenwert"
    assert [c.source for c in again.cells] == [c.source for c in nb.cells]
    before = path.read_text(encoding="utf-8")
    assert course.main(["normalize", str(path)]) == 0 and path.read_text(encoding="utf-8") == before
