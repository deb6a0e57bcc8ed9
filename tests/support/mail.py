"""A real SMTP server in the test process (aiosmtpd), that notify's e-mail channel sends to.

It keeps every message it accepted; ``to(address)`` reads those for one recipient. A test may
make it refuse for a while: ``refuse_with(code)`` answers every DATA with that SMTP status
(451: try again later; 550: never) until ``accept()``.
"""
import email
import email.policy
import socket
import threading

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self, catcher):
        self.catcher = catcher

    async def handle_DATA(self, server, session, envelope):
        refusal = self.catcher.refusal
        if refusal is not None:
            return f"{refusal} refused by the test"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.catcher.lock:
            self.catcher.messages.append({"to": list(envelope.rcpt_tos),
                                          "message": message})
        return "250 Message accepted for delivery"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailCatcher:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.refusal = None
        self.port = _free_port()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self):
        self._controller.start()
        return self

    def stop(self):
        self._controller.stop()

    def env(self):
        """The settings that point a Laris process at this server."""
        return {"LARIS_SMTP_HOST": "127.0.0.1", "LARIS_SMTP_PORT": str(self.port),
                "LARIS_SMTP_STARTTLS": "off"}

    def to(self, address):
        with self.lock:
            return [entry["message"] for entry in self.messages
                    if address.lower() in (rcpt.lower() for rcpt in entry["to"])]

    def refuse_with(self, code):
        self.refusal = code

    def accept(self):
        self.refusal = None
