"""Cursor pagination, the contract's way: ``{"items": [...], "next_cursor": "..." | null}``.

A cursor is the sort key of the last item a client saw, opaque to it (url-safe base64 of
JSON). Queries fetch ``limit + 1`` rows: the extra one only tells whether a next page exists.
"""
import base64
import binascii
import datetime as dt
import json

from marshmallow import Schema, fields, validate

from backbone.errors import ValidationFailed
from backbone.fields import Text, parse_id

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class PageQuery(Schema):
    limit = fields.Integer(load_default=DEFAULT_LIMIT,
                           validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = Text(500, load_default=None)


def encode_cursor(*values):
    raw = json.dumps([str(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor, *parsers):
    """The values a cursor carries, each converted by its parser, or a 422 naming ``cursor``.

    A cursor comes back from the client, so it is input like any other: every value is parsed
    to the type its query needs before it gets near SQL.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(parsers):
            raise ValueError("wrong arity")
        return [parse(value) for parse, value in zip(parsers, values, strict=True)]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise ValidationFailed("The cursor is not valid.", fields={"cursor": [
            "Not a cursor this list gave out."]}) from None


def timestamp(value):
    """A cursor's timezone-aware ISO 8601 timestamp."""
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a cursor's timestamp carries its offset")
    return moment


def identifier(value):
    parsed = parse_id(value)
    if parsed is None:
        raise ValueError("not an id")
    return parsed


def page(rows, limit, key):
    """Cut ``limit + 1`` fetched rows into a page and the cursor to the next one."""
    items = rows[:limit]
    next_cursor = encode_cursor(*key(items[-1])) if len(rows) > limit else None
    return {"items": items, "next_cursor": next_cursor}
