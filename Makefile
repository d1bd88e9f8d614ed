# The two commands of the README:
#   make lab    set up .venv with what the walkthrough needs and open it in JupyterLab
#   make test   add the test stack to .venv and run every check (ruff, mypy, tests,
#               doctests, notebooks, browser)
# and a headless variant of the first:
#   make html   execute the notebooks and write HTML to build/html/
#
# PyTorch: constraints.txt pins its version; TORCH_INDEX=<url> installs it from that
# index first, e.g. the CPU wheels on Linux, where PyPI's torch is the CUDA build:
#   make lab TORCH_INDEX=https://download.pytorch.org/whl/cpu
# REQUIRE_CPU_TORCH=1 (set by .ci/run) stops the set-up if a CUDA build was installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# Not --quiet: a set-up of several minutes shows what it fetches, without progress bars.
PIP_INSTALL := $(PIP) install --progress-bar off --disable-pip-version-check -c constraints.txt
TORCH_INDEX ?=
REQUIRE_CPU_TORCH ?=
LAB_STAMP := $(VENV)/.lab-installed
STAMP := $(VENV)/.installed

.PHONY: setup lab html test types notebooks bench

$(BIN)/python:
	@echo "== creating the virtual environment $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	@echo "== upgrading pip in $(VENV)"
	$(PIP) install --progress-bar off --disable-pip-version-check --upgrade pip

$(LAB_STAMP): pyproject.toml constraints.txt | $(BIN)/python
ifneq ($(TORCH_INDEX),)
	@echo "== installing PyTorch from $(TORCH_INDEX)"
	$(PIP_INSTALL) --index-url $(TORCH_INDEX) torch
endif
	@echo "== installing eda_helpers with the fast and lab extras (runtime, decoders, JupyterLab, jupytext)"
	$(PIP_INSTALL) -e ".[fast,lab]"
	@$(BIN)/python -c "import torch, sys; cpu = torch.version.cuda is None; \
		print('== PyTorch', torch.__version__, '(CPU build)' if cpu else '(CUDA ' + torch.version.cuda + ' build)'); \
		sys.exit(1 if '$(REQUIRE_CPU_TORCH)' and not cpu else 0)"
	touch $@

$(STAMP): $(LAB_STAMP)
	@echo "== installing the dev extra (pytest, pytest-xdist, nbval, ruff, mypy, playwright, dask, SimpleITK)"
	$(PIP_INSTALL) -e ".[fast,lab,dev]"
	touch $@

# Everything the tests need (what the other targets but lab and html build on).
setup: $(STAMP)

lab: $(LAB_STAMP)
	@echo "== opening the walkthrough in JupyterLab"
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/01_series_walkthrough.ipynb

html: $(LAB_STAMP)
	@echo "== executing the notebooks into build/html/"
	$(BIN)/jupyter nbconvert --to html --execute --ExecutePreprocessor.store_widget_state=False --output-dir build/html notebooks/*.ipynb
	@echo "Open build/html/01_series_walkthrough.html in a browser."

types: setup
	@echo "== mypy on eda_helpers/"
	$(BIN)/mypy eda_helpers

# mypy's verdict comes last, so that one run shows the tests' too.
test: setup
	@echo "== ruff: lint and format"
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@echo "== mypy on eda_helpers/"
	@rm -f $(VENV)/.mypy-failed
	$(BIN)/mypy eda_helpers || touch $(VENV)/.mypy-failed
	@echo "== pytest: unit tests, doctests, notebooks, browser (two workers, one file each at a time)"
	$(BIN)/python -m pytest -n 2 --dist loadfile
	@if [ -e $(VENV)/.mypy-failed ]; then echo "== mypy found type errors (above)"; exit 1; fi

# Re-execute the notebooks from their .py sources and store the outputs nbval compares.
notebooks: setup
	$(BIN)/jupytext --sync notebooks/*.py
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.store_widget_state=False --ExecutePreprocessor.record_timing=False notebooks/*.ipynb
	$(BIN)/jupytext --sync notebooks/*.ipynb

bench: setup
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done
