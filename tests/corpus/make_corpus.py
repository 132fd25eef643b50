"""Create the small bad/unusual input files of the loader corpus (committed to git).

Run from the repository root: ``.venv/bin/python tests/corpus/make_corpus.py``.
Expected outcomes are written by hand in ``tests/corpus/expected.yaml``.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"

BASE_ROWS = [("A", "2024-01-05", "10.00"), ("A", "2024-02-05", "20.00"), ("B", "2024-01-10", "5.50")]


def text(name: str, body: str, encoding: str = "utf-8") -> None:
    (FILES / name).write_bytes(body.encode(encoding))


def table(header: list[str], rows: list[tuple], sep: str = ",") -> str:
    return "\n".join([sep.join(header)] + [sep.join(str(v) for v in r) for r in rows]) + "\n"


def main() -> None:
    FILES.mkdir(parents=True, exist_ok=True)
    std = ["customer_id", "order_date", "revenue"]

    # unusable files
    text("empty.csv", "")
    (FILES / "garbage.csv").write_bytes(bytes(range(256)) * 4)
    text("header_only.csv", "Kundennummer;Datum;Umsatz\n")
    text("missing_customer_column.csv", table(["Datum", "Umsatz"], [("2024-01-05", "10.00")] * 3))
    text("ambiguous_customer.csv", table(["Kundennummer", "Kunden-Nr.", "Datum", "Umsatz"],
                                         [("1", "1", "2024-01-05", "10")]))
    text("too_few_customers.csv", table(std, BASE_ROWS))
    text("us_dates.csv", table(std, [("A", "01/15/2024", "10"), ("B", "02/20/2024", "5")]))

    # separators, encodings, number and date dialects (all: 2 customers, 3 lines, 35.50 EUR)
    text("sep_comma.csv", table(std, BASE_ROWS, ","))
    text("sep_semicolon.csv", table(std, BASE_ROWS, ";"))
    text("sep_tab.tsv", table(std, BASE_ROWS, "\t"))
    text("sep_pipe.txt", table(std, BASE_ROWS, "|"))
    text("bom_utf8.csv", "\ufeff" + table(["Kundennummer", "Datum", "Umsatz"], BASE_ROWS))
    text(
        "cp1252_umlauts.csv",
        table(["Kundennummer", "Rechnungsdatum", "Umsatz (€)", "Warengruppe"],
              [("A", "05.01.2024", "10,00", "Bürobedarf"), ("A", "05.02.2024", "20,00", "Getränke"),
               ("B", "10.01.2024", "5,50", "Bürobedarf")], ";"),
        encoding="cp1252",
    )
    text(
        "latin1.csv",
        table(["Kunde", "Datum", "Betrag", "Kategorie"],
              [("A", "05.01.2024", "10,00", "Zubehör"), ("B", "10.01.2024", "5,50", "Käse")], ";"),
        encoding="latin-1",
    )
    text(
        "decimal_comma_thousands.csv",
        table(["Kundennummer", "Datum", "Umsatz"],
              [("A", "05.01.2024", "1.234,56"), ("A", "05.02.2024", "12.000,00"), ("B", "10.01.2024", "0,99"),
               ("B", "11.01.2024", "1.000.000,01")], ";"),
    )
    text("decimal_point_thousands.csv", 'customer,date,amount\nA,2024-01-05,"1,234.56"\nB,2024-01-06,7.25\n')
    text("date_ddmmyyyy.csv", table(std, [("A", "05.01.2024", "10.00"), ("A", "5.2.2024", "20.00"),
                                          ("B", "10.01.24", "5.50")]))
    text("date_iso.csv", table(std, BASE_ROWS))
    text("datetime_with_time.csv", table(std, [("A", "2024-01-05 14:30:00", "10.00"),
                                               ("A", "2024-02-05T08:15:00", "20.00"),
                                               ("B", "2024-01-10 23:59", "5.50")]))
    text("datetime_german_time.csv", table(std, [("A", "05.01.2024 14:30", "10.00"),
                                                 ("A", "05.02.2024 08:15:00", "20.00"),
                                                 ("B", "10.01.2024 00:00", "5.50")], ";"))
    text("unit_suffix_headers.csv",
         table(["Kunden-Nr.", "Bestelldatum", "Umsatz (€)", "Vertriebsweg"],
               [("A", "05.01.2024", "10,00", "Filiale"), ("A", "05.02.2024", "20,00", "Web"),
                ("B", "10.01.2024", "5,50", "Web")], ";"))
    text("betrag_in_eur.csv", table(["Kunde", "Datum", "Betrag in EUR"], BASE_ROWS))

    # rules
    text("missing_customer_ids.csv", table(std, BASE_ROWS + [("", "2024-01-11", "3.00"), (" ", "2024-01-12", "4.00")]))
    text("bad_dates.csv", table(std, BASE_ROWS + [("A", "31.02.2024", "3.00"), ("B", "gestern", "4.00"),
                                                  ("B", "", "1.00")]))
    text("future_dates.csv", table(std, BASE_ROWS + [("A", "2024-07-01", "3.00"), ("B", "2025-01-01", "4.00")]))
    text("non_numeric_amount.csv", table(std, BASE_ROWS + [("A", "2024-01-20", "abc"), ("B", "2024-01-21", "")]))
    text("zero_amount.csv", table(std, BASE_ROWS + [("A", "2024-01-20", "0.00"), ("B", "2024-01-21", "0")]))
    text("returns_negative.csv", table(["order_id"] + std, [("1", "A", "2024-01-05", "10.00"),
                                                            ("2", "A", "2024-02-05", "20.00"),
                                                            ("3", "B", "2024-01-10", "5.50"),
                                                            ("2", "A", "2024-02-20", "-20.00")]))
    text("cancellation_prefix.csv", table(["Rechnungsnummer", "Kundennummer", "Datum", "Umsatz"],
                                          [("RE100", "A", "05.01.2024", "10,00"),
                                           ("RE101", "A", "05.02.2024", "20,00"),
                                           ("RE102", "B", "10.01.2024", "5,50"),
                                           ("S-RE101", "A", "06.02.2024", "8,00"),
                                           ("C103", "B", "12.01.2024", "-2,50"),
                                           ("Storno 100", "A", "07.01.2024", "1,00")], ";"))
    text("duplicates.csv", table(std, BASE_ROWS + [BASE_ROWS[0], BASE_ROWS[0], BASE_ROWS[2]]))
    text("same_day_orders.csv", table(["order_id"] + std, [("1", "A", "2024-01-05", "10.00"),
                                                           ("2", "A", "2024-01-05", "20.00"),
                                                           ("2", "A", "2024-01-05", "1.00"),
                                                           ("3", "B", "2024-01-10", "5.50"),
                                                           ("4", "B", "2024-01-10", "4.50"),
                                                           ("5", "B", "2024-01-11", "4.50")]))
    rows = [(f"K{i % 10}", f"2024-01-{1 + i % 28:02d}", f"{10 + i % 5}.00") for i in range(30)]
    rows.append(("K3", "2024-02-01", "5000.00"))
    text("outliers.csv", table(std, rows))
    text("nonpositive_customer.csv", table(std, BASE_ROWS + [("C", "2024-01-15", "30.00"),
                                                             ("C", "2024-01-20", "-30.00"),
                                                             ("D", "2024-01-15", "10.00"),
                                                             ("D", "2024-01-25", "-15.00")]))
    text("no_revenue_column.csv", table(["Kundennummer", "Bestelldatum", "Warengruppe"],
                                        [("A", "05.01.2024", "Schuhe"), ("A", "05.02.2024", "Schuhe"),
                                         ("B", "10.01.2024", "Sport")], ";"))
    text("freetext_columns.csv", table(["Kundennummer", "Name", "E-Mail", "Straße", "Datum", "Umsatz"],
                                       [("A", "Erika Beispiel", "erika@example.org", "Hauptstr. 1", "2024-01-05", "10"),
                                        ("B", "Max Muster", "max@example.org", "Nebenweg 2", "2024-01-10", "5.5")]))
    text("custom_headers.csv", table(["KNR", "TAG", "WERT"], BASE_ROWS, ";"))
    text("sap_trailing_minus.csv", table(["Kunde", "Belegdatum", "Betrag"],
                                         [("A", "05.01.2024", "10,00"), ("A", "06.01.2024", "4,00-"),
                                          ("B", "10.01.2024", "5,50")], ";"))
    text("quoted_fields.csv", 'Kundennummer,Datum,Umsatz,Kategorie\n"A","2024-01-05","10.00","Haus, Garten"\n'
                              '"B","2024-01-10","5.50","Sport"\n')

    text("utf16_tab.txt", table(["Kundennummer", "Datum", "Umsatz"],
                                [("A", "05.01.2024", "10,00"), ("B", "06.01.2024", "5,50")], "\t"), encoding="utf-16")
    text("empty_revenue_column.csv", table(["Kundennummer", "Datum", "Umsatz"],
                                           [("A", "05.01.2024", ""), ("B", "06.01.2024", "")], ";"))
    text("ragged_lines.csv", "Kundennummer;Datum;Umsatz\nA;05.01.2024;10,00\nB;06.01.2024;5,50;x;y\n")

    base = pd.DataFrame({"Kundennummer": ["A", "A", "B"],
                         "Datum": pd.to_datetime(["2024-01-05", "2024-02-05", "2024-01-10"]),
                         "Umsatz": [10.0, 20.0, 5.5]})
    with pd.ExcelWriter(FILES / "excel_two_sheets.xlsx", engine="openpyxl") as xw:
        pd.DataFrame({"Hinweis": ["Export vom 01.02.2024"]}).to_excel(xw, sheet_name="Info", index=False)
        base.to_excel(xw, sheet_name="Umsätze", index=False)
    xl_num = base.assign(Kundennummer=[1001.0, 1001.0, 1002.0])
    xl_num.to_excel(FILES / "excel_numeric_ids.xlsx", index=False, engine="openpyxl")
    with open(FILES / "gzipped.csv.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(table(std, BASE_ROWS).encode("utf-8"))
    base.rename(columns={"Kundennummer": "customer_id", "Datum": "order_date", "Umsatz": "revenue"}).to_parquet(
        FILES / "typed.parquet", index=False
    )

    hostile()


def hostile() -> None:
    """Issue 14 and further hostile exports (ERP/SAP, shop, POS, Excel). Expected values in expected.yaml
    are computed by hand from the rows written here."""
    de = ["Kundennummer", "Datum", "Umsatz"]
    std = ["customer_id", "order_date", "revenue"]

    # mixed decimal formats in one column (issue 14)
    text("mixed_decimal_conflict.csv", table(de, [("A", "05.01.2024", "29,73"), ("A", "05.02.2024", "2.648,00"),
                                                  ("B", "10.01.2024", "12.5"), ("B", "11.02.2024", "1.234")], ";"))
    text("mixed_decimal_unambiguous.csv", table(de, [("A", "05.01.2024", "29,73"), ("A", "05.02.2024", "2.648,00"),
                                                     ("B", "10.01.2024", "1.234"), ("B", "11.02.2024", "12"),
                                                     ("C", "12.01.2024", "0,5")], ";"))
    text("decimal_ambiguous_only.csv", table(["customer_id", "order_date", "amount"],
                                             [("A", "2024-01-05", "1.234"), ("A", "2024-02-05", "12"),
                                              ("B", "2024-01-10", "5.678")]))
    text("point_thousands_multi.csv", 'customer_id,order_date,revenue\nA,2024-01-05,"1,234,567.89"\n'
                                      'A,2024-02-05,"1,234"\nB,2024-01-10,0.5\n')
    text("german_thousands_no_decimals.csv", table(["Kunde", "Datum", "Betrag"],
                                                   [("A", "05.01.2024", "1.234.567"), ("A", "05.02.2024", "1.500"),
                                                    ("B", "10.01.2024", "7")], ";"))
    text("swiss_apostrophe.csv", table(["Kunde", "Datum", "Betrag"],
                                       [("A", "05.01.2024", "1'234.50 CHF"), ("A", "05.02.2024", "CHF 99.90"),
                                        ("B", "10.01.2024", "12'000.00 CHF")], ";"))
    text("space_thousands.csv", table(["Kunde", "Datum", "Betrag"],
                                      [("A", "05.01.2024", "1 234,50"), ("A", "05.02.2024", "2\u00a0000,00"),
                                       ("B", "10.01.2024", "3\u202f000,25")], ";"))
    text("parentheses_negative.csv", table(["Kunde", "Datum", "Betrag"],
                                           [("A", "05.01.2024", "100,00"), ("A", "05.02.2024", "(20,00)"),
                                            ("B", "10.01.2024", "50,00"), ("B", "11.01.2024", "\u22125,00")], ";"))
    text("currency_symbols.csv", table(["Kunde", "Datum", "Betrag"],
                                       [("A", "05.01.2024", "€ 1.234,56"), ("A", "05.02.2024", "EUR 20,00"),
                                        ("B", "10.01.2024", "5,50 €")], ";"))
    text("scientific_amounts.csv", table(std, [("A", "2024-01-05", "1.5E+03"), ("A", "2024-02-05", "20.25"),
                                               ("B", "2024-01-10", "2E+01")]))

    # implausible dates (issue 14): 2.490 good lines in 2024, 5 dated 1900, 5 dated 2099
    rows = []
    for i in range(2490):
        day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=i % 366)
        rows.append((f"K{i % 100 + 1:03d}", day.strftime("%d.%m.%Y"), "10,00"))
    rows[100:100] = [(f"K{j:03d}", "01.01.1900", "10,00") for j in range(1, 6)]
    rows[2000:2000] = [(f"K{j:03d}", "31.12.2099", "10,00") for j in range(6, 11)]
    text("implausible_dates.csv", table(de, rows, ";"))
    # 10 % of the lines in 1900, and only for customers X01..X10: too many to drop silently
    rows = [(f"C{i % 30 + 1:02d}", (pd.Timestamp("2024-01-01") + pd.Timedelta(days=i)).strftime("%Y-%m-%d"), "2.50")
            for i in range(90)]
    rows += [(f"X{j:02d}", "1900-01-01", "2.50") for j in range(1, 11)]
    text("implausible_dates_many.csv", table(std, rows))
    text("excel_serial_dates.csv", table(std, [("A", "45296", "10.00"), ("A", "45327", "20.00"),
                                               ("B", "45301", "5.50")]))
    text("compact_dates.csv", table(["Kunde", "Belegdatum", "Betrag"],
                                    [("A", "20240105", "10,00"), ("A", "20240205", "20,00"),
                                     ("B", "20240110", "5,50")], ";"))
    text("mixed_date_formats.csv", table(std, [("A", "05.01.2024", "10.00"), ("A", "2024-02-05", "20.00"),
                                               ("B", "10.01.2024 14:30", "5.50")]))
    text("timezone_dates.csv", table(std, [("A", "2024-01-05T23:30:00+01:00", "10.00"),
                                           ("A", "2024-02-05T00:15:00Z", "20.00"),
                                           ("B", "2024-01-10T12:00:00.000+02:00", "5.50")]))

    # duplicate and ambiguous headers (issue 14)
    text("duplicate_header_amount.csv", table(["customer_id", "order_date", "amount", "currency", "amount"],
                                              [("A", "2024-01-05", "10.00", "EUR", "11.90"),
                                               ("A", "2024-02-05", "20.00", "EUR", "23.80"),
                                               ("B", "2024-01-10", "5.50", "EUR", "6.55")], ";"))
    text("two_revenue_columns.csv", table(["Kundennummer", "Datum", "Nettoumsatz (€)", "Umsatz"],
                                          [("A", "05.01.2024", "10,00", "11,90"), ("A", "05.02.2024", "20,00", "23,80"),
                                           ("B", "10.01.2024", "5,50", "6,55")], ";"))

    # customers whose only lines are dropped, one with only a return (issue 14)
    text("customers_only_dropped.csv", table(std, BASE_ROWS + [("C", "2024-01-11", "0"), ("C", "2024-01-12", "0.00"),
                                                               ("D", "", "7.00"), ("E", "2024-01-13", "-4.00")]))
    # a one-day export and an export of credit notes only (issue 14)
    text("one_day_export.csv", table(de, [("A", "05.01.2024", "10,00"), ("B", "05.01.2024", "20,00"),
                                          ("C", "05.01.2024", "5,50")], ";"))
    text("credit_notes_only.csv", table(["Rechnungsnummer", "Kundennummer", "Datum", "Betrag"],
                                        [("GS-1", "A", "05.01.2024", "-10,00"), ("GS-2", "B", "06.01.2024", "-20,00"),
                                         ("GS-3", "A", "07.02.2024", "-5,50")], ";"))

    # streaming limits, with small limits set in expected.yaml
    text("long_line.csv", table(std, BASE_ROWS) + "A,2024-03-01,1.00," + "x" * 300 + "\n")
    text("long_field.csv", table(["customer_id", "order_date", "revenue", "category"],
                                 [("A", "2024-01-05", "10.00", "Sport"), ("A", "2024-02-05", "20.00", "y" * 80),
                                  ("B", "2024-01-10", "5.50", "Sport")]))

    # ERP / shop / POS / Excel habits
    text("total_row.csv", table(de, [("A", "05.01.2024", "10,00"), ("A", "05.02.2024", "20,00"),
                                     ("B", "10.01.2024", "5,50"), ("Summe", "", "35,50")], ";"))
    text("subtotals.csv", table(["Belegnummer", "Kundennummer", "Belegdatum", "Betrag"],
                                [("RE1", "A", "05.01.2024", "10,00"), ("RE2", "A", "05.02.2024", "20,00"),
                                 ("Zwischensumme", "A", "05.02.2024", "30,00"), ("RE3", "B", "10.01.2024", "5,50"),
                                 ("Zwischensumme", "B", "10.01.2024", "5,50"), ("Gesamtsumme", "", "", "35,50")], ";"))
    text("header_repeated.csv", table(std, BASE_ROWS[:2] + [tuple(std)] + BASE_ROWS[2:]))
    text("blank_lines.csv", "Kundennummer;Datum;Umsatz\nA;05.01.2024;10,00\n;;\nA;05.02.2024;20,00\n ; ; \n"
                            "B;10.01.2024;5,50\n")
    text("whitespace_ids.csv", table(std, [(" 123 ", "2024-01-05", "10.00"), ("123", "2024-02-05", "20.00"),
                                           ("\u00a0456", "2024-01-10", "5.50")]))
    text("leading_zero_ids.csv", table(std, [("00123", "2024-01-05", "10.00"), ("123", "2024-02-05", "20.00"),
                                             ("00123", "2024-02-06", "5.50")], ";"))
    text("float_ids.csv", table(std, [("1001.0", "2024-01-05", "10.00"), ("1001", "2024-02-05", "20.00"),
                                      ("1002.0", "2024-01-10", "5.50")]))
    text("excel_scientific_ids.csv", table(de, [("1,23457E+11", "05.01.2024", "10,00"),
                                                ("1,23457E+11", "05.02.2024", "20,00"),
                                                ("9,87654E+11", "10.01.2024", "5,50")], ";"))
    crlf = table(["Kundennummer", "Rechnungsdatum", "Nettoumsatz (€)"],
                 [("10001", "05.01.2024", "1.234,56"), ("10001", "05.02.2024", "20,00"), ("10002", "10.01.2024", "5,50")],
                 ";").replace("\n", "\r\n")
    text("bom_semicolon_crlf.csv", "\ufeff" + crlf)
    text("mac_cr_lines.csv", table(de, BASE_ROWS, ";").replace("\n", "\r"))
    text("quoted_newlines.csv", 'Kundennummer,Datum,Umsatz,Kategorie\nA,2024-01-05,10.00,"Haus\nGarten"\n'
                                'A,2024-02-05,20.00,Sport\nB,2024-01-10,5.50,"Sport"\n')
    (FILES / "nul_bytes.csv").write_bytes(b"customer_id,order_date,revenue\nA,2024-01-05,10.00\nA,2024-02-05,20.00\n"
                                          b"B,2024-01-10,5.5\x000\n" + b"\x00" * 5)
    text("trailing_separator.csv", "Kundennummer;Datum;Umsatz;\nA;05.01.2024;10,00;\nA;05.02.2024;20,00;\n"
                                   "B;10.01.2024;5,50;\n")

    # Excel: numbers and text mixed in one column, a date serial stored as a number, text ids with zeros
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Kundennummer", "Datum", "Umsatz"])
    ws.append([1001, pd.Timestamp("2024-01-05").to_pydatetime(), 10.0])
    ws.append(["00123", "05.02.2024", "20,50"])
    ws.append([1001, 45301, "5,50"])
    wb.save(FILES / "excel_mixed_cells.xlsx")
    currency_files()


def currency_files() -> None:
    """Currency evidence in headers, amounts and a currency column (issue 14; all 35,50 in the file's
    currency where they load)."""
    FILES.mkdir(parents=True, exist_ok=True)
    de = ["Kunde", "Datum", "Betrag"]
    rows = [("A", "05.01.2024", "{}10.00{}"), ("A", "05.02.2024", "{}20.00{}"), ("B", "10.01.2024", "{}5.50{}")]

    def signed(pre: str = "", post: str = "") -> list[tuple]:
        return [(c, d, v.format(pre, post)) for c, d, v in rows]

    text("currency_header_amount_usd.csv", table(["customer_id", "order_date", "amount_usd"], BASE_ROWS))
    text("currency_header_dollar_sign.csv", table(["Kunde", "Datum", "Revenue ($)"], signed(), ";"))
    text("currency_header_pound.csv", table(["Kunde", "Datum", "Umsatz (£)"], signed(), ";"))
    text("currency_header_usd_prefix.csv", table(["Kunde", "Datum", "USD Amount"], signed(), ";"))
    text("currency_header_two_codes.csv", table(["Kunde", "Datum", "Betrag EUR/USD"], signed(), ";"))
    text("currency_values_dollar.csv", table(de, signed("$"), ";"))
    text("currency_values_pound.csv", table(de, signed("£"), ";"))
    text("currency_values_usd_suffix.csv", table(de, signed("", " USD"), ";"))
    text("currency_values_mixed.csv", table(de, [("A", "05.01.2024", "$10.00"), ("A", "05.02.2024", "€20.00"),
                                                 ("B", "10.01.2024", "$5.50")], ";"))
    text("currency_conflict_header_values.csv", table(["Kunde", "Datum", "Umsatz (€)"], signed("$"), ";"))
    text("currency_column_chf.csv", table(de + ["Währung"], [r + ("CHF",) for r in signed()], ";"))
    text("currency_column_agrees.csv", table(["Kunde", "Datum", "Umsatz (€)", "currency"],
                                             [r + ("EUR",) for r in signed()], ";"))
    text("currency_column_mixed.csv", table(de + ["Währung"], [r + (c,) for r, c in zip(signed(), ("EUR", "USD", "EUR"))],
                                            ";"))
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Kundennummer", "Datum", "Umsatz (CHF)"])
    for c, d, v in signed():
        ws.append([c, d, float(v)])
    wb.save(FILES / "currency_excel_header_chf.xlsx")


if __name__ == "__main__":
    main()
