"""Brand file (reports/template/brand.yml) with fonts resolved to installed ones."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from ..config import TEMPLATE_DIR

BRAND_FILE = TEMPLATE_DIR / "brand.yml"
FALLBACK_FONTS = {"body": "Libertinus Serif", "heading": "DejaVu Sans", "charts": "DejaVu Sans"}


def font_dirs() -> list[str]:
    """Font folders shipped with the venv (matplotlib's DejaVu fonts), same on every machine."""
    import matplotlib

    return [str(Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf")]


@lru_cache(maxsize=1)
def available_families() -> frozenset[str]:
    """Font families Typst sees: its embedded fonts plus :func:`font_dirs` (no system fonts)."""
    import typst

    fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=True, font_paths=font_dirs())
    return frozenset(f.lower() for f in fonts.families())


def resolved_brand(path: Path = BRAND_FILE) -> dict:
    """Brand dict whose ``fonts`` name only families Typst has (others replaced by fallbacks)."""
    brand = yaml.safe_load(Path(path).read_text("utf-8"))
    have = available_families()
    fonts = dict(brand.get("fonts", {}))
    for role, fallback in FALLBACK_FONTS.items():
        if str(fonts.get(role, "")).lower() not in have:
            fonts[role] = fallback
    brand["fonts"] = fonts
    return brand


# ---------------------------------------------------------------- characters the fonts can draw
LAST_RESORT = "lastresort"
"""Font files whose name contains this draw a box for every character (tofu); never counted as coverage."""
SYMBOL_CATEGORIES = ("So", "Sk", "Cs", "Co", "Cn", "Mn", "Me", "Cf")
"""Unicode categories dropped when no font draws them (emoji, modifiers, joiners, private use)."""
REPLACEMENT = "?"
"""Stands for a letter or digit no font can draw (e.g. CJK in a client name) – visible, never tofu."""


@lru_cache(maxsize=1)
def drawable_codepoints() -> frozenset[int]:
    """Code points some font in :func:`font_dirs` draws (the Typst fallback chain), plus whitespace.

    Typst's embedded Libertinus Serif covers Latin, Greek and Cyrillic, which DejaVu/STIX cover too;
    the Last Resort font (boxes with hex codes) is excluded: a glyph from it is tofu.
    """
    points: set[int] = {9, 10, 13}
    for folder in font_dirs():
        for file in sorted(Path(folder).glob("*.[ot]tf")):
            if LAST_RESORT not in file.name.lower():
                points.update(font_codepoints(str(file)))
    return frozenset(points)


@lru_cache(maxsize=16)
def font_codepoints(path: str) -> frozenset[int]:
    """Code points the font file ``path`` draws (empty for an unreadable file)."""
    from fontTools.ttLib import TTFont

    try:
        return frozenset(TTFont(path, lazy=True, fontNumber=0)["cmap"].getBestCmap() or {})
    except Exception:
        return frozenset()


def undrawable(text: str, points: frozenset[int] | None = None) -> list[str]:
    """Distinct characters of ``text`` that no available font draws (in order of appearance);
    ``points``: the code points to test against (default :func:`drawable_codepoints`)."""
    have = drawable_codepoints() if points is None else points | {9, 10, 13, 32}
    seen: dict[str, None] = {}
    for ch in text:
        if ord(ch) not in have:
            seen.setdefault(ch)
    return list(seen)


def replace_undrawable(text: str, points: frozenset[int] | None = None) -> tuple[str, list[str]]:
    """``text`` with every character no font draws replaced; returns ``(text, replaced characters)``.

    Emoji and other symbols (plus their joiners and variation selectors) are dropped, a space left
    doubled by that is removed; letters and digits (e.g. CJK) become :data:`REPLACEMENT`, so a name
    stays recognisably incomplete instead of silently shortened. Nothing is drawn as tofu.
    """
    import re
    import unicodedata

    missing = undrawable(text, points)
    if not missing:
        return text, []
    drop = {ch for ch in missing if unicodedata.category(ch) in SYMBOL_CATEGORIES}
    out = []
    for ch in text:
        if ch in drop:
            out.append("\x00")
        elif ch in missing:
            out.append(REPLACEMENT)
        else:
            out.append(ch)
    cleaned = re.sub("[\u200d\ufe0e\ufe0f]*\x00[\u200d\ufe0e\ufe0f\x00]*", "\x00", "".join(out))

    def close_gap(m: re.Match) -> str:  # "a 🚀 b" -> "a b", "🚀 b" -> "b", "a🚀!" -> "a!"
        at_edge = m.start() == 0 or m.end() == len(cleaned) or cleaned[m.start() - 1] == "\n" \
            or cleaned[m.end()] == "\n"
        if at_edge or cleaned[m.end()] in ".,;:!?)]»“\"'":
            return ""
        return " " if m.group(1) or m.group(2) else ""

    return re.sub("([ \u00a0]*)\x00([ \u00a0]*)", close_gap, cleaned), missing
