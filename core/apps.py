from __future__ import annotations

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "core"

    def ready(self) -> None:
        # Every app registers its socket methods from its own rpc.py.
        autodiscover_modules("rpc")
