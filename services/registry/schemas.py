"""Marshmallow schemas of the registry's RPC payloads. The gateway uses the same ones for its
HTTP bodies and the OpenAPI document, so there is one definition of each shape."""
from marshmallow import Schema, fields, validate

from backbone.contracts import BUSINESS_KINDS, BUSINESS_STATUSES, KECAMATAN, ROLES
from backbone.pagination import PageQuery
from services.registry import domain

NAME = validate.Length(min=1, max=200)


class _Check(validate.Validator):
    """A field validator from one of the domain's predicates, so the rule lives in one place."""

    def __init__(self, check, message):
        self.check = check
        self.error = message

    def __call__(self, value):
        if not self.check(value):
            raise validate.ValidationError(self.error)
        return value


PHONE = _Check(lambda v: domain.normalise_phone(v) is not None,
               "Give an Indonesian mobile number: 08..., +628... or 628....")
NIB = _Check(domain.is_nib, "A NIB has exactly 13 digits.")
NIK_KOPERASI = _Check(domain.is_nik_koperasi, "A NIK koperasi has exactly 16 digits.")


class Caller(Schema):
    """Who is asking, as the gateway authenticated them; absent for anonymous callers."""
    account_id = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


# --- accounts -------------------------------------------------------------------------------

class AccountCreate(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=domain.MIN_PASSWORD_LENGTH,
                                                      max=domain.MAX_PASSWORD_LENGTH))
    name = fields.String(required=True, validate=NAME)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    phone = fields.String(load_default=None, allow_none=True, validate=PHONE)
    locale = fields.String(load_default="id", validate=validate.OneOf(("id", "en")))


class Account(Schema):
    id = fields.String()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    phone = fields.String(allow_none=True)
    locale = fields.String()
    created_at = fields.AwareDateTime()


class Credentials(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=1, max=domain.MAX_PASSWORD_LENGTH))


# --- businesses -----------------------------------------------------------------------------

class BusinessCreate(Schema):
    name = fields.String(required=True, validate=NAME)
    kind = fields.String(required=True, validate=validate.OneOf(BUSINESS_KINDS))
    kecamatan = fields.String(required=True, validate=validate.OneOf(
        KECAMATAN, error="Must be one of Malang's kecamatan: {choices}."))
    address = fields.String(required=True, validate=validate.Length(min=5, max=500))
    phone = fields.String(required=True, validate=PHONE)
    email = fields.Email(required=True)
    sector = fields.String(required=True, validate=validate.Length(min=1, max=50))
    nib = fields.String(load_default=None, allow_none=True, validate=NIB)
    nik_koperasi = fields.String(load_default=None, allow_none=True, validate=NIK_KOPERASI)
    cooperative_type = fields.String(load_default=None, allow_none=True,
                                     validate=validate.OneOf(domain.COOPERATIVE_TYPES))
    packaging = fields.List(fields.String(validate=validate.Length(min=1, max=50)),
                            load_default=list, validate=validate.Length(max=20))


class BusinessUpdate(Schema):
    """Contact details and packaging at any time; the legal identity only until verified."""
    name = fields.String(validate=NAME)
    kecamatan = fields.String(validate=validate.OneOf(KECAMATAN))
    address = fields.String(validate=validate.Length(min=5, max=500))
    phone = fields.String(validate=PHONE)
    email = fields.Email()
    sector = fields.String(validate=validate.Length(min=1, max=50))
    nib = fields.String(allow_none=True, validate=NIB)
    nik_koperasi = fields.String(allow_none=True, validate=NIK_KOPERASI)
    cooperative_type = fields.String(allow_none=True,
                                     validate=validate.OneOf(domain.COOPERATIVE_TYPES))
    packaging = fields.List(fields.String(validate=validate.Length(min=1, max=50)),
                            validate=validate.Length(max=20))


class VerificationDecision(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("verified", "rejected")))
    note = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(max=2000))


class VerificationResult(Schema):
    id = fields.String()
    status = fields.String()


class CertificationCreate(Schema):
    kind = fields.String(required=True, validate=validate.Length(min=1, max=50))
    number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    valid_until = fields.Date(required=True)


class Certification(Schema):
    id = fields.String()
    kind = fields.String()
    number = fields.String()
    valid_until = fields.Date()
    valid = fields.Boolean()


class PublicCertification(Schema):
    kind = fields.String()
    valid_until = fields.Date()
    valid = fields.Boolean()


class Label(Schema):
    id = fields.String()
    en = fields.String()


class MissingItem(Schema):
    code = fields.String()
    id = fields.String(metadata={"description": "What is missing, in Indonesian"})
    en = fields.String(metadata={"description": "What is missing, in English"})


class MarketReadiness(Schema):
    market = fields.String()
    label = fields.Nested(Label)
    ready = fields.Boolean()
    missing = fields.List(fields.Nested(MissingItem))


class Decision(Schema):
    from_status = fields.String()
    to_status = fields.String()
    note = fields.String(allow_none=True)
    decided_at = fields.AwareDateTime()


class BusinessPublic(Schema):
    """What anyone may see of a verified business."""
    id = fields.String()
    name = fields.String()
    kind = fields.String()
    sector = fields.String()
    kecamatan = fields.String()
    status = fields.String(validate=validate.OneOf(BUSINESS_STATUSES))
    certifications = fields.List(fields.Nested(PublicCertification))
    export_ready = fields.List(fields.String(), metadata={
        "description": "The markets this business is ready for"})
    created_at = fields.AwareDateTime()


class Business(BusinessPublic):
    """What the owner and the city's staff see."""
    owner_account_id = fields.String()
    address = fields.String()
    phone = fields.String()
    email = fields.String()
    nib = fields.String(allow_none=True)
    nik_koperasi = fields.String(allow_none=True)
    cooperative_type = fields.String(allow_none=True)
    packaging = fields.List(fields.String())
    certifications = fields.List(fields.Nested(Certification))
    readiness = fields.List(fields.Nested(MarketReadiness))
    verification_history = fields.List(fields.Nested(Decision))
    updated_at = fields.AwareDateTime()


class BusinessListQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(BUSINESS_STATUSES))
    kecamatan = fields.String(validate=validate.OneOf(KECAMATAN))
    sector = fields.String(validate=validate.Length(max=50))


class BusinessPage(Schema):
    items = fields.List(fields.Nested(Business))
    next_cursor = fields.String(allow_none=True)


class ExportMarket(Schema):
    code = fields.String()
    label = fields.Nested(Label)


class ExportRulesSummary(Schema):
    sectors = fields.Dict(keys=fields.String(), values=fields.Nested(Label))
    packaging_materials = fields.Dict(keys=fields.String(), values=fields.Nested(Label))
    certifications = fields.Dict(keys=fields.String(), values=fields.Nested(Label))
    markets = fields.List(fields.Nested(ExportMarket))
