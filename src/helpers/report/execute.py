"""Execute the chapter notebooks (papermill parameter injection, one shared nbclient kernel).

The only module that runs notebooks. Why one kernel: starting a kernel and importing pandas,
matplotlib, lifetimes and scikit-learn costs several seconds per chapter; sharing it halves the
CPU time of a report. On POSIX the kernel talks over Unix sockets (ZMQ ``ipc``), so no TCP
port is opened at all; elsewhere ZMQ uses TCP on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

from ..exceptions import RenderError

KERNEL = "python3"


RESET_SOURCE = (
    "get_ipython().run_line_magic('reset', '-f')\n"
    "import matplotlib.pyplot as _plt\n_plt.close('all')\ndel _plt"
)
"""Runs before every chapter in the shared kernel: empty namespace, no open figures."""
RESET_TAG = "kundenwert-reset"


def execute_chapters(
    chapters: list[tuple[str, str, Path, Path]],
    parameters: Mapping[str, Any],
    cwd: Path,
    on_chapter: Callable[[int], None] | None = None,
) -> dict[str, Path]:
    """Execute several chapters in ONE kernel (imports are paid once), in list order.

    ``chapters``: ``(slug, title, notebook, output)``. Parameters are injected exactly like
    papermill does (a cell tagged ``injected-parameters`` after the ``parameters`` cell); before
    each chapter the kernel namespace is reset (``%reset -f``, figures closed), so a chapter sees
    nothing of the previous one except already imported modules. ``on_chapter(i)`` is called
    before chapter ``i`` (0-based) starts. Each executed chapter is written to its ``output``;
    on a cell error the partial chapter notebook is written and a German RenderError raised.
    """
    import nbformat
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbformat.v4 import new_code_cell, new_notebook
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    parts = []
    merged = new_notebook(metadata={"kernelspec": {"name": KERNEL, "display_name": "Python 3", "language": "python"}})
    starts: list[int] = []
    for slug, title, src, out in chapters:
        nb = load_notebook_node(str(src))  # papermill's loader adds the metadata it expects
        nb = parameterize_notebook(nb, dict(parameters), kernel_name=KERNEL, language="python")
        starts.append(len(merged.cells))
        merged.cells.append(new_code_cell(RESET_SOURCE, metadata={"tags": ["remove-cell", RESET_TAG]}))
        merged.cells.extend(nb.cells)
        parts.append((slug, title, src, out, nb))
    bounds = starts + [len(merged.cells)]

    def chapter_of(index: int) -> int:
        return max(i for i, s in enumerate(starts) if s <= index)

    def hook(cell, cell_index, **_: Any) -> None:
        if on_chapter is not None and cell_index in starts:
            on_chapter(starts.index(cell_index))

    def write(i: int, upto: int | None = None) -> None:
        slug, title, src, out, nb = parts[i]
        nb.cells = merged.cells[bounds[i] + 1 : bounds[i + 1] if upto is None else upto + 1]
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(out))

    ipc_dir = tempfile.mkdtemp(prefix="kw-") if os.name == "posix" else None
    km = AsyncKernelManager(kernel_name=KERNEL, **(
        {"transport": "ipc", "ip": os.path.join(ipc_dir, "k")} if ipc_dir else {}))
    client = NotebookClient(
        merged, km=km, kernel_name=KERNEL, resources={"metadata": {"path": str(cwd)}}, on_cell_execute=hook,
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
        slug, title, src, out, _ = parts[i]
        raise RenderError(
            f"Kapitel „{title}“ ({src.name}) ist mit einem Fehler abgebrochen: "
            f"{exc.ename}: {exc.evalue}. Das teilweise ausgeführte Notebook liegt unter {out}."
        ) from exc
    except Exception as exc:  # kernel died, timeout, ...
        i = chapter_of(failed_at[0]) if failed_at else 0
        title, src = parts[i][1], parts[i][2]
        raise RenderError(
            f"Kapitel „{title}“ ({src.name}) konnte nicht ausgeführt werden: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        if ipc_dir:
            shutil.rmtree(ipc_dir, ignore_errors=True)
    for i in range(len(parts)):
        write(i)
    return {slug: out for slug, _, _, out, _ in parts}
