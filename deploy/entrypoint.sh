#!/bin/sh
# How every production process starts, in the container image and on a plain machine alike:
#
#   deploy/entrypoint.sh server    daphne on $HOST:$PORT (0.0.0.0:8000), HTTP and WebSocket
#   deploy/entrypoint.sh worker    a Celery worker
#   deploy/entrypoint.sh beat      Celery beat (run exactly one)
#   deploy/entrypoint.sh migrate   apply the database migrations, then exit
#   deploy/entrypoint.sh check     Django's deployment checks on this environment, then exit
#
# Settings come from the environment (docs/deploy.md#configuration). The interpreter is
# $PYTHON, else the project's .venv, else python3 on PATH.
set -eu
cd "$(dirname "$0")/.."

if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -x .venv/bin/python ]; then PY=.venv/bin/python
else PY=python3
fi
# daphne's own timeouts, as `make run` sets them (docs/deploy.md#timeouts).
DAPHNE_TIMEOUTS=${DAPHNE_TIMEOUTS:---websocket_connect_timeout 10 --http-timeout 900 --ping-interval 20 --ping-timeout 30 --websocket_timeout 86400}

role=${1:-server}
[ $# -gt 0 ] && shift
case "$role" in
    server)
        if [ "${MIGRATE_ON_START:-false}" = "true" ]; then "$PY" manage.py migrate --noinput; fi
        if [ "${COLLECTSTATIC_ON_START:-false}" = "true" ]; then "$PY" manage.py collectstatic --noinput -v0; fi
        # --proxy-headers: the client's address comes from X-Forwarded-For, which only the
        # load balancer in front may set (it must overwrite what clients send).
        # shellcheck disable=SC2086
        exec "$PY" -m daphne -b "${HOST:-0.0.0.0}" -p "${PORT:-8000}" --proxy-headers $DAPHNE_TIMEOUTS \
            "$@" config.asgi:application
        ;;
    worker) exec "$PY" -m celery -A config worker --loglevel="${LOG_LEVEL:-INFO}" "$@" ;;
    beat) exec "$PY" -m celery -A config beat --loglevel="${LOG_LEVEL:-INFO}" \
              --schedule "${BEAT_SCHEDULE_FILE:-var/celerybeat-schedule}" "$@" ;;
    migrate) exec "$PY" manage.py migrate --noinput "$@" ;;
    check) exec "$PY" manage.py check --deploy --fail-level WARNING "$@" ;;
    *) echo "usage: $0 server|worker|beat|migrate|check [arguments]" >&2; exit 2 ;;
esac
