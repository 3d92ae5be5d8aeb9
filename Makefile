# Jasyl: `make run` serves the map with demo data; `make test` runs the whole suite.
# Both install what is missing first: Debian packages, the .venv, the npm map assets.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
JASYL := $(VENV)/bin/jasyl
PYTHON ?= python3
APT_PACKAGES := postgresql postgis postgresql-postgis gdal-bin chromium python3-venv python3-dev \
                libpq-dev libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils
PYTEST_ARGS ?=

.PHONY: run test setup system-packages serve serve-production bench bench-tiny lint format clean db-up translations

run: setup db-up
	$(JASYL) demo
	JASYL_ENV=development $(JASYL) serve --host 127.0.0.1 --port 5000

# Line and branch coverage of the four packages ([tool.coverage.*] in pyproject.toml), printed
# at the end; the run fails when the total drops under COVERAGE_FLOOR: 94.0 % (lines and branches
# together) on 2026-12-07, less 1.
COVERAGE_FLOOR ?= 93
COVERAGE := --cov=registry --cov=importers --cov=gis --cov=web --cov-branch \
            --cov-report=term --cov-fail-under=$(COVERAGE_FLOOR)

test: setup
	JASYL_PG_FAST=1 $(JASYL) db up
	JASYL_ENV=test $(PY) -m pytest -n 2 --dist loadfile $(COVERAGE) $(PYTEST_ARGS)

setup: system-packages $(VENV)/.installed web/node_modules/.package-lock.json translations

db-up: setup
	$(JASYL) db up
	$(JASYL) db migrate

# Debian packages: install only those missing, after one apt-get update.
system-packages:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
	  echo "Installing Debian packages:$$missing"; \
	  $$sudo apt-get update && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	npm ci --prefix web --no-audit --no-fund

# The web app's kk/ru/en catalogues: .po files are committed, .mo compiled here (gitignored).
translations: $(VENV)/.installed
	$(VENV)/bin/pybabel -q compile -d web/translations

serve: setup db-up
	JASYL_ENV=development $(JASYL) serve --host 127.0.0.1 --port 5000

# granian, workers from the cores; needs JASYL_SECRET_KEY (see README, "Deploying").
serve-production: setup db-up
	$(JASYL) serve --production --host 127.0.0.1 --port 8000

bench: setup db-up
	$(JASYL) demo
	for b in bench/*.py; do n=$$(basename $$b .py); \
	  case $$n in __init__|harness|import|ledger|locustfile|tiles_ceiling) ;; *) $(PY) -m bench.$$n || exit 1;; esac; done

# Every benchmark at a tiny size (seconds each, figures meaningless) so that none rots: the
# sizes are tests/test_benchmarks_run.py's TINY, which `make test` runs too.
bench-tiny: setup db-up
	JASYL_ENV=test $(PY) -m pytest -p no:xdist -q tests/test_benchmarks_run.py

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	-$(JASYL) db down
	rm -rf $(VENV) web/node_modules .jasyl
