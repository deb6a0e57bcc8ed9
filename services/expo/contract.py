"""The expo service's public contract: what the gateway may import.

Request and response schemas of the expo's RPC methods (the gateway documents its HTTP bodies
with them), its closed vocabularies and the error codes it answers with. Nothing here touches
the domain or the database: the expo validates against these schemas (it is the authority).
"""
from marshmallow import Schema, fields, validate

from backbone.contracts import SECTORS
from backbone.fields import Id, Text
from backbone.pagination import PageQuery

# --- vocabularies ---------------------------------------------------------------------------

BOOTH_TYPES = ("inline", "corner", "island")
BOOTH_STATUSES = ("free", "held", "allocated", "blocked")
APPLICATION_STATUSES = ("submitted", "allocated", "waitlisted", "offered", "declined",
                        "cancelled")
ALLOCATION_STATES = ("held", "allocated")

NAME_LENGTH = 200
ZONE_NAME_LENGTH = 60
MAX_ZONES = 30
MAX_BOOTHS_PER_REQUEST = 2000
DEFAULT_HOLD_HOURS = 48
MAX_HOLD_HOURS = 24 * 30
# Booth codes travel in paths (DELETE /expos/{id}/allocations/{code}): URL-safe only.
BOOTH_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$"
# The plan is in metres; a hall of a kilometre is already generous.
MAX_PLAN_METRES = 1000.0
MAX_PRICE_IDR = 10**12

ERROR_CODES = ("validation_error", "not_found", "conflict", "forbidden", "unauthorized",
               "service_busy")


def _one_of(choices, **kwargs):
    return fields.String(validate=validate.OneOf(choices), **kwargs)


def _metres(minimum_inclusive, **kwargs):
    return fields.Float(validate=validate.Range(min=0, max=MAX_PLAN_METRES,
                                                min_inclusive=minimum_inclusive), **kwargs)


# --- expos ----------------------------------------------------------------------------------

class Zone(Schema):
    name = Text(ZONE_NAME_LENGTH, required=True)
    sectors = fields.List(_one_of(SECTORS), load_default=list, validate=validate.Length(
        max=len(SECTORS)), metadata={"description": "The registry sectors this zone welcomes; "
                                                    "empty: every sector"})


class ExpoCreate(Schema):
    name = Text(NAME_LENGTH, required=True)
    venue = Text(NAME_LENGTH, required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True, metadata={"description": "On or after starts_on"})
    theme = Text(500, load_default=None, allow_none=True)
    applications_open_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "Default: the day the expo is created (WIB)"})
    applications_close_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "Default: the day before starts_on; on or after applications_open_on"})
    hold_hours = fields.Integer(strict=True, load_default=DEFAULT_HOLD_HOURS,
                                validate=validate.Range(min=1, max=MAX_HOLD_HOURS), metadata={
                                    "description": "How long a freed booth offered to a "
                                                   "waitlisted applicant is held"})
    zones = fields.List(fields.Nested(Zone), load_default=list,
                        validate=validate.Length(max=MAX_ZONES))


class Expo(Schema):
    id = fields.String()
    name = fields.String()
    venue = fields.String()
    theme = fields.String(allow_none=True)
    starts_on = fields.Date()
    ends_on = fields.Date()
    applications_open_on = fields.Date()
    applications_close_on = fields.Date()
    hold_hours = fields.Integer()
    zones = fields.List(fields.Nested(Zone))
    created_at = fields.AwareDateTime()


class ExpoListQuery(PageQuery):
    pass


class ExpoPage(Schema):
    items = fields.List(fields.Nested(Expo))
    next_cursor = fields.String(allow_none=True)


# --- booths ---------------------------------------------------------------------------------

class BoothCreate(Schema):
    code = Text(20, required=True, validate=validate.Regexp(
        BOOTH_CODE_PATTERN, error="Letters, digits, '-' or '_', up to 20, e.g. A-01."))
    zone = Text(ZONE_NAME_LENGTH, required=True)
    booth_type = _one_of(BOOTH_TYPES, required=True)
    size_m2 = fields.Float(required=True, validate=validate.Range(
        min=0, max=MAX_PLAN_METRES ** 2, min_inclusive=False))
    price_idr = fields.Integer(strict=True, required=True, validate=validate.Range(
        min=1, max=MAX_PRICE_IDR), metadata={"description": "Whole Rupiah"})
    x = _metres(True, required=True)
    y = _metres(True, required=True)
    width = _metres(False, required=True)
    height = _metres(False, required=True)


class BoothsCreate(Schema):
    booths = fields.List(fields.Nested(BoothCreate), required=True,
                         validate=validate.Length(min=1, max=MAX_BOOTHS_PER_REQUEST))


class Booth(Schema):
    code = fields.String()
    zone = fields.String()
    booth_type = fields.String()
    size_m2 = fields.Float()
    price_idr = fields.Integer()
    x = fields.Float()
    y = fields.Float()
    width = fields.Float()
    height = fields.Float()
    status = fields.String(validate=validate.OneOf(BOOTH_STATUSES))
    business_id = fields.String(allow_none=True, metadata={
        "description": "Once the booth is held or allocated"})
    business_name = fields.String(allow_none=True)


class BoothList(Schema):
    items = fields.List(fields.Nested(Booth))


# --- applications ---------------------------------------------------------------------------

class ApplicationCreate(Schema):
    business_id = Id(required=True)
    sector = _one_of(SECTORS, required=True, metadata={
        "description": "The business's sector as registered"})
    preferred_zones = fields.List(Text(ZONE_NAME_LENGTH), required=True,
                                  validate=validate.Length(max=MAX_ZONES))
    booth_type = _one_of(BOOTH_TYPES, load_default=None, allow_none=True)
    note = Text(2000, load_default=None, allow_none=True)


class ApplicationCreated(Schema):
    id = fields.String()
    status = fields.String(validate=validate.OneOf(APPLICATION_STATUSES))


class Reason(Schema):
    code = fields.String()
    id = fields.String(metadata={"description": "In Indonesian"})
    en = fields.String(metadata={"description": "In English"})


class Application(ApplicationCreated):
    expo_id = fields.String()
    business_id = fields.String()
    business_name = fields.String(allow_none=True)
    sector = fields.String()
    preferred_zones = fields.List(fields.String())
    booth_type = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    flagship = fields.Boolean(metadata={
        "description": "Marked as produk unggulan for this expo, or export-ready for a "
                       "foreign market"})
    flagship_marked = fields.Boolean(metadata={"description": "Marked by an organizer"})
    booth_code = fields.String(allow_none=True, metadata={
        "description": "Once decided: the booth allocated or offered"})
    hold_expires_at = fields.AwareDateTime(allow_none=True)
    reasons = fields.List(fields.Nested(Reason))
    created_at = fields.AwareDateTime()


class ApplicationListQuery(PageQuery):
    status = _one_of(APPLICATION_STATUSES)


class ApplicationPage(Schema):
    items = fields.List(fields.Nested(Application))
    next_cursor = fields.String(allow_none=True)


class FlagshipMark(Schema):
    flagship = fields.Boolean(required=True, truthy={True}, falsy={False})


# --- allocation -----------------------------------------------------------------------------

class Decision(Schema):
    application_id = fields.String()
    business_id = fields.String()
    reasons = fields.List(fields.Nested(Reason), metadata={
        "description": "Why, in Indonesian (id) and English (en)"})


class Placed(Decision):
    booth_code = fields.String()


class Waitlisted(Decision):
    position = fields.Integer(metadata={"description": "1 is next in line"})


class AllocationRun(Schema):
    allocated = fields.List(fields.Nested(Placed), metadata={
        "description": "Placed by this run (earlier placements never move)"})
    waitlisted = fields.List(fields.Nested(Waitlisted))
    solver = fields.String(metadata={"description": "cp-sat, or greedy when the time limit "
                                                    "passed without a solution"})
    optimal = fields.Boolean(metadata={"description": "The solver proved no better "
                                                      "allocation exists"})
    objective = fields.Integer()
    bound = fields.Integer()


class BoothFreed(Schema):
    booth_code = fields.String()
    offered_to = fields.String(allow_none=True, metadata={
        "description": "The waitlisted application now offered the booth, if one fits"})


class ManualPlacement(Schema):
    application_id = Id(required=True)
    reason = Text(500, required=True, metadata={"description": "Kept in the booth's history"})


class BoothChange(Schema):
    from_status = fields.String()
    to_status = fields.String()
    business_id = fields.String(allow_none=True)
    actor = fields.String(metadata={"description": "An account id, or the part of the system"})
    reason = fields.String()
    at = fields.AwareDateTime()


class BoothHistory(Schema):
    items = fields.List(fields.Nested(BoothChange))


class BoothBlock(Schema):
    blocked = fields.Boolean(required=True, truthy={True}, falsy={False})
    reason = Text(500, required=True, metadata={"description": "Kept in the booth's history"})


class FloorplanQuery(Schema):
    lang = _one_of(("id", "en"), load_default="id")


# What callers send; a unit test holds every string field in them to backbone.fields.Text.
REQUEST_SCHEMAS = (ExpoCreate, ExpoListQuery, BoothsCreate, ApplicationCreate,
                   ApplicationListQuery, FlagshipMark, ManualPlacement, BoothBlock,
                   FloorplanQuery)
