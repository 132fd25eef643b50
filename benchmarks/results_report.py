"""Benchmark results -> ``results.md`` (German tables) and ``scaling.png`` (log-log chart)."""

from __future__ import annotations

from pathlib import Path

from helpers import fmt

TARGETS_S = {"sample": 6.0, "10M": 60.0}
"""Issue 17 (the 1 Mio. target is a ratio to the hand-written script: see the side-by-side table)."""
TARGET_MEM_GB = {"10M": 3.0}
TARGET_SPEEDUP = 1.8


def _sec(value: float | None, decimals: int = 1) -> str:
    return fmt.MISSING if value is None else f"{fmt.number(value, decimals)} s"


def _mb(value: float | None) -> str:
    if value is None:
        return fmt.MISSING
    return f"{fmt.number(value / 1024, 2)} GB" if value >= 1024 else f"{fmt.integer(value)} MB"


def _size_name(entry: dict) -> str:
    return "Beispieldatei" if entry.get("target_lines") is None else entry["label"]


def rusage_peak_mb(entry: dict) -> float | None:
    """Upper bound of the process-tree peak: report process + its largest kernel (getrusage)."""
    a, b = entry.get("peak_rss_self_mb"), entry.get("peak_rss_largest_child_mb")
    return None if a is None else a + (b or 0.0)


def verdict(entry: dict) -> str:
    """German target check for one size ("–" when the size has no target)."""
    key = entry["label"] if entry.get("target_lines") is not None else "sample"
    limit = TARGETS_S.get(key)
    if limit is None:
        return fmt.MISSING
    if entry.get("error") or entry.get("total_s") is None:
        return "nein (Fehler)"
    ok = entry["total_s"] < limit
    text = f"< {fmt.integer(limit)} s: " + ("ja" if ok else "nein")
    mem_limit = TARGET_MEM_GB.get(key)
    if mem_limit is not None:
        # the sampled process-tree sum is the real peak; getrusage (self + largest child) only bounds it
        peak = entry.get("peak_rss_tree_mb") or rusage_peak_mb(entry)
        text += f"; Speicher < {fmt.integer(mem_limit)} GB: " + (
            "ja" if peak is not None and peak / 1024 < mem_limit else "nein")
    return text


def write_markdown(results: dict, path: Path) -> None:
    sizes = results["sizes"]
    m = results["machine"]
    out = ["# Skalierungs-Benchmark des Kundenberichts", ""]
    import datetime as dt

    started = dt.datetime.fromisoformat(results["started_utc"])
    runs = [dt.datetime.fromisoformat(r) for r in results.get("earlier_runs_utc", []) if r] + [started]
    when = ", ".join(f"{fmt.date(r)} {r:%H:%M} UTC" for r in runs)
    out.append(f"Gemessen (Start: {when}) mit "
               "`make benchmark` (`benchmarks/run.py`). Daten: synthetische Bestellzeilen aus "
               "`helpers.generate` (gleicher Zufallsstartwert wie die Beispieldaten), als CSV geschrieben "
               "und vom normalen Ladeweg gelesen.")
    out.append("")
    out.append("**Rechner:** " + f"{m['cpu']}, {m['cores']} Kerne, {fmt.number(m['ram_gb'], 0)} GB RAM; "
               f"{m['os']}; Python {m['python']}; "
               + ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v))
    out.append("")
    out.append("**Hinweis zur Last:** Die Maschine wird während der Messung mit anderen Entwicklern geteilt; "
               "die Spalte „Last“ zeigt die Systemlast (1-Minuten-Mittel) vor und nach jeder Messung. Bei einer "
               "Last über der Kernzahl sind die Zeiten entsprechend zu pessimistisch.")
    out.append("")
    compared = [e for e in sizes if e.get("naive")]
    if compared:
        out.append("## Seite an Seite mit dem handgeschriebenen Skript")
        out.append("")
        out.append("`kundenwert report` (mit PDF) und `../shared/bench/naive_report.py` (dieselbe Kernanalyse in "
                   "einem pandas-Skript, ohne PDF) im selben Lauf abwechselnd auf derselben Datei; Median der "
                   "Läufe, Spitzen-Speicher über alle Prozesse. Ziele (Issue 17): Beispieldatei ≤ 6 s und ≤ 2×, "
                   "1 Mio. Zeilen ≤ 1,2×, 10 Mio. Zeilen ≤ 60 s und ≤ 3 GB.")
        out.append("")
        out.append("| Größe | Zeilen | Läufe | kundenwert (Median) | Skript (Median) | Faktor | "
                   "Speicher kundenwert | Speicher Skript | Faktor Speicher | Last |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for e in compared:
            ours, theirs = e.get("median_total_s") or e.get("total_s"), e["naive"].get("median_s")
            mo = max(e.get("report_peaks_mb") or [e.get("peak_rss_tree_mb") or 0])
            mn = e["naive"].get("peak_rss_tree_mb")
            loads = [e.get("loadavg_before"), e.get("loadavg_after")] + [
                x for r in e["naive"]["runs"] for x in (r.get("loadavg_before"), r.get("loadavg_after"))]
            loads = [x for x in loads if x is not None]
            ratio = f"{fmt.number(ours / theirs, 1)}×" if ours and theirs else fmt.MISSING
            mratio = f"{fmt.number(mo / mn, 1)}×" if mo and mn else fmt.MISSING
            load = f"{fmt.number(min(loads), 1)}–{fmt.number(max(loads), 1)}" if loads else fmt.MISSING
            out.append(f"| {_size_name(e)} | {fmt.integer(e.get('lines'))} | {e.get('reps', 1)} | {_sec(ours)} | "
                       f"{_sec(theirs)} | {ratio} | {_mb(mo)} | {_mb(mn)} | {mratio} | {load} |")
        out.append("")
    out.append("## Gesamtzeit und Speicher")
    out.append("")
    out.append("| Größe | Zeilen | Kunden | Gesamtdauer | CPU-Zeit | Spitzen-Speicher (Prozessbaum) | "
               "Spitzen-Speicher (getrusage) | Last | Ziel erreicht |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---|---|")
    for e in sizes:
        out.append(
            f"| {_size_name(e)} | {fmt.integer(e.get('lines'))} | {fmt.integer(e.get('customers'))} | "
            f"{_sec(e.get('total_s'))} | {_sec(e.get('cpu_s'))} | {_mb(e.get('peak_rss_tree_mb'))} | "
            f"{_mb(rusage_peak_mb(e))} | "
            f"{fmt.number(e.get('loadavg_before'), 1)} → {fmt.number(e.get('loadavg_after'), 1)} | {verdict(e)} |")
    errors = [e for e in sizes if e.get("error")]
    for e in errors:
        out.append("")
        out.append(f"Fehler bei {_size_name(e)}: `{e['error']}`")
    out.append("")
    out.append("CPU-Zeit: Rechenzeit (Nutzer + System) des Berichtsprozesses und aller Kernel laut getrusage; "
               "sie hängt kaum von der Last anderer Prozesse ab. Der Bericht nutzt beide Kerne (zwei Kernel neben "
               "der Berechnung), deshalb liegt die Dauer auf einem freien Rechner zwischen der halben und der "
               "ganzen CPU-Zeit.")
    out.append("")
    out.append("Spitzen-Speicher „Prozessbaum“: Summe des residenten Speichers aller Prozesse des Laufs "
               "(Berichtsprozess, Notebook-Kernel, Typst), alle 0,2 s aus `/proc` abgetastet. „getrusage“: "
               "Höchstwert des Berichtsprozesses plus größter Kindprozess (die zwei Kernel laufen gleichzeitig, "
               "deshalb keine obere Schranke).")
    out.append("")

    # stages
    stage_names: list[str] = []
    for e in sizes:
        for st in e.get("stages", []):
            if st["name"] not in stage_names:
                stage_names.append(st["name"])
    if stage_names:
        out.append("## Dauer je Schritt")
        out.append("")
        out.append("| Schritt | " + " | ".join(_size_name(e) for e in sizes) + " |")
        out.append("|---|" + "---:|" * len(sizes))
        for name in stage_names:
            row = []
            for e in sizes:
                st = next((s for s in e.get("stages", []) if s["name"] == name), None)
                row.append(_sec(st["seconds"]) if st else fmt.MISSING)
            out.append(f"| {name} | " + " | ".join(row) + " |")
        out.append("| **Gesamt** | " + " | ".join(f"**{_sec(e.get('total_s'))}**" for e in sizes) + " |")
        out.append("")
        for e in sizes:
            stages = e.get("stages") or []
            if stages and e.get("total_s"):
                top = max(stages, key=lambda st: st["seconds"])
                out.append(f"- {_size_name(e)}: größter Schritt „{top['name']}“ mit {_sec(top['seconds'])} "
                           f"({fmt.pct(top['seconds'] / e['total_s'])} der Gesamtzeit)")
        out.append("")
        out.append("Die Schritte überlappen sich und ergeben zusammen nicht die Gesamtzeit: Zwei Kernel starten mit dem "
                   "Bericht und laden ihre Module, während die Datei geladen und gerechnet wird; jedes Kapitel-Notebook "
                   "läuft, sobald sein Ergebnis gespeichert ist. „Laden“: Start bis Rechenbeginn; „Kennzahlen“: bis zum "
                   "letzten gespeicherten Ergebnis; je Kapitel: erste bis letzte Zelle im Notebook (Zeitstempel von "
                   "nbclient); „Kapitel-Notebooks ausführen“: erste bis letzte Zelle aller Kapitel; „Zusammenstellen und "
                   "PDF“: letzte Zelle bis zur fertigen PDF.")
        out.append("")
        largest = max((e for e in sizes if e.get("slowest_cells")), key=lambda e: e.get("lines") or 0, default=None)
        if largest:
            out.append(f"### Langsamste Notebook-Zellen bei {_size_name(largest)}")
            out.append("")
            out.append("| Notebook | Zelle | Dauer | erste Codezeile |")
            out.append("|---|---:|---:|---|")
            for c in largest["slowest_cells"]:
                src = c["source"].replace("|", "\\|").replace("`", "'")
                out.append(f"| {c['notebook']} | {c['cell']} | {_sec(c['seconds'])} | `{src}` |")
            out.append("")

    # CLV comparison
    clv_rows = [e for e in sizes if e.get("clv")]
    if clv_rows:
        out.append("## CLV-Schritt: eigener Weg gegen den naheliegenden Ansatz")
        out.append("")
        out.append("Naheliegend: `lifetimes.utils.summary_data_from_transaction_data` (Tage) und "
                   "`BetaGeoFitter.fit` auf allen Kunden. Eigener Weg (`helpers.analysis.clv`): Kauftage "
                   "aus `Dataset.purchases`, `rfm_summary` (Wochen) und `fit_bgnbd` auf den eindeutigen "
                   "(frequency, recency, T)-Kombinationen mit Kundenzahl als Gewicht. Beide auf denselben "
                   "aufbereiteten Transaktionen, jeweils in einem eigenen Prozess.")
        out.append("")
        out.append("| Größe | Kunden | eigen: Zusammenfassung | eigen: Schätzung | eigen gesamt | "
                   "naiv: Zusammenfassung | naiv: Schätzung | naiv gesamt | Faktor |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for e in clv_rows:
            c = e["clv"]
            o, n = c.get("ours") or {}, c.get("naive") or {}
            o_tot = o["summary_s"] + o["fit_s"] if "fit_s" in o else None
            n_tot = n["summary_s"] + n["fit_s"] if "fit_s" in n else None
            status = c.get("naive_status") or ""
            n_text = _sec(n_tot) if n_tot is not None else status
            ratio = c.get("ratio")
            r_text = f"{fmt.number(ratio, 1)}×" if ratio else (
                f"> {fmt.number(c['naive_wall_s'] / o_tot, 0)}×" if o_tot and c.get("naive_wall_s") else fmt.MISSING)
            out.append(f"| {_size_name(e)} | {fmt.integer(o.get('customers'))} | {_sec(o.get('summary_s'), 2)} | "
                       f"{_sec(o.get('fit_s'), 2)} | {_sec(o_tot, 2)} | {_sec(n.get('summary_s'), 2)} | "
                       f"{_sec(n.get('fit_s'), 2)} | {n_text} | {r_text} |")
        out.append("")

    b = results.get("batch")
    if b:
        w1, w2 = b.get("workers1", {}), b.get("workers2", {})
        out.append("## Batch-Durchsatz")
        out.append("")
        out.append(f"{b['clients']} Kunden mit der Beispieldatei, `run_batch(..., force=True)`.")
        out.append("")
        out.append("| Worker | Wandzeit | erfolgreich | mittlere Dauer je Bericht | Last danach |")
        out.append("|---:|---:|---:|---:|---:|")
        for k, w in ((1, w1), (2, w2)):
            out.append(f"| {k} | {_sec(w.get('wall_s'))} | {w.get('ok', fmt.MISSING)} | "
                       f"{_sec(w.get('mean_client_s'))} | {fmt.number(w.get('loadavg'), 1)} |")
        sp = b.get("speedup")
        out.append("")
        out.append(f"Beschleunigung mit 2 Workern: **{fmt.number(sp, 2) if sp else fmt.MISSING}×** "
                   f"(Ziel ≥ {fmt.number(TARGET_SPEEDUP, 1)}×: "
                   + ("ja" if sp and sp >= TARGET_SPEEDUP else "nein") + ").")
        out.append("")
    path.write_text("\n".join(out) + "\n", "utf-8")


def write_chart(results: dict, path: Path) -> None:
    """Log-log chart: wall time per stage and peak memory against order lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogLocator, NullFormatter

    from helpers.plotting import axis_format, new_figure, use_style

    sizes = sorted((e for e in results["sizes"] if e.get("lines") and e.get("total_s")),
                   key=lambda e: e["lines"])
    if not sizes:
        return
    use_style()
    fig, (ax, ax2) = new_figure(height=3.6, ncols=2)
    x = [e["lines"] for e in sizes]
    ax.plot(x, [e["total_s"] for e in sizes], marker="o", linewidth=2.2, label="Gesamt", color="black")
    names: list[str] = []
    for e in sizes:
        names += [s["name"] for s in e.get("stages", []) if s["name"] not in names]
    for name in names:
        pts = [(e["lines"], st["seconds"]) for e in sizes for st in e.get("stages", [])
               if st["name"] == name and st["seconds"] > 0]
        if pts:
            ax.plot(*zip(*pts), marker=".", linewidth=1, label=name)
    clv = [(e["lines"], e["clv"]["naive"]["summary_s"] + e["clv"]["naive"]["fit_s"]) for e in sizes
           if e.get("clv") and e["clv"].get("naive") and "fit_s" in e["clv"]["naive"]]
    if clv:
        ax.plot(*zip(*clv), linestyle="--", marker="x", color="grey", label="CLV naiv (lifetimes)")
    own = [(e["lines"], e["clv"]["ours"]["summary_s"] + e["clv"]["ours"]["fit_s"]) for e in sizes
           if e.get("clv") and e["clv"].get("ours") and "fit_s" in e["clv"]["ours"]]
    if own:
        ax.plot(*zip(*own), linestyle=":", marker="+", color="grey", label="CLV eigen (helpers.analysis.clv)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Bestellzeilen")
    ax.set_ylabel("Dauer in Sekunden")
    ax.set_title("Rechenzeit je Schritt")
    mem = [(e["lines"], e["peak_rss_tree_mb"] / 1024) for e in sizes if e.get("peak_rss_tree_mb")]
    if mem:
        ax2.plot(*zip(*mem), marker="o", color="black", label="Prozessbaum (abgetastet)")
    mem2 = [(e["lines"], (e.get("peak_rss_self_mb", 0) + e.get("peak_rss_largest_child_mb", 0)) / 1024)
            for e in sizes if e.get("peak_rss_self_mb")]
    if mem2:
        ax2.plot(*zip(*mem2), marker="s", linestyle="--", label="getrusage (Bericht + größter Kindprozess)")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("Bestellzeilen")
    ax2.set_ylabel("Spitzen-Speicher in GB")
    ax2.set_title("Speicherbedarf")
    for a in (ax, ax2):
        axis_format(a, "x", "int")
        axis_format(a, "y", "number", decimals=1)
        a.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        a.xaxis.set_minor_formatter(NullFormatter())
        a.yaxis.set_minor_formatter(NullFormatter())
        a.tick_params(axis="x", labelrotation=30)
    ax2.legend(fontsize=6, loc="upper left")
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=6,
               bbox_to_anchor=(0.5, -0.22), frameon=False)
    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)
