"""An in-process HTTP server that speaks the WhatsApp Business Cloud API's send endpoint, as
far as Laris uses it, so the WhatsApp channel's retries and dead letters are real HTTP.

``POST /{phone_number_id}/messages`` with ``Authorization: Bearer <token>`` and a template
message: checks what the real API checks (the token, the phone-number id, an approved template
name, as many body parameters as the template has, no new line in a parameter) and answers
``{"messages": [{"id": "wamid..."}]}`` or the API's error JSON. A test scripts the next
answers: ``refuse_next(status, code, message)`` (as often as called, in order) and
``stall_next(seconds)`` (answers only after that long, with a 504, without taking the
message: a request lost to the client's timeout).

It also builds what the API sends back: ``status_callback(...)`` is the JSON of a delivery
status webhook, and ``signature(body)`` its ``X-Hub-Signature-256`` under the app secret.
"""
import collections
import hashlib
import hmac
import http.server
import json
import threading
import time
import uuid

from services.notify import whatsapp

TOKEN = "test-whatsapp-token"
PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "test-whatsapp-app-secret"
VERIFY_TOKEN = "test-whatsapp-verify-token"
BUSINESS_ACCOUNT_ID = "102290129340398"

# The approved templates as the API knows them: name -> parameter count, per language.
APPROVED = {(spec["name"], locale): whatsapp.parameter_count(spec[locale])
            for spec in whatsapp.TEMPLATES.values() for locale in ("id", "en")}


def error_body(code, message, error_type="OAuthException", details=None):
    error = {"message": message, "type": error_type, "code": code,
             "fbtrace_id": uuid.uuid4().hex[:20]}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": error}


class FakeWhatsApp:
    def __init__(self):
        self.sent = []            # every accepted message: to, template, language, parameters
        self.requests = 0         # every POST to the messages endpoint, accepted or not
        self._script = collections.deque()
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = None

    # --- life cycle -------------------------------------------------------------------------

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}/v21.0"

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="fake-whatsapp")
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def env(self):
        """The settings that point a Laris process at this server."""
        return {"LARIS_WHATSAPP_BASE_URL": self.base_url,
                "LARIS_WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
                "LARIS_WHATSAPP_TOKEN": TOKEN, "LARIS_WHATSAPP_APP_SECRET": APP_SECRET,
                "LARIS_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
                # Short, so that a stalled answer is a timeout within a test.
                "LARIS_WHATSAPP_TIMEOUT_SECONDS": "1"}

    def client(self, timeout_seconds=2.0):
        return whatsapp.WhatsAppCloud(self.base_url, PHONE_NUMBER_ID, TOKEN, timeout_seconds)

    # --- what a test scripts and reads ------------------------------------------------------

    def refuse_next(self, status, code, message, error_type="OAuthException", details=None):
        with self._lock:
            self._script.append(("refuse", status, error_body(code, message, error_type,
                                                              details)))

    def stall_next(self, seconds):
        with self._lock:
            self._script.append(("stall", seconds, None))

    def sent_to(self, phone):
        with self._lock:
            return [message for message in self.sent if message["to"] == phone]

    # --- what the API sends back ------------------------------------------------------------

    @staticmethod
    def status_callback(message_id, status, recipient, errors=None):
        """A delivery-status webhook body as the Cloud API posts it."""
        entry = {"id": message_id, "status": status, "timestamp": str(int(time.time())),
                 "recipient_id": recipient}
        if errors:
            entry["errors"] = errors
        return {"object": "whatsapp_business_account", "entry": [{
            "id": BUSINESS_ACCOUNT_ID, "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "6281100000000",
                             "phone_number_id": PHONE_NUMBER_ID},
                "statuses": [entry]}}]}]}

    @staticmethod
    def signature(body, secret=APP_SECRET):
        return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

    # --- the HTTP side ----------------------------------------------------------------------

    def _next_scripted(self):
        with self._lock:
            return self._script.popleft() if self._script else None

    def _answer(self, path, headers, body):
        """(status, JSON) for one POST."""
        with self._lock:
            self.requests += 1
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, error_body(190, "Invalid OAuth access token - Cannot parse access "
                                        "token")
        if path != f"/v21.0/{PHONE_NUMBER_ID}/messages":
            return 400, error_body(100, "Unsupported post request.", "GraphMethodException")
        scripted = self._next_scripted()
        if scripted is not None:
            kind, value, answer = scripted
            if kind == "stall":
                time.sleep(value)
                return 504, error_body(1, "Please retry your request later.")
            return value, answer
        return self._accept(body)

    def _accept(self, body):
        try:
            message = json.loads(body)
            template = message["template"]
            parameters = [p["text"] for p in template["components"][0]["parameters"]]
            key = (template["name"], template["language"]["code"])
            to = message["to"]
        except (ValueError, KeyError, IndexError, TypeError):
            return 400, error_body(100, "(#100) Invalid parameter")
        if message.get("messaging_product") != "whatsapp" or message.get("type") != "template":
            return 400, error_body(100, "(#100) Invalid parameter")
        if key not in APPROVED:
            return 404, error_body(132001, "(#132001) Template name does not exist in the "
                                           "translation")
        if len(parameters) != APPROVED[key]:
            return 400, error_body(132000, "(#132000) Number of parameters does not match "
                                           "the expected number of params")
        if any(not text or "\n" in text or "\t" in text for text in parameters):
            return 400, error_body(131008, "(#131008) Required parameter is missing or "
                                           "has a new line")
        message_id = "wamid." + uuid.uuid4().hex
        with self._lock:
            self.sent.append({"id": message_id, "to": to, "template": key[0],
                              "language": key[1], "parameters": parameters})
        return 200, {"messaging_product": "whatsapp",
                     "contacts": [{"input": to, "wa_id": to}],
                     "messages": [{"id": message_id}]}

    def _handler(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = fake._answer(self.path, self.headers, body)
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a stalled answer)

            def log_message(self, *args):
                pass

        return Handler
