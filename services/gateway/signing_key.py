"""The token-signing key fails closed: whoever knows the key can mint an admin token, so outside
development the gateway refuses to start on a key anyone could guess."""
import logging

log = logging.getLogger(__name__)

DEV_SECRET_KEY = "laris-dev-secret-key-change-me-in-production"
MIN_KEY_BYTES = 32
# Words that mark a value someone was meant to replace (the env example once shipped "CHANGE").
PLACEHOLDER_MARKS = ("change", "secret", "example")
HOW_TO_MAKE_ONE = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


class WeakSigningKey(RuntimeError):
    """Raised at start-up in production; the message names LARIS_SECRET_KEY and the fix."""


def key_problem(key):
    """Why ``key`` is unfit to sign tokens, or None when it is fit."""
    if not key or key == DEV_SECRET_KEY:
        return "is unset or the public development default"
    if any(mark in key.lower() for mark in PLACEHOLDER_MARKS):
        return "looks like a placeholder (it contains 'change', 'secret' or 'example')"
    if len(key.encode()) < MIN_KEY_BYTES:
        return f"is shorter than {MIN_KEY_BYTES} bytes"
    return None


def checked_signing_key(key, environment):
    """The key to sign with. In production a weak key raises; in development it is a warning."""
    problem = key_problem(key)
    if problem is None:
        return key
    message = (f"LARIS_SECRET_KEY {problem}. Set at least {MIN_KEY_BYTES} random bytes, the "
               f"same on every gateway; make one with: {HOW_TO_MAKE_ONE}")
    if environment == "development":
        log.warning("%s (allowed only because LARIS_ENV=development)", message)
        return key or DEV_SECRET_KEY
    raise WeakSigningKey(message)
