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
