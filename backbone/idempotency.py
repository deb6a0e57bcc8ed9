"""``Idempotency-Key`` for writes a client may retry: the same key and body give the same
result, never a second effect; the same key with another body is a 422.

Both calls run inside the write's own transaction. The key's row is claimed first, so a
concurrent retry waits on it and then reads the stored response; if the write fails and rolls
back, the claim goes with it and a retry starts afresh.

    with self.db.transaction() as tx:
        scope = ("register_business", caller["account_id"])
        if (earlier := idempotency.replay(tx, scope, key, body)) is not None:
            return earlier
        ...
        idempotency.remember(tx, scope, key, response)
"""
import hashlib
import hmac
import json

import psycopg2.extras

from backbone import config
from backbone.errors import ValidationFailed

MAX_KEY_LENGTH = 200
# Fields that never enter a fingerprint, at any depth: a stored fingerprint of a password
# would be a fast hash of it, kept for a day. A retry that differs only in them replays.
SECRET_FIELDS = frozenset({"password", "current_password", "new_password"})


def _scope(scope):
    return ":".join(str(part) for part in scope)


def fingerprint(body):
    """HMAC-SHA256, keyed with LARIS_IDEMPOTENCY_KEY, of the body less its secret fields."""
    canonical = json.dumps(_without_secrets(body), sort_keys=True, separators=(",", ":"),
                           default=str)
    key = config.env("LARIS_IDEMPOTENCY_KEY").encode()
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def _without_secrets(value):
    if isinstance(value, dict):
        return {name: _without_secrets(item) for name, item in value.items()
                if name not in SECRET_FIELDS}
    if isinstance(value, list):
        return [_without_secrets(item) for item in value]
    return value


def replay(tx, scope, key, body):
    """The response an earlier request with this key gave, or None for a first request."""
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed("The Idempotency-Key is not valid.", fields={
            "Idempotency-Key": [f"1 to {MAX_KEY_LENGTH} characters."]})
    this_request = fingerprint(body)
    claimed = tx.one(
        "INSERT INTO idempotency_keys (scope, key, fingerprint) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING RETURNING key", (_scope(scope), key, this_request))
    if claimed:
        return None
    earlier = tx.one("SELECT fingerprint, response FROM idempotency_keys"
                     " WHERE scope = %s AND key = %s", (_scope(scope), key))
    _check_same_request(earlier, this_request)
    return earlier["response"]


def earlier_response(tx, scope, key, body):
    """The stored response of a finished earlier request with this key, or None, without
    claiming the key: lets a write answer a retry before its own checks (an e-mail taken by
    the first request) or slow work (hashing) would run."""
    if key is None:
        return None
    earlier = tx.one("SELECT fingerprint, response FROM idempotency_keys"
                     " WHERE scope = %s AND key = %s AND response IS NOT NULL",
                     (_scope(scope), key))
    if earlier is None:
        return None
    _check_same_request(earlier, fingerprint(body))
    return earlier["response"]


def _check_same_request(earlier, this_request):
    if earlier["fingerprint"] != this_request:
        raise ValidationFailed("This Idempotency-Key was used for a different request.",
                               fields={"Idempotency-Key": ["Use a new key for a new request."]})


def remember(tx, scope, key, response):
    if key is not None:
        tx.execute("UPDATE idempotency_keys SET response = %s WHERE scope = %s AND key = %s",
                   (psycopg2.extras.Json(response), _scope(scope), key))


def purge_older_than(tx, hours):
    tx.execute("DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => %s)",
               (hours,))
