"""Course mode: student and instructor versions of the chapter notebooks.

Cell tags (docs/architecture.md): ``exercise`` marks the task text and the student's code
scaffold, ``solution`` the model solution. The builder writes

- the **student version** (``build/kurs/studierende/``): solution cells removed, everything
  else unchanged;
- the **instructor version** (``build/kurs/lehrende/``): solutions kept.

In both versions every exercise *code* cell carries the tags ``skip-execution`` (honoured by
nbclient and papermill) and ``nbval-skip`` (honoured by ``pytest --nbval-lax``), because a
scaffold with ``...`` placeholders cannot run before the student has filled it in. Outputs and
execution counts are cleared; the notebooks declare the project's kernel ``kundenwert``. The
sample data the notebooks read via relative paths is copied next to the output folder, so
``build/kurs/`` is self-contained.

Usage::

    python -m helpers.course build [--out DIR] [--instructor]
    python -m helpers.course tag notebooks/05-abwanderung.ipynb   # add the skip tags in place
    python -m helpers.course normalize notebooks/*.ipynb          # metadata as JupyterLab saves it
    python -m helpers.course kernel [--user]                       # install the kernel "Python (kundenwert)"

Notebooks are stored as JupyterLab saves them (:func:`normalize`): kernelspec ``kundenwert``
(„Python (kundenwert)“), the ``language_info`` the kernel reports, JSON with indent 1 and a final
newline (``nbformat.write``). JupyterLab writes the kernel's ``language_info`` into the notebook as
soon as the kernel has started and marks the notebook modified if it differs (then autosave writes
into the tracked file). ipykernel reports the exact Python version there, which differs from laptop
to laptop; so the course kernel (:class:`CourseKernel`, installed by ``python -m helpers.course
kernel``, which ``make lab`` runs) reports the same ``language_info`` without the version, and the
notebooks store exactly that: no notebook is modified by opening it, on any Python version.

Notebooks are executed by :mod:`helpers.report.execute` (the one executor; it skips cells tagged
``skip-execution``); :func:`check` is the self-check students call after an exercise.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import copy
import math
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from typing import TYPE_CHECKING, Any

from .config import NOTEBOOK_DIR, PROJECT_ROOT

if TYPE_CHECKING:  # pragma: no cover
    from nbformat import NotebookNode

# Students import ``check`` from this module in the notebooks: keep its import cheap (nbformat,
# nbclient and ipykernel are imported where they are used).

EXERCISE = "exercise"
SOLUTION = "solution"
PARAMETERS = "parameters"
SKIP_TAGS: tuple[str, ...] = ("skip-execution", "nbval-skip")
"""Tags that make nbclient/papermill (``skip-execution``, :data:`helpers.report.execute.SKIP_TAG`) and
nbval (``nbval-skip``) skip a cell."""
KERNEL_CLASS = "helpers.course.CourseKernel"


def tags(cell) -> list[str]:
    """Tags of a notebook cell (empty list when none; as :func:`helpers.report.assemble.cell_tags`)."""
    return list(cell.get("metadata", {}).get("tags", []) or [])

BUILD_DIR = PROJECT_ROOT / "build" / "kurs"
STUDENT_DIR = BUILD_DIR / "studierende"
INSTRUCTOR_DIR = BUILD_DIR / "lehrende"

DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".parquet")


def has_tag(cell: NotebookNode, tag: str) -> bool:
    return tag in tags(cell)


def language_info() -> dict:
    """``language_info`` of the course notebooks: what the ``kundenwert`` kernel (:class:`CourseKernel`)
    reports to JupyterLab – ipykernel's, without the Python version (see module docstring)."""
    return {
        "codemirror_mode": {"name": "ipython", "version": 3},
        "file_extension": ".py",
        "mimetype": "text/x-python",
        "name": "python",
        "nbconvert_exporter": "python",
        "pygments_lexer": "ipython3",
    }


def normalize(nb: NotebookNode) -> NotebookNode:
    """Copy of ``nb`` with the notebook metadata JupyterLab writes after opening it with the
    ``kundenwert`` kernel (kernelspec and version-free ``language_info``); cells are not touched."""
    from .report.execute import KERNELSPEC

    nb = copy.deepcopy(nb)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = language_info()
    return nb


def __getattr__(name: str) -> Any:
    """:class:`CourseKernel`, defined on first use (importing ipykernel is not free)."""
    if name == "CourseKernel":
        from ipykernel.ipkernel import IPythonKernel

        class CourseKernel(IPythonKernel):
            """ipykernel's IPython kernel reporting :func:`language_info` (no Python version)."""

            language_info = language_info()

        CourseKernel.__module__, CourseKernel.__qualname__ = __name__, "CourseKernel"
        globals()[name] = CourseKernel
        return CourseKernel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def install_kernel(user: bool = False, prefix: str | None = None) -> Path:
    """Install the Jupyter kernel „Python (kundenwert)“ (name ``kundenwert``) for this Python, running
    :class:`CourseKernel`; into ``sys.prefix`` (the venv) unless ``user`` or ``prefix``. Returns its folder."""
    import json

    from ipykernel.kernelspec import install

    from .report.execute import KERNEL, KERNELSPEC

    option = f"--IPKernelApp.kernel_class={KERNEL_CLASS}"
    if user:
        from jupyter_core.paths import jupyter_data_dir

        existing = Path(jupyter_data_dir()) / "kernels" / KERNEL / "kernel.json"
    else:
        existing = Path(prefix or sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL / "kernel.json"
    try:  # already installed for this Python: leave the file alone (make lab runs this every time)
        spec = json.loads(existing.read_text("utf-8"))
        if (spec["argv"][0] == sys.executable and option in spec["argv"]
                and spec.get("display_name") == KERNELSPEC["display_name"]):
            return existing.parent
    except (OSError, ValueError, KeyError, IndexError):
        pass
    folder = Path(install(user=user, prefix=None if user else (prefix or sys.prefix), kernel_name=KERNEL,
                          display_name=KERNELSPEC["display_name"]))
    spec_file = folder / "kernel.json"
    spec = json.loads(spec_file.read_text("utf-8"))
    if option not in spec["argv"]:
        spec["argv"] = [a for a in spec["argv"] if not a.startswith("--IPKernelApp.kernel_class=")] + [option]
    spec_file.write_text(json.dumps(spec, indent=1) + "\n", "utf-8")
    return folder


def strip_outputs(nb: NotebookNode) -> NotebookNode:
    """Copy of ``nb`` without outputs, execution counts and execution timing metadata,
    declaring the ``kundenwert`` kernel (metadata as :func:`normalize` writes it)."""
    nb = normalize(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
    nb.metadata.pop("papermill", None)
    return nb


def mark_exercises(nb: NotebookNode) -> NotebookNode:
    """Copy of ``nb`` whose exercise code cells carry the :data:`SKIP_TAGS`."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code" and has_tag(cell, EXERCISE):
            cell.metadata["tags"] = tags(cell) + [t for t in SKIP_TAGS if not has_tag(cell, t)]
    return nb


def instructor_version(nb: NotebookNode) -> NotebookNode:
    """Instructor notebook: solutions kept, exercise scaffolds marked as skipped, no outputs."""
    return mark_exercises(strip_outputs(nb))


def student_version(nb: NotebookNode) -> NotebookNode:
    """Student notebook: :func:`instructor_version` without the cells tagged ``solution``."""
    nb = instructor_version(nb)
    nb.cells = [c for c in nb.cells if not has_tag(c, SOLUTION)]
    return nb


def version(nb: NotebookNode, instructor: bool) -> NotebookNode:
    return instructor_version(nb) if instructor else student_version(nb)


# --------------------------------------------------------------------------- static checks


def parameter_values(nb: NotebookNode) -> dict[str, object]:
    """Literal values assigned in the ``parameters`` cell (names -> Python values)."""
    for cell in nb.cells:
        if cell.cell_type == "code" and has_tag(cell, PARAMETERS):
            values: dict[str, object] = {}
            for node in ast.parse(_python_only(cell.source)).body:
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    try:
                        values[node.targets[0].id] = ast.literal_eval(node.value)
                    except ValueError:
                        values[node.targets[0].id] = ast.unparse(node.value)
            return values
    return {}


def _python_only(source: str) -> str:
    """Drop IPython magics/shell lines so ``ast`` can parse a cell."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names a cell binds at top level, names it reads) – a conservative approximation."""
    tree = ast.parse(_python_only(source))
    bound: set[str] = set()
    read: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, (ast.Store, ast.Del)) else read).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound.add((alias.asname or alias.name).split(".")[0])
    return bound, read


def solution_leaks(nb: NotebookNode) -> list[tuple[int, str]]:
    """Names that only ``solution`` (or ``exercise``) cells bind but a later normal cell reads.

    Returns ``(cell index, name)`` pairs; an empty list means the student version (solution
    cells removed) can run top to bottom. Exercise cells are skipped on execution, so names
    bound only there count as missing too. A name that the reading cell binds itself (e.g.
    its own ``import math``) is assumed to be bound before use.
    """
    available: set[str] = set(dir(builtins)) | {"display", "get_ipython"}
    only_in_solutions: set[str] = set()
    leaks: list[tuple[int, str]] = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        bound, read = _names(cell.source)
        if has_tag(cell, SOLUTION) or has_tag(cell, EXERCISE):
            only_in_solutions |= bound - available
            continue
        leaks += [(i, name) for name in sorted((read - bound) & only_in_solutions)]
        available |= bound
        only_in_solutions -= bound
    return leaks


# --------------------------------------------------------------------------- building


@dataclass(frozen=True)
class BuildResult:
    notebooks: tuple[Path, ...]
    data_files: tuple[Path, ...]


def _chapter_paths() -> list[Path]:
    from .chapters import CHAPTERS

    return [ch.path for ch in CHAPTERS]


def _copy_relative_data(nb: NotebookNode, source_dir: Path, out_dir: Path) -> list[Path]:
    """Copy the file ``data_path`` points to so the same relative path works from ``out_dir``."""
    data_path = parameter_values(nb).get("data_path")
    if not isinstance(data_path, str) or Path(data_path).is_absolute():
        return []
    src = (source_dir / data_path).resolve()
    dst = (out_dir / data_path).resolve()
    if not src.is_file() or src == dst:
        return []
    copied = []
    # Copy the data files of that folder (and its data dictionary, unless it would land
    # next to the notebooks).
    for f in sorted(src.parent.iterdir()):
        target = dst.parent / f.name
        wanted = f.suffix.lower() in DATA_SUFFIXES or (f.name == "README.md" and dst.parent != out_dir.resolve())
        if f.is_file() and wanted and not (target.exists() and target.stat().st_size == f.stat().st_size
                                and target.stat().st_mtime >= f.stat().st_mtime):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, target)
            copied.append(target)
    return copied


def build(
    out_dir: Path | None = None,
    instructor: bool = False,
    notebooks: Sequence[Path] | None = None,
) -> BuildResult:
    """Write the student (or instructor) version of every chapter notebook to ``out_dir``.

    ``notebooks`` defaults to all chapter notebooks of :data:`helpers.chapters.CHAPTERS`; a missing
    notebook raises ``FileNotFoundError`` (German message).
    """
    out_dir = Path(out_dir or (INSTRUCTOR_DIR if instructor else STUDENT_DIR))
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    data: list[Path] = []
    for path in notebooks if notebooks is not None else _chapter_paths():
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"Kapitel-Notebook nicht gefunden: {path}")
        import nbformat

        nb = nbformat.read(path, as_version=4)
        out = version(nb, instructor)
        target = out_dir / path.name
        nbformat.write(out, target)
        written.append(target)
        data += _copy_relative_data(nb, path.parent, out_dir)
    readme = NOTEBOOK_DIR / "README.md"
    if readme.exists() and notebooks is None:
        shutil.copy2(readme, out_dir / "README.md")
    return BuildResult(tuple(written), tuple(data))


# --------------------------------------------------------------------------- self-check


def check(actual: object, expected: object, hint: str = "", rel_tol: float = 1e-6,
          abs_tol: float = 1e-12) -> bool:
    """Self-check for exercises and walk-throughs: compare a student's answer with the expected value.

    Numbers are compared with relative tolerance ``rel_tol`` (or absolute tolerance ``abs_tol``,
    e.g. ``abs_tol=0.01`` for "the same ROC AUC within 0,01"); pandas objects with
    ``pandas.testing`` (values only, ``rtol=rel_tol``, ``atol=abs_tol``); anything else with ``==``.
    Prints a German confirmation, or raises ``AssertionError`` with the German ``hint``.
    """
    import pandas as pd

    ok: bool
    if actual is Ellipsis:
        raise AssertionError("Die Lücke „...“ ist noch nicht ausgefüllt. " + hint)
    if isinstance(expected, (pd.Series, pd.DataFrame)):
        try:
            if isinstance(expected, pd.Series):
                pd.testing.assert_series_equal(actual, expected, rtol=rel_tol, atol=abs_tol, check_names=False,
                                               check_dtype=False, check_index_type=False)
            else:
                pd.testing.assert_frame_equal(actual, expected, rtol=rel_tol, atol=abs_tol, check_dtype=False,
                                              check_index_type=False)
            ok = True
        except (AssertionError, TypeError):
            ok = False
    elif isinstance(expected, (int, float)) and not isinstance(expected, bool):
        try:
            ok = math.isclose(float(actual), float(expected), rel_tol=rel_tol, abs_tol=abs_tol)
        except (TypeError, ValueError):
            ok = False
    else:
        ok = bool(actual == expected)
    if not ok:
        raise AssertionError("Noch nicht richtig. " + hint if hint else "Noch nicht richtig.")
    print("Richtig – gut gemacht!")
    return True


# --------------------------------------------------------------------------- CLI


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.course",
        description="Kursversionen der Kapitel-Notebooks erzeugen.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="Studierenden- oder Lehrendenversion schreiben")
    b.add_argument("--out", type=Path, default=None,
                   help="Zielordner (Standard: build/kurs/studierende bzw. build/kurs/lehrende)")
    b.add_argument("--instructor", "--lehrende", action="store_true",
                   help="Lehrendenversion mit Musterlösungen erzeugen")
    t = sub.add_parser("tag", help="Übungs-Codezellen in Notebooks mit skip-execution/nbval-skip markieren")
    t.add_argument("paths", nargs="+", type=Path)
    n = sub.add_parser("normalize", help="Notebook-Metadaten so speichern, wie JupyterLab sie schreibt "
                                         "(sonst gilt ein Notebook beim Öffnen als geändert)")
    n.add_argument("paths", nargs="+", type=Path)
    k = sub.add_parser("kernel", help="Kernel „Python (kundenwert)“ installieren (meldet keine Python-Version, "
                                      "damit Notebooks beim Öffnen nicht als geändert gelten)")
    k.add_argument("--user", action="store_true", help="für den Benutzer statt in die aktive Umgebung")
    args = parser.parse_args(list(argv) if argv is not None else None)
    import nbformat

    if args.command == "kernel":
        print(f"Kernel „Python (kundenwert)“ installiert: {install_kernel(user=args.user)}")
        return 0
    if args.command == "normalize":
        for path in args.paths:
            raw = path.read_text(encoding="utf-8")
            text = nbformat.writes(normalize(nbformat.reads(raw, as_version=nbformat.NO_CONVERT))) + "\n"
            if text != raw:
                path.write_text(text, encoding="utf-8")
                print(f"normalisiert: {path}")
        return 0
    if args.command == "tag":
        for path in args.paths:
            nb = nbformat.read(path, as_version=4)
            marked = mark_exercises(nb)
            if marked != nb:
                nbformat.write(marked, path)
                print(f"markiert: {path}")
        return 0
    try:
        result = build(args.out, instructor=args.instructor)
    except FileNotFoundError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if not result.notebooks:
        print("Keine Kapitel-Notebooks in notebooks/ gefunden.", file=sys.stderr)
        return 1
    target = result.notebooks[0].parent
    label = "Lehrendenversion" if args.instructor else "Studierendenversion"
    print(f"{label}: {len(result.notebooks)} Notebooks in {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
