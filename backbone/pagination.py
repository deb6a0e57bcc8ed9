"""Cursor pagination, the contract's way: ``{"items": [...], "next_cursor": "..." | null}``.

A cursor is the sort key of the last item a client saw, opaque to it (url-safe base64 of
JSON). Queries fetch ``limit + 1`` rows: the extra one only tells whether a next page exists.
"""
import base64
import binascii
import json

from marshmallow import Schema, fields, validate

from backbone.errors import ValidationFailed

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class PageQuery(Schema):
    limit = fields.Integer(load_default=DEFAULT_LIMIT,
                           validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(load_default=None, validate=validate.Length(max=500))


def encode_cursor(*values):
    raw = json.dumps([str(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor, arity):
    """The values a cursor carries, or a 422 naming the ``cursor`` field."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != arity:
        raise ValidationFailed("The cursor is not valid.", fields={"cursor": [
            "Not a cursor this list gave out."]})
    return values


def page(rows, limit, key):
    """Cut ``limit + 1`` fetched rows into a page and the cursor to the next one."""
    items = rows[:limit]
    next_cursor = encode_cursor(*key(items[-1])) if len(rows) > limit else None
    return {"items": items, "next_cursor": next_cursor}
