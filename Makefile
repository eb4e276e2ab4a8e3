# The two commands of the quickstart: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint venv migrate seed messages bench load clean

$(STAMP): requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

migrate: venv
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

# Performance figures on the data set in DATABASE_URL (PostgreSQL; see BENCHMARKS.md):
#   DATABASE_URL=postgres://… make bench BENCH_MEMBERS=1000000   (adds that many bulk members first)
BENCH_MEMBERS ?= 0
bench: venv
	@if [ "$(BENCH_MEMBERS)" != "0" ]; then $(BIN)/python manage.py migrate --noinput && \
		$(BIN)/python manage.py seed_bulk --members $(BENCH_MEMBERS) --append; fi
	$(BIN)/python manage.py bench $(BENCH_ARGS)

# The production server under the load mix (BENCHMARKS.md, Load), on the data set in DATABASE_URL:
#   DATABASE_URL=postgres://…/co_bulk make load LOAD_ARGS="--profile throughput"
# locust lives in its own venv (.venv-load): it needs the PyPI "requests", never importable here.
LOAD_VENV := .venv-load
$(LOAD_VENV)/.installed: requirements-load.txt
	test -x $(LOAD_VENV)/bin/python || $(PYTHON) -m venv $(LOAD_VENV)
	$(LOAD_VENV)/bin/python -m pip install --quiet -r requirements-load.txt
	touch $(LOAD_VENV)/.installed

load: venv $(LOAD_VENV)/.installed
	$(BIN)/python loadtest/run.py $(LOAD_ARGS)

run: seed
	$(BIN)/python manage.py serve

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Collect the msgids into locale/{ja,en}/LC_MESSAGES/django.po, then compile the .mo files
# (both committed). How to translate: docs/translations.md.
MESSAGES_IGNORE := --ignore=.venv --ignore=.venv-load --ignore=tests --ignore=var --ignore=node_modules --ignore=staticfiles --ignore=test-artifacts
messages: venv
	$(BIN)/python manage.py makemessages -l ja -l en --no-obsolete --add-location=file $(MESSAGES_IGNORE)
	$(BIN)/python manage.py compilemessages $(MESSAGES_IGNORE)

clean:
	rm -rf $(VENV) $(LOAD_VENV) db.sqlite3* var
