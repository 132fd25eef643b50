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
