"""The notify service's public contract: what the gateway may import.

Request and response schemas of notify's RPC methods (the gateway documents its HTTP bodies
with them) and the error codes it answers with. Nothing here touches the domain or the
database: notify validates against these schemas (it is the authority).
"""
from marshmallow import Schema, fields

from backbone.pagination import PageQuery

REF_TYPES = ("business", "application", "order")
ERROR_CODES = ("validation_error", "not_found", "unauthorized", "service_busy")


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


# What callers send; a unit test holds every string field in them to backbone.fields.Text.
REQUEST_SCHEMAS = (NotificationListQuery,)
