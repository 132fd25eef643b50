"""The one chart style shared by all chapters (colours from ``reports/template/brand.yml``).

:func:`use_style` sets the look (rcParams) and installs a figure hook (:func:`prepare_figure`)
that tidies every figure pyplot creates just before it is drawn (:func:`tidy_figure`):

- default number axes get German tick labels (``1.234,5``: decimal comma, thousands point);
- tick labels that would overlap are thinned (numbers, dates) or rotated (categories, then thinned);
- a legend placed on top of data (lines, bars, points) moves to the best free spot, or outside
  the axes when there is none;
- constrained layout makes room for rotated labels and outside legends;
- characters the chart fonts cannot draw (emoji, CJK in client data) are dropped or shown as „?“,
  never as empty boxes (:func:`chart_text`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import matplotlib
from matplotlib.ticker import Formatter, Locator

from ..config import TEMPLATE_DIR

A4_TEXT_WIDTH_IN = 6.3
"""Usable text width on A4 with the report margins, in inches."""


@lru_cache(maxsize=1)
def _brand() -> dict:
    import yaml

    with open(TEMPLATE_DIR / "brand.yml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


class _Brand:
    @property
    def colors(self) -> dict[str, str]:
        return _brand()["colors"]

    @property
    def palette(self) -> list[str]:
        return list(_brand()["palette"])

    @property
    def sequential(self) -> str:
        return _brand()["sequential"]


BRAND = _Brand()


HOOK = "helpers.plotting.style:prepare_figure"
"""Entry in matplotlib's ``figure.hooks`` (called for every figure pyplot creates)."""


def use_style(tidy: bool = True) -> None:
    """Apply the kundenwert chart style (call once per notebook, in the setup cell).

    ``tidy``: install :func:`prepare_figure` so every new pyplot figure is tidied when drawn
    (German tick labels, no overlapping ticks, legends off the data).
    """
    from cycler import cycler

    # Seaborn's "whitegrid"/"paper" look, set directly: importing seaborn here would
    # cost seconds in every notebook's first cell.
    c = BRAND.colors
    matplotlib.rcParams.update(
        {
            "figure.figsize": (A4_TEXT_WIDTH_IN, 3.4),
            "figure.dpi": 110,
            "savefig.dpi": 200,
            "savefig.bbox": "tight",
            "font.family": "sans-serif",
            "font.sans-serif": [_brand()["fonts"]["charts"], "DejaVu Sans"],
            "font.size": 9,
            "axes.titlesize": 10,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.labelsize": 9,
            "axes.edgecolor": c["neutral"],
            "axes.labelcolor": c["text"],
            "axes.prop_cycle": cycler(color=BRAND.palette),
            "axes.spines.top": False,
            "axes.spines.right": False,
            "xtick.color": c["text"],
            "ytick.color": c["text"],
            "legend.frameon": True,  # white box, no border: a guide line behind never runs through text
            "legend.framealpha": 0.9,
            "legend.edgecolor": "none",
            "legend.facecolor": "white",
            "legend.fontsize": 8,
            "grid.color": "#DDE3E8",
            "axes.grid": True,
            "axes.facecolor": "white",
            "axes.axisbelow": True,
            "grid.linewidth": 0.8,
            "lines.linewidth": 1.6,
            "axes.formatter.use_locale": False,
            "figure.constrained_layout.use": True,
            "axes.formatter.limits": (-5, 9),  # no "1e6" offsets: German digits in full
            "axes.formatter.useoffset": False,
            "legend.loc": "best",
            "xtick.major.pad": 3.0,
        }
    )
    hooks = [h for h in matplotlib.rcParams["figure.hooks"] if h != HOOK]
    matplotlib.rcParams["figure.hooks"] = hooks + ([HOOK] if tidy else [])


def new_figure(height: float = 3.4, ncols: int = 1, width: float = A4_TEXT_WIDTH_IN):
    """A figure sized for the A4 text width; returns ``(fig, ax_or_axes)``."""
    import matplotlib.pyplot as plt

    return plt.subplots(1, ncols, figsize=(width, height), constrained_layout=True)


def chart_money(value: float | None, decimals: int = 0, currency: str | None = None) -> str:
    """An amount for chart text in the report's currency (``fmt.money``), ``$`` escaped so that
    matplotlib never reads two amounts as math: ``"1.234 $"``, ``"1.234 €"``."""
    from .. import fmt

    return fmt.money(value, decimals, currency=currency).replace("$", r"\$")


def money_axis_label(text: str) -> str:
    """Axis or colorbar label with the report's currency: ``"Nettoumsatz"`` -> ``"Nettoumsatz (€)"``,
    ``"Nettoumsatz ($)"`` for a US-dollar report (``fmt.money_label``; ``$`` escaped for matplotlib)."""
    from .. import fmt

    return fmt.money_label(text).replace("$", r"\$")


def axis_format(ax, which: Literal["x", "y"] = "y",
                kind: Literal["int", "eur", "pct", "number"] = "int", decimals: int = 0) -> None:
    """German tick labels: ``kind`` 'int' (1.234), 'eur' (money in the report's currency when the
    chart is made, ``fmt.currency_code()``: 1.234 €, 1.234 $), 'pct' (share 0.63 -> 63 %)."""
    from matplotlib.ticker import FuncFormatter

    from .. import fmt

    code = fmt.currency_code()
    funcs = {
        "int": lambda v, _: fmt.number(v, decimals),
        "number": lambda v, _: fmt.number(v, decimals),
        "eur": lambda v, _: chart_money(v, decimals, currency=code),
        "pct": lambda v, _: fmt.pct(v, decimals),
    }
    axis = ax.yaxis if which == "y" else ax.xaxis
    axis.set_major_formatter(FuncFormatter(funcs[kind]))


# ---------------------------------------------------------------- tidying figures before drawing
MAX_TIDY_ROUNDS = 12
"""How often tick labels are thinned or rotated at most until they stop overlapping."""
_LABEL_GAP_PX = 2.0
"""Minimal gap between neighbouring tick labels (pixels at the figure's dpi)."""


def german_number_text(text: str) -> str:
    """``"1234.5"`` -> ``"1.234,5"``, ``"−0.25"`` -> ``"−0,25"``; other text unchanged except that a
    decimal point between digits becomes a comma."""
    import re

    m = re.fullmatch(r"([\u2212-]?)(\d+)(?:\.(\d+))?", text.strip())
    if not m:
        return re.sub(r"(?<=\d)\.(?=\d)", ",", text)
    sign, whole, frac = m.groups()
    grouped = f"{int(whole):,}".replace(",", ".")
    return sign + grouped + ("," + frac if frac else "")


def _is_year(value: float) -> bool:
    return 1900 <= value <= 2100


def _german_scalar_formatter():
    from matplotlib.ticker import ScalarFormatter

    class GermanScalarFormatter(ScalarFormatter):
        """Matplotlib's default number formatter with German decimal comma and thousands point."""

        _years = False

        def set_locs(self, locs):
            self._years = len(locs) > 0 and all(_is_year(v) for v in locs)
            super().set_locs(locs)

        def __call__(self, x, pos=None):
            text = super().__call__(x, pos)
            if self._years:  # 2024, not 2.024
                return text.replace(".", ",")
            return german_number_text(text)

    return GermanScalarFormatter


def prepare_figure(fig) -> None:
    """Figure hook: run :func:`tidy_figure` every time ``fig`` is drawn (screen, PNG, PDF)."""
    if getattr(fig, "_kundenwert_tidy", False):
        return
    original = fig.draw

    def draw(renderer, *args, **kwargs):
        try:
            tidy_figure(fig, renderer)
        except Exception:  # tidying must never cost the chart
            pass
        return original(renderer, *args, **kwargs)

    fig.draw = draw
    fig._kundenwert_tidy = True


def tidy_figure(fig, renderer=None) -> None:
    """German number ticks, no overlapping tick labels, no legend on top of data (see module doc)."""
    from matplotlib.ticker import MaxNLocator, ScalarFormatter

    renderer = renderer or fig.canvas.get_renderer()
    _clean_texts(fig)
    german = _german_scalar_formatter()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if type(axis.get_major_formatter()) is ScalarFormatter:
                old = axis.get_major_formatter()
                new = german(useOffset=old.get_useOffset(), useMathText=old.get_useMathText())
                axis.set_major_formatter(new)
                locator = axis.get_major_locator()
                if isinstance(locator, MaxNLocator) and all(_is_year(v) for v in axis.get_view_interval()):
                    locator.set_params(integer=True)  # a year axis has no half years
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    engine = fig.get_layout_engine()
    if isinstance(engine, PlaceHolderLayoutEngine):
        return  # final pass of savefig(bbox_inches="tight"): layout is frozen, keep the tidied state
    if engine is not None:
        engine.execute(fig)
    moved = False
    for ax in fig.axes:  # legends first: one moved outside the axes narrows them
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            moved |= _free_legend(ax, legend, renderer)
    for i in range(MAX_TIDY_ROUNDS):  # one step per axis and round, then a new layout: until stable
        if engine is not None and (i > 0 or moved):  # round 0 keeps the layout above unless a legend moved out
            engine.execute(fig)
        changed = False
        for ax in fig.axes:
            if ax.get_visible() and ax.axison:
                changed |= _untangle_step(ax.xaxis, renderer, horizontal=True)
                changed |= _untangle_step(ax.yaxis, renderer, horizontal=False)
        if not changed:
            break


@lru_cache(maxsize=4)
def _chart_codepoints(families: tuple[str, ...]) -> frozenset[int]:
    """Code points the chart fonts draw (matplotlib falls back along the family list)."""
    from matplotlib.font_manager import FontProperties, findfont

    from ..report.brand import font_codepoints

    points: set[int] = set()
    for family in families:
        points |= font_codepoints(findfont(FontProperties(family=family), fallback_to_default=True))
    return frozenset(points)


def chart_text(text: str) -> str:
    """``text`` without characters the chart fonts cannot draw (emoji dropped, CJK as „?“)."""
    from ..report.brand import replace_undrawable

    families = tuple(matplotlib.rcParams["font.sans-serif"][:3])
    return replace_undrawable(text, _chart_codepoints(families))[0]


class CleanFormatter(Formatter):
    """Tick labels of ``base`` (categories from client data) passed through :func:`chart_text`."""

    def __init__(self, base: Formatter) -> None:
        self.base = base

    def set_axis(self, axis) -> None:
        super().set_axis(axis)
        self.base.set_axis(axis)

    def set_locs(self, locs) -> None:
        self.base.set_locs(locs)

    def __call__(self, x, pos=None):
        return chart_text(self.base(x, pos))

    def format_ticks(self, values):
        return [chart_text(t) for t in self.base.format_ticks(values)]


def _clean_texts(fig) -> None:
    """No tofu in charts: category tick labels and every text drawn (titles, legends, annotations)."""
    from matplotlib.category import StrCategoryFormatter
    from matplotlib.text import Text
    from matplotlib.ticker import FixedFormatter

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            f = axis.get_major_formatter()
            if isinstance(f, (FixedFormatter, StrCategoryFormatter)):
                axis.set_major_formatter(CleanFormatter(f))
    for text in fig.findobj(Text):
        value = text.get_text()
        if value and not value.isascii():
            clean = chart_text(value)
            if clean != value:
                text.set_text(clean)


def _base_formatter(axis):
    f = axis.get_major_formatter()
    return f.base if isinstance(f, CleanFormatter) else f


def _visible_ticks(axis) -> list:
    return [t for t in axis._update_ticks()
            if t.get_visible() and t.label1.get_visible() and t.label1.get_text().strip()]


def _overlapping(labels, renderer, horizontal: bool) -> bool:
    """Whether neighbouring labels overlap; rotated x labels are compared by their anchor spacing
    (``height / sin(angle)``), not by their axis-aligned boxes."""
    import math

    boxes = [lab.get_window_extent(renderer) for lab in labels]
    angle = labels[0].get_rotation() % 180 if horizontal else 0
    if horizontal and angle:
        xs = sorted(lab.get_transform().transform(lab.get_position())[0] for lab in labels)
        line = max(lab.get_fontsize() for lab in labels) * labels[0].get_figure(root=True).dpi / 72
        need = line / math.sin(math.radians(angle)) + _LABEL_GAP_PX
        return any(b - a < need for a, b in zip(xs, xs[1:]))
    boxes.sort(key=(lambda b: b.x0) if horizontal else (lambda b: b.y0))
    for a, b in zip(boxes, boxes[1:]):
        if horizontal and b.x0 < a.x1 + _LABEL_GAP_PX and min(a.y1, b.y1) > max(a.y0, b.y0):
            return True
        if not horizontal and b.y0 < a.y1 + _LABEL_GAP_PX / 2 and min(a.x1, b.x1) > max(a.x0, b.x0):
            return True
    return False


CATEGORY_ROTATIONS = (30, 45, 90)
"""Angles tried, in order, for category labels that do not fit side by side."""
MIN_CATEGORY_FONTSIZE = 6.5
"""Category labels shrink down to this size (pt) before any of them is left out."""


def _rotate(axis, angle: float) -> None:
    """Rotate an x axis' tick labels so that each ends at its tick (kept when ticks are rebuilt)."""
    try:  # matplotlib >= 3.10: rotation mode "xtick" aligns the label's end with the tick
        axis.set_tick_params(labelrotation=angle, labelrotation_mode="xtick")
    except (ValueError, TypeError):
        axis.set_tick_params(labelrotation=angle)
        for lab in axis.get_ticklabels():
            lab.set_ha("right" if angle < 90 else "center")
            lab.set_rotation_mode("anchor" if angle < 90 else "default")


def _untangle_step(axis, renderer, horizontal: bool) -> bool:
    """One step against overlapping tick labels; ``False`` when they do not overlap (nothing done).

    Categories: rotate (30°, 45°, 90°), then shrink the font, then leave every second label out;
    numbers: fewer ticks; dates and others: leave every second tick out.
    """
    from matplotlib.category import StrCategoryFormatter
    from matplotlib.ticker import FixedFormatter, FixedLocator, MaxNLocator

    # ticks placed explicitly by the chart (heatmap rows, segment bars) are names: never left out
    fixed = isinstance(axis.get_major_locator(), FixedLocator)
    categorical = fixed or isinstance(_base_formatter(axis), (FixedFormatter, StrCategoryFormatter))
    ticks = _visible_ticks(axis)
    labels = [t.label1 for t in ticks]
    if len(labels) < 2 or not _overlapping(labels, renderer, horizontal):
        return False
    rotation = labels[0].get_rotation() % 180
    steeper = [a for a in CATEGORY_ROTATIONS if a > rotation]
    size = labels[0].get_fontsize()
    locator = axis.get_major_locator()
    if horizontal and categorical and steeper:
        _rotate(axis, steeper[0])
    elif categorical and size > MIN_CATEGORY_FONTSIZE:  # every category keeps its name if possible
        axis.set_tick_params(labelsize=max(MIN_CATEGORY_FONTSIZE, size - 1))
    elif isinstance(locator, MaxNLocator) and not categorical:
        locator.set_params(nbins=max(1, len(labels) // 2))
    elif not fixed and not isinstance(_base_formatter(axis), FixedFormatter):  # dates, categories by value
        step = locator.step * 2 if isinstance(locator, EveryNth) else 2
        axis.set_major_locator(EveryNth(locator.base if isinstance(locator, EveryNth) else locator, step))
    else:
        return False  # fixed labels are matched by position: nothing left to do without losing names
    return True


class EveryNth(Locator):
    """Every ``step``-th tick of ``base`` (thinned date or category ticks, kept across redraws)."""

    def __init__(self, base: Locator, step: int) -> None:
        self.base, self.step = base, step

    def set_axis(self, axis) -> None:
        super().set_axis(axis)
        self.base.set_axis(axis)

    def __call__(self):
        return list(self.base())[:: self.step]

    def tick_values(self, vmin, vmax):
        return list(self.base.tick_values(vmin, vmax))[:: self.step]


def _is_reference_line(line) -> bool:
    """A straight guide ("Zufall" diagonal, an average): a line through two points only."""
    return len(line.get_xdata()) <= 2


def _covers_data(ax, box, guides: bool = True) -> bool:
    """Whether the display-space ``box`` lies on lines, bars or points of ``ax`` (``guides``: also
    on reference lines such as a dashed diagonal)."""
    from matplotlib.collections import Collection
    from matplotlib.patches import Rectangle

    for line in ax.get_lines():
        if not line.get_visible() or len(line.get_xdata()) == 0:
            continue
        if not guides and _is_reference_line(line):
            continue
        path = line.get_transform().transform_path(line.get_path())
        if path.intersects_bbox(box, filled=False):
            return True
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_visible() and patch.get_width() and patch.get_height():
            if patch.get_window_extent().overlaps(box):
                return True
    for coll in ax.collections:
        if not isinstance(coll, Collection) or not coll.get_visible():
            continue
        offsets = coll.get_offsets()
        if len(offsets):
            pts = coll.get_offset_transform().transform(offsets)
            if any(box.contains(x, y) for x, y in pts):
                return True
    return False


def _free_legend(ax, legend, renderer) -> bool:
    """Move a legend that sits on data to the best free place, else outside the axes (right).
    Covering a reference line (dashed diagonal, average) is accepted at the best place.
    True when the legend went outside the axes (the layout must make room for it)."""
    if legend._bbox_to_anchor is not None:  # deliberately placed (e.g. above or outside the axes)
        return False
    if not _covers_data(ax, legend.get_window_extent(renderer)):
        return False
    legend.set_loc("best")
    if not _covers_data(ax, legend.get_window_extent(renderer), guides=False):
        return False
    legend.set_loc("upper left")
    legend.set_bbox_to_anchor((1.01, 1.0), transform=ax.transAxes)
    return True
