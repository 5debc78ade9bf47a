# Turnout: `make demo` to see it run, `make test` to check it. Both set everything up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Build tools for evdev, the broker, zbar for pyzbar, poppler for badge print-to-scan tests.
SYSTEM_PACKAGES := python3-venv python3-dev gcc linux-libc-dev mosquitto libzbar0 poppler-utils fonts-dejavu-core
# Headless Chromium for the accessibility and browser tests only.
TEST_SYSTEM_PACKAGES := chromium
EXTRAS := camera,hub,test

.PHONY: install system-packages demo test bench audit audit-tools clean

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
	@$(MAKE) -s audit-tools
	$(PY) audit/run.py --quick --skip-if-unavailable

# The independent tools (audit/README.md): Node.js and npm for Lighthouse and the Nu checker's jar,
# a Java runtime, Chromium. Installed when missing if apt can; audit/run.py says what is missing.
audit-tools:
	@command -v node >/dev/null && command -v npm >/dev/null || scripts/ensure-system-packages nodejs npm || true
	@command -v java >/dev/null || scripts/ensure-system-packages default-jre-headless || true
	@scripts/ensure-system-packages chromium || true

audit: install audit-tools
	$(PY) audit/run.py

bench: install
	for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
