"""Errors a user caused, raised by a service's domain and mapped by the gateway to HTTP.

They cross RPC as themselves (``deserialize_to_instance``), so the gateway sees the code,
message and fields the service meant, never a stringified traceback.
"""
from nameko.exceptions import deserialize_to_instance


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message, fields=None, details=None):
        # Always JSON-ready args: nameko re-creates the error from them at the caller.
        super().__init__(message, fields or {}, details or {})
        self.message = message
        self.fields = fields or {}
        self.details = details or {}

    def __str__(self):
        return self.message


@deserialize_to_instance
class ValidationFailed(DomainError):
    code = "validation_error"


@deserialize_to_instance
class NotFound(DomainError):
    code = "not_found"


@deserialize_to_instance
class Conflict(DomainError):
    code = "conflict"


@deserialize_to_instance
class Forbidden(DomainError):
    code = "forbidden"


@deserialize_to_instance
class Unauthorized(DomainError):
    code = "unauthorized"


@deserialize_to_instance
class ServiceBusy(DomainError):
    """The service is up but could not finish in time (a statement or lock timeout): the
    same request may well succeed if tried again shortly."""
    code = "service_busy"


@deserialize_to_instance
class PayloadTooLarge(DomainError):
    """What was sent is larger than the service takes (e.g. a photo over its limit)."""
    code = "payload_too_large"


@deserialize_to_instance
class RateLimited(DomainError):
    """``details['retry_after']`` says in how many seconds to try again."""
    code = "rate_limited"


def validation_failed_from(marshmallow_error):
    """Turn a marshmallow ``ValidationError`` into our error, keeping its per-field messages."""
    messages = marshmallow_error.normalized_messages()
    return ValidationFailed("Some fields are invalid.", fields=messages)


def load_valid(schema, data, **kwargs):
    """``schema.load`` that fails the way every Laris service fails: with ``ValidationFailed``."""
    from marshmallow import ValidationError

    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationFailed("The body must be a JSON object.")
    try:
        return schema.load(data, **kwargs)
    except ValidationError as exc:
        raise validation_failed_from(exc) from None


@deserialize_to_instance
class BackendUnavailable(Exception):
    """A database or broker behind a service is down; the client may retry later."""


# --- database errors, by SQLSTATE ---------------------------------------------------------
# psycopg2 raises statement timeouts (QueryCanceledError) and deadlocks
# (TransactionRollbackError) as subclasses of OperationalError, the class it also uses for a
# lost connection; only the SQLSTATE tells an outage from a request the database refused.

OUTAGE_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}  # shutdown, crash, starting, too many
BUSY_SQLSTATES = {"57014", "55P03"}                         # statement timeout, lock timeout
RETRY_SQLSTATES = {"40P01", "40001"}                        # deadlock, serialization failure


def classify_database_error(exc):
    """The error to raise instead of a psycopg2 error, or None when it is a bug (bad SQL, a
    missing table) that should surface as itself.

    An outage is ``BackendUnavailable`` (the caller waits or answers 503); everything else is
    about the request: bad data, a constraint, a timeout or a concurrent change.
    """
    import psycopg2  # the gateway imports this module and never touches a database

    if isinstance(exc, psycopg2.InterfaceError):
        return BackendUnavailable(f"database connection unusable: {exc}".strip())
    code = getattr(exc, "pgcode", None) or ""
    if code.startswith("08") or code in OUTAGE_SQLSTATES or (
            not code and isinstance(exc, psycopg2.OperationalError)):
        return BackendUnavailable((str(exc).strip().splitlines() or ["database unavailable"])[0])
    details = {"sqlstate": code}
    if code in BUSY_SQLSTATES:
        return ServiceBusy("The service is busy; try again shortly.", details=details)
    if code in RETRY_SQLSTATES:
        return Conflict("The change met a concurrent one; retry it.", details=details)
    if code.startswith("22"):
        return ValidationFailed("A value is too long, out of range or not well formed.",
                                details=details)
    if code.startswith("23"):
        return Conflict("The change conflicts with existing data.", details=details)
    return None


def is_outage(exc):
    """Whether ``exc`` means a backend is away, rather than this piece of work being at fault."""
    if isinstance(exc, BackendUnavailable):
        return True
    return hasattr(exc, "pgcode") and isinstance(classify_database_error(exc),
                                                 BackendUnavailable)
