# SKP Returns: `make run` opens the app, `make test` runs every check. Both set themselves up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# The libraries Qt's xcb platform plugin loads on Linux (Debian/Ubuntu package names).
QT_XCB_PACKAGES := libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 \
	libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0 \
	libegl1 libgl1 libfontconfig1 libdbus-1-3 fonts-dejavu-core

.PHONY: help install run test check lint format bench qt-libs clean dist dist-check pg-server c-compiler \
	office at-spi

help:
	@echo "make run    - set up .venv and open SKP Returns on the built-in database"
	@echo "make test   - set up .venv and run lint, layer contracts and the whole test suite"
	@echo "make lint   - ruff, the layer contracts and mypy"
	@echo "make check  - the edit-test loop: lint and the unit tests (~75 s on two idle cores)"
	@echo "make bench  - benchmarks, printed as ratios against baselines measured in the same run"
	@echo "make dist   - build dist/skp-returns/ (the app as one folder) and run its self-test"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dist]'
	@touch $(STAMP)

install: $(STAMP)

# Checks for Qt's system libraries; installs them when we are root, otherwise says what to run.
qt-libs:
	@if [ "$$(uname -s)" = Linux ] && command -v dpkg >/dev/null 2>&1; then \
	  missing=""; \
	  for p in $(QT_XCB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ]; then \
	      echo "Installing Qt's system libraries:$$missing"; \
	      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null \
	        || { echo "Could not install them. Run: sudo apt-get install$$missing"; exit 3; }; \
	    else \
	      echo "Qt needs system libraries that are missing. Run:"; \
	      echo "  sudo apt-get install$$missing"; exit 3; \
	    fi; \
	  fi; \
	fi

run: install qt-libs
	$(BIN)/skp-desktop

lint: install
	$(BIN)/ruff check skp_desktop tests bench
	$(BIN)/ruff format --check skp_desktop tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

# The fast loop while editing: lint, then tests/unit on every core, on SQLite (no GUI, no
# command-line subprocesses, no PostgreSQL server, no bundle). Measured 2026-12-07: 1,010 tests,
# ~145 s of CPU, so ~75 s on two idle cores (over the minute issue 19 asked for) and 3-4 min on
# the shared machine. `make test` is still the check before a merge.
check: lint
	$(BIN)/python -m pytest tests/unit -n auto -q -m "not postgresql"

format: install
	$(BIN)/ruff format skp_desktop tests bench
	$(BIN)/ruff check --fix skp_desktop tests bench

# PostgreSQL server binaries for the tests' own throwaway server (Debian/Ubuntu); without them
# the PostgreSQL tests are skipped, saying why.
PG_PACKAGES := postgresql
pg-server:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then :; \
	elif [ "$$(uname -s)" = Linux ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing PostgreSQL for the tests: $(PG_PACKAGES)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(PG_PACKAGES)) >/dev/null \
	    || echo "Could not install $(PG_PACKAGES): the PostgreSQL tests will be skipped"; \
	else echo "No PostgreSQL server binaries: its tests will be skipped (sudo apt-get install $(PG_PACKAGES))"; fi

# LibreOffice Calc, headless, for the test that re-saves a signed return file with it
# (tests/e2e/test_exchange_cli.py); without it that test is skipped, saying why.
OFFICE_PACKAGES := libreoffice-calc-nogui
office:
	@if command -v soffice >/dev/null 2>&1 || command -v libreoffice >/dev/null 2>&1; then :; \
	elif [ "$$(uname -s)" = Linux ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing LibreOffice Calc for the tests: $(OFFICE_PACKAGES)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(OFFICE_PACKAGES)) >/dev/null \
	    || echo "Could not install $(OFFICE_PACKAGES): the LibreOffice re-save test will be skipped"; \
	else echo "No LibreOffice: its re-save test will be skipped (sudo apt-get install $(OFFICE_PACKAGES))"; fi

# The accessibility bus for tests/gui/test_accessibility_tree.py (Debian/Ubuntu): the app is
# read as Orca reads it, under Xvfb on a private D-Bus session, with xdotool typing the keys
# (and giving the window X's focus: Xvfb has no window manager); without them it is skipped.
AT_SPI_PACKAGES := at-spi2-core python3-pyatspi dbus dbus-x11 xvfb xdotool $(QT_XCB_PACKAGES)
at-spi:
	@missing=""; \
	if [ "$$(uname -s)" = Linux ] && command -v dpkg >/dev/null 2>&1; then \
	  for p in $(AT_SPI_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	fi; \
	if [ -z "$$missing" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing the accessibility bus for the tests:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >/dev/null \
	    || echo "Could not install$$missing: the accessibility-tree tests will be skipped"; \
	else echo "No AT-SPI test set-up: its tests will be skipped (sudo apt-get install$$missing)"; fi

# A C compiler for the bundle: build_installer.spec rebuilds ICU's data library with English
# only (28 MB smaller); without one the bundle is bigger and tests/e2e/test_dist.py says so.
c-compiler:
	@if [ "$$(uname -s)" != Linux ] || command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing a C compiler for the bundle: gcc"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev) >/dev/null \
	    || echo "Could not install gcc: ICU's data goes in whole, 28 MB more than its English subset"; \
	else echo "No C compiler (sudo apt-get install gcc): ICU's data goes in whole, 28 MB more"; fi

test: lint pg-server c-compiler office at-spi
	# a test module runs whole on one worker: its fixtures (a server, a built bundle) are made once.
	# No crashed worker is replaced: under --dist loadfile a replacement can wait forever
	# (pytest-xdist issues 784 and 1378); the crash is reported and the run ends.
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -n auto --dist loadfile --max-worker-restart=0 --durations=15

bench: install
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench

dist: install c-compiler
	$(BIN)/pyinstaller --noconfirm build_installer.spec
	dist/skp-returns/skp-returns self-test
	@du -sh dist/skp-returns

# The bundle's own tests (rebuilt when the sources are newer); `make test` runs them too
# unless SKP_SKIP_DIST=1.
dist-check: install
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest tests/e2e/test_dist.py -q

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache *.egg-info
