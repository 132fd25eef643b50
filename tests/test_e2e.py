"""End to end: ``kundenwert report`` on the sample data in a subprocess (network blocked)."""

from __future__ import annotations

import re

import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from helpers.chapters import CHAPTERS
from helpers.config import SAMPLE_DATA
from helpers.report.pipeline import COMPUTE_STEP

pytestmark = pytest.mark.slow


def _german_int(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _run(args, env=None, timeout=900):
    return subprocess.run([sys.executable, "-m", "helpers", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, check=False)


@pytest.mark.skipif(not SAMPLE_DATA.exists(), reason="Beispieldaten fehlen")
def test_report_on_sample_data(tmp_path, netguard_env, pdf_text):
    env, log = netguard_env
    t0 = time.monotonic()
    proc = _run(["report", "--data", str(SAMPLE_DATA), "--client", "Beispiel Onlineshop GmbH",
                 "--out", str(tmp_path), "--engine", "typst"], env=env)
    duration = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr[-3000:]
    pdf = Path(proc.stdout.strip().splitlines()[-1])
    assert pdf.is_absolute() and pdf.is_file() and pdf.suffix == ".pdf"
    text = pdf_text(pdf)
    n_customers = pd.read_csv(SAMPLE_DATA, usecols=["customer_id"])["customer_id"].nunique()
    for expected in ("Beispiel Onlineshop GmbH", "Kundensegmentierung nach RFM", "Datengrundlage",
                     "Abbildung 1", "Tabelle 1", "Inhaltsverzeichnis", _german_int(n_customers)):
        assert expected in text, expected
    for banned in ("Figure", "Table of Contents", "Traceback", "NaN", "@fig-", "@tbl-"):
        assert banned not in text, banned
    n = len(CHAPTERS) + 1
    steps = re.findall(r"^\[(\d+)/(\d+)\] (.+?) …$", proc.stderr, flags=re.M)
    assert steps[0] == ("1", str(n), COMPUTE_STEP)  # chapters start as their results are stored
    assert [int(i) for i, _, _ in steps] == list(range(1, n + 1)) and {t for _, _, t in steps[1:]} == {
        ch.title for ch in CHAPTERS}
    assert "Traceback" not in proc.stderr
    assert sorted(p.stem for p in (pdf.parent / "work" / "results").glob("*.pkl")) == sorted(
        ch.slug for ch in CHAPTERS)
    assert list((pdf.parent / "zielgruppen").glob("*.csv"))  # CRM target lists of the action plan
    blocked = [line for line in log.read_text().splitlines() if "guard-loaded" not in line]
    assert blocked == []
    print(f"end-to-end report: {duration:.1f} s")


def test_bad_input_exit_2_german(tmp_path):
    bad = tmp_path / "kaputt.csv"
    bad.write_text("Name;Stadt\nA;Berlin\n", "utf-8")
    proc = _run(["report", "--data", str(bad), "--client", "Kaputt GmbH", "--out", str(tmp_path)], timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("Erstelle Bericht") or "Fehler:" in proc.stderr
    assert "Fehler:" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert not list(tmp_path.rglob("*.pdf"))
