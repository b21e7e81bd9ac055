from __future__ import annotations

from django.apps import AppConfig


class RemittanceConfig(AppConfig):
    name = "remittance"
