# Quick start: `make run` serves the help centre, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# granian's own variables work too (GRANIAN_PORT=8411 make preview), as the README says.
HOST ?= $(or $(GRANIAN_HOST),127.0.0.1)
PORT ?= $(or $(GRANIAN_PORT),8000)
WORKERS ?= $(or $(GRANIAN_WORKERS),2)

.PHONY: run preview lexicons test test-fast lint check translated lock-links bench lock clean system-packages container-packages container-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall when the dependencies or their pins change: what serving needs, and what the
# tests need on top of it (a browser driver, fuzzers, a Dockerfile linter).
$(VENV)/.installed-run: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -c requirements.lock -e .
	touch $@

$(VENV)/.installed: $(VENV)/.installed-run
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
	touch $@

run: $(VENV)/.installed-run
	GRANIAN_HOST=$(HOST) GRANIAN_PORT=$(PORT) GRANIAN_WORKERS=$(WORKERS) $(BIN)/python -m app.serve

# An author's preview of the docs folder (DOCS_DIR, else docs/): drafts are shown and a page
# reloads itself when its file is saved; /preview/<slug> shows its languages side by side.
# It binds 127.0.0.1, and refuses a production-looking PUBLIC_BASE_URL or another address
# unless PREVIEW_ALLOW_PUBLIC=true. Never for production.
preview: $(VENV)/.installed-run
	PREVIEW=true GRANIAN_HOST=$(HOST) GRANIAN_PORT=$(PORT) GRANIAN_WORKERS=1 $(BIN)/python -m app.serve

# axe-core and the Nu HTML Checker, for the browser tests.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Programs the tests drive for real, from Debian's packages (never a downloaded browser):
# installed when missing if run as root, otherwise named.
SYSTEM_PACKAGES := chromium redis-server wrk
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do command -v $$p >/dev/null || missing="$$missing $$p"; done; \
	command -v java >/dev/null || missing="$$missing default-jre-headless"; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -e /usr/share/hunspell/nb_NO.dic ] || missing="$$missing hunspell-no"; \
	[ -e /usr/share/dictd/freedict-eng-nor.dict.dz ] || missing="$$missing dict-freedict-eng-nor"; \
	command -v unmunch >/dev/null || missing="$$missing hunspell-tools"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
		else echo "The tests need:$$missing (sudo apt-get install$$missing)"; exit 1; fi; fi

# Search's word lists (app/search/data/) made again from Debian's hunspell-no (every form
# of its words by hunspell-tools' unmunch) and dict-freedict-eng-nor, and from the Bokmål
# catalogs of the programs it downloads with apt-get (nothing is installed; English words
# that are Bokmål words too are left out); tests/search/test_lexicon.py holds the shipped
# files to what this makes.
lexicons: $(VENV)/.installed-run
	$(BIN)/python -m app.search.derive_lexicons --software

test: system-packages $(VENV)/.installed node_modules/.installed lint
	$(BIN)/python -m pytest

# Everything that needs no server, browser, Redis or PostgreSQL, on two processes: about 90 s, for while
# you work. Bytecode is written so that pytest's rewritten test modules are kept between runs.
test-fast: $(VENV)/.installed
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -n 2 -m "not server and not browser and not redis and not postgres and not container"

# The image built from the Dockerfile and run for real with podman (tests/container): as root,
# with Debian's podman, runc and mmdebstrap (installed when missing). The base image is made
# from Debian's python3 and kept in .cache/container. About 2 minutes; not part of `make test`.
CONTAINER_PACKAGES := podman runc catatonit mmdebstrap uidmap slirp4netns fuse-overlayfs
container-packages:
	@missing=""; for p in $(CONTAINER_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
		else echo "make container-test runs as root and needs:$$missing"; exit 1; fi; fi

container-test: container-packages $(VENV)/.installed
	$(BIN)/python -m pytest -m container tests/container

# Style (ruff), formatting (ruff format) and the layers of app/ (import-linter's contracts in
# pyproject.toml).
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# STRICT=1: warnings (translations the Norwegian page has moved on from, reviews due) fail too.
check: $(VENV)/.installed-run
	FLASK_APP=wsgi $(BIN)/flask check-docs $(if $(filter 1 true yes,$(STRICT)),--strict)

# After checking a translation against its Norwegian page: record what it was translated from
# (`translated_from:` in docs/<lang>/$(SLUG).md; every other byte kept). Commit it with the page.
translated: $(VENV)/.installed-run
	@test -n "$(SLUG)" || (echo "make translated SLUG=<slug>: name the page"; exit 2)
	FLASK_APP=wsgi $(BIN)/flask translated $(SLUG)

# Add the addresses published since (new slugs, aliases, context keys) to docs/_links.lock;
# never removes a line. Commit the file with the pages.
lock-links: $(VENV)/.installed-run
	FLASK_APP=wsgi $(BIN)/flask lock-links

# Re-pin every dependency to the newest versions the ranges in pyproject.toml allow.
lock: | $(BIN)/python
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet '.[test]'
	build/lock-venv/bin/pip freeze --exclude avatarify-help > requirements.lock
	rm -rf build/lock-venv

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis node_modules test-artifacts

# Benchmark against nginx with wrk (installs both from Debian's packages when missing).
bench: $(VENV)/.installed
	command -v wrk >/dev/null && command -v nginx >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light)
	$(BIN)/python -m bench.run
