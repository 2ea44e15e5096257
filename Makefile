# The two commands of README.md:  `make run` (install everything, open the app)  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PORT   ?= 8501
# Local mode listens on this computer only. A team server sets up sign-in (README) and runs `make run ADDRESS=0.0.0.0`.
ADDRESS ?= 127.0.0.1

DECK_JS := web/build/deck.js

.PHONY: run test setup store system-deps bundle bench bench-deps clean-store

run: store system-deps bundle
	$(BIN)/python serve.py run app.py --server.port $(PORT) --server.address $(ADDRESS)

test: store system-deps bundle
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

# Headless Chromium and Thai fonts (browser tests, PNG/PDF exports), pdftotext for the PDF tests, npm for the
# map's deck.gl bundle, and PostgreSQL and HAProxy for the tests of several servers (deploy/cluster.py) (Debian packages).
system-deps:
	@if command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 \
	    && command -v haproxy >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 \
	    && fc-list 2>/dev/null | grep -q "Noto Sans Thai"; then :; else \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium fonts-noto-core fonts-tlwg-laksaman-ttf poppler-utils \
	    postgresql haproxy $$(command -v npm >/dev/null 2>&1 || echo nodejs npm); fi

# The deck.gl modules the map uses, from the npm registry's packages (versions pinned by web/package-lock.json),
# bundled into one file the map's web folder serves: no CDN at run time. Rebuilt when the lock or the entry changes.
bundle: system-deps $(DECK_JS)

$(DECK_JS): web/package.json web/package-lock.json web/deck-entry.js
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build
	touch $@

bench: store bundle bench-deps
	$(BIN)/python bench/bench_explorer.py

# The peers the bench scripts run beside povmap (bench/peers/): folium and streamlit-folium from PyPI, Leaflet from
# Debian (libjs-leaflet), which the folium peer serves itself so it needs no internet.
bench-deps: setup
	$(BIN)/pip install --quiet -e '.[bench]'
	@test -f /usr/share/javascript/leaflet/leaflet.js || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q libjs-leaflet; }

clean-store:
	rm -rf data/store data/store.builds
