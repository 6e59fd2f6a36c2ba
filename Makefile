# Candor: `make run` to try it, `make test` to check it. Everything installs from PyPI and npm.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
VENDOR := app/static/vendor
VENDOR_FILES := $(VENDOR)/libsodium-sumo.js $(VENDOR)/libsodium-wrappers.js $(VENDOR)/noble-sodium.js \
	$(VENDOR)/eff-long.txt $(VENDOR)/documents.js

.PHONY: run test lint security audit bench soak vendor install db clean client translations

$(BIN)/candor: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/candor

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# The browser's copies of libsodium and the codename word list, served from our own origin; and
# for browsers without WebAssembly, the same functions on the pure-JavaScript noble libraries
# (app/browser/noble-sodium.js), bundled by esbuild into one classic script; the document
# cleaner (app/browser/documents.js: pdf-lib and fflate, no WebAssembly) into one module. Last,
# the compressed, versioned copy of app/static that the app serves (app/static_files.py; the app
# builds it too at start-up if a static file changed since).
$(VENDOR_FILES) &: node_modules/.package-lock.json $(BIN)/candor app/browser/noble-sodium.js \
		app/static/js/bytes.js app/browser/documents.js
	mkdir -p $(VENDOR)
	cp node_modules/libsodium-sumo/dist/modules-sumo/libsodium-sumo.js $(VENDOR)/
	cp node_modules/libsodium-wrappers-sumo/dist/modules-sumo/libsodium-wrappers.js $(VENDOR)/
	node_modules/.bin/esbuild app/browser/noble-sodium.js --bundle --format=iife --minify \
	  --target=es2022 --legal-comments=eof --log-level=warning --outfile=$(VENDOR)/noble-sodium.js
	node_modules/.bin/esbuild app/browser/documents.js --bundle --format=esm --minify \
	  --target=es2022 --legal-comments=eof --log-level=warning --outfile=$(VENDOR)/documents.js
	$(BIN)/python -c "import importlib.resources as r, shutil; shutil.copyfile(r.files('xkcdpass') / 'static' / 'eff-long', '$(VENDOR)/eff-long.txt')"
	$(BIN)/python -m app.static_files

vendor: $(VENDOR_FILES)

# The reporter's messages (babel.cfg) into the template, then into each language's catalogue;
# translate what comes out empty or fuzzy (tests/test_languages.py fails until then). The
# catalogues are compiled in memory at start-up (candor_reporter/languages.py): no .mo files.
TRANSLATIONS := candor_reporter/translations
translations: install
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ -k t -k lazy_gettext --no-location --sort-output -w 100 \
	  --project=Candor --msgid-bugs-address=- -o $(TRANSLATIONS)/messages.pot .
	for po in $(TRANSLATIONS)/*/LC_MESSAGES/messages.po; do \
	  $(BIN)/pybabel -q update -w 100 -i $(TRANSLATIONS)/messages.pot -o $$po \
	    -l $$(basename $$(dirname $$(dirname $$po))) || exit 1; \
	done

db: install
	$(BIN)/candor db upgrade

# The reporter's command-line client as a wheel of its own (dist/), without the server.
client: install
	$(BIN)/python clients/reporter/build.py dist

run: install vendor db
	@$(BIN)/candor seed-demo
	@echo
	@echo "Candor is starting on http://127.0.0.1:$(PORT)/  (staff sign-in: http://127.0.0.1:$(PORT)/auth/login)"
	@echo "Sign in with a demonstration account above; a code is printed by: $(BIN)/candor totp-code rso"
	@echo "Ctrl-C stops the web app and the scheduler."
	@$(BIN)/candor scheduler & scheduler=$$!; \
	  trap 'kill $$scheduler 2>/dev/null; wait $$scheduler 2>/dev/null' EXIT; \
	  CANDOR_ENV=$${CANDOR_ENV:-development} PORT=$(PORT) \
	    $(BIN)/python -m app.server

lint: install
	$(BIN)/ruff check app crypto candor_reporter clients tests bench migrations/env.py
	$(BIN)/mypy app crypto candor_reporter

# Static security checks of the server and the protocol library; each remaining finding is
# justified inline with `# nosec <id>` and a reason.
security: install
	$(BIN)/bandit -q -c pyproject.toml -r app crypto candor_reporter clients

# Known vulnerabilities in the installed dependencies. Needs PyPI's JSON API over the network,
# so it is not part of `make test`. --strict: a package it could not look up is a failure, not
# a silent pass.
audit: install
	$(BIN)/pip-audit --strict --skip-editable --progress-spinner off

test: install vendor lint security
	$(BIN)/pytest -p no:cacheprovider
	CANDOR_TEST_DATABASE=postgresql $(BIN)/pytest -p no:cacheprovider

# Load, slow clients and faults against Candor's server and PostgreSQL (tests/soak, left out
# of `make test`); SOAK_SECONDS, SOAK_KILLS and SOAK_SLOW_SECONDS shorten them.
soak: install vendor
	CANDOR_SOAK=1 $(BIN)/pytest -p no:cacheprovider tests/soak

# Every benchmark under bench/; the table goes to bench/results.md and bench/results.json.
bench: install vendor
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) app/static-build .pytest_cache .mypy_cache .ruff_cache
