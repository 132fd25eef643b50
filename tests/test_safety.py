"""Issue "Real client data": safe folder names, literal printing of hostile text, no network, no stale or lost PDFs."""

from __future__ import annotations

import socket
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers import chapters
from helpers.config import ReportConfig
from helpers.exceptions import DataValidationError, RenderError
from helpers.report import pipeline
from helpers.report.pipeline import build_report, client_dir
from helpers.report.slug import client_slug

HOSTILE = ["#set page(width: 1cm)", "$x^2$", "<script>alert(1)</script>", "{{< embed x >}}",
           "\\textbf{fett}", "*nicht kursiv*", "@fig-x", "[Link](http://x)"]


@pytest.mark.parametrize("name, slug", [
    ("Müller & Söhne GmbH", "mueller-soehne-gmbh"),
    ("ÄÖÜ äöü ß", "aeoeue-aeoeue-ss"),
    ("../../etc", "etc"),
    ("/etc/passwd", "etc-passwd"),
    ("..", "kunde"),
    ("", "kunde"),
    ("C:\\Windows", "c-windows"),
    ("Café Ñandú", "cafe-nandu"),
])
def test_client_slug(name, slug):
    assert client_slug(name) == slug


@pytest.mark.parametrize("name", ["../../etc", "..", "/", "a/../../b", "~root"])
def test_client_dir_stays_inside_out_dir(tmp_path, name):
    d = client_dir(tmp_path, name)
    assert d.parent == tmp_path.resolve()


def _tiny_csv(path: Path, n_customers: int = 30) -> Path:
    rows = [(c, f"2025-0{1 + k}-1{c % 9}", 10.0 + c + k, "Wäsche #1 $x$") for c in range(n_customers) for k in range(2)]
    pd.DataFrame(rows, columns=["customer_id", "order_date", "revenue", "category"]).to_csv(path, index=False)
    return path


def _previous_result(out: Path, name: str) -> tuple[Path, bytes]:
    """A complete earlier result of ``name`` in ``out`` (PDF + key), made through the real folder protocol."""
    from helpers import privacy
    from helpers.report.outdir import ClientFolder

    with ClientFolder(out, name) as folder:
        (folder.path / f"{folder.slug}.pdf").write_bytes(b"%PDF alt")
        key = privacy.load_or_create_key(folder.path / privacy.KEY_FILE)
        folder.commit()
    return folder.target, key


def test_failed_run_keeps_previous_result_and_says_where_the_partial_output_is(tmp_path):
    cfg = ReportConfig(client_name="Alt GmbH")
    target, key = _previous_result(tmp_path, cfg.client_name)
    bad = tmp_path / "leer.csv"
    bad.write_text("customer_id,order_date,revenue\n", "utf-8")
    with pytest.raises(DataValidationError) as err:
        build_report(bad, cfg, tmp_path, engine="typst")
    assert (target / "alt-gmbh.pdf").read_bytes() == b"%PDF alt"  # previous complete result untouched
    assert (target / "pseudonym.key").read_text().strip() == key.hex()
    failed = target / "fehlgeschlagener-lauf"
    assert "Kopfzeile" in (failed / "FEHLGESCHLAGEN.txt").read_text("utf-8")
    assert not (failed / "pseudonym.key").exists() and not (failed / "zielgruppen").exists()
    assert f"„{failed}“" in err.value.kundenwert_note and "ist unverändert" in err.value.kundenwert_note
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alt-gmbh", "leer.csv"]  # no lock, no build folder


def _guard_parent(monkeypatch, attempts):
    real_connect = socket.socket.connect

    def connect(self, address):
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            attempts.append(address)
            raise OSError("Netzwerkzugriff im Test blockiert")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


def test_missing_notebook_is_an_error(tmp_path, monkeypatch):
    cfg = ReportConfig(client_name="Alt GmbH")
    target, _ = _previous_result(tmp_path, cfg.client_name)
    monkeypatch.setattr(chapters.Chapter, "path", property(lambda self: tmp_path / "leer" / self.notebook))
    with pytest.raises(RenderError, match="Kapitel-Notebook fehlt: „Management Summary“"):
        build_report(_tiny_csv(tmp_path / "d.csv"), cfg, tmp_path, engine="typst")
    assert (target / "alt-gmbh.pdf").read_bytes() == b"%PDF alt"
    assert not (target / "fehlgeschlagener-lauf").exists()  # checked before the folder is touched


PARAMETERS = ('data_path = ""\nclient_name = ""\nsettings = {}\nwork_dir = None')
SETUP = ("from helpers import session, fmt, labels\nfrom helpers.report.display import show_text, show_table, md_escape\n"
         "ctx = session.open(data_path, client_name, settings, work_dir=work_dir)\ncfg, ds = ctx.cfg, ctx.ds")


def _chapter_notebook(ch, *cells):
    nb = new_notebook(cells=[new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}), new_code_cell(SETUP),
                             new_markdown_cell(f"# {ch.title} {{#sec-{ch.slug}}}"), *cells])
    nb.metadata["kernelspec"] = {"name": "kundenwert", "display_name": "Python (kundenwert)", "language": "python"}
    return nb


@pytest.mark.slow
def test_pipeline_offline_and_hostile_text_printed_literally(tmp_path, monkeypatch, netguard_env, pdf_text):
    """Pipeline run with tiny chapter notebooks: kernels get the loopback-only guard (sitecustomize via
    PYTHONPATH), the parent process has socket.connect patched. Hostile client name and data values
    appear literally; the notebooks read the results the pipeline computed."""
    env, log = netguard_env
    for key in ("PYTHONPATH", "KUNDENWERT_NETLOG"):
        monkeypatch.setenv(key, env[key])
    attempts: list = []
    _guard_parent(monkeypatch, attempts)

    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    for ch in chapters.CHAPTERS:
        cells = [new_code_cell("res = ctx.result(" + repr(ch.slug) + ")\nshow_text('Ergebnis ' + type(res).__name__)")]
        if ch.slug == "data":
            cells.append(new_code_cell(
                "import socket\nshow_text('Schutz aktiv: ' + str(getattr(socket, 'KUNDENWERT_NET_GUARD', False)))\n"
                "show_text('Kunde: ' + md_escape(cfg.client_name) + '. Kunden: ' + fmt.integer(ds.customers.shape[0]))\n"
                "show_table(ds.transactions[['category']].drop_duplicates(), caption='Warengruppen', "
                "label='tbl-data-wg')"))
        nbformat.write(_chapter_notebook(ch, *cells), str(nb_dir / ch.notebook))
    monkeypatch.setattr(chapters.Chapter, "path", property(lambda self: nb_dir / self.notebook))

    client = " ".join(HOSTILE)
    cfg = ReportConfig.from_settings(client, {"consultant": "Beratung \"Ölsen\" & Co\n#pagebreak()"})
    seen = []
    pdf = build_report(_tiny_csv(tmp_path / "d.csv"), cfg, tmp_path / "out", engine="typst",
                       progress=lambda c, t, i, n: seen.append((c, t, i, n)))
    n = len(chapters.CHAPTERS) + 1
    assert seen[0] == (client, pipeline.COMPUTE_STEP, 1, n)  # chapters follow as their results are ready
    assert [i for _, _, i, _ in seen] == list(range(1, n + 1)) and {c for c, *_ in seen} == {client}
    assert sorted(t for _, t, _, _ in seen[1:]) == sorted(ch.title for ch in chapters.CHAPTERS)
    assert pdf.is_file() and pdf.parent.parent == (tmp_path / "out").resolve()
    assert (pdf.parent / "pseudonym.key").is_file()
    assert sorted(p.stem for p in (pdf.parent / "work" / "results").glob("*.pkl")) == sorted(chapters.REPORT_ORDER)
    text = " ".join(pdf_text(pdf).split())
    assert "Schutz aktiv: True" in text
    assert "Kunden: 30" in text and "Ergebnis ActionsResult" in text
    for piece in HOSTILE + ['Beratung "Ölsen" & Co #pagebreak()', "Wäsche #1 $x$"]:
        assert piece in text, piece
    assert attempts == []
    lines = log.read_text().splitlines()
    assert any("guard-loaded" in line for line in lines)
    assert [line for line in lines if "guard-loaded" not in line] == []
