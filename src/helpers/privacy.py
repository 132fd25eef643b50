"""Pseudonymization of customer IDs with a keyed hash (HMAC-SHA256).

The same key always maps the same ID to the same pseudonym (``PS-3F9A2C1B``), so
target lists can be matched back to the client's CRM by whoever holds the key,
while the report itself never shows real customer numbers (DSGVO: pseudonymized,
not anonymized data). The key is created per client and stored next to the
outputs as ``<out>/<slug>/pseudonym.key``; without the key the mapping cannot be
recomputed.

The prefix ``PS-`` and the list header „Pseudonym“ make sure a pseudonym is never mistaken for a
real customer number (lists of earlier versions used ``K-``; :func:`reidentify` reads both).
:func:`reidentify` is the way back, on the consultant's machine: it hashes the real IDs of the
client's original file with the key and joins (``kundenwert zuordnen``).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

from .exceptions import ConfigError, OutputFolderError

KEY_FILE = "pseudonym.key"
PREFIX = "PS-"
"""Prefix of every pseudonym (``PS-`` + 8 hex digits, more when 8 would collide)."""
OLD_PREFIXES = ("K-",)
"""Prefixes of pseudonyms written by earlier versions (same hash, other prefix)."""
PSEUDONYM_RE = re.compile(r"^(?:PS|K)-([0-9A-F]{8}|[0-9A-F]{12}|[0-9A-F]{16}|[0-9A-F]{64})$")
"""A pseudonym (current or earlier prefix); group 1 is its hex part."""


def new_key() -> bytes:
    """A fresh random 32-byte key."""
    return secrets.token_bytes(32)


def key_path(out_dir: str | Path, slug: str) -> Path:
    """Where the key of client ``slug`` lives: ``<out_dir>/<slug>/pseudonym.key``."""
    return Path(out_dir) / slug / KEY_FILE


def load_or_create_key(path: str | Path) -> bytes:
    """Read the key stored (hex) at ``path``, or create it there (file mode 0600).

    A damaged key file is a German :class:`~helpers.exceptions.OutputFolderError` (exit 2), never
    silently replaced: the key maps the pseudonyms of earlier target lists back to customer numbers.
    """
    path = Path(path)
    if path.exists():
        try:
            key = bytes.fromhex(path.read_text("ascii").strip())
        except (ValueError, UnicodeDecodeError):
            key = b""
        if len(key) < 16:
            raise OutputFolderError(
                f"Der Pseudonym-Schlüssel „{path}“ ist beschädigt. Bitte die Sicherung dieser Datei "
                "zurückspielen: ohne den ursprünglichen Schlüssel lassen sich die Pseudonyme früherer "
                "Zielgruppenlisten nicht mehr den Kundennummern zuordnen. Nur wenn das nicht nötig ist, "
                "die Datei löschen; dann wird ein neuer Schlüssel angelegt.")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = new_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex() + "\n")
    return key


def read_key(path: str | Path) -> bytes:
    """Read an existing key file (never creates one); German :class:`ConfigError` (exit 2) when it is
    missing or damaged."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Der Pseudonym-Schlüssel „{path}“ wurde nicht gefunden. Er liegt im Ausgabeordner "
                          f"des Kunden („<Ausgabeordner>/<kunde>/{KEY_FILE}“), neben dem PDF-Bericht.")
    try:
        key = bytes.fromhex(path.read_text("ascii").strip())
    except (ValueError, UnicodeDecodeError):
        key = b""
    except OSError as exc:
        raise ConfigError(f"Der Pseudonym-Schlüssel „{path}“ kann nicht gelesen werden "
                          f"({exc.strerror or type(exc).__name__}).") from None
    if len(key) < 16:
        raise ConfigError(f"Die Datei „{path}“ ist kein gültiger Pseudonym-Schlüssel (erwartet: eine Zeile mit "
                          "mindestens 32 Hex-Zeichen, wie sie der Bericht anlegt).")
    return key


def is_pseudonym(values: pd.Series) -> pd.Series:
    """True where a value looks like a pseudonym (``PS-3F9A2C1B``; also the earlier ``K-`` form)."""
    return values.astype("str").str.strip().str.match(PSEUDONYM_RE).fillna(False).astype(bool)


def reidentify(pseudonyms: pd.Series, ids: pd.Series, key: bytes | str | Path) -> pd.Series:
    """The way back: the original ID of each pseudonym, ``None`` where no ID of ``ids`` hashes to it.

    ``ids``: the customer IDs of the client's original file, read as the report reads them
    (:func:`helpers.data.parse_customer_ids`). Each distinct ID is hashed with ``key`` (the same
    HMAC-SHA256 as :func:`pseudonymize`) and the pseudonyms are joined on the hex digits they carry
    (8, 12, 16 or 64, whatever length the report used; ``PS-`` or the earlier ``K-`` prefix). A
    prefix shared by two IDs of ``ids`` (only possible with a different file) maps to ``None``.
    Index and name of ``pseudonyms`` are kept.
    """
    text = pseudonyms.astype("str").str.strip()
    hexpart = text.str.extract(PSEUDONYM_RE, expand=False)
    uniques = pd.unique(ids.dropna().astype("str"))
    out = pd.Series([None] * len(pseudonyms), index=pseudonyms.index, name=pseudonyms.name, dtype=object)
    if not len(uniques) or hexpart.isna().all():
        return out
    digests = _hmac_sha256(_as_key(key), uniques)
    full = _HEX[_nibbles(digests)].view("S64").ravel().astype("U64")
    originals = np.asarray(uniques, dtype=object)
    for length in sorted({len(h) for h in hexpart.dropna()}):
        prefix = pd.Series(full.astype(f"U{length}"))
        dup = prefix.duplicated(keep=False).to_numpy()
        lookup = pd.Series(originals[~dup], index=prefix[~dup].to_numpy())
        sel = hexpart.notna() & (hexpart.str.len() == length)
        out[sel] = hexpart[sel].map(lookup)
    return pd.Series([v if isinstance(v, str) else None for v in out], index=out.index, name=out.name, dtype=object)


def _as_key(key: bytes | str | Path) -> bytes:
    if isinstance(key, (bytes, bytearray)):
        return bytes(key)
    return load_or_create_key(key)


def pseudonymize(ids: pd.Series, key: bytes | str | Path) -> pd.Series:
    """Replace each ID by ``PS-`` + the first hex digits of HMAC-SHA256(key, id).

    ``key`` is the key itself (bytes) or the path of a key file (created if missing).
    Only unique IDs are hashed (fast for millions of lines). Missing IDs stay missing.
    Normally 8 hex digits; if two distinct IDs would collide, all pseudonyms of
    this call get more digits, so distinct IDs always stay distinct.
    """
    codes, uniques = pd.factorize(ids, use_na_sentinel=True)
    digests = _hmac_sha256(_as_key(key), uniques)
    n_bytes = _short_length(digests)
    hexed = _HEX[_nibbles(digests[:, :n_bytes])].view(f"S{2 * n_bytes}").ravel().astype(f"U{2 * n_bytes}")
    names = pd.array(np.char.add(PREFIX, hexed), dtype="str")
    return pd.Series(names.take(codes, allow_fill=True), index=ids.index, name=ids.name)


_HEX = np.frombuffer(b"0123456789ABCDEF", dtype="S1")


def _nibbles(b: np.ndarray) -> np.ndarray:
    return np.stack([b >> 4, b & 15], axis=2).reshape(len(b), -1)


def _hmac_sha256(key: bytes, values) -> np.ndarray:
    """HMAC-SHA256 (RFC 2104) of each value's UTF-8 text; rows of 32 bytes.

    Inner and outer hash states are prepared once and copied per value, which is
    about twice as fast as ``hmac.digest`` per value (same result).
    """
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(c ^ 0x36 for c in key))
    outer = hashlib.sha256(bytes(c ^ 0x5C for c in key))

    def one(v) -> bytes:
        i = inner.copy()
        i.update(str(v).encode("utf-8"))
        o = outer.copy()
        o.update(i.digest())
        return o.digest()

    blob = b"".join(map(one, values.tolist() if hasattr(values, "tolist") else values))
    return np.frombuffer(blob, dtype=np.uint8).reshape(-1, 32)


def _short_length(digests: np.ndarray) -> int:
    """Fewest bytes (4, 6, 8, then 32) whose prefixes are still distinct for all rows."""
    if len(digests) < 2:
        return 4
    head = np.sort(np.ascontiguousarray(digests[:, :8]).view(">u8").ravel())
    for n in (4, 6, 8):
        prefix = head >> np.uint64(8 * (8 - n))
        if not (prefix[1:] == prefix[:-1]).any():
            return n
    return 32  # pragma: no cover - 64-bit prefix collision
