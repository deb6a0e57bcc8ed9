# Laris: `make run` starts the whole system with demo data; `make test` runs every test.
SHELL := /bin/bash
# Python 3.11: python3.11 if it is on the PATH, else python3 (checked when .venv is made).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

export PYTHONPATH := $(CURDIR)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# eventlet announces its own deprecation wherever nameko imports it; nameko 2.14 needs it.
export PYTHONWARNINGS ?= ignore::Warning:nameko.cli.commands,ignore::Warning:nameko.rpc,ignore::Warning:nameko.containers

.PHONY: run test lint unit integration e2e install infra browser migrate demo bench clean

run: install infra migrate ## start every service and the gateway (http://127.0.0.1:8000), demo data loaded
	scripts/run.sh

test: install infra browser lint ## the whole suite, against the real RabbitMQ and PostgreSQL
	$(PY) -m pytest

lint: install ## pyflakes, pycodestyle and bugbear rules (ruff)
	$(VENV)/bin/ruff check .

unit: install ## the pure rules only: no broker, no database
	$(PY) -m pytest tests/unit

integration: install infra
	$(PY) -m pytest tests/integration

e2e: install infra browser
	$(PY) -m pytest tests/e2e

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || \
		{ echo "Python 3.11 is needed: set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

infra: ## make sure RabbitMQ and PostgreSQL answer (starts or installs them when it can)
	scripts/ensure-infra.sh

browser: ## Debian's Chromium for the web pages' browser tests (installed if absent)
	scripts/ensure-chromium.sh

migrate: install infra ## create each service's database and apply its migrations
	$(PY) -m backbone.migrate --all

demo: install ## load the demo data into a running system (idempotent)
	$(PY) -m demodata

bench: install infra ## every bench/*.py: figures against same-run baselines, no assertions
	@for bench in bench/*.py; do echo "== $$bench"; $(PY) $$bench || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
