"""The bridge's one table: its admin tokens.

The bridge is a facade and owns no domain data; an admin token is the bridge's own credential
(nothing else in the server has a use for it), so it lives here.
"""
from __future__ import annotations

from django.db import models


class HxToken(models.Model):
    """An admin token from /hx/getToken. Random; only its SHA-256 is stored. It works until it
    expires, and only while the client credentials it was issued for are still the configured
    ones (``credentials_hash``): changing HX_CLIENT_ID / HX_CLIENT_SECRET revokes every token."""

    key_hash = models.CharField(max_length=64, unique=True)
    credentials_hash = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "Easemob bridge admin token"

    def __str__(self) -> str:
        return f"hx token {self.pk} (expires {self.expires_at:%Y-%m-%d %H:%M})"
