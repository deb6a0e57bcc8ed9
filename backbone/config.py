"""Configuration comes only from environment variables; each has a development default.

The README lists them all. Nothing here is read at import time, so tests and processes can set
the environment first.
"""
import os

# The services of Laris, each with its own database. A new service is added here (and to the
# Procfile): migrations, readiness checks and the tests' harness all follow this list.
SERVICES = ("registry", "expo", "notify", "marketplace")

DEFAULTS = {
    "LARIS_AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/",
    "LARIS_PG_URL": "postgresql://postgres@127.0.0.1:5432",
    "LARIS_DB_PREFIX": "laris_",
    "LARIS_LOG_LEVEL": "INFO",
    # json, text, or auto: text when stdout is a terminal (backbone/logs.py).
    "LARIS_LOG_FORMAT": "auto",
    "LARIS_MAX_WORKERS": "10",
    "LARIS_OUTBOX_RELAY": "on",
    "LARIS_OUTBOX_POLL_SECONDS": "1.0",
    "LARIS_OUTBOX_RETENTION_DAYS": "7",
    "LARIS_INBOX_RETENTION_DAYS": "30",
    "LARIS_IDEMPOTENCY_RETENTION_HOURS": "24",
    # Keys the HMAC of stored request fingerprints (backbone/idempotency.py). Secret fields
    # never enter a fingerprint, so this key guards only the rest of a body; it is not the
    # token-signing key, which no service but the gateway holds.
    "LARIS_IDEMPOTENCY_KEY": "laris-dev-idempotency-key",
    "LARIS_CONSUMER_MAX_ATTEMPTS": "5",
    "LARIS_CONSUMER_RETRY_SECONDS": "0.2",
    "LARIS_DB_POOL_SIZE": "12",
    "LARIS_HTTP_HOST": "127.0.0.1",
    "LARIS_HTTP_PORT": "8000",
    "LARIS_GATEWAY_WORKERS": "2",
    "LARIS_GATEWAY_THREADS": "16",
    "LARIS_RPC_TIMEOUT": "10",
    "LARIS_RPC_POOL_SIZE": "16",
    "LARIS_TOKEN_TTL_SECONDS": "3600",
    "LARIS_TOKEN_LEEWAY_SECONDS": "30",
    # How long a gateway trusts what it last heard of a token's account: an older token
    # (role or password changed since) stops working within this many seconds.
    "LARIS_TOKEN_CHECK_SECONDS": "2",
    # How long a web page session lasts after log-in (services/gateway/web).
    "LARIS_WEB_SESSION_HOURS": "12",
    "LARIS_LOGIN_FREE_FAILURES": "3",
    "LARIS_LOGIN_FIRST_DELAY_SECONDS": "1",
    "LARIS_LOGIN_MAX_DELAY_SECONDS": "900",
    "LARIS_SIGNUP_PER_CLIENT_PER_HOUR": "20",
    # Passwords hashed at once per registry process, and sign-ups that may wait for a turn;
    # beyond that a sign-up is answered 503 at once rather than holding a worker.
    "LARIS_HASH_CONCURRENCY": "2",
    "LARIS_HASH_QUEUE": "4",
    "LARIS_TRUSTED_PROXIES": "0",
    "LARIS_ALLOCATION_TIME_LIMIT_SECONDS": "10",
    "LARIS_HOLD_SWEEP_SECONDS": "30",
    # A QRIS or transfer order part not paid within this many hours (a fraction is fine) is
    # cancelled and its stock put back; the marketplace looks for such parts every
    # PAYMENT_SWEEP_SECONDS.
    "LARIS_PAYMENT_WINDOW_HOURS": "24",
    "LARIS_PAYMENT_SWEEP_SECONDS": "60",
    # WhatsApp Business Cloud API (services/notify/whatsapp.py): the channel is off until the
    # token and the phone-number id are set. The app secret verifies the delivery-status
    # webhook's X-Hub-Signature-256; the verify token answers its GET handshake.
    "LARIS_WHATSAPP_BASE_URL": "https://graph.facebook.com/v21.0",
    "LARIS_WHATSAPP_PHONE_NUMBER_ID": "",
    "LARIS_WHATSAPP_TOKEN": "",
    "LARIS_WHATSAPP_APP_SECRET": "",
    "LARIS_WHATSAPP_VERIFY_TOKEN": "",
    "LARIS_WHATSAPP_TIMEOUT_SECONDS": "10",
    # Reminders (services/notify/reminders.py): how long before a certification expires (days,
    # most distant first), before a booth offer's hold ends, and after an order part was
    # placed unconfirmed (hours); the timer looks for due ones every REMINDER_SWEEP_SECONDS.
    "LARIS_REMINDER_CERTIFICATION_DAYS": "60,14",
    "LARIS_REMINDER_OFFER_HOURS": "12",
    "LARIS_REMINDER_ORDER_HOURS": "24",
    "LARIS_REMINDER_SWEEP_SECONDS": "60",
    # Notify's outbound deliveries (e-mail, webhooks): tries in all, then dead-lettered; the
    # pause after try n is base * 2^(n-1) capped at cap, half of it random (jitter).
    "LARIS_DELIVERY_ATTEMPTS": "8",
    "LARIS_DELIVERY_BASE_SECONDS": "30",
    "LARIS_DELIVERY_CAP_SECONDS": "3600",
    # One send's time limit, and a claim's lease (longer than any send): a worker killed
    # mid-send leaves a claim that another takes once its lease is over.
    "LARIS_DELIVERY_TIMEOUT_SECONDS": "10",
    "LARIS_DELIVERY_LEASE_SECONDS": "120",
    "LARIS_DELIVERY_CONCURRENCY": "20",
    "LARIS_DELIVERY_POLL_SECONDS": "1.0",
    # E-mail goes out only when LARIS_SMTP_HOST is set.
    "LARIS_SMTP_HOST": "",
    "LARIS_SMTP_PORT": "587",
    "LARIS_SMTP_USER": "",
    "LARIS_SMTP_PASSWORD": "",
    "LARIS_SMTP_STARTTLS": "off",
    "LARIS_SMTP_FROM": "Ngalam Laris <noreply@laris.local>",
    # A forgotten setting fails closed: production refuses weak keys at start-up.
    "LARIS_ENV": "production",
    "LARIS_METRICS_ALLOW": "127.0.0.1/32,::1/128",
    # The gateway's cache of public catalogue answers (services/gateway/catalogue_cache.py):
    # on or off, the oldest answer it may serve, and its memory per gateway worker. Facts
    # keep answers fresh; the age is the net should they stop while the broker stays up.
    # Every product page on show is preloaded: 100,000 are about 70 MB of bodies.
    "LARIS_CATALOGUE_CACHE": "on",
    "LARIS_CATALOGUE_CACHE_SECONDS": "600",
    "LARIS_CATALOGUE_CACHE_MB": "256",
    "LARIS_CATALOGUE_INDEX": "on",
    "LARIS_CATALOGUE_INDEX_MB": "128",
}


def env(name, default=None):
    value = os.environ.get(name)
    if value not in (None, ""):
        return value
    return DEFAULTS.get(name, default)


def env_float(name):
    return float(env(name))


def env_int(name):
    return int(env(name))


def amqp_uri():
    return env("LARIS_AMQP_URI")


def database_name(service):
    return f"{env('LARIS_DB_PREFIX')}{service}"


def database_url(service):
    """``LARIS_<SERVICE>_DATABASE_URL``, else the service's own database on ``LARIS_PG_URL``."""
    explicit = env(f"LARIS_{service.upper()}_DATABASE_URL")
    if explicit:
        return explicit
    return f"{env('LARIS_PG_URL').rstrip('/')}/{database_name(service)}"
