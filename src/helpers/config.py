"""One typed place for all settings of a client report.

:class:`ReportConfig` is a frozen dataclass made of one section per chapter.
Notebooks receive the client's overrides as a flat ``settings`` dict whose keys
are ``"field"`` for top-level fields or ``"section.field"`` for a section, e.g.
``{"gross_margin": 0.35, "clv.horizon_months": 6}``. :meth:`ReportConfig.from_settings`
validates them once; everything downstream reads the config object.

Paths are derived from the project root once, here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from . import labels
from .exceptions import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
REPORTS_DIR = PROJECT_ROOT / "reports"
TEMPLATE_DIR = REPORTS_DIR / "template"
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
SAMPLE_DATA = SAMPLE_DIR / "onlineshop_transaktionen.csv"
SAMPLE_CLIENT = "Beispiel Onlineshop GmbH"


@dataclass(frozen=True)
class DataSettings:
    """How to read and clean the client's export."""

    column_map: Mapping[str, str] = field(default_factory=dict)
    """Canonical name -> column name in the client file, e.g. ``{"revenue": "Umsatz"}``."""
    sheet: str | None = None
    """Excel sheet name; ``None`` means the first sheet."""
    separator: str | None = None
    """CSV separator; ``None`` means detect."""
    encoding: str | None = None
    """File encoding; ``None`` means detect (UTF-8 with/without BOM, cp1252)."""
    decimal: str | None = None
    """Decimal mark ``","`` or ``"."``; ``None`` means detect."""
    date_format: str | None = None
    """strftime pattern; ``None`` means detect dd.mm.yyyy / yyyy-mm-dd. mm/dd/yyyy only when set."""
    returns: str = "net"
    """Negative lines: ``"net"`` them against the customer's revenue or ``"drop"`` them."""
    outlier_factor: float = 10.0
    """A line is flagged as an outlier when revenue > median + factor * IQR of positive lines."""
    max_text_mb: float = 512.0
    """Largest amount of text read from one file, in MB (1 MB = 1.000.000 bytes): a CSV after
    unpacking a ``.gz``, an ``.xlsx`` or Parquet file unpacked. Checked while reading; larger files are
    refused with a German error. Memory needed is about 7 times this size (1 million lines, a 57 MB CSV,
    took 650 MB), so the default keeps a run below about 4 GB."""
    max_line_bytes: int = 1_000_000
    """Longest line of a CSV file (the header line included), in bytes; checked while reading."""
    max_field_bytes: int = 100_000
    """Longest single field (cell) of a CSV file, in bytes; checked while reading."""
    max_implausible_date_share: float = 0.02
    """Share of rows (0..1) whose date lies after the run date or far outside the rest of the data
    (e.g. 1900 among 2024) up to which those rows are dropped and listed in the ledger; above it the
    run stops with a German error."""


@dataclass(frozen=True)
class EconomicsSettings:
    """Chapter "Warum Bestandskunden zählen"."""

    cohort_period: str = "M"
    """Cohort granularity: ``"M"`` (month) or ``"Q"`` (quarter). Monthly cohorts are shown as
    quarters when there are more than ``max_cohorts`` of them."""
    max_cohorts: int = 15
    """Most cohorts (rows) a cohort heatmap shows; with more monthly cohorts the heatmaps use
    quarters, with more quarterly cohorts the most recent ones are shown and the text says so."""
    min_group_size: int = 20
    """Fewest customers behind a share, average or comparison the chapter states in words (a
    group, a cohort, the new customers of a year); smaller groups are named as too small."""
    single_cohort_share: float = 0.95
    """Single acquisition cohort: when at least this share (0..1) of customers made their first
    purchase within the first ``single_cohort_window`` of the observed period, the data describe
    one group of customers followed over time (a cohort study), not a customer base with ongoing
    acquisition."""
    single_cohort_window: float = 0.2
    """Share (0..1) of the observed period, counted from its first day, used by
    ``single_cohort_share`` (0.2 of 18 months = the first 3,6 months)."""
    cost_per_new_customer: float = 50.0
    """EUR to win one new customer. Default: a rule of thumb (winning costs 5 times as much as
    keeping, see ``cost_per_retained_customer``) without a primary source; replace with the
    client's own figures."""
    cost_per_retained_customer: float = 10.0
    """EUR to look after one existing customer for a year (retention measures). Default: a rule of
    thumb; replace with the client's own figures."""
    retention_uplift_pp: float = 5.0
    """What-if: retention improvement in percentage points."""
    whatif_years: int = 3
    """What-if horizon in years."""

    def __post_init__(self) -> None:
        for name in ("single_cohort_share", "single_cohort_window"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ConfigError(f"Ungültige Einstellung economics.{name}={value!r}: der Anteil muss "
                                  "größer als 0 und höchstens 1 sein (z. B. 0.2 für 20 %).")
        for name in ("max_cohorts", "min_group_size"):
            value = getattr(self, name)
            if not value >= 1:
                raise ConfigError(f"Ungültige Einstellung economics.{name}={value!r}: der Wert muss "
                                  "mindestens 1 sein.")


@dataclass(frozen=True)
class RfmSettings:
    """Chapter "Kundensegmentierung nach RFM"."""

    segment_rules: tuple | None = None
    """Rule table (first match wins): rows ``(segment_id, r_min, r_max, f_min, f_max[, m_min, m_max])``
    with scores 1..5, e.g. ``("champions", 5, 5, 4, 5)``; ``None`` uses the default 10-segment scheme
    (``helpers.analysis.rfm.DEFAULT_RULES``). A segment id is an id of ``helpers.labels.SEGMENTS``
    (shown with its German name) or a client's own id (shown as written)."""
    segment_actions: Mapping[str, str] = field(default_factory=dict)
    """Overrides of the recommended action (German text) per segment id, e.g.
    ``{"lost": "Nicht mehr anschreiben."}``; ids of ``helpers.labels.SEGMENTS`` or of ``segment_rules``.
    Segments not listed keep the default action of ``helpers.labels.SEGMENTS``."""


@dataclass(frozen=True)
class ClvSettings:
    """Chapter "Kaufprognose und Kundenwert" (BG/NBD, MBG/NBD or Pareto/NBD chosen by holdout, + Gamma-Gamma)."""

    holdout_weeks: int = 26
    """Length of the holdout period at the end of the data, in weeks (validation needs at least
    as many weeks of calibration before it; a shorter history shortens the holdout to half the
    history, down to ``min_holdout_weeks``)."""
    horizon_months: int = 12
    """Wanted CLV horizon in months (1 month = 365.25/12 days); shortened to the months of history
    the data cover when they cover fewer (``key.horizon_capped``)."""
    discount_rate_yearly: float = 0.10
    """Yearly discount rate for CLV (0.10 = 10 % p. a.; applied as the equivalent monthly rate)."""
    prediction_days: int = 90
    """Window for "expected purchases in the next N days", in days."""
    penalizer: float = 0.0
    """L2 penalizer for the first fit attempt; a retry with a larger one is reported."""
    min_repeat_buyers: int = 30
    """Below this many repeat buyers (customers with >= 2 purchase days) the model part is skipped;
    the spend model (Gamma-Gamma) needs as many repeat buyers with positive mean spend."""
    min_customers: int = 100
    """Below this many customers (with at least one purchase day) the model part is skipped."""
    min_history_days: int = 90
    """Below this many days of history (first purchase day to observation end, both included) the
    model part is skipped."""
    min_holdout_weeks: int = 8
    """Shortest holdout period in weeks; with less history (< 2 x this) there is no holdout test and
    the model is chosen by its likelihood."""
    range_draws: int = 200
    """Parameter draws of the parametric bootstrap for the 80 % ranges of the totals (0 = no ranges)."""
    random_state: int = 42
    """Seed of the parametric bootstrap (same data and settings = same ranges)."""


@dataclass(frozen=True)
class ChurnSettings:
    """Chapter "Abwanderungsprognose" (scikit-learn)."""

    window_days: int | None = None
    """Churn = no purchase within this many days after the cut-off; ``None`` = data-driven (P90 of inter-purchase times)."""
    min_customers: int = 200
    """Minimum active customers at each cut-off (evaluation t2, training t1); below it the candidate
    comparison (t2) or the machine-learning models (t1) are skipped."""
    min_class_share: float = 0.05
    """Minimum share (0–1) of the rarer class (churners or stayers) at each cut-off; below it the
    comparison (t2) or the machine-learning models (t1) are skipped."""
    min_calibration_customers: int = 100
    """Minimum customers (all, active or not) at the evaluation cut-off for the recency-based risk
    of customers the chosen score does not cover; below it their risk is unknown."""
    random_state: int = 42
    """Seed for model fitting and sampling."""
    max_fit_rows: int = 200_000
    """Models are fitted on a random sample of at most this many customers (all are scored)."""
    active_days: int | None = 365
    """Only customers with a purchase within this many days up to a cut-off (cut-off day included,
    i.e. ``recency_days < active_days``) are modelled and scored; older ones count as already
    lost. ``None`` = all customers."""


AUDIENCES: tuple[str, ...] = ("auto", "b2c", "b2b")
"""Allowed values of ``ReportConfig.audience``."""

AUDIENCE_DEFAULTS: Mapping[str, Mapping[str, float]] = {
    # b2c: a written contact (e-mail, newsletter, letter) incl. handling of the offer; budget for
    #      a few thousand such contacts.
    "b2c": {"budget": 2_000.0, "cost_per_contact": 0.50},
    # b2b: a personal contact by the sales team: a prepared phone call by the account manager incl.
    #      follow-up, about 100 times the cost of an e-mail (a field visit costs several hundred
    #      euros: set actions.cost_per_contact); the budget covers about 200 such contacts.
    "b2b": {"budget": 10_000.0, "cost_per_contact": 50.0},
}
"""Defaults of ``actions.budget`` and ``actions.cost_per_contact`` (EUR) per audience; used when the
setting is empty (``None``). Assumptions to be replaced by the client's own figures."""


@dataclass(frozen=True)
class ActionSettings:
    """Chapter "Maßnahmenplan" and target lists."""

    budget: float | None = None
    """Total campaign budget in EUR (assumption); ``None`` = default of the audience
    (:data:`AUDIENCE_DEFAULTS`: 2.000 € for consumers, 10.000 € for business customers)."""
    cost_per_contact: float | None = None
    """EUR per contacted customer, incl. handling of the offer (assumption); ``None`` = default of the
    audience (:data:`AUDIENCE_DEFAULTS`: 0,50 € for a written contact to consumers, 50 € for a
    personal sales contact to a business customer)."""
    reach_days: int = 730
    """A customer counts as reachable (contact data probably still valid) when the last purchase is
    less than this many days before the observation end (assumption); unreachable customers are not
    contacted within the budget."""
    segment_uplift: Mapping[str, float] = field(
        default_factory=lambda: {
            "champions": 0.05,
            "loyal": 0.08,
            "potential_loyalists": 0.10,
            "new": 0.10,
            "promising": 0.08,
            "need_attention": 0.12,
            "about_to_sleep": 0.15,
            "cannot_lose": 0.15,
            "at_risk": 0.15,
            "lost": 0.03,
        }
    )
    """Uplift per RFM segment id (see ``helpers.labels.SEGMENTS``): share of a customer's value at
    risk (risk × value if retained, EUR) that one contact saves (0..1; assumption, replace with
    campaign results from a test with a control group). Segments given in a setting override these
    defaults, the others keep them (see ``helpers.analysis.actions.effective_uplift``)."""
    default_uplift: float = 0.08
    """Uplift (share of the value at risk saved, 0..1) for segments not listed in ``segment_uplift``
    (assumption)."""
    uplift_low_factor: float = 0.5
    """Sensitivity: the low case assumes this multiple of every segment's uplift (0 < factor <= 1)."""
    uplift_high_factor: float = 1.5
    """Sensitivity: the high case assumes this multiple of every segment's uplift (>= 1; capped at an
    uplift of 100 %)."""
    min_risk: float = 0.05
    """Customers whose churn risk is below this share (0..1) are never contacted within the budget
    (negligible risk: nothing to save)."""
    min_value: float | None = None
    """Customers whose value if retained is below this amount (EUR) are never contacted within the
    budget (negligible value); ``None`` = the cost of one contact."""
    roi_plausible_max: float = 10.0
    """Plausibility bound of the campaign ROI (ratio; 10 = 1.000 %): a higher ROI is not printed as a
    result, the report names the assumption that drives it."""
    forecast_ratio_max: float = 1.5
    """Segment sanity check: a segment whose revenue forecast (CLV / margin over the CLV horizon) is
    more than this multiple of its net revenue of the last 12 months (scaled to the same horizon) is
    flagged as implausibly high."""
    max_list_rows: int = 100_000
    """At most this many customers per sheet of the target-list workbook (Excel limit 1.048.576 rows);
    the CSV files always contain all customers."""

    def resolved(self, audience: str) -> dict[str, tuple[float, str]]:
        """Effective ``budget`` and ``cost_per_contact`` (EUR) for ``audience`` (``"b2c"``/``"b2b"``)
        with their source: ``"setting"`` (set by the user) or ``"audience_default"``."""
        defaults = AUDIENCE_DEFAULTS[audience]
        out = {}
        for name in ("budget", "cost_per_contact"):
            value = getattr(self, name)
            out[name] = (float(value), "setting") if value is not None else (defaults[name], "audience_default")
        return out


@dataclass(frozen=True)
class ReportConfig:
    """All settings for one client report."""

    client_name: str = SAMPLE_CLIENT
    consultant: str = "kundenwert Analytics"
    """Consultant or firm shown on the title page."""
    logo_path: str | None = None
    observation_end: dt.date | None = None
    """End of the observation period; ``None`` = date of the last order in the data."""
    report_date: dt.date | None = None
    """Date the report is written for (title page, "how old is the data"); ``None`` = today."""
    currency: str | None = None
    """Currency of the client's amounts, an ISO 4217 code (``"EUR"``, ``"USD"``, ``"CHF"``, ...);
    ``None`` or ``"auto"`` = detected from the revenue column's header and values (no evidence:
    EUR, stated in the data chapter). A set code wins over the file's evidence. Every amount of the
    report is formatted in it (``helpers.fmt.use_currency``)."""
    gross_margin: float = 0.30
    """Contribution margin as share of net revenue (0..1); CLV and margins use it."""
    pseudonymize: bool = True
    """Replace customer IDs by a keyed hash in all outputs (DSGVO)."""
    min_customers: int = 20
    """Files with fewer customers are refused."""
    audience: str = "auto"
    """Who the client's customers are: ``"b2c"`` (consumers), ``"b2b"`` (business customers) or
    ``"auto"`` (detected from the data, see ``helpers.analysis.actions.detect_audience``; the action
    plan states the result and why). Switches the defaults of ``actions.budget`` and
    ``actions.cost_per_contact`` (:data:`AUDIENCE_DEFAULTS`)."""
    data: DataSettings = field(default_factory=DataSettings)
    economics: EconomicsSettings = field(default_factory=EconomicsSettings)
    rfm: RfmSettings = field(default_factory=RfmSettings)
    clv: ClvSettings = field(default_factory=ClvSettings)
    churn: ChurnSettings = field(default_factory=ChurnSettings)
    actions: ActionSettings = field(default_factory=ActionSettings)

    def __post_init__(self) -> None:
        if not 0 < self.gross_margin <= 1:
            raise ConfigError(
                f"Ungültige Einstellung gross_margin={self.gross_margin!r}: "
                "die Marge muss zwischen 0 und 1 liegen (z. B. 0.3 für 30 %)."
            )
        if self.economics.cohort_period not in ("M", "Q"):
            raise ConfigError(
                f"Ungültige Einstellung economics.cohort_period={self.economics.cohort_period!r}: "
                "erlaubt sind 'M' (Monat) und 'Q' (Quartal)."
            )
        if self.data.returns not in ("net", "drop"):
            raise ConfigError(
                f"Ungültige Einstellung data.returns={self.data.returns!r}: "
                "erlaubt sind 'net' (verrechnen) und 'drop' (verwerfen)."
            )
        if self.currency is not None:  # currency: "auto" -> None, "usd" -> "USD", unknown code -> error
            _check_currency(self)
        if self.audience not in AUDIENCES:
            raise ConfigError(
                f"Ungültige Einstellung audience={self.audience!r}: erlaubt sind 'auto' (aus den Daten "
                "erkennen), 'b2c' (Privatkundschaft) und 'b2b' (Firmenkunden)."
            )
        _check_actions(self.actions)
        known_segments = list(dict.fromkeys([*labels.SEGMENTS, *(
            str(rule[0]) for rule in (self.rfm.segment_rules or ()) if isinstance(rule, (tuple, list)) and rule
        )]))
        for key, mapping in (("rfm.segment_actions", self.rfm.segment_actions),
                             ("actions.segment_uplift", self.actions.segment_uplift)):
            unknown = sorted(str(s) for s in mapping if str(s) not in known_segments)
            if unknown:
                raise ConfigError(
                    f"Unbekannte Segment-ID in {key}: {', '.join(repr(s) for s in unknown)}. "
                    "Bekannt sind die Standard-Segmente und die IDs aus rfm.segment_rules: "
                    + ", ".join(known_segments) + "."
                )
        for key, minimum, strict in _LOWER_BOUNDS:
            section, _, name = key.partition(".")
            value = getattr(getattr(self, section), name)
            if value is not None and (value <= minimum if strict else value < minimum):
                bound = "größer als" if strict else "mindestens"
                raise ConfigError(
                    f"Ungültige Einstellung {key}={value!r}: der Wert muss {bound} {minimum} sein."
                )

    @classmethod
    def from_settings(
        cls, client_name: str | None = None, settings: Mapping[str, Any] | None = None, **top_level: Any
    ) -> "ReportConfig":
        """Build a config from flat overrides (``"field"`` or ``"section.field"``)."""
        merged = flatten_settings(settings or {})
        merged.update({k: v for k, v in top_level.items() if v is not None})
        if client_name:
            merged["client_name"] = client_name
        top: dict[str, Any] = {}
        sections: dict[str, dict[str, Any]] = {}
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for key, value in merged.items():
            section, _, name = key.rpartition(".")
            if section:
                sec_field = fields.get(section)
                if sec_field is None or not dataclasses.is_dataclass(_resolve(sec_field.type)):
                    raise ConfigError(f"Unbekannter Einstellungsbereich '{section}' in '{key}'.")
                sec_cls = _resolve(sec_field.type)
                sub = {f.name: f for f in dataclasses.fields(sec_cls)}
                if name not in sub:
                    raise ConfigError(
                        f"Unbekannte Einstellung '{key}'. Mögliche Einstellungen in '{section}': "
                        + ", ".join(sorted(sub))
                    )
                sections.setdefault(section, {})[name] = _coerce(key, value, sub[name].type)
            else:
                if name not in fields or dataclasses.is_dataclass(_resolve(fields[name].type)):
                    raise ConfigError(
                        f"Unbekannte Einstellung '{key}'. Bekannt sind: "
                        + ", ".join(sorted(fields))
                    )
                top[name] = _coerce(key, value, fields[name].type)
        for section, values in sections.items():
            top[section] = _resolve(fields[section].type)(**values)
        return cls(**top)

    def as_settings(self) -> dict[str, Any]:
        """Flat ``settings`` dict (inverse of :meth:`from_settings`), JSON-friendly."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if dataclasses.is_dataclass(value):
                for sf in dataclasses.fields(value):
                    out[f"{f.name}.{sf.name}"] = _plain(getattr(value, sf.name))
            else:
                out[f.name] = _plain(value)
        return out


def _check_currency(cfg: "ReportConfig") -> None:
    """Normalize ``cfg.currency`` (frozen: set through ``object.__setattr__``); German ConfigError."""
    from babel.numbers import is_currency

    text = str(cfg.currency).strip()
    if text.lower() in ("", "auto"):
        object.__setattr__(cfg, "currency", None)
        return
    code = text.upper()
    if len(code) != 3 or not is_currency(code, locale="de_DE"):
        raise ConfigError(
            f"Ungültige Einstellung currency={cfg.currency!r}: erwartet wird ein ISO-Währungscode wie "
            "EUR, USD, GBP oder CHF, oder 'auto' (aus der Datei erkennen)."
        )
    object.__setattr__(cfg, "currency", code)


def sections() -> tuple[str, ...]:
    """Names of the config sections (``data``, ``economics``, ...), derived from :class:`ReportConfig`."""
    return tuple(f.name for f in dataclasses.fields(ReportConfig) if dataclasses.is_dataclass(_resolve(f.type)))


def flatten_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The one settings loader: ``{"clv": {"horizon_months": 6}}`` and ``{"clv.horizon_months": 6}``
    both become ``{"clv.horizon_months": 6}``. Used by the CLI, the batch file and the notebooks."""
    names = sections()
    out: dict[str, Any] = {}
    for key, value in dict(settings).items():
        key = str(key)
        if key in names and isinstance(value, Mapping):
            for sub, v in value.items():
                out[f"{key}.{sub}"] = v
        else:
            out[key] = value
    return out



def client_settings(*layers: Mapping[str, Any] | None,
                    column_map: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One client's settings from several sources, e.g. batch defaults, the client's entry and
    ``--set`` options (later layers win; each flat or nested, see :func:`flatten_settings`), plus
    the column mapping (``map:`` in YAML, ``--map`` on the CLI), merged into ``data.column_map``."""
    out: dict[str, Any] = {}
    for layer in layers:
        out.update(flatten_settings(layer or {}))
    if column_map:
        out["data.column_map"] = {**dict(out.get("data.column_map") or {}), **dict(column_map)}
    return out

def _check_actions(a: ActionSettings) -> None:
    """German ``ConfigError`` for action-plan settings outside their meaningful range."""
    shares = [("actions.default_uplift", a.default_uplift), ("actions.min_risk", a.min_risk)] + [
        (f"actions.segment_uplift[{seg!r}]", v) for seg, v in dict(a.segment_uplift).items()]
    for key, value in shares:
        try:
            ok = 0 <= float(value) <= 1
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ConfigError(f"Ungültige Einstellung {key}={value!r}: der Anteil muss zwischen 0 und 1 "
                              "liegen (z. B. 0.1 für 10 %).")
    if not 0 < a.uplift_low_factor <= 1:
        raise ConfigError(f"Ungültige Einstellung actions.uplift_low_factor={a.uplift_low_factor!r}: "
                          "der Faktor für den ungünstigen Fall muss größer als 0 und höchstens 1 sein.")
    if a.uplift_high_factor < 1:
        raise ConfigError(f"Ungültige Einstellung actions.uplift_high_factor={a.uplift_high_factor!r}: "
                          "der Faktor für den günstigen Fall muss mindestens 1 sein.")
    if a.forecast_ratio_max < 1:
        raise ConfigError(f"Ungültige Einstellung actions.forecast_ratio_max={a.forecast_ratio_max!r}: "
                          "die Grenze muss mindestens 1 sein (Prognose gleich Vorjahresumsatz).")


_LOWER_BOUNDS: tuple[tuple[str, float, bool], ...] = (
    # (section.field, bound, strict): numeric settings that would give meaningless results below it
    ("data.max_text_mb", 0, True),
    ("data.max_line_bytes", 0, True),
    ("data.max_field_bytes", 0, True),
    ("data.max_implausible_date_share", 0, False),
    ("economics.cost_per_new_customer", 0, False),
    ("economics.cost_per_retained_customer", 0, False),
    ("economics.whatif_years", 0, True),
    ("economics.retention_uplift_pp", 0, False),
    ("clv.holdout_weeks", 0, True),
    ("clv.horizon_months", 0, True),
    ("clv.discount_rate_yearly", 0, False),
    ("clv.prediction_days", 0, True),
    ("clv.penalizer", 0, False),
    ("clv.min_customers", 0, False),
    ("clv.min_history_days", 0, False),
    ("clv.min_holdout_weeks", 0, True),
    ("clv.range_draws", 0, False),
    ("clv.random_state", 0, False),
    ("churn.window_days", 0, True),
    ("churn.max_fit_rows", 0, True),
    ("churn.min_calibration_customers", 0, True),
    ("actions.budget", 0, False),
    ("actions.cost_per_contact", 0, False),
    ("actions.reach_days", 0, True),
    ("actions.min_value", 0, False),
    ("actions.roi_plausible_max", 0, True),
)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple):
        return [list(v) if isinstance(v, tuple) else v for v in value]
    return value


def _resolve(annotation: Any) -> Any:
    if isinstance(annotation, str):
        annotation = eval(annotation, {**globals(), **vars(typing)})  # noqa: S307 - own annotations only
    return annotation


def _coerce(key: str, value: Any, annotation: Any) -> Any:
    """Convert a settings value to the field's type, or raise a German ConfigError."""
    target = _resolve(annotation)
    args = typing.get_args(target)
    optional = type(None) in args
    if value is None:
        if optional:
            return None
        raise ConfigError(f"Einstellung '{key}' darf nicht leer sein.")
    base = next((a for a in args if a is not type(None)), target) if args and (
        typing.get_origin(target) in (typing.Union, types.UnionType)
    ) else target
    origin = typing.get_origin(base) or base
    try:
        if origin is bool:
            if isinstance(value, str):
                if value.lower() in ("1", "true", "ja", "yes", "wahr"):
                    return True
                if value.lower() in ("0", "false", "nein", "no", "falsch"):
                    return False
                raise ValueError(value)
            return bool(value)
        if origin is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(value)
        if origin is float:
            return float(value)
        if origin is str:
            return str(value)
        if origin is dt.date:
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
        if origin in (Mapping, dict, typing.Mapping) or origin is getattr(
            __import__("collections.abc").abc, "Mapping"
        ):
            return dict(value)
        if origin is tuple:
            return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Einstellung '{key}' hat einen ungültigen Wert: {value!r}.") from exc
    return value
