"""Run Celery's beat schedule inside the server process (the embedded default).

With no ``REDIS_URL`` there is no broker, worker or beat process: tasks run eagerly, and
this daemon thread fires each entry of ``config.celery``'s schedule when it is due. It
runs off the event loop, so a slow job never stalls a socket.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from celery.schedules import schedule as every
from django.db import close_old_connections
from django.utils import timezone

log = logging.getLogger(__name__)
_started = False
_lock = threading.Lock()


def _entries() -> list[tuple[str, str, object]]:
    from config.celery import app

    app.loader.import_default_modules()  # autodiscovery is lazy outside a worker
    result = []
    for name, entry in app.conf.beat_schedule.items():
        sched = entry["schedule"]
        if isinstance(sched, (int, float)):
            sched = every(timedelta(seconds=sched))
        elif isinstance(sched, timedelta):
            sched = every(sched)
        result.append((name, entry["task"], sched))
    return result


def run_due(last_run: dict[str, object], *, now: object | None = None) -> list[str]:
    """Run every entry that is due; return the names that ran. Exposed for tests."""
    from config.celery import app

    ran = []
    for name, task_name, sched in _entries():
        previous = last_run.get(name)
        if previous is not None and not sched.is_due(previous).is_due:  # type: ignore[attr-defined]
            continue
        last_run[name] = now or timezone.now()
        try:
            app.tasks[task_name].apply().get()
            ran.append(name)
        except Exception:
            log.exception("scheduled job %s failed", name)
    return ran


def _loop() -> None:
    last_run: dict[str, object] = {}
    while True:
        try:
            run_due(last_run)
        finally:
            close_old_connections()  # this thread's connection, like a worker between tasks
        time.sleep(5)


def start() -> None:
    global _started
    with _lock:
        if _started:
            return
        _started = True
    threading.Thread(target=_loop, name="embedded-beat", daemon=True).start()
    log.info("embedded beat started: scheduled jobs run in this process")
