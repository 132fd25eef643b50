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


if __name__ == "__main__":
    main()
