"""The registry's public contract: what the gateway may import.

Request and response schemas of the registry's RPC methods (the gateway documents its HTTP
bodies with them), the closed vocabularies and formats a client can know beforehand, and the
error codes the registry answers with. Nothing here touches the domain, the rules file or the
database: the registry validates against these schemas (it is the authority), and its rules
file must use exactly these vocabularies (checked when the service starts).
"""
from marshmallow import Schema, fields, validate

from backbone.contracts import (BUSINESS_KINDS, BUSINESS_STATUSES, KECAMATAN, ROLES, SECTORS,
                                BusinessFacts)
from backbone.fields import Email, Id, Text
from backbone.pagination import PageQuery

# --- vocabularies and formats ---------------------------------------------------------------

SELF_SERVICE_ROLES = ("buyer", "vendor")
LOCALES = ("id", "en")
COOPERATIVE_TYPES = ("simpan_pinjam", "konsumen", "produsen", "pemasaran", "jasa", "serba_usaha")
PACKAGING_MATERIALS = ("plastic", "paper", "glass", "metal", "wood", "bamboo", "cloth", "leaf")
CERTIFICATION_KINDS = ("halal", "pirt", "bpom_md", "bpom_ml", "sni", "iso_9001", "iso_22000",
                       "haccp", "organic", "fda", "svlk")
# The contract's generic kinds: the registry resolves them from the number (BPOM MD/ML, the
# ISO standard).
GENERIC_CERTIFICATION_KINDS = ("bpom", "iso")
CERTIFICATION_STATUSES = ("claimed", "confirmed", "refused")
REVIEW_DECISIONS = ("confirmed", "refused")
VERIFICATION_DECISIONS = ("verified", "rejected")

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
NAME_LENGTH = 200
NIB_PATTERN = r"^[0-9]{13}$"
NIK_KOPERASI_PATTERN = r"^[0-9]{16}$"
# An Indonesian mobile number: 08..., 628... or +628..., digits optionally grouped by a space
# or a hyphen ("0812-3456-7890"); stored as +628...
PHONE_PATTERN = r"^(?:\+62|62|0)[ -]?8(?:[ -]?[0-9]){8,11}$"

# --- error codes the registry answers with --------------------------------------------------

ERROR_CODES = ("validation_error", "not_found", "conflict", "forbidden", "unauthorized",
               "rate_limited", "service_busy")


def _phone(**kwargs):
    return Text(30, validate=validate.Regexp(
        PHONE_PATTERN, error="Give an Indonesian mobile number: 08..., +628... or 628...."),
        **kwargs)


def _nib(**kwargs):
    return Text(13, validate=validate.Regexp(NIB_PATTERN, error="A NIB has exactly 13 digits."),
                **kwargs)


def _nik_koperasi(**kwargs):
    return Text(16, validate=validate.Regexp(
        NIK_KOPERASI_PATTERN, error="A NIK koperasi has exactly 16 digits."), **kwargs)


def _one_of(choices, **kwargs):
    return fields.String(validate=validate.OneOf(choices), **kwargs)


def _packaging(**kwargs):
    return fields.List(_one_of(PACKAGING_MATERIALS), validate=validate.Length(max=20),
                       **kwargs)


# --- accounts -------------------------------------------------------------------------------

class AccountCreate(Schema):
    email = Email(required=True)
    password = Text(MAX_PASSWORD_LENGTH, min_length=MIN_PASSWORD_LENGTH, required=True,
                    load_only=True)
    name = Text(NAME_LENGTH, required=True)
    role = _one_of(ROLES, required=True)
    phone = _phone(load_default=None, allow_none=True)
    locale = _one_of(LOCALES, load_default="id")


class Account(Schema):
    id = fields.String()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    phone = fields.String(allow_none=True)
    locale = fields.String()
    version = fields.Integer(metadata={"description": "Grows by one with every change"})
    created_at = fields.AwareDateTime()


class AuthenticatedAccount(Account):
    """An account whose password was just checked, with what its tokens must carry."""
    token_version = fields.Integer()


class TokenState(Schema):
    """What a token is checked against: a token of an older token_version is refused."""
    token_version = fields.Integer()
    role = fields.String()


class Credentials(Schema):
    email = Email(required=True)
    password = Text(MAX_PASSWORD_LENGTH, required=True, load_only=True)


class PasswordChange(Schema):
    current_password = Text(MAX_PASSWORD_LENGTH, required=True, load_only=True)
    new_password = Text(MAX_PASSWORD_LENGTH, min_length=MIN_PASSWORD_LENGTH, required=True,
                        load_only=True)


class RoleChange(Schema):
    role = _one_of(ROLES, required=True)


# --- businesses -----------------------------------------------------------------------------

class BusinessCreate(Schema):
    name = Text(NAME_LENGTH, required=True)
    kind = _one_of(BUSINESS_KINDS, required=True)
    kecamatan = fields.String(required=True, validate=validate.OneOf(
        KECAMATAN, error="Must be one of Malang's kecamatan: {choices}."))
    address = Text(500, min_length=5, required=True)
    phone = _phone(required=True)
    email = Email(required=True)
    sector = _one_of(SECTORS, required=True)
    nib = _nib(load_default=None, allow_none=True)
    nik_koperasi = _nik_koperasi(load_default=None, allow_none=True)
    cooperative_type = _one_of(COOPERATIVE_TYPES, load_default=None, allow_none=True)
    packaging = _packaging(load_default=list)


class UmkmCreate(BusinessCreate):
    """BusinessCreate as an UMKM fills it in (the OpenAPI document's first variant)."""
    kind = _one_of(("umkm",), required=True)

    class Meta:
        exclude = ("cooperative_type", "nik_koperasi")


class KoperasiCreate(BusinessCreate):
    """BusinessCreate as a koperasi fills it in: its type is required."""
    kind = _one_of(("koperasi",), required=True)
    cooperative_type = _one_of(COOPERATIVE_TYPES, required=True)


# The document tells clients the kind-dependent rules; the registry loads BusinessCreate and
# checks the same rules (domain.check_business_identity).
BUSINESS_CREATE_DOCUMENT = {"oneOf": [UmkmCreate, KoperasiCreate]}


class BusinessUpdate(Schema):
    """Contact details and packaging at any time; the legal identity only until verified."""
    name = Text(NAME_LENGTH)
    kecamatan = _one_of(KECAMATAN)
    address = Text(500, min_length=5)
    phone = _phone()
    email = Email()
    sector = _one_of(SECTORS)
    nib = _nib(allow_none=True)
    nik_koperasi = _nik_koperasi(allow_none=True)
    cooperative_type = _one_of(COOPERATIVE_TYPES, allow_none=True)
    packaging = _packaging()


class VerificationDecision(Schema):
    decision = _one_of(VERIFICATION_DECISIONS, required=True)
    note = Text(2000, min_length=0, load_default=None, allow_none=True)
    version = fields.Integer(strict=True, validate=validate.Range(min=1), metadata={
        "description": "The business version the organizer reviewed (or send If-Match); "
                       "409 if the business changed since."})


class VerificationResult(Schema):
    id = fields.String()
    status = fields.String()
    version = fields.Integer()


# Whitespace as the registry strips it (Python's str.isspace, which its regexes' \s follows),
# spelled out: the document's patterns are read as ECMAScript regexes, whose \s lacks
# \x1c-\x1f and \x85 (and adds \ufeff), so with a bare \s the two would disagree.
WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

# At least one character that is neither a space nor a separator: the registry stores numbers
# without them, so a number of spaces and hyphens alone would be empty.
CERTIFICATION_NUMBER_PRESENT = rf"^[^\x00]*[^{WHITESPACE}\x00-][^\x00]*$"


class CertificationCreate(Schema):
    kind = _one_of(CERTIFICATION_KINDS + GENERIC_CERTIFICATION_KINDS, required=True)
    number = Text(64, required=True, validate=validate.Regexp(
        CERTIFICATION_NUMBER_PRESENT, error="Give the certificate's number."))
    valid_until = fields.Date(required=True)


# What a certificate number looks like per kind, as the owner may type it (any case, spaces or
# hyphens between the characters); the registry stores it normalised. A property test checks
# these against the rules file's formats.
_SEP = rf"[{WHITESPACE}-]*"
CERTIFICATION_NUMBER_PATTERNS = {
    "halal": rf"^{_SEP}[Ii]{_SEP}[Dd](?:{_SEP}[0-9]){{14,}}{_SEP}$",
    "pirt": rf"^{_SEP}(?:[0-9]{_SEP}){{15,}}$",
    "bpom_md": rf"^{_SEP}[Mm]{_SEP}[Dd](?:{_SEP}[0-9]){{12}}{_SEP}$",
    "bpom_ml": rf"^{_SEP}[Mm]{_SEP}[Ll](?:{_SEP}[0-9]){{12}}{_SEP}$",
    "bpom": rf"^{_SEP}[Mm]{_SEP}[DdLl](?:{_SEP}[0-9]){{12}}{_SEP}$",
    "fda": rf"^{_SEP}(?:[0-9]{_SEP}){{11}}$",
    "iso": rf"^[^\x00]*(?:9{_SEP}0{_SEP}0{_SEP}1|2{_SEP}2{_SEP}0{_SEP}0{_SEP}0)[^\x00]*$",
}
# Free-format numbers (SNI, ISO 9001, ...): anything with a visible character.
FREE_NUMBER_PATTERN = rf"^[^\x00]*[^{WHITESPACE}\x00][^\x00]*$"


def _certification_variant(kind):
    pattern = CERTIFICATION_NUMBER_PATTERNS.get(kind, FREE_NUMBER_PATTERN)
    return Schema.from_dict({
        "kind": _one_of((kind,), required=True),
        "number": Text(64, required=True, validate=validate.Regexp(pattern)),
        "valid_until": fields.Date(required=True, metadata={
            "description": "Today or later (WIB): an expired certificate is refused"}),
    }, name=f"CertificationCreate_{kind}")


# The document shows each kind with its number's format; the registry loads
# CertificationCreate and checks the same formats from its rules file.
CERTIFICATION_CREATE_DOCUMENT = {"oneOf": [
    _certification_variant(kind)
    for kind in CERTIFICATION_KINDS + GENERIC_CERTIFICATION_KINDS]}


class CertificationReview(Schema):
    decision = _one_of(REVIEW_DECISIONS, required=True)
    note = Text(2000, min_length=0, load_default=None, allow_none=True)


class Certification(Schema):
    id = fields.String()
    kind = fields.String()
    number = fields.String()
    valid_until = fields.Date()
    status = fields.String(validate=validate.OneOf(CERTIFICATION_STATUSES))
    valid = fields.Boolean(metadata={"description": "Confirmed by the city and not expired"})
    review_note = fields.String(allow_none=True)
    reviewed_at = fields.AwareDateTime(allow_none=True)
    shared_with = fields.List(fields.String(), metadata={
        "description": "Other businesses that claim the same certificate number (organizers "
                       "only)"})


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
    business_version = fields.Integer(allow_none=True, metadata={
        "description": "The version of the business the decision was made on"})
    identity = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True),
                           allow_none=True, metadata={
                               "description": "The legal identity as the decider saw it"})


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
    version = fields.Integer(metadata={
        "description": "Grows by one with every change; also the ETag"})
    updated_at = fields.AwareDateTime()


class BusinessListQuery(PageQuery):
    status = _one_of(BUSINESS_STATUSES)
    kecamatan = _one_of(KECAMATAN)
    sector = _one_of(SECTORS)


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


# --- facts for read models -------------------------------------------------------------------

MAX_FACTS_PAGE = 500


class BusinessFactsQuery(Schema):
    """A page of business facts, by id: for services rebuilding their read models."""
    after_id = Id(load_default=None, allow_none=True)
    limit = fields.Integer(strict=True, load_default=200,
                           validate=validate.Range(min=1, max=MAX_FACTS_PAGE))


class VersionedBusinessFacts(Schema):
    version = fields.Integer(metadata={"description": "The business's aggregate version"})
    facts = fields.Nested(BusinessFacts)


class BusinessFactsPage(Schema):
    items = fields.List(fields.Nested(VersionedBusinessFacts))
    next_after_id = fields.String(allow_none=True)


# What callers send; a unit test holds every string field in them to backbone.fields.Text.
REQUEST_SCHEMAS = (AccountCreate, Credentials, BusinessCreate, BusinessUpdate,
                   VerificationDecision, CertificationCreate, CertificationReview,
                   BusinessListQuery, BusinessFactsQuery)
