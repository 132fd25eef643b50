"""Execute chapter notebooks: the one executor of the project (report, handouts, notebook tests).

Chapters run in ONE shared nbclient kernel, in list order, with papermill-style parameter
injection. Why one kernel: starting a kernel and importing pandas, matplotlib, lifetimes and
scikit-learn costs several seconds per chapter; sharing it halves the CPU time of a report.
Before each chapter the namespace is reset, so a chapter sees nothing of the previous one except
already imported modules. On POSIX the kernel talks over Unix sockets (ZMQ ``ipc``), so no TCP
port is opened at all; elsewhere ZMQ uses TCP on 127.0.0.1.

The kernel is the project's own ``kundenwert`` kernel (``make setup`` installs it into the venv);
cells tagged ``skip-execution`` (exercise scaffolds) are skipped.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import nbformat
from nbformat import NotebookNode

from ..exceptions import RenderError

KERNEL = "kundenwert"
KERNELSPEC = {"name": KERNEL, "display_name": "Python (kundenwert)", "language": "python"}
"""Kernelspec every chapter notebook declares (and the course versions keep)."""
SKIP_TAG = "skip-execution"
"""Cells with this tag are not executed (nbclient/papermill convention)."""

RESET_SOURCE = (
    "get_ipython().run_line_magic('reset', '-f')\n"
    "import matplotlib.pyplot as _plt\n_plt.close('all')\ndel _plt"
)
"""Runs before every chapter in the shared kernel: empty namespace, no open figures."""
RESET_TAG = "kundenwert-reset"
REPORT_SKIP_TAGS = frozenset({"teaching", "exercise", "solution"})
"""Course cells the client report does not run."""


class ChapterRun(NamedTuple):
    """One notebook to execute: ``source`` (file or notebook object) -> executed copy at ``output``."""

    slug: str
    title: str
    source: Path | NotebookNode
    output: Path


@dataclass(frozen=True)
class CellTiming:
    """Wall-clock duration of one executed code cell (from nbclient's timing metadata)."""

    index: int
    seconds: float
    first_line: str


def require_kernel(name: str = KERNEL) -> None:
    """Raise a German RenderError when the Jupyter kernel ``name`` is not installed."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise RenderError(
            f"Der Jupyter-Kernel „{name}“ ist nicht installiert. Bitte im Projektordner "
            "„make setup“ ausführen (installiert den Kernel „Python (kundenwert)“ in .venv)."
        ) from None


def _source_name(run: ChapterRun) -> str:
    return run.source.name if isinstance(run.source, Path) else f"{run.slug}.ipynb"


def _load(run: ChapterRun, parameters: Mapping[str, Any] | None) -> NotebookNode:
    from papermill.parameterize import parameterize_notebook

    if isinstance(run.source, (str, Path)):
        nb = nbformat.read(str(run.source), as_version=4)
    else:
        nb = copy.deepcopy(run.source)
    if parameters is None:
        return nb
    nb.metadata.setdefault("papermill", {"parameters": {}})  # what papermill's loader adds
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
    return parameterize_notebook(nb, dict(parameters), kernel_name=KERNEL, language="python")


def execute_chapters(
    chapters: Sequence[ChapterRun | tuple],
    parameters: Mapping[str, Any] | None,
    cwd: Path,
    on_chapter: Callable[[int], None] | None = None,
    timeout: int | None = None,
    skip_tags: frozenset[str] = frozenset(),
) -> dict[str, Path]:
    """Execute several chapters in ONE kernel (imports are paid once), in list order.

    Code cells with a tag in ``skip_tags`` are not run (the client report skips the course's
    ``teaching``/``exercise``/``solution`` cells: their output never reaches the PDF, and report
    cells never depend on them).

    ``parameters`` are injected exactly like papermill does (a cell tagged ``injected-parameters``
    after the ``parameters`` cell); ``None`` runs the notebooks with their default parameters
    (course handouts). ``on_chapter(i)`` is called before chapter ``i`` (0-based) starts;
    ``timeout`` limits each cell (seconds, ``None`` = no limit). Each executed chapter is written
    to its ``output``; on a cell error the partial chapter notebook is written and a German
    RenderError raised. Returns ``{slug: output}``.
    """
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbformat.v4 import new_code_cell, new_notebook

    require_kernel()
    runs = [ChapterRun(*c) for c in chapters]
    notebooks = [_load(run, parameters) for run in runs]
    merged = new_notebook(metadata={"kernelspec": dict(KERNELSPEC)})
    starts: list[int] = []
    for nb in notebooks:
        for cell in nb.cells:
            tags = cell.get("metadata", {}).get("tags", [])
            if cell.cell_type == "code" and skip_tags.intersection(tags) and SKIP_TAG not in tags:
                cell.metadata["tags"] = [*tags, SKIP_TAG]
        starts.append(len(merged.cells))
        merged.cells.append(new_code_cell(RESET_SOURCE, metadata={"tags": ["remove-cell", RESET_TAG]}))
        merged.cells.extend(nb.cells)
    bounds = starts + [len(merged.cells)]

    def chapter_of(index: int) -> int:
        return max(i for i, s in enumerate(starts) if s <= index)

    def hook(cell, cell_index, **_: Any) -> None:
        if on_chapter is not None and cell_index in starts:
            on_chapter(starts.index(cell_index))

    def write(i: int, upto: int | None = None) -> None:
        nb = notebooks[i]
        nb.cells = merged.cells[bounds[i] + 1 : bounds[i + 1] if upto is None else upto + 1]
        nb.metadata["kernelspec"] = dict(KERNELSPEC)
        runs[i].output.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(runs[i].output))

    ipc_dir = tempfile.mkdtemp(prefix="kw-") if os.name == "posix" else None
    km = AsyncKernelManager(kernel_name=KERNEL, **(
        {"transport": "ipc", "ip": os.path.join(ipc_dir, "k")} if ipc_dir else {}))
    client = NotebookClient(
        merged, km=km, kernel_name=KERNEL, timeout=timeout, skip_cells_with_tag=SKIP_TAG,
        resources={"metadata": {"path": str(cwd)}}, on_cell_execute=hook,
    )
    failed_at: list[int] = []

    def track(cell, cell_index, **_: Any) -> None:
        failed_at[:] = [cell_index]

    client.on_cell_start = track
    try:
        client.execute(cleanup_kc=True)
    except CellExecutionError as exc:
        i = chapter_of(failed_at[0]) if failed_at else 0
        for j in range(i):
            write(j)
        write(i, failed_at[0] if failed_at else None)
        raise RenderError(
            f"Kapitel „{runs[i].title}“ ({_source_name(runs[i])}) ist mit einem Fehler abgebrochen: "
            f"{exc.ename}: {exc.evalue}. Das teilweise ausgeführte Notebook liegt unter {runs[i].output}."
        ) from exc
    except Exception as exc:  # kernel died, timeout, ...
        i = chapter_of(failed_at[0]) if failed_at else 0
        raise RenderError(
            f"Kapitel „{runs[i].title}“ ({_source_name(runs[i])}) konnte nicht ausgeführt werden: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    finally:
        if ipc_dir:
            shutil.rmtree(ipc_dir, ignore_errors=True)
    for i in range(len(runs)):
        write(i)
    return {run.slug: run.output for run in runs}


def execute_notebook(
    source: Path | NotebookNode,
    output: Path,
    cwd: Path,
    parameters: Mapping[str, Any] | None = None,
    title: str | None = None,
    timeout: int | None = None,
) -> NotebookNode:
    """One notebook through :func:`execute_chapters`; returns the executed notebook (also at ``output``)."""
    name = Path(source).stem if isinstance(source, (str, Path)) else Path(output).stem
    run = ChapterRun(name, title or name, Path(source) if isinstance(source, str) else source, Path(output))
    execute_chapters([run], parameters, cwd=cwd, timeout=timeout)
    return nbformat.read(str(output), as_version=4)


def cell_timings(nb: NotebookNode) -> list[CellTiming]:
    """Durations of the executed code cells of ``nb`` (cells skipped or not run have none)."""
    timings = []
    for i, cell in enumerate(nb.cells):
        execution = cell.get("metadata", {}).get("execution", {})
        start, end = execution.get("iopub.execute_input"), execution.get("shell.execute_reply")
        if cell.cell_type != "code" or not start or not end:
            continue
        seconds = (_timestamp(end) - _timestamp(start)).total_seconds()
        first = next((ln for ln in cell.source.splitlines() if ln.strip() and not ln.startswith("#|")), "")
        timings.append(CellTiming(i, max(0.0, seconds), first[:60]))
    return timings


def _timestamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
