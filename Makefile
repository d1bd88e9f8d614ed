# The two commands of the README:
#   make lab    set up .venv and open the walkthrough on the built-in sample data in JupyterLab
#   make test   set up .venv and run every test (ruff, unit tests, doctests, notebooks, browser)
# and a headless variant of the first:
#   make html   execute the notebooks and write HTML to build/html/
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup lab html test notebooks bench

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[fast,dev]"
	touch $(STAMP)

setup: $(STAMP)

lab: setup
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/01_series_walkthrough.ipynb

html: setup
	$(BIN)/jupyter nbconvert --to html --execute --ExecutePreprocessor.store_widget_state=False --output-dir build/html notebooks/*.ipynb
	@echo "Open build/html/01_series_walkthrough.html in a browser."

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# Re-execute the notebooks from their .py sources and store the outputs nbval compares.
notebooks: setup
	$(BIN)/jupytext --sync notebooks/*.py
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.store_widget_state=False --ExecutePreprocessor.record_timing=False notebooks/*.ipynb
	$(BIN)/jupytext --sync notebooks/*.ipynb

bench: setup
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done
