"""Test settings: the base settings plus speed-ups that change no behaviour under test.

``make test`` runs the suite on whatever ``DATABASE_URL`` / ``REDIS_URL`` say: PostgreSQL and
channels-redis in CI's first pass, the embedded SQLite / in-memory default in its second.
"""
from __future__ import annotations

import re

from config.env import env, env_bool, env_int
from config.settings.base import *
from config.settings.base import CHANNEL_LAYERS, DATABASES, REDIS_CLIENT_OPTIONS, REDIS_URL, VAR_DIR

# Hashing strength is not under test; a fast hasher keeps the suite quick.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SMS_BACKEND = "accounts.sms.LocmemBackend"
EMBEDDED_BEAT = False
CELERY_TASK_ALWAYS_EAGER = True
# The heartbeat/re-delivery loop (core.resync) runs in the real server processes the fault tests
# start; in-process socket tests drive it by hand.
RESYNC_ENABLED = env_bool("RESYNC_ENABLED", default=False)
# Refusing work under overload depends on how late the event loop runs, which a loaded CI
# machine would trip at random; the overload tests turn it on themselves.
GATEWAY_QUEUE_BUDGET_MS = 0
# Every reply a test receives is held to the method's published reply schema.
RPC_CHECK_REPLIES = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # gateway threads must not keep the test database open
if REDIS_URL:
    # Two suites may run side by side on one Redis (CI and a developer, or two worktrees):
    # TEST_REDIS_PREFIX keeps their channel layers apart (pub/sub ignores the db number) and
    # TEST_CACHE_REDIS_DB gives each its own cache database, which every test clears.
    _prefix = env.str("TEST_REDIS_PREFIX", default="imtest")
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = _prefix
    _cache_db = env_int("TEST_CACHE_REDIS_DB", 15, minimum=0)
    CACHE_REDIS_URL = re.sub(r"/\d*$", "", REDIS_URL.rstrip("/")) + f"/{_cache_db}"  # also presence
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": CACHE_REDIS_URL, "KEY_PREFIX": _prefix,
                          "OPTIONS": dict(REDIS_CLIENT_OPTIONS)}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so end-to-end tests can start a real server process on it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
