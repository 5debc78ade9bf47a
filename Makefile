# Turnout: `make demo` to see it run, `make test` to check it. Both set everything up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Build tools for evdev, the broker, zbar for pyzbar, poppler for badge print-to-scan tests.
SYSTEM_PACKAGES := python3-venv python3-dev gcc linux-libc-dev mosquitto libzbar0 poppler-utils fonts-dejavu-core
# Headless Chromium for the accessibility and browser tests; mmdebstrap and systemd-nspawn to
# boot the systemd units in a Debian container (tests/system).
TEST_SYSTEM_PACKAGES := chromium mmdebstrap systemd-container
EXTRAS := camera,hub,test

.PHONY: install system-packages demo test bench clean

install: system-packages $(VENV)/.installed

system-packages:
	@scripts/ensure-system-packages $(SYSTEM_PACKAGES)

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	touch $@

demo: install
	$(PY) -m turnout.demo

test: install
	@scripts/ensure-system-packages $(TEST_SYSTEM_PACKAGES)
	$(PY) -m pytest -q

bench: install
	for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
