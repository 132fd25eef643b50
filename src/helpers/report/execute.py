"""Execute chapter notebooks: the one executor of the project (report, handouts, notebook tests).

Chapters run in a shared nbclient kernel, in list order, with papermill-style parameter
injection. Why shared: starting a kernel and importing pandas, matplotlib, lifetimes and
scikit-learn costs seconds per chapter; sharing it pays that once. Before each chapter the
namespace is reset, so a chapter sees nothing of the previous one except already imported modules.

:func:`start_chapters` spreads the chapters over up to two kernels (two cores: the report's
chapters only read stored results, so they are independent), starts them at once in background
threads and lets them import the heavy modules (``WARMUP_SOURCE``) while the caller still loads and
computes; a ``gate`` holds each chapter until the caller has stored its result, so the first
chapters run while later ones are still being computed. On POSIX the kernel talks over Unix sockets (ZMQ ``ipc``), so no TCP
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
WARMUP_TAG = "kundenwert-warmup"
WARMUP_SOURCE = (
    "import importlib as _il, pkgutil as _pu\n"
    "import matplotlib.pyplot as _plt, helpers.session, helpers.report.display\n"
    "import helpers.narrative as _n, helpers.plotting as _p\n"
    "for _pkg in (_n, _p):\n"
    "    for _m in _pu.iter_modules(_pkg.__path__):\n"
    "        _il.import_module(f'{_pkg.__name__}.{_m.name}')\n"
    "del _il, _pu, _plt, _n, _p, _pkg, _m"
)
"""First cell of a report kernel: imports every module the chapters use (before the data is ready)."""
CHAPTER_COST = {"summary": 2.0, "data": 1.0, "economics": 3.0, "rfm": 3.0, "clv": 2.0, "churn": 3.0,
                "actions": 2.0, "appendix": 0.5}
"""Relative execution time of the report chapters (cell timings of the sample): balances kernels."""


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


class Cancelled(Exception):
    """The caller withdrew a gated run (its own step before the chapters failed)."""


def execute_chapters(
    chapters: Sequence[ChapterRun | tuple],
    parameters: Mapping[str, Any] | None,
    cwd: Path,
    on_chapter: Callable[[int], None] | None = None,
    timeout: int | None = None,
    skip_tags: frozenset[str] = frozenset(),
    gate: "Gate | None" = None,
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

    ``gate``: the kernel starts and runs :data:`WARMUP_SOURCE` at once, then waits before each
    chapter until ``gate.open(slug)`` or ``gate.open()`` (raises :class:`Cancelled` after
    ``gate.cancel()``).
    """
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbformat.v4 import new_code_cell, new_notebook

    require_kernel()
    runs = [ChapterRun(*c) for c in chapters]
    notebooks = [_load(run, parameters) for run in runs]
    merged = new_notebook(metadata={"kernelspec": dict(KERNELSPEC)})
    if gate is not None:
        merged.cells.append(new_code_cell(WARMUP_SOURCE, metadata={"tags": ["remove-cell", WARMUP_TAG]}))
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

    def chapter_of(index: int) -> int:  # the warm-up cell (before the first chapter) counts as chapter 0
        return max((i for i, s in enumerate(starts) if s <= index), default=0)

    def hook(cell, cell_index, **_: Any) -> None:
        if gate is not None and cell_index in starts:
            gate.wait(runs[starts.index(cell_index)].slug)
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
    except Cancelled:
        raise
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


class Gate:
    """Holds gated chapters until their result is ready (see :func:`execute_chapters`)."""

    def __init__(self) -> None:
        import threading

        self._changed = threading.Condition()
        self._open: set[str] = set()
        self._all = False
        self._cancelled = False

    def open(self, slug: str | None = None) -> None:
        """Let chapter ``slug`` (``None``: every chapter) start."""
        with self._changed:
            if slug is None:
                self._all = True
            else:
                self._open.add(slug)
            self._changed.notify_all()

    def cancel(self) -> None:
        with self._changed:
            self._cancelled = True
            self._changed.notify_all()

    def wait(self, slug: str) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._cancelled or self._all or slug in self._open)
            if self._cancelled:
                raise Cancelled()


def split_runs(runs: Sequence[ChapterRun], kernels: int, order: Sequence[str] | None = None
               ) -> list[list[ChapterRun]]:
    """``runs`` in up to ``kernels`` groups of similar cost (:data:`CHAPTER_COST`): taken in
    ``order`` (slugs, e.g. the order their results become ready; default: as given), each to the
    group with the least cost so far, and run in that order; empty groups are dropped."""
    rank = {slug: i for i, slug in enumerate(order or [])}
    ordered = sorted(runs, key=lambda r: rank.get(r.slug, len(rank)))
    groups: list[list[ChapterRun]] = [[] for _ in range(max(1, kernels))]
    load = [0.0] * len(groups)
    for run in ordered:
        k = load.index(min(load))
        groups[k].append(run)
        load[k] += CHAPTER_COST.get(run.slug, 1.0)
    return [g for g in groups if g]


class ChapterJob:
    """Chapters executing in background threads, one kernel per group (:func:`start_chapters`)."""

    def __init__(self, groups: list[list[ChapterRun]], threads: list[Any], errors: list[BaseException | None],
                 gate: Gate) -> None:
        self._groups, self._threads, self._errors, self.gate = groups, threads, errors, gate

    def ready(self, slug: str) -> None:
        """The result of chapter ``slug`` is stored: its notebook may run."""
        self.gate.open(slug)

    def cancel(self) -> None:
        """Withdraw the run (the caller's own step failed): kernels shut down, nothing is written."""
        self.gate.cancel()
        for t in self._threads:
            t.join()

    def wait(self) -> dict[str, Path]:
        """Let every chapter run, wait for all kernels; a failed chapter raises its German RenderError."""
        self.gate.open()
        for t in self._threads:
            t.join()
        failed = [e for e in self._errors if e is not None]
        if failed:
            raise failed[0]
        return {run.slug: run.output for group in self._groups for run in group}


def start_chapters(
    chapters: Sequence[ChapterRun | tuple],
    parameters: Mapping[str, Any] | None,
    cwd: Path,
    *,
    kernels: int = 2,
    order: Sequence[str] | None = None,
    on_chapter: Callable[[int], None] | None = None,
    timeout: int | None = None,
    skip_tags: frozenset[str] = frozenset(),
) -> ChapterJob:
    """Start executing ``chapters`` in up to ``kernels`` kernels now; they warm up and then run each
    chapter once :meth:`ChapterJob.ready` names it (all at :meth:`ChapterJob.wait`; none after
    :meth:`ChapterJob.cancel`). ``order``: slugs in the order their results become ready (see
    :func:`split_runs`). ``on_chapter(i)`` gets the index into ``chapters`` and may be called from
    several threads."""
    import threading

    runs = [ChapterRun(*c) for c in chapters]
    require_kernel()
    gate = Gate()
    groups = split_runs(runs, kernels, order)
    errors: list[BaseException | None] = [None] * len(groups)
    index = {run.slug: i for i, run in enumerate(runs)}

    def work(k: int) -> None:
        group = groups[k]
        notify = None if on_chapter is None else (lambda j: on_chapter(index[group[j].slug]))
        try:
            execute_chapters(group, parameters, cwd, on_chapter=notify, timeout=timeout,
                             skip_tags=skip_tags, gate=gate)
        except Cancelled:
            pass
        except BaseException as exc:  # re-raised by wait() in the caller's thread
            errors[k] = exc

    threads = [threading.Thread(target=work, args=(k,), name=f"kundenwert-kernel-{k}", daemon=True)
               for k in range(len(groups))]
    for t in threads:
        t.start()
    return ChapterJob(groups, threads, errors, gate)


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
