"""Pluggable SMS backends, chosen by ``SMS_BACKEND`` (a dotted path).

Write a class with ``send(phone, text)`` for a real provider; it is called after the
transaction that created the code has committed, outside any lock.
"""
from __future__ import annotations

import logging
from typing import ClassVar

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class BaseBackend:
    def send(self, phone: str, text: str) -> None:
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Development: prints the message to the server log."""

    def send(self, phone: str, text: str) -> None:
        log.warning("SMS to %s: %s", phone, text)


class LocmemBackend(BaseBackend):
    """Tests: keeps messages in ``LocmemBackend.outbox`` as ``(phone, text)`` pairs."""

    outbox: ClassVar[list[tuple[str, str]]] = []

    def send(self, phone: str, text: str) -> None:
        self.outbox.append((phone, text))


def get_backend() -> BaseBackend:
    backend: BaseBackend = import_string(settings.SMS_BACKEND)()
    return backend
