"""Malformed configuration stops the server at start-up with a clear message."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

LOAD = "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings.base'; django.setup()"


@pytest.mark.parametrize(("name", "value", "message"), [
    ("AGORA_APP_ID", "not-hex", "AGORA_APP_ID must be 32 hexadecimal characters"),
    ("AGORA_APP_CERTIFICATE", "abc", "AGORA_APP_CERTIFICATE must be 32 hexadecimal characters"),
    ("REDPACKET_MIN_SHARE", "0.0.1", "REDPACKET_MIN_SHARE must be a decimal number"),
    ("CALL_RING_SECONDS", "1", "CALL_RING_SECONDS must be >= 5"),
    ("HX_CLIENT_ID", "YXA6JH8nAJ6nEeixewFFX1ukgw", "HX_CLIENT_ID and HX_CLIENT_SECRET must be set together"),
    ("HX_CLIENT_SECRET", "YXA6bNlbOqkLsI-test-secret", "HX_CLIENT_ID and HX_CLIENT_SECRET must be set together"),
    ("HX_CLIENT_SECRET", "too-short", "HX_CLIENT_SECRET must be at least 16 characters"),
    ("HX_APP_KEY", "no-hash", "HX_APP_KEY must look like org#app"),
])
def test_bad_values_refuse_to_start(name: str, value: str, message: str) -> None:
    env = {**os.environ, name: value}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run([sys.executable, "-c", LOAD], env=env, cwd=settings.BASE_DIR, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and message in done.stderr
