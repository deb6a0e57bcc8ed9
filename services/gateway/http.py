"""Small helpers shared by the gateway's route modules."""
from flask import jsonify, request


def reply(body, status=200):
    """The services answer with JSON-ready dicts already shaped by their schemas."""
    response = jsonify(body)
    response.status_code = status
    return response


def json_body():
    """The raw JSON object the client sent: validated here by the route's schema, and again
    by the service that owns the rule."""
    return request.get_json(silent=True) or {}


def query_args():
    return request.args.to_dict()


def idempotency_key():
    """The client's ``Idempotency-Key`` header, for writes it may retry."""
    return request.headers.get("Idempotency-Key")


IDEMPOTENCY_KEY_DOC = {"parameters": [{
    "in": "header", "name": "Idempotency-Key", "required": False,
    "schema": {"type": "string", "maxLength": 200},
    "description": "Retrying with the same key and body returns the first result instead of "
                   "writing twice; the same key with another body is a 422."}]}
