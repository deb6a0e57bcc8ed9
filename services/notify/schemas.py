"""Shapes notify keeps for itself (the contract, ``contract.py``, holds the public ones)."""
from marshmallow import EXCLUDE, Schema, fields


class AccountFacts(Schema):
    """What the accounts read model keeps of an account.* fact."""

    class Meta:
        unknown = EXCLUDE

    account_id = fields.String(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    phone = fields.String(load_default=None, allow_none=True)
    locale = fields.String(load_default="id")
    role = fields.String(required=True)
