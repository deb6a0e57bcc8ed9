"""A vendor's webhook endpoint, in the test process: a real HTTP server that verifies each
request as the receiver snippet of docs/notifications.md does, and records it.

A test scripts its next answers: ``answer_next(status)`` (e.g. 503) and ``stall_next(seconds)``
(answers only after that long: the sender's timeout), used in order, then 204s.
"""
import base64
import collections
import hashlib
import hmac
import http.server
import json
import threading
import time


def verify(secret, headers, body, tolerance_seconds=300, now=None):
    """The receiver's check of a Standard Webhooks signature (as in docs/notifications.md):
    True when one of the ``v1,`` signatures is the HMAC-SHA256 of "id.timestamp.body" under
    the secret's key and the timestamp is recent."""
    message_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    if abs((now or time.time()) - int(timestamp)) > tolerance_seconds:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, candidate.removeprefix("v1,"))
               for candidate in headers["webhook-signature"].split())


class WebhookReceiver:
    def __init__(self):
        self.received = []   # every request: headers, body, raw, answered status
        self._script = collections.deque()
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    @property
    def url(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}/laris/webhook"

    def start(self):
        threading.Thread(target=self._server.serve_forever, daemon=True,
                         name="webhook-receiver").start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def answer_next(self, status):
        self._script.append(("status", status))

    def stall_next(self, seconds):
        self._script.append(("stall", seconds))

    def requests_for(self, notification_id):
        with self._lock:
            return [r for r in self.received
                    if r["body"]["data"]["notification_id"] == notification_id]

    def _next_answer(self):
        try:
            return self._script.popleft()
        except IndexError:
            return ("status", 204)

    def _handler(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                action, value = receiver._next_answer()
                status = value if action == "status" else 204
                with receiver._lock:
                    receiver.received.append({
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "raw": raw, "body": json.loads(raw), "status": status,
                        "at": time.monotonic()})
                if action == "stall":
                    time.sleep(value)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender stopped waiting: what a timeout looks like from here

            def log_message(self, *args):
                pass

        return Handler
