from __future__ import annotations

from django.apps import AppConfig


class RedpacketsConfig(AppConfig):
    name = "redpackets"
