"""Settings shared by every deployment.

Production differs only through the environment (see ``.env.example``):

* no ``DATABASE_URL`` / ``REDIS_URL``: the embedded default. SQLite under ``var/``,
  the in-memory channel layer, a local-memory cache, Celery tasks run eagerly and the
  beat schedule runs inside the server process (``core.embedded_beat``).
* ``DATABASE_URL=postgres://...``: PostgreSQL through psycopg 3.
* ``REDIS_URL=redis://...``: channels-redis, the Django cache and the Celery broker;
  run ``celery worker`` and ``celery beat`` beside the daphne processes.
"""
from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from config.env import BASE_DIR, env, env_bool, env_decimal, env_int, env_networks

VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

DEBUG = env_bool("DEBUG", default=True)
DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = DEV_SECRET_KEY
if not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 20 or SECRET_KEY == DEV_SECRET_KEY
                  or SECRET_KEY.startswith("django-insecure-")):
    # The same bar as Django's own deploy check (security.W009), with more distinct characters
    # required: a weak key lets anyone forge the admin's sessions.
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak for DEBUG=false: it must be at least 50 random characters with at "
        "least 20 different ones, and not the development key; generate one with "
        "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "core",
    "accounts",
    "wallet",
    "redpackets",
    "remittance",
    "calls",
    "chats",
    "messaging",
    "reports",
    "hxbridge",
    "webchat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ClientAddressMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env.str("DATABASE_URL", default="")
DATABASES: dict[str, dict[str, Any]]
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR_DIR / "db.sqlite3"}}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN
    # so two writers queue on busy_timeout instead of failing with "database is locked".
    _db.setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
         "transaction_mode": "IMMEDIATE", "timeout": 20}
    )
    # Keep each thread's connection (opening one costs ~1 ms); a finished thread's
    # connection is closed when the thread's locals are freed.
    _db["CONN_MAX_AGE"] = None
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # One psycopg pool per process, shared by the HTTP request threads and the gateway's
    # threads: a thread returns its connection after each call instead of closing it.
    # (Persistent per-thread connections would leak under ASGI, which runs every HTTP
    # request on a new thread, and health checks would cost a round trip per call.)
    # While PostgreSQL is away a call waits at most DB_POOL_TIMEOUT for a connection, then
    # answers 503 "retry" (the same wait covers a pool busy under load, hence not shorter);
    # every checkout tests its connection (a restart leaves the pooled
    # ones dead), and a failed reconnection gives up after DB_RECONNECT_SECONDS so the next
    # call tries afresh: the server serves again within a second or two of the database's return.
    _db["CONN_MAX_AGE"] = 0
    _db_options = _db.setdefault("OPTIONS", {})
    _db_options.setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 3, minimum=1))
    _db_options["pool"] = {
        "min_size": env_int("DB_POOL_MIN_SIZE", 2, minimum=0),
        "max_size": env_int("DB_POOL_MAX_SIZE", 20, minimum=1),
        "timeout": env_int("DB_POOL_TIMEOUT", 10, minimum=1),
        "reconnect_timeout": env_int("DB_RECONNECT_SECONDS", 1, minimum=1),
    }
    _db["CONN_HEALTH_CHECKS"] = True  # Django then gives the pool ConnectionPool.check_connection
else:
    raise ImproperlyConfigured(f"DATABASE_URL must be PostgreSQL or SQLite, got {_db['ENGINE']}")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, cache, Celery -------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# Each use of Redis can move to its own server; all default to REDIS_URL.
CHANNEL_LAYER_REDIS_URL = env.str("CHANNEL_LAYER_REDIS_URL", default=REDIS_URL)
CACHE_REDIS_URL = env.str("CACHE_REDIS_URL", default=REDIS_URL)
EMBEDDED = not REDIS_URL
# Every Redis client (channel layer, cache and throttles, presence, socket counters, Celery's
# broker) gives up on a connect after REDIS_CONNECT_TIMEOUT and on a reply after
# REDIS_SOCKET_TIMEOUT seconds, so a hung Redis costs a request seconds, never a stalled thread.
REDIS_CONNECT_TIMEOUT = env_int("REDIS_CONNECT_TIMEOUT", 1, minimum=1)
REDIS_SOCKET_TIMEOUT = env_int("REDIS_SOCKET_TIMEOUT", 2, minimum=1)
REDIS_CLIENT_OPTIONS: dict[str, Any] = {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
                        "socket_timeout": REDIS_SOCKET_TIMEOUT}
# While Redis is away each degraded area logs at most once per this many seconds.
REDIS_DEGRADED_LOG_SECONDS = env_int("REDIS_DEGRADED_LOG_SECONDS", 60, minimum=1)
# After a Redis failure, presence, rate limits and socket counters skip Redis (answering as if
# it were empty) for this many seconds before trying again; sockets re-join their groups then.
REDIS_RETRY_SECONDS = env_int("REDIS_RETRY_SECONDS", 3, minimum=1)
# /healthz gives each check this long (seconds) and answers 503 for one that takes longer.
HEALTHZ_TIMEOUT_SECONDS = env_int("HEALTHZ_TIMEOUT_SECONDS", 2, minimum=1)
# Redis pub/sub ignores the db number, so deployments sharing one Redis are kept apart by a
# prefix on every channel, group, cache and presence key: DEPLOYMENT_NAME, or by default one
# derived from the database name and REDIS_URL's db number (two deployments that differ in
# either never see each other's traffic).
DEPLOYMENT_NAME = env.str("DEPLOYMENT_NAME", default="")
if DEPLOYMENT_NAME and not re.fullmatch(r"[A-Za-z0-9_.\-]{1,40}", DEPLOYMENT_NAME):
    raise ImproperlyConfigured("DEPLOYMENT_NAME must be 1-40 letters, digits, '_', '.' or '-'")
_db_label = re.sub(r"[^A-Za-z0-9_.\-]", "_", str(_db["NAME"]).rsplit("/", 1)[-1])[:40]
_redis_db = re.search(r"/(\d+)/?$", REDIS_URL)
DEPLOYMENT_PREFIX = DEPLOYMENT_NAME or f"im-{_db_label}-{_redis_db.group(1) if _redis_db else '0'}"
CHANNEL_LAYERS: dict[str, dict[str, Any]]
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    # Pub/sub: a group send is one PUBLISH and Redis pushes it to the subscribed processes
    # (the list-based RedisChannelLayer polls one message per round trip; measured pushes
    # seconds late under load). A push to a socket that is gone is simply dropped: messages
    # are durable in the database and clients catch up with messages.sync.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "core.channel_layer.PubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": CHANNEL_LAYER_REDIS_URL, **REDIS_CLIENT_OPTIONS}],
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="") or DEPLOYMENT_PREFIX,
            },
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": CACHE_REDIS_URL, "KEY_PREFIX": DEPLOYMENT_PREFIX,
                          "OPTIONS": dict(REDIS_CLIENT_OPTIONS)}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "core.channel_layer.InMemoryLayer",
                                  "CONFIG": {"capacity": 1000, "expiry": 60}}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
                                   "socket_timeout": REDIS_SOCKET_TIMEOUT}
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_CONNECT_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_TASK_DEFAULT_QUEUE = DEPLOYMENT_PREFIX  # deployments sharing a broker never run each other's tasks
CELERY_TASK_ALWAYS_EAGER = EMBEDDED
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# Embedded mode runs the beat schedule in a thread of the server process.
EMBEDDED_BEAT = env_bool("EMBEDDED_BEAT", default=EMBEDDED)

# --- Auth and passwords --------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Django's backend with the password-attempt limits of every other login (accounts/backends.py).
AUTHENTICATION_BACKENDS = ["accounts.backends.ThrottledModelBackend"]
AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []  # policy lives in accounts.services
# New hashes are Argon2id (accounts/hashers.py); the others only verify older hashes, and a
# right password stored with one of them, or with other Argon2 parameters, is re-hashed at
# its next check (accounts.passwords.verify_and_upgrade). Cost measured on a 2-core Xeon:
# 23-31 ms of CPU per hash (PBKDF2's 1,000,000 iterations: 340-530 ms); docs/deploy.md.
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# OWASP's Argon2id minimums are the pairs (MiB, passes) (46, 1), (19, 2), (12, 3), (9, 4),
# (7, 5): at least 7 MiB, and memory × passes at least 35 MiB. Lower settings are refused.
ARGON2_TIME_COST = env_int("ARGON2_TIME_COST", 3, minimum=1)
ARGON2_MEMORY_KIB = env_int("ARGON2_MEMORY_KIB", 12 * 1024, minimum=7 * 1024)
ARGON2_PARALLELISM = env_int("ARGON2_PARALLELISM", 1, minimum=1)
if ARGON2_TIME_COST > 20 or ARGON2_MEMORY_KIB > 1024 * 1024 or ARGON2_PARALLELISM > 16:
    raise ImproperlyConfigured("ARGON2_TIME_COST must be at most 20, ARGON2_MEMORY_KIB at most 1048576 "
                               "(1 GiB) and ARGON2_PARALLELISM at most 16")
if ARGON2_MEMORY_KIB * ARGON2_TIME_COST < 35 * 1024:
    raise ImproperlyConfigured(
        f"ARGON2_MEMORY_KIB * ARGON2_TIME_COST must be at least 35840 (OWASP's Argon2id minimum, e.g. "
        f"12288 × 3 or 19456 × 2), got {ARGON2_MEMORY_KIB} * {ARGON2_TIME_COST}")
AUTH_TOKEN_TTL_SECONDS = env_int("AUTH_TOKEN_TTL_SECONDS", 30 * 86400, minimum=60)
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_LOCK_SECONDS = env_int("LOGIN_LOCK_SECONDS", 900, minimum=1)
# Wrong password checks of any kind (login, change password, payment password, the admin's
# login form, the bridge's client credentials) from one client address within their window.
PASSWORD_ATTEMPTS_PER_IP = env_int("PASSWORD_ATTEMPTS_PER_IP", 50, minimum=1)
REGISTER_PER_IP_PER_HOUR = env_int("REGISTER_PER_IP_PER_HOUR", 30, minimum=1)

# --- SMS ---------------------------------------------------------------------------------
SMS_BACKEND = env.str("SMS_BACKEND", default="accounts.sms.ConsoleBackend")
SMS_CODE_TTL_SECONDS = env_int("SMS_CODE_TTL_SECONDS", 300, minimum=30)
SMS_RESEND_SECONDS = env_int("SMS_RESEND_SECONDS", 60, minimum=0)
SMS_MAX_ATTEMPTS = env_int("SMS_MAX_ATTEMPTS", 5, minimum=1)
SMS_DAILY_LIMIT = env_int("SMS_DAILY_LIMIT", 10, minimum=1)

# --- WebSocket gateway ---------------------------------------------------------------------
# The largest message content, UTF-8 JSON bytes: 128 KiB, as the RongCloud-era im/* API documents
# ("128k"). Defined here because the socket's frame limit below is derived from it.
MESSAGE_MAX_CONTENT_BYTES = env_int("MESSAGE_MAX_CONTENT_BYTES", 128 * 1024, minimum=256)
# By default a frame fits the largest content even when the client's JSON encoder writes every
# non-ASCII character as a \uXXXX escape (up to 3 times its UTF-8 size), plus the envelope.
WS_MAX_FRAME_BYTES = env_int("WS_MAX_FRAME_BYTES", 3 * MESSAGE_MAX_CONTENT_BYTES + 4096, minimum=1024)
if WS_MAX_FRAME_BYTES < MESSAGE_MAX_CONTENT_BYTES + 4096:
    raise ImproperlyConfigured("WS_MAX_FRAME_BYTES must be at least MESSAGE_MAX_CONTENT_BYTES + 4096 (the envelope), "
                               "or the socket would refuse messages the server accepts elsewhere")
# Larger messages are refused by the transport itself (close 1009) before being buffered.
WS_TRANSPORT_MAX_BYTES = env_int("WS_TRANSPORT_MAX_BYTES", max(4 * WS_MAX_FRAME_BYTES, 1024 * 1024),
                                 minimum=WS_MAX_FRAME_BYTES)
# Client JSON on every protocol (core.jsonwire.loads): deepest nesting, most digits in one
# number, largest exponent (+-) a number may be written with. Anything beyond is a bad request.
JSON_MAX_DEPTH = env_int("JSON_MAX_DEPTH", 32, minimum=2)
JSON_MAX_NUMBER_DIGITS = env_int("JSON_MAX_NUMBER_DIGITS", 64, minimum=20)
JSON_MAX_NUMBER_EXPONENT = env_int("JSON_MAX_NUMBER_EXPONENT", 64, minimum=20)
WS_RATE_PER_SECOND = env_int("WS_RATE_PER_SECOND", 30, minimum=1)
WS_RATE_BURST = env_int("WS_RATE_BURST", 60, minimum=1)
WS_GROUP_REFRESH_SECONDS = env_int("WS_GROUP_REFRESH_SECONDS", 3600, minimum=60)
# Threads (and so database connections) per server process for socket methods. More is
# not faster: ORM work holds the GIL, and every extra busy thread delays the event loop
# (measured on 2 cores: 8 threads pushed messages seconds late, 4 kept them on time).
# Scale with more server processes instead.
GATEWAY_DB_THREADS = env_int("GATEWAY_DB_THREADS", 4, minimum=1)
# A socket method that would wait longer than this for a gateway thread (estimated from the
# queue and the recent time per call) is refused at once with 503 "server busy, retry".
# 0 (the default for now): never refused; the estimate still refuses some calls at moderate
# load on a 2-core machine (docs/deploy.md#overload).
# Prometheus metrics at /metrics (core.metrics): off by default; METRICS_TOKEN, when set, must
# come as "Authorization: Bearer <token>".
METRICS_ENABLED = env_bool("METRICS_ENABLED", default=False)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Check every socket and REST reply against the method's published reply schema (core.contract);
# a reply that breaks it answers 500. For tests and staging: it costs time on every call.
RPC_CHECK_REPLIES = env_bool("RPC_CHECK_REPLIES", default=False)
GATEWAY_QUEUE_BUDGET_MS = env_int("GATEWAY_QUEUE_BUDGET_MS", 500, minimum=0)
WS_CHECK_ORIGIN = env_bool("WS_CHECK_ORIGIN", default=True)
WS_ALLOWED_ORIGINS = env.list("WS_ALLOWED_ORIGINS", default=[])
RELAY_MAX_RECIPIENTS = env_int("RELAY_MAX_RECIPIENTS", 100, minimum=1)
# Limits above one socket (docs/deploy.md#abuse-limits). Open sockets are counted across
# processes (Redis) per user, per client address and for anonymous sockets per address; 0
# turns an address cap off (e.g. many users behind one NAT). A refused socket is closed with 4029.
WS_MAX_SOCKETS_PER_USER = env_int("WS_MAX_SOCKETS_PER_USER", 10, minimum=1)
WS_MAX_SOCKETS_PER_ADDRESS = env_int("WS_MAX_SOCKETS_PER_ADDRESS", 200, minimum=0)
WS_MAX_ANONYMOUS_PER_ADDRESS = env_int("WS_MAX_ANONYMOUS_PER_ADDRESS", 10, minimum=0)
WS_MAX_ANONYMOUS_SOCKETS = env_int("WS_MAX_ANONYMOUS_SOCKETS", 1000, minimum=1)  # per server process
# Frames per user over all of the user's sockets in one process (token bucket); more answer 429.
WS_USER_RATE_PER_SECOND = env_int("WS_USER_RATE_PER_SECOND", 50, minimum=1)
WS_USER_RATE_BURST = env_int("WS_USER_RATE_BURST", 100, minimum=1)
# Across processes (cache counters): messages a user sends per minute, on every protocol, and
# system.relayData recipients per user per minute.
MESSAGES_PER_MINUTE = env_int("MESSAGES_PER_MINUTE", 300, minimum=1)
RELAY_RECIPIENTS_PER_MINUTE = env_int("RELAY_RECIPIENTS_PER_MINUTE", 1200, minimum=1)
# messages.send on the native socket is stored in batches (one transaction, one thread hop and,
# on PostgreSQL, two round trips per batch; docs/deploy.md#message-batches): at most
# MESSAGES_BATCH_MAX sends per batch, MESSAGES_BATCH_CONCURRENCY batches in the database at once
# per process. False stores each send on its own, as REST does.
MESSAGES_BATCHED = env_bool("MESSAGES_BATCHED", True)
MESSAGES_BATCH_MAX = env_int("MESSAGES_BATCH_MAX", 100, minimum=1)
MESSAGES_BATCH_CONCURRENCY = env_int("MESSAGES_BATCH_CONCURRENCY", 2, minimum=1)
# A socket's consecutive sends run at once (joining the same batches), at most this many; 1:
# each waits for the one before it.
WS_PIPELINE_DEPTH = env_int("WS_PIPELINE_DEPTH", 16, minimum=1, maximum=256)
# redpacket.get on the native socket, on PostgreSQL, is paid in batches the same way: a fixed
# number of set-based statements per batch, however many grabs it holds.
# A push to at least this many users (a group message, the last grab of a red packet) is
# published once to every server process, which hands it to its own sockets of those users,
# instead of once per user (docs/deploy.md#fan-out). 0: always once per user.
FANOUT_BROADCAST_MIN = env_int("FANOUT_BROADCAST_MIN", 8, minimum=0)
REDPACKET_GRABS_BATCHED = env_bool("REDPACKET_GRABS_BATCHED", True)
REDPACKET_GRAB_BATCH_MAX = env_int("REDPACKET_GRAB_BATCH_MAX", 200, minimum=1)
REDPACKET_GRAB_BATCH_CONCURRENCY = env_int("REDPACKET_GRAB_BATCH_CONCURRENCY", 2, minimum=1)
# Twisted-level HTTP timeouts daphne does not expose (core/gateway/transport.py): a request's
# line and headers (and a WebSocket upgrade's whole request) must arrive within
# HTTP_HEADERS_TIMEOUT seconds of its first byte; a connection silent for HTTP_IDLE_TIMEOUT
# seconds (between requests, or in a request body) is closed.
HTTP_HEADERS_TIMEOUT = env_int("HTTP_HEADERS_TIMEOUT", 10, minimum=1)
HTTP_IDLE_TIMEOUT = env_int("HTTP_IDLE_TIMEOUT", 60, minimum=1)
PRESENCE_TTL_SECONDS = env_int("PRESENCE_TTL_SECONDS", 120, minimum=10)
PRESENCE_TOUCH_SECONDS = env_int("PRESENCE_TOUCH_SECONDS", 30, minimum=1)
if PRESENCE_TOUCH_SECONDS >= PRESENCE_TTL_SECONDS:
    raise ImproperlyConfigured("PRESENCE_TOUCH_SECONDS must be below PRESENCE_TTL_SECONDS")
# Closed sockets are settled (presence, last seen, offline pushes, socket counts) in batches of
# at most this many.
DEPARTURES_BATCH = env_int("DEPARTURES_BATCH", 500, minimum=1)
# With Redis, every server process heartbeats every PROCESS_HEARTBEAT_SECONDS; one silent for
# PROCESS_DEAD_SECONDS is taken for dead: its sockets go offline and the messages of its last
# seconds are re-delivered. After a Redis failure, messages created from RESYNC_MARGIN_SECONDS
# before it until Redis answered are re-delivered to every open socket that has not seen them
# (at most RESYNC_MAX_SPAN_SECONDS back); a socket owed more than RESYNC_MAX_MESSAGES is closed
# with 1012 so that its client reconnects and syncs (core/resync.py, docs/deploy.md).
RESYNC_ENABLED = env_bool("RESYNC_ENABLED", default=True)
PROCESS_HEARTBEAT_SECONDS = env_int("PROCESS_HEARTBEAT_SECONDS", 2, minimum=1)
PROCESS_DEAD_SECONDS = env_int("PROCESS_DEAD_SECONDS", 10, minimum=3)
if PROCESS_DEAD_SECONDS < 3 * PROCESS_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured("PROCESS_DEAD_SECONDS must be at least three heartbeats")
RESYNC_MARGIN_SECONDS = env_int("RESYNC_MARGIN_SECONDS", 10, minimum=1)
RESYNC_MAX_SPAN_SECONDS = env_int("RESYNC_MAX_SPAN_SECONDS", 900, minimum=60)
RESYNC_MAX_MESSAGES = env_int("RESYNC_MAX_MESSAGES", 200, minimum=1)
PAYMENT_PASSWORD_MAX_FAILURES = env_int("PAYMENT_PASSWORD_MAX_FAILURES", 5, minimum=1)
PAYMENT_LOCK_SECONDS = env_int("PAYMENT_LOCK_SECONDS", 900, minimum=1)
# An exchange offer not accepted within this many seconds expires and is refunded (the older im/* document: 24 h).
EXCHANGE_EXPIRE_SECONDS = env_int("EXCHANGE_EXPIRE_SECONDS", 24 * 3600, minimum=60)
# The im/* facade's money methods carry no request id: an identical request (same user, same
# parameters) within this many seconds is taken for a retry and answered with the first
# result (docs/im.md). 0 turns this off: every such request then moves money.
IM_MONEY_RETRY_SECONDS = env_int("IM_MONEY_RETRY_SECONDS", 60, minimum=0)
if IM_MONEY_RETRY_SECONDS > 3600:
    raise ImproperlyConfigured("IM_MONEY_RETRY_SECONDS must be at most 3600 (an hour)")
# --- im/* compatibility switches (docs/im.md#compatibility) ---
# Which generation of the RongCloud-era im/* API the apps were built for: "newer" (default;
# success is status 0 everywhere) or "older" (im/get_token answers status 1 on success, as that
# generation documents). Methods only the older generation has always answer its status 1.
IM_API_GENERATION = env.str("IM_API_GENERATION", default="newer")
if IM_API_GENERATION not in ("newer", "older"):
    raise ImproperlyConfigured('IM_API_GENERATION must be "newer" or "older"')
# Off (default): im/msg_redpack_publish needs wallet_pwd. On: a red packet (wrap 1) sent without
# any wallet_pwd parameter is authorised by the login session alone (apps of the newer
# generation had no payment password). Risk: a stolen session_key can spend the balance.
IM_REDPACK_WITHOUT_PASSWORD = env_bool("IM_REDPACK_WITHOUT_PASSWORD", default=False)
# RC:VcMsg voice notes sent inline (base64 AMR in content): the largest decoded audio accepted
# (96 KiB: 60 s of AMR-NB); 0 refuses inline audio (upload it through /api/v1/media instead).
IM_VOICE_INLINE_MAX_BYTES = env_int("IM_VOICE_INLINE_MAX_BYTES", 96 * 1024, minimum=0)
# ---
# Calls (the native API document call.*): Agora project credentials for call.token.create (empty: the method
# answers 503), token lifetime, how long invitees ring, and the most invitees per call.
AGORA_APP_ID = env.str("AGORA_APP_ID", default="")
AGORA_APP_CERTIFICATE = env.str("AGORA_APP_CERTIFICATE", default="")
AGORA_TOKEN_EXPIRE_SECONDS = env_int("AGORA_TOKEN_EXPIRE_SECONDS", 3600, minimum=60)
for _name, _value in (("AGORA_APP_ID", AGORA_APP_ID), ("AGORA_APP_CERTIFICATE", AGORA_APP_CERTIFICATE)):
    if _value and not re.fullmatch(r"[0-9a-fA-F]{32}", _value):
        raise ImproperlyConfigured(f"{_name} must be 32 hexadecimal characters (from the Agora console)")
CALL_RING_SECONDS = env_int("CALL_RING_SECONDS", 60, minimum=5)
# The longest a call may last: RTC tokens of an answered call end by then, and the ring job
# closes the call when it is reached.
CALL_MAX_SECONDS = env_int("CALL_MAX_SECONDS", 4 * 3600, minimum=300)
CALL_MAX_INVITEES = env_int("CALL_MAX_INVITEES", 16, minimum=1)
# Per-user limits of single methods (every protocol; more answer 429): calls started per minute,
# remittance reminders per hour, exchange offers published per hour.
CALL_CREATE_PER_MINUTE = env_int("CALL_CREATE_PER_MINUTE", 10, minimum=1)
REMITTANCE_REMIND_PER_HOUR = env_int("REMITTANCE_REMIND_PER_HOUR", 10, minimum=1)
EXCHANGE_PUBLISH_PER_HOUR = env_int("EXCHANGE_PUBLISH_PER_HOUR", 30, minimum=1)
REPORTS_PER_HOUR = env_int("REPORTS_PER_HOUR", 20, minimum=1)  # reports.create per user per hour
# Easemob bridge (the Easemob bridge document, /hx/*, docs/hxbridge.md): the client credentials a back office trades
# for an admin token at /hx/getToken (both unset: the bridge gives out no token, so refuses every
# call), the token lifetime, getToken attempts per client IP per hour, and the "org#app" app key
# that Easemob-shaped replies name.
HX_CLIENT_ID = env.str("HX_CLIENT_ID", default="")
HX_CLIENT_SECRET = env.str("HX_CLIENT_SECRET", default="")
HX_TOKEN_EXPIRE_SECONDS = env_int("HX_TOKEN_EXPIRE_SECONDS", 7 * 86400, minimum=60)
HX_TOKEN_PER_IP_PER_HOUR = env_int("HX_TOKEN_PER_IP_PER_HOUR", 60, minimum=1)
HX_APP_KEY = env.str("HX_APP_KEY", default="im#im")
if HX_CLIENT_SECRET and len(HX_CLIENT_SECRET) < 16:
    raise ImproperlyConfigured("HX_CLIENT_SECRET must be at least 16 characters")
if bool(HX_CLIENT_ID) != bool(HX_CLIENT_SECRET):
    raise ImproperlyConfigured("HX_CLIENT_ID and HX_CLIENT_SECRET must be set together (or neither)")
if not re.fullmatch(r"[A-Za-z0-9_\-]+#[A-Za-z0-9_\-]+", HX_APP_KEY):
    raise ImproperlyConfigured("HX_APP_KEY must look like org#app (letters, digits, '_', '-')")
# Easemob bridge compatibility (docs/hxbridge.md#compatibility): networks (CIDRs, comma-separated)
# whose back offices may call /hx/getToken without client credentials, as the Easemob document
# shows. Default none: every caller sends the credentials. The client address is REMOTE_ADDR.
HX_TRUSTED_NETWORKS = env_networks("HX_TRUSTED_NETWORKS")
# Red packets (the native API document codes 401/402/403 name these limits: 1000 shares, 0.01 and 200 a share).
REDPACKET_MAX_COUNT = env_int("REDPACKET_MAX_COUNT", 1000, minimum=1)
REDPACKET_MIN_SHARE = env_decimal("REDPACKET_MIN_SHARE", "0.01", minimum="0.000000000000000001")
REDPACKET_MAX_SHARE = env_decimal("REDPACKET_MAX_SHARE", "200", minimum="0.000000000000000001")
REDPACKET_EXPIRE_SECONDS = env_int("REDPACKET_EXPIRE_SECONDS", 24 * 3600, minimum=60)
# Remittances (the native API document remittance.*): the largest single amount of the default coin (code 402
# above it), and how long one waits for the payee before it is refunded to the payer.
REMITTANCE_MAX_AMOUNT = env_int("REMITTANCE_MAX_AMOUNT", 50000, minimum=1)
REMITTANCE_EXPIRE_SECONDS = env_int("REMITTANCE_EXPIRE_SECONDS", 24 * 3600, minimum=60)
# Money columns: 20 integer digits and 18 places (enough for any coin's decimals).
MONEY_MAX_DIGITS = 38
MONEY_DECIMAL_PLACES = 18
CHAT_MAX_MEMBERS = env_int("CHAT_MAX_MEMBERS", 2000, minimum=2)
# Per user per hour (cache counters, every protocol): new groups, and users put into groups
# (at creation or added) plus invite links made.
GROUP_CREATE_PER_HOUR = env_int("GROUP_CREATE_PER_HOUR", 20, minimum=1)
GROUP_INVITES_PER_HOUR = env_int("GROUP_INVITES_PER_HOUR", 500, minimum=1)
MESSAGE_RECALL_SECONDS = env_int("MESSAGE_RECALL_SECONDS", 120, minimum=0)
# The customer-service desk (the J-IM document, docs/jim.md): the shared secret the property app's server
# sends as X-Desk-Key to /im/vanke/* (empty: those endpoints answer 503); the most open
# conversations per agent (0: no limit; a profile can override it); conversations without a
# message for this long are closed by a beat job (0: never).
DESK_API_KEY = env.str("DESK_API_KEY", default="")
DESK_AGENT_MAX_OPEN = env_int("DESK_AGENT_MAX_OPEN", 0, minimum=0)
DESK_IDLE_CLOSE_SECONDS = env_int("DESK_IDLE_CLOSE_SECONDS", 1800, minimum=0)
# Desk compatibility (docs/jim.md#compatibility): networks (CIDRs, comma-separated) whose servers
# may call /im/vanke/* without X-Desk-Key, as the J-IM document shows (default none); and the
# external id of the desk account a queued visitor is shown by getReceiver to leave a message
# with (default none: a receiver that only says "queued").
DESK_TRUSTED_NETWORKS = env_networks("DESK_TRUSTED_NETWORKS")
DESK_LEAVE_MESSAGE_ID = env.str("DESK_LEAVE_MESSAGE_ID", default="").strip()
if DESK_LEAVE_MESSAGE_ID and not re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", DESK_LEAVE_MESSAGE_ID):
    raise ImproperlyConfigured("DESK_LEAVE_MESSAGE_ID must be a desk user id (1-64 letters, digits, '_' or '-')")
# Operator switch (web.system.getAppConfig onlyFriendChat of the native API document): private
# messages only between friends.
# The initial value of the admin's App config "only friend chat" switch (the admin decides after).
ONLY_FRIEND_CHAT = env_bool("ONLY_FRIEND_CHAT", default=False)
APP_CONFIG_CACHE_SECONDS = env_int("APP_CONFIG_CACHE_SECONDS", 2, minimum=0)
# The console's home page dashboard is computed at most once per this many seconds (shared through
# the cache); 0: on every view of the page.
DASHBOARD_CACHE_SECONDS = env_int("DASHBOARD_CACHE_SECONDS", 5, minimum=0, maximum=3600)
PHONE_SEARCH_PER_HOUR = env_int("PHONE_SEARCH_PER_HOUR", 30, minimum=1)
# Friend requests one user may send in an hour (friends.add to users who approve their friends).
FRIEND_REQUESTS_PER_HOUR = env_int("FRIEND_REQUESTS_PER_HOUR", 30, minimum=1)
# Moments (docs/moments.md): longest post and comment text (characters), posts per user per
# hour, likes plus comments per user per minute, most comments one moment takes.
MOMENT_MAX_TEXT = env_int("MOMENT_MAX_TEXT", 2000, minimum=1)
MOMENT_COMMENT_MAX_TEXT = env_int("MOMENT_COMMENT_MAX_TEXT", 500, minimum=1)
MOMENT_POSTS_PER_HOUR = env_int("MOMENT_POSTS_PER_HOUR", 30, minimum=1)
MOMENT_ACTIONS_PER_MINUTE = env_int("MOMENT_ACTIONS_PER_MINUTE", 60, minimum=1)
MOMENT_MAX_COMMENTS = env_int("MOMENT_MAX_COMMENTS", 500, minimum=1)

# --- HTTP API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["core.renderers.ExactJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "core.renderers.ExactJSONParser",
        "core.renderers.BoundedFormParser",
        "core.renderers.BoundedMultiPartParser",
    ],
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.openapi.NativeAutoSchema",
    "UNAUTHENTICATED_USER": None,
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024, minimum=1024)
from core.openapi_names import OPENAPI_ENUM_NAMES, OPENAPI_TAGS  # noqa: E402

SPECTACULAR_SETTINGS = {
    "TITLE": "IM server API",
    "DESCRIPTION": (
        "The native REST API. Most operations are REST twins of the native WebSocket methods "
        "(`ws://HOST/ws/?token=TOKEN`): same parameters, same reply `data`, same errors. The socket "
        "itself, its methods, replies and pushes, is described by the AsyncAPI document at "
        "[/api/asyncapi.json](/api/asyncapi.json) (docs/protocol.md explains it in prose).\n\n"
        "Every refusal has the body `Error` `{code, error, msg}`.\n\n"
        "Not described here, on purpose: the RongCloud-era `im/*` methods (docs/im.md), the J-IM "
        "customer-service desk `im/vanke/*` and its socket (docs/jim.md) and the Easemob bridge "
        "`/hx/*` (docs/hxbridge.md), which keep the wire formats of the APIs they replace."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["core.openapi.native_only"],
    "TAGS": OPENAPI_TAGS,
    # Choice sets that share a field name get names of their own (otherwise hashed names).
    "ENUM_NAME_OVERRIDES": OPENAPI_ENUM_NAMES,
    # The schema's own warnings are not deployment risks; `check --deploy` is kept to those
    # (the schema is exercised by the tests instead).
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
}

# --- i18n, time, static ----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# The web chat (/app/) imports the JavaScript SDK's own modules, served as /static/sdk/ (no build step).
STATICFILES_DIRS = [("sdk", BASE_DIR / "clients" / "js" / "src")]
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    # Uploaded media: any Django storage backend (e.g. an S3 one) in production.
    # MEDIA_STORAGE_OPTIONS: the backend's OPTIONS as JSON, e.g. {"bucket_name": "im-media"}.
    "default": {"BACKEND": env.str("MEDIA_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"),
                "OPTIONS": env.json("MEDIA_STORAGE_OPTIONS", default={})},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Checked from the header before any pixel is decoded (a small PNG can claim 200 megapixels).
MEDIA_MAX_IMAGE_PIXELS = env_int("MEDIA_MAX_IMAGE_PIXELS", 40_000_000, minimum=1_000_000)
# How long a media download link lives. Links are signed afresh whenever a message or moment is
# sent or fetched, so this only bounds how long a link copied out of the app keeps working.
MEDIA_LINK_TTL_SECONDS = env_int("MEDIA_LINK_TTL_SECONDS", 6 * 3600, minimum=60)
MEDIA_MAX_BYTES = {
    "image": env_int("MEDIA_MAX_IMAGE_BYTES", 10 * 1024 * 1024, minimum=1024),
    "voice": env_int("MEDIA_MAX_VOICE_BYTES", 5 * 1024 * 1024, minimum=1024),
    "video": env_int("MEDIA_MAX_VIDEO_BYTES", 100 * 1024 * 1024, minimum=1024),
    "file": env_int("MEDIA_MAX_FILE_BYTES", 50 * 1024 * 1024, minimum=1024),
}

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (run daphne with --proxy-headers).
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
# Plain-HTTP requests are redirected to HTTPS (default: on behind a TLS proxy); /healthz stays
# reachable over plain HTTP for the load balancer's checks.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=BEHIND_TLS_PROXY)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Strict-Transport-Security max-age in seconds (0: not sent). Production: 31536000, once HTTPS works.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
# Whether HSTS covers every subdomain and asks to be preloaded by browsers (the domain's call).
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)

LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
# The scheduled jobs' routine lines (a task received, succeeded, sent by beat: every few seconds)
# at this level; their failures are logged as errors whatever it says.
LOG_LEVEL_JOBS = env.str("LOG_LEVEL_JOBS", default="WARNING")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logs.RequestIdFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
                   "json": {"()": "core.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"},
                "celery.app.trace": {"level": LOG_LEVEL_JOBS},
                "celery.worker.strategy": {"level": LOG_LEVEL_JOBS},
                "celery.beat": {"level": LOG_LEVEL_JOBS}},
}
# The worker and beat keep this logging configuration instead of replacing it with their own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
