"""Benchmark of the line-level engine on Parquet folders (issue 17): ``python benchmarks/parquet_run.py``.

Generates a folder of Parquet files with about N order lines, chunk by chunk with the seeded
generator ``helpers.generate`` (each chunk its own customers, ids and seed, so memory stays at one
chunk), cached under ``/tmp/kundenwert-benchmark/parquet-<size>/``. Then, each in a fresh child
process whose process tree is sampled for peak resident memory (``benchmarks/run.py``'s sampler):

- ``load``: ``helpers.data.load_dataset(folder)`` – reading, checks, ledger and aggregation in DuckDB,
  the compact line table into pandas (target: 100 M lines < 15 min, < 16 GB);
- ``chapters``: load plus every chapter's compute function, timed one by one (where the time goes
  after loading);
- ``report``: ``kundenwert report --data <folder>`` end to end (PDF).

Results go to ``benchmarks/results/parquet.md`` and ``parquet.json`` (entries of earlier runs are
kept unless measured again).

Usage::

    python benchmarks/parquet_run.py --sizes 1M,10M --modes load,chapters,report
    nice -n 10 python benchmarks/parquet_run.py --sizes 100M --modes load --timeout 3600
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import DEFAULT_CACHE, ROOT, machine_info, parse_size, run_child  # noqa: E402

RESULTS = HERE / "results"
CHUNK_LINES = 2_500_000
TODAY = "2026-12-01"
MODES = ("load", "chapters", "report")


# ------------------------------------------------------------------------- data


def ensure_folder(label: str, n_lines: int, cache: Path = DEFAULT_CACHE, log=print) -> Path:
    """The cached Parquet folder of about ``n_lines`` lines (generated when missing)."""
    import numpy as np  # noqa: F401 - imported here so that --help stays fast

    from helpers import generate

    folder = cache / f"parquet-{label}"
    done = folder / "_FERTIG"
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    chunks = max(1, round(n_lines / CHUNK_LINES))
    per_chunk = n_lines / chunks
    customers = generate.customers_for_lines(int(per_chunk))
    t0 = time.perf_counter()
    total = 0
    for i in range(chunks):
        prof = dataclasses.replace(generate.ShopProfile(), customer_id_start=10_001 + i * customers * 2,
                                   order_id_start=1_000_001 + i * int(per_chunk) * 2)
        df = generate.generate_transactions(customers, seed=generate.SAMPLE_SEED + i, profile=prof)
        df.to_parquet(folder / f"teil-{i:04d}.parquet", index=False, row_group_size=500_000)
        total += len(df)
        del df
        log(f"  {label}: Teil {i + 1}/{chunks} geschrieben ({total:,} Zeilen, {time.perf_counter() - t0:.0f} s)")
    done.write_text(json.dumps({"lines": total, "files": chunks}), "utf-8")
    return folder


def folder_lines(folder: Path) -> int:
    return int(json.loads((folder / "_FERTIG").read_text("utf-8"))["lines"])


# ------------------------------------------------------------------------- children


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """User + system CPU time of this process (all threads, e.g. DuckDB's) and its finished children:
    less disturbed than the wall clock when the machine is shared."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def child(mode: str, folder: str, out_dir: str) -> dict:
    """Runs in the child process; returns the JSON-able measurements."""
    from helpers.config import ReportConfig

    cfg = ReportConfig.from_settings(None, {"report_date": TODAY})
    res: dict = {"mode": mode}
    if mode == "report":
        from helpers import cli

        t0 = time.perf_counter()
        code = cli.main(["report", "--data", folder, "--client", "Benchmark Parquet", "--out", out_dir,
                         "--engine", "typst", "--set", f"report_date={TODAY}"])
        res.update(code=code, seconds=time.perf_counter() - t0, cpu_seconds=_cpu_seconds())
        return res
    from helpers.data import load_dataset

    t0 = time.perf_counter()
    ds = load_dataset(folder, cfg, b"benchmark-key-0123456789abcdef01")
    res.update(load_seconds=time.perf_counter() - t0, load_cpu_seconds=_cpu_seconds(),
               lines=ds.ledger.rows_read, kept=ds.n_lines,
               compact_rows=len(ds.transactions), customers=int(len(ds.customers)),
               purchases=int(len(ds.purchases)), rss_after_load_mb=_rss_mb(),
               transactions_mb=float(ds.transactions.memory_usage(deep=True).sum() / 1e6))
    if mode == "chapters":
        from helpers.chapters import compute_chapter, dependency_order

        results, times = {}, {}
        for slug in dependency_order():
            t1 = time.perf_counter()
            results[slug] = compute_chapter(slug, ds, cfg, results)
            times[slug] = {"seconds": time.perf_counter() - t1, "rss_mb": _rss_mb()}
            print(json.dumps({"chapter": slug, **times[slug]}), file=sys.stderr, flush=True)
        res["chapters"] = times
    return res


def measure(mode: str, folder: Path, timeout: float | None, log) -> dict:
    out_dir = Path(f"/tmp/kundenwert-benchmark/out-parquet-{os.getpid()}")
    load = os.getloadavg()[0]
    result, wall, peak, err = run_child([], timeout=timeout, command=[
        sys.executable, str(Path(__file__).resolve()), "--child", mode, str(folder), str(out_dir)])
    shutil.rmtree(out_dir, ignore_errors=True)
    data = None
    if result is not None:
        lines = [ln for ln in result["stdout"].splitlines() if ln.strip().startswith("{")]
        data = json.loads(lines[-1]) if lines else None
    entry = {"mode": mode, "wall_seconds": round(wall, 1), "peak_tree_bytes": int(peak),
             "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2),
             "ok": data is not None, "result": data}
    if data is None:
        entry["error"] = err[-2000:]
        # chapters finished before a timeout or failure (the child reports them on stderr)
        done = [json.loads(ln) for ln in err.splitlines() if ln.startswith('{"chapter"')]
        if done:
            entry["chapters_done"] = done
    log(f"  {mode}: {wall:.1f} s, Spitze {peak / 1e9:.2f} GB, {'ok' if data else 'FEHLER'}")
    return entry


# ------------------------------------------------------------------------- output


def _de(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}".replace(",", "X").replace(".", ",").replace("X", ".")


def write_results(results: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "parquet.json").write_text(json.dumps(results, indent=2, ensure_ascii=False), "utf-8")
    m = results["machine"]
    lines = [
        "# Parquet-Ordner über die Zeilen-Engine (DuckDB)",
        "",
        f"Gemessen mit `benchmarks/parquet_run.py` (zuletzt {results['updated']}). Daten: synthetische "
        "Bestellzeilen aus `helpers.generate`, blockweise als Ordner von Parquet-Dateien geschrieben "
        f"({_de(CHUNK_LINES / 1e6, 1)} Mio. Zeilen je Datei). Ziel (Issue 17): 100 Mio. Zeilen unter 15 Minuten "
        "und 16 GB.",
        "",
        f"**Rechner:** {m.get('cpu', '?')}, {m.get('cores', '?')} Kerne, {m.get('ram_gb', '?')} GB RAM; "
        "mit anderen Entwicklern geteilt (Spalte „Last“).",
        "",
        "| Größe | Zeilen | Modus | Dauer | Laden (Engine) | CPU-Zeit Laden | Spitzen-Speicher | Kunden | "
        "Zeilen nach Zusammenfassung | Last |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    chapters = []
    for label, entry in results["sizes"].items():
        for mode in MODES:
            e = entry.get(mode)
            if not e:
                continue
            r = e.get("result") or {}
            load = f"{_de(r['load_seconds'])} s" if "load_seconds" in r else "–"
            cpu = f"{_de(r['load_cpu_seconds'])} s" if "load_cpu_seconds" in r else "–"
            cust = f"{r['customers']:,}".replace(",", ".") if "customers" in r else "–"
            comp = f"{r['compact_rows']:,}".replace(",", ".") if "compact_rows" in r else "–"
            status = "" if e["ok"] else " (abgebrochen)"
            lines.append(f"| {label} | {entry['lines']:,} | {mode}{status} | {_de(e['wall_seconds'])} s | {load} | {cpu} | "
                         f"{_de(e['peak_tree_bytes'] / 1e9, 2)} GB | {cust} | {comp} | "
                         f"{_de(e['load_before'], 1)} → {_de(e['load_after'], 1)} |".replace(f"{entry['lines']:,}",
                         f"{entry['lines']:,}".replace(",", ".")))
            ch = r.get("chapters") or {c["chapter"]: c for c in e.get("chapters_done", [])}
            if ch:
                chapters.append((label, ch))
    if chapters:
        lines += ["", "## Rechenzeit je Kapitel nach dem Laden (Modus chapters)", "",
                  "| Größe | " + " | ".join(chapters[0][1]) + " |",
                  "|---|" + "---:|" * len(chapters[0][1])]
        for label, ch in chapters:
            lines.append(f"| {label} | " + " | ".join(
                f"{_de(ch[s]['seconds'])} s" if s in ch else "–" for s in chapters[0][1]) + " |")
    lines += ["", "Dauer: Wanduhrzeit des Kindprozesses. Laden (Engine): `load_dataset` auf dem Ordner (Lesen, "
              "Prüfregeln, Prüfprotokoll, Zusammenfassung in DuckDB, kompakte Zeilentabelle in pandas). "
              "CPU-Zeit Laden: Nutzer- und Systemzeit des Kindprozesses bis zum Ende des Ladens (alle Threads; "
              "auf dem geteilten Rechner verlässlicher als die Wanduhrzeit). "
              "Spitzen-Speicher: Summe des residenten Speichers des Prozessbaums, alle 0,2 s abgetastet.", ""]
    if results.get("notes"):
        lines += ["## Beobachtungen", ""] + [f"- {n}" for n in results["notes"]] + [""]
    (RESULTS / "parquet.md").write_text("\n".join(lines), "utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1M,10M")
    ap.add_argument("--modes", default="load,chapters")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per child process")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--child", nargs=3, metavar=("MODE", "FOLDER", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0

    def log(msg: str) -> None:
        print(msg, flush=True)

    path = RESULTS / "parquet.json"
    results = json.loads(path.read_text("utf-8")) if path.exists() else {"sizes": {}}
    results["machine"] = machine_info()
    for label in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        n = parse_size(label)
        log(f"{label}: Daten …")
        folder = ensure_folder(label, n, args.cache, log)
        entry = results["sizes"].setdefault(label, {})
        entry["lines"] = folder_lines(folder)
        for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
            entry[mode] = measure(mode, folder, args.timeout, log)
            results["updated"] = dt.datetime.now(dt.timezone.utc).strftime("%d.%m.%Y %H:%M UTC")
            write_results(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
