"""WhatsApp, where Malang's sellers actually read: our approved templates, Indonesian numbers
in E.164, and a small adapter over the WhatsApp Business Cloud API.

Outside the 24-hour customer-service window the Cloud API accepts only templates that Meta
approved beforehand, so every message we send is one of ``TEMPLATES`` (docs/whatsapp.md lists
them for the people who submit them for approval): a name, a body per language with
positional ``{{1}}``.. parameters, and the notification it carries.

Why not pywa: it is a bot framework (handlers, flows, its own webhook server) on httpx, four
new packages for one POST; ``requests`` is already pinned and eventlet makes it green.
"""
import dataclasses
import re

import phonenumbers
import requests

from backbone import config

# (notification template, WhatsApp template name, the notification's parameters in order)
TEMPLATES = {
    "order_received_by_vendor": {
        "name": "laris_order_received",
        "parameters": ("order", "lines", "total"),
        "id": "Ada pesanan baru {{1}} untuk usaha Anda: {{2}}. Total: {{3}}. Buka Ngalam "
              "Laris untuk mengonfirmasi.",
        "en": "Your business has a new order {{1}}: {{2}}. Total: {{3}}. Open Ngalam Laris "
              "to confirm it.",
    },
    "order_placed_by_buyer": {
        "name": "laris_order_placed",
        "parameters": ("order", "lines", "total"),
        "id": "Terima kasih! Pesanan {{1}} sudah kami terima: {{2}}. Total: {{3}}.",
        "en": "Thank you! We have your order {{1}}: {{2}}. Total: {{3}}.",
    },
    "order_status_changed": {
        "name": "laris_order_status",
        "parameters": ("order", "seller", "status", "previous"),
        "id": "Pesanan {{1}} dari {{2}} kini {{3}} (sebelumnya {{4}}).",
        "en": "Order {{1}} from {{2}} is now {{3}} (was {{4}}).",
    },
    "order_moved_for_vendor": {
        "name": "laris_order_moved",
        "parameters": ("order", "status", "previous", "lines", "total"),
        "id": "Pesanan {{1}} untuk usaha Anda kini {{2}} (sebelumnya {{3}}): {{4}}. Total: "
              "{{5}}.",
        "en": "Order {{1}} for your business is now {{2}} (was {{3}}): {{4}}. Total: {{5}}.",
    },
    "order_part_paid": {
        "name": "laris_order_paid",
        "parameters": ("seller", "amount", "method", "order"),
        "id": "{{1}} sudah menerima pembayaran {{2}} ({{3}}) untuk pesanan {{4}}.",
        "en": "{{1}} has received your payment of {{2}} ({{3}}) for order {{4}}.",
    },
    "product_hidden": {
        "name": "laris_product_hidden",
        "parameters": ("product", "business", "reason"),
        "id": "Produk {{1}} dari {{2}} disembunyikan dari katalog Ngalam Laris. Alasan: {{3}}",
        "en": "{{1}} of {{2}} was hidden from the Ngalam Laris catalogue. Reason: {{3}}",
    },
    "stock_depleted": {
        "name": "laris_stock_depleted",
        "parameters": ("product",),
        "id": "Stok {{1}} habis: produk ini tidak bisa dipesan sampai stoknya ditambah.",
        "en": "{{1}} is out of stock: it cannot be ordered until you add stock.",
    },
    "business_verified": {
        "name": "laris_business_verified",
        "parameters": ("business", "note"),
        "id": "Selamat! Usaha {{1}} telah diverifikasi oleh Pemerintah Kota Malang dan kini "
              "tampil di direktori Ngalam Laris. {{2}}",
        "en": "Congratulations! {{1}} has been verified by the City of Malang and now appears "
              "in the Ngalam Laris directory. {{2}}",
    },
    "business_rejected": {
        "name": "laris_business_rejected",
        "parameters": ("business", "note"),
        "id": "Verifikasi usaha {{1}} ditolak; perbaiki datanya lalu ajukan kembali. {{2}}",
        "en": "The verification of {{1}} was rejected; correct its details and submit it "
              "again. {{2}}",
    },
    "certification_confirmed": {
        "name": "laris_certification_confirmed",
        "parameters": ("kind", "number", "business", "valid_until"),
        "id": "Sertifikasi {{1}} nomor {{2}} untuk {{3}} telah dikonfirmasi, berlaku sampai "
              "{{4}}.",
        "en": "The {{1}} certification number {{2}} of {{3}} has been confirmed, valid until "
              "{{4}}.",
    },
    "certification_refused": {
        "name": "laris_certification_refused",
        "parameters": ("kind", "number", "business", "note"),
        "id": "Sertifikasi {{1}} nomor {{2}} untuk {{3}} tidak dapat dikonfirmasi. {{4}}",
        "en": "The {{1}} certification number {{2}} of {{3}} could not be confirmed. {{4}}",
    },
    "booth_allocated": {
        "name": "laris_booth_allocated",
        "parameters": ("booth", "expo", "reasons"),
        "id": "Stan {{1}} di {{2}} dialokasikan untuk usaha Anda. Alasan: {{3}}",
        "en": "Booth {{1}} at {{2}} is allocated to your business. Reasons: {{3}}",
    },
    "application_waitlisted": {
        "name": "laris_application_waitlisted",
        "parameters": ("expo", "position", "reasons"),
        "id": "Pendaftaran Anda di {{1}} masuk daftar tunggu {{2}}. Alasan: {{3}}",
        "en": "Your application to {{1}} is on the waiting list {{2}}. Reasons: {{3}}",
    },
    "booth_offered": {
        "name": "laris_booth_offered",
        "parameters": ("booth", "expo", "expires", "reasons"),
        "id": "Stan {{1}} di {{2}} kosong dan ditahan untuk Anda sampai {{3}}. Terima atau "
              "tolak sebelum waktu itu. Alasan: {{4}}",
        "en": "Booth {{1}} at {{2}} is free and held for you until {{3}}. Accept or decline "
              "before then. Reasons: {{4}}",
    },
    "booth_released": {
        "name": "laris_booth_released",
        "parameters": ("booth", "expo", "reasons"),
        "id": "Stan {{1}} di {{2}} tidak lagi untuk usaha Anda. Alasan: {{3}}",
        "en": "Booth {{1}} at {{2}} is no longer yours. Reasons: {{3}}",
    },
    "certification_expiring": {
        "name": "laris_certification_expiring",
        "parameters": ("kind", "number", "business", "valid_until", "days"),
        "id": "Pengingat: sertifikasi {{1}} nomor {{2}} untuk {{3}} berakhir pada {{4}} "
              "({{5}} hari lagi). Ajukan perpanjangan sebelum tanggal itu.",
        "en": "Reminder: the {{1}} certification number {{2}} of {{3}} expires on {{4}} (in "
              "{{5}} days). Apply for its renewal before then.",
    },
    "booth_offer_expiring": {
        "name": "laris_booth_offer_expiring",
        "parameters": ("booth", "expo", "expires"),
        "id": "Pengingat: stan {{1}} di {{2}} masih ditahan untuk Anda sampai {{3}}. Terima "
              "atau tolak sebelum waktu itu, atau stan akan ditawarkan ke peserta lain.",
        "en": "Reminder: booth {{1}} at {{2}} is still held for you until {{3}}. Accept or "
              "decline before then, or it goes to another applicant.",
    },
    "order_unconfirmed": {
        "name": "laris_order_unconfirmed",
        "parameters": ("order", "hours", "lines", "total"),
        "id": "Pengingat: pesanan {{1}} belum Anda konfirmasi setelah {{2}} jam: {{3}}. "
              "Total: {{4}}. Pembeli menunggu.",
        "en": "Reminder: you have not confirmed order {{1}} after {{2}} hours: {{3}}. Total: "
              "{{4}}. The buyer is waiting.",
    },
}

# The Cloud API refuses a parameter with a new line, a tab or more than four spaces in a row,
# and an empty one.
_UNSENDABLE_SPACE = re.compile(r"\s*[\n\t]+\s*|\s{5,}")
_LIST_MARK = re.compile(r"^- ", re.MULTILINE)
EMPTY_PARAMETER = "-"

# Graph API error codes that go away if we wait: throttling (4, 80007, 130429, 131048,
# 131056) and the platform's own trouble (1, 2, 131000, 131016, 133004).
RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056, 133004})


class WhatsAppSendFailed(Exception):
    """The Cloud API did not take the message. ``retryable``: trying again later may work
    (throttled, the API down or slow); otherwise it never will (a bad number, a template
    that was not approved)."""

    def __init__(self, reason, retryable):
        super().__init__(reason, retryable)
        self.reason = reason
        self.retryable = retryable

    def __str__(self):
        return self.reason


class InvalidPhone(ValueError):
    """A number WhatsApp cannot reach in Indonesia; the message says why, for the user."""


# --- numbers --------------------------------------------------------------------------------

def normalised_phone(text):
    """An Indonesian mobile number as the Cloud API addresses it, E.164 without the plus:
    ``0812-3456-7890``, ``+62 812 3456 7890`` and ``6281234567890`` all give
    ``6281234567890``. Raises ``InvalidPhone`` naming the problem."""
    digits_and_marks = text.strip()
    if digits_and_marks.isdigit() and digits_and_marks.startswith("62"):
        digits_and_marks = "+" + digits_and_marks
    try:
        number = phonenumbers.parse(digits_and_marks, "ID")
    except phonenumbers.NumberParseException:
        raise InvalidPhone("Not a phone number: use digits, e.g. 0812-3456-7890 or "
                           "+62 812 3456 7890.") from None
    if number.country_code != 62:
        raise InvalidPhone("Only Indonesian numbers (+62) can be used.")
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("Not a valid Indonesian number: check its digits.")
    if phonenumbers.number_type(number) not in (phonenumbers.PhoneNumberType.MOBILE,
                                                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise InvalidPhone("WhatsApp needs a mobile number (08..., +62 8...).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]


# --- messages -------------------------------------------------------------------------------

def sendable(value):
    """A parameter as the Cloud API accepts it: one line, never empty. A list of order lines
    becomes one line, its items separated by semicolons."""
    text = _LIST_MARK.sub("", str(value)).strip()
    text = _UNSENDABLE_SPACE.sub("; ", text).strip()
    return text or EMPTY_PARAMETER


def message_for(template, params, locale):
    """{template, language, parameters} of the WhatsApp message carrying a notification of
    ``template`` with its ``params`` (per-language values resolved to ``locale``); None when
    the notification has no WhatsApp template."""
    spec = TEMPLATES.get(template)
    if spec is None:
        return None
    values = [params.get(name) for name in spec["parameters"]]
    values = [value[locale] if isinstance(value, dict) else value for value in values]
    return {"template": spec["name"], "language": locale,
            "parameters": [sendable("" if value is None else value) for value in values]}


def parameter_count(body):
    """How many positional parameters a template body has ({{1}}..{{n}})."""
    return len(set(re.findall(r"\{\{(\d+)\}\}", body)))


# --- statuses the Cloud API reports back -----------------------------------------------------

# What a message's status webhook may say that we keep; others (e.g. "deleted") are ignored.
TRACKED_STATUSES = ("sent", "delivered", "read", "failed")


def status_error(errors):
    """One line for the admin from a failed status's ``errors``: ``131026 Message
    undeliverable (Receiver is incapable)``."""
    lines = []
    for error in errors or [{}]:
        details = (error.get("error_data") or {}).get("details")
        title = error.get("title") or error.get("message") or "failed"
        lines.append(" ".join(str(part) for part in (error.get("code"), title) if part)
                     + (f" ({details})" if details else ""))
    return "WhatsApp: " + "; ".join(lines)


# --- the Cloud API --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class WhatsAppCloud:
    """``POST {base_url}/{phone_number_id}/messages`` with a Bearer token."""
    base_url: str
    phone_number_id: str
    token: str
    timeout_seconds: float = 10.0

    def send_template(self, to, template, language, parameters):
        """Sends template ``template`` in ``language`` to ``to`` (E.164 digits); returns the
        API's message id (``wamid...``). Raises ``WhatsAppSendFailed``."""
        body = {
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "template",
            "template": {"name": template, "language": {"code": language}, "components": [
                {"type": "body",
                 "parameters": [{"type": "text", "text": text} for text in parameters]}]},
        }
        try:
            response = requests.post(
                f"{self.base_url.rstrip('/')}/{self.phone_number_id}/messages", json=body,
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=self.timeout_seconds)
        except requests.Timeout:
            raise WhatsAppSendFailed(f"no answer within {self.timeout_seconds}s",
                                     retryable=True) from None
        except requests.RequestException as exc:
            raise WhatsAppSendFailed(f"cannot reach the API: {exc}", retryable=True) from None
        return _message_id(response)


def _message_id(response):
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.ok:
        try:
            return answer["messages"][0]["id"]
        except (TypeError, KeyError, IndexError):
            raise WhatsAppSendFailed(f"HTTP {response.status_code} without a message id",
                                     retryable=False) from None
    raise _failure(response.status_code, answer)


def _failure(status, answer):
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict):
        return WhatsAppSendFailed(f"HTTP {status}", retryable=status == 429 or status >= 500)
    code = error.get("code")
    details = (error.get("error_data") or {}).get("details") if isinstance(
        error.get("error_data"), dict) else None
    reason = f"HTTP {status}, error {code}: {error.get('message')}" + (
        f" ({details})" if details else "")
    retryable = (status == 429 or status >= 500 or code in RETRYABLE_CODES
                 or error.get("is_transient") is True)
    return WhatsAppSendFailed(reason, retryable=retryable)


def from_config():
    """The configured Cloud API, or None: the channel is off until LARIS_WHATSAPP_TOKEN and
    LARIS_WHATSAPP_PHONE_NUMBER_ID are set."""
    token = config.env("LARIS_WHATSAPP_TOKEN")
    phone_number_id = config.env("LARIS_WHATSAPP_PHONE_NUMBER_ID")
    if not (token and phone_number_id):
        return None
    return WhatsAppCloud(config.env("LARIS_WHATSAPP_BASE_URL"), phone_number_id, token,
                         config.env_float("LARIS_WHATSAPP_TIMEOUT_SECONDS"))
