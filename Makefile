# kundenwert – Einstieg: `make report` (Beispielbericht) und `make test` (Testsuite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KERNEL := kundenwert
KERNEL_SPEC := $(VENV)/share/jupyter/kernels/$(KERNEL)/kernel.json

.DEFAULT_GOAL := help
.PHONY: help setup report report-b2b test test-fast lab kernel clean benchmark student handouts wheelhouse

help: ## Diese Hilfe anzeigen
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# The notebooks and the report run in the kernel "kundenwert" of the venv (helpers.report.execute).
$(KERNEL_SPEC): $(STAMP)
	$(BIN)/python -m helpers.course kernel >/dev/null
	@touch $@

setup: $(KERNEL_SPEC) ## Virtuelle Umgebung .venv anlegen, das Projekt und den Kernel „Python (kundenwert)“ installieren

report: $(KERNEL_SPEC) ## Beispielbericht rendern und den Pfad der PDF ausgeben
	$(BIN)/kundenwert report --data data/sample/onlineshop_transaktionen.csv --client "Beispiel Onlineshop GmbH"

report-b2b: $(KERNEL_SPEC) ## Bericht für das B2B-Beispiel (deutscher Excel-Export) rendern
	$(BIN)/kundenwert report --data data/sample/grosshandel_export.csv --client "Beispiel Großhandel KG"

test: $(KERNEL_SPEC) ## Alle Tests ausführen
	$(BIN)/python -m pytest

test-fast: $(KERNEL_SPEC) ## Schnelle Tests ohne PDF-Rendering und Notebook-Ausführung
	$(BIN)/python -m pytest -m "not slow"

benchmark: $(KERNEL_SPEC) ## Skalierungs-Benchmark (10 Tsd. bis 10 Mio. Zeilen, dauert Minuten); SIZES=10k,1M für eine Auswahl
	$(BIN)/python benchmarks/run.py $(if $(SIZES),--sizes $(SIZES),)

# --- Kurs und Workshop (siehe notebooks/README.md und docs/workshop.md) -------------
LAB_ARGS ?=
# Ordner, den JupyterLab zeigt (der Browser-Test startet `make lab` auf einer Kopie).
LAB_DIR ?= notebooks
# Als root (z. B. in einem Container) verweigert Jupyter den Start ohne --allow-root.
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
JUPYTER_CONF := $(VENV)/etc/jupyter/jupyter_server_config.json

lab: $(KERNEL_SPEC) ## JupyterLab mit den Kurs-Notebooks öffnen (Kernel „Python (kundenwert)“)
	@$(BIN)/python -c "import jupyterlab" 2>/dev/null || $(BIN)/python -m pip install --quiet -e ".[dev,lab]"
	@mkdir -p $(dir $(JUPYTER_CONF)) && echo '{"MultiKernelManager": {"default_kernel_name": "$(KERNEL)"}}' > $(JUPYTER_CONF)
	@# the course kernel reports no Python version: notebooks are not modified by opening them
	@$(BIN)/python -m helpers.course kernel >/dev/null
	@# compute every chapter once for the sample data, so the first "Run All" only loads results
	$(BIN)/python -m helpers.session warm --dir $(LAB_DIR)
	$(BIN)/jupyter lab --notebook-dir=$(LAB_DIR) $(LAB_ROOT) $(LAB_ARGS)

student: $(KERNEL_SPEC) ## Kursversionen erzeugen: build/kurs/studierende und build/kurs/lehrende
	$(BIN)/python -m helpers.course build
	$(BIN)/python -m helpers.course build --instructor

handouts: $(KERNEL_SPEC) ## Alle Kapitel als PDF-Handouts nach build/handouts/ (LOESUNGEN=1: mit Lösungen)
	$(BIN)/python -m helpers.handout $(if $(LOESUNGEN),--loesungen)

wheelhouse: $(STAMP) ## Offline-Paketspeicher wheelhouse/ für Schulungsräume ohne Internet füllen
	$(BIN)/python -m pip wheel --quiet --wheel-dir wheelhouse pip setuptools wheel ".[dev,lab]"
	@echo "Offline installieren: PIP_NO_INDEX=1 PIP_FIND_LINKS=$$PWD/wheelhouse make lab"

clean: ## Gerenderte Berichte und Caches löschen
	find reports -mindepth 1 -maxdepth 1 -type d ! -name template -exec rm -rf {} +
	rm -rf .pytest_cache build src/*.egg-info
