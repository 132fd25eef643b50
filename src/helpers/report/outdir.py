"""The client's output folder ``<out>/<slug>/``: whose it is, one run at a time, replaced only on success.

Layout::

    <out>/<slug>/                 the last COMPLETE result of one client: kunde.json (name, created,
                                  updated), pseudonym.key, <slug>.pdf, notebooks/, zielgruppen/, ...
    <out>/<slug>/fehlgeschlagener-lauf/
                                  partial output of the last FAILED run (notebooks, log,
                                  FEHLGESCHLAGEN.txt; no target lists, no key); the next successful
                                  run removes it
    <out>/.<slug>.lock            while a run is active: the lock file (removed at its end)
    <out>/.<slug>.neu-XXXXXXXX/   while a run is active: its build folder

A run (:class:`ClientFolder`, a context manager) only ever writes these entries of ``<out>``:

1. **Lock** ``.<slug>.lock`` with ``fcntl.flock`` (non-blocking). A second run for the same folder
   fails at once with :class:`OutputFolderError` „… läuft bereits …“ (exit 2). The kernel releases
   the lock when the process ends in any way, so a crash leaves no stale lock; the file descriptor is
   close-on-exec, so notebook kernels do not inherit it.
2. **Identity**: ``kunde.json`` records the client's name. A run for a different name (compared with
   :func:`helpers.report.slug.same_client`) is refused, so neither the report nor the pseudonym key
   of another client is ever overwritten or reused. A folder without ``kunde.json`` (earlier
   versions) is adopted only when it contains kundenwert's outputs alone and the client name in its
   executed notebooks (if any) matches; a folder with other files (e.g. ``reports/template``) is
   never used.
3. **Build** into ``.<slug>.neu-XXXXXXXX/`` next to the client's folder; ``pseudonym.key`` and
   ``kunde.json`` are copied in first (the key stays the same across runs of a client).
4. **Commit** on success: files in the old folder that kundenwert did not write are hard-linked
   (copied across file systems) into the new one, then the two folders are exchanged atomically
   (``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere two renames, and the next run restores the
   old folder if a crash hit between them) and the old one is deleted.
5. **Fail**: the previous complete result is not touched; the partial output moves to
   ``<slug>/fehlgeschlagener-lauf/`` (without target lists and key, with ``FEHLGESCHLAGEN.txt``:
   German message and traceback), or is deleted when the disk is full. The exception gets the
   attribute ``kundenwert_note`` (German sentence: where the partial output is) and paths in its
   message are rewritten to the new place.

Left-overs of a crashed run (``.<slug>.neu-*``, ``.<slug>.alt-*``) are cleaned up by the next
run of the same folder, under its lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import re
import secrets
import shutil
import socket
import stat
import traceback
from pathlib import Path
from typing import Any

from ..exceptions import FileSystemError, KundenwertError, OutputFolderError, os_error_text
from .slug import client_slug, same_client

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock (documented)
    fcntl = None  # type: ignore[assignment]

IDENTITY_FILE = "kunde.json"
KEY_FILE = "pseudonym.key"  # = helpers.privacy.KEY_FILE (not imported: privacy pulls in pandas)
FAILED_DIR = "fehlgeschlagener-lauf"
FAILED_NOTE = "FEHLGESCHLAGEN.txt"
KNOWN_OUTPUTS = frozenset({
    IDENTITY_FILE, KEY_FILE, FAILED_DIR, "_template", "bericht.md", "bericht.typ", "bericht.qmd",
    "bericht_files", "figures", "notebooks", "work", "zielgruppen", "batch.log", ".batch-state.json",
    ".batch-state.tmp",
})
"""Entries kundenwert writes into a client's folder (besides ``<slug>.pdf`` and render temp files)."""
DROPPED_ON_FAILURE = (KEY_FILE, IDENTITY_FILE, "zielgruppen")
"""Not kept in the failed-run folder: a key copy, and target lists that could be taken for current ones."""
CLI_HINT = ("Bitte den Kundennamen eindeutig machen (z. B. mit Ort oder Rechtsform) oder mit --out "
            "einen anderen Ausgabeordner wählen.")
_RENDER_TMP = re.compile(r"\..*\.pdf\.tmp\Z")
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def client_dir(out_dir: str | Path, client_name: str, slug: str | None = None) -> Path:
    """``<out_dir>/<slug>`` (absolute), guaranteed to lie directly inside ``out_dir``."""
    out = Path(out_dir).expanduser().resolve()
    slug = slug or client_slug(client_name)
    target = out / slug
    if target.parent != out or slug in ("", ".", "..") or "/" in slug or "\\" in slug:
        raise OutputFolderError(f"Ungültiger Ausgabeordner „{slug}“ für „{client_name}“.")
    return target


def _is_known(entry: str, slug: str) -> bool:
    return entry in KNOWN_OUTPUTS or entry == f"{slug}.pdf" or bool(_RENDER_TMP.match(entry))


def _name_from_notebooks(folder: Path) -> str | None:
    """Client name injected into the executed notebooks of an earlier run (folders without kunde.json)."""
    import ast

    for nb_path in sorted((folder / "notebooks").glob("*.ipynb")):
        try:
            nb = json.loads(nb_path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        for cell in nb.get("cells", []):
            if "injected-parameters" not in cell.get("metadata", {}).get("tags", []):
                continue
            src = cell.get("source", "")
            src = "".join(src) if isinstance(src, list) else str(src)
            try:
                tree = ast.parse(src)
            except SyntaxError:
                continue
            for node in tree.body:
                if (isinstance(node, ast.Assign) and len(node.targets) == 1
                        and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "client_name"):
                    with contextlib.suppress(ValueError):
                        value = ast.literal_eval(node.value)
                        if isinstance(value, str):
                            return value
    return None


def read_identity(folder: Path) -> dict[str, Any] | None:
    """Content of ``kunde.json`` (``None`` when the file does not exist); German error when broken."""
    path = Path(folder) / IDENTITY_FILE
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise OutputFolderError(
            f"Die Datei „{path}“ ist beschädigt oder nicht lesbar; es ist nicht erkennbar, zu welchem "
            "Kunden der Ordner gehört. Bitte prüfen und die Datei mit dem Inhalt "
            '{"name": "<Kundenname>"} neu anlegen oder mit --out einen anderen Ausgabeordner wählen.'
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise OutputFolderError(f"Die Datei „{path}“ enthält keinen Kundennamen („name“).")
    return data


def check_owner(target: Path, client_name: str, hint: str = CLI_HINT) -> None:
    """Raise :class:`OutputFolderError` unless ``target`` is absent or belongs to ``client_name``."""
    target = Path(target)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise OutputFolderError(
            f"„{target}“ ist kein Ordner, sondern eine Datei oder Verknüpfung; kundenwert schreibt dort "
            f"nicht hinein. {hint}")
    if not target.exists():
        return
    ident = read_identity(target)
    if ident is not None:
        owner = ident["name"]
    else:
        try:
            entries = os.listdir(target)
        except OSError as exc:
            raise FileSystemError(f"Der Ordner „{target}“ kann nicht gelesen werden. {os_error_text(exc) or exc}") from exc
        foreign = sorted(e for e in entries if not _is_known(e, target.name))
        if foreign:
            shown = ", ".join(f"„{e}“" for e in foreign[:5]) + (" …" if len(foreign) > 5 else "")
            raise OutputFolderError(
                f"Der Ordner „{target}“ wurde nicht von kundenwert angelegt (er enthält andere Dateien: "
                f"{shown}); kundenwert ersetzt ihn nicht. {hint}")
        owner = _name_from_notebooks(target)
        if owner is None:
            published = [e for e in entries if e in ("notebooks", "zielgruppen", f"{target.name}.pdf")]
            if published:
                raise OutputFolderError(
                    f"Der Ordner „{target}“ stammt von einer früheren Version ohne Kundenangabe "
                    f"({IDENTITY_FILE}); es ist nicht erkennbar, zu welchem Kunden er gehört. Gehört er "
                    f"zu „{client_name}“, bitte darin die Datei {IDENTITY_FILE} mit dem Inhalt "
                    f'{{"name": "{client_name}"}} anlegen. Andernfalls: {hint}')
            return
    if not same_client(owner, client_name):
        raise OutputFolderError(
            f"Der Ausgabeordner „{target}“ gehört bereits zum Kunden „{owner}“; „{client_name}“ ergibt "
            f"denselben Ordnernamen „{target.name}“. Bericht und Pseudonym-Schlüssel von „{owner}“ "
            f"bleiben unangetastet, der Lauf wird abgebrochen. {hint}")


def check_out_dir(out: str | Path, create: bool = False) -> Path:
    """German :class:`FileSystemError` (exit 2) unless ``out`` is (or can become) a writable folder.

    ``create``: make it (with parents); otherwise only check the nearest existing folder.
    """
    out = Path(out).expanduser().resolve()
    for p in (out, *out.parents):
        if p.exists():
            if not p.is_dir():
                what = "ist eine Datei" if p == out else f"kann nicht angelegt werden: „{p}“ ist eine Datei"
                raise FileSystemError(f"Der Ausgabeordner „{out}“ {what}, kein Ordner. Bitte mit --out "
                                      "einen Ordner angeben.")
            if not create and not os.access(p, os.W_OK | os.X_OK):
                raise FileSystemError(f"In den Ausgabeordner „{out}“ kann nicht geschrieben werden "
                                      f"(keine Schreibrechte in „{p}“ oder schreibgeschützter Datenträger). "
                                      "Bitte mit --out einen beschreibbaren Ordner wählen.")
            break
    if create:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FileSystemError(f"Der Ausgabeordner „{out}“ kann nicht angelegt werden. "
                                  f"{os_error_text(exc) or exc}") from exc
    return out


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux ``renameat2(RENAME_EXCHANGE)``); ``False`` if unsupported."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _link_tree(src: Path, dst: Path) -> None:
    """Hard-link (or copy, across file systems) a file or folder ``src`` to ``dst``."""

    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    if src.is_dir() and not src.is_symlink():
        shutil.copytree(src, dst, symlinks=True, copy_function=link)
    elif src.is_symlink():
        os.symlink(os.readlink(src), dst)
    else:
        link(str(src), str(dst))


class ClientFolder:
    """One run's access to ``<out>/<slug>/`` (see the module docstring); use as a context manager.

    Inside the ``with`` block write everything into :attr:`path` (the build folder), then call
    :meth:`commit`. Leaving the block with an exception (or without commit) fails the run:
    the previous result stays, the partial output goes to ``<slug>/fehlgeschlagener-lauf/``.
    """

    def __init__(self, out_dir: str | Path, client_name: str, slug: str | None = None,
                 hint: str = CLI_HINT) -> None:
        self.client_name = client_name
        self.hint = hint
        self.target = client_dir(out_dir, client_name, slug)
        self.out = self.target.parent
        self.slug = self.target.name
        self.lock_path = self.out / f".{self.slug}.lock"
        self.path: Path | None = None
        self.failed_dir: Path | None = None
        self._fd: int | None = None
        self._done = False
        self._identity: dict[str, Any] | None = None

    # ---------------------------------------------------------------- entering

    def __enter__(self) -> "ClientFolder":
        self._prepare_out()
        self._lock()
        try:
            check_owner(self.target, self.client_name, self.hint)
            self._recover()
            self._identity = read_identity(self.target) if self.target.is_dir() else None
            self.path = self._new_build_dir()
            old_key = self.target / KEY_FILE
            if old_key.is_file():
                shutil.copy2(old_key, self.path / KEY_FILE)
        except BaseException:
            if self.path is not None:
                shutil.rmtree(self.path, ignore_errors=True)
            self._unlock()
            raise
        return self

    def _prepare_out(self) -> None:
        check_out_dir(self.out, create=True)

    def _lock(self) -> None:
        if fcntl is None:  # pragma: no cover
            return
        while True:
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            except OSError as exc:
                raise FileSystemError(f"In den Ausgabeordner „{self.out}“ kann nicht geschrieben werden. "
                                      f"{os_error_text(exc) or exc}") from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = self._holder(fd)
                os.close(fd)
                raise OutputFolderError(
                    f"Für „{self.target.name}“ läuft bereits ein Bericht{holder}. Zwei Läufe in denselben "
                    f"Ordner „{self.target}“ würden sich gegenseitig überschreiben; bitte warten, bis der "
                    "andere Lauf fertig ist, und dann erneut starten.") from None
            try:  # the file may have been removed and re-created by a finishing run: retry
                same = os.stat(self.lock_path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self._fd = fd
                info = {"pid": os.getpid(), "host": socket.gethostname(), "client": self.client_name,
                        "started": dt.datetime.now().isoformat(timespec="seconds")}
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
                    os.write(fd, json.dumps(info, ensure_ascii=False).encode("utf-8"))
                return
            os.close(fd)

    @staticmethod
    def _holder(fd: int) -> str:
        try:
            info = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
            started = dt.datetime.fromisoformat(info["started"])
            return (f" (für „{info['client']}“, Prozess {int(info['pid'])} auf {info['host']}, "
                    f"gestartet am {started:%d.%m.%Y um %H:%M} Uhr)")
        except Exception:  # noqa: BLE001 - details are optional
            return ""

    def _unlock(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.lock_path)  # while still holding the lock (see _lock's inode check)
        os.close(self._fd)
        self._fd = None

    def _recover(self) -> None:
        """Restore an old result after a crash between the two renames; delete stale build folders."""
        alts = sorted(self.out.glob(f".{self.slug}.alt-*"), key=lambda p: p.stat().st_mtime)
        if alts and not self.target.exists():
            os.rename(alts.pop(), self.target)
        for stale in [*alts, *self.out.glob(f".{self.slug}.neu-*")]:
            shutil.rmtree(stale, ignore_errors=True)

    def _new_build_dir(self) -> Path:
        while True:
            path = self.out / f".{self.slug}.neu-{secrets.token_hex(4)}"
            try:
                path.mkdir()  # honours the umask (unlike mkdtemp's 0700)
                return path
            except FileExistsError:
                continue

    # ---------------------------------------------------------------- results

    def final(self, built: str | Path) -> Path:
        """Where a file written below :attr:`path` will be after :meth:`commit`."""
        assert self.path is not None
        return self.target / Path(built).resolve().relative_to(self.path.resolve())

    def commit(self) -> Path:
        """Make the build the client's folder (atomic swap); returns the folder ``<out>/<slug>``."""
        assert self.path is not None and not self._done, "commit() outside the with block"
        now = dt.datetime.now().isoformat(timespec="seconds")
        ident = {"name": self.client_name, "slug": self.slug,
                 "created": (self._identity or {}).get("created", now), "updated": now,
                 "hinweis": "Dieser Ordner gehört zu diesem Kunden. kundenwert schreibt hier nur Berichte "
                            "dieses Kunden und behält den Pseudonym-Schlüssel (pseudonym.key) bei."}
        (self.path / IDENTITY_FILE).write_text(json.dumps(ident, ensure_ascii=False, indent=2) + "\n", "utf-8")
        if self.target.is_dir():
            for entry in os.listdir(self.target):  # the user's own files stay
                if not _is_known(entry, self.slug) and not (self.path / entry).exists():
                    _link_tree(self.target / entry, self.path / entry)
            with contextlib.suppress(OSError):  # keep the folder's permissions (e.g. 0700 for client data)
                os.chmod(self.path, stat.S_IMODE(os.stat(self.target).st_mode))
            if _exchange(self.path, self.target):
                old = self.path
            else:
                old = self.out / f".{self.slug}.alt-{secrets.token_hex(4)}"
                os.rename(self.target, old)
                try:
                    os.rename(self.path, self.target)
                except BaseException:
                    os.rename(old, self.target)  # put the previous result back before failing
                    raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(self.path, self.target)
        self._done = True
        return self.target

    def fail(self, exc: BaseException | None = None) -> Path | None:
        """Keep the partial output in ``<slug>/fehlgeschlagener-lauf/`` (deleted when the disk is full)."""
        if self._done or self.path is None:
            return None
        self._done = True
        build, failed = self.path, self.target / FAILED_DIR
        cause = exc.__cause__ if isinstance(exc, KundenwertError) else exc
        disk_full = isinstance(cause, OSError) and cause.errno in _DISK_FULL
        had_result = self._identity is not None or (self.target / f"{self.slug}.pdf").is_file()
        previous = (f"Der letzte vollständige Bericht in „{self.target}“ ist unverändert." if had_result
                    else "Ein vollständiger Bericht liegt für diesen Kunden noch nicht vor.")
        kept: Path | None = None
        if not disk_full:
            try:
                for name in DROPPED_ON_FAILURE:
                    p = build / name
                    if p.is_dir():
                        shutil.rmtree(p)
                    else:
                        p.unlink(missing_ok=True)
                message = str(exc).replace(str(build), str(failed)) if exc is not None else "abgebrochen"
                note = ["Dieser Lauf ist fehlgeschlagen; die Dateien in diesem Ordner sind KEIN gültiges "
                        "Ergebnis.", f"Kunde: {self.client_name}",
                        f"Zeitpunkt: {dt.datetime.now():%d.%m.%Y %H:%M:%S}",
                        f"Fehler: {message}", previous]
                if exc is not None:
                    note += ["", "Technische Details:", *traceback.format_exception(exc)]
                (build / FAILED_NOTE).write_text("\n".join(note) + "\n", "utf-8")
                self.target.mkdir(exist_ok=True)
                if failed.exists():
                    shutil.rmtree(failed)
                os.rename(build, failed)
                kept = failed
            except OSError:
                kept = None
        if kept is None:
            shutil.rmtree(build, ignore_errors=True)
        self.failed_dir = kept
        if exc is not None:
            if kept is not None:
                if isinstance(exc, KundenwertError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
                    exc.args = (exc.args[0].replace(str(build), str(kept)),)
                note = (f"Teilergebnisse dieses Laufs (Notebooks, Protokoll, {FAILED_NOTE}): „{kept}“. "
                        + previous)
            else:
                note = ("Die Teilergebnisse dieses Laufs wurden gelöscht"
                        + (", um Speicherplatz freizugeben. " if disk_full else ". ") + previous)
            with contextlib.suppress(AttributeError, TypeError):
                exc.kundenwert_note = note  # type: ignore[union-attr]
        return kept

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            if not self._done:
                self.fail(exc)
        finally:
            self._unlock()
        return False


def failure_note(exc: BaseException) -> str:
    """The German sentence :meth:`ClientFolder.fail` attached to ``exc`` ("" if none)."""
    return str(getattr(exc, "kundenwert_note", "") or "")
