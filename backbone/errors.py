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
