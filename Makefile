# kontaktbok: `make demo` serves the demo school, `make test` runs every check.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
UV := $(shell command -v uv >/dev/null 2>&1 && uv --version >/dev/null 2>&1 && command -v uv || echo .tools/bin/uv)
PY := .venv/bin/python
RUN := $(PY) -m kontaktbok.cli
VENDOR := build/static/vendor

.PHONY: rabbitmq demo serve install python-deps assets messages test test-fast lint typecheck pytest system-test-deps pdf-deps bench clean

# The demo keeps what the school would send by e-mail and SMS for its admin to read, and
# starts local stand-ins for ID-porten and Feide (Node, scripts/oidc-standin) for national
# login without the internet (KONTAKTBOK_DEMO_NATIONAL_LOGIN=off leaves them out).
demo: export KONTAKTBOK_DEMO := 1
demo: install pdf-deps
	scripts/rabbitmq-up --optional
	$(RUN) demo
	$(RUN) serve

serve: install pdf-deps
	$(RUN) serve

install: python-deps assets messages
	$(RUN) collectstatic --no-input -v 0

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

python-deps: $(if $(filter .tools/bin/uv,$(UV)),.tools/bin/uv)
	$(UV) sync --frozen --python "$$(scripts/find-python)"

# No install scripts: vnu-jar's would fetch a Java runtime; system-test-deps installs Debian's.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts

assets: node_modules/.package-lock.json
	mkdir -p $(VENDOR)/designsystemet $(VENDOR)/htmx
	cp node_modules/@digdir/designsystemet-css/dist/src/index.css $(VENDOR)/designsystemet/index.css
	cp node_modules/@digdir/designsystemet-css/dist/theme/designsystemet.css $(VENDOR)/designsystemet/designsystemet.css
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/htmx.min.js

messages: python-deps
	command -v msgfmt >/dev/null || (apt-get update -qq && apt-get install -y -qq gettext)
	cd src/kontaktbok && ../../$(PY) -m django compilemessages --settings=kontaktbok.settings -v 0

# Chromium for the browser journeys; Java for the Nu HTML Checker (npm vnu-jar) run on their pages.
system-test-deps: pdf-deps
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core)
	command -v java >/dev/null || (apt-get update -qq && apt-get install -y -qq default-jre-headless)

# RabbitMQ carries Fiks IO's messages between the local stand-ins and the archive tests.
rabbitmq:
	scripts/rabbitmq-up

# WeasyPrint (leave decision letters as PDF) needs Pango, HarfBuzz's subsetter and a font.
pdf-deps:
	(ldconfig -p | grep -q libpangoft2-1.0 && ldconfig -p | grep -q libharfbuzz-subset) || (apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)

lint: python-deps
	$(PY) -m ruff check src tests
	$(PY) -m ruff format --check src tests

typecheck: python-deps
	$(PY) -m mypy

# Tests run in parallel on every core (pytest-xdist; each process has its own test database).
# TEST_CHECKS and TEST_MARK let CI run the lint, the type check and the browser journeys once
# and the rest on each database: `make test TEST_CHECKS= TEST_MARK="not e2e"`.
TEST_CHECKS ?= lint typecheck
TEST_MARK ?=
TEST_WORKERS ?= auto
PYTEST_ARGS ?= --durations=15

pytest: install system-test-deps rabbitmq
	$(PY) -m pytest -n $(TEST_WORKERS) $(if $(TEST_MARK),-m "$(TEST_MARK)") $(PYTEST_ARGS)

test: $(TEST_CHECKS) pytest

# The edit-test loop: no lint, no browser, SQLite only.
test-fast: install
	KONTAKTBOK_DATABASE_URL= $(PY) -m pytest -n $(TEST_WORKERS) -m "not e2e" $(PYTEST_ARGS)

# The morning-peak benchmark, short version (< 5 min on 2 cores; needs PostgreSQL, see
# bench/README.md): prints the table and fails if a speed budget fails.
BENCH_MORNING_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/kontaktbok_bench_morning
bench: install
	$(PY) bench/morning/run.py --database-url $(BENCH_MORNING_DATABASE_URL)

clean:
	rm -rf build .venv .tools node_modules
