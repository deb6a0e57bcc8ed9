"""Event contracts: the envelope every event travels in, and one payload schema per
(event type, version).

The producer dumps through these schemas and every consumer loads through them, so a field
cannot drift between services unnoticed. Adding an optional field keeps the version; removing
or changing the meaning of one is a new version, published side by side until consumers move.
"""
import dataclasses
import datetime as dt
import uuid

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from backbone import clock

KECAMATAN = ("klojen", "blimbing", "kedungkandang", "sukun", "lowokwaru")
BUSINESS_KINDS = ("koperasi", "umkm")
BUSINESS_STATUSES = ("pending", "verified", "rejected")
ROLES = ("admin", "organizer", "vendor", "buyer")
# The registry's sectors: the expo's zones name the sectors they welcome, so both services
# share this one vocabulary.
SECTORS = ("kuliner", "fashion", "kerajinan", "pertanian", "ekonomi_kreatif", "jasa",
           "perdagangan")
# The registry's market for selling inside Indonesia: readiness for it alone is no export.
DOMESTIC_MARKET = "domestic"


def exports_abroad(export_ready):
    """Ready for at least one foreign market (a business's ``export_ready`` markets): the
    expo's produk unggulan rule and the catalogue's export-ready badge."""
    return any(market != DOMESTIC_MARKET for market in export_ready)


class InvalidEvent(Exception):
    """A message that is not a valid event of a known contract; it can never succeed."""


class Contract(Schema):
    """Fields a consumer does not know are ignored: a producer may add optional fields
    without a new version, and consumers on the older schema keep working."""

    class Meta:
        unknown = EXCLUDE


class EventEnvelope(Contract):
    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True, validate=validate.Length(min=3, max=100))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True)
    source = fields.String(required=True)
    request_id = fields.String(load_default=None, allow_none=True)
    payload = fields.Dict(required=True)
    # Set together on a fact about one aggregate (a business, an account), absent otherwise:
    # the aggregate's version grows by one with each change, so a read model can tell a
    # newer fact from a late or redelivered older one.
    aggregate_type = fields.String(load_default=None, allow_none=True,
                                   validate=validate.Length(min=1, max=100))
    aggregate_id = fields.String(load_default=None, allow_none=True,
                                 validate=validate.Length(min=1, max=200))
    aggregate_version = fields.Integer(load_default=None, allow_none=True, strict=True,
                                       validate=validate.Range(min=1))

    @validates_schema
    def _aggregate_all_or_nothing(self, data, **kwargs):
        present = [data.get(name) is not None for name in AGGREGATE_FIELDS]
        if any(present) and not all(present):
            raise ValidationError("aggregate_type, aggregate_id and aggregate_version"
                                  " go together", "aggregate_version")


AGGREGATE_FIELDS = ("aggregate_type", "aggregate_id", "aggregate_version")


# --- payloads -------------------------------------------------------------------------------

class AccountCreatedV1(Contract):
    account_id = fields.String(required=True)
    email = fields.Email(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    locale = fields.String(load_default="id", dump_default="id")


class AccountUpdatedV1(Contract):
    """An account's role or password changed: its snapshot, at the envelope's version."""
    account_id = fields.String(required=True)
    email = fields.Email(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    locale = fields.String(load_default="id", dump_default="id")
    phone = fields.String(allow_none=True, load_default=None)


class CertificationFacts(Contract):
    kind = fields.String(required=True)
    number = fields.String(required=True)
    valid_until = fields.Date(required=True)


class BusinessFacts(Contract):
    """What other services keep in their read models of a business: the whole snapshot, in
    every business.* event (for the certification and readiness events under ``business``),
    so a read model that skips an older fact loses nothing."""
    business_id = fields.String(required=True)
    owner_account_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(BUSINESS_KINDS))
    sector = fields.String(required=True)
    kecamatan = fields.String(required=True, validate=validate.OneOf(KECAMATAN))
    status = fields.String(required=True, validate=validate.OneOf(BUSINESS_STATUSES))
    export_ready = fields.List(fields.String(), load_default=list, metadata={
        "description": "The markets the business is ready to export to"})
    certifications = fields.List(fields.Nested(CertificationFacts), load_default=list, metadata={
        "description": "Certifications the city confirmed that have not expired"})


class BusinessRegisteredV1(BusinessFacts):
    pass


class BusinessVerifiedV1(BusinessFacts):
    note = fields.String(load_default=None, allow_none=True)


class BusinessRejectedV1(BusinessFacts):
    note = fields.String(load_default=None, allow_none=True)


class BusinessResubmittedV1(BusinessFacts):
    pass


class BusinessUpdatedV1(BusinessFacts):
    """The facts changed while the business was not yet verified (its legal identity is fixed
    once verified)."""


class BusinessCertificationAddedV1(Contract):
    """A business claimed a certification; it counts once confirmed."""
    business_id = fields.String(required=True)
    certification_id = fields.String(required=True)
    kind = fields.String(required=True)
    number = fields.String(required=True)
    valid_until = fields.Date(required=True)
    business = fields.Nested(BusinessFacts, required=True)


class BusinessCertificationReviewedV1(BusinessCertificationAddedV1):
    note = fields.String(load_default=None, allow_none=True)


class BusinessCertificationConfirmedV1(BusinessCertificationReviewedV1):
    pass


class BusinessCertificationRefusedV1(BusinessCertificationReviewedV1):
    pass


class MarketReadinessPayload(Contract):
    market = fields.String(required=True)
    ready = fields.Boolean(required=True)
    missing = fields.List(fields.String(), required=True)


class BusinessExportReadinessChangedV1(Contract):
    business_id = fields.String(required=True)
    export_ready = fields.List(fields.String(), required=True)
    markets = fields.List(fields.Nested(MarketReadinessPayload), required=True)
    business = fields.Nested(BusinessFacts, required=True)


class Reason(Contract):
    """One human-readable reason for an expo decision, in Indonesian and English."""
    code = fields.String(required=True)
    id = fields.String(required=True)
    en = fields.String(required=True)


class ExpoApplicationSubmittedV1(Contract):
    """A business applied for a booth; notify tells its owner."""
    application_id = fields.String(required=True)
    expo_id = fields.String(required=True)
    expo_name = fields.String(required=True)
    business_id = fields.String(required=True)
    business_name = fields.String(required=True)
    owner_account_id = fields.String(required=True)
    sector = fields.String(required=True)
    preferred_zones = fields.List(fields.String(), load_default=list)
    booth_type = fields.String(load_default=None, allow_none=True)


class ExpoBoothDecisionV1(Contract):
    """What every booth decision about an application carries (aggregate: the application)."""
    application_id = fields.String(required=True)
    expo_id = fields.String(required=True)
    expo_name = fields.String(required=True)
    business_id = fields.String(required=True)
    owner_account_id = fields.String(required=True)
    reasons = fields.List(fields.Nested(Reason), required=True)


class ExpoBoothAllocatedV1(ExpoBoothDecisionV1):
    booth_code = fields.String(required=True)


class ExpoApplicationWaitlistedV1(ExpoBoothDecisionV1):
    position = fields.Integer(load_default=None, allow_none=True, metadata={
        "description": "Place in the expo's waiting list, 1 first"})


class ExpoBoothOfferedV1(ExpoBoothDecisionV1):
    """A freed booth held for a waitlisted applicant until ``hold_expires_at``."""
    booth_code = fields.String(required=True)
    hold_expires_at = fields.AwareDateTime(required=True)


class ExpoBoothReleasedV1(ExpoBoothDecisionV1):
    """A held or allocated booth is free again (declined, expired, withdrawn, rejected)."""
    booth_code = fields.String(required=True)


ORDER_STATUSES = ("placed", "confirmed", "shipped", "received", "cancelled")
PAYMENT_METHODS = ("qris", "transfer", "cod")


class OrderLine(Contract):
    """One product of an order at the price fixed when it was placed."""
    product_id = fields.String(required=True)
    name = fields.String(required=True)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    unit_price_idr = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


class OrderPart(Contract):
    """One vendor's share of an order: only that vendor is told about these lines."""
    business_id = fields.String(required=True)
    account_id = fields.String(required=True, metadata={
        "description": "The vendor: the business owner's account"})
    lines = fields.List(fields.Nested(OrderLine), required=True,
                        validate=validate.Length(min=1))
    total_idr = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    part_id = fields.String(load_default=None, allow_none=True)
    payment_method = fields.String(load_default=None, allow_none=True,
                                   validate=validate.OneOf(PAYMENT_METHODS))


class OrderPlacedV1(Contract):
    """A buyer placed an order (aggregate: the order), one part per vendor."""
    order_id = fields.String(required=True)
    buyer_account_id = fields.String(required=True)
    parts = fields.List(fields.Nested(OrderPart), required=True,
                        validate=validate.Length(min=1))
    total_idr = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    payment_method = fields.String(load_default=None, allow_none=True,
                                   validate=validate.OneOf(PAYMENT_METHODS))


class OrderStatusChangedV1(Contract):
    """One vendor's part of an order moved from one status to another."""
    order_id = fields.String(required=True)
    buyer_account_id = fields.String(required=True)
    from_status = fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))
    to_status = fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))
    part = fields.Nested(OrderPart, required=True)
    order_status = fields.String(load_default=None, allow_none=True,
                                 validate=validate.OneOf(ORDER_STATUSES), metadata={
                                     "description": "The whole order's status after the move"})
    actor = fields.String(load_default=None, allow_none=True,
                          validate=validate.OneOf(("buyer", "vendor", "timer")), metadata={
                              "description": "timer: a prepaid part left unpaid too long"})


class OrderPartPaidV1(Contract):
    """The vendor recorded the payment of its part of an order (aggregate: the order)."""
    order_id = fields.String(required=True)
    part_id = fields.String(required=True)
    buyer_account_id = fields.String(required=True)
    business_id = fields.String(required=True)
    account_id = fields.String(required=True, metadata={"description": "The vendor"})
    payment_method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS))
    amount_idr = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    reference = fields.String(load_default=None, allow_none=True)
    paid_at = fields.AwareDateTime(required=True)


class ProductFacts(Contract):
    """The whole product after a catalogue fact (aggregate: the product, with its version), so
    a read model or cache that skips an older fact loses nothing; ``owner_account_id`` is the
    vendor to tell."""
    product_id = fields.String(required=True)
    business_id = fields.String(required=True)
    owner_account_id = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    category = fields.String(required=True)
    price_idr = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    stock = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    unit = fields.String(required=True)
    images = fields.List(fields.String(), required=True)
    featured = fields.Boolean(required=True)
    hidden = fields.Boolean(required=True)


class ProductListedV1(ProductFacts):
    """A vendor put a new product in the catalogue."""


class ProductChangedV1(ProductFacts):
    """A product's fields, stock, featuring or visibility changed; the snapshot after it."""


class ProductHiddenV1(ProductFacts):
    """An organizer hid a product that breaks the catalogue's rules; notify tells the vendor."""
    business_name = fields.String(required=True)
    reason = fields.String(required=True)
    hidden_by = fields.String(required=True)


class StockDepletedV1(Contract):
    """A product's stock reached zero (aggregate: the product, at the version that did it)."""
    product_id = fields.String(required=True)
    business_id = fields.String(required=True)
    owner_account_id = fields.String(required=True)
    name = fields.String(required=True)


def business_snapshot(event):
    """The business as it stood after any business.* event: the payload itself for the status
    events, its ``business`` for the certification and readiness events."""
    return event.payload.get("business") or event.payload


CONTRACTS = {
    ("account.created", 1): AccountCreatedV1,
    ("account.updated", 1): AccountUpdatedV1,
    ("business.registered", 1): BusinessRegisteredV1,
    ("business.verified", 1): BusinessVerifiedV1,
    ("business.rejected", 1): BusinessRejectedV1,
    ("business.resubmitted", 1): BusinessResubmittedV1,
    ("business.updated", 1): BusinessUpdatedV1,
    ("business.certification_added", 1): BusinessCertificationAddedV1,
    ("business.certification_confirmed", 1): BusinessCertificationConfirmedV1,
    ("business.certification_refused", 1): BusinessCertificationRefusedV1,
    ("business.export_readiness_changed", 1): BusinessExportReadinessChangedV1,
    ("expo.application_submitted", 1): ExpoApplicationSubmittedV1,
    ("expo.booth_allocated", 1): ExpoBoothAllocatedV1,
    ("expo.application_waitlisted", 1): ExpoApplicationWaitlistedV1,
    ("expo.booth_offered", 1): ExpoBoothOfferedV1,
    ("expo.booth_released", 1): ExpoBoothReleasedV1,
    ("order.placed", 1): OrderPlacedV1,
    ("order.status_changed", 1): OrderStatusChangedV1,
    ("order.part_paid", 1): OrderPartPaidV1,
    ("product.listed", 1): ProductListedV1,
    ("product.changed", 1): ProductChangedV1,
    ("product.hidden", 1): ProductHiddenV1,
    ("stock.depleted", 1): StockDepletedV1,
}


def latest_version(event_type):
    versions = [version for (kind, version) in CONTRACTS if kind == event_type]
    if not versions:
        raise KeyError(f"no contract for event type {event_type!r}")
    return max(versions)


# --- events ---------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Event:
    event_id: uuid.UUID
    event_type: str
    version: int
    occurred_at: dt.datetime
    source: str
    request_id: str | None
    payload: dict
    aggregate_type: str | None = None
    aggregate_id: str | None = None
    aggregate_version: int | None = None

    @property
    def aggregate(self):
        """(type, id, version) of the aggregate this fact is about, or None."""
        if self.aggregate_version is None:
            return None
        return (self.aggregate_type, self.aggregate_id, self.aggregate_version)

    def to_message(self):
        """The JSON-ready body that travels on the broker."""
        return EventEnvelope().dump(dataclasses.asdict(self) | {
            "payload": CONTRACTS[(self.event_type, self.version)]().dump(self.payload)})


def new_event(event_type, payload, *, source, request_id=None, version=None, now=None,
              aggregate=None):
    """Build an event, validating the payload against its contract as the producer's own check.

    ``aggregate`` is ``(aggregate_type, aggregate_id, aggregate_version)`` for a fact about
    one aggregate, None otherwise.
    """
    version = version or latest_version(event_type)
    schema = CONTRACTS[(event_type, version)]()
    try:
        loaded = schema.load(schema.dump(payload))
    except ValidationError as exc:
        raise ValueError(
            f"{event_type} v{version} payload breaks its contract: {exc.messages}") from None
    return Event(
        event_id=uuid.uuid4(),
        event_type=event_type,
        version=version,
        occurred_at=now or clock.now(),
        source=source,
        request_id=request_id,
        payload=loaded,
        **_aggregate_fields(event_type, aggregate),
    )


def _aggregate_fields(event_type, aggregate):
    if aggregate is None:
        return {}
    try:
        aggregate_type, aggregate_id, aggregate_version = aggregate
    except (TypeError, ValueError):
        raise ValueError(f"{event_type}: aggregate is (type, id, version),"
                         f" got {aggregate!r}") from None
    if not aggregate_type or not aggregate_id:
        raise ValueError(f"{event_type}: aggregate type and id are required, got {aggregate!r}")
    if type(aggregate_version) is not int or aggregate_version < 1:
        raise ValueError(f"{event_type}: aggregate version is an integer >= 1,"
                         f" got {aggregate_version!r}")
    return {"aggregate_type": str(aggregate_type), "aggregate_id": str(aggregate_id),
            "aggregate_version": aggregate_version}


def event_from_message(body):
    """Validate a received body against the envelope and its payload's contract."""
    if not isinstance(body, dict):
        raise InvalidEvent(f"an event body is a JSON object, got {type(body).__name__}")
    try:
        envelope = EventEnvelope().load(body)
    except ValidationError as exc:
        raise InvalidEvent(f"bad envelope: {exc.messages}") from None
    schema_class = CONTRACTS.get((envelope["event_type"], envelope["version"]))
    if schema_class is None:
        raise InvalidEvent(
            f"no contract for {envelope['event_type']} v{envelope['version']}")
    try:
        payload = schema_class().load(envelope["payload"])
    except ValidationError as exc:
        raise InvalidEvent(f"payload breaks {envelope['event_type']} v{envelope['version']}: "
                           f"{exc.messages}") from None
    return Event(**(envelope | {"payload": payload}))
