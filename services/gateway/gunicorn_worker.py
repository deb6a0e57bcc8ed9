"""gunicorn's gthread worker, except that the errors gunicorn answers itself (a request it
could not parse never reaches Flask) are JSON in the contract's shape instead of HTML.

gunicorn.conf.py names this class. The codes are those of the gateway's error table
(errors.STATUS_BY_CODE); this module does not import it, because gunicorn's master process
loads the worker class and has no need of the app's imports.
"""
import json

from gunicorn import util
from gunicorn.http import errors as http_errors
from gunicorn.workers.gthread import ThreadWorker

from services.gateway.security_headers import ALWAYS, JSON_POLICY

# (error class, status, reason phrase, code, message), first match wins.
PARSE_ERRORS = (
    ((http_errors.InvalidResponseHeader, http_errors.InvalidResponseHeaderName,
      http_errors.ConfigurationProblem),
     500, "Internal Server Error", "internal_error", "Something went wrong on our side."),
    (http_errors.LimitRequestLine, 414, "URI Too Long", "uri_too_long",
     "The request line (method and URL) is too long."),
    (http_errors.LimitRequestHeaders, 431, "Request Header Fields Too Large",
     "headers_too_large", "The request has too many headers, or a header is too large."),
    (http_errors.ForbiddenProxyRequest, 403, "Forbidden", "forbidden",
     "Proxy requests are not accepted from this address."),
    (http_errors.UnsupportedTransferCoding, 501, "Not Implemented", "not_implemented",
     "That Transfer-Encoding is not supported."),
    (http_errors.ExpectationFailed, 417, "Expectation Failed", "expectation_failed",
     "Only 'Expect: 100-continue' is supported."),
    (http_errors.ParseException, 400, "Bad Request", "bad_request",
     "The request is not well-formed HTTP."),
)
UNEXPECTED = (500, "Internal Server Error", "internal_error", "Something went wrong on our side.")


def classify(exc):
    """(status, reason, code, message) of the answer to an error gunicorn caught."""
    for error_classes, *answer in PARSE_ERRORS:
        if isinstance(exc, error_classes):
            return tuple(answer)
    return UNEXPECTED


def error_bytes(status, reason, code, message):
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = {"Connection": "close", "Content-Type": "application/json",
               "Content-Length": str(len(body)), "Cache-Control": "no-store",
               "Content-Security-Policy": JSON_POLICY} | ALWAYS
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    return head.encode("latin-1") + body


class JsonErrorWorker(ThreadWorker):
    def handle_error(self, req, client, addr, exc):
        status, reason, code, message = classify(exc)
        if status == 500:
            self.log.exception("Error handling request")
        else:
            self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        try:
            util.write_nonblock(client, error_bytes(status, reason, code, message))
        except Exception:
            self.log.debug("Failed to send error message.")
