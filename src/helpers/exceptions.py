"""Exception hierarchy. Messages are German and name file, column and rows.

Exit codes: 2 for everything a user can cause and fix (bad data, settings, output folder, disk
full, missing rights), 1 for bugs only. :func:`translate_error` turns the operating-system and
library errors a user can cause (``OSError`` with a known errno, broken YAML, broken or encrypted
zip/xlsx/gz/parquet files) into a German :class:`KundenwertError` with exit code 2; the CLI and
the batch call it at their boundary.
"""

from __future__ import annotations

import errno
from pathlib import Path


class KundenwertError(Exception):
    """Base class: the CLI prints the message and exits with :attr:`exit_code`."""

    exit_code = 1


class ConfigError(KundenwertError):
    """Invalid settings or parameters."""

    exit_code = 2


class DataValidationError(KundenwertError):
    """The client file cannot be used (empty, unreadable, required column missing, ...)."""

    exit_code = 2


class AnalysisError(KundenwertError):
    """An analysis cannot produce a trustworthy result for this data."""


class RenderError(KundenwertError):
    """Executing a notebook or rendering the PDF failed."""


class FileSystemError(KundenwertError):
    """A file or folder cannot be read or written: missing rights, read-only, disk full, a file
    where a folder is expected (the user can fix it)."""

    exit_code = 2


class OutputFolderError(FileSystemError):
    """The client's output folder cannot be used: another run holds it ("läuft bereits"), it
    belongs to a different client, or it is not a kundenwert folder."""


_OS_TEXT = {
    errno.ENOSPC: "Auf dem Datenträger ist kein Platz mehr frei",
    errno.EDQUOT: "Das Speicherkontingent (Quota) auf dem Datenträger ist erschöpft",
    errno.EFBIG: "Die Datei wird zu groß für den Datenträger",
    errno.EROFS: "Der Datenträger ist schreibgeschützt",
    errno.EACCES: "Keine Zugriffsberechtigung",
    errno.EPERM: "Der Vorgang ist nicht erlaubt (fehlende Berechtigung)",
    errno.ENOTDIR: "Ein Teil des Pfades ist eine Datei, kein Ordner",
    errno.EISDIR: "Das ist ein Ordner, erwartet wurde eine Datei",
    errno.ENOENT: "Datei oder Ordner nicht gefunden (während des Laufs gelöscht oder verschoben?)",
    errno.ENAMETOOLONG: "Der Pfad ist zu lang",
    errno.EIO: "Lese- oder Schreibfehler des Datenträgers",
    errno.ETXTBSY: "Die Datei ist gerade von einem anderen Programm geöffnet",
}
_OS_HINT = {
    errno.ENOSPC: "Bitte Speicherplatz freigeben oder mit --out einen Ausgabeordner auf einem anderen "
                  "Datenträger wählen.",
    errno.EDQUOT: "Bitte Speicherplatz freigeben oder mit --out einen anderen Ausgabeordner wählen.",
    errno.EROFS: "Bitte mit --out einen beschreibbaren Ausgabeordner wählen.",
    errno.EACCES: "Bitte die Zugriffsrechte prüfen oder mit --out einen anderen Ausgabeordner wählen.",
    errno.EPERM: "Bitte die Zugriffsrechte prüfen oder mit --out einen anderen Ausgabeordner wählen.",
}


def os_error_text(exc: OSError, hint: bool = True) -> str | None:
    """German sentence for an ``OSError`` a user can cause (by errno), else ``None``.

    ``hint``: add the advice for output folders (``--out``)."""
    code = getattr(exc, "errno", None)
    if code not in _OS_TEXT:
        return None
    where = f" („{exc.filename}“)" if getattr(exc, "filename", None) else ""
    hint = _OS_HINT.get(code, "") if hint else ""
    return f"{_OS_TEXT[code]}{where}." + (f" {hint}" if hint else "")


def yaml_error_text(exc: Exception, path: str | Path) -> str:
    """``Die Datei „x.yaml“ ist kein gültiges YAML (Zeile 3, Spalte 7).`` (no library English)."""
    mark = getattr(exc, "problem_mark", None)
    where = f" (Zeile {mark.line + 1}, Spalte {mark.column + 1})" if mark is not None else ""
    return (f"Die Datei „{Path(path).name}“ ist kein gültiges YAML{where}. Häufige Ursachen: "
            "Tabulatoren statt Leerzeichen, fehlende Leerzeichen nach „:“, nicht geschlossene "
            "Klammern oder Anführungszeichen.")


_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def _file_kind_text(path: Path, cause: BaseException) -> str | None:
    """German explanation of a broken/encrypted container file, from its first bytes."""
    import gzip
    import lzma
    import zipfile
    import zlib

    name = path.name.lower()
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 20)
    except OSError:
        head = b""
    if head.startswith(_OLE_MAGIC):
        if _ENCRYPTED_PACKAGE in head:
            return ("Die Excel-Datei ist mit einem Kennwort geschützt (verschlüsselt) und kann nicht "
                    "gelesen werden. Bitte in Excel ohne Kennwort speichern (Datei → Informationen → "
                    "Arbeitsmappe schützen) oder als CSV exportieren.")
        return ("Die Datei ist im alten Excel-Format (.xls) oder ein anderes Office-Dokument, nicht "
                "im .xlsx-Format. Bitte in Excel als .xlsx oder CSV speichern.")
    if head.startswith(b"PK") and isinstance(cause, KeyError):  # openpyxl: no [Content_Types].xml
        return ("Die Datei ist ein ZIP-Archiv, aber keine Excel-Arbeitsmappe. Enthält sie eine "
                "CSV-Datei, diese bitte entpacken und direkt angeben.")
    if isinstance(cause, zipfile.BadZipFile):
        return ("Die Excel-Datei ist beschädigt oder keine echte .xlsx-Datei (kein vollständiges "
                "ZIP-Archiv, z. B. abgebrochene Übertragung oder falsche Dateiendung). Bitte die Datei "
                "erneut exportieren oder in Excel öffnen und als .xlsx oder CSV speichern.")
    if isinstance(cause, (gzip.BadGzipFile, EOFError, zlib.error, lzma.LZMAError)):
        return ("Die komprimierte Datei ist beschädigt oder unvollständig (z. B. abgebrochene "
                "Übertragung oder keine echte .gz-Datei). Bitte erneut exportieren oder entpackt angeben.")
    if type(cause).__name__ in ("ArrowInvalid", "ArrowIOError") and (name.endswith(".parquet") or head.startswith(b"PAR1")):
        return ("Die Parquet-Datei ist beschädigt oder unvollständig. Bitte erneut exportieren "
                "oder als CSV angeben.")
    return None


def _quotes_library(exc: BaseException, cause: BaseException) -> bool:
    """Whether a German message still quotes the library's English text or exception class."""
    text = str(exc)
    return bool((str(cause) and str(cause) in text) or f"({type(cause).__name__})" in text)


def _is_ole(path: Path, cause: BaseException) -> bool:
    """An OLE2 container (encrypted .xlsx or old .xls) read as .xlsx: worth a precise diagnosis."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return head == _OLE_MAGIC and isinstance(cause, (*_container_errors(), KeyError, ValueError))


def _container_errors() -> tuple[type[BaseException], ...]:
    import gzip
    import lzma
    import zipfile
    import zlib

    return (zipfile.BadZipFile, gzip.BadGzipFile, EOFError, zlib.error, lzma.LZMAError)


def translate_error(exc: BaseException, data_path: str | Path | None = None) -> KundenwertError | None:
    """German :class:`KundenwertError` (exit 2) for an error the user caused, else ``None``.

    - ``OSError`` with a known errno (disk full, read-only, no rights, ...) -> :class:`FileSystemError`;
    - ``yaml.YAMLError`` -> :class:`ConfigError` with line and column;
    - a :class:`DataValidationError` about a broken or encrypted container (xlsx/zip, gz, parquet)
      that still quotes the library's English message or exception class, or whose file is an OLE2
      container (encrypted .xlsx, old .xls) -> the same error with a precise German explanation;
    - a ``zipfile.BadZipFile``, ``gzip.BadGzipFile``, ``EOFError`` ... escaping unwrapped while
      reading ``data_path`` (pass ``data_path`` only around reading the client file) -> the same.
    A :class:`KundenwertError` that needs no translation is returned unchanged.
    """
    if isinstance(exc, DataValidationError) and data_path is not None:
        cause = exc.__cause__
        if isinstance(cause, OSError) and cause.strerror and cause.strerror in str(exc) and os_error_text(cause):
            new = DataValidationError(f"Datei „{Path(data_path).name}“: Die Datei kann nicht gelesen werden. "
                                      f"{os_error_text(cause, hint=False)} Bitte die Datei und ihre "
                                      "Zugriffsrechte prüfen.")
            new.__cause__ = cause
            return new
        if cause is not None and (_quotes_library(exc, cause) or _is_ole(Path(data_path), cause)):
            text = _file_kind_text(Path(data_path), cause)
            if text:
                new = DataValidationError(f"Datei „{Path(data_path).name}“: {text}")
                new.__cause__ = cause
                return new
        return exc
    if isinstance(exc, KundenwertError):
        return exc
    if data_path is not None and isinstance(exc, _container_errors()):
        text = _file_kind_text(Path(data_path), exc)
        if text:
            new = DataValidationError(f"Datei „{Path(data_path).name}“: {text}")
            new.__cause__ = exc
            return new
    if isinstance(exc, OSError):
        text = os_error_text(exc)
        return FileSystemError(text) if text else None
    try:
        import yaml
    except ImportError:  # pragma: no cover
        return None
    if isinstance(exc, yaml.YAMLError):
        return ConfigError(yaml_error_text(exc, getattr(exc, "kundenwert_path", "YAML")))
    return None


def read_yaml(path: str | Path, kind: str = "Datei") -> object:
    """Parsed YAML of ``path``; every failure a German :class:`ConfigError` naming ``kind``
    (e.g. "Konfigurationsdatei", "Batch-Datei"): missing, not UTF-8, broken YAML (line, column),
    unreadable (OS error in German)."""
    import yaml

    path = Path(path)
    try:
        return yaml.safe_load(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Die {kind} „{path}“ wurde nicht gefunden.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"Die {kind} „{path}“ ist nicht UTF-8-kodiert. Bitte als UTF-8 speichern.") from None
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_error_text(exc, path).replace("Die Datei", f"Die {kind}", 1)) from None
    except OSError as exc:
        german = translate_error(exc)
        raise ConfigError(f"Die {kind} „{path}“ kann nicht gelesen werden. "
                          f"{german if german is not None else exc}") from None
