"""Log lines name the request or socket they belong to; LOG_FORMAT=json writes JSON lines; the
scheduled jobs' routine lines stay below the default level."""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from unittest import mock

import pytest
from channels.testing import HttpCommunicator

from accounts.models import User
from config.asgi import application  # imported before any test: it configures logging
from core.logs import JsonFormatter, RequestIdFilter, current_id
from tests.conftest import Connect, atoken_for


class Captured(logging.Handler):
    """What the console handler would write, through the same filter."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.addFilter(RequestIdFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> Iterator[Captured]:
    handler = Captured()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


async def _get(path: str, **headers: str) -> tuple[int, dict[str, str]]:
    communicator = HttpCommunicator(application, "GET", path, headers=[
        (b"host", b"localhost"), *((k.lower().encode(), v.encode()) for k, v in headers.items())])
    response = await communicator.get_response(timeout=10)
    return response["status"], {k.decode().lower(): v.decode() for k, v in response["headers"]}


@pytest.mark.django_db(transaction=True)
async def test_an_http_request_has_an_id_in_its_log_lines_and_its_answer(captured: Captured) -> None:
    status, headers = await _get("/no/such/page")  # Django logs "Not Found" for it
    request_id = headers["x-request-id"]
    assert status == 404 and len(request_id) == 16
    lines = [r for r in captured.records if "Not Found" in r.getMessage()]
    assert lines and all(getattr(r, "request_id", "") == request_id for r in lines)

    _, offered = await _get("/healthz", **{"X-Request-ID": "lb-7f3a.42"})
    assert offered["x-request-id"] == "lb-7f3a.42"  # a balancer's id is kept
    _, hostile = await _get("/healthz", **{"X-Request-ID": "x injected=1 " + "a" * 80})
    assert len(hostile["x-request-id"]) == 16 and "injected" not in hostile["x-request-id"]
    assert current_id.get() is None  # nothing leaks past the request


async def test_a_socket_has_one_id_in_all_its_log_lines(connect: Connect, alice: User, captured: Captured) -> None:
    socket = await connect(await atoken_for(alice))
    with mock.patch("accounts.selectors.users_by_ids", side_effect=RuntimeError("boom")):
        first = await socket.call("users.info", {"uIds": [alice.pk]})
        second = await socket.call("users.info", {"uIds": [alice.pk]})
    assert first["code"] == second["code"] == 500
    failures = [r for r in captured.records if "users.info failed" in r.getMessage()]
    assert len(failures) == 2
    ids = {getattr(r, "request_id", "") for r in failures}
    assert len(ids) == 1 and next(iter(ids)).startswith("ws-")
    other = await connect(await atoken_for(alice))
    with mock.patch("accounts.selectors.users_by_ids", side_effect=RuntimeError("boom")):
        await other.call("users.info", {"uIds": [alice.pk]})
    later = [r for r in captured.records if "users.info failed" in r.getMessage()]
    assert getattr(later[-1], "request_id", "") not in ids  # another socket, another id


def test_json_lines_carry_the_id_extra_fields_and_the_traceback() -> None:
    logger = logging.getLogger("test.json")
    record = logger.makeRecord("test.json", logging.ERROR, __file__, 1, "paid %s", ("12.50",), None,
                               extra={"chatId": 7})
    token = current_id.set("ws-abc")
    try:
        RequestIdFilter().filter(record)
        try:
            raise ValueError("bad")
        except ValueError:
            import sys
            record.exc_info = sys.exc_info()
        line = json.loads(JsonFormatter().format(record))
    finally:
        current_id.reset(token)
    assert line["message"] == "paid 12.50" and line["level"] == "ERROR" and line["logger"] == "test.json"
    assert line["requestId"] == "ws-abc" and line["chatId"] == 7
    assert "ValueError: bad" in line["exception"] and line["time"].endswith("+00:00")


def test_scheduled_jobs_routine_lines_are_below_the_default_level() -> None:
    for name in ("celery.app.trace", "celery.worker.strategy", "celery.beat"):
        logger = logging.getLogger(name)
        assert not logger.isEnabledFor(logging.INFO), name  # "Task ... succeeded" every 10 s
        assert logger.isEnabledFor(logging.ERROR), name  # a failed job is still logged
