"""Safe folder names for clients (the one client slug of the project).

``client_slug`` is a pure function of the name; two *different* clients can still get the same
slug ("Müller & Söhne GmbH" and "Mueller Soehne GmbH" both give ``mueller-soehne-gmbh``). The
output folder therefore records the client's name (``kunde.json``, :mod:`helpers.report.outdir`)
and a run for a different name is refused; :func:`same_client` is the one comparison.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_UMLAUTS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("ẞ", "SS"),
            ("Ä", "Ae"), ("Ö", "Oe"), ("Ü", "Ue"))
# Latin letters that NFKD does not decompose to ASCII.
_LATIN_EXTRA = str.maketrans({
    "Ø": "O", "ø": "o", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Ł": "L", "ł": "l", "Đ": "D",
    "đ": "d", "Ð": "D", "ð": "d", "Þ": "Th", "þ": "th", "ı": "i", "Ŧ": "T", "ŧ": "t", "Ħ": "H", "ħ": "h",
})
# Cyrillic (Russian, Ukrainian, Bulgarian, Serbian letters; DIN 1460-like, ASCII only) and Greek
# (ELOT 743-like): stable, readable transliterations.
_CYRILLIC = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяєіїґўђјљњћџ",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "j", "k", "l", "m", "n", "o", "p", "r", "s",
     "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya", "ye", "i", "yi",
     "g", "u", "dj", "j", "lj", "nj", "c", "dz"],
))
_GREEK = dict(zip(
    "αβγδεζηθικλμνξοπρσςτυφχψωάέήίόύώϊϋΐΰ",
    ["a", "v", "g", "d", "e", "z", "i", "th", "i", "k", "l", "m", "n", "x", "o", "p", "r", "s", "s",
     "t", "y", "f", "ch", "ps", "o", "a", "e", "i", "i", "o", "y", "o", "i", "y", "i", "y"],
))
_SCRIPTS = {**_CYRILLIC, **_GREEK}
MAX_LEN = 60
HASH_LEN = 8
FALLBACK = "kunde"
SLUG_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?")
"""What a folder name of a client looks like (``slug:`` entries of a batch file are checked with it)."""
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def normalize_name(name: str) -> str:
    """The client identity: NFKC, case-folded, runs of white space collapsed.

    ``"Müller & Söhne GmbH"`` and ``" müller &  SÖHNE gmbh"`` are the same client;
    ``"Mueller Soehne GmbH"`` is not.
    """
    return " ".join(unicodedata.normalize("NFKC", str(name)).casefold().split())


def same_client(a: str, b: str) -> bool:
    """Whether two client names denote the same client (see :func:`normalize_name`)."""
    return normalize_name(a) == normalize_name(b)


def name_hash(name: str, length: int = HASH_LEN) -> str:
    """Stable short hex hash of the normalized name (same on every machine and run)."""
    return hashlib.sha256(normalize_name(name).encode("utf-8")).hexdigest()[:length]


def _transliterate(name: str) -> tuple[str, bool]:
    """ASCII text of ``name`` and whether letters or digits of a script without a
    transliteration (Chinese, Arabic, Hebrew, ...) were dropped."""
    s = unicodedata.normalize("NFC", str(name))
    for a, b in _UMLAUTS:
        s = s.replace(a, b)
    s = s.translate(_LATIN_EXTRA)
    out, dropped = [], False
    for ch in s:
        low = ch.lower()
        if low in _SCRIPTS:
            out.append(_SCRIPTS[low])
            continue
        ascii_ = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
        if not ascii_ and ch.isalnum():
            dropped = True
        out.append(ascii_)
    return "".join(out), dropped


def client_slug(name: str) -> str:
    """``"Müller & Söhne GmbH"`` -> ``"mueller-soehne-gmbh"``.

    Only ``[a-z0-9-]`` survive, so the result can never contain ``/``, ``..`` or a drive
    letter. German umlauts become ae/oe/ue/ss, accents are dropped, Cyrillic and Greek are
    transliterated (``"ООО Ромашка"`` -> ``"ooo-romashka"``). When letters of another script
    (Chinese, Arabic, ...) are dropped, a short stable hash of the name is appended
    (``"北京贸易有限公司"`` -> ``"kunde-<8 hex>"``, ``"ACME 北京"`` -> ``"acme-<8 hex>"``), so
    such names do not all share one folder. At most 60 characters.
    """
    text, dropped = _transliterate(name)
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    suffix = f"-{name_hash(name)}" if dropped else ""
    s = s[: MAX_LEN - len(suffix)].strip("-")
    if s in _RESERVED:  # device names on Windows
        s = f"{s}-{FALLBACK}"
    return (s or FALLBACK) + suffix
