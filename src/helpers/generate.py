"""Seeded synthetic transaction data for a fictional German shop (sample data, benchmarks).

Behaviour per customer follows the BG/NBD story (Fader, Hardie & Lee 2005):

- each customer is acquired on one day (more customers in Q4 and over time);
- while "alive", purchases arrive as a Poisson process with a customer-specific
  rate ``lambda`` (purchases per year, gamma-distributed across customers) that is
  modulated by a seasonal curve with a peak in November/December;
- after every purchase the customer drops out with probability ``p``
  (beta-distributed across customers), so the number of purchases is geometric;
- each customer has a typical order value (gamma-distributed, Gamma-Gamma story);
  an order has one or more lines with a category and is placed via one channel;
- a small share of lines is returned later (negative line with the same order id),
  and a few rows are exact duplicates (as in real exports).

Everything is vectorized with numpy (no per-customer Python loop), so 10 million
lines take seconds and memory in the order of the output frame.

Command line (writes the two sample files, see ``data/sample/README.md``)::

    python -m helpers.generate --sample
    python -m helpers.generate --lines 10000000 --out /tmp/bench.parquet
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SAMPLE_SEED = 20260930
B2B_SEED = 4711


@dataclass(frozen=True)
class ShopProfile:
    """Behavioural parameters of a simulated shop. Rates are per year, money in EUR."""

    categories: tuple[str, ...] = (
        "Bekleidung", "Schuhe", "Accessoires", "Wohnen", "Sport", "Kosmetik", "Elektronik",
    )
    category_weights: tuple[float, ...] = (0.26, 0.14, 0.12, 0.14, 0.12, 0.13, 0.09)
    channels: tuple[str, ...] = ("Online-Shop", "App", "Marktplatz", "Filiale")
    channel_weights: tuple[float, ...] = (0.50, 0.22, 0.18, 0.10)
    rate_shape: float = 0.8
    """Gamma shape of the purchase rate across customers."""
    rate_mean_per_year: float = 2.2
    """Mean purchase rate while alive, purchases per year."""
    dropout_a: float = 1.3
    dropout_b: float = 3.0
    """Beta(a, b) of the dropout probability after each purchase (mean a / (a + b))."""
    spend_shape: float = 2.2
    spend_mean: float = 75.0
    """Typical order value per customer ~ Gamma(shape, mean), EUR net."""
    order_cv: float = 0.45
    """Coefficient of variation of a customer's order values around their typical value."""
    extra_lines_mean: float = 0.9
    """Lines per order = 1 + Poisson(extra_lines_mean)."""
    season_amplitude: float = 0.9
    """Relative extra intensity at the Q4 peak (0 = no seasonality)."""
    growth_per_year: float = 0.08
    """Relative yearly growth of new-customer acquisition."""
    return_share: float = 0.04
    """Share of lines returned later (negative line, same order id)."""
    duplicate_share: float = 0.002
    """Share of rows duplicated exactly (export glitch)."""
    order_id_prefix: str = ""
    order_id_start: int = 1_000_001
    customer_id_start: int = 10_001
    min_line_value: float = 2.0


B2B_PROFILE = ShopProfile(
    categories=("Büromaterial", "Reinigungsmittel", "Getränke", "Lebensmittel", "Verpackung",
                "Hygieneartikel", "Küchenbedarf"),
    category_weights=(0.18, 0.14, 0.20, 0.22, 0.10, 0.08, 0.08),
    channels=("Außendienst", "Webshop", "Telefon", "Großkunden-Portal"),
    channel_weights=(0.35, 0.35, 0.18, 0.12),
    rate_shape=1.5,
    rate_mean_per_year=7.0,
    dropout_a=1.0,
    dropout_b=9.0,
    spend_shape=1.6,
    spend_mean=900.0,
    order_cv=0.5,
    extra_lines_mean=1.5,
    season_amplitude=0.25,
    growth_per_year=0.05,
    return_share=0.015,
    duplicate_share=0.003,
    order_id_start=230_001,
    customer_id_start=50_001,
    min_line_value=5.0,
)


def _day_weights(days: pd.DatetimeIndex, amplitude: float, growth: float) -> np.ndarray:
    """Relative daily intensity: Q4 peak (max around 1 December) times yearly growth."""
    doy = days.day_of_year.to_numpy()
    season = 1.0 + amplitude * np.exp(-0.5 * ((doy - 332) / 30.0) ** 2)
    # smaller bump in spring/summer sales
    season += 0.15 * amplitude * np.exp(-0.5 * ((doy - 190) / 20.0) ** 2)
    years = (np.arange(len(days)) / 365.25)
    return season * (1.0 + growth) ** years


def generate_transactions(
    n_customers: int = 5000,
    start: str | pd.Timestamp = "2023-10-01",
    end: str | pd.Timestamp = "2026-09-30",
    seed: int = SAMPLE_SEED,
    profile: ShopProfile | None = None,
) -> pd.DataFrame:
    """Simulate an order-line export of a fictional shop.

    Returns one row per order line with columns ``order_id`` (str), ``customer_id`` (str),
    ``order_date`` (datetime64, day), ``net_revenue_eur`` (float, EUR net, negative for
    returns), ``quantity`` (int, negative for returns), ``category``, ``channel``; sorted
    by date and order id. Same ``seed`` and arguments give the identical frame.
    """
    prof = profile or ShopProfile()
    rng = np.random.default_rng(seed)
    start_ts, end_ts = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    days = pd.date_range(start_ts, end_ts, freq="D")
    n_days = len(days)
    w = _day_weights(days, prof.season_amplitude, prof.growth_per_year)
    w_season = _day_weights(days, prof.season_amplitude, 0.0)
    w_season = w_season / w_season.mean()
    cum = np.concatenate([[0.0], np.cumsum(w_season)])  # cum[i] = intensity before day i

    # customers: acquisition day, rate (per day), dropout probability, spend level, preferences
    n = int(n_customers)
    acq = np.searchsorted(np.cumsum(w) / w.sum(), rng.random(n), side="right").clip(0, n_days - 1)
    lam = rng.gamma(prof.rate_shape, prof.rate_mean_per_year / prof.rate_shape / 365.25, n)
    p_drop = rng.beta(prof.dropout_a, prof.dropout_b, n)
    spend = rng.gamma(prof.spend_shape, prof.spend_mean / prof.spend_shape, n) + 5.0
    cat_p = np.asarray(prof.category_weights, float) / np.sum(prof.category_weights)
    ch_p = np.asarray(prof.channel_weights, float) / np.sum(prof.channel_weights)
    fav_cat = rng.choice(len(cat_p), n, p=cat_p)
    fav_ch = rng.choice(len(ch_p), n, p=ch_p)

    # repeat purchases: K-1 ~ geometric lifetime, N ~ Poisson(lam * seasonal exposure)
    lifetime_repeats = rng.geometric(p_drop) - 1
    exposure = cum[n_days] - cum[acq + 1]
    n_window = rng.poisson(lam * exposure)
    # keep the first min(K-1, N) of N arrival times: draw N uniform times, sort, truncate
    owner = np.repeat(np.arange(n), n_window)
    u = rng.random(owner.size)
    t = cum[acq + 1][owner] + u * exposure[owner]
    order = np.lexsort((t, owner))
    owner, t = owner[order], t[order]
    first_idx = np.concatenate([[0], np.cumsum(n_window)[:-1]])
    rank = np.arange(owner.size) - first_idx[owner]
    keep = rank < lifetime_repeats[owner]
    owner, t = owner[keep], t[keep]
    repeat_day = (np.searchsorted(cum, t, side="right") - 1).clip(0, n_days - 1)

    o_cust = np.concatenate([np.arange(n), owner])
    o_day = np.concatenate([acq, repeat_day])
    n_orders = o_cust.size
    # order value around the customer's level (gamma with given CV), channel
    k = 1.0 / prof.order_cv**2
    o_value = spend[o_cust] * rng.gamma(k, 1.0 / k, n_orders)
    o_ch = np.where(rng.random(n_orders) < 0.8, fav_ch[o_cust], rng.choice(len(ch_p), n_orders, p=ch_p))
    # order ids chronological
    chrono = np.lexsort((o_cust, o_day))
    o_cust, o_day, o_value, o_ch = o_cust[chrono], o_day[chrono], o_value[chrono], o_ch[chrono]
    o_id = np.arange(prof.order_id_start, prof.order_id_start + n_orders)

    # lines: split the order value with exponential weights
    n_lines = 1 + rng.poisson(prof.extra_lines_mean, n_orders)
    l_order = np.repeat(np.arange(n_orders), n_lines)
    wts = rng.exponential(1.0, l_order.size)
    wsum = np.bincount(l_order, weights=wts, minlength=n_orders)
    l_value = np.maximum(o_value[l_order] * wts / wsum[l_order], prof.min_line_value)
    l_qty = 1 + rng.poisson(0.3, l_order.size)
    l_value = np.round(l_value, 2)
    l_cust = o_cust[l_order]
    l_cat = np.where(rng.random(l_order.size) < 0.6, fav_cat[l_cust],
                     rng.choice(len(cat_p), l_order.size, p=cat_p))
    l_day = o_day[l_order]
    l_ch = o_ch[l_order]

    # returns: later negative copy of a line, same order id, 2..30 days later (within window)
    ret = rng.random(l_order.size) < prof.return_share
    r_day = l_day[ret] + rng.integers(2, 31, ret.sum())
    r_ok = r_day < n_days
    r_idx = np.flatnonzero(ret)[r_ok]
    r_day = r_day[r_ok]

    all_order = np.concatenate([l_order, l_order[r_idx]])
    all_day = np.concatenate([l_day, r_day])
    all_val = np.concatenate([l_value, -l_value[r_idx]])
    all_qty = np.concatenate([l_qty, -l_qty[r_idx]])
    all_cat = np.concatenate([l_cat, l_cat[r_idx]])
    all_ch = np.concatenate([l_ch, l_ch[r_idx]])
    all_cust = o_cust[all_order]

    # exact duplicate rows (export glitch)
    dup = np.flatnonzero(rng.random(all_order.size) < prof.duplicate_share)
    sel = np.concatenate([np.arange(all_order.size), dup])
    srt = np.lexsort((all_val[sel] < 0, all_order[sel], all_day[sel]))
    sel = sel[srt]

    cat_names = np.asarray(prof.categories, dtype=object)
    ch_names = np.asarray(prof.channels, dtype=object)
    return pd.DataFrame(
        {
            "order_id": pd.Series(o_id[all_order[sel]]).astype(str).radd(prof.order_id_prefix)
            if prof.order_id_prefix else pd.Series(o_id[all_order[sel]]).astype(str),
            "customer_id": (all_cust[sel] + prof.customer_id_start).astype(str),
            "order_date": days[all_day[sel]],
            "net_revenue_eur": all_val[sel],
            "quantity": all_qty[sel],
            "category": pd.Categorical.from_codes(all_cat[sel], categories=list(cat_names)),
            "channel": pd.Categorical.from_codes(all_ch[sel], categories=list(ch_names)),
        }
    )


def customers_for_lines(
    target_lines: int,
    start: str | pd.Timestamp = "2023-10-01",
    end: str | pd.Timestamp = "2026-09-30",
    seed: int = SAMPLE_SEED,
    profile: ShopProfile | None = None,
) -> int:
    """Number of customers that yields about ``target_lines`` lines (pilot run of 5,000 customers)."""
    pilot = generate_transactions(5000, start, end, seed + 1, profile)
    return max(1, int(round(target_lines * 5000 / len(pilot))))


def generate_lines(
    target_lines: int,
    start: str | pd.Timestamp = "2023-10-01",
    end: str | pd.Timestamp = "2026-09-30",
    seed: int = SAMPLE_SEED,
    profile: ShopProfile | None = None,
) -> pd.DataFrame:
    """Like :func:`generate_transactions`, sized to about ``target_lines`` lines (±2 %)."""
    n = customers_for_lines(target_lines, start, end, seed, profile)
    return generate_transactions(n, start, end, seed, profile)


def to_onlineshop_csv(df: pd.DataFrame, path: Path) -> None:
    """Write like a shop-system export: UTF-8, comma, ISO dates, decimal point."""
    out = df.copy()
    out["order_date"] = out["order_date"].dt.strftime("%Y-%m-%d")
    out.to_csv(path, index=False, float_format="%.2f")


def write_fast(df: pd.DataFrame, path: Path) -> None:
    """Write ``.parquet``, ``.csv`` or ``.csv.gz`` with pyarrow (fast for millions of lines).

    Amounts are written in the shortest form (``36.5``, not ``36.50``); dates as ``yyyy-mm-dd``.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(path)
    if path.suffix == ".parquet":
        df.to_parquet(path, index=False)
        return
    table = pa.Table.from_pandas(
        df.assign(order_date=df["order_date"].dt.date, category=df["category"].astype(str),
                  channel=df["channel"].astype(str)),
        preserve_index=False,
    )
    if path.name.endswith(".gz"):
        with pa.CompressedOutputStream(str(path), "gzip") as out:
            pacsv.write_csv(table, out, pacsv.WriteOptions(quoting_style="needed"))
    else:
        pacsv.write_csv(table, str(path), pacsv.WriteOptions(quoting_style="needed"))


def _de_amount(values: np.ndarray) -> pd.Series:
    """``1234.5`` -> ``"1.234,50"`` (German thousands and decimal separators)."""
    s = pd.Series(values).map(lambda v: f"{v:,.2f}")
    return s.str.replace(",", "_", regex=False).str.replace(".", ",", regex=False).str.replace(
        "_", ".", regex=False
    )


def to_b2b_csv(df: pd.DataFrame, path: Path) -> None:
    """Write like a German ERP/Excel export: cp1252, ``;``, ``dd.mm.yyyy``, ``1.234,56``.

    Returns become cancellation invoices (``S-`` + original number, negative amount);
    a free-text company name column is added (the loader must not carry it over).
    """
    neg = df["net_revenue_eur"].to_numpy() < 0
    inv = np.where(neg, "S-" + df["order_id"].astype(str), "RE" + df["order_id"].astype(str))
    cust = df["customer_id"].astype(str)
    suffixes = np.array(["GmbH", "KG", "e. K.", "GmbH & Co. KG", "OHG"])
    names = "Beispielbetrieb " + cust.str[-4:] + " " + suffixes[cust.astype(int).to_numpy() % 5]
    out = pd.DataFrame(
        {
            "Rechnungsnummer": inv,
            "Kundennummer": cust.to_numpy(),
            "Firmenname": names.to_numpy(),
            "Rechnungsdatum": df["order_date"].dt.strftime("%d.%m.%Y").to_numpy(),
            "Nettoumsatz (€)": _de_amount(df["net_revenue_eur"].to_numpy()).to_numpy(),
            "Menge": df["quantity"].to_numpy(),
            "Warengruppe": df["category"].astype(str).to_numpy(),
            "Vertriebsweg": df["channel"].astype(str).to_numpy(),
        }
    )
    out.to_csv(path, sep=";", index=False, encoding="cp1252")


def write_samples(out_dir: Path) -> dict[str, Path]:
    """(Re)create ``onlineshop_transaktionen.csv`` and ``grosshandel_export.csv`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    shop = generate_transactions(7000, "2023-10-01", "2026-09-30", SAMPLE_SEED)
    b2b = generate_transactions(450, "2024-01-01", "2026-06-30", B2B_SEED, B2B_PROFILE)
    paths = {
        "shop": out_dir / "onlineshop_transaktionen.csv",
        "b2b": out_dir / "grosshandel_export.csv",
    }
    to_onlineshop_csv(shop, paths["shop"])
    to_b2b_csv(b2b, paths["b2b"])
    return paths


def main(argv: list[str] | None = None) -> None:
    from .config import SAMPLE_DIR

    ap = argparse.ArgumentParser(
        prog="python -m helpers.generate",
        description="Erzeugt synthetische Transaktionsdaten eines fiktiven Onlineshops.",
    )
    ap.add_argument("--sample", action="store_true", help="Beispieldateien in data/sample/ neu erzeugen")
    ap.add_argument("--customers", type=int, default=None, help="Anzahl Kundinnen und Kunden")
    ap.add_argument("--lines", type=int, default=None, help="Ungefähre Anzahl Zeilen (statt --customers)")
    ap.add_argument("--start", default="2023-10-01", help="Erster Tag (JJJJ-MM-TT)")
    ap.add_argument("--end", default="2026-09-30", help="Letzter Tag (JJJJ-MM-TT)")
    ap.add_argument("--seed", type=int, default=SAMPLE_SEED, help="Startwert des Zufallsgenerators")
    ap.add_argument("--out", type=Path, default=None, help="Zieldatei (.csv, .csv.gz oder .parquet)")
    args = ap.parse_args(argv)
    if args.sample:
        for p in write_samples(SAMPLE_DIR).values():
            print(p)
        return
    if args.out is None:
        ap.error("--out fehlt (oder --sample angeben)")
    if args.lines:
        df = generate_lines(args.lines, args.start, args.end, args.seed)
    else:
        df = generate_transactions(args.customers or 5000, args.start, args.end, args.seed)
    write_fast(df, args.out)
    print(f"{len(df):,} Zeilen -> {args.out}".replace(",", "."))


if __name__ == "__main__":
    main()
