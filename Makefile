# Two commands set a fresh machine up: `make demo` (train a real model on the bundled data)
# and `make test` (the test suite). Both create ./.venv and install the project into it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export HF_HUB_OFFLINE := 1

.PHONY: install demo test lint clean labextension jstest

# JupyterLab first (it provides `jupyter labextension build`), then the prebuilt extension,
# then the project; the pip hook's own npm build is skipped since it is already built.
$(STAMP): pyproject.toml labextension/package.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install 'jupyterlab>=4.1,<5'
	$(MAKE) labextension
	SKIP_JUPYTER_BUILDER=1 $(BIN)/pip install -e '.[test]'
	touch $(STAMP)

# The JupyterLab extension (needs Node; without it the browser tests skip).
labextension:
	@if command -v npm >/dev/null; then \
	  cd labextension && (npm ci --no-audit --no-fund || npm install --no-audit --no-fund) \
	  && PATH="$(abspath $(BIN)):$$PATH" npm run build:prod; \
	else echo "npm not found: the JupyterLab extension is not built"; fi

# Unit tests of the extension's TypeScript helpers (node's test runner).
jstest:
	@if command -v npm >/dev/null && [ -d labextension/node_modules ]; then \
	  cd labextension && npm test; \
	else echo "npm or labextension/node_modules missing: TypeScript tests skipped"; fi

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/automl-vision run examples/jobs/demo-classification.yml --workspace automl_runs

test: $(STAMP)
	$(BIN)/ruff check automl_nb tests benchmarks
	$(BIN)/mypy
	$(MAKE) jstest
	# The server tests use pytest-jupyter's event loop, which the browser tests' Playwright
	# cannot share: they run in a second pytest process.
	$(BIN)/python -m pytest -q --ignore=tests/server
	$(BIN)/python -m pytest -q tests/server

lint: $(STAMP)
	$(BIN)/ruff check automl_nb tests benchmarks

clean:
	rm -rf $(VENV) automl_runs .pytest_cache labextension/node_modules labextension/lib labextension/build-test automl_nb/labextension
