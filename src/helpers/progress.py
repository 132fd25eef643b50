"""Live progress display of a batch run on stderr (German text).

A terminal (TTY) gets a block of lines that is redrawn in place: one header line with
done/total, failures, skipped clients and the estimated remaining time, then one line per
running client with its current chapter. Anything else (log files, CI) gets plain lines,
one per event, so the output stays readable when redirected.

Times are seconds (``time.monotonic``); the clock is injectable for tests.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Callable, TextIO

from . import fmt

STATUS_OK = "OK"
STATUS_FAILED = "Fehler"
STATUS_SKIPPED = "übersprungen"


def format_duration(seconds: float | None) -> str:
    """German duration: ``7.26`` -> ``"7,3 s"``, ``83`` -> ``"1:23 min"``, ``3723`` -> ``"1:02:03 h"``."""
    if seconds is None or seconds != seconds:
        return fmt.MISSING
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{fmt.number(seconds, 1)}\u00a0s"
    total = int(round(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}:{m:02d}:{s:02d}\u00a0h"
    return f"{m}:{s:02d}\u00a0min"


def estimate_eta(
    finished_durations: list[float], running_elapsed: list[float], queued: int, workers: int
) -> float | None:
    """Remaining wall time in seconds, or ``None`` before the first client has finished.

    Every client is assumed to take the mean duration of the finished (built) clients; a
    running client still needs ``mean - elapsed`` (at least 0). The remaining work is shared
    by ``workers`` parallel workers (at most as many as there are clients left).
    """
    if not finished_durations:
        return None
    mean = sum(finished_durations) / len(finished_durations)
    left = sum(max(mean - e, 0.0) for e in running_elapsed) + queued * mean
    parallel = max(1, min(workers, len(running_elapsed) + queued))
    return left / parallel


@dataclass
class _Running:
    name: str
    started: float
    chapter: str = ""
    index: int = 0
    total: int = 0


@dataclass
class ProgressDisplay:
    """Collects batch events and writes them to ``stream``.

    ``total``: clients in the batch; ``workers``: parallel worker processes.
    ``tty``: ``None`` = ``stream.isatty()``.
    """

    total: int
    workers: int = 1
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    tty: bool | None = None
    clock: Callable[[], float] = time.monotonic
    done: int = 0
    failed: int = 0
    skipped: int = 0
    durations: list[float] = field(default_factory=list)
    running: dict[str, _Running] = field(default_factory=dict)
    _drawn: int = 0
    _last_draw: float = float("-inf")

    def __post_init__(self) -> None:
        if self.tty is None:
            isatty = getattr(self.stream, "isatty", None)
            self.tty = bool(isatty and isatty())

    # ------------------------------------------------------------------ events
    def client_started(self, key: str, name: str) -> None:
        self.running[key] = _Running(name=name, started=self.clock())
        if not self.tty:
            self._line(f"{self._counter()} {name}: gestartet")
        self.refresh(force=True)

    def chapter(self, key: str, title: str, index: int, total: int) -> None:
        """``index`` is 1-based (1..total) as in the pipeline's progress callback."""
        run = self.running.get(key)
        if run is None:
            return
        run.chapter, run.index, run.total = title, index, total
        if not self.tty:
            self._line(f"{self._counter()} {run.name}: Kapitel {index}/{total} – {title}")
        self.refresh(force=True)

    def client_finished(self, key: str, name: str, status: str, duration: float | None = None,
                        message: str = "") -> None:
        run = self.running.pop(key, None)
        self.done += 1
        if status == STATUS_FAILED:
            self.failed += 1
        elif status == STATUS_SKIPPED:
            self.skipped += 1
        if status != STATUS_SKIPPED and duration is not None:
            self.durations.append(duration)
        if not self.tty:
            text = f"{self._counter()} {name}: {status}"
            if status != STATUS_SKIPPED:
                text += f" nach {format_duration(duration)}"
            if message:
                text += f" – {message.splitlines()[0] if message.splitlines() else message}"
            eta = self.eta()
            if eta is not None and self.done < self.total:
                text += f" (Restzeit ca. {format_duration(eta)})"
            self._line(text)
        elif run is not None or status == STATUS_SKIPPED:
            self._clear()
            extra = f": {message.splitlines()[0]}" if message.strip() else ""
            self._write(f"{name}: {status}"
                        + ("" if status == STATUS_SKIPPED else f" ({format_duration(duration)})")
                        + extra + "\n")
        self.refresh(force=True)

    # ------------------------------------------------------------------ output
    def eta(self) -> float | None:
        now = self.clock()
        queued = self.total - self.done - len(self.running)
        return estimate_eta(self.durations, [now - r.started for r in self.running.values()],
                            max(queued, 0), self.workers)

    def header(self) -> str:
        text = f"Berichte: {self.done}/{self.total} fertig"
        if self.failed:
            text += f", {self.failed} mit Fehler"
        if self.skipped:
            text += f", {self.skipped} übersprungen"
        eta = self.eta()
        if self.done < self.total:
            text += " · Restzeit " + ("ca. " + format_duration(eta) if eta is not None else "wird geschätzt …")
        return text

    def lines(self) -> list[str]:
        """The block shown on a terminal: header plus one line per running client."""
        now = self.clock()
        out = [self.header()]
        for run in self.running.values():
            where = (f"Kapitel {run.index}/{run.total}: {run.chapter}" if run.total
                     else "Daten laden und prüfen")
            out.append(f"  ▸ {run.name} – {where} ({format_duration(now - run.started)})")
        return out

    def refresh(self, force: bool = False) -> None:
        """Redraw the terminal block (at most twice a second unless ``force``)."""
        if not self.tty:
            return
        now = self.clock()
        if not force and now - self._last_draw < 0.5:
            return
        self._last_draw = now
        self._clear()
        block = self.lines()
        self._write("\n".join(block) + "\n")
        self._drawn = len(block)

    def close(self) -> None:
        """Remove the live block (the summary table follows)."""
        if self.tty:
            self._clear()
        self.stream.flush()

    def _counter(self) -> str:
        return f"[{self.done}/{self.total}]"

    def _clear(self) -> None:
        if self._drawn:
            # cursor up to the first line of the block, clear to the end of the screen
            self._write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0

    def _line(self, text: str) -> None:
        self._write(text + "\n")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
