"""Safe folder names for clients."""

from __future__ import annotations

import re
import unicodedata

_UMLAUTS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("Ä", "Ae"), ("Ö", "Oe"), ("Ü", "Ue"))
MAX_LEN = 60


def client_slug(name: str) -> str:
    """``"Müller & Söhne GmbH"`` -> ``"mueller-soehne-gmbh"``.

    Only ``[a-z0-9-]`` survive, so the result can never contain ``/``, ``..`` or a
    drive letter; an empty result becomes ``"kunde"``. At most 60 characters.
    """
    s = str(name)
    for a, b in _UMLAUTS:
        s = s.replace(a, b)
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")[:MAX_LEN].strip("-")
    return s or "kunde"
