# Fresh machine: `make run` serves everything on 127.0.0.1:8000; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed
# daphne's own timeouts (docs/deploy.md#timeouts), in seconds: a WebSocket handshake until the
# server accepts it, a whole HTTP response, idle time before a keepalive ping and the wait for
# its pong, the longest life of a socket. Slow request heads are cut by HTTP_HEADERS_TIMEOUT.
DAPHNE_TIMEOUTS ?= --websocket_connect_timeout 10 --http-timeout 900 --ping-interval 20 --ping-timeout 30 \
	--websocket_timeout 86400

.PHONY: run test lint install migrate serve worker beat bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The runtime requirements (requirements.txt) and the development tools (requirements-dev.txt);
# a production install takes requirements.txt alone (docs/deploy.md).
$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py seed_demo
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) $(DAPHNE_TIMEOUTS) config.asgi:application

test: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .

# Production layout pieces (need DATABASE_URL and REDIS_URL):
worker: install
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A config beat --loglevel=INFO

# The benchmark table (docs/deploy.md#benchmarks): its own server, embedded or on DATABASE_URL/REDIS_URL.
bench: install
	DAPHNE_TIMEOUTS="$(DAPHNE_TIMEOUTS)" $(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
