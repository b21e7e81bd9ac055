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
    # compatibility switches of the Easemob bridge and the desk
    ("HX_TRUSTED_NETWORKS", "10.0.0.0/8,10.1.0.1/16", "HX_TRUSTED_NETWORKS: '10.1.0.1/16' is not a network in CIDR"),
    ("HX_TRUSTED_NETWORKS", "0.0.0.0/0", "HX_TRUSTED_NETWORKS: '0.0.0.0/0' is every address"),
    ("DESK_TRUSTED_NETWORKS", "office-lan", "DESK_TRUSTED_NETWORKS: 'office-lan' is not a network in CIDR"),
    ("DESK_LEAVE_MESSAGE_ID", "uid:42", "DESK_LEAVE_MESSAGE_ID must be a desk user id"),
    ("ARGON2_MEMORY_KIB", "4096", "ARGON2_MEMORY_KIB must be >= 7168"),
    ("ARGON2_TIME_COST", "1", "ARGON2_MEMORY_KIB * ARGON2_TIME_COST must be at least 35840"),  # 12 MiB x 1
    ("ARGON2_PARALLELISM", "64", "ARGON2_PARALLELISM at most 16"),
    ("LOG_FORMAT", "xml", "LOG_FORMAT must be plain or json"),
    ("DASHBOARD_CACHE_SECONDS", "-1", "DASHBOARD_CACHE_SECONDS must be >= 0"),
    ("DASHBOARD_CACHE_SECONDS", "86400", "DASHBOARD_CACHE_SECONDS must be <= 3600"),
])
def test_bad_values_refuse_to_start(name: str, value: str, message: str) -> None:
    env = {**os.environ, name: value}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run([sys.executable, "-c", LOAD], env=env, cwd=settings.BASE_DIR, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and message in done.stderr


STRONG_KEY = "k3J9-xQ2_vLp8ZrT6wYb1NcHs4MdGf7UaEo0iKj5RtyWq2XzVn8B"  # 52 characters, 40+ distinct


@pytest.mark.parametrize("key", [
    "",  # missing
    "short-but-random-7f3k",  # under 50 characters
    "a" * 60,  # long, one character
    "abcde" * 12,  # long, five characters
    "dev-only-insecure-key-do-not-use-in-production",  # the development key
    "django-insecure-" + STRONG_KEY,  # Django's generated development key
])
def test_a_weak_secret_key_refuses_to_start_without_debug(key: str) -> None:
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": key, "ALLOWED_HOSTS": "im.example.com"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run([sys.executable, "-c", LOAD], env=env, cwd=settings.BASE_DIR, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and "ImproperlyConfigured" in done.stderr
    assert ("SECRET_KEY must be set" if not key else "SECRET_KEY is too weak for DEBUG=false") in done.stderr


# The production settings docs/deploy.md documents (besides the services' URLs).
PRODUCTION = {"DEBUG": "false", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "im.example.com",
              "BEHIND_TLS_PROXY": "true", "SECURE_HSTS_SECONDS": "31536000",
              "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true", "SECURE_HSTS_PRELOAD": "true"}


def test_the_documented_production_settings_pass_check_deploy() -> None:
    env = {**os.environ, **PRODUCTION, "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    done = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env=env,
                          cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_plain_http_is_redirected_behind_a_tls_proxy_but_not_healthz() -> None:
    code = (LOAD + "; from django.test import Client; c = Client(); "
            "print(c.get('/api/v1/me').status_code, c.get('/healthz').status_code, "
            "c.get('/api/v1/me', headers={'X-Forwarded-Proto': 'https'}).status_code)")
    env = {**os.environ, **PRODUCTION, "ALLOWED_HOSTS": "testserver"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR, capture_output=True,
                          text=True, timeout=60)
    redirected, health, secure = done.stdout.split()
    assert redirected == "301" and health != "301" and secure == "401", done.stdout + done.stderr
