"""The gateway's one error table: whatever went wrong becomes the contract's error shape
``{"error": {"code", "message", "fields"}}`` with its status, never an HTML page or a trace."""
import json
import logging

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

from backbone.errors import BackendUnavailable, DomainError
from services.gateway.rpc import ServiceUnavailable

log = logging.getLogger(__name__)

STATUS_BY_CODE = {
    "bad_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "payload_too_large": 413,
    "uri_too_long": 414,
    "unsupported_media_type": 415,
    "expectation_failed": 417,
    "validation_error": 422,
    "rate_limited": 429,
    "headers_too_large": 431,
    "internal_error": 500,
    "not_implemented": 501,
    "service_unavailable": 503,
    # A service gave up on a statement that ran too long: it is up, only too busy right now.
    "service_busy": 503,
}
RETRY_AFTER_SECONDS = "5"
# A plain HTTP 503 is service_unavailable; only a service says service_busy.
CODE_BY_STATUS = {status: code for code, status in STATUS_BY_CODE.items()
                  if code != "service_busy"}


def error_response(code, message, fields=None, status=None, headers=None):
    body = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    response = jsonify(body)
    response.status_code = status or STATUS_BY_CODE[code]
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_domain_error(error):
    headers = {}
    if "retry_after" in error.details:
        headers["Retry-After"] = str(error.details["retry_after"])
    elif STATUS_BY_CODE.get(error.code) == 503:
        headers["Retry-After"] = RETRY_AFTER_SECONDS
    if error.code == "unauthorized":
        headers["WWW-Authenticate"] = "Bearer"
    return error_response(error.code, error.message, error.fields, headers=headers)


def from_http_exception(error):
    """Werkzeug's and flask-smorest's HTTP errors, webargs' validation errors included."""
    status = error.code or 500
    messages = (getattr(error, "data", None) or {}).get("messages")
    if status == 422 and messages:
        return error_response("validation_error", "Some fields are invalid.",
                              _flatten_locations(messages))
    if status == 400 and messages:
        return error_response("bad_request", "The request body is not valid JSON.")
    code = CODE_BY_STATUS.get(status, "bad_request" if status < 500 else "internal_error")
    return error_response(code, error.description or code.replace("_", " "), status=status)


def _flatten_locations(messages):
    """webargs keys messages by location (json, query); clients want the field names."""
    fields = {}
    for per_location in messages.values():
        fields.update(per_location if isinstance(per_location, dict) else {"_": per_location})
    return fields


def unexpected(error):
    log.exception("unhandled error", exc_info=error)
    return error_response("internal_error", "Something went wrong on our side.")


def _unavailable(message):
    return error_response("service_unavailable", message,
                          headers={"Retry-After": RETRY_AFTER_SECONDS})


def from_recursion_error(error):
    """JSON nested deeper than the parser's recursion limit (e.g. ``[[[[...``) is the client's
    mistake; any other RecursionError is our bug."""
    if _body_nests_too_deep():
        return error_response("bad_request", "The JSON body is nested too deeply.")
    return unexpected(error)


def _body_nests_too_deep():
    if not request.is_json:
        return False
    try:
        json.loads(request.get_data(cache=True))
    except RecursionError:
        return True
    except ValueError:
        pass
    return False


def register(app):
    app.register_error_handler(DomainError, from_domain_error)
    app.register_error_handler(HTTPException, from_http_exception)
    app.register_error_handler(RecursionError, from_recursion_error)
    app.register_error_handler(Exception, unexpected)
    app.register_error_handler(ServiceUnavailable, lambda error: _unavailable(
        f"{error.service} is not answering; try again shortly."))
    app.register_error_handler(BackendUnavailable, lambda error: _unavailable(
        "A database or broker behind the service is down; try again shortly."))
