"""The WhatsApp Cloud API's delivery-status webhook (docs/whatsapp.md).

A view of its own rather than a ``route()``: the signature covers the raw body exactly as
received, which ``route()`` does not keep, and the signature is the request's authentication
(Meta sends no token), so no role applies. A forged or unsigned request never reaches notify.
"""
import hashlib
import hmac
import json
import re

from flask import Blueprint, Response, request

from backbone import config
from services.gateway.errors import error_response
from services.gateway.http import reply
from services.gateway.rpc import call

blp = Blueprint("whatsapp_webhook", __name__, url_prefix="/api/v1/whatsapp")
SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PREFIX = "sha256="
# Meta's challenges are numbers; anything else is not echoed back.
CHALLENGE = re.compile(r"^[0-9A-Za-z_-]{1,200}$")


def signature_matches(raw_body, header, app_secret):
    """``header`` is ``sha256=`` and the hex HMAC-SHA256 of ``raw_body`` under the app
    secret; compared in constant time."""
    if not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len(SIGNATURE_PREFIX):].lower().encode(),
                               expected.encode())


def statuses_in(body):
    """The message statuses a webhook body carries (entry[].changes[].value.statuses[]),
    reduced to what notify keeps; inbound messages and other fields are ignored."""
    found = []
    for entry in _dicts(body.get("entry") if isinstance(body, dict) else None):
        for change in _dicts(entry.get("changes")):
            value = change.get("value") if isinstance(change.get("value"), dict) else {}
            for status in _dicts(value.get("statuses")):
                found.append({"id": status.get("id"), "status": status.get("status"),
                              "timestamp": status.get("timestamp"),
                              "errors": status.get("errors") or []})
    return found


def _dicts(items):
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


@blp.get("/webhook")
def verify_subscription():
    """Meta's handshake: the challenge comes back when the verify token is ours."""
    expected = config.env("LARIS_WHATSAPP_VERIFY_TOKEN")
    given = request.args.get("hub.verify_token", "")
    if (request.args.get("hub.mode") != "subscribe" or not expected
            or not hmac.compare_digest(given.encode(), expected.encode())):
        return error_response("forbidden", "The verify token does not match.")
    challenge = request.args.get("hub.challenge", "")
    if not CHALLENGE.fullmatch(challenge):
        return error_response("validation_error", "hub.challenge is missing or malformed.",
                              status=400)
    return Response(challenge, mimetype="text/plain")


@blp.post("/webhook")
def receive_statuses():
    app_secret = config.env("LARIS_WHATSAPP_APP_SECRET")
    raw_body = request.get_data(cache=True)
    if not app_secret or not signature_matches(raw_body, request.headers.get(
            SIGNATURE_HEADER, ""), app_secret):
        return error_response("unauthorized",
                              f"The {SIGNATURE_HEADER} signature does not match the body.")
    try:
        body = json.loads(raw_body)
    except ValueError:
        return error_response("validation_error", "The body is not JSON.", status=400)
    return reply(call("notify", "record_whatsapp_statuses", {"statuses": statuses_in(body)}))
