# kundenwert – Einstieg: `make report` (Beispielbericht) und `make test` (Testsuite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KERNEL := kundenwert

.DEFAULT_GOAL := help
.PHONY: help setup report report-b2b test test-fast lab kernel clean benchmark

help: ## Diese Hilfe anzeigen
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (kundenwert)" >/dev/null
	@touch $(STAMP)

setup: $(STAMP) ## Virtuelle Umgebung .venv anlegen und das Projekt installieren

report: $(STAMP) ## Beispielbericht rendern und den Pfad der PDF ausgeben
	$(BIN)/kundenwert report --data data/sample/onlineshop_transaktionen.csv --client "Beispiel Onlineshop GmbH"

report-b2b: $(STAMP) ## Bericht für das B2B-Beispiel (deutscher Excel-Export) rendern
	$(BIN)/kundenwert report --data data/sample/grosshandel_export.csv --client "Beispiel Großhandel KG"

test: $(STAMP) ## Alle Tests ausführen
	$(BIN)/python -m pytest

test-fast: $(STAMP) ## Schnelle Tests ohne PDF-Rendering und Notebook-Ausführung
	$(BIN)/python -m pytest -m "not slow"

clean: ## Gerenderte Berichte und Caches löschen
	find reports -mindepth 1 -maxdepth 1 -type d ! -name template -exec rm -rf {} +
	rm -rf .pytest_cache build src/*.egg-info
