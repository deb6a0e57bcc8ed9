"""Who is calling a service over RPC, as the gateway authenticated them.

Every RPC method that acts for a person takes the caller as its first argument: a dict
``{account_id, role}``, or None for an anonymous request. A service never trusts that shape
blindly: ``checked_caller`` validates it, so a malformed caller is refused at the door instead
of failing deep inside a rule.
"""
from marshmallow import Schema, ValidationError, fields, validate

from backbone.contracts import ROLES
from backbone.errors import Unauthorized
from backbone.fields import Id


class Caller(Schema):
    account_id = Id(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


def checked_caller(raw, required=True):
    """The validated caller; None for an anonymous one when ``required`` is False."""
    if raw is None and not required:
        return None
    if raw is None:
        raise Unauthorized("This needs a token: POST /api/v1/auth/token.")
    try:
        return Caller().load(raw)
    except (ValidationError, TypeError):
        raise Unauthorized("The caller is not valid.") from None
