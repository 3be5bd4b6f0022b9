# ccanalysis: the care coordinator survey of Solberg et al. 2024, reproduced.
#
#   make all     set up .venv (first time), run the notebooks 00 -> 06, render reports/index.html
#   make test    everything `make all` does, then unit tests, nbval on the executed notebooks, e2e
#   make -j1 all runs one stage at a time (default: independent stages at once, JOBS=`nproc`)
#   make all DEFINITION=sw_on_team   the whole pipeline under another care model definition
#   make lab     JupyterLab on the project's kernel, at the notebooks
#   make lint | make clean | make bench | make coverage (the intervals' coverage by simulation)
#
# On the real export (kept on your machine only, ignored by git):
#   make all DATA=redcap EXPORT=path/to/export.csv DICTIONARY=path/to/dictionary.csv FRAME=path/to/frame.csv
#     OUT_OF_RANGE=keep|missing|stop  MISSING_CODES="UNK,NA,NASK"  LABELS=yes|no  EVENT=baseline_arm_1

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
# The care model definition: an id of src/ccanalysis/specs/definitions.csv (paper, sw_on_team,
# sw_roles, mncares, system), a rule over the four criteria with and, or, not, at_least(k, a, b, ...)
# ('sw_on_team and at_least(2, sw_responsible, sw_interacts_patients, sw_interacts_clinicians)';
# 'system: ...' for whole care systems), or path/to/file.csv:id (a file of the same columns, a
# prerequisite of 02_classify); outputs under another definition say so.
DEFINITION ?= paper
# How 01_clean reads the export: a value outside its field's min/max is kept (REDCap's soft check),
# made missing or stops the run; REDCap's missing-data codes (comma-separated) become missing in any
# field; LABELS=yes|no says whether answers are labels or codes (empty: told from the values); EVENT
# picks the one event of a longitudinal export that holds the survey.
OUT_OF_RANGE  ?= keep
MISSING_CODES ?=
LABELS        ?=
EVENT         ?=

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
# does not write it: it marks the file out of date instead, to show what would run.
PARAMS := DATA=$(DATA) SEED=$(SEED) SCALE=$(SCALE) EXPORT=$(EXPORT) DICTIONARY=$(DICTIONARY) FRAME=$(FRAME) PRIVACY=$(PRIVACY) MIN_CELL=$(MIN_CELL) DEFINITION=$(DEFINITION) OUT_OF_RANGE=$(OUT_OF_RANGE) MISSING_CODES=$(MISSING_CODES) LABELS=$(LABELS) EVENT=$(EVENT)
DRY_RUN := $(findstring n,$(filter-out --%,$(firstword $(MAKEFLAGS))))$(findstring q,$(filter-out --%,$(firstword $(MAKEFLAGS))))
ifneq ($(PARAMS),$(shell cat .make/params 2>/dev/null))
ifeq ($(DRY_RUN),)
$(shell mkdir -p .make && printf '%s\n' $(call q,$(PARAMS)) > .make/params)
else
.make/params: FORCE
endif
endif

# Independent stages (03 and 04, then 05 and 06) run at once, on every core by default; `make -j1`
# runs one at a time. Only the make a user starts sets the jobs, and only when they gave no -j: a
# recursive make ($(MAKE) below) shares its jobserver instead of forcing its own. Each stage prints
# whole lines only, so that the log of two stages stays readable.
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
ifeq ($(MAKELEVEL)$(filter -j%,$(MAKEFLAGS)),0)
MAKEFLAGS += -j$(JOBS)
endif
.make/params:
	@mkdir -p .make && printf '%s\n' $(call q,$(PARAMS)) > $@
.PHONY: FORCE
FORCE:

PAPERMILL = $(PY) -m ccanalysis.pipeline run $< $@ -k $(KERNEL) \
  -p data_mode $(DATA) -p seed $(SEED) -p scale $(SCALE) -p export $(call q,$(EXPORT)) \
  -p dictionary $(call q,$(DICTIONARY)) -p frame $(call q,$(FRAME)) -p privacy $(PRIVACY) \
  -p min_cell $(MIN_CELL) -p definition $(call q,$(DEFINITION))
# The reading parameters go to 01_clean only: the other notebooks do not read the export (papermill
# warns of a parameter a notebook does not have).
# A definition read from a file (DEFINITION=path/to/file.csv:id): the file is 02_classify's input.
ifneq ($(findstring .csv:,$(DEFINITION)),)
reports/02_classify.ipynb: $(firstword $(subst .csv:,.csv ,$(DEFINITION)))
endif
reports/01_clean.ipynb: private PAPERMILL += -p out_of_range $(call q,$(OUT_OF_RANGE)) \
  -p missing_codes $(call q,$(MISSING_CODES)) -p labels $(call q,$(LABELS)) -p event $(call q,$(EVENT))

# ---- the run's inputs, and the stage prerequisites derived from the code -------------------------
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

# Each stage depends on its notebook, every ccanalysis module the notebook imports (directly or
# through other modules), the runner, the package data they read, and the files the stage reads as
# declared in ccanalysis.makedeps.STAGES (with the executed notebooks of the stages writing them).
# The rules are derived on every run (stdlib only, a fraction of a second) and evaluated in memory:
# nothing is written, so `make -n` writes nothing. An input whose path make cannot name (spaces, #)
# makes its stages due when it is newer than their output. tests/test_e2e.py checks the module
# edges against what Python loads.
define newline


endef
DEPS := $(shell PYTHONPATH=src python3 -m ccanalysis.makedeps --data $(DATA) \
  --export $(call q,$(EXPORT)) --dictionary $(call q,$(DICTIONARY)) --frame $(call q,$(FRAME)))
ifneq ($(.SHELLSTATUS),0)
$(error could not derive the stage prerequisites from the code (python3 -m ccanalysis.makedeps failed, see above))
endif
$(eval $(subst @@,$(newline),$(DEPS)))

# ---- the notebooks --------------------------------------------------------------------------------
# ccanalysis.makedeps gives each reports/NN_*.ipynb its prerequisites and STAGES, the stages of this run.
EXECUTED := $(STAGES:%=reports/%.ipynb)
$(EXECUTED): reports/%.ipynb: notebooks/%.ipynb $(READY) .make/params
	$(PAPERMILL)

.PHONY: all test unit nbval e2e lint clean distclean bench setup lock lab
all: reports/index.html

# ---- reports/index.html: the landing page and both editions of every notebook (ccanalysis.report) --
# One process renders every executed notebook whose pages are older than it or than the rendering
# code (importing nbconvert is paid once rather than per notebook: reader's edition
# reports/NN_*.html, edition with code reports/NN_*.code.html), then writes the landing page from
# the outputs of the run. REPORT_FILES (from ccanalysis.makedeps) are the modules and templates of
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

# ---- docs/: the committed reader's edition of the synthetic run (python -m ccanalysis.report docs) -
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
	  $(PY) -m pip install --quiet --no-deps -r requirements.lock; \
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
# rfc3987-syntax (an optional extra of jsonschema, pulled in by jupyter-events) builds a lark grammar
# whenever jsonschema is imported: 1.3 s in every process that reads a notebook (nbformat), about 30
# processes per `make test`. Nothing here validates IRI syntax, so it and lark are left out of the
# lock (jsonschema skips that format check without them); pip installs the lock with --no-deps.
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 \
	  --no-emit-package rfc3987-syntax --no-emit-package lark -o requirements.lock
	python3 tools/write_environment.py

# ---- the coverage study (not part of `make all`): how often each printed interval covers the truth,
# simulated on the run's design (ccanalysis.coverage; a few minutes on 2 cores). Writes
# tables/coverage.csv, figures/coverage.png/.svg and the committed copy data/coverage/coverage.csv
# that the 04 notebook shows.
.PHONY: coverage
coverage: reports/02_classify.ipynb
	@mkdir -p data/coverage
	$(PY) -m ccanalysis.coverage

# ---- tests ----------------------------------------------------------------------------------------
PYTEST := $(PY) -m pytest -p no:cacheprovider
# The unit suite; `make unit`, the loop after every change, leaves out the tests marked slow (a whole
# stage, a kernel, a browser), which `make test` runs with the rest. `make unit` has the cores to
# itself (-n JOBS, a test file per worker: a module's fixtures, such as the synthesizer's
# calibration, are computed once); inside `make test` each test run is one job of make's -j (one
# process), so that the runs beside it never ask for more processes than there are cores.
unit_tests = $(PYTEST) -p no:nbval -q $(2) tests -m "$(1)"
NBVAL_ARGS := --nbval-kernel-name $(KERNEL) --nbval-cell-timeout 300
NBVAL  = $(PYTEST) -q $(2) --nbval $(1) $(NBVAL_ARGS) --nbval-sanitize-with tests/nbval_sanitize.cfg
# The tutorials are stored without outputs: nbval runs them on the pipeline's data and fails on any
# error or failed check (lax: there are no stored outputs to compare).
TUTORIALS := $(wildcard notebooks/tutorials/*.ipynb)
TUTORIAL_TESTS = $(PYTEST) -q $(1) --nbval-lax $(TUTORIALS) $(NBVAL_ARGS)
# What every stage wrote, before nbval re-executes the notebooks (and with them every stage's run):
# an e2e test checks that the files come out byte for byte the same. The one definition of the
# outputs: the e2e tests read it too (`make -s output-sums`).
OUTPUT_SUMS := find tables figures data/processed data/raw/synthetic -type f ! -name '.*' -print0 \
  | sort -z | xargs -0 sha256sum
.PHONY: output-sums
output-sums:
	@$(OUTPUT_SUMS)

# `make test`: the pipeline and what reads its outputs (the chain that decides how long the run
# takes) in a make of its own, in-checkout, which holds its job slot from the first stage to the
# last test: the pipeline, then the record of what it wrote, the docs/ check, nbval on the executed
# notebooks (in two parts), the tutorials and the unit tests that read the outputs (marked built:
# the browser's look at this run's snapshot, the Results' links), and last the end-to-end tests that
# work in this checkout. (One flat make would not do: make 4.3 starts the next prerequisite in its
# list whenever a slot frees, so the stages waited behind every other job.) Beside it, in the slots
# it leaves free, the longest job first: the README's "add an item" in a copy of the checkout
# (e2e-copy-item), the unit suite that needs no output in four parts (every fourth test file), the
# real-export run in another copy (e2e-copy; the copies' make at -j1) and the bench's quick run (it
# cannot rot unseen). The browser tests (tests/test_browser.py: headless Chromium loads every page
# of docs/) skip, saying why, where Chromium is missing.
UNIT_FILES := $(filter-out tests/test_e2e.py,$(sort $(wildcard tests/test_*.py)))
every_fourth = $(foreach i,$(shell seq $(1) 4 $(words $(2))),$(word $(i),$(2)))
UNIT_PARTS := unit-part-1 unit-part-2 unit-part-3 unit-part-4
.PHONY: $(UNIT_PARTS) built-run outputs-before-nbval docs-check nbval-part-1 nbval-part-2 tutorials-run
.PHONY: bench-quick e2e-here e2e-copy e2e-copy-item test-e2e-here in-checkout
test: in-checkout e2e-copy-item $(UNIT_PARTS) e2e-copy bench-quick
in-checkout: $(READY)
	$(MAKE) --no-print-directory test-e2e-here
$(UNIT_PARTS): unit-part-%: $(READY)
	$(PYTEST) -p no:nbval -q $(call every_fourth,$*,$(UNIT_FILES)) -m "not e2e and not built"
# The unit tests that read what the pipeline wrote (marked built): after it, never beside it.
built-run: reports/index.html
	$(PYTEST) -p no:nbval -q tests -m "built and not e2e"
outputs-before-nbval: reports/index.html
	@$(OUTPUT_SUMS) > .make/outputs-before-nbval.sha256
docs-check: reports/index.html
	$(DOCS_CHECK)
nbval-part-1 nbval-part-2 tutorials-run: outputs-before-nbval
nbval-part-1:
	$(call NBVAL,$(wordlist 1,4,$(EXECUTED)))
nbval-part-2:
	$(call NBVAL,$(wordlist 5,9,$(EXECUTED)))
tutorials-run:
	$(TUTORIAL_TESTS)
bench-quick: $(READY)
	$(PY) benchmarks/bench.py --quick
test-e2e-here: docs-check nbval-part-1 nbval-part-2 tutorials-run built-run
	$(E2E_HERE)

unit: $(READY)
	$(call unit_tests,not e2e and not slow,-n $(JOBS) --dist loadfile)

nbval: reports/index.html
	$(call NBVAL,$(EXECUTED),-n $(JOBS))
	$(call TUTORIAL_TESTS,-n $(JOBS))

E2E_HERE = $(PYTEST) -q tests -m "e2e and not own_checkout"
e2e: e2e-here e2e-copy e2e-copy-item
e2e-here: reports/index.html
	$(E2E_HERE)
# In two jobs: the real export (tests/test_e2e*.py) and the README's "add an item"
# (tests/test_add_an_item.py), each in a copy of its own.
e2e-copy: $(READY)
	$(PYTEST) -q tests -m "e2e and own_checkout" --ignore tests/test_add_an_item.py
e2e-copy-item: $(READY)
	$(PYTEST) -q tests/test_add_an_item.py

lint: $(READY)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

# Each stage's time and peak memory at the study's size and at 100,000 clinics, exact Fisher on the
# tables' count tables (reports/bench.md); BENCH_ARGS=--quick for the smoke run `make test` does.
bench: $(READY)
	$(PY) benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf reports/*.ipynb reports/*.html data/processed/*.parquet data/processed/*.csv \
	  tables/* figures/* .make
	@touch tables/.gitkeep figures/.gitkeep

distclean: clean
	rm -rf $(VENV)
