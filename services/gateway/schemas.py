"""Shapes that exist only at the HTTP edge; the services' own schemas describe the rest."""
from marshmallow import Schema, fields


class ErrorBody(Schema):
    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True)
    fields = fields.Dict(keys=fields.String(), values=fields.Raw(),
                         metadata={"description": "Per-field messages, when fields are at fault"})


class ErrorResponse(Schema):
    error = fields.Nested(ErrorBody, required=True)


class Token(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds"})
    role = fields.String(required=True)
    account_id = fields.String(required=True)
