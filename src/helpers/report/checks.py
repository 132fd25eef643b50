"""Document checks: defects a reader must never see, found in the assembled Markdown and the PDF.

The report's text is generated from client data, so some defects only show on real exports
(„umfasst 0 % der Kundinnen und Kunden“, „Nur 1 Kundinnen“, a raw caret, a tofu box). These checks
scan the finished document instead of each sentence:

- :func:`check_markdown` – the assembled ``bericht.md`` (prose, tables, references, characters);
- :func:`check_pdf` – the rendered PDF: the text of every page (the same text rules), fonts that
  draw tofu, words drawn on top of each other (table header collisions; needs ``pdftotext``) and
  near-empty pages in the middle of a chapter;
- :func:`check_text` – the text rules on any text (e.g. one narrative).

Each returns :class:`Finding` objects (``severity`` ``"error"`` = a defect a client must not see,
``"warning"`` = layout worth a look). The pipeline logs them (:func:`check_report`, after the PDF
is rendered); tests assert ``errors(findings) == []`` (:func:`errors`, :func:`format_findings` for
the assertion message).
"""

from __future__ import annotations

import html
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from concurrent.futures import Future

__all__ = [
    "Finding", "check_markdown", "check_markdown_file", "check_report", "check_pdf", "check_pdf_text",
    "check_text", "errors", "format_findings", "log_findings", "mask_markdown", "word_overlaps", "page_fill",
]

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- result


@dataclass(frozen=True)
class Finding:
    """One defect: rule id, German description, the offending text and where it was found."""

    rule: str
    message: str
    excerpt: str
    where: str = ""
    """``"bericht.md, Zeile 12"`` or ``"PDF, Seite 4"``."""
    severity: str = "error"
    """``"error"`` (a client must not see it) or ``"warning"`` (layout worth a look)."""

    def __str__(self) -> str:
        where = f"{self.where}: " if self.where else ""
        return f"{where}{self.message} – „{self.excerpt}“"


def errors(findings: Iterable[Finding]) -> list[Finding]:
    """Only the findings with severity ``"error"``."""
    return [f for f in findings if f.severity == "error"]


def format_findings(findings: Iterable[Finding]) -> str:
    """One finding per line (for logs and assertion messages)."""
    return "\n".join(str(f) for f in findings)


def log_findings(findings: Iterable[Finding], logger: logging.Logger = log, source: str = "") -> int:
    """Log every finding as a German warning; returns how many there were."""
    n = 0
    for f in findings:
        logger.warning("Dokumentprüfung%s: %s", f" ({source})" if source else "", f)
        n += 1
    return n


# ---------------------------------------------------------------- text rules
_S = r"[ \t\u00a0\u202f]"
"""A space inside a line (normal, no-break or narrow no-break)."""
_W = r"[ \t\n\u00a0\u202f]"
"""Any space, including a line break (PDF text wraps anywhere)."""

ABBREVIATIONS = frozenset(
    "z B d h u a o ä s S i R bzw ca ggf inkl exkl vgl etc usw Nr rd max min Mio Mrd Tsd Abb Tab Kap "
    "bspw evtl ggü zzgl abzgl Std Dr Prof St Str e V v sog gem lt p Ø Jan Feb Mär Apr Jun Jul Aug Sep "
    "Sept Okt Nov Dez Mo Di Mi Do Fr Sa So".split()
)
"""Words that end with a period without ending the sentence (``z. B. die …`` is no lowercase start)."""
_ABBREVIATIONS_LOWER = frozenset(a.lower() for a in ABBREVIATIONS if len(a) > 1)

LOWERCASE_NOUNS = (
    "kundinnen", "kundin", "kunden", "kunde", "firmenkunden", "firmenkunde", "käuferinnen", "käufer",
    "personen", "firmen", "bestellungen", "käufe", "einkäufe", "monate", "wochen", "segmente",
)
"""Nouns that generated text has printed lowercase („74 kundinnen und kunden“)."""

PLURAL_AFTER_ONE = (
    r"\w*innen", "Personen", "Firmen", "Bestellungen", "Käufe", "Einkäufe", "Monate", "Tage", "Wochen",
    "Jahre", "Segmente", "Kategorien", "Produkte", "Kanäle", "Bons", "Rechnungen", "Kunden und Kundinnen",
)
"""Plural nouns that cannot follow the number 1 („1 Kundinnen“); „1 Kunden“ is handled separately
(it is correct in the dative: „bei 1 Kunden“)."""


@dataclass(frozen=True)
class _Rule:
    rule: str
    message: str
    pattern: re.Pattern
    scope: str = "all"
    """``"all"`` (Markdown prose and tables, PDF text), ``"prose"`` (Markdown prose lines only, not
    tables) or ``"pdf"`` (PDF text only)."""


def _rx(pattern: str, flags: int = 0) -> re.Pattern:
    return re.compile(pattern, flags)


TEXT_RULES: tuple[_Rule, ...] = (
    _Rule("missing-value", "Fehlender Wert als Programmwort (NaN/None) im Text",
          _rx(r"(?<![\w\\])(?:NaN|nan|NaT|None|<NA>|-?inf|Infinity)(?![\w])")),
    _Rule("english", "Englischer Text im deutschen Bericht",
          _rx(r"\b(?:Figure|Table of Contents|Contents|Chapter|Bibliography)\b|\bTable\s\d|\bPage\s\d+\sof\b")),
    _Rule("latex", "Nicht umgesetzte Formel (LaTeX-Befehl)",
          _rx(r"\\(?:frac|text|textbf|mathrm|mathbb|cdot|times|sum|prod|sqrt|left|right|leq?|geq?|approx|"
              r"hat|bar|operatorname|alpha|beta|gamma|lambda|mu|sigma|infty)\b|\$[^$\n]{0,40}[\\^_{][^$\n]{0,40}\$")),
    _Rule("caret", "Hochstellung als Zirkumflex gedruckt (z. B. „Quote^t“)",
          _rx(r"[\w)\]]\s?\^\s?[\w(*{]"), scope="pdf"),
    _Rule("reference", "Querverweis nicht aufgelöst",
          _rx(r"@(?:fig|tbl|sec)-[\w-]+|\(?Verweis nicht verfügbar\)?"), scope="pdf"),
    _Rule("zero-claim", "Aussage über „0 %“ (zu kleine Gruppe oder Rundung auf null)",
          _rx(r"(?<![\d.,])0" + _S + r"?%" + r"(?!\w)"), scope="prose"),
    _Rule("zero-claim", "Aussage über „0 %“ (zu kleine Gruppe oder Rundung auf null)",
          _rx(r"(?:(?:umfasst|umfassen|bringt|bringen|macht|machen|ausmacht|beträgt|liegt bei|sind|stellen|"
              r"liefert|liefern|nur|lediglich|aber|etwa|rund)" + _W + r"+0" + _W + r"?%)"
              r"|(?<![\d.,])0" + _S + r"?%" + _W + r"+(?:der|des|aller|ihrer|seiner|vom|am)\b"), scope="pdf"),
    _Rule("zero-claim", "Aussage über „0 €“ (nicht berechenbar ist nicht null)",
          _rx(r"(?<![\d.,])0" + _W + r"?€" + _W + r"+(?:gefährdet|Umsatz|Wert|Deckungsbeitrag|auf dem Spiel)")),
    _Rule("grammar-one", "Einzahl mit Mehrzahl-Nomen („1 Kundinnen“)",
          _rx(r"(?<![\d.,])\b1" + _W + r"+(?:" + "|".join(PLURAL_AFTER_ONE) + r")\b"
              r"|(?:[Nn]ur|[Ii]nsgesamt|sind|haben|kaufen|kauften|gibt es|[Ee]s sind)" + _W + r"+1" + _W
              + r"+(?:Firmen)?[Kk]unden\b")),
    _Rule("lowercase-noun", "Nomen kleingeschrieben („74 kundinnen“)",
          _rx(r"(?<![\w\-/@.\\])(?<!-[ \n])(?:" + "|".join(LOWERCASE_NOUNS) + r")\b")),
    _Rule("doubled-skip", "„entfällt“ doppelt in einem Satz",
          _rx(r"\bentfällt\b[^.!?]{0,200}?\bentfällt\b")),
)


def _previous_word(text: str, end: int) -> str:
    m = re.search(r"([\wÄÖÜäöüß]+)\.\W*$", text[max(0, end - 40):end])
    return m.group(1) if m else ""


_SENTENCE_START = re.compile(r"[.!?][\"“”»«)]*" + _W + r"+([a-zäöü][\wäöüß-]*)")


def _lowercase_starts(text: str) -> Iterable[re.Match]:
    """Sentences that start with a lowercase word (abbreviations and ordinals excepted)."""
    for m in _SENTENCE_START.finditer(text):
        prev = _previous_word(text, m.start() + 1)
        if prev in ABBREVIATIONS or prev.lower() in _ABBREVIATIONS_LOWER or prev.isdigit() or len(prev) == 1:
            continue
        if text[m.start()] == "." and m.start() > 0 and text[m.start() - 1] == ".":  # "…" written as ...
            continue
        if text[m.start() + 1: m.start() + 2] in ("“", "”", '"', "«", "»"):  # „Was kostet das?“ rechnet …
            continue
        yield m


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _excerpt(text: str, start: int, end: int, pad: int = 30) -> str:
    s = text[max(0, start - pad):min(len(text), end + pad)]
    return " ".join(s.split())


def check_text(text: str, where: str = "", *, kind: str = "pdf", table_lines: frozenset[int] = frozenset(),
               line_offset: int = 0) -> list[Finding]:
    """The text rules on ``text``. ``kind`` ``"pdf"`` (any text) or ``"markdown"`` (masked Markdown,
    where ``table_lines`` are the 1-based numbers of table rows – prose-only rules skip them)."""
    found: list[Finding] = []

    def place(pos: int) -> str:
        if kind == "markdown":
            return f"{where}, Zeile {_line_of(text, pos) + line_offset}" if where else f"Zeile {_line_of(text, pos)}"
        return where

    for rule in TEXT_RULES:
        if rule.scope == "pdf" and kind != "pdf":
            continue
        if rule.scope == "prose" and kind != "markdown":
            continue
        for m in rule.pattern.finditer(text):
            if rule.scope == "prose" and _line_of(text, m.start()) in table_lines:
                continue
            found.append(Finding(rule.rule, rule.message, _excerpt(text, m.start(), m.end()), place(m.start())))
    for m in _lowercase_starts(text):
        if kind == "markdown" and _line_of(text, m.start()) in table_lines:
            continue
        found.append(Finding("lowercase-start", "Satz beginnt kleingeschrieben",
                             _excerpt(text, m.start(), m.end()), place(m.start())))
    return found


# ---------------------------------------------------------------- Markdown
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)
_MATH = re.compile(r"\$\$.+?\$\$|(?<![\\$\w])\$(?![\s$]).+?(?<![\s\\])\$(?!\d)", re.S)
_LINK_TARGET = re.compile(r"\]\([^)\n]*\)")
_ATTRIBUTES = re.compile(r"\{[#.=][^}\n]*\}|\{width=[^}\n]*\}")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_LABEL_DEF = re.compile(r"[{\s]#((?:fig|tbl|sec)-[\w-]+)")
_REF = re.compile(r"(?<![\w\\])@((?:fig|tbl|sec)-[\w-]*[\w])")
_ANNOUNCE = re.compile(
    r"\b(?:[Ff]olgende[nr]?|[Nn]achstehende[nr]?)" + _W
    + r"+(?:\w+" + _W + r"+)?(Abbildung(?:en)?|Grafik(?:en)?|Heatmaps?|Diagramm(?:e)?|Tabellen?)\b"
)
_UNPAIRED_CARET = re.compile(r"(?<!\\)\^")


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def mask_markdown(md: str) -> str:
    """``md`` with everything that is not prose blanked out (same length, same line breaks).

    Blanked: YAML front matter, fenced code and raw blocks, inline code, TeX math, HTML comments,
    link/image targets and attribute blocks (``{#fig-x width="80%"}``).
    """
    out = md
    if out.startswith("---\n"):
        end = out.find("\n---", 4)
        if end != -1:
            end = out.find("\n", end + 1)
            end = len(out) if end == -1 else end
            out = _blank(out[:end]) + out[end:]
    lines = out.split("\n")
    fence: str | None = None
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)
            lines[i] = " " * len(line)
        elif fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line.strip()[len(m.group(1)):].strip():
                fence = None
            lines[i] = " " * len(line)
    out = "\n".join(lines)
    for rx in (_COMMENT, _INLINE_CODE, _MATH, _LINK_TARGET, _ATTRIBUTES):
        out = rx.sub(lambda m: _blank(m.group(0)), out)
    return out


def _table_lines(masked: str) -> frozenset[int]:
    return frozenset(i + 1 for i, line in enumerate(masked.split("\n")) if line.lstrip().startswith("|"))


def _blocks_after(masked: str, pos: int, n: int = 2) -> list[str]:
    """The next ``n`` Markdown blocks after the paragraph containing ``pos``."""
    end = masked.find("\n\n", pos)
    if end == -1:
        return []
    rest = [b for b in re.split(r"\n[ \t]*\n", masked[end:]) if b.strip()]
    return rest[:n]


def check_markdown(md: str, where: str = "bericht.md") -> list[Finding]:
    """Defects in the assembled Markdown (see the module docstring); ``md`` unchanged."""
    from .brand import undrawable

    masked = mask_markdown(md)
    tables = _table_lines(masked)
    found = check_text(masked, where, kind="markdown", table_lines=tables)

    def at(pos: int) -> str:
        return f"{where}, Zeile {_line_of(md, pos)}"

    # carets: pandoc superscript ^x^ is fine, any other unescaped caret prints literally
    for line_start, line in _lines_with_offsets(masked):
        for m in _UNPAIRED_CARET.finditer(line):
            rest = line[m.end():]
            if re.match(r"[^\s^]+(?<!\\)\^", rest):  # opening caret of ^sup^
                continue
            if m.start() > 0 and re.search(r"\^[^\s^]+$", line[:m.start()]):  # closing caret of ^sup^
                continue
            pos = line_start + m.start()
            found.append(Finding("caret", "Zirkumflex wird wörtlich gedruckt (Hochstellung als ^x^ schreiben)",
                                 _excerpt(md, pos, pos + 1), at(pos)))
    # cross-references to labels that do not exist
    labels = set(_LABEL_DEF.findall(md))
    for m in _REF.finditer(masked):
        if m.group(1) not in labels:
            found.append(Finding("reference", "Querverweis auf etwas, das im Bericht fehlt",
                                 _excerpt(md, m.start(), m.end()), at(m.start())))
    # "die folgende Abbildung …" followed by no figure or table
    for m in _ANNOUNCE.finditer(masked):
        if _line_of(masked, m.start()) in tables:
            continue
        following = _blocks_after(md, m.start(), 3)
        ok = any("![" in b or b.lstrip().startswith("|") for b in following)
        if not ok:
            found.append(Finding("announced-missing", f"Text kündigt eine {m.group(1)} an, die nicht folgt",
                                 _excerpt(md, m.start(), m.end()), at(m.start())))
    # characters no font can draw (tofu)
    missing = undrawable(md)
    if missing:
        found.append(Finding("glyph", "Zeichen, die keine Schrift des Berichts darstellen kann",
                             " ".join(missing[:20]), where))
    return found


def check_markdown_file(md_path: str | Path) -> list[Finding]:
    """:func:`check_markdown` on the file ``md_path`` (``where`` is its name)."""
    return check_markdown(Path(md_path).read_text("utf-8"), Path(md_path).name)


def _lines_with_offsets(text: str) -> Iterable[tuple[int, str]]:
    pos = 0
    for line in text.split("\n"):
        yield pos, line
        pos += len(line) + 1


# ---------------------------------------------------------------- PDF
TOFU_FONTS = ("lastresort",)
"""Fonts whose glyphs are boxes (Typst's last fallback): their use in a PDF means tofu."""
NEAR_EMPTY = 0.2
"""A page inside a chapter filled to less than this share of the text area is reported (warning)."""
NEAR_EMPTY_END = 0.1
"""The last page of a chapter filled to less than this share is reported (warning)."""


def _pdf(pdf: str | Path):
    """The PDF opened with pdfium (fast C parser; :mod:`pypdfium2`)."""
    import pypdfium2 as pdfium

    return pdfium.PdfDocument(str(pdf))


def _page_text(page) -> str:
    text = page.get_textpage().get_text_range()  # pdfium marks a hyphen at a line end as U+FFFE
    return text.replace("\ufffe", "-\n").replace("\r\n", "\n").replace("\r", "\n")


def pdf_page_texts(pdf: str | Path) -> list[str]:
    """Text of every page (lines separated by ``\\n``)."""
    doc = _pdf(pdf)
    try:
        return [_page_text(doc[i]) for i in range(len(doc))]
    finally:
        doc.close()


def pdf_fonts(pdf: str | Path) -> set[str]:
    """Base names of all fonts used for text in the PDF (subset prefix removed)."""
    import pypdfium2.raw as pdfium_c

    doc = _pdf(pdf)
    names: set[str] = set()
    try:
        for i in range(len(doc)):
            for obj in doc[i].get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_TEXT,), max_depth=8):
                names.add(obj.get_font().get_base_name().split("+", 1)[-1].lstrip("/"))
    finally:
        doc.close()
    return names


def word_overlaps(pdf: str | Path) -> list[tuple[int, str, str]] | None:
    """``(page, word, other word)`` for words drawn on top of each other (e.g. colliding table
    headers); ``None`` when ``pdftotext`` (poppler) is not installed."""
    proc = _start_bbox(pdf)
    return None if proc is None else _finish_bbox(proc)


def _start_bbox(pdf: str | Path) -> subprocess.Popen | None:
    """Start ``pdftotext -bbox`` in the background (it runs while pdfium reads the pages)."""
    exe = shutil.which("pdftotext")
    if exe is None:
        return None
    return subprocess.Popen([exe, "-bbox", str(pdf), "-"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, encoding="utf-8")


def _finish_bbox(proc: subprocess.Popen) -> list[tuple[int, str, str]] | None:
    out, _ = proc.communicate()
    return None if proc.returncode != 0 else _overlaps_from_bbox(out)


_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')


def _overlaps_from_bbox(bbox_html: str) -> list[tuple[int, str, str]]:
    out: list[tuple[int, str, str]] = []
    for pno, page in enumerate(bbox_html.split("<page ")[1:], start=1):
        words = sorted((float(a), float(b), float(c), float(d), html.unescape(w))
                       for a, b, c, d, w in _WORD.findall(page))
        for i, (x0, y0, x1, y1, w) in enumerate(words):
            for a0, b0, a1, b1, v in words[i + 1:]:
                if a0 >= x1:
                    break
                dx = min(x1, a1) - max(x0, a0)
                dy = min(y1, b1) - max(y0, b0)
                if dx > 1.0 and dy > 0.5 * min(y1 - y0, b1 - b0):
                    out.append((pno, w, v))
    return out


def _scan_pages(pdf: str | Path, top_cm: float = 2.6, bottom_cm: float = 2.4) -> tuple[list[str], list[float]]:
    """One pass over the PDF: each page's text and the share of its text area (between the report's
    margins) that holds text or images, measured from the top to the lowest drawn element."""
    import pypdfium2.raw as pdfium_c

    cm = 72 / 2.54
    drawn = (pdfium_c.FPDF_PAGEOBJ_TEXT, pdfium_c.FPDF_PAGEOBJ_IMAGE)
    texts: list[str] = []
    fills: list[float] = []
    doc = _pdf(pdf)
    try:
        for i in range(len(doc)):
            page = doc[i]
            height = page.get_height()
            top, bottom = height - top_cm * cm, bottom_cm * cm
            texts.append(_page_text(page))
            lows = [obj.get_bounds()[1] for obj in page.get_objects(filter=drawn, max_depth=8)
                    if obj.type != pdfium_c.FPDF_PAGEOBJ_TEXT or obj.get_bounds()[3] - obj.get_bounds()[1] > 0]
            body = [y for y in lows if bottom + 2 < y < top - 2]
            fills.append(0.0 if not body else max(0.0, min(1.0, (top - min(body)) / (top - bottom))))
    finally:
        doc.close()
    return texts, fills


def page_fill(pdf: str | Path) -> list[float]:
    """Share of each page's text area that holds text or images (see :func:`_scan_pages`)."""
    return _scan_pages(pdf)[1]


def _chapter_start_pages(pdf: str | Path) -> set[int]:
    """1-based pages where a level-1 heading (chapter) starts, from the PDF outline."""
    doc = _pdf(pdf)
    try:
        pages: set[int] = set()
        for item in doc.get_toc():
            dest = item.get_dest() if item.level == 0 else None
            index = dest.get_index() if dest is not None else None
            if index is not None:
                pages.add(index + 1)
        return pages
    finally:
        doc.close()


_SOFT_HYPHEN = re.compile("\u00ad[ \t]*\n?[ \t]*")


def check_pdf_text(pages: list[str]) -> list[Finding]:
    """The text rules on every page's text (``pages`` as from :func:`pdf_page_texts`)."""
    found: list[Finding] = []
    for i, text in enumerate(pages, start=1):
        text = _SOFT_HYPHEN.sub("", text)  # "Stamm\u00ad kunden" is one word hyphenated at a line end
        found += check_text(text, f"PDF, Seite {i}", kind="pdf")
        if "\ufffd" in text:
            found.append(Finding("glyph", "Ersatzzeichen � im PDF", "\ufffd", f"PDF, Seite {i}"))
    return found


def check_pdf(pdf: str | Path, *, layout: bool = True) -> list[Finding]:
    """All checks on a rendered report PDF: text rules per page, tofu fonts and – with ``layout`` –
    overlapping words and near-empty pages inside chapters (warnings)."""
    pdf = Path(pdf)
    bbox = _start_bbox(pdf) if layout else None
    texts, fills = _scan_pages(pdf)
    found = check_pdf_text(texts)
    tofu = sorted(f for f in pdf_fonts(pdf) if any(t in f.lower() for t in TOFU_FONTS))
    if tofu:
        found.append(Finding("glyph", "Zeichen ohne passende Schrift als Kästchen gedruckt (Tofu)",
                             ", ".join(tofu), "PDF"))
    if not layout:
        return found
    overlaps = _finish_bbox(bbox) if bbox is not None else None
    for page, a, b in (overlaps or [])[: 20]:
        found.append(Finding("overlap", "Wörter überlappen sich (z. B. Tabellenkopf zu eng)", f"{a} / {b}",
                             f"PDF, Seite {page}"))
    starts = _chapter_start_pages(pdf)
    for i, fill in enumerate(fills, start=1):
        last_of_chapter = (i + 1) in starts or i == len(fills)
        if i <= 2:  # title page and table of contents
            continue
        if not last_of_chapter and fill < NEAR_EMPTY:
            found.append(Finding("near-empty-page", "Fast leere Seite mitten im Kapitel",
                                 f"{round(100 * fill)} % gefüllt", f"PDF, Seite {i}", severity="warning"))
        elif last_of_chapter and i not in starts and fill < NEAR_EMPTY_END:
            found.append(Finding("near-empty-page", "Kapitel endet mit ein paar Zeilen auf einer eigenen Seite",
                                 f"{round(100 * fill)} % gefüllt", f"PDF, Seite {i}", severity="warning"))
    return found


def check_report(md_path: str | Path, pdf_path: str | Path, logger: logging.Logger = log,
                 markdown: "Future[list[Finding]] | None" = None) -> list[Finding]:
    """Check the assembled Markdown and the rendered PDF of one report and log every finding as a
    German warning (never raises for a finding); returns the findings. The pipeline calls it after
    rendering; a broken check must not cost the client's PDF, so its own errors are only logged.

    ``markdown``: the Markdown findings when they were already started (:func:`check_markdown_file`
    in a thread while Typst renders), else they are computed here."""
    found: list[Finding] = []
    try:
        found += markdown.result() if markdown is not None else check_markdown_file(md_path)
        found += check_pdf(pdf_path)
    except Exception as exc:  # pragma: no cover - defensive: the report itself is fine
        logger.warning("Dokumentprüfung nicht möglich: %s", exc)
    log_findings(found, logger)
    return found
