# scjax — the README's two commands are `make demo` and `make test`.
# Everything runs in a git-ignored virtual environment (.venv) made from the system python3;
# it is re-installed only when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: setup demo test native bench docs clean lint

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

native: setup
	@if [ -x native/build.sh ]; then native/build.sh; else echo "native: no native/build.sh yet"; fi

demo: setup native
	$(PY) -m scjax.cli demo --out experiments/results

LINTED := scjax tests experiments examples setup.py docs/_hooks

lint: setup
	$(PY) -m ruff check $(LINTED)
	$(PY) -m ruff format --check $(LINTED)
	@# --pythonpath: without it basedpyright resolves imports in the `python` on PATH, not the venv.
	$(PY) -m basedpyright --pythonpath $(PY)

test: setup native lint
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: setup native
	$(PY) experiments/bench_simulate.py
	$(PY) experiments/bench_neuron_integrators.py
	$(PY) experiments/bench_population.py

# The gallery scripts redraw docs/figures/ at full size, then the site is built strictly
# (a broken reference or a missing figure is an error). tests/test_docs.py runs both at CI size.
GALLERY := $(wildcard examples/[a-z]*.py)

docs: setup native
	@for script in $(GALLERY); do echo "$$script"; $(PY) $$script || exit 1; done
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

clean:
	rm -rf $(VENV) native/build native/rust/target .pytest_cache .hypothesis build site *.egg-info
	rm -f scjax/_native/*.so
