# Two commands set a fresh machine up: `make demo` (train a real model on the bundled data)
# and `make test` (the test suite). Both create ./.venv and install the project into it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export HF_HUB_OFFLINE := 1

.PHONY: install demo test lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/automl-vision run examples/jobs/demo-classification.yml --workspace automl_runs

test: $(STAMP)
	$(BIN)/ruff check automl_nb tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check automl_nb tests benchmarks

clean:
	rm -rf $(VENV) automl_runs .pytest_cache
