"""Chapters computed in a second process while the report's main process computes the models.

On large files the chapter results are the report's critical path, and one core computes them
while the chapter kernels mostly wait. The chapters that need nothing but the dataset and are
not on the model path (:data:`SLUGS`: data, economics, RFM) then run in a side process,
``python -m helpers.report.sidecar WORK_DIR``: it reads the stored dataset
(:func:`helpers.session.read_prepared`) and the config (``sidecar.json``), computes each chapter
with the same pure function (:func:`helpers.chapters.compute_chapter`), stores it atomically
(:func:`helpers.session.write_results`) and prints its slug. Meanwhile the main process computes
CLV, churn and the action plan; it waits for a side result only when a chapter depends on it.

If the side process fails, the main process computes the missing chapters itself, so a result
never depends on where it was computed (tests compare both ways on the sample).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

log = logging.getLogger(__name__)

SLUGS: tuple[str, ...] = ("data", "economics", "rfm")
"""Chapters the side process computes (no dependencies; off the CLV -> churn -> actions path)."""
MIN_LINES = 2_000_000
"""From this many kept lines on the side process pays. Below, the two chapter kernels keep the
second core busy anyway (measured at 1 M lines: no gain) and the side process costs a second copy
of the lines in memory; at 10 M lines the kernels mostly wait while the main process computes."""
CONFIG_FILE = "sidecar.json"


def wanted(n_lines: int, kernels: int) -> bool:
    """Whether a report of ``n_lines`` kept lines should compute :data:`SLUGS` in a side process:
    only for large files and when the report has a core to spare (``kernels`` >= 2; a batch worker
    sharing the machine gets one)."""
    return n_lines >= MIN_LINES and kernels >= 2


class SideProcess:
    """A running side process (:func:`start`); results arrive in the order of :data:`SLUGS`."""

    def __init__(self, proc: subprocess.Popen, work_dir: Path, slugs: tuple[str, ...],
                 on_done: Callable[[str], None] | None) -> None:
        self._proc, self._work, self.slugs, self._on_done = proc, work_dir, slugs, on_done
        self._done: set[str] = set()
        self._finished = False
        self._changed = threading.Condition()
        self._stderr: list[str] = []
        self._reader = threading.Thread(target=self._read, name="kundenwert-sidecar", daemon=True)
        self._reader.start()
        self._errors = threading.Thread(target=self._read_errors, daemon=True)
        self._errors.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            slug = line.strip()
            if slug in self.slugs:
                with self._changed:
                    self._done.add(slug)
                    self._changed.notify_all()
                if self._on_done is not None:
                    self._on_done(slug)
        self._proc.wait()
        with self._changed:
            self._finished = True
            self._changed.notify_all()

    def _read_errors(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            self._stderr.append(line.rstrip())

    def result(self, slug: str) -> Any | None:
        """The stored result of ``slug`` once the side process has written it; ``None`` when the
        side process ended without it (the caller computes it then)."""
        with self._changed:
            self._changed.wait_for(lambda: slug in self._done or self._finished)
            if slug not in self._done:
                tail = " | ".join(self._stderr[-3:])
                log.warning("Nebenprozess ohne Ergebnis für Kapitel „%s“ beendet (Exit-Code %s); das Kapitel "
                            "wird im Hauptprozess berechnet. Letzte Meldungen: %s", slug, self._proc.returncode, tail)
                return None
        from ..session import read_result

        return read_result(self._work, slug)

    def stop(self) -> None:
        """End the side process (the report failed or is done)."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._reader.join(timeout=5)


def start(work_dir: Path, settings: dict[str, Any], client_name: str,
          slugs: Iterable[str] = SLUGS, on_done: Callable[[str], None] | None = None) -> SideProcess:
    """Start computing ``slugs`` in a side process on the dataset stored in ``work_dir``;
    ``on_done(slug)`` is called (from a reader thread) as each result is stored."""
    work_dir = Path(work_dir)
    slugs = tuple(slugs)
    config = {"client_name": client_name, "settings": settings, "slugs": list(slugs)}
    (work_dir / CONFIG_FILE).write_text(json.dumps(config, ensure_ascii=False), "utf-8")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "helpers.report.sidecar", str(work_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return SideProcess(proc, work_dir, slugs, on_done)


def run(work_dir: Path, out=sys.stdout) -> None:
    """The side process: compute the configured chapters on the stored dataset, store each, print its slug."""
    from .. import chapters, fmt, session
    from ..config import ReportConfig

    config = json.loads((work_dir / CONFIG_FILE).read_text("utf-8"))
    cfg = ReportConfig.from_settings(config["client_name"], config["settings"])
    ds = session.read_prepared(work_dir)
    with fmt.use_currency(ds.currency):
        for slug in config["slugs"]:
            result = chapters.compute_chapter(slug, ds, cfg, {})
            session.write_results({slug: result}, work_dir)
            print(slug, file=out, flush=True)


if __name__ == "__main__":  # pragma: no cover - run as a process by start()
    run(Path(sys.argv[1]))
