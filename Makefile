# Turnout: `make demo` to see it run, `make test` to check it. Both set everything up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Build tools for evdev, the broker, zbar for pyzbar, poppler for badge print-to-scan tests.
SYSTEM_PACKAGES := python3-venv python3-dev gcc linux-libc-dev mosquitto libzbar0 poppler-utils fonts-dejavu-core
# For the tests only: headless Chromium (accessibility and browser tests); shellcheck (every shell
# script); mtools, dosfstools and fdisk (FAT images for the kiosk image's tests); cloud-init
# (22.4: `cloud-init schema` on the card's user-data) and netplan.io (`netplan generate` on its
# network-config); mmdebstrap and systemd-nspawn to boot the systemd units in a Debian
# container (tests/system). cloud-init pulls in about 20 small packages and enables its boot
# services, which switch themselves off on a machine where no cloud data source is found.
# postgresql: the hub's PostgreSQL engine is tested on the server at 127.0.0.1:5432 when it lets
# user postgres in, else on a cluster the tests start themselves with its initdb (tests/postgres.py).
TEST_SYSTEM_PACKAGES := chromium shellcheck mtools dosfstools fdisk cloud-init netplan.io mmdebstrap systemd-container postgresql
# `make image` writes into image files with mtools (no root, no loop devices).
IMAGE_SYSTEM_PACKAGES := mtools
EXTRAS := camera,hub,test
# pytest-xdist workers for make test: one per core by default; TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= auto

.PHONY: install system-packages demo demo-reset test test-postgres fuzz bench saturday soak soak-postgres audit audit-tools image hil clean translations

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

demo-reset:  # the demo's hub, kiosks and broker data (var/); the venv stays
	rm -rf var

test: install
	@scripts/ensure-system-packages $(TEST_SYSTEM_PACKAGES)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile
	@$(MAKE) -s audit-tools
	$(PY) audit/run.py --quick --skip-if-unavailable

# Every test that uses a hub database, again on PostgreSQL (make test runs the hub's tests on
# SQLite, and on PostgreSQL only the engine's own tests, migrate-db and the concurrency test).
test-postgres: install
	@scripts/ensure-system-packages $(TEST_SYSTEM_PACKAGES)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --hub-db=postgresql

# The independent tools (audit/README.md): Node.js and npm for Lighthouse and the Nu checker's jar,
# a Java runtime, Chromium. Installed when missing if apt can; audit/run.py says what is missing.
audit-tools:
	@command -v node >/dev/null && command -v npm >/dev/null || scripts/ensure-system-packages nodejs npm || true
	@command -v java >/dev/null || scripts/ensure-system-packages default-jre-headless || true
	@scripts/ensure-system-packages chromium || true

audit: install audit-tools
	$(PY) audit/run.py

# Welsh beside English (docs/translating.md): extract every marked message into the two
# templates (hub: web pages; kiosk: its screen), merge them into each language's .po, and compile
# the .mo files, which are committed so a fresh clone and a kiosk need no Babel. Drafts awaiting
# a Welsh speaker's review are marked fuzzy and still compiled (--use-fuzzy).
LOCALES := turnout/locale
BABEL := $(VENV)/bin/pybabel
BABEL_EXTRACT := $(BABEL) -q extract -k N_ --sort-by-file --project Turnout --copyright-holder "Turnout contributors"
# A file whose only change is Babel's new POT-Creation-Date is put back, so running it twice
# changes nothing (and branches do not conflict over a timestamp).
UNDATED = git diff --quiet -I '^"POT-Creation-Date' -- $(1) 2>/dev/null && git checkout -q -- $(1) 2>/dev/null || true
translations: install
	$(BABEL_EXTRACT) -F babel.cfg -o $(LOCALES)/hub.pot hub turnout/i18n.py
	$(BABEL_EXTRACT) -F babel-kiosk.cfg -o $(LOCALES)/kiosk.pot kiosk turnout
	for d in hub kiosk; do $(call UNDATED,$(LOCALES)/$$d.pot); for l in cy; do \
		test -f $(LOCALES)/$$l/LC_MESSAGES/$$d.po || $(BABEL) init -D $$d -i $(LOCALES)/$$d.pot -d $(LOCALES) -l $$l; \
		$(BABEL) update -D $$d -i $(LOCALES)/$$d.pot -d $(LOCALES) -l $$l --no-fuzzy-matching --ignore-obsolete; \
		$(call UNDATED,$(LOCALES)/$$l/LC_MESSAGES/$$d.po); \
		$(BABEL) compile -D $$d -d $(LOCALES) -l $$l --use-fuzzy --statistics; done; done

# The kiosk's card (image-build/README.md): `make image` builds Turnout's wheel, the wheels it needs
# on a Pi (when online) and the first-boot files into build/image/boot/, ready to copy onto a
# card's boot partition; with BOOT=raspios.img (or a mounted card) it writes into that instead.
#   make image BOOT=/media/$$USER/bootfs SETTINGS=door-1.toml WIFI_SSID="Venue Guest" WIFI_PASSWORD=…
# (the password is handed over in the environment, not on a command line; a settings file with a
# [card] table keeps it out of your shell history too)
image: export TURNOUT_WIFI_PASSWORD := $(WIFI_PASSWORD)
image: install
	@scripts/ensure-system-packages $(IMAGE_SYSTEM_PACKAGES)
	$(PY) -m imaging bundle --out build/image/turnout
	@mkdir -p build/image/boot
	$(PY) -m imaging write $(or $(BOOT),build/image/boot) --bundle build/image/turnout \
		$(if $(SETTINGS),--settings "$(SETTINGS)") $(if $(WIFI_SSID),--wifi-ssid "$(WIFI_SSID)") \
		$(if $(WIFI_COUNTRY),--wifi-country "$(WIFI_COUNTRY)") $(if $(KIOSK_HOSTNAME),--hostname "$(KIOSK_HOSTNAME)")

# The kiosk's input paths on a real kernel, before a release (docs/kiosk.md): a Debian VM runs
# the kiosk from its real unit while a virtual USB scanner types and a virtual webcam shows
# badges; the hub on this machine must get exactly those scans. About 5 minutes once its image is
# built (build/hil/, a few minutes more the first time). Not part of `make test`.
HIL_SYSTEM_PACKAGES := qemu-system-x86 mmdebstrap e2fsprogs
hil: install
	@scripts/ensure-system-packages $(HIL_SYSTEM_PACKAGES)
	$(PY) -m tests.hil.run

# The fuzz tests at length: twenty times the examples `make test` tries, random rather than
# fixed (failures are kept in .hypothesis/ and replayed by `make test`), and 10,000 MQTT
# messages at a running hub instead of 1,000.
fuzz: install
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q tests/fuzz

bench: install
	for b in bench/*.py; do case $$b in bench/soak.py) continue;; esac; echo "== $$b"; $(PY) $$b || exit 1; done

# A parkrun-sized Saturday morning against real hub processes (bench/saturday.py; docs/scaling.md).
# SATURDAY_PG=postgresql://… adds the PostgreSQL rows.
saturday: install
	$(PY) bench/saturday.py $(if $(SATURDAY_PG),--postgres "$(SATURDAY_PG)")

# The fault-injection soak at length (bench/soak.py): 10,000 scans from three real kiosk daemons
# while the broker, the hub's processes and the kiosks are killed, paused and cut off (about
# 9 minutes); make test runs a short one (tests/test_soak.py).
soak: install
	$(PY) bench/soak.py

# The same with the hub's processes on PostgreSQL: a cluster of the soak's own (initdb and pg_ctl in
# a temporary directory, on a free port), which the chaos loop also kills (SIGKILL, then started
# again) and pauses (SIGSTOP/SIGCONT). make test runs a short one (tests/test_soak_postgres.py).
soak-postgres: install
	@scripts/ensure-system-packages postgresql
	$(PY) bench/soak.py --postgres

clean:
	rm -rf $(VENV) var build .pytest_cache .hypothesis
