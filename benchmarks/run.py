"""Scale benchmark of the kundenwert report: ``make benchmark`` (= ``.venv/bin/python benchmarks/run.py``).

For every size (order lines, made with the seeded sample generator ``helpers.generate``) the
full report is built once in a fresh child process and timed per stage (load + validate,
each chapter, assembly + PDF) from the pipeline's progress callback and the executed
notebooks' papermill metadata. Peak memory is measured twice: ``getrusage`` (child process
+ its largest kernel, an upper bound because kernels run one after another) and by sampling
the resident memory of the whole process tree from ``/proc`` every 0.2 s.

The CLV stage is compared with the straightforward approach (``lifetimes`` on all customers),
and batch throughput is measured with 1 and 2 workers. Results go to ``benchmarks/results/``
(``results.md``, ``results.json``, ``scaling.png``). Generated data is cached outside the repo.

Usage::

    python benchmarks/run.py                       # sample, 10k, 100k, 1M, 10M + CLV + batch
    python benchmarks/run.py --sizes 10k,100k      # a subset
    python benchmarks/run.py --sizes 1M --no-batch --naive-timeout 60
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"
DEFAULT_CACHE = Path(os.environ.get("KUNDENWERT_BENCH_CACHE", "/tmp/kundenwert-benchmark"))
DEFAULT_SIZES = "sample,10k,100k,1M,10M"
LOAD_STAGE = "Laden, Prüfen, Aufbereiten"
PDF_STAGE = "Zusammenstellen und PDF"
COMPUTE_STAGE = "Kennzahlen aller Kapitel berechnen"
LARGE_TEXT_MB = 4096
"""Setting data.max_text_mb for every benchmark report (the 10 M file exceeds the default)."""
CHAPTERS_STAGE = "Kapitel-Notebooks ausführen (2 Kernel, gesamt)"


# ------------------------------------------------------------------------- helpers


def parse_size(label: str) -> int | None:
    """``"10k"`` -> 10000, ``"1M"`` -> 1000000; ``"sample"`` -> None (the shipped sample file)."""
    label = label.strip()
    if label.lower() in ("sample", "beispiel"):
        return None
    mult = {"k": 1_000, "m": 1_000_000}.get(label[-1].lower(), 1)
    number = label[:-1] if mult > 1 else label
    return int(float(number.replace("_", "")) * mult)


def count_lines(path: Path) -> int:
    """Data rows of a CSV file (lines minus the header)."""
    n = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            n += block.count(b"\n")
    return max(n - 1, 0)


def tree_rss_bytes(root: int) -> int:
    """Sum of the resident memory of ``root`` and all its descendants (Linux ``/proc``)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    page = os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            pass
        stack.extend(children.get(pid, ()))
    return total


class TreeSampler(threading.Thread):
    """Samples :func:`tree_rss_bytes` of a process every ``interval`` seconds; ``peak`` in bytes."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, tree_rss_bytes(self.pid))
            self._stop_event.wait(self.interval)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


def run_child(args: list[str], timeout: float | None = None,
              command: list[str] | None = None) -> tuple[dict | None, float, int, str]:
    """Run ``python benchmarks/run.py <args>`` (or ``command``) and return (JSON result, wall s, tree
    peak bytes, stderr tail).

    The child prints its result as the last stdout line (JSON). ``None`` on timeout/failure.
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(command or [sys.executable, __file__, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        timed_out = True
    wall = time.perf_counter() - t0
    peak = sampler.stop()
    result = None
    lines = [ln for ln in out.splitlines() if ln.strip()]
    if command is not None:  # a foreign script: its stdout, not JSON
        return ({"stdout": out[-2000:]} if proc.returncode == 0 and not timed_out else None), wall, peak, \
            ("timeout" if timed_out else err[-3000:])
    if (proc.returncode == 0 or timed_out) and lines:
        try:
            result = json.loads(lines[-1])
        except ValueError:
            result = None
    return result, wall, peak, "timeout" if timed_out else err[-3000:]


def machine_info() -> dict:
    """CPU model, cores, RAM, OS, Python and package versions."""
    from importlib.metadata import PackageNotFoundError, version

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = int(line.split()[1]) * 1024
    except OSError:
        pass
    pkgs = {}
    for name in ("kundenwert", "pandas", "numpy", "scipy", "lifetimes", "scikit-learn", "matplotlib",
                 "papermill", "pyarrow", "typst", "pypandoc-binary"):
        try:
            pkgs[name] = version(name)
        except PackageNotFoundError:
            pkgs[name] = None
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    return {"cpu": cpu or platform.processor(), "cores": cores, "ram_gb": round(ram / 2**30, 1),
            "os": platform.platform(), "python": platform.python_version(), "packages": pkgs}


# ------------------------------------------------------------------------- child modes


def _ts(text: str) -> float:
    return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()


def _cell_times(cell) -> tuple[float | None, float | None]:
    """(start, end) epoch seconds of a cell executed by nbclient (``metadata.execution``)."""
    ex = cell.get("metadata", {}).get("execution", {})
    start = ex.get("iopub.execute_input") or ex.get("iopub.status.busy")
    end = ex.get("shell.execute_reply") or ex.get("iopub.status.idle")
    try:
        return (_ts(start) if start else None, _ts(end) if end else None)
    except ValueError:
        return None, None


def _child_report(csv: str, out_dir: str, client: str, engine: str) -> dict:
    """Build one report and time its stages (runs in a fresh process)."""
    import nbformat

    from helpers.chapters import CHAPTERS
    from helpers.config import ReportConfig
    from helpers.report.pipeline import build_report

    marks: list[tuple[str, float]] = []

    def progress(_client, title, i, n):
        marks.append((title, time.time()))

    # 10 M lines are about 600 MB of text: above the default memory guard of 512 MB, which a
    # consultant raises with --set data.max_text_mb=… (the German error says so)
    cfg = ReportConfig.from_settings(client, {"data.max_text_mb": LARGE_TEXT_MB})
    t0 = time.time()
    error = None
    pdf = None
    try:
        pdf = Path(build_report(Path(csv), cfg, Path(out_dir), engine=engine, progress=progress))
    except Exception as exc:  # noqa: BLE001 - record and report
        error = f"{type(exc).__name__}: {exc}"
    t_end = time.time()
    ru_self = resource.getrusage(resource.RUSAGE_SELF)
    ru_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    self_kb, child_kb = ru_self.ru_maxrss, ru_children.ru_maxrss
    cpu_s = ru_self.ru_utime + ru_self.ru_stime + ru_children.ru_utime + ru_children.ru_stime

    client_dir = pdf.parent if pdf else None
    if client_dir is None:
        cands = sorted(Path(out_dir).glob("*/notebooks"))
        client_dir = cands[0].parent if cands else Path(out_dir)
    stages: list[dict] = []
    cells: list[dict] = []
    # Chapters run in two kernels and start while later results are still computed (pipeline), so
    # the stages overlap: load (start -> compute step), compute (-> last stored result), each
    # chapter (its first cell start -> last cell end), chapters overall, assembly + PDF (-> end).
    compute_start = marks[0][1] if marks else None
    results_dir = client_dir / "work" / "results"
    stored = [f.stat().st_mtime for f in results_dir.glob("*.pkl")] if results_dir.is_dir() else []
    if compute_start is not None:
        stages.append({"name": LOAD_STAGE, "seconds": compute_start - t0})
        if stored:
            stages.append({"name": COMPUTE_STAGE, "seconds": max(max(stored) - compute_start, 0.0)})
    spans: list[tuple[float, float]] = []
    for ch in CHAPTERS:
        path = client_dir / "notebooks" / ch.notebook
        if not path.exists():
            continue
        nb = nbformat.read(path, as_version=4)
        times = [_cell_times(c) for c in nb.cells]
        starts = [a for a, _ in times if a is not None]
        ends = [b for _, b in times if b is not None]
        if starts and ends:
            spans.append((min(starts), max(ends)))
            stages.append({"name": ch.title, "seconds": max(ends) - min(starts)})
        for idx, cell in enumerate(nb.cells):
            start_c, end_c = _cell_times(cell)
            if start_c is not None and end_c is not None:
                first = next((ln for ln in cell.source.splitlines() if ln.strip() and not ln.startswith("#|")), "")
                cells.append({"notebook": ch.notebook, "cell": idx, "seconds": end_c - start_c, "source": first[:90]})
    if spans:
        stages.append({"name": CHAPTERS_STAGE, "seconds": max(b for _, b in spans) - min(a for a, _ in spans)})
    if pdf is not None:
        last = max((b for _, b in spans), default=compute_start or t0)
        stages.append({"name": PDF_STAGE, "seconds": max(t_end - last, 0.0)})
    cells.sort(key=lambda c: -c["seconds"])

    kept, customers = None, None
    parquet = client_dir / "work" / "transactions.parquet"
    if parquet.exists():
        import pyarrow.parquet as pq

        kept = pq.ParquetFile(parquet).metadata.num_rows
        customers = len(pq.read_table(parquet, columns=["customer_id"]).column(0).unique())
    return {"total_s": t_end - t0, "cpu_s": cpu_s, "stages": stages, "slowest_cells": cells[:8], "error": error,
            "pdf": str(pdf) if pdf else None, "kept_lines": kept, "customers": customers,
            "work": str(parquet) if parquet.exists() else None,
            "peak_rss_self_mb": self_kb / 1024, "peak_rss_largest_child_mb": child_kb / 1024}


def _child_clv(kind: str, parquet: str, end: str) -> dict:
    """Time the CLV stage on the prepared transactions: ours (unique triples) or naive lifetimes."""
    import warnings

    import pandas as pd

    warnings.simplefilter("ignore")
    tx = pd.read_parquet(parquet)
    end_ts = pd.Timestamp(end) if end else tx["order_date"].max()
    import lifetimes  # noqa: F401 - import cost is not part of either measurement

    if kind == "ours":
        from helpers.analysis.clv import fit_bgnbd, rfm_summary
        from helpers.dataset import Dataset

        t0 = time.perf_counter()
        ds = Dataset(transactions=tx, observation_end=end_ts)
        summary = rfm_summary(ds.purchases, end_ts)
        t1 = time.perf_counter()
        fit = fit_bgnbd(summary)
        t2 = time.perf_counter()
        return {"summary_s": t1 - t0, "fit_s": t2 - t1, "customers": len(summary),
                "params": fit.params, "converged": fit.converged}
    from lifetimes import BetaGeoFitter
    from lifetimes.utils import summary_data_from_transaction_data

    t0 = time.perf_counter()
    summary = summary_data_from_transaction_data(
        tx, "customer_id", "order_date", monetary_value_col="revenue", observation_period_end=end_ts)
    t1 = time.perf_counter()
    print(json.dumps({"summary_s": t1 - t0}), flush=True)  # partial result if the fit times out
    bgf = BetaGeoFitter(penalizer_coef=0.0)
    bgf.fit(summary["frequency"], summary["recency"], summary["T"])
    t2 = time.perf_counter()
    return {"summary_s": t1 - t0, "fit_s": t2 - t1, "customers": len(summary),
            "params": {k: float(v) for k, v in bgf.params_.items()}}


def _child_batch(csv: str, out_dir: str, clients: int, workers: int) -> dict:
    """Render ``clients`` copies of one data file with ``workers`` workers (forced, non-TTY)."""
    from helpers import batch

    jobs = [batch.ClientJob(name=f"Benchmark Kunde {i + 1:02d}", slug=f"benchmark-kunde-{i + 1:02d}",
                            data_path=Path(csv), settings={}, engine="auto", out_dir=Path(out_dir),
                            entry=i + 1) for i in range(clients)]
    log = open(Path(out_dir) / f"batch-{workers}.log", "w", encoding="utf-8")  # noqa: SIM115
    t0 = time.perf_counter()
    res = batch.run_batch(jobs, workers=workers, force=True, stream=log, tty=False)
    wall = time.perf_counter() - t0
    log.close()
    return {"wall_s": wall, "ok": sum(r.status == "OK" for r in res),
            "failed": [r.message for r in res if r.status == "Fehler"],
            "mean_client_s": sum(r.duration or 0 for r in res) / max(len(res), 1)}


# ------------------------------------------------------------------------- orchestration


def ensure_data(label: str, target: int | None, cache: Path) -> tuple[Path, float | None]:
    """CSV for a size (generated once into ``cache`` with ``helpers.generate``); (path, seconds)."""
    if target is None:
        from helpers.config import SAMPLE_DATA

        return SAMPLE_DATA, None
    path = cache / f"zeilen-{label}.csv"
    if path.exists():
        return path, None
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.csv")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "helpers.generate", "--lines", str(target), "--out", str(tmp)],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    os.replace(tmp, path)
    return path, time.perf_counter() - t0


NAIVE_SCRIPT = ROOT.parent / "shared" / "bench" / "naive_report.py"
"""The hand-written one-script baseline (pandas + lifetimes + scikit-learn, no PDF; see its README)."""
SAMPLE_COLUMNS = ("customer_id", "order_date", "net_revenue_eur")
"""Customer, date and amount column of the sample file and of the generated files."""


def _median(values: list[float]) -> float | None:
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    mid = len(vals) // 2
    return vals[mid] if len(vals) % 2 else (vals[mid - 1] + vals[mid]) / 2


def bench_size(label: str, cache: Path, engine: str, naive_timeout: float, log, reps: int = 1,
               naive_script: Path | None = NAIVE_SCRIPT, clv: bool = True) -> dict:
    """One size: the report (``reps`` times) alternating with the hand-written script on the same file."""
    target = parse_size(label)
    csv, gen_s = ensure_data(label, target, cache)
    lines = count_lines(csv)
    log(f"{label}: {lines:,} Zeilen ({csv}) – Bericht wird erstellt …")
    out = cache / "reports" / label
    runs: list[dict] = []
    naive_runs: list[dict] = []
    res = None
    for rep in range(max(int(reps), 1)):
        shutil.rmtree(out, ignore_errors=True)
        load_before = os.getloadavg()
        res, wall, peak, err = run_child(["--_report", str(csv), str(out), f"Benchmark {label}", engine])
        load_after = os.getloadavg()
        runs.append({"res": res, "wall": wall, "peak": peak, "err": err,
                     "load": (load_before[0], load_after[0])})
        if res is not None:
            log(f"{label} (Lauf {rep + 1}): Bericht {res['total_s']:.1f} s, Spitze {peak / 2**20:.0f} MB")
        if naive_script is not None and naive_script.exists():
            nout = cache / "naive" / label
            shutil.rmtree(nout, ignore_errors=True)
            nb = os.getloadavg()[0]
            nres, nwall, npeak, nerr = run_child([], command=[sys.executable, str(naive_script), str(csv),
                                                              *SAMPLE_COLUMNS, str(nout)])
            naive_runs.append({"wall_s": nwall if nres else None, "peak_rss_tree_mb": npeak / 2**20,
                               "loadavg_before": nb, "loadavg_after": os.getloadavg()[0],
                               "stdout": (nres or {}).get("stdout", "").strip()[-300:],
                               "error": None if nres else (nerr.strip().splitlines() or ["?"])[-1]})
            log(f"{label} (Lauf {rep + 1}): Skript {nwall:.1f} s, Spitze {npeak / 2**20:.0f} MB")
    ok = [r for r in runs if r["res"] is not None]
    # the run whose total is the median represents the size (stages, cells); medians over all runs
    pick = sorted(ok, key=lambda r: r["res"]["total_s"])[len(ok) // 2] if ok else runs[-1]
    res, wall, peak, err = pick["res"], pick["wall"], pick["peak"], pick["err"]
    load_before, load_after = pick["load"]
    entry = {"label": label, "target_lines": target, "lines": lines, "file_mb": csv.stat().st_size / 2**20,
             "generate_s": gen_s, "child_wall_s": wall, "peak_rss_tree_mb": peak / 2**20,
             "loadavg_before": load_before, "loadavg_after": load_after, "reps": len(runs),
             "report_totals_s": [r["res"]["total_s"] for r in ok],
             "report_peaks_mb": [r["peak"] / 2**20 for r in runs]}
    if naive_runs:
        entry["naive"] = {"runs": naive_runs, "median_s": _median([r["wall_s"] for r in naive_runs]),
                          "peak_rss_tree_mb": max(r["peak_rss_tree_mb"] for r in naive_runs)}
    if res is None:
        entry["error"] = "Kindprozess fehlgeschlagen: " + err.strip().splitlines()[-1] if err.strip() else "?"
        log(f"{label}: FEHLER {entry['error']}")
        return entry
    entry.update(res)
    entry["median_total_s"] = _median(entry["report_totals_s"])
    log(f"{label}: {res['total_s']:.1f} s gesamt, Spitze {peak / 2**20:.0f} MB"
        + (f" – FEHLER {res['error']}" if res.get("error") else ""))
    if clv and res.get("work"):
        entry["clv"] = bench_clv(res["work"], naive_timeout, log, label)
    return entry


def bench_clv(parquet: str, naive_timeout: float, log, label: str) -> dict:
    ours, ours_wall, _, err = run_child(["--_clv", "ours", parquet, ""])
    out: dict = {"ours": ours, "naive": None, "naive_status": None}
    if ours is None:
        out["ours_error"] = err.strip().splitlines()[-1] if err.strip() else "?"
    t0 = time.perf_counter()
    naive, naive_wall, _, err = run_child(["--_clv", "naive", parquet, ""], timeout=naive_timeout)
    if err == "timeout":
        out["naive_status"] = f"abgebrochen nach {naive_timeout:.0f} s"
        out["naive"] = naive  # summary time only, if it finished
        out["naive_wall_s"] = time.perf_counter() - t0
    elif naive is None:
        out["naive_status"] = "Fehler: " + (err.strip().splitlines()[-1] if err.strip() else "?")
    else:
        out["naive"], out["naive_status"] = naive, "ok"
    if ours and naive and "fit_s" in naive:
        out["ratio"] = (naive["summary_s"] + naive["fit_s"]) / max(ours["summary_s"] + ours["fit_s"], 1e-9)
    log(f"{label}: CLV eigene {_s(ours)} s, naiv {out['naive_status']} {_s(naive)}")
    return out


def _s(r: dict | None) -> str:
    if not r or "fit_s" not in r:
        return "–"
    return f"{r['summary_s'] + r['fit_s']:.1f}"


def bench_batch(clients: int, cache: Path, log) -> dict:
    from helpers.config import SAMPLE_DATA

    out: dict = {"clients": clients}
    for workers in (1, 2):
        d = cache / "batch" / f"w{workers}"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        log(f"Batch: {clients} Beispielkunden mit {workers} Worker(n) …")
        res, wall, peak, err = run_child(["--_batch", str(SAMPLE_DATA), str(d), str(clients), str(workers)])
        out[f"workers{workers}"] = res or {"error": err.strip().splitlines()[-1] if err.strip() else "?"}
        out[f"workers{workers}"]["loadavg"] = os.getloadavg()[0]
        out[f"workers{workers}"]["peak_rss_tree_mb"] = peak / 2**20
        log(f"Batch {workers} Worker: {res['wall_s']:.1f} s" if res else f"Batch {workers}: FEHLER")
    w1, w2 = out["workers1"].get("wall_s"), out["workers2"].get("wall_s")
    if w1 and w2:
        out["speedup"] = w1 / w2
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--_report":
        print(json.dumps(_child_report(*argv[1:5]), default=str))
        return 0
    if argv and argv[0] == "--_clv":
        print(json.dumps(_child_clv(*argv[1:4]), default=str))
        return 0
    if argv and argv[0] == "--_batch":
        print(json.dumps(_child_batch(argv[1], argv[2], int(argv[3]), int(argv[4])), default=str))
        return 0

    ap = argparse.ArgumentParser(prog="benchmarks/run.py", description="Skalierungs-Benchmark des Kundenberichts.")
    ap.add_argument("--sizes", default=DEFAULT_SIZES,
                    help=f"Komma-getrennte Größen in Bestellzeilen, z. B. 10k,1M (Standard: {DEFAULT_SIZES})")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="Ordner für erzeugte Daten und Berichte")
    ap.add_argument("--engine", default="auto", choices=("auto", "typst", "quarto"))
    ap.add_argument("--naive-timeout", type=float, default=180.0,
                    help="Zeitlimit für den naiven lifetimes-Ansatz je Größe, Sekunden")
    ap.add_argument("--batch-clients", type=int, default=10, help="Kunden für den Batch-Durchsatz")
    ap.add_argument("--no-batch", action="store_true", help="Batch-Durchsatz nicht messen")
    ap.add_argument("--reps", default="sample=3",
                    help="Wiederholungen je Größe (Bericht und Skript abwechselnd), z. B. sample=3,1M=2 (Standard 1)")
    ap.add_argument("--naive-script", type=Path, default=NAIVE_SCRIPT,
                    help="Handgeschriebenes Vergleichsskript (leer = kein Vergleich)")
    ap.add_argument("--no-clv", action="store_true", help="CLV-Schritt nicht gesondert messen")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR, help="Ergebnisordner")
    ap.add_argument("--append", action="store_true",
                    help="Vorhandene results.json ergänzen (gleiche Größen werden ersetzt)")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(f"[{dt.datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)

    started = dt.datetime.now(dt.timezone.utc)
    results: dict = {"started_utc": started.isoformat(timespec="seconds"), "machine": machine_info(),
                     "sizes": [], "batch": None}
    previous = args.out / "results.json"
    if args.append and previous.exists():
        old = json.loads(previous.read_text("utf-8"))
        results["sizes"], results["batch"] = old.get("sizes", []), old.get("batch")
        results["earlier_runs_utc"] = old.get("earlier_runs_utc", []) + [old.get("started_utc")]
    for label in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        reps = dict(kv.split("=", 1) for kv in args.reps.split(",") if "=" in kv)
        entry = bench_size(label, args.cache, args.engine, args.naive_timeout, log, reps=int(reps.get(label, 1)),
                           naive_script=args.naive_script if str(args.naive_script) else None, clv=not args.no_clv)
        results["sizes"] = [e for e in results["sizes"] if e["label"] != label] + [entry]
        results["sizes"].sort(key=lambda e: e.get("lines") or 0)
        write_results(results, args.out)  # keep partial results
    if not args.no_batch and args.batch_clients > 0:
        results["batch"] = bench_batch(args.batch_clients, args.cache, log)
    results["finished_utc"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    write_results(results, args.out)
    log(f"Ergebnisse: {args.out / 'results.md'}")
    return 0


def write_results(results: dict, out: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from results_report import write_chart, write_markdown

    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str), "utf-8")
    write_markdown(results, out / "results.md")
    write_chart(results, out / "scaling.png")


if __name__ == "__main__":
    sys.exit(main())
