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
import json

import psycopg2.extras

from backbone.errors import ValidationFailed

MAX_KEY_LENGTH = 200


def _scope(scope):
    return ":".join(str(part) for part in scope)


def fingerprint(body):
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


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
    if earlier["fingerprint"] != this_request:
        raise ValidationFailed("This Idempotency-Key was used for a different request.",
                               fields={"Idempotency-Key": ["Use a new key for a new request."]})
    return earlier["response"]


def remember(tx, scope, key, response):
    if key is not None:
        tx.execute("UPDATE idempotency_keys SET response = %s WHERE scope = %s AND key = %s",
                   (psycopg2.extras.Json(response), _scope(scope), key))


def purge_older_than(tx, hours):
    tx.execute("DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => %s)",
               (hours,))
