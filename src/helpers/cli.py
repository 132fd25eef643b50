"""Command line: ``kundenwert report ...``, ``kundenwert batch ...`` and ``kundenwert zuordnen ...``
(pseudonyms of a target list -> real customer numbers; German help and messages).

Progress goes to stderr; the absolute PDF path is the last line of stdout. A
:class:`~helpers.exceptions.KundenwertError` becomes a German message on stderr and the
exception's exit code (2 for bad input), never a traceback. Operating-system and library errors a
user can cause (disk full, read-only or missing rights, a file where a folder belongs, broken
YAML) are translated to German with exit 2 (:func:`helpers.exceptions.translate_error`); exit 1
means a bug. When a report run failed, a second line says where its partial output is and that the
previous complete report is unchanged.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

from . import batch
from .config import client_settings
from .exceptions import ConfigError, read_yaml, translate_error
from .report.render import ENGINES

_GERMAN = {
    "usage: ": "Aufruf: ",
    "options": "Optionen",
    "positional arguments": "Argumente",
    "show this help message and exit": "diese Hilfe anzeigen und beenden",
    "the following arguments are required: %s": "folgende Angaben fehlen: %s",
    "unrecognized arguments: %s": "unbekannte Angaben: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "ungültige Auswahl: %(value)r (möglich: %(choices)s)",
    "argument %(argument_name)s: %(message)s": "Angabe %(argument_name)s: %(message)s",
    "expected one argument": "erwartet einen Wert",
    "expected at least one argument": "erwartet mindestens einen Wert",
    "%(prog)s: error: %(message)s\n": "%(prog)s: Fehler: %(message)s\n",
    "ambiguous option: %(option)s could match %(matches)s": "mehrdeutige Option: %(option)s passt zu %(matches)s",
    "invalid %(type)s value: %(value)r": "ungültiger Wert: %(value)r",
}


def _german_gettext(message: str) -> str:
    return _GERMAN.get(message, message)


def _install_german() -> None:
    """argparse's own strings (``usage:``, ``options``, ...) in German."""
    argparse._ = _german_gettext  # type: ignore[attr-defined]
    argparse.ngettext = lambda s, p, n: _german_gettext(s if n == 1 else p)  # type: ignore[attr-defined]


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help="diese Hilfe anzeigen und beenden")


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"erwartet SCHLÜSSEL=WERT, erhalten: {text!r}")
    return key.strip(), value.strip()


def build_parser() -> argparse.ArgumentParser:
    _install_german()
    parser = _Parser(
        prog="kundenwert",
        description="Kundenwert-Analyse: erstellt aus einem Transaktionsexport einen deutschen PDF-Bericht "
                    "(RFM-Segmente, Kundenwert, Abwanderung, Maßnahmenplan).",
    )
    sub = parser.add_subparsers(dest="command", metavar="BEFEHL", parser_class=_Parser, title="Befehle")
    rep = sub.add_parser("report", help="Bericht für einen Kunden erstellen",
                         description="Erstellt den PDF-Bericht für einen Kunden.")
    rep.add_argument("--data", type=Path, metavar="DATEI",
                     help="Transaktionsexport des Kunden (CSV, Excel, Parquet oder ein Ordner mit "
                          "Parquet-Dateien)")
    rep.add_argument("--client", metavar="NAME", help="Name des Kunden (erscheint im Bericht)")
    rep.add_argument("--out", type=Path, default=None, metavar="ORDNER",
                     help="Ausgabeordner (Standard: reports/)")
    rep.add_argument("--map", type=_key_value, action="append", default=[], metavar="SPALTE=QUELLE",
                     help="Spaltenzuordnung, z. B. revenue=\"Umsatz (€)\"; mehrfach möglich")
    rep.add_argument("--engine", choices=ENGINES, default="auto",
                     help="PDF-Erzeugung: auto (Quarto, falls installiert, sonst Typst), typst oder quarto")
    rep.add_argument("--set", type=_key_value, action="append", default=[], metavar="EINSTELLUNG=WERT",
                     help="Einstellung überschreiben, z. B. gross_margin=0.35 oder clv.horizon_months=6")
    rep.add_argument("--no-pseudonym", action="store_true",
                     help="Kundennummern nicht pseudonymisieren (nur mit Einwilligung des Kunden)")
    rep.add_argument("--observation-end", metavar="JJJJ-MM-TT",
                     help="Ende des Beobachtungszeitraums (Standard: letzter Tag mit Bestellungen)")
    rep.add_argument("--sheet", metavar="NAME", help="Tabellenblatt bei Excel-Dateien (Standard: erstes Blatt)")
    rep.add_argument("--config", type=Path, metavar="YAML",
                     help="YAML-Datei des Kunden mit data, client, map und settings")
    bat = sub.add_parser("batch", help="Berichte für mehrere Kunden aus einer Batch-Datei erstellen",
                         description="Erstellt Berichte für alle Kunden einer Batch-Datei.")
    batch.configure_parser(bat)
    zu = sub.add_parser(
        "zuordnen", help="Pseudonyme einer Zielgruppenliste den echten Kundennummern zuordnen",
        description="Ergänzt eine Zielgruppenliste des Berichts (CSV oder zielgruppen.xlsx) um die echten "
                    "Kundennummern: Die Kundennummern der Originaldatei werden mit dem Pseudonym-Schlüssel des "
                    "Kunden erneut pseudonymisiert (derselbe Schlüssel-Hash wie im Bericht) und mit den Pseudonymen "
                    "der Liste verknüpft. Nur auf dem Rechner der Beraterin bzw. des Beraters ausführen; die "
                    "Ausgabe enthält echte Kundennummern und gehört nicht in den Bericht.")
    zu.add_argument("--liste", type=Path, required=True, metavar="DATEI",
                    help="Zielgruppenliste aus dem Ordner „zielgruppen“ (CSV oder zielgruppen.xlsx)")
    zu.add_argument("--schluessel", type=Path, required=True, metavar="DATEI",
                    help="Pseudonym-Schlüssel des Kunden, z. B. reports/<kunde>/pseudonym.key")
    zu.add_argument("--daten", type=Path, required=True, metavar="DATEI",
                    help="Originaldatei des Kunden, aus der der Bericht erstellt wurde")
    zu.add_argument("--spalte", metavar="NAME",
                    help="Spalte mit der Kundennummer in der Originaldatei (Standard: wie im Bericht erkannt)")
    zu.add_argument("--aus", type=Path, metavar="DATEI",
                    help="Ausgabedatei (Standard: <liste>-kundennummern.csv bzw. .xlsx neben der Liste)")
    zu.add_argument("--set", type=_key_value, action="append", default=[], metavar="EINSTELLUNG=WERT",
                    help="Leseeinstellung der Originaldatei wie beim Bericht, z. B. data.separator=\";\"")
    for name, help_text in (
        ("kurs", "Kursversionen der Notebooks erzeugen (Studierende/Lehrende), siehe „kundenwert kurs --help“"),
        ("handouts", "Kapitel als PDF-Handouts mit Code und Ausgaben setzen, siehe „kundenwert handouts --help“"),
    ):
        extra = sub.add_parser(name, help=help_text, add_help=False)
        extra.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def _read_client_yaml(path: Path) -> dict:
    data = read_yaml(path, "Konfigurationsdatei") or {}
    if not isinstance(data, dict):
        raise ConfigError(f"Die Konfigurationsdatei „{path}“ muss Schlüssel wie data, name, settings enthalten.")
    allowed = {"data", "name", "client", "map", "column_map", "settings", "engine", "out"}
    # The keys of a batch file's client entry; "client" (= "name") and "column_map" (= "map") are the
    # old names, still accepted.
    unknown = set(data) - allowed
    if unknown:
        raise ConfigError(
            f"Unbekannte Schlüssel in „{path}“: {', '.join(sorted(map(str, unknown)))}. "
            f"Erlaubt: {', '.join(sorted(allowed))}."
        )
    return data


def config_from_args(args: argparse.Namespace) -> tuple[Path, Any, str, Path | None]:
    """Merge ``--config`` YAML and command-line options -> ``(data_path, cfg, engine, out_dir)``."""
    from .config import ReportConfig

    file_cfg: dict = {}
    base = Path.cwd()
    if args.config:
        file_cfg = _read_client_yaml(args.config)
        base = args.config.resolve().parent
    where = str(args.config)
    column_map = {**batch.as_mapping(file_cfg.get("column_map"), where, "column_map"),
                  **batch.as_mapping(file_cfg.get("map"), where, "map"), **dict(args.map)}
    settings = client_settings(batch.as_mapping(file_cfg.get("settings"), where, "settings"),
                               dict(args.set), column_map=column_map)
    if args.no_pseudonym:
        settings["pseudonymize"] = False
    if args.observation_end:
        settings["observation_end"] = args.observation_end
    if args.sheet:
        settings["data.sheet"] = args.sheet
    data = args.data or (base / str(file_cfg["data"]) if file_cfg.get("data") else None)
    client = args.client or file_cfg.get("name") or file_cfg.get("client")
    if data is None:
        raise ConfigError("Bitte die Datendatei angeben: --data DATEI (oder „data:“ in der YAML-Datei).")
    if not client:
        raise ConfigError("Bitte den Kundennamen angeben: --client NAME (oder „name:“ in der YAML-Datei).")
    try:
        cfg = ReportConfig.from_settings(str(client), settings)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Ungültige Einstellung: {exc}") from None
    out = args.out or (base / str(file_cfg["out"]) if file_cfg.get("out") else None)
    engine = args.engine if args.engine != "auto" else str(file_cfg.get("engine", "auto"))
    return Path(data), cfg, engine, out


def run_report(args: argparse.Namespace) -> Path:
    """``kundenwert report``: build one PDF, progress lines on stderr."""
    from .config import REPORTS_DIR
    from .report.pipeline import build_report

    import warnings

    warnings.formatwarning = lambda message, *_a, **_k: f"Hinweis: {message}\n"
    data, cfg, engine, out = config_from_args(args)
    if not data.exists():
        raise ConfigError(f"Die Datei „{data}“ wurde nicht gefunden.")

    def progress(client: str, title: str, i: int, n: int) -> None:
        print(f"[{i}/{n}] {title} …", file=sys.stderr, flush=True)

    print(f"Erstelle Bericht für „{cfg.client_name}“ aus {data.name} …", file=sys.stderr, flush=True)
    return build_report(data, cfg, out or REPORTS_DIR, engine=engine, progress=progress)


def run_reidentify(args: argparse.Namespace) -> Path:
    """``kundenwert zuordnen``: add the real customer numbers to a target list; returns the new file."""
    from . import export
    from .config import ReportConfig

    try:
        cfg = ReportConfig.from_settings(None, dict(args.set))
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Ungültige Einstellung: {exc}") from None
    out, counts = export.reidentify_list(args.liste, args.schluessel, args.daten, column=args.spalte,
                                         out_path=args.aus, cfg=cfg)
    from . import fmt

    print(f"{fmt.integer(counts['found'])} von {fmt.integer(counts['rows'])} Pseudonymen zugeordnet.",
          file=sys.stderr)
    if counts["missing"]:
        print(f"Hinweis: {fmt.integer(counts['missing'])} Pseudonyme ohne passende Kundennummer in "
              f"„{args.daten.name}“ (Spalte „Kundennummer“ bleibt leer). Ist es die Datei, aus der der Bericht "
              "erstellt wurde?", file=sys.stderr)
    print("Die Ausgabe enthält echte Kundennummern: nur auf diesem Rechner bzw. im CRM des Kunden verwenden.",
          file=sys.stderr)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    if args.command in ("kurs", "handouts"):
        from . import course, handout

        return int((course if args.command == "kurs" else handout).main(args.rest))
    from .report.outdir import failure_note

    try:
        if args.command == "batch":
            return int(batch.run(args))
        if args.command == "zuordnen":
            print(run_reidentify(args).resolve())
            return 0
        pdf = run_report(args)
    except KeyboardInterrupt as exc:
        print("Abgebrochen.", file=sys.stderr)
        if failure_note(exc):
            print(failure_note(exc), file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - last resort: German message instead of a traceback
        german = translate_error(exc)
        if german is not None:
            print(f"Fehler: {german}", file=sys.stderr)
        else:
            import os
            import traceback

            if os.environ.get("KUNDENWERT_DEBUG"):
                traceback.print_exc()
            print(f"Unerwarteter Fehler ({type(exc).__name__}): {exc}\n"
                  "Für Details mit KUNDENWERT_DEBUG=1 erneut ausführen.", file=sys.stderr)
        if failure_note(exc):
            print(failure_note(exc), file=sys.stderr)
        return int(german.exit_code) if german is not None else 1
    print("Bericht fertig.", file=sys.stderr)
    print(pdf)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
