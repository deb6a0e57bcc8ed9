"""Field types every service's contract uses at its boundary.

``Text`` is the only string field a request schema may use: it always has a maximum length
(an unbounded string is a way to fill a disk or break an index), and it refuses the characters
no column or JSON consumer downstream can hold: NUL (PostgreSQL text cannot store it) and lone
UTF-16 surrogates (they cannot be encoded as UTF-8). A test walks every contract to hold every
string field to this.
"""
import re
import uuid

from marshmallow import ValidationError, fields, validate

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# What the OpenAPI document says of a Text without a pattern of its own (JSON cannot carry a
# lone surrogate as UTF-8 anyway).
NO_NUL_PATTERN = r"^[^\x00]*$"
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_CANONICAL_UUID = re.compile(UUID_PATTERN)


def check_storable(value):
    if _UNSTORABLE.search(value):
        raise ValidationError("Must not contain NUL characters or unpaired surrogates.")


class Text(fields.String):
    """A bounded string of storable characters; ``min_length`` defaults to 1 (say 0 to allow
    the empty string)."""

    def __init__(self, max_length, min_length=1, **kwargs):
        self.max_length = max_length
        extra = kwargs.pop("validate", None)
        checks = [validate.Length(min=min_length, max=max_length)]
        if extra is not None:
            checks.extend(extra if isinstance(extra, (list, tuple)) else [extra])
        super().__init__(validate=checks, **kwargs)
        if not any(isinstance(check, validate.Regexp) for check in checks):
            self.metadata.setdefault("pattern", NO_NUL_PATTERN)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        check_storable(text)
        return text


class Email(Text):
    """An e-mail address as RFC 5321 bounds it (254 characters)."""

    def __init__(self, **kwargs):
        super().__init__(254, validate=validate.Email(), **kwargs)
        self.metadata.setdefault("format", "email")


class Id(Text):
    """An id the system gave out: a UUID in its canonical lower-case form only, so the same id
    has one spelling everywhere (``urn:uuid:...``, braces or upper case are refused)."""

    def __init__(self, **kwargs):
        super().__init__(36, min_length=36, validate=validate.Regexp(UUID_PATTERN), **kwargs)
        self.metadata.setdefault("format", "uuid")


def parse_id(value):
    """The UUID ``value`` names in canonical form, else None (callers answer 404)."""
    if not isinstance(value, str) or not _CANONICAL_UUID.fullmatch(value):
        return None
    return uuid.UUID(value)
