"""Issue 14, "Output folders": one client's report never touches another's.

Slugs and client identity (kunde.json), the folder lock (two real processes, a killed run), build
into a temporary folder and swap only on success (pseudonym key kept, previous result untouched
by failed runs), batch slugs and collisions, and German exit-2 errors for everything a user can
cause (read-only or file ``--out``, disk full, broken YAML, broken/encrypted xlsx, zip, gz, parquet).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import unicodedata
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from helpers import batch, cli, privacy
from helpers.config import ReportConfig
from helpers.exceptions import (ConfigError, DataValidationError, FileSystemError, OutputFolderError,
                                translate_error)
from helpers.report import outdir, pipeline
from helpers.report.outdir import FAILED_DIR, IDENTITY_FILE, ClientFolder
from helpers.report.slug import client_slug, normalize_name, same_client

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus" / "files"


# ----------------------------------------------------------------------------- helpers


def make_result(out: Path, name: str, pdf: bytes = b"%PDF alt", slug: str | None = None) -> tuple[Path, bytes]:
    """A complete earlier result of ``name`` (PDF + key), made through the real folder protocol."""
    with ClientFolder(out, name, slug) as folder:
        (folder.path / f"{folder.slug}.pdf").write_bytes(pdf)
        key = privacy.load_or_create_key(folder.path / privacy.KEY_FILE)
        folder.commit()
    return folder.target, key


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` with its content (to prove a folder was not touched)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def tiny_csv(path: Path, n_customers: int = 30) -> Path:
    rows = [(c, f"2025-0{1 + k}-1{c % 9}", 10.0 + c + k, "Wäsche") for c in range(n_customers) for k in range(2)]
    pd.DataFrame(rows, columns=["customer_id", "order_date", "revenue", "category"]).to_csv(path, index=False)
    return path


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    """Exit code and stderr from the progress line "Erstelle Bericht ..." on (the message starts it)."""
    code = cli.main(argv)
    err = capsys.readouterr().err
    return code, err.split(" …\n", 1)[1] if err.startswith("Erstelle Bericht") else err


# ----------------------------------------------------------------------------- slugs


def test_german_spellings_share_a_slug_and_differ_as_clients():
    assert client_slug("Müller & Söhne GmbH") == client_slug("Mueller Soehne GmbH") == "mueller-soehne-gmbh"
    assert not same_client("Müller & Söhne GmbH", "Mueller Soehne GmbH")
    # the same client typed differently (case, white space, NFC/NFD) is the same client
    assert same_client("Müller & Söhne GmbH", "  müller &  SÖHNE gmbh ")
    assert same_client("Müller GmbH", unicodedata.normalize("NFD", "Müller GmbH"))


@pytest.mark.parametrize("name, slug", [
    ("ООО «Ромашка»", "ooo-romashka"),        # Russian, transliterated letter by letter
    ("Щука и Ёлка", "shchuka-i-elka"),
    ("Київ Трейд", "kiyiv-trejd"),            # к-и-ї-в: k-i-yi-v (one table, и -> i), й -> j
    ("Αθήνα ΑΕ", "athina-ae"),                # Greek
    ("Ørsted A/S", "orsted-a-s"),
    ("Łódź Sp. z o.o.", "lodz-sp-z-o-o"),
])
def test_cyrillic_greek_and_latin_extras_are_transliterated(name, slug):
    assert client_slug(name) == slug


def test_other_scripts_get_a_stable_hash_instead_of_kunde():
    names = ["北京贸易有限公司", "上海贸易有限公司", "شركة النور", "חברה בע״מ", "株式会社トヨタ"]
    slugs = [client_slug(n) for n in names]
    assert len(set(slugs)) == len(names) and "kunde" not in slugs
    # the suffix is the first 8 hex digits of SHA-256 of the normalized name (stable across runs/machines)
    expected = hashlib.sha256("北京贸易有限公司".encode("utf-8")).hexdigest()[:8]
    assert slugs[0] == f"kunde-{expected}"
    assert client_slug("ACME 北京") != client_slug("ACME 上海") and client_slug("ACME 北京").startswith("acme-")
    assert client_slug("ACME") == "acme"  # pure Latin names get no suffix
    assert all(len(s) <= 60 for s in map(client_slug, ["x" * 80 + "北", "北" * 80]))


def test_normalize_name():
    assert normalize_name(" Foo\tBAR  gmbh ") == "foo bar gmbh"


# ----------------------------------------------------------------------------- identity


def test_first_run_records_the_client_and_reruns_keep_key_and_created(tmp_path):
    target, key = make_result(tmp_path, "Müller & Söhne GmbH")
    ident = json.loads((target / IDENTITY_FILE).read_text("utf-8"))
    assert ident["name"] == "Müller & Söhne GmbH" and ident["slug"] == "mueller-soehne-gmbh"
    created = ident["created"]
    target2, key2 = make_result(tmp_path, "müller & söhne gmbh", pdf=b"%PDF neu")
    assert target2 == target and key2 == key  # same client: the pseudonym key survives the swap
    assert (target / "mueller-soehne-gmbh.pdf").read_bytes() == b"%PDF neu"
    ident2 = json.loads((target / IDENTITY_FILE).read_text("utf-8"))
    assert ident2["created"] == created and ident2["name"] == "müller & söhne gmbh"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mueller-soehne-gmbh"]  # no lock, no temp left


def test_colliding_client_is_refused_and_nothing_is_touched(tmp_path, capsys):
    target, key = make_result(tmp_path, "Müller & Söhne GmbH")
    before = snapshot(target)
    with pytest.raises(OutputFolderError) as err:
        ClientFolder(tmp_path, "Mueller Soehne GmbH").__enter__()
    msg = str(err.value)
    assert "gehört bereits zum Kunden „Müller & Söhne GmbH“" in msg and "„Mueller Soehne GmbH“" in msg
    assert "--out" in msg and err.value.exit_code == 2
    # through the CLI: exit 2, German, before the data file is even read
    data = tiny_csv(tmp_path.parent / f"{tmp_path.name}-daten.csv")
    code, err_text = run_cli(["report", "--data", str(data), "--client", "Mueller Soehne GmbH",
                              "--out", str(tmp_path), "--engine", "typst"], capsys)
    assert code == 2 and err_text.startswith("Fehler: Der Ausgabeordner") and "Traceback" not in err_text
    assert snapshot(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mueller-soehne-gmbh"]


def _legacy_notebook(folder: Path, client: str) -> None:
    nb = {"cells": [{"cell_type": "code", "metadata": {"tags": ["injected-parameters"]}, "outputs": [],
                     "source": f"# Parameters\ndata_path = \"x.csv\"\nclient_name = {json.dumps(client)}\n"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (folder / "notebooks").mkdir(parents=True)
    (folder / "notebooks" / "01-datengrundlage.ipynb").write_text(json.dumps(nb), "utf-8")


def test_folders_of_earlier_versions(tmp_path):
    """Without kunde.json the client name is read from the executed notebooks of the earlier run."""
    own = tmp_path / "mueller-soehne-gmbh"
    _legacy_notebook(own, "Müller & Söhne GmbH")
    (own / "mueller-soehne-gmbh.pdf").write_bytes(b"%PDF v1")
    (own / "pseudonym.key").write_text("ab" * 32 + "\n")
    with pytest.raises(OutputFolderError, match="gehört bereits zum Kunden „Müller & Söhne GmbH“"):
        ClientFolder(tmp_path, "Mueller Soehne GmbH").__enter__()
    target, key = make_result(tmp_path, "Müller & Söhne GmbH")  # the owner adopts it, key kept
    assert key == bytes.fromhex("ab" * 32) and (target / IDENTITY_FILE).is_file()

    # a PDF without notebooks: owner unknown -> refused, with the way to adopt it
    unknown = tmp_path / "alt-gmbh"
    unknown.mkdir()
    (unknown / "alt-gmbh.pdf").write_bytes(b"%PDF")
    with pytest.raises(OutputFolderError, match="früheren Version ohne Kundenangabe .kunde.json.") as err:
        ClientFolder(tmp_path, "Alt GmbH").__enter__()
    assert '{"name": "Alt GmbH"}' in str(err.value)
    (unknown / IDENTITY_FILE).write_text('{"name": "Alt GmbH"}', "utf-8")
    make_result(tmp_path, "Alt GmbH")

    # only a key (a first run that failed while loading, earlier version): nothing was published
    keyonly = tmp_path / "neu-kg"
    keyonly.mkdir()
    (keyonly / "pseudonym.key").write_text("cd" * 32 + "\n")
    assert make_result(tmp_path, "Neu KG")[1] == bytes.fromhex("cd" * 32)


def test_foreign_folders_are_never_used(tmp_path):
    """``reports/template`` (or any folder kundenwert did not make) is never replaced by a report."""
    template = tmp_path / "template"
    template.mkdir()
    (template / "kundenwert.typ").write_text("#let x = 1")
    with pytest.raises(OutputFolderError, match="nicht von kundenwert angelegt .* „kundenwert.typ“"):
        ClientFolder(tmp_path, "Template").__enter__()
    assert (template / "kundenwert.typ").read_text() == "#let x = 1"
    (tmp_path / "datei-gmbh").write_text("keine Mappe")
    with pytest.raises(OutputFolderError, match="kein Ordner, sondern eine Datei"):
        ClientFolder(tmp_path, "Datei GmbH").__enter__()
    (tmp_path / "link-gmbh").symlink_to(template)
    with pytest.raises(OutputFolderError, match="Verknüpfung"):
        ClientFolder(tmp_path, "Link GmbH").__enter__()


def test_broken_identity_file_and_key_are_german_errors(tmp_path):
    target, _ = make_result(tmp_path, "Alt GmbH")
    (target / IDENTITY_FILE).write_text("{kaputt", "utf-8")
    with pytest.raises(OutputFolderError, match="ist beschädigt oder nicht lesbar"):
        ClientFolder(tmp_path, "Alt GmbH").__enter__()
    (target / IDENTITY_FILE).write_text('{"name": "Alt GmbH"}', "utf-8")
    (target / "pseudonym.key").write_text("nicht hex\n")
    with pytest.raises(OutputFolderError, match="Pseudonym-Schlüssel .* ist beschädigt") as err:
        make_result(tmp_path, "Alt GmbH")
    assert err.value.exit_code == 2
    assert (target / "pseudonym.key").read_text() == "nicht hex\n"  # never silently replaced


def test_the_users_own_files_in_the_client_folder_survive_a_swap(tmp_path):
    target, _ = make_result(tmp_path, "Alt GmbH")
    target.chmod(0o700)  # a consultant protected the client's folder
    (target / "notizen.txt").write_text("Termin am 3.5.", "utf-8")
    (target / "export").mkdir()
    (target / "export" / "daten.csv").write_text("a;b\n", "utf-8")
    make_result(tmp_path, "Alt GmbH", pdf=b"%PDF neu")
    assert (target / "notizen.txt").read_text("utf-8") == "Termin am 3.5."
    assert (target / "export" / "daten.csv").read_text("utf-8") == "a;b\n"
    assert (target / "alt-gmbh.pdf").read_bytes() == b"%PDF neu"
    assert (target.stat().st_mode & 0o777) == 0o700


def test_swap_without_renameat2_and_recovery_after_a_crash_between_the_renames(tmp_path, monkeypatch):
    monkeypatch.setattr(outdir, "_exchange", lambda a, b: False)
    target, key = make_result(tmp_path, "Alt GmbH")
    assert make_result(tmp_path, "Alt GmbH", pdf=b"%PDF 2")[1] == key
    assert (target / "alt-gmbh.pdf").read_bytes() == b"%PDF 2"
    # state after a crash between "old -> .alt" and "build -> target": the next run restores the old
    # result first and removes the half-done build folder
    os.rename(target, tmp_path / ".alt-gmbh.alt-0000")
    (tmp_path / ".alt-gmbh.neu-1111").mkdir()
    (tmp_path / ".alt-gmbh.neu-1111" / "halb.txt").write_text("x")
    with ClientFolder(tmp_path, "Alt GmbH") as folder:
        assert (target / "alt-gmbh.pdf").read_bytes() == b"%PDF 2"
        assert not (tmp_path / ".alt-gmbh.alt-0000").exists() and not (tmp_path / ".alt-gmbh.neu-1111").exists()
        assert (folder.path / "pseudonym.key").read_text().strip() == key.hex()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alt-gmbh"]


def test_swap_that_fails_halfway_puts_the_previous_result_back(tmp_path, monkeypatch):
    target, key = make_result(tmp_path, "Alt GmbH")
    before = snapshot(target)
    monkeypatch.setattr(outdir, "_exchange", lambda a, b: False)
    real_rename = os.rename

    def rename(src, dst):
        if ".neu-" in str(src) and Path(dst) == target:
            raise OSError(errno.EIO, "Input/output error", str(dst))
        return real_rename(src, dst)

    monkeypatch.setattr(outdir.os, "rename", rename)
    with pytest.raises(OSError):
        make_result(tmp_path, "Alt GmbH", pdf=b"%PDF neu")
    assert {k: v for k, v in snapshot(target).items() if not k.startswith(FAILED_DIR)} == before
    assert not list(tmp_path.glob(".alt-gmbh.*"))


def test_failed_run_keeps_previous_result_partial_output_in_a_named_folder(tmp_path):
    target, key = make_result(tmp_path, "Alt GmbH")
    before = snapshot(target)
    with pytest.raises(DataValidationError) as err:
        with ClientFolder(tmp_path, "Alt GmbH") as folder:
            (folder.path / "notebooks").mkdir()
            (folder.path / "notebooks" / "01.ipynb").write_text("{}")
            (folder.path / "zielgruppen").mkdir()
            (folder.path / "zielgruppen" / "liste.csv").write_text("K-1")
            build = folder.path
            raise DataValidationError(f"Kapitel kaputt, Notebook unter {build}/notebooks/01.ipynb.")
    failed = target / FAILED_DIR
    assert {k: v for k, v in snapshot(target).items() if not k.startswith(FAILED_DIR)} == before
    assert (failed / "notebooks" / "01.ipynb").is_file()
    assert not (failed / "zielgruppen").exists() and not (failed / "pseudonym.key").exists()
    assert str(build) not in str(err.value) and f"{failed}/notebooks/01.ipynb" in str(err.value)
    note = (failed / "FEHLGESCHLAGEN.txt").read_text("utf-8")
    assert "KEIN gültiges Ergebnis" in note and f"{failed}/notebooks/01.ipynb" in note
    assert err.value.kundenwert_note.startswith(f"Teilergebnisse dieses Laufs (Notebooks, Protokoll, "
                                                f"FEHLGESCHLAGEN.txt): „{failed}“.")
    # the next successful run removes the failed-run folder
    make_result(tmp_path, "Alt GmbH", pdf=b"%PDF neu")
    assert not failed.exists()


def test_failed_first_run_claims_no_folder(tmp_path):
    with pytest.raises(RuntimeError):
        with ClientFolder(tmp_path, "Müller & Söhne GmbH"):
            raise RuntimeError("Fehler im Programm")
    target = tmp_path / "mueller-soehne-gmbh"
    assert sorted(p.name for p in target.iterdir()) == [FAILED_DIR]
    # no complete result and no identity: another spelling may still take the folder
    make_result(tmp_path, "Mueller Soehne GmbH")


# ----------------------------------------------------------------------------- lock


def test_second_run_in_the_same_process_is_refused(tmp_path):
    with ClientFolder(tmp_path, "Alt GmbH"):
        with pytest.raises(OutputFolderError, match="läuft bereits") as err:
            ClientFolder(tmp_path, "alt gmbh").__enter__()
        assert f"Prozess {os.getpid()}" in str(err.value) and err.value.exit_code == 2
        # a different client is not blocked
        make_result(tmp_path, "Beta KG")
    make_result(tmp_path, "Alt GmbH")


HOLDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from helpers.report.outdir import ClientFolder
    out, name = sys.argv[1], sys.argv[2]
    with ClientFolder(out, name) as folder:
        (folder.path / "alt-gmbh.pdf").write_bytes(b"%PDF Lauf A")
        Path(out + ".bereit").write_text(str(folder.path))
        sys.stdin.readline()          # hold the folder until the test says so (or kills us)
        folder.commit()
""")


def _start_holder(out: Path, name: str) -> subprocess.Popen:
    ready = Path(str(out) + ".bereit")
    ready.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(out), name], stdin=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60  # a wait for the other process, not a timing assertion
    while not ready.exists():
        assert proc.poll() is None, "holder process ended early"
        assert time.monotonic() < deadline, "holder process did not start"
        time.sleep(0.05)
    return proc


def test_two_processes_second_run_exits_2_laeuft_bereits(tmp_path):
    out = tmp_path / "out"
    data = tiny_csv(tmp_path / "d.csv")
    holder = _start_holder(out, "Alt GmbH")
    try:
        proc = subprocess.run([sys.executable, "-m", "helpers", "report", "--data", str(data), "--client",
                               "Alt GmbH", "--out", str(out), "--engine", "typst"],
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 2, proc.stderr
        assert "läuft bereits" in proc.stderr and f"Prozess {holder.pid}" in proc.stderr
        assert "Traceback" not in proc.stderr and proc.stdout == ""
    finally:
        holder.communicate("weiter\n", timeout=60)
    assert holder.returncode == 0
    assert (out / "alt-gmbh" / "alt-gmbh.pdf").read_bytes() == b"%PDF Lauf A"  # only A's result
    assert sorted(p.name for p in out.iterdir()) == ["alt-gmbh"]


def test_killed_run_leaves_no_stale_lock_and_the_previous_result(tmp_path):
    out = tmp_path / "out"
    target, key = make_result(out, "Alt GmbH", pdf=b"%PDF gut")
    holder = _start_holder(out, "Alt GmbH")
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=60)
    assert (out / ".alt-gmbh.lock").exists() and list(out.glob(".alt-gmbh.neu-*"))  # left-overs of the crash
    assert (target / "alt-gmbh.pdf").read_bytes() == b"%PDF gut"
    assert make_result(out, "Alt GmbH", pdf=b"%PDF neu")[1] == key  # no "läuft bereits", same key
    assert sorted(p.name for p in out.iterdir()) == ["alt-gmbh"]  # stale build folder and lock cleaned up


def test_lock_file_is_not_inherited_by_child_processes(tmp_path):
    """Notebook kernels are child processes: they must not keep the lock alive after the run."""
    with ClientFolder(tmp_path, "Alt GmbH") as folder:
        fd = folder._fd
        assert fd is not None and not os.get_inheritable(fd)


# ----------------------------------------------------------------------------- build_report


def test_build_report_writes_only_into_its_own_folder(tmp_path, monkeypatch):
    """Fake steps after loading: the pipeline builds in a temp folder and swaps in the result."""
    out = tmp_path / "out"
    other, _ = make_result(out, "Andere AG")
    other_before = snapshot(other)
    target, key = make_result(out, "Alt GmbH")
    seen = {}

    def fake_build(folder, data_path, cfg, engine, progress, kernels):
        seen["build"] = folder.path
        assert folder.path.parent == out.resolve() and folder.path.name.startswith(".alt-gmbh.neu-")
        assert (folder.path / "pseudonym.key").read_text().strip() == key.hex()
        assert (target / "alt-gmbh.pdf").read_bytes() == b"%PDF alt"  # old result in place during the run
        pdf = folder.path / "alt-gmbh.pdf"
        pdf.write_bytes(b"%PDF neu")
        return folder.final(pdf)

    monkeypatch.setattr(pipeline, "_build", fake_build)
    pdf = pipeline.build_report(tiny_csv(tmp_path / "d.csv"), ReportConfig(client_name="Alt GmbH"), out,
                                engine="typst")
    assert pdf == target / "alt-gmbh.pdf" and pdf.read_bytes() == b"%PDF neu"
    assert not seen["build"].exists()
    assert snapshot(other) == other_before
    assert sorted(p.name for p in out.iterdir()) == ["alt-gmbh", "andere-ag"]


def test_disk_full_is_exit_2_german_and_deletes_the_partial_output(tmp_path, monkeypatch, capsys):
    """Simulated ENOSPC while writing the prepared data (the real one: test_real_disk_full_on_tmpfs)."""
    from helpers import session

    out = tmp_path / "out"
    target, _ = make_result(out, "Alt GmbH")
    before = snapshot(target)

    def full(ds, work):
        raise OSError(errno.ENOSPC, "No space left on device", str(work / "transactions.parquet"))

    monkeypatch.setattr(pipeline, "_load", lambda *a: object())
    monkeypatch.setattr(session, "write_prepared", full)
    code, err = run_cli(["report", "--data", str(tiny_csv(tmp_path / "d.csv")), "--client", "Alt GmbH",
                         "--out", str(out), "--engine", "typst"], capsys)
    assert code == 2, err
    assert "Auf dem Datenträger ist kein Platz mehr frei" in err and "--out" in err
    assert "No space" not in err and "Unerwarteter Fehler" not in err
    assert "gelöscht, um Speicherplatz freizugeben" in err and "ist unverändert" in err
    assert snapshot(target) == before  # no failed-run folder either: the space is needed
    assert sorted(p.name for p in out.iterdir()) == ["alt-gmbh"]


@pytest.mark.parametrize("errno_, text", [
    (errno.ENOSPC, "kein Platz mehr frei"), (errno.EDQUOT, "Speicherkontingent"),
    (errno.EROFS, "schreibgeschützt"), (errno.EACCES, "Keine Zugriffsberechtigung"),
    (errno.EPERM, "nicht erlaubt"), (errno.ENOTDIR, "kein Ordner"), (errno.EIO, "Lese- oder Schreibfehler"),
])
def test_os_errors_a_user_can_cause_are_german_exit_2(errno_, text):
    german = translate_error(OSError(errno_, "English text", "/x/y"))
    assert isinstance(german, FileSystemError) and german.exit_code == 2
    assert text in str(german) and "„/x/y“" in str(german) and "English" not in str(german)


def test_unreadable_data_file_is_german(tmp_path):
    """data.py quotes strerror ("Permission denied"); the boundary makes it German (root cannot test it for real)."""
    data = tmp_path / "d.csv"
    cause = PermissionError(errno.EACCES, "Permission denied", str(data))
    exc = DataValidationError("Datei „d.csv“: Die Datei kann nicht gelesen werden (Permission denied).")
    exc.__cause__ = cause
    german = translate_error(exc, data)
    assert isinstance(german, DataValidationError) and german.exit_code == 2
    assert str(german) == (f"Datei „d.csv“: Die Datei kann nicht gelesen werden. Keine Zugriffsberechtigung "
                           f"(„{data}“). Bitte die Datei und ihre Zugriffsrechte prüfen.")
    plain = DataValidationError("Datei „d.csv“: Die Datei ist leer.")
    assert translate_error(plain, data) is plain  # German messages pass unchanged


def test_other_errors_stay_bugs(monkeypatch, tmp_path, capsys):
    assert translate_error(OSError(errno.EBADF, "Bad file descriptor")) is None
    assert translate_error(RuntimeError("x")) is None
    monkeypatch.setattr(pipeline, "build_report", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.EBADF, "x")))
    code, err = run_cli(["report", "--data", str(tiny_csv(tmp_path / "d.csv")), "--client", "K"], capsys)
    assert code == 1 and "Unerwarteter Fehler (OSError)" in err


def test_out_is_a_file_or_below_a_file(tmp_path, capsys):
    data = tiny_csv(tmp_path / "d.csv")
    afile = tmp_path / "datei.txt"
    afile.write_text("x")
    for out, text in ((afile, "ist eine Datei, kein Ordner"), (afile / "sub", "„" + str(afile) + "“ ist eine Datei")):
        code, err = run_cli(["report", "--data", str(data), "--client", "K", "--out", str(out),
                             "--engine", "typst"], capsys)
        assert code == 2 and err.startswith("Fehler: Der Ausgabeordner") and text in err, err
    assert afile.read_text() == "x"


def test_out_not_writable_is_exit_2(tmp_path, monkeypatch, capsys):
    """EACCES on the lock file (simulated: the tests may run as root; real read-only: tmpfs test)."""
    real_open = os.open

    def deny(path, *a, **k):
        if str(path).endswith(".lock"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(outdir.os, "open", deny)
    code, err = run_cli(["report", "--data", str(tiny_csv(tmp_path / "d.csv")), "--client", "K",
                         "--out", str(tmp_path / "out"), "--engine", "typst"], capsys)
    assert code == 2 and "kann nicht geschrieben werden" in err and "Keine Zugriffsberechtigung" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_out_read_only_by_permissions(tmp_path, capsys):  # pragma: no cover - not root
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o500)
    try:
        code, err = run_cli(["report", "--data", str(tiny_csv(tmp_path / "d.csv")), "--client", "K",
                             "--out", str(out), "--engine", "typst"], capsys)
    finally:
        out.chmod(0o700)
    assert code == 2 and "kann nicht geschrieben werden" in err


def test_missing_logo_and_unavailable_engine_are_exit_2(tmp_path, capsys):
    data = str(tiny_csv(tmp_path / "d.csv"))
    out = tmp_path / "out"
    code, err = run_cli(["report", "--data", data, "--client", "K", "--out", str(out), "--engine", "typst",
                         "--set", f"logo_path={tmp_path / 'fehlt.png'}"], capsys)
    assert code == 2 and "Die Logo-Datei" in err and "wurde nicht gefunden" in err
    if shutil.which("quarto") is None:
        code, err = run_cli(["report", "--data", data, "--client", "K", "--out", str(out), "--engine", "quarto"],
                            capsys)
        assert code == 2 and "Quarto ist auf diesem Rechner nicht installiert" in err
    assert not out.exists()  # checked before any folder is made


# ----------------------------------------------------------------------------- real tmpfs (Linux, root)


def _can_mount() -> bool:
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                            "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs $d && umount $d; rc=$?; rmdir $d; exit $rc"],
                           capture_output=True, check=False)
    return probe.returncode == 0


needs_mount = pytest.mark.skipif(not _can_mount(), reason="needs Linux, root and mount namespaces (unshare)")

IN_NAMESPACE = textwrap.dedent("""
    import json, os, subprocess, sys
    from pathlib import Path
    from helpers import privacy
    from helpers.report.outdir import ClientFolder
    mnt, data, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], check=True)
    out = mnt / "berichte"
    with ClientFolder(out, "Alt GmbH") as folder:
        (folder.path / "alt-gmbh.pdf").write_bytes(b"%PDF gut")
        key = privacy.load_or_create_key(folder.path / privacy.KEY_FILE)
        folder.commit()
    if mode == "voll":   # leave 8 KiB: enough for the lock and the key, not for the prepared data
        st = os.statvfs(mnt)
        (mnt / "fueller").write_bytes(b"0" * (st.f_bavail * st.f_frsize - 8192))
    else:                # read-only remount
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
    proc = subprocess.run([sys.executable, "-m", "helpers", "report", "--data", data, "--client", "Alt GmbH",
                           "--out", str(out), "--engine", "typst"], capture_output=True, text=True)
    print(json.dumps({"rc": proc.returncode, "err": proc.stderr, "key": key.hex(),
                      "pdf": (out / "alt-gmbh" / "alt-gmbh.pdf").read_bytes().decode(),
                      "entries": sorted(os.listdir(out)), "client": sorted(os.listdir(out / "alt-gmbh")),
                      "key_after": (out / "alt-gmbh" / "pseudonym.key").read_text().strip()}))
""")


def _in_namespace(tmp_path: Path, mode: str) -> dict:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    data = tiny_csv(tmp_path / "d.csv", n_customers=2000)  # > 8 KiB of prepared data
    proc = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, "-c", IN_NAMESPACE,
                           str(mnt), str(data), mode], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@needs_mount
def test_real_disk_full_on_tmpfs(tmp_path):
    res = _in_namespace(tmp_path, "voll")
    assert res["rc"] == 2, res["err"]
    assert "Auf dem Datenträger ist kein Platz mehr frei" in res["err"] and "Traceback" not in res["err"]
    assert "gelöscht, um Speicherplatz freizugeben" in res["err"]
    assert res["pdf"] == "%PDF gut" and res["key_after"] == res["key"]
    assert res["entries"] == ["alt-gmbh"] and FAILED_DIR not in res["client"]


@needs_mount
def test_real_read_only_out_on_tmpfs(tmp_path):
    res = _in_namespace(tmp_path, "ro")
    assert res["rc"] == 2, res["err"]
    assert "kann nicht geschrieben werden" in res["err"] and "schreibgeschützt" in res["err"]
    assert res["pdf"] == "%PDF gut" and res["entries"] == ["alt-gmbh"]


# ----------------------------------------------------------------------------- broken input files


def test_broken_yaml_config_is_german_with_line_and_column(tmp_path, capsys):
    yml = tmp_path / "kunde.yaml"
    yml.write_text("name: K\ndata: [d.csv\nsettings:\n\tgross_margin: 0.3\n", "utf-8")
    code, err = run_cli(["report", "--config", str(yml)], capsys)
    assert code == 2 and "ist kein gültiges YAML (Zeile" in err
    assert "while parsing" not in err and "expected" not in err
    yml.write_bytes("name: Müller\n".encode("latin-1"))
    code, err = run_cli(["report", "--config", str(yml)], capsys)
    assert code == 2 and "nicht UTF-8-kodiert" in err


def _broken_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    xlsx = (CORPUS / "excel_numeric_ids.xlsx").read_bytes()
    gz = (CORPUS / "gzipped.csv.gz").read_bytes()
    files = {}

    def put(name: str, content: bytes, expected: str) -> None:
        p = tmp_path / name
        p.write_bytes(content)
        files[name] = (p, expected)

    put("abgeschnitten.xlsx", xlsx[: len(xlsx) // 2], "beschädigt")
    put("umbenannt.xlsx", b"Kunde;Datum;Umsatz\n1;01.01.2025;10\n", "xlsx")
    # an encrypted OOXML file is an OLE2 container with an "EncryptedPackage" stream
    put("verschluesselt.xlsx", bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 504 + "EncryptedPackage".encode("utf-16-le")
        + b"\0" * 1024, "mit einem Kennwort geschützt (verschlüsselt)")
    put("alt.xlsx", bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 2048, "alten Excel-Format (.xls)")
    buf = tmp_path / "csv-im-zip.zip"
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("export.csv", "Kunde;Datum;Umsatz\n1;01.01.2025;10\n")
    files["csv-im-zip.zip"] = (buf, "ZIP-Archiv, aber keine Excel-Arbeitsmappe")
    put("abgeschnitten.csv.gz", gz[: len(gz) // 2], "beschädigt")
    put("kein.csv.gz", b"kein gzip, nur Text", "beschädigt")
    put("kaputt.parquet", b"PAR1" + b"\0" * 64, "beschädigt")
    return files


ENGLISH = ("File is not a zip file", "There is no item", "end-of-stream", "Not a gzipped file",
           "magic bytes", "Traceback", "Unerwarteter Fehler")


@pytest.mark.parametrize("name", ["abgeschnitten.xlsx", "umbenannt.xlsx", "verschluesselt.xlsx", "alt.xlsx",
                                  "csv-im-zip.zip", "abgeschnitten.csv.gz", "kein.csv.gz", "kaputt.parquet"])
def test_broken_and_encrypted_files_give_german_errors(tmp_path, capsys, name):
    path, expected = _broken_files(tmp_path)[name]
    out = tmp_path / "out"
    code, err = run_cli(["report", "--data", str(path), "--client", "K", "--out", str(out),
                         "--engine", "typst"], capsys)
    assert code == 2, err
    assert err.startswith(f"Fehler: Datei „{path.name}“: ") and expected in err, err
    for english in ENGLISH:
        assert english not in err, english
    assert not re.search(r"\([A-Za-z.]*(Error|Exception|File|Invalid)\)", err), err  # no class names either
    # the failed run left only its clearly named folder; no result was claimed
    assert sorted(p.name for p in out.iterdir()) == ["k"]
    assert sorted(p.name for p in (out / "k").iterdir()) == [FAILED_DIR]


# ----------------------------------------------------------------------------- batch


def _batch_file(tmp_path: Path, clients: str) -> Path:
    (tmp_path / "daten").mkdir(exist_ok=True)
    (tmp_path / "daten" / "a.csv").write_text("ok", "utf-8")
    f = tmp_path / "kunden.yaml"
    f.write_text(f"defaults:\n  out: berichte\nclients:\n{clients}", "utf-8")
    return f


def _batch_args(f: Path, *extra: str):
    import argparse

    parser = argparse.ArgumentParser()
    batch.configure_parser(parser)
    return parser.parse_args([str(f), *extra])


def _fake_build(data_path, cfg, out_dir, engine="auto", progress=None, folder=None):
    pdf = folder.path / f"{folder.slug}.pdf"
    pdf.write_text(f"PDF {cfg.client_name}")
    return folder.final(pdf)


def test_batch_refuses_a_folder_of_another_client_before_any_run(tmp_path, capsys, monkeypatch):
    out = tmp_path / "berichte"
    target, _ = make_result(out, "Müller & Söhne GmbH")
    before = snapshot(target)
    f = _batch_file(tmp_path, "  - name: Alpha GmbH\n    data: daten/a.csv\n"
                              "  - name: Mueller Soehne GmbH\n    data: daten/a.csv\n")
    started = []
    monkeypatch.setattr(batch, "run_batch", lambda *a, **k: started.append(1))
    assert batch.run(_batch_args(f), build=_fake_build) == 2
    err = capsys.readouterr().err
    assert "Kunde 2 („Mueller Soehne GmbH“): Der Ausgabeordner" in err and "„slug:“" in err
    assert "Es wurde kein Bericht erstellt." in err
    assert started == [] and snapshot(target) == before and not (out / "alpha-gmbh").exists()


def test_batch_out_is_a_file(tmp_path, capsys):
    f = _batch_file(tmp_path, "  - name: Alpha GmbH\n    data: daten/a.csv\n")
    (tmp_path / "datei").write_text("x")
    assert batch.run(_batch_args(f, "--out", str(tmp_path / "datei")), build=_fake_build) == 2
    assert "ist eine Datei, kein Ordner" in capsys.readouterr().err


def test_batch_slug_keeps_log_and_state_inside_the_output_folder(tmp_path):
    f = _batch_file(tmp_path, "  - name: Alpha GmbH\n    data: daten/a.csv\n    slug: eigener-ordner\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    (res,) = batch.run_batch(batch.load_batch_file(f), in_process=True, build=_fake_build, stream=io_sink())
    assert res.status == "OK"
    out = tmp_path / "berichte"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, "berichte"])
    assert sorted(p.name for p in out.iterdir()) == ["eigener-ordner"]
    assert sorted(p.name for p in (out / "eigener-ordner").iterdir()) == [
        ".batch-state.json", "batch.log", "eigener-ordner.pdf", IDENTITY_FILE]
    state = json.loads((out / "eigener-ordner" / ".batch-state.json").read_text())
    assert state["pdf"] == res.pdf == str(out.resolve() / "eigener-ordner" / "eigener-ordner.pdf")


def test_batch_client_locked_by_another_run_fails_alone_with_exit_2(tmp_path):
    f = _batch_file(tmp_path, "  - name: Alpha GmbH\n    data: daten/a.csv\n"
                              "  - name: Beta KG\n    data: daten/a.csv\n")
    jobs = batch.load_batch_file(f)
    with ClientFolder(jobs[0].out_dir, "Alpha GmbH"):
        res = batch.run_batch(jobs, in_process=True, build=_fake_build, stream=io_sink())
    assert [r.status for r in res] == ["Fehler", "OK"]
    assert "läuft bereits" in res[0].message and res[0].exit_code == 2
    assert batch.exit_code(res) == 2


def io_sink():
    import io

    return io.StringIO()


# ----------------------------------------------------------------------------- real pipeline (tiny notebooks)

DRIVER = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from helpers import chapters
    nb_dir = Path(sys.argv[1])
    chapters.Chapter.path = property(lambda self: nb_dir / self.notebook)
    pause = os.environ.get("KW_PAUSE")
    if pause:   # hold the run (folder locked, build half done) until the test sends a line
        compute_all = chapters.compute_all
        def paused(*a, **k):
            Path(pause).write_text("bereit")
            sys.stdin.readline()
            return compute_all(*a, **k)
        chapters.compute_all = paused
    from helpers.cli import main
    sys.exit(main(sys.argv[2:]))
""")


@pytest.fixture
def tiny_notebooks(tmp_path):
    """Chapter notebooks of one cell each (the approach of tests/test_safety.py): a real pipeline
    run in seconds; the data chapter prints the customer count and the client name."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    from helpers import chapters

    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    setup = ("from helpers import session, fmt, labels\nfrom helpers.report.display import show_text, show_table\n"
             "ctx = session.open(data_path, client_name, settings, work_dir=work_dir)\ncfg, ds = ctx.cfg, ctx.ds")
    for ch in chapters.CHAPTERS:
        cells = [new_code_cell('data_path = ""\nclient_name = ""\nsettings = {}\nwork_dir = None',
                               metadata={"tags": ["parameters"]}),
                 new_code_cell(setup), new_markdown_cell(f"# {ch.title} {{#sec-{ch.slug}}}"),
                 new_code_cell(f"res = ctx.result({ch.slug!r})\nshow_text('Ergebnis ' + type(res).__name__)")]
        if ch.slug == "data":
            cells.append(new_code_cell("show_text('Kunde: ' + cfg.client_name + '. Kunden: ' + "
                                       "fmt.integer(ds.customers.shape[0]))"))
        nb = new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "kundenwert", "display_name": "Python (kundenwert)", "language": "python"}
        nbformat.write(nb, str(nb_dir / ch.notebook))
    return nb_dir


def _driver(nb_dir: Path, args: list[str], pause: Path | None = None, **kw):
    env = dict(os.environ)
    if pause is not None:
        env["KW_PAUSE"] = str(pause)
    return subprocess.Popen([sys.executable, "-c", DRIVER, str(nb_dir), *args], env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


@pytest.mark.slow
def test_real_pipeline_concurrent_colliding_and_failed_runs(tmp_path, tiny_notebooks, pdf_text):
    import nbformat

    out = tmp_path / "out"
    data_a = tiny_csv(tmp_path / "a.csv", n_customers=30)
    data_b = tiny_csv(tmp_path / "b.csv", n_customers=25)
    args = ["report", "--client", "Müller & Söhne GmbH", "--out", str(out), "--engine", "typst"]

    # 1. run A holds the folder mid-run; run B into the same folder exits 2 at once ("läuft bereits")
    ready = tmp_path / "a.bereit"
    run_a = _driver(tiny_notebooks, [*args, "--data", str(data_a)], pause=ready)
    deadline = time.monotonic() + 120  # waiting for the other process, not a timing assertion
    while not ready.exists():
        assert run_a.poll() is None, run_a.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    run_b = _driver(tiny_notebooks, [*args, "--data", str(data_b)])
    out_b, err_b = run_b.communicate(timeout=120)
    assert run_b.returncode == 2 and "läuft bereits" in err_b and out_b == "", err_b
    out_a, err_a = run_a.communicate("weiter\n", timeout=600)
    assert run_a.returncode == 0, err_a[-3000:]
    pdf = Path(out_a.strip().splitlines()[-1])
    target = out.resolve() / "mueller-soehne-gmbh"
    assert pdf == target / "mueller-soehne-gmbh.pdf"
    text = " ".join(pdf_text(pdf).split())
    assert "Kunden: 30" in text and "Kunden: 25" not in text  # only run A's data
    key = (target / "pseudonym.key").read_text()
    assert json.loads((target / IDENTITY_FILE).read_text("utf-8"))["name"] == "Müller & Söhne GmbH"
    # executed notebooks name the final work folder, not the vanished build folder
    nb_text = (target / "notebooks" / "01-datengrundlage.ipynb").read_text("utf-8")
    assert ".neu-" not in nb_text
    nb = nbformat.read(str(target / "notebooks" / "01-datengrundlage.ipynb"), as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert f'work_dir = "{target}/work"' in injected.source
    assert sorted(p.name for p in out.iterdir()) == ["mueller-soehne-gmbh"]
    before = snapshot(target)

    # 2. a different client with the same slug is refused; nothing of A's folder changes
    proc = _driver(tiny_notebooks, ["report", "--client", "Mueller Soehne GmbH", "--out", str(out),
                                    "--engine", "typst", "--data", str(data_b)])
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "gehört bereits zum Kunden „Müller & Söhne GmbH“" in err
    assert snapshot(target) == before

    # 3. a failing rerun (a chapter raises) keeps the complete result; partial notebooks are named
    broken = tiny_notebooks / "05-abwanderung.ipynb"
    nb = nbformat.read(str(broken), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("raise ValueError('Kapitel kaputt')"))
    nbformat.write(nb, str(broken))
    proc = _driver(tiny_notebooks, [*args, "--data", str(data_b)])
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 1, err  # an error inside a chapter is a bug: exit 1
    failed = target / FAILED_DIR
    assert f"„{failed}“" in err and "ist unverändert" in err
    assert f"{failed}/notebooks/" in err  # the executor's path was rewritten to the kept folder
    assert {k: v for k, v in snapshot(target).items() if not k.startswith(FAILED_DIR)} == before
    assert (failed / "notebooks").is_dir() and not (failed / "zielgruppen").exists()
    assert sorted(p.name for p in out.iterdir()) == ["mueller-soehne-gmbh"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux only")
def test_linux_swaps_atomically_with_rename_exchange(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "neu.txt").write_text("neu"), (b / "alt.txt").write_text("alt")
    assert outdir._exchange(a, b) is True  # one system call: no moment without a client folder
    assert [p.name for p in b.iterdir()] == ["neu.txt"] and [p.name for p in a.iterdir()] == ["alt.txt"]


@pytest.mark.slow
def test_target_lists_written_beside_the_pdf_fail_the_run_when_they_fail(tmp_path, monkeypatch):
    """The CRM lists are written in a thread while the PDF is rendered: a failure there still fails
    the run, and nothing is committed (the previous result stays, the partial run is set aside)."""
    from helpers import export
    from helpers.config import SAMPLE_DATA

    out = tmp_path / "out"
    target, _ = make_result(out, "Listen GmbH")
    before = snapshot(target)
    rendered = []
    render = pipeline.render
    monkeypatch.setattr(pipeline, "render", lambda *a, **k: rendered.append(1) or render(*a, **k))

    def broken(actions, folder, cfg):
        time.sleep(0.5)  # still writing when the PDF is done
        raise OSError(errno.EIO, "Eingabe-/Ausgabefehler", str(folder / "zielgruppen.xlsx"))

    monkeypatch.setattr(export, "write_action_lists", broken)
    cfg = ReportConfig.from_settings("Listen GmbH", {})
    with pytest.raises(Exception) as err:
        pipeline.build_report(SAMPLE_DATA.parent / "grosshandel_export.csv", cfg, out_dir=out, engine="typst")
    assert rendered == [1]  # the PDF was rendered in the meantime
    assert isinstance(err.value, FileSystemError)  # German message, exit 2
    assert "Lese- oder Schreibfehler" in str(err.value) and "zielgruppen.xlsx" in str(err.value)
    assert {k: v for k, v in snapshot(target).items() if not k.startswith(FAILED_DIR)} == before
    assert (target / FAILED_DIR).is_dir()
