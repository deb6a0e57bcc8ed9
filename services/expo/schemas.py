"""Shapes the expo keeps for itself (the contract, ``contract.py``, holds the public ones)."""
from marshmallow import EXCLUDE, Schema, fields, validate

from backbone.contracts import BusinessFacts


class VersionedBusinessFacts(Schema):
    """One business as the registry's ``business_facts`` RPC answers: its snapshot and the
    version it stands at, the same pair every business.* event carries."""

    class Meta:
        unknown = EXCLUDE

    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    facts = fields.Nested(BusinessFacts, required=True)


class BusinessFactsPage(Schema):
    class Meta:
        unknown = EXCLUDE

    items = fields.List(fields.Nested(VersionedBusinessFacts), required=True)
    next_after_id = fields.String(load_default=None, allow_none=True)
