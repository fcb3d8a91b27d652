# Everything a developer or CI needs, from a machine with only Python and pip.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint bench bounds docs screenshots sample-data clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/pricing demo --dir demo

test: $(STAMP)
	$(BIN)/python -m compileall -q -j 0 pricing  # where PYTHONDONTWRITEBYTECODE is set, each test's process would compile the package again
	$(BIN)/python -m pytest -n auto --dist loadfile --no-loadscope-reorder  # a module a worker, longest first (tests/conftest.py)

lint: $(STAMP)
	$(BIN)/ruff check pricing tests bench sample_data docs
	$(BIN)/ruff format --check pricing tests bench sample_data docs
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/run.py

bounds: $(STAMP)
	$(BIN)/python bench/bounds.py

docs: $(STAMP)
	$(BIN)/python -m pricing.cli.reference

screenshots: $(STAMP)  # the web pages as docs/team.md shows them (needs Debian's chromium)
	PRICING_SCREENSHOTS=docs/img $(BIN)/python -m pytest -q -p no:xdist tests/test_browser.py

sample-data: $(STAMP)
	$(BIN)/python sample_data/make_sample_data.py

clean:
	rm -rf $(VENV) demo bench/out .pytest_cache .mypy_cache .ruff_cache
