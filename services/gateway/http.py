"""Small helpers shared by the gateway's route modules."""
from flask import jsonify, request


def reply(body, status=200):
    """The services answer with JSON-ready dicts already shaped by their schemas."""
    response = jsonify(body)
    response.status_code = status
    return response


def json_body():
    """The JSON the client sent, forwarded as received: the service validates it (see
    routes.py). No body at all is an empty object, so the service names every missing
    field; a body that is not JSON is a 400, one of another media type a 415."""
    if not request.get_data(cache=True):
        return {}
    return request.get_json()
