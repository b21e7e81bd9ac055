"""Prometheus metrics, served at ``/metrics`` when ``METRICS_ENABLED`` is on (docs/deploy.md#metrics).

With several server processes on a machine, set ``PROMETHEUS_MULTIPROC_DIR`` (an empty
directory, emptied before the processes start) for every process: each writes its figures
there and ``/metrics`` of any of them answers the sum of all.
"""
from __future__ import annotations

import functools
import hmac
import os
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

SOCKETS = Gauge("im_sockets_open", "WebSocket connections open, by protocol (native, jim)", ["protocol"],
                multiprocess_mode="livesum")
FRAMES_IN = Counter("im_frames_in_total", "frames received on sockets, by protocol", ["protocol"])
FRAMES_OUT = Counter("im_frames_out_total", "frames sent on sockets (replies and pushes), by protocol", ["protocol"])
METHOD_SECONDS = Histogram("im_method_seconds", "time from a method call to its answer, by method, answer code and "
                           "transport (ws, rest)", ["method", "code", "transport"], buckets=_LATENCY)
MESSAGES_STORED = Counter("im_messages_stored_total", "messages committed, by path (ordinary, batched)", ["path"])
PUSHES = Counter("im_pushes_total", "pushes handed to the channel layer after commit, by event", ["event"])
PUBLISH_SECONDS = Histogram("im_channel_layer_publish_seconds", "time to publish one batch of pushes to the "
                            "channel layer", buckets=_LATENCY)
JOBS = Counter("im_jobs_total", "scheduled job runs, by job and outcome (ok, failed)", ["job", "outcome"])


@functools.lru_cache(maxsize=4096)  # methods and codes are few; the bound is a guard
def _call_series(method: str, code: int, transport: str) -> Any:
    return METHOD_SECONDS.labels(method, str(code), transport)


def observe_call(method: str, code: int, transport: str, started: float) -> None:
    _call_series(method, code, transport).observe(time.monotonic() - started)


@functools.cache
def frames_in(protocol: str) -> Any:
    """The labelled counter, looked up once (it is counted on every frame)."""
    return FRAMES_IN.labels(protocol)


@functools.cache
def frames_out(protocol: str) -> Any:
    return FRAMES_OUT.labels(protocol)


class _PoolCollector(Collector):
    """The database connection pool of this process, read at scrape time (PostgreSQL only).
    It reads the pool only if one exists: it never opens one (registering a collector asks it
    for its metrics, at import, before the tests have switched to their own database)."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield self._family()

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily("im_db_pool_connections", "this process's database pool: connections by "
                                 "state (size, available, waiting requests)", labels=["state"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = self._family()
        pool = _existing_pool()
        stats: dict[str, Any] = pool.get_stats() if pool is not None else {}
        for state, key in (("size", "pool_size"), ("available", "pool_available"), ("waiting", "requests_waiting")):
            if key in stats:
                family.add_metric([state], stats[key])
        yield family


def _existing_pool() -> Any:
    from django.db import connections

    wrapper = connections["default"]
    pools = getattr(type(wrapper), "_connection_pools", None)  # PostgreSQL's pools, by alias
    return pools.get(wrapper.alias) if pools else None


_pool_collector = _PoolCollector()
REGISTRY.register(_pool_collector)


def _job_finished(sender: Any = None, task: Any = None, state: str | None = None, **_: Any) -> None:
    name = getattr(task, "name", None) or getattr(sender, "name", "unknown")
    JOBS.labels(name, "ok" if state == "SUCCESS" else "failed").inc()


def connect_job_signals() -> None:
    """Count every Celery task run (the worker's, and the embedded beat's eager ones)."""
    from celery.signals import task_postrun

    task_postrun.connect(_job_finished, weak=False, dispatch_uid="im-metrics-jobs")


def _authorized(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return True
    offered = request.headers.get("Authorization", "")
    return offered.startswith("Bearer ") and hmac.compare_digest(offered[7:].encode(), token.encode())


def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics: 404 unless METRICS_ENABLED; with METRICS_TOKEN, only with that bearer token."""
    if not settings.METRICS_ENABLED:
        return HttpResponse(status=404)
    if not _authorized(request):
        return HttpResponse(status=401, headers={"WWW-Authenticate": "Bearer"})
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(_pool_collector)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
