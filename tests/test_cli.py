"""CLI: German help, option merging, exit codes (the report build itself is patched)."""

from __future__ import annotations


import pytest

from helpers import cli
from helpers.exceptions import DataValidationError, RenderError


@pytest.fixture
def fake_build(monkeypatch, tmp_path):
    calls = {}

    def build(data_path, cfg, out_dir, engine="auto", progress=None):
        calls.update(data_path=data_path, cfg=cfg, out_dir=out_dir, engine=engine)
        progress(cfg.client_name, "Datengrundlage", 1, 8)
        pdf = tmp_path / "out.pdf"
        pdf.write_bytes(b"%PDF")
        return pdf

    import helpers.report.pipeline as pipeline

    monkeypatch.setattr(pipeline, "build_report", build)
    return calls


@pytest.fixture
def data_file(tmp_path):
    p = tmp_path / "daten.csv"
    p.write_text("Kunde;Datum;Umsatz (€)\n1;01.01.2025;10,00\n", "utf-8")
    return p


def test_help_is_german(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["report", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("Aufruf: kundenwert report")
    assert "Optionen:" in out and "diese Hilfe anzeigen und beenden" in out
    assert "usage:" not in out and "show this help" not in out and "options:" not in out


def test_unknown_option_is_german_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["report", "--gibtsnicht"])
    assert exit_.value.code == 2
    assert "unbekannte Angaben: --gibtsnicht" in capsys.readouterr().err


def test_report_merges_options_and_prints_pdf_last(fake_build, data_file, tmp_path, capsys):
    code = cli.main(["report", "--data", str(data_file), "--client", "Müller GmbH", "--out", str(tmp_path / "o"),
                     "--map", "revenue=Umsatz (€)", "--map", "customer_id=Kunde", "--set", "gross_margin=0.35",
                     "--set", "clv.horizon_months=6", "--no-pseudonym", "--observation-end", "2025-06-30",
                     "--sheet", "Blatt 1", "--engine", "typst"])
    assert code == 0
    cfg = fake_build["cfg"]
    assert cfg.client_name == "Müller GmbH"
    assert dict(cfg.data.column_map) == {"revenue": "Umsatz (€)", "customer_id": "Kunde"}
    assert cfg.gross_margin == 0.35 and cfg.clv.horizon_months == 6
    assert cfg.pseudonymize is False and str(cfg.observation_end) == "2025-06-30" and cfg.data.sheet == "Blatt 1"
    assert fake_build["engine"] == "typst" and fake_build["out_dir"] == tmp_path / "o"
    out, err = capsys.readouterr()
    assert out.strip().splitlines()[-1] == str(tmp_path / "out.pdf")
    assert "[1/8] Datengrundlage" in err


@pytest.mark.parametrize("name_key, map_key", [("name", "map"),            # the keys of a batch client entry
                                               ("client", "column_map")])  # old names, same meaning
def test_client_yaml_config(fake_build, data_file, tmp_path, name_key, map_key):
    yml = tmp_path / "kunde.yaml"
    yml.write_text(
        f"{name_key}: Yaml Kunde\ndata: daten.csv\n{map_key}:\n  revenue: Umsatz (€)\n"
        "settings:\n  gross_margin: 0.4\n  clv:\n    horizon_months: 3\n", "utf-8")
    assert cli.main(["report", "--config", str(yml), "--set", "gross_margin=0.5", "--map", "customer_id=Kunde"]) == 0
    cfg = fake_build["cfg"]
    assert cfg.client_name == "Yaml Kunde" and fake_build["data_path"] == data_file
    assert cfg.gross_margin == 0.5 and cfg.clv.horizon_months == 3
    assert dict(cfg.data.column_map) == {"revenue": "Umsatz (€)", "customer_id": "Kunde"}


def test_client_yaml_settings_must_be_a_mapping(fake_build, data_file, tmp_path, capsys):
    yml = tmp_path / "kunde.yaml"
    yml.write_text("client: K\ndata: daten.csv\nsettings: [gross_margin]\n", "utf-8")
    assert cli.main(["report", "--config", str(yml)]) == 2
    assert "„settings“ muss eine Zuordnung" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["report", "--data", "fehlt.csv", "--client", "K"], "wurde nicht gefunden"),
    (["report", "--client", "K"], "Bitte die Datendatei angeben"),
    (["report", "--data", "{data}"], "Bitte den Kundennamen angeben"),
    (["report", "--data", "{data}", "--client", "K", "--set", "gross_margin=3"], "gross_margin"),
    (["report", "--data", "{data}", "--client", "K", "--set", "gibtsnicht=1"], "Unbekannte Einstellung"),
])
def test_bad_input_exit_2_german_message(fake_build, data_file, capsys, argv, message):
    argv = [a.replace("{data}", str(data_file)) for a in argv]
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert err.startswith("Fehler: ") and message in err and "Traceback" not in err
    assert out == ""


def test_pipeline_errors_use_exception_exit_code(monkeypatch, data_file, capsys):
    import helpers.report.pipeline as pipeline

    def fail(exc):
        def build(*a, **k):
            raise exc
        return build

    monkeypatch.setattr(pipeline, "build_report", fail(DataValidationError("Spalte „Datum“ fehlt.")))
    assert cli.main(["report", "--data", str(data_file), "--client", "K"]) == 2
    assert "Spalte „Datum“ fehlt." in capsys.readouterr().err
    monkeypatch.setattr(pipeline, "build_report", fail(RenderError("Typst kaputt")))
    assert cli.main(["report", "--data", str(data_file), "--client", "K"]) == 1
    monkeypatch.setattr(pipeline, "build_report", fail(ZeroDivisionError("x")))
    assert cli.main(["report", "--data", str(data_file), "--client", "K"]) == 1
    err = capsys.readouterr().err
    assert "Unerwarteter Fehler" in err and "Traceback" not in err
    # operating-system errors a user can fix: German, exit 2 (not "Unerwarteter Fehler (OSError)")
    import errno

    monkeypatch.setattr(pipeline, "build_report", fail(OSError(errno.EROFS, "Read-only file system", "/r/x")))
    assert cli.main(["report", "--data", str(data_file), "--client", "K"]) == 2
    err = capsys.readouterr().err
    assert "Fehler: Der Datenträger ist schreibgeschützt („/r/x“)." in err and "Unerwarteter" not in err


def test_batch_delegates_to_batch_module(monkeypatch, tmp_path):
    from helpers import batch

    seen = {}
    monkeypatch.setattr(batch, "run", lambda args: seen.setdefault("file", args.batch_file) and 7)
    assert cli.main(["batch", str(tmp_path / "k.yaml"), "--engine", "typst"]) == 7
    assert seen["file"] == tmp_path / "k.yaml"


def test_one_list_of_engines(capsys):
    from helpers.report.render import ENGINES

    with pytest.raises(SystemExit):
        cli.main(["report", "--engine", "latex"])
    assert f"möglich: {', '.join(map(repr, ENGINES))}" in capsys.readouterr().err


def test_zuordnen_help_is_german(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["zuordnen", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("Aufruf: kundenwert zuordnen")
    for option in ("--liste DATEI", "--schluessel DATEI", "--daten DATEI", "--spalte NAME"):
        assert option in out
    assert "echte Kundennummern" in " ".join(out.split()) and "usage:" not in out


def test_zuordnen_requires_list_key_and_data(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["zuordnen", "--liste", "x.csv"])
    assert exit_.value.code == 2
    assert "folgende Angaben fehlen: --schluessel, --daten" in capsys.readouterr().err
