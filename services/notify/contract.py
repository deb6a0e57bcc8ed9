"""The notify service's public contract: what the gateway may import.

Request and response schemas of notify's RPC methods (the gateway documents its HTTP bodies
with them) and the error codes it answers with. Nothing here touches the domain or the
database: notify validates against these schemas (it is the authority).
"""
from marshmallow import Schema, fields, validate

from backbone.fields import Text
from backbone.pagination import PageQuery

REF_TYPES = ("business", "application", "order", "product")
ERROR_CODES = ("validation_error", "not_found", "unauthorized", "forbidden", "conflict",
               "service_busy")
# The kinds of notification (the events that cause them); a unit test holds this to the
# domain's rules.
NOTIFICATION_KINDS = (
    "business.verified", "business.rejected", "business.certification_confirmed",
    "business.certification_refused", "expo.booth_allocated", "expo.application_waitlisted",
    "expo.booth_offered", "expo.booth_released", "order.placed", "order.status_changed",
    "order.part_paid", "product.hidden", "stock.depleted",
    # Reminders, from notify's own timer (services/notify/reminders.py).
    "reminder.certification_expiring", "reminder.booth_offer_expiring",
    "reminder.order_unconfirmed")
# Where a notification may go besides the inbox, which is always on.
DELIVERY_CHANNELS = ("email", "webhook", "whatsapp")
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "cancelled")
CLOCK_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class NotificationListQuery(PageQuery):
    # Exactly the two spellings a boolean has in a query string, as the document says.
    unread = fields.Boolean(load_default=None, truthy={"true"}, falsy={"false"}, metadata={
        "description": "true: unread only; false: read only; absent: all"})


class Ref(Schema):
    type = fields.String(metadata={"enum": list(REF_TYPES),
                                   "description": "What the notification is about"})
    id = fields.String()


class Notification(Schema):
    id = fields.String()
    kind = fields.String(metadata={"description": "The event that caused it, e.g. "
                                                  "order.placed"})
    subject = fields.String()
    body = fields.String(metadata={"description": "In the recipient's language (Indonesian "
                                                  "unless the account says English)"})
    ref = fields.Nested(Ref)
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)


class NotificationPage(Schema):
    items = fields.List(fields.Nested(Notification))
    next_cursor = fields.String(allow_none=True)
    unread_count = fields.Integer(metadata={"description": "The caller's unread "
                                                           "notifications, whatever the filter"})


# --- preferences ----------------------------------------------------------------------------

def _kind(**kwargs):
    return Text(60, validate=validate.OneOf(NOTIFICATION_KINDS), **kwargs)


class QuietHours(Schema):
    start = Text(5, required=True, validate=validate.Regexp(CLOCK_TIME), metadata={
        "description": "HH:MM in WIB, e.g. 21:00", "example": "21:00"})
    end = Text(5, required=True, validate=validate.Regexp(CLOCK_TIME), metadata={
        "description": "HH:MM in WIB, e.g. 07:00 (may be earlier than start: across "
                       "midnight)", "example": "07:00"})


def channels_field(kind):
    """The attribute of ``ChannelsByKind`` for ``kind`` (marshmallow reads a dot in an
    attribute's name as a path)."""
    return kind.replace(".", "__")


# One optional property per kind, so the document names every key a client may send.
ChannelsByKind = Schema.from_dict({
    channels_field(kind): fields.List(
        Text(20, validate=validate.OneOf(DELIVERY_CHANNELS)), data_key=kind,
        validate=validate.Length(max=len(DELIVERY_CHANNELS)))
    for kind in NOTIFICATION_KINDS}, name="ChannelsByKind")


CHANNELS_DESCRIPTION = ("Per kind of notification, the channels wanted besides the inbox "
                        "(always on); a kind not named gets every channel, [] none.")
CHANNELS_EXAMPLE = {"order.placed": ["email", "webhook"], "business.verified": []}


class PreferencesUpdate(Schema):
    """What PUT replaces the caller's preferences with: ``channels``, per kind of
    notification, the channels wanted besides the inbox (always on; a kind not named gets
    every channel, [] none; absent: every channel for every kind); ``quiet_hours`` in WIB,
    during which WhatsApp waits (the inbox and e-mail go at once; absent, or start equal to
    end: none)."""
    channels = fields.Nested(ChannelsByKind, load_default=dict)
    quiet_hours = fields.Nested(QuietHours)


class Preferences(Schema):
    channels = fields.Nested(ChannelsByKind, metadata={
        "description": CHANNELS_DESCRIPTION, "example": CHANNELS_EXAMPLE})
    quiet_hours = fields.Nested(QuietHours, allow_none=True, metadata={
        "description": "null: none"})


# --- webhooks -------------------------------------------------------------------------------

class WebhookCreate(Schema):
    url = Text(2000, required=True, metadata={
        "description": "https:// (plain http only to this machine, in development)",
        "example": "https://toko.example.id/laris/webhook"})
    events = fields.List(_kind(), required=True,
                         validate=validate.Length(min=1, max=len(NOTIFICATION_KINDS)))


class Webhook(Schema):
    id = fields.String()
    url = fields.String()
    events = fields.List(fields.String())
    created_at = fields.AwareDateTime()


class WebhookCreated(Webhook):
    secret = fields.String(metadata={
        "description": "whsec_ + base64 of the HMAC-SHA256 key that signs each request "
                       "(docs/notifications.md): shown this once only"})


class WebhookListQuery(PageQuery):
    """The caller's webhooks, newest first."""


class WebhookPage(Schema):
    items = fields.List(fields.Nested(Webhook))
    next_cursor = fields.String(allow_none=True)


# --- deliveries (admin) ---------------------------------------------------------------------

class DeliveryListQuery(PageQuery):
    status = Text(20, load_default=None, validate=validate.OneOf(DELIVERY_STATUSES))


class Delivery(Schema):
    id = fields.String()
    notification_id = fields.String()
    account_id = fields.String()
    kind = fields.String()
    channel = fields.String(metadata={"enum": list(DELIVERY_CHANNELS)})
    destination = fields.String(metadata={"description": "The webhook's id; empty for a "
                                                         "channel with one address"})
    status = fields.String(metadata={"enum": list(DELIVERY_STATUSES)})
    attempts = fields.Integer()
    next_attempt_at = fields.AwareDateTime()
    last_error = fields.String(allow_none=True, metadata={
        "description": "Why the last try failed (for a failed one: why it was given up)"})
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    provider_status = fields.String(allow_none=True, metadata={
        "description": "WhatsApp: the furthest status the Cloud API reported for the message "
                       "(sent, delivered, read, failed; docs/whatsapp.md); null before any, "
                       "and on other channels"})


class DeliveryPage(Schema):
    items = fields.List(fields.Nested(Delivery))
    next_cursor = fields.String(allow_none=True)


# --- whatsapp -------------------------------------------------------------------------------

class WhatsAppOptIn(Schema):
    phone = Text(32, required=True, metadata={
        "description": "An Indonesian mobile number in any usual spelling; kept in E.164",
        "example": "0812-3456-7890"})


class WhatsAppNumber(Schema):
    phone = fields.String(metadata={"description": "E.164 without the plus, as the WhatsApp "
                                                   "Cloud API addresses it",
                                    "example": "6281234567890"})
    opted_in_at = fields.AwareDateTime()


class WhatsAppStatus(Schema):
    """One status the Cloud API reported, as the gateway's webhook forwards it (docs/whatsapp.md);
    a status we do not track (anything but sent, delivered, read, failed) is ignored."""
    id = Text(200, required=True, metadata={"description": "The message's wamid"})
    status = Text(20, required=True)
    timestamp = Text(20, required=True, validate=validate.Regexp(r"^[0-9]{1,20}$"),
                     metadata={"description": "Unix seconds"})
    errors = fields.List(fields.Dict(), load_default=list, validate=validate.Length(max=10))


class WhatsAppStatusReport(Schema):
    statuses = fields.List(fields.Nested(WhatsAppStatus), required=True,
                           validate=validate.Length(max=1000))


# What callers send; a unit test holds every string field in them to backbone.fields.Text.
REQUEST_SCHEMAS = (NotificationListQuery, PreferencesUpdate, WebhookCreate, WebhookListQuery,
                   DeliveryListQuery, WhatsAppOptIn, WhatsAppStatusReport)
