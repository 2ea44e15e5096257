# The two commands of README.md:  `make run` (install everything, open the app)  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PORT   ?= 8501
# Local mode listens on this computer only. A team server sets up sign-in (README) and runs `make run ADDRESS=0.0.0.0`.
ADDRESS ?= 127.0.0.1

.PHONY: run test setup store system-deps bench clean-store

run: store system-deps
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.address $(ADDRESS)

test: store system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Idempotent: does nothing when the sources and the build code are unchanged.
store: setup
	$(BIN)/povmap data install
	$(BIN)/python -c "from povmap.core import compiled; compiled.warm()"

# Headless Chromium and Thai fonts (browser tests, PNG/PDF exports), pdftotext for the PDF tests (Debian packages).
system-deps:
	@if command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 && fc-list 2>/dev/null | grep -q "Noto Sans Thai"; then :; else \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium fonts-noto-core fonts-tlwg-laksaman-ttf poppler-utils; fi

bench: store
	$(BIN)/python bench/bench_explorer.py

clean-store:
	rm -rf data/store data/store.builds
