# ccanalysis: the care coordinator survey of Solberg et al. 2024, reproduced.
#
#   make all     set up .venv (first time), run the notebooks 00 -> 06, render reports/index.html
#   make test    everything `make all` does, then unit tests, nbval on the executed notebooks, e2e
#   make -j1 all runs one stage at a time (default: independent stages at once, JOBS=`nproc`)
#   make all DEFINITION=sw_on_team   the whole pipeline under another care model definition
#   make lab     JupyterLab on the project's kernel, at the notebooks
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
# The care model definition (an id of ccanalysis.classify.DEFINITIONS: paper, sw_on_team, sw_roles,
# mncares, system); outputs under another definition say so.
DEFINITION ?= paper

# ---- environment -------------------------------------------------------------------------------
# Python caches the bytecode of what it imports (some machines set PYTHONDONTWRITEBYTECODE, and then
# every process compiles pandas, scipy and matplotlib from source again): compiled once, lazily, for
# the modules the pipeline imports, instead of all of the venv's packages at set-up.
unexport PYTHONDONTWRITEBYTECODE
VENV   := .venv
PY     := $(VENV)/bin/python
READY  := $(VENV)/.ready
KERNEL := ccanalysis
UV     := $(shell command -v uv 2>/dev/null)

# A value as one shell word, whatever it holds (spaces, quotes, # or $ in a user's path).
q = '$(subst ','\'',$(1))'

# Every parameter, as the notebooks receive it. .make/params changes only when a value does, so that
# switching DATA or SEED re-runs what depends on it and nothing else. A dry run (-n) or question (-q)
# does not write it: it marks the file out of date instead, to show what would run. (Reading the
# rules still writes under .make/ on -n and -q: the links to the inputs and .make/deps.mk below,
# which hold no output and only make the rules match the files as they are.)
PARAMS := DATA=$(DATA) SEED=$(SEED) SCALE=$(SCALE) EXPORT=$(EXPORT) DICTIONARY=$(DICTIONARY) FRAME=$(FRAME) PRIVACY=$(PRIVACY) MIN_CELL=$(MIN_CELL) DEFINITION=$(DEFINITION)
DRY_RUN := $(findstring n,$(filter-out --%,$(firstword $(MAKEFLAGS))))$(findstring q,$(filter-out --%,$(firstword $(MAKEFLAGS))))
ifneq ($(PARAMS),$(shell cat .make/params 2>/dev/null))
ifeq ($(DRY_RUN),)
$(shell mkdir -p .make && printf '%s\n' $(call q,$(PARAMS)) > .make/params)
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
	@mkdir -p .make && printf '%s\n' $(call q,$(PARAMS)) > $@
.PHONY: FORCE
FORCE:

PAPERMILL = $(PY) -m ccanalysis.pipeline run $< $@ -k $(KERNEL) \
  -p data_mode $(DATA) -p seed $(SEED) -p scale $(SCALE) -p export $(call q,$(EXPORT)) \
  -p dictionary $(call q,$(DICTIONARY)) -p frame $(call q,$(FRAME)) -p privacy $(PRIVACY) \
  -p min_cell $(MIN_CELL) -p definition $(DEFINITION)

# ---- the run's inputs, staged for make ------------------------------------------------------------
# make cannot name a path holding spaces (or # : % and the like) as a prerequisite. Each input is
# therefore staged as a symlink with a safe name under .make/input/ (git-ignored): make follows it to
# the file's time, the notebooks still read (and name in errors) the path as given, nothing is ever
# copied and no output names the link.
IN_DIR        := .make/input
IN_EXPORT     := $(IN_DIR)/export.csv
IN_DICTIONARY := $(IN_DIR)/dictionary.csv
IN_FRAME      := $(IN_DIR)/frame.csv
# $(call stage_input,path,link): the link to the path made absolute (relative paths are the
# project's; plain POSIX sh, no GNU realpath); prints why, if it could not be made.
stage_input = $(shell p=$(call q,$(1)); case "$$p" in (/*) ;; (*) p=$(call q,$(CURDIR))/"$$p" ;; esac; \
  { mkdir -p $(IN_DIR) && ln -sfn -- "$$p" $(2); } 2>&1 || echo "(cannot write $(2))")
staging_failed = $(if $(1),$(error could not stage the input '$(3)' as the link $(2): $(1)))
$(foreach v,EXPORT DICTIONARY FRAME,\
  $(call staging_failed,$(strip $(call stage_input,$($(v)),$(IN_$(v)))),$(IN_$(v)),$($(v))))
exists = $(shell test -f $(call q,$(1)) && echo yes)
ifneq ($(DATA),synthetic)
ifneq ($(call exists,$(EXPORT)),yes)
$(error EXPORT: no such file: '$(EXPORT)')
endif
ifneq ($(call exists,$(FRAME)),yes)
$(error FRAME: no such file: '$(FRAME)')
endif
endif
ifneq ($(call exists,$(DICTIONARY)),yes)
$(error DICTIONARY: no such file: '$(DICTIONARY)')
endif

# ---- stage prerequisites, derived from the code ----------------------------------------------------
# Each stage depends on its notebook, every ccanalysis module the notebook imports (directly or
# through other modules), the runner, the package data they read, and the files the stage reads as
# declared in ccanalysis.makedeps.STAGES (with the executed notebooks of the stages writing them).
# The rules are rewritten (stdlib only, ~0.1 s) whenever a module or notebook is newer than them or
# the run's inputs differ from those they were written for (DEPS_KEY, their first line, a comment
# read with sed: a path's # or $ is never make syntax there). The module
# edges are derived from the imports and follow the code by themselves (tests/test_e2e.py checks
# them against what Python loads). The files a stage reads (STAGES) and the package data a module
# reads (MODULE_DATA) are declared by hand: a new file a stage reads must be added there; the tests
# check only that docs/ARCHITECTURE.md lists STAGES as declared and that touching the spec, the
# dictionary or recruitment_flow.csv re-runs its readers.
DEPS_KEY := $(DATA)|$(EXPORT)|$(DICTIONARY)|$(FRAME)
DEPS_FRESH := $(shell test -f .make/deps.mk \
  && test -z "$$(find src/ccanalysis notebooks -newer .make/deps.mk ! -path '*/__pycache__*' -print -quit)" \
  && sed -n '1s/^# deps-key: //p' .make/deps.mk)
ifneq ($(DEPS_FRESH),$(DEPS_KEY))
$(shell mkdir -p .make)
$(shell PYTHONPATH=src python3 -m ccanalysis.makedeps -o .make/deps.mk --data $(DATA) \
  --export $(call q,$(EXPORT)) --dictionary $(call q,$(DICTIONARY)) --frame $(call q,$(FRAME)) >&2)
ifneq ($(.SHELLSTATUS),0)
$(error could not derive the stage prerequisites from the code (python3 -m ccanalysis.makedeps failed, see above))
endif
endif
include .make/deps.mk

# ---- the notebooks --------------------------------------------------------------------------------
# .make/deps.mk gives each reports/NN_*.ipynb its prerequisites and STAGES, the stages of this run.
EXECUTED := $(STAGES:%=reports/%.ipynb)
$(EXECUTED): reports/%.ipynb: notebooks/%.ipynb $(READY) .make/params
	$(PAPERMILL)

.PHONY: all test unit nbval e2e lint clean distclean bench setup lock lab
all: reports/index.html
	@$(PY) -m ccanalysis.pipeline times

# ---- reports/index.html: the landing page and both editions of every notebook (ccanalysis.report) --
# One process renders every executed notebook whose pages are older than it or than the rendering
# code (importing nbconvert is paid once rather than per notebook: reader's edition
# reports/NN_*.html, edition with code reports/NN_*.code.html), then writes the landing page from
# the outputs of the run. REPORT_FILES (from .make/deps.mk) are the modules and templates of
# ccanalysis.report and all they import. Notebooks of stages this run does not have (00_synthesize
# after a switch to DATA=redcap) are removed first: a report on a real export never links a page of
# the synthetic run.
STALE := $(filter-out $(EXECUTED),$(wildcard reports/[0-9][0-9]_*.ipynb))
reports/index.html: $(EXECUTED) $(REPORT_FILES)
	$(if $(STALE),rm -f $(STALE) $(STALE:.ipynb=.html) $(STALE:.ipynb=.code.html))
	$(PY) -m ccanalysis.report build $(EXECUTED)
ifeq ($(PRIVACY),True)
	$(PY) -m ccanalysis.privacy --dictionary $(call q,$(DICTIONARY)) $(call q,$(EXPORT)) reports tables figures
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
	  "$$uv" pip sync --quiet --python $(PY) requirements.lock; \
	  "$$uv" pip install --quiet --python $(PY) --no-deps -e .; \
	else \
	  echo "uv unavailable: falling back to pip (slower)"; \
	  [ -x "$(PY)" ] || python3 -m venv $(VENV); \
	  $(PY) -m pip install --quiet -r requirements.lock; \
	  $(PY) -m pip install --quiet --no-deps -e .; \
	fi
	$(PY) -m ipykernel install --prefix $(VENV) --name $(KERNEL) --display-name "ccanalysis (.venv)" >/dev/null
	@touch $@

# JupyterLab on the project's own kernel, opened at the notebooks (the working directory is the
# project, so the notebooks' paths resolve as in make all). Without a screen it prints the URL to
# open; LAB_PORT picks the port (default: the first free one from 8888).
LAB_PORT ?= 8888
lab: $(READY)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=$(call q,$(CURDIR)) --ServerApp.port=$(LAB_PORT) \
	  --ServerApp.default_url=/lab/tree/notebooks --MultiKernelManager.default_kernel_name=$(KERNEL) \
	  $(if $(DISPLAY)$(WAYLAND_DISPLAY),,--no-browser) $(if $(filter 0,$(shell id -u)),--allow-root)

# Regenerate the pins (needs uv; see README), then environment.yml with the same versions.
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock
	python3 tools/write_environment.py

# ---- tests ----------------------------------------------------------------------------------------
PYTEST := $(PY) -m pytest -p no:cacheprovider
# The unit suite; `make unit`, the loop after every change, leaves out the tests marked slow (a whole
# stage, a kernel, a browser, a fuzzer), which `make test` runs with the rest.
unit_tests = $(PYTEST) -p no:nbval -q -n $(JOBS) --dist loadfile tests -m "$(1)"
NBVAL  := $(PYTEST) -q -n $(JOBS) --dist loadfile --nbval $(EXECUTED) --nbval-kernel-name $(KERNEL) \
  --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 300
# The tutorials are stored without outputs: nbval runs them on the pipeline's data and fails on any
# error or failed check (lax: there are no stored outputs to compare).
TUTORIALS := $(wildcard notebooks/tutorials/*.ipynb)
TUTORIAL_TESTS := $(PYTEST) -q -n $(JOBS) --dist loadfile --nbval-lax $(TUTORIALS) \
  --nbval-kernel-name $(KERNEL) --nbval-cell-timeout 300
# The end-to-end tests of this checkout run one after the other; the one that works in a copy of
# the checkout (own_checkout) runs beside them.
E2E    := $(MAKE) --no-print-directory e2e-here e2e-copy
# What every stage wrote, before nbval re-executes the notebooks (and with them every stage's run):
# an e2e test checks that the files come out byte for byte the same. The one definition of the
# outputs: the e2e tests read it too (`make -s output-sums`).
OUTPUT_SUMS := find tables figures data/processed data/raw/synthetic -type f ! -name '.*' -print0 \
  | sort -z | xargs -0 sha256sum
.PHONY: output-sums
output-sums:
	@$(OUTPUT_SUMS)

# The unit suite (which needs no output of the pipeline) runs while the pipeline is built, filling
# the cores the pipeline's serial stretches leave idle; then the docs/ check, nbval on the executed
# notebooks and the tutorials (at once), and the end-to-end tests. The unit suite includes the browser tests
# (tests/test_browser.py: headless Chromium loads every page of docs/; they skip, saying why, where
# Chromium is missing).
.PHONY: test-build unit-suite
test:
	@$(MAKE) --no-print-directory test-build
	@$(OUTPUT_SUMS) > .make/outputs-before-nbval.sha256
	@$(MAKE) --no-print-directory test-notebooks
	$(E2E)

# The docs/ check, nbval and the tutorials read the pipeline's outputs (nbval rewrites them with the
# same bytes): they run at once.
.PHONY: test-notebooks docs-check nbval-run tutorials-run
test-notebooks: docs-check nbval-run tutorials-run
docs-check:
	$(DOCS_CHECK)
nbval-run:
	$(NBVAL)
tutorials-run:
	$(TUTORIAL_TESTS)

test-build: reports/index.html unit-suite
unit-suite: $(READY)
	$(call unit_tests,not e2e)

unit: $(READY)
	$(call unit_tests,not e2e and not slow)

nbval: reports/index.html
	$(NBVAL)
	$(TUTORIAL_TESTS)

e2e: reports/index.html
	$(E2E)

.PHONY: e2e-here e2e-copy
e2e-here:
	$(PYTEST) -q tests -m "e2e and not own_checkout"
e2e-copy:
	$(PYTEST) -q tests -m "e2e and own_checkout"

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
