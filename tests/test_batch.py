"""Batch rendering: YAML validation, failure isolation, skip logic, exit codes, summary, progress."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from helpers import batch
from helpers.exceptions import ConfigError, DataValidationError
from helpers.progress import ProgressDisplay, estimate_eta, format_duration

CHAPTER_TITLES = ("Datengrundlage", "Kundensegmentierung nach RFM", "Anhang")


def fake_build(data_path, cfg, out_dir, engine="auto", progress=None, folder=None):
    """Stand-in for ``build_report`` (same contract): 'renders' a text file into the run's build
    folder, fails on marked data files; counts its builds next to the data file."""
    build = folder.path
    (build / "notebooks").mkdir()
    counter = Path(data_path).parent / f"builds-{folder.slug}.txt"
    counter.write_text(str(int(counter.read_text()) + 1 if counter.exists() else 1))
    text = Path(data_path).read_text("utf-8")
    for i, title in enumerate(CHAPTER_TITLES):
        if progress:
            progress(cfg.client_name, title, i + 1, len(CHAPTER_TITLES))
        (build / "notebooks" / f"{i:02d}.ipynb").write_text("{}")
        if i == 1 and "KAPUTT" in text:
            raise DataValidationError(f"{Path(data_path).name}: Spalte „Umsatz“ fehlt.")
        if i == 1 and "ABSTURZ" in text:
            raise ZeroDivisionError("division by zero")
    pdf = build / f"{folder.slug}.pdf"
    pdf.write_text(f"PDF {cfg.client_name} margin={cfg.gross_margin} engine={engine}")
    return folder.final(pdf)


def builds(root: Path, slug: str) -> int:
    f = root / "daten" / f"builds-{slug}.txt"
    return int(f.read_text()) if f.exists() else 0


def write_batch(tmp_path: Path, clients: str, defaults: str = "") -> Path:
    (tmp_path / "daten").mkdir(parents=True, exist_ok=True)
    for name, content in {"a.csv": "ok a", "b.csv": "KAPUTT", "c.csv": "ok c", "d.csv": "ABSTURZ"}.items():
        (tmp_path / "daten" / name).write_text(content, "utf-8")
    f = tmp_path / "kunden.yaml"
    f.write_text(f"defaults:\n  out: berichte\n{defaults}clients:\n{clients}", "utf-8")
    return f


THREE = """\
  - name: Alpha GmbH
    data: daten/a.csv
  - name: Beta KG
    data: daten/b.csv
  - name: Gamma AG
    data: daten/c.csv
    settings: {gross_margin: 0.4}
"""


def run_quiet(jobs, **kw):
    return batch.run_batch(jobs, in_process=True, build=fake_build, stream=io.StringIO(), **kw)


# ----------------------------------------------------------------------------- YAML


def test_load_batch_file_resolves_paths_and_merges_defaults(tmp_path):
    f = write_batch(
        tmp_path,
        """\
  - name: Müller & Söhne GmbH
    data: daten/a.csv
    map: {revenue: "Umsatz (€)"}
    settings:
      clv: {horizon_months: 6}
      gross_margin: 0.4
""",
        defaults="  engine: typst\n  map: {customer_id: Kundennummer}\n"
                 "  settings: {gross_margin: 0.35, churn.random_state: 7}\n",
    )
    (job,) = batch.load_batch_file(f)
    assert job.data_path == (tmp_path / "daten" / "a.csv").resolve()
    assert job.out_dir == (tmp_path / "berichte").resolve()
    assert job.engine == "typst"
    assert job.settings["gross_margin"] == 0.4  # client overrides defaults
    assert job.settings["churn.random_state"] == 7
    assert job.settings["clv.horizon_months"] == 6  # nested section flattened
    assert job.settings["data.column_map"] == {"customer_id": "Kundennummer", "revenue": "Umsatz (€)"}
    assert job.slug == batch.client_slug("Müller & Söhne GmbH")
    # command line overrides
    (job,) = batch.load_batch_file(f, out_dir=tmp_path / "x", engine="quarto")
    assert job.out_dir == (tmp_path / "x").resolve() and job.engine == "quarto"


def test_one_slug_function_and_one_list_of_engines():
    from helpers.report import render, slug

    assert batch.client_slug is slug.client_slug  # log, state and PDF share the pipeline's folder
    assert batch.client_slug("Müller & Söhne GmbH") == "mueller-soehne-gmbh"
    assert batch.ENGINES is render.ENGINES


@pytest.mark.parametrize(
    "clients, expected",
    [
        ("  - data: daten/a.csv\n", "Kunde 1: „name“ fehlt"),
        ("  - name: Alpha\n", "Kunde 1 („Alpha“): „data“"),
        ("  - name: Alpha\n    data: daten/a.csv\n    farbe: blau\n", "unbekannte Angabe(n) farbe"),
        ("  - name: A\n    data: daten/a.csv\n  - name: B\n    data: daten/b.csv\n"
         "    settings: {gross_margin: 1.5}\n", "Kunde 2 („B“): Ungültige Einstellung gross_margin"),
        ("  - name: A\n    data: daten/a.csv\n  - name: B\n    data: daten/b.csv\n"
         "    settings: {clv.horizont: 3}\n", "Kunde 2 („B“): Unbekannte Einstellung 'clv.horizont'"),
        ("  - name: A\n    data: daten/a.csv\n    engine: word\n", "unbekannte Engine 'word'"),
        ("  - name: Alpha GmbH\n    data: daten/a.csv\n  - name: alpha gmbh\n    data: daten/c.csv\n",
         "gleicher Ausgabeordner"),
        ("  - name: Müller & Söhne GmbH\n    data: daten/a.csv\n  - name: Mueller Soehne GmbH\n"
         "    data: daten/c.csv\n", "Kunde 2 („Mueller Soehne GmbH“): gleicher Ausgabeordner"),
        ("  - name: A\n    data: daten/a.csv\n    slug: x\n  - name: B\n    data: daten/c.csv\n    slug: x\n",
         "wie Kunde 1 („A“)"),
        ("  - name: A\n    data: daten/a.csv\n    slug: b\n  - name: B\n    data: daten/c.csv\n",
         "Kunde 2 („B“): gleicher Ausgabeordner"),
        ("  - name: A\n    data: daten/a.csv\n    slug: ../../x\n", "„slug“ '../../x' ist kein gültiger Ordnername"),
        ("  - name: A\n    data: daten/a.csv\n    slug: /tmp/x\n", "„slug“ '/tmp/x' ist kein gültiger"),
        ("  - name: A\n    data: daten/a.csv\n    slug: a/b\n", "z. B. „a-b“"),
        ("  - name: A\n    data: daten/a.csv\n    slug: ..\n", "kein gültiger Ordnername"),
        ("  - name: A\n    data: daten/a.csv\n    slug: .versteckt\n", "kein gültiger Ordnername"),
        ("  - name: A\n    data: daten/a.csv\n    slug: Gross\n", "z. B. „gross“"),
        ("  - name: A\n    data: daten/a.csv\n    slug: [x]\n", "kein gültiger Ordnername"),
        ("  - name: A\n    data: daten/a.csv\n    map: [revenue]\n", "„map“ muss eine Zuordnung"),
        ("  []\n", "mindestens einem Kunden"),
        ("  - name: A\n    data: [daten/a.csv\n", "kein gültiges YAML (Zeile"),
    ],
)
def test_invalid_batch_files_give_german_errors_naming_the_entry(tmp_path, clients, expected):
    f = write_batch(tmp_path, clients)
    with pytest.raises(ConfigError) as err:
        batch.load_batch_file(f)
    assert expected in str(err.value)
    assert err.value.exit_code == 2


def test_run_returns_2_and_prints_message_for_invalid_file(tmp_path, capsys):
    f = write_batch(tmp_path, "  - name: Alpha\n")
    parser = argparse.ArgumentParser()
    batch.configure_parser(parser)
    assert batch.run(parser.parse_args([str(f)]), build=fake_build) == 2
    assert "Kunde 1 („Alpha“)" in capsys.readouterr().err
    assert batch.run(parser.parse_args([str(tmp_path / "fehlt.yaml")]), build=fake_build) == 2
    assert "nicht gefunden" in capsys.readouterr().err


# ----------------------------------------------------------------------------- isolation


def test_one_bad_client_fails_alone_and_keeps_log_and_notebooks(tmp_path):
    f = write_batch(tmp_path, THREE + "  - name: Delta\n    data: daten/d.csv\n"
                    "  - name: Epsilon\n    data: daten/fehlt.csv\n")
    jobs = batch.load_batch_file(f)
    res = run_quiet(jobs)
    assert [r.status for r in res] == ["OK", "Fehler", "OK", "Fehler", "Fehler"]
    alpha, beta, gamma, delta, eps = res
    assert Path(alpha.pdf).read_text() == "PDF Alpha GmbH margin=0.3 engine=auto"
    assert Path(gamma.pdf).read_text() == "PDF Gamma AG margin=0.4 engine=auto"
    assert beta.pdf is None and beta.message == "b.csv: Spalte „Umsatz“ fehlt."
    assert delta.message == "Unerwarteter Fehler (ZeroDivisionError): division by zero"
    assert "wurde nicht gefunden" in eps.message
    failed = tmp_path / "berichte" / beta.slug / "fehlgeschlagener-lauf"
    assert Path(beta.log) == failed / "batch.log"
    log = Path(beta.log).read_text("utf-8")
    assert "Kapitel 2/3: Kundensegmentierung nach RFM" in log
    assert "DataValidationError" in log and "Traceback" in log
    # partial executed notebooks stay for diagnosis in the clearly named folder; no state, no PDF
    assert sorted(p.name for p in (failed / "notebooks").iterdir()) == ["00.ipynb", "01.ipynb"]
    assert sorted(p.name for p in (tmp_path / "berichte" / beta.slug).iterdir()) == ["fehlgeschlagener-lauf"]
    assert Path(alpha.log) == tmp_path / "berichte" / alpha.slug / "batch.log"
    assert "Fertig nach" in Path(alpha.log).read_text("utf-8")
    assert (beta.exit_code, delta.exit_code, eps.exit_code) == (2, 1, 2)
    assert batch.exit_code(res) == 1  # a bug (ZeroDivisionError) among the failures
    assert batch.exit_code([alpha, beta, eps]) == 2  # only failures the user can fix
    assert batch.exit_code([alpha, gamma]) == 0


def test_run_exit_codes_and_summary_on_stdout(tmp_path, capsys, monkeypatch):
    parser = argparse.ArgumentParser()
    batch.configure_parser(parser)
    f = write_batch(tmp_path, THREE)
    args = parser.parse_args([str(f), "--jobs", "1"])
    orig = batch.run_batch
    monkeypatch.setattr(batch, "run_batch", lambda jobs, **kw: orig(jobs, **{**kw, "in_process": True}))
    assert batch.run(args, build=fake_build) == 2  # Beta's data is bad: the user can fix it
    out = capsys.readouterr().out
    assert "| Beta KG" in out and "Spalte „Umsatz“ fehlt." in out
    assert "2 erstellt, 1 mit Fehler, 0 übersprungen" in out
    ok = write_batch(tmp_path / "ok", "  - name: Alpha GmbH\n    data: daten/a.csv\n")
    assert batch.run(parser.parse_args([str(ok)]), build=fake_build) == 0


# ----------------------------------------------------------------------------- skipping


def test_unchanged_clients_are_skipped_and_changes_trigger_a_rebuild(tmp_path):
    f = write_batch(tmp_path, THREE)
    out = tmp_path / "berichte"
    jobs = batch.load_batch_file(f)
    a, b, c = (j.slug for j in jobs)
    first = run_quiet(jobs)
    assert [r.status for r in first] == ["OK", "Fehler", "OK"]
    state = json.loads((out / a / batch.STATE_FILE).read_text())
    assert state["pdf"] == first[0].pdf

    second = run_quiet(jobs)
    assert [r.status for r in second] == ["übersprungen", "Fehler", "übersprungen"]
    assert second[0].pdf == first[0].pdf
    assert (builds(tmp_path, a), builds(tmp_path, b), builds(tmp_path, c)) == (1, 2, 1)  # failed ones are retried

    # data content changed (same file name) -> rebuild only that client
    (tmp_path / "daten" / "a.csv").write_text("ok a, neue Zeile", "utf-8")
    assert [r.status for r in run_quiet(jobs)] == ["OK", "Fehler", "übersprungen"]
    # settings changed -> rebuild
    f.write_text(f.read_text().replace("gross_margin: 0.4", "gross_margin: 0.45"), "utf-8")
    jobs = batch.load_batch_file(f)
    assert [r.status for r in run_quiet(jobs)] == ["übersprungen", "Fehler", "OK"]
    # engine changed -> rebuild all
    jobs_typst = batch.load_batch_file(f, engine="typst")
    assert [r.status for r in run_quiet(jobs_typst)] == ["OK", "Fehler", "OK"]
    # PDF deleted -> rebuild; --force -> rebuild everything
    Path(run_quiet(jobs_typst)[0].pdf).unlink()
    assert [r.status for r in run_quiet(jobs_typst)] == ["OK", "Fehler", "übersprungen"]
    assert [r.status for r in run_quiet(jobs_typst, force=True)] == ["OK", "Fehler", "OK"]
    assert builds(tmp_path, a) == 5 and builds(tmp_path, c) == 4


def test_fingerprint_depends_on_every_input(tmp_path):
    f = write_batch(tmp_path, THREE)
    job = batch.load_batch_file(f)[0]
    base = batch.fingerprint(job, "h", "c")
    assert batch.fingerprint(job, "h", "c") == base
    assert batch.fingerprint(job, "h2", "c") != base
    assert batch.fingerprint(job, "h", "c2") != base
    from dataclasses import replace

    assert batch.fingerprint(replace(job, engine="typst"), "h", "c") != base
    assert batch.fingerprint(replace(job, settings={"data.column_map": {"revenue": "U"}}), "h", "c") != base


# ----------------------------------------------------------------------------- summary


def test_summary_table_columns_and_content():
    res = [
        batch.ClientResult("Alpha GmbH", "alpha-gmbh", "OK", 83.0, "/r/alpha-gmbh/alpha-gmbh.pdf"),
        batch.ClientResult("Beta | KG", "beta-kg", "Fehler", 7.26, None, "Spalte fehlt.\nDetails", "/r/b.log"),
        batch.ClientResult("Gamma", "gamma", "übersprungen", None, "/r/gamma/gamma.pdf", "unverändert"),
    ]
    lines = batch.summary_table(res).splitlines()
    assert [c.strip() for c in lines[0].strip("|").split("|")] == [
        "Kunde", "Status", "Dauer", "PDF-Pfad", "Fehlermeldung"]
    assert set(lines[1]) <= {"|", "-"}
    assert len({len(line) for line in lines}) == 1  # aligned
    assert [c.strip() for c in lines[2].strip("|").split("|")] == [
        "Alpha GmbH", "OK", "1:23\u00a0min", "/r/alpha-gmbh/alpha-gmbh.pdf", "–"]
    assert "Beta \\| KG" in lines[3] and "7,3\u00a0s" in lines[3] and "Spalte fehlt." in lines[3]
    assert "Details" not in lines[3]
    assert "übersprungen" in lines[4] and "unverändert" not in lines[4]
    text = batch.summary_text(res, wall=3723)
    assert "1 erstellt, 1 mit Fehler, 1 übersprungen – Gesamtdauer 1:02:03\u00a0h." in text
    assert "Beta | KG: /r/b.log" in text


# ----------------------------------------------------------------------------- progress


def test_format_duration_german():
    assert format_duration(7.26) == "7,3\u00a0s"
    assert format_duration(59.94) == "59,9\u00a0s"
    assert format_duration(83) == "1:23\u00a0min"
    assert format_duration(3723) == "1:02:03\u00a0h"
    assert format_duration(None) == "–"


def test_eta_from_mean_duration_of_finished_clients():
    assert estimate_eta([], [5.0], 3, 2) is None
    # mean 30 s; running 10 s and 40 s elapsed -> 20 + 0; 4 queued -> 120; two workers -> 70 s
    assert estimate_eta([20.0, 40.0], [10.0, 40.0], 4, 2) == pytest.approx(70.0)
    # one client left on two workers: no parallel speed-up
    assert estimate_eta([30.0], [], 1, 2) == pytest.approx(30.0)


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_progress_plain_lines_for_non_tty():
    out, clock = io.StringIO(), Clock()
    d = ProgressDisplay(total=3, workers=1, stream=out, tty=False, clock=clock)
    d.client_finished("c", "Gamma", "übersprungen")
    d.client_started("a", "Alpha")
    d.chapter("a", "Datengrundlage", 1, 8)
    clock.t = 40.0
    d.client_finished("a", "Alpha", "OK", 40.0)
    assert out.getvalue().splitlines() == [
        "[1/3] Gamma: übersprungen",
        "[1/3] Alpha: gestartet",
        "[1/3] Alpha: Kapitel 1/8 – Datengrundlage",
        "[2/3] Alpha: OK nach 40,0\u00a0s (Restzeit ca. 40,0\u00a0s)",
    ]
    assert "\x1b" not in out.getvalue()


def test_progress_tty_redraws_block_in_place():
    out, clock = io.StringIO(), Clock()
    d = ProgressDisplay(total=2, workers=2, stream=out, tty=True, clock=clock)
    d.client_started("a", "Alpha")
    d.client_started("b", "Beta")
    clock.t = 12.0
    d.chapter("b", "Abwanderungsprognose", 5, 8)
    assert d.lines() == [
        "Berichte: 0/2 fertig · Restzeit wird geschätzt …",
        "  ▸ Alpha – Daten laden und prüfen (12,0\u00a0s)",
        "  ▸ Beta – Kapitel 5/8: Abwanderungsprognose (12,0\u00a0s)",
    ]
    assert "\x1b[3F\x1b[J" in out.getvalue()  # previous 3-line block erased before redrawing
    d.client_finished("a", "Alpha", "Fehler", 12.0, "Datei kaputt")
    assert "Alpha: Fehler (12,0\u00a0s): Datei kaputt\n" in out.getvalue()
    assert d.header() == "Berichte: 1/2 fertig, 1 mit Fehler · Restzeit ca. 0,0\u00a0s"


# ----------------------------------------------------------------------------- processes


def test_worker_processes_isolate_failures_and_report_progress(tmp_path):
    f = write_batch(tmp_path, THREE)
    jobs = batch.load_batch_file(f)
    err = io.StringIO()
    res = batch.run_batch(jobs, workers=2, build=fake_build, stream=err, tty=False)
    assert [r.status for r in res] == ["OK", "Fehler", "OK"]
    assert res[1].message == "b.csv: Spalte „Umsatz“ fehlt."
    log = err.getvalue()
    assert "Alpha GmbH: Kapitel 3/3 – Anhang" in log
    assert "Beta KG: Kapitel 2/3 – Kundensegmentierung nach RFM" in log
    assert "[3/3]" in log


@pytest.mark.slow
def test_real_batch_with_one_bad_file(tmp_path, monkeypatch):
    # other engineers edit the code in parallel; pin the code version so the re-run can skip
    monkeypatch.setattr(batch, "code_version", lambda: "fest")
    from helpers.config import SAMPLE_DIR

    (tmp_path / "kaputt.csv").write_text("Kunde;Datum\n1;gestern\n", "utf-8")
    f = tmp_path / "kunden.yaml"
    f.write_text(
        "defaults:\n  out: berichte\nclients:\n"
        f"  - name: Beispiel Großhandel KG\n    data: {SAMPLE_DIR / 'grosshandel_export.csv'}\n"
        "  - name: Kaputt GmbH\n    data: kaputt.csv\n",
        "utf-8",
    )
    jobs = batch.load_batch_file(f)
    res = batch.run_batch(jobs, workers=2, stream=io.StringIO(), tty=False)
    ok, bad = res
    assert ok.status == "OK", (ok.message, ok.log and Path(ok.log).read_text("utf-8")[-3000:])
    assert Path(ok.pdf).is_file() and Path(ok.pdf).read_bytes()[:4] == b"%PDF"
    assert bad.status == "Fehler" and bad.message and Path(bad.log).is_file()
    assert batch.exit_code(res) == 2  # unreadable data: the user can fix it
    again = batch.run_batch(jobs, workers=2, stream=io.StringIO(), tty=False)
    assert [r.status for r in again] == ["übersprungen", "Fehler"]
