# Turnout: `make demo` to see it run, `make test` to check it. Both set everything up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Build tools for evdev, the broker, zbar for pyzbar, poppler for badge print-to-scan tests.
SYSTEM_PACKAGES := python3-venv python3-dev gcc linux-libc-dev mosquitto libzbar0 poppler-utils fonts-dejavu-core
# Headless Chromium for the accessibility and browser tests only.
TEST_SYSTEM_PACKAGES := chromium
EXTRAS := camera,hub,test

.PHONY: install system-packages demo test fuzz bench clean

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

# The fuzz tests at length: twenty times the examples `make test` tries, random rather than
# fixed (failures are kept in .hypothesis/ and replayed by `make test`), and 10,000 MQTT
# messages at a running hub instead of 1,000.
fuzz: install
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q tests/fuzz

bench: install
	for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
