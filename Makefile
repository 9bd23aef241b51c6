# The two commands: `make run` serves the map, `make test` runs the whole suite.
# Both install what is missing (Debian packages, .venv) and get a PostGIS database.
SHELL := /bin/bash
PORT ?= 5000
VENV := .venv/bin

.PHONY: run test setup setup-test seed bench lint

run: setup
	@url="$${DATABASE_URL:-}"; if [ -z "$$url" ]; then url=$$(scripts/setup.sh database heshan_map) || exit 1; fi; \
	export DATABASE_URL="$$url"; \
	$(VENV)/heshan-map db upgrade && \
	$(VENV)/heshan-map seed --if-empty && \
	exec $(VENV)/heshan-map serve --host 127.0.0.1 --port $(PORT)

test: setup-test
	@url="$${TEST_DATABASE_URL:-}"; if [ -z "$$url" ]; then url=$$(scripts/setup.sh database heshan_map_test) || exit 1; fi; \
	export TEST_DATABASE_URL="$$url"; \
	$(VENV)/python -m pytest $(PYTEST_ARGS)

setup:
	@scripts/setup.sh packages
	@scripts/setup.sh venv

setup-test:
	@scripts/setup.sh packages test
	@scripts/setup.sh venv test

bench: setup-test
	@url="$${TEST_DATABASE_URL:-}"; if [ -z "$$url" ]; then url=$$(scripts/setup.sh database heshan_map_bench) || exit 1; fi; \
	export TEST_DATABASE_URL="$$url"; \
	for b in bench/bench_*.py; do $(VENV)/python $$b || exit 1; done
