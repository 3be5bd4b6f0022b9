# ccanalysis: the care coordinator survey of Solberg et al. 2024, reproduced.
#
#   make all     set up .venv (first time), run the notebooks 00 -> 06, render reports/index.html
#   make test    everything `make all` does, then unit tests, nbval on the executed notebooks, e2e
#   make -j1 all runs one stage at a time (default: independent stages at once, JOBS=`nproc`)
#   make lint | make clean | make bench
#
# On the real export (kept on your machine only, ignored by git):
#   make all DATA=redcap EXPORT=path/to/export.csv DICTIONARY=path/to/dictionary.csv FRAME=path/to/frame.csv

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.SUFFIXES:
MAKEFLAGS += --no-builtin-rules

# ---- parameters (passed to every notebook through papermill) ---------------------------------
DATA       ?= synthetic
SEED       ?= 20240325
SCALE      ?= 1
DICTIONARY ?= data/raw/cc_survey_dictionary.csv
ifeq ($(DATA),synthetic)
EXPORT     ?= data/raw/synthetic/cc_survey_export.csv
FRAME      ?= data/raw/synthetic/clinic_frame.csv
PRIVACY    ?= False
else ifeq ($(DATA),redcap)
PRIVACY    ?= True
ifndef EXPORT
$(error DATA=redcap needs EXPORT=path/to/the REDCap raw export)
endif
ifndef FRAME
$(error DATA=redcap needs FRAME=path/to/the clinic frame (clinic_id,care_system_id,ruca))
endif
else
$(error DATA must be synthetic or redcap, not '$(DATA)')
endif
MIN_CELL   ?= 11

# ---- environment -------------------------------------------------------------------------------
VENV   := .venv
PY     := $(VENV)/bin/python
READY  := $(VENV)/.ready
KERNEL := ccanalysis
UV     := $(shell command -v uv 2>/dev/null)

# Every parameter, as the notebooks receive it. .make/params changes only when a value does, so that
# switching DATA or SEED re-runs what depends on it and nothing else. A dry run (-n) or question (-q)
# writes nothing: it marks the file out of date instead, to show what would run.
PARAMS := DATA=$(DATA) SEED=$(SEED) SCALE=$(SCALE) EXPORT=$(EXPORT) DICTIONARY=$(DICTIONARY) FRAME=$(FRAME) PRIVACY=$(PRIVACY) MIN_CELL=$(MIN_CELL)
DRY_RUN := $(findstring n,$(filter-out --%,$(firstword $(MAKEFLAGS))))$(findstring q,$(filter-out --%,$(firstword $(MAKEFLAGS))))
ifneq ($(PARAMS),$(shell cat .make/params 2>/dev/null))
ifeq ($(DRY_RUN),)
$(shell mkdir -p .make && echo "$(PARAMS)" > .make/params)
else
.make/params: FORCE
endif
endif
ifeq ($(DRY_RUN),)
$(shell mkdir -p .make && rm -f .make/last-run.tsv)
endif

# Independent stages (03 and 04, then 05 and 06) run at once, on every core by default; `make -j1`
# runs one at a time. Each stage prints whole lines only, so that the log of two stages stays readable.
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
MAKEFLAGS += -j$(JOBS)
.make/params:
	@mkdir -p .make && echo "$(PARAMS)" > $@
.PHONY: FORCE
FORCE:

PAPERMILL = $(PY) -m ccanalysis.pipeline run $< $@ -k $(KERNEL) \
  -p data_mode $(DATA) -p seed $(SEED) -p scale $(SCALE) -p export $(EXPORT) \
  -p dictionary $(DICTIONARY) -p frame $(FRAME) -p privacy $(PRIVACY) -p min_cell $(MIN_CELL)

LIB := src/ccanalysis
COMMON := $(READY) .make/params $(LIB)/io.py $(LIB)/instrument.py $(LIB)/errors.py

# ---- the notebooks and what each one uses -------------------------------------------------------
NOTEBOOKS := 00_synthesize 01_clean 02_classify 03_tables 04_sensitivity 05_figures 06_replication
ifeq ($(DATA),redcap)
STAGES := $(filter-out 00_synthesize,$(NOTEBOOKS))
INPUT  := $(EXPORT) $(DICTIONARY) $(FRAME)
else
STAGES := $(NOTEBOOKS)
INPUT  := reports/00_synthesize.ipynb
endif
EXECUTED := $(STAGES:%=reports/%.ipynb)

.PHONY: all test unit nbval e2e lint clean distclean bench setup lock
all: reports/index.html
	@$(PY) -m ccanalysis.pipeline times

reports/00_synthesize.ipynb: notebooks/00_synthesize.ipynb $(COMMON) $(LIB)/synth.py $(wildcard data/published/*.csv)
	$(PAPERMILL)

reports/01_clean.ipynb: notebooks/01_clean.ipynb $(COMMON) $(LIB)/redcap.py $(LIB)/clean.py $(INPUT)
	$(PAPERMILL)

reports/02_classify.ipynb: notebooks/02_classify.ipynb $(COMMON) $(LIB)/classify.py reports/01_clean.ipynb
	$(PAPERMILL)

reports/03_tables.ipynb: notebooks/03_tables.ipynb $(COMMON) $(LIB)/tables.py $(wildcard $(LIB)/stats/*.py) $(LIB)/specs/tables.csv reports/02_classify.ipynb
	$(PAPERMILL)

reports/04_sensitivity.ipynb: notebooks/04_sensitivity.ipynb $(COMMON) $(LIB)/sensitivity.py $(wildcard $(LIB)/stats/*.py) $(LIB)/specs/tables.csv reports/02_classify.ipynb
	$(PAPERMILL)

reports/05_figures.ipynb: notebooks/05_figures.ipynb $(COMMON) $(LIB)/figures.py data/raw/recruitment_flow.csv reports/03_tables.ipynb reports/04_sensitivity.ipynb
	$(PAPERMILL)

reports/06_replication.ipynb: notebooks/06_replication.ipynb $(COMMON) $(LIB)/replication.py $(wildcard $(LIB)/stats/*.py) $(wildcard data/published/*.csv) reports/03_tables.ipynb
	$(PAPERMILL)

# ---- reports/index.html: the landing page and both editions of every notebook (ccanalysis.report) --
# One process renders every executed notebook whose pages are older than it or than the rendering
# code (importing nbconvert costs ~1 s, paid once rather than per notebook: reader's edition
# reports/NN_*.html, edition with code reports/NN_*.code.html), then writes the landing page from
# the outputs of the run.
REPORT := $(wildcard $(LIB)/report/*.py $(LIB)/report/templates/*) \
  $(LIB)/display.py $(LIB)/printing.py $(LIB)/spec.py $(LIB)/specs/tables.csv
reports/index.html: $(EXECUTED) $(REPORT)
	$(PY) -m ccanalysis.report build $(EXECUTED)
ifeq ($(PRIVACY),True)
	$(PY) -m ccanalysis.privacy $(EXPORT) reports tables figures
endif

# ---- docs/: the committed reader's edition of the synthetic run (ccanalysis.report.site) ---------
# `make docs` refreshes it; `make test` fails when it differs from what the code produces. A run on
# a real export never writes it.
.PHONY: docs
ifeq ($(DATA),synthetic)
docs: reports/index.html
	$(PY) -m ccanalysis.report docs
DOCS_CHECK := $(PY) -m ccanalysis.report docs --check
else
docs:
	@echo "make docs: docs/ is the public snapshot of the synthetic stand-in, never of DATA=$(DATA)" >&2; exit 1
DOCS_CHECK := @echo "docs/ check skipped: DATA=$(DATA) (the snapshot is of the synthetic run)"
endif

# ---- environment: .venv from the lock, the package, and the venv's own Jupyter kernel ------------
setup: $(READY)
$(READY): requirements.lock pyproject.toml
	@echo "Setting up $(VENV) from requirements.lock"
	@uv="$(UV)"; \
	if [ -z "$$uv" ]; then \
	  python3 -m pip install --quiet --disable-pip-version-check --target .tools/uv uv >/dev/null 2>&1 \
	    && uv=.tools/uv/bin/uv || true; \
	fi; \
	if [ -n "$$uv" ]; then \
	  [ -x "$(PY)" ] || "$$uv" venv --quiet --python python3.11 $(VENV); \
	  "$$uv" pip sync --quiet --compile-bytecode --python $(PY) requirements.lock; \
	  "$$uv" pip install --quiet --python $(PY) --no-deps -e .; \
	else \
	  echo "uv unavailable: falling back to pip (slower)"; \
	  [ -x "$(PY)" ] || python3 -m venv $(VENV); \
	  $(PY) -m pip install --quiet -r requirements.lock; \
	  $(PY) -m pip install --quiet --no-deps -e .; \
	fi
	$(PY) -m ipykernel install --prefix $(VENV) --name $(KERNEL) --display-name "ccanalysis (.venv)" >/dev/null
	@touch $@

# Regenerate the pins (needs uv; see README), then environment.yml with the same versions.
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock
	python3 tools/write_environment.py

# ---- tests ----------------------------------------------------------------------------------------
PYTEST := $(PY) -m pytest -p no:cacheprovider
UNIT   := $(PYTEST) -q tests -m "not e2e"
NBVAL  := $(PYTEST) -q --nbval $(EXECUTED) --nbval-kernel-name $(KERNEL) \
  --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 300
E2E    := $(PYTEST) -q tests -m e2e

# The pipeline is built in parallel, the three suites then run one after the other. The docs/ check
# comes first; the unit suite includes the browser tests (tests/test_browser.py: headless Chromium
# loads every page of docs/; they skip, saying why, where Chromium is missing).
test: reports/index.html
	$(DOCS_CHECK)
	$(UNIT)
	$(NBVAL)
	$(E2E)

unit: $(READY)
	$(UNIT)

nbval: reports/index.html
	$(NBVAL)

e2e: reports/index.html
	$(E2E)

lint: $(READY)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

# Timings (reports/bench.md, reports/bench.csv); BENCH_ARGS=--quick for a fast check.
bench: $(READY)
	$(PY) benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf reports/*.ipynb reports/*.html data/processed/*.parquet data/processed/*.csv \
	  tables/* figures/* .make
	@touch tables/.gitkeep figures/.gitkeep

distclean: clean
	rm -rf $(VENV)
