from __future__ import annotations

from django.apps import AppConfig


class HxbridgeConfig(AppConfig):
    name = "hxbridge"
