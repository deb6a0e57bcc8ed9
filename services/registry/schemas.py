"""Shapes the registry keeps for itself (the contract, ``contract.py``, holds the public ones)."""
from marshmallow import Schema, fields


class IdentitySnapshot(Schema):
    """The legal identity as a verification decision saw it, kept with the decision."""
    name = fields.String()
    kind = fields.String()
    sector = fields.String()
    kecamatan = fields.String()
    address = fields.String()
    nib = fields.String(allow_none=True)
    nik_koperasi = fields.String(allow_none=True)
    cooperative_type = fields.String(allow_none=True)

