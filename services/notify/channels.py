"""The ways a notification leaves Laris besides the inbox: one small class per channel.

A channel answers three questions, and the delivery worker (``worker.py``) does the rest
(claiming, leases, retries with backoff, dead-lettering, quiet hours):

- ``destinations(tx, account_id, kind)``: in the consumer's transaction, where this
  recipient gets a notification of ``kind`` on this channel: a list of destination keys
  (``""`` for a channel with one address per account, a webhook's id for webhooks); [] for
  none. One delivery row is written per key.
- ``address(tx, delivery_row)``: in the worker's claiming transaction, the destination as it
  is *now* (the account's current e-mail, the webhook's url and secret); None when there is
  none (``send`` then decides whether that is worth waiting for).
  Addresses are resolved when sent, never copied when the notification is written, so a
  changed address is the one used.
- ``send(delivery)``: outside any transaction, within ``timeout`` seconds: returns the
  provider's id of the message (or None) or raises ``DeliveryFailed(reason, retryable)``.
  Anything else it raises counts as a retryable failure.

``quiet_at_night = True`` makes the worker hold a delivery during the recipient's quiet hours.
A channel is a subclass here plus a line in ``available()`` (WhatsApp is the last one added).
"""
import base64
import dataclasses
import email.message
import email.utils
import json
import secrets
import smtplib
import time

import requests

from backbone import config
from services.notify import domain, store, whatsapp


class DeliveryFailed(Exception):
    """A send that did not succeed: ``retryable`` False when trying again cannot help (a
    refused address, a 4xx from a webhook), so it is dead-lettered at once."""

    def __init__(self, reason, retryable):
        super().__init__(reason, retryable)
        self.reason = reason
        self.retryable = retryable

    def __str__(self):
        return self.reason


@dataclasses.dataclass(frozen=True)
class Delivery:
    """One claimed delivery, with everything its channel needs to send it."""
    id: str
    channel: str
    destination: str
    account_id: str
    attempt: int
    notification: dict  # id, kind, subject, body, ref, created_at
    address: dict       # what the channel's address() returned
    locale: str


class Channel:
    name = None
    quiet_at_night = False

    def destinations(self, tx, account_id, kind):
        raise NotImplementedError

    def address(self, tx, delivery_row):
        raise NotImplementedError

    def send(self, delivery):
        raise NotImplementedError


# --- e-mail ---------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None
    starttls: bool
    sender: str
    timeout: float

    @classmethod
    def from_env(cls):
        return cls(host=config.env("LARIS_SMTP_HOST"), port=config.env_int("LARIS_SMTP_PORT"),
                   user=config.env("LARIS_SMTP_USER"),
                   password=config.env("LARIS_SMTP_PASSWORD"),
                   starttls=config.env("LARIS_SMTP_STARTTLS") == "on",
                   sender=config.env("LARIS_SMTP_FROM"),
                   timeout=config.env_float("LARIS_DELIVERY_TIMEOUT_SECONDS"))


class EmailChannel(Channel):
    """Plain-text e-mail over SMTP (stdlib smtplib), one connection per message. The
    Message-ID is the delivery's id: a message sent twice (a worker killed between the
    server's "250 OK" and recording it) is recognisably the same message."""
    name = domain.CHANNEL_EMAIL

    def __init__(self, settings):
        self.settings = settings

    def destinations(self, tx, account_id, kind):
        return [""]

    def address(self, tx, delivery_row):
        return store.email_address(tx, delivery_row["account_id"])

    def send(self, delivery):
        if not (delivery.address or {}).get("email"):
            raise DeliveryFailed("the account's e-mail address is not known yet", True)
        message = self.message(delivery)
        try:
            with smtplib.SMTP(self.settings.host, self.settings.port,
                              timeout=self.settings.timeout) as smtp:
                if self.settings.starttls:
                    smtp.starttls()
                if self.settings.user:
                    smtp.login(self.settings.user, self.settings.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryFailed(f"recipient refused: {exc.recipients}",
                                 retryable=all(400 <= code < 500 for code in codes)) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}",
                                 retryable=exc.smtp_code < 500) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"SMTP server unreachable: {exc!r}", True) from exc
        return message["Message-ID"]

    def message(self, delivery):
        message = email.message.EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = email.utils.formataddr((delivery.address.get("name") or "",
                                                delivery.address["email"]))
        message["Subject"] = delivery.notification["subject"]
        message["Message-ID"] = f"<{delivery.id}@notify.laris>"
        message.set_content(delivery.notification["body"])
        # After set_content, which replaces every Content-* header.
        message["Content-Language"] = delivery.locale
        return message


# --- webhooks -------------------------------------------------------------------------------

# Worth trying again: the receiver is overloaded, restarting, or asks us to slow down.
RETRYABLE_STATUSES = frozenset({408, 425, 429})


class WebhookChannel(Channel):
    """A JSON POST to each webhook of the recipient that subscribed to the kind, signed as
    Standard Webhooks sign (docs/notifications.md): ``webhook-id`` is the delivery's id, the
    same on every retry, so a receiver can drop a copy it already took."""
    name = domain.CHANNEL_WEBHOOK

    def __init__(self, timeout):
        self.timeout = timeout

    def destinations(self, tx, account_id, kind):
        return store.webhooks_for(tx, account_id, kind)

    def address(self, tx, delivery_row):
        return store.webhook_address(tx, delivery_row["account_id"],
                                     delivery_row["destination"])

    def send(self, delivery):
        if delivery.address is None:
            raise DeliveryFailed("the webhook was deleted", False)
        body = self.body(delivery)
        timestamp = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            "user-agent": "Laris-Webhooks/1",
            "webhook-id": delivery.id,
            "webhook-timestamp": timestamp,
            "webhook-signature": domain.standard_webhook_signature(
                delivery.address["secret"], delivery.id, timestamp, body),
        }
        try:
            response = requests.post(delivery.address["url"], data=body, headers=headers,
                                     timeout=self.timeout, allow_redirects=False)
        except requests.Timeout as exc:
            raise DeliveryFailed(f"no answer within {self.timeout}s", True) from exc
        except requests.RequestException as exc:
            raise DeliveryFailed(f"unreachable: {exc.__class__.__name__}", True) from exc
        if 200 <= response.status_code < 300:
            return None
        retryable = response.status_code >= 500 or response.status_code in RETRYABLE_STATUSES
        raise DeliveryFailed(f"HTTP {response.status_code} from the receiver", retryable)

    @staticmethod
    def body(delivery):
        notification = delivery.notification
        return json.dumps({
            "type": notification["kind"],
            "timestamp": notification["created_at"].isoformat(),
            "data": {"notification_id": notification["id"], "subject": notification["subject"],
                     "body": notification["body"], "ref": notification["ref"],
                     "locale": delivery.locale},
        }, ensure_ascii=False, separators=(",", ":")).encode()


# --- whatsapp -------------------------------------------------------------------------------

class WhatsAppChannel(Channel):
    """Template messages through the WhatsApp Business Cloud API (whatsapp.py), to the
    number the recipient opted in with; held during their quiet hours. The message (template,
    language, parameters) was kept when the notification was written; the number is read when
    it is sent, so a changed number is the one used and a withdrawn one gets nothing."""
    name = domain.CHANNEL_WHATSAPP
    quiet_at_night = True

    def __init__(self, cloud):
        self.cloud = cloud

    def destinations(self, tx, account_id, kind):
        return [""] if store.whatsapp_number(tx, account_id) else []

    def address(self, tx, delivery_row):
        return store.whatsapp_address(tx, delivery_row["account_id"],
                                      delivery_row["notification_id"])

    def send(self, delivery):
        if not delivery.address:
            raise DeliveryFailed("the recipient withdrew their WhatsApp number", False)
        message = delivery.address
        if message["template"] is None:
            raise DeliveryFailed("no approved WhatsApp template carries this notification",
                                 False)
        try:
            return self.cloud.send_template(message["phone"], message["template"],
                                            message["language"], message["parameters"])
        except whatsapp.WhatsAppSendFailed as failure:
            raise DeliveryFailed(failure.reason, failure.retryable) from failure


def available():
    """The channels this process delivers on, by name: e-mail only when an SMTP server is
    configured (LARIS_SMTP_HOST), WhatsApp only when the Cloud API's token and phone-number id
    are (LARIS_WHATSAPP_*)."""
    found = {domain.CHANNEL_WEBHOOK: WebhookChannel(
        config.env_float("LARIS_DELIVERY_TIMEOUT_SECONDS"))}
    if config.env("LARIS_SMTP_HOST"):
        found[domain.CHANNEL_EMAIL] = EmailChannel(SmtpSettings.from_env())
    cloud = whatsapp.from_config()
    if cloud:
        found[domain.CHANNEL_WHATSAPP] = WhatsAppChannel(cloud)
    return found


def new_webhook_secret():
    """A fresh signing secret as Standard Webhooks write it: ``whsec_`` + base64 of 32
    random bytes."""
    return domain.WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()
