"""Small helpers shared by the gateway's route modules."""
from flask import jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge


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


# A body over its route's limit but below this is read to its end before the 413, so the
# client (a phone uploading a too-large photo) gets the answer instead of a dropped connection
# (gunicorn drains only 64 KiB of a body the app did not read).
DRAINED_BODY_BYTES = 24 * 1024 * 1024
DRAIN_CHUNK_BYTES = 64 * 1024


def limit_body(max_bytes):
    """Allows this request's body up to ``max_bytes``; a larger one is a 413 at once."""
    request.max_content_length = max_bytes
    length = request.content_length
    if length is None or length <= max_bytes:
        return
    if length <= DRAINED_BODY_BYTES:
        stream = request.environ["wsgi.input"]
        while length > 0 and (chunk := stream.read(min(DRAIN_CHUNK_BYTES, length))):
            length -= len(chunk)
    raise RequestEntityTooLarge()
