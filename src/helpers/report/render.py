"""Assembled Markdown -> PDF. The only module that calls pandoc, Typst or Quarto.

Engines (:data:`ENGINES`, the one list the CLI and the batch file accept): ``"typst"`` (pandoc
from pypandoc-binary + the ``typst`` Python package, always available) and ``"quarto"`` (when
``quarto`` is on PATH); ``"auto"`` picks quarto if present.

Layouts (:data:`LAYOUTS`): ``"report"`` (client report, ``reports/template/kundenwert.typ``) and
``"handout"`` (course handout, ``handout.typ``); both read the same ``brand.yml``.

Atomicity: the PDF is compiled into a temporary file in the target folder and moved into
place with :func:`os.replace` only on success (the pipeline builds into a temporary client folder
and swaps it in only after a successful render, :mod:`helpers.report.outdir`).

Operating-system errors of pandoc, Typst and Quarto (disk full, read-only, no rights) are raised
as ``OSError`` with their errno (:func:`os_error_in`), not as RenderError, so the caller can give
the German exit-2 message of :func:`helpers.exceptions.translate_error` instead of a bug report.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from ..config import TEMPLATE_DIR
from ..exceptions import RenderError
from .brand import font_dirs, resolved_brand

ENGINES = ("auto", "typst", "quarto")
"""PDF engines accepted by ``kundenwert report --engine`` and the batch file."""
LAYOUTS = {"report": TEMPLATE_DIR / "kundenwert-pandoc.typ", "handout": TEMPLATE_DIR / "handout-pandoc.typ"}
"""Layout name -> pandoc template (it imports the Typst layout from ``_template/``)."""
LAYOUT_FILES = ("kundenwert.typ", "handout.typ", "typst-show.typ", "typst-template.typ")
"""Typst files copied into every build folder (the layouts and the Quarto partials)."""
BUILD_TEMPLATE_DIR = "_template"
"""Folder (inside the build folder) that receives the Typst templates, brand file and logo."""
PANDOC_TEMPLATE = LAYOUTS["report"]
LUA_FILTER = TEMPLATE_DIR / "crossref.lua"


_OS_ERROR = re.compile(r"\(os error (\d+)\)")
_OS_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO)


def os_error_in(text: str, path: str | Path) -> OSError | None:
    """The operating-system error a tool reported in ``text`` (Typst: ``(os error 28)``; pandoc and
    Quarto: the C library's text such as ``No space left on device``), else ``None``."""
    m = _OS_ERROR.search(text)
    if m:
        code = int(m.group(1))
        return OSError(code, os.strerror(code), str(path))
    for code in _OS_ERRNOS:
        if os.strerror(code) in text:
            return OSError(code, os.strerror(code), str(path))
    return None


def quarto_available() -> bool:
    return shutil.which("quarto") is not None


def choose_engine(engine: str) -> str:
    """Resolve ``"auto"``; raise a German RenderError for unknown or unavailable engines."""
    if engine not in ENGINES:
        raise RenderError(f"Unbekannte PDF-Erzeugung „{engine}“. Möglich: {', '.join(ENGINES)}.")
    if engine == "auto":
        return "quarto" if quarto_available() else "typst"
    if engine == "quarto" and not quarto_available():
        raise RenderError("Quarto ist auf diesem Rechner nicht installiert. Bitte --engine typst verwenden.")
    return engine


def prepare_build_dir(build_dir: Path, logo: str | Path | None = None) -> str | None:
    """Copy template, Lua filter and resolved brand file into ``build_dir/_template``.

    Returns the logo's file name inside that folder (or ``None``). Raises RenderError if the
    logo file is missing.
    """
    tdir = build_dir / BUILD_TEMPLATE_DIR
    tdir.mkdir(parents=True, exist_ok=True)
    for name in LAYOUT_FILES:
        shutil.copyfile(TEMPLATE_DIR / name, tdir / name)
    (tdir / "brand.yml").write_text(yaml.safe_dump(resolved_brand(), allow_unicode=True), "utf-8")
    if not logo:
        return None
    logo = Path(logo)
    if not logo.is_file():
        raise RenderError(f"Die Logo-Datei „{logo}“ wurde nicht gefunden.")
    if logo.suffix.lower() not in (".png", ".jpg", ".jpeg", ".svg"):
        raise RenderError(f"Das Logo „{logo.name}“ muss eine PNG-, JPG- oder SVG-Datei sein.")
    name = "logo" + logo.suffix.lower()
    shutil.copyfile(logo, tdir / name)
    return name


_EQUAL_COLUMNS = re.compile(r"columns: \(((?:[0-9.]+%, )+[0-9.]+%)\),")


def auto_columns(typst_source: str) -> str:
    """Let Typst size table columns by content where pandoc fell back to equal widths.

    Pandoc gives wide pipe tables equal column widths, which squeezes text columns next to
    short number columns; ``columns: n`` (auto widths) fits the content instead.
    """

    def replace(m: re.Match) -> str:
        widths = [w.strip() for w in m.group(1).split(",")]
        return f"columns: {len(widths)}," if len(set(widths)) == 1 else m.group(0)

    return _EQUAL_COLUMNS.sub(replace, typst_source)


def _layout_template(layout: str) -> Path:
    if layout not in LAYOUTS:
        raise RenderError(f"Unbekanntes Layout „{layout}“. Möglich: {', '.join(LAYOUTS)}.")
    return LAYOUTS[layout]


def markdown_to_typst(md_path: Path, typ_path: Path, layout: str = "report") -> None:
    """pandoc Markdown -> Typst source with the layout's template and the cross-reference filter."""
    import pypandoc

    pandoc = pypandoc.get_pandoc_path()
    cmd = [
        pandoc, str(md_path), "--from", "markdown", "--to", "typst", "--standalone", "--wrap=preserve",
        "--template", str(_layout_template(layout)), "--lua-filter", str(LUA_FILTER),
        "--resource-path", str(md_path.parent), "--output", str(typ_path),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=md_path.parent, check=False)
    if proc.returncode != 0:
        os_error = os_error_in(proc.stderr, typ_path)
        if os_error is not None:
            raise os_error
        raise RenderError(f"Pandoc konnte das Dokument nicht umwandeln: {proc.stderr.strip()[:2000]}")
    typ_path.write_text(auto_columns(typ_path.read_text("utf-8")), "utf-8")


def typst_to_pdf(typ_path: Path, pdf_path: Path, root: Path) -> list[str]:
    """Compile Typst to ``pdf_path``; returns Typst's warnings (text)."""
    import typst

    try:
        compiler = typst.Compiler(root=str(root), font_paths=font_dirs(), ignore_system_fonts=True)
        _, warnings = compiler.compile_with_warnings(input=str(typ_path), output=str(pdf_path), format="pdf")
    except Exception as exc:  # typst.TypstError and friends
        msg = getattr(exc, "message", None) or str(exc)
        os_error = os_error_in(msg, pdf_path)
        if os_error is not None:  # e.g. OSError("No space left on device (os error 28)") without errno
            raise os_error from exc
        raise RenderError(f"Typst konnte das PDF nicht erstellen: {msg}") from exc
    return [getattr(w, "message", str(w)) for w in warnings]


def _atomic_target(pdf_path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{pdf_path.stem}-", suffix=".pdf.tmp", dir=pdf_path.parent)
    os.close(fd)
    return Path(tmp)


def render_typst(md_path: Path, pdf_path: Path, layout: str = "report") -> tuple[Path, list[str]]:
    """Render with pandoc + Typst; the build folder is ``md_path.parent`` (Typst root)."""
    build = md_path.parent
    typ_path = md_path.with_suffix(".typ")
    markdown_to_typst(md_path, typ_path, layout)
    tmp = _atomic_target(pdf_path)
    try:
        warnings = typst_to_pdf(typ_path, tmp, build)
        os.replace(tmp, pdf_path)
    finally:
        tmp.unlink(missing_ok=True)
    return pdf_path, warnings


def render_quarto(md_path: Path, pdf_path: Path) -> tuple[Path, list[str]]:
    """Render the same document with Quarto (``format: typst``, our template partials)."""
    build = md_path.parent
    qmd = build / (md_path.stem + ".qmd")
    text = md_path.read_text("utf-8")
    head, sep, body = text.partition("\n---\n")
    extra = (
        "format:\n  typst:\n    keep-typ: true\n    template-partials:\n"
        f"      - {BUILD_TEMPLATE_DIR}/typst-show.typ\n      - {BUILD_TEMPLATE_DIR}/typst-template.typ\n"
        "lang: de\n"
    )
    qmd.write_text(head.replace("lang: de-DE", "") + "\n" + extra + sep + body, "utf-8")
    proc = subprocess.run(
        ["quarto", "render", qmd.name, "--to", "typst"], cwd=build, capture_output=True, text=True, check=False
    )
    produced = qmd.with_suffix(".pdf")
    if proc.returncode != 0 or not produced.exists():
        os_error = os_error_in(proc.stderr, produced)
        if os_error is not None:
            raise os_error
        raise RenderError(f"Quarto konnte das PDF nicht erstellen: {proc.stderr.strip()[-2000:]}")
    tmp = _atomic_target(pdf_path)
    try:
        shutil.move(produced, tmp)
        os.replace(tmp, pdf_path)
    finally:
        tmp.unlink(missing_ok=True)
    return pdf_path, []


def render(md_path: Path, pdf_path: Path, engine: str = "auto", layout: str = "report") -> tuple[Path, list[str]]:
    """Render ``md_path`` (in its build folder, see :func:`prepare_build_dir`) to ``pdf_path``
    atomically; returns (pdf, Typst warnings). The Quarto engine sets the report layout only."""
    engine = choose_engine(engine)
    _layout_template(layout)
    if engine == "quarto" and layout == "report":
        return render_quarto(Path(md_path), Path(pdf_path))
    return render_typst(Path(md_path), Path(pdf_path), layout)
