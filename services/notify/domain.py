"""Who hears about an event, and what they read: pure rules, no database.

``drafts_for(event_type, payload, business_names)`` names the recipients of an event, each
with a template and its parameters; ``render(draft, locale)`` writes the message in the
recipient's language (Indonesian by default, English). A parameter may differ per language:
it is then a dict ``{"id": ..., "en": ...}`` resolved when the message is rendered.
The templates and their names are listed in docs/notifications.md.
"""
import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import ipaddress
import urllib.parse

from backbone.clock import WIB

LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"
CHANNEL_INBOX = "inbox"

MONTHS = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
           "September", "Oktober", "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}
ORDER_STATUS_LABELS = {
    "placed": {"id": "dibuat", "en": "placed"},
    "confirmed": {"id": "dikonfirmasi", "en": "confirmed"},
    "shipped": {"id": "dikirim", "en": "shipped"},
    "received": {"id": "diterima", "en": "received"},
    "cancelled": {"id": "dibatalkan", "en": "cancelled"},
}
UNKNOWN_SELLER = {"id": "penjual", "en": "the seller"}
# Who moved a vendor's part when it was not the vendor (order.status_changed's actor).
MOVED_BY = {"buyer": {"id": " oleh pembeli", "en": " by the buyer"},
            "timer": {"id": " otomatis karena belum dibayar",
                      "en": " automatically, as it was not paid in time"}}
PAYMENT_METHOD_LABELS = {
    "qris": {"id": "QRIS", "en": "QRIS"},
    "transfer": {"id": "transfer bank", "en": "bank transfer"},
    "cod": {"id": "bayar di tempat", "en": "cash on delivery"},
}

# Template name -> {locale: (subject, body)}; the names are what docs/notifications.md lists.
TEMPLATES = {
    "business_verified": {
        "id": ("{business} sudah terverifikasi",
               "Selamat! Usaha {business} telah diverifikasi oleh Pemerintah Kota Malang dan "
               "kini tampil di direktori Ngalam Laris.{note}"),
        "en": ("{business} is verified",
               "Congratulations! {business} has been verified by the City of Malang and now "
               "appears in the Ngalam Laris directory.{note}"),
    },
    "business_rejected": {
        "id": ("Verifikasi {business} ditolak",
               "Verifikasi usaha {business} ditolak.{note} Perbaiki datanya lalu ajukan "
               "kembali."),
        "en": ("Verification of {business} was rejected",
               "The verification of {business} was rejected.{note} Correct its details and "
               "submit it again."),
    },
    "certification_confirmed": {
        "id": ("Sertifikasi {kind} {business} dikonfirmasi",
               "Sertifikasi {kind} nomor {number} untuk {business} telah dikonfirmasi, "
               "berlaku sampai {valid_until}.{note}"),
        "en": ("{kind} certification of {business} confirmed",
               "The {kind} certification number {number} of {business} has been confirmed, "
               "valid until {valid_until}.{note}"),
    },
    "certification_refused": {
        "id": ("Sertifikasi {kind} {business} ditolak",
               "Sertifikasi {kind} nomor {number} untuk {business} tidak dapat dikonfirmasi."
               "{note}"),
        "en": ("{kind} certification of {business} refused",
               "The {kind} certification number {number} of {business} could not be "
               "confirmed.{note}"),
    },
    "booth_allocated": {
        "id": ("Anda mendapat stan {booth} di {expo}",
               "Stan {booth} di {expo} dialokasikan untuk usaha Anda. Alasan: {reasons}"),
        "en": ("You have booth {booth} at {expo}",
               "Booth {booth} at {expo} is allocated to your business. Reasons: {reasons}"),
    },
    "application_waitlisted": {
        "id": ("Pendaftaran Anda di {expo} masuk daftar tunggu",
               "Pendaftaran Anda di {expo} masuk daftar tunggu{position}. Alasan: {reasons}"),
        "en": ("Your application to {expo} is waitlisted",
               "Your application to {expo} is on the waiting list{position}. Reasons: "
               "{reasons}"),
    },
    "booth_offered": {
        "id": ("Stan {booth} di {expo} ditawarkan untuk Anda",
               "Stan {booth} di {expo} kosong dan ditahan untuk Anda sampai {expires}. Terima "
               "atau tolak sebelum waktu itu. Alasan: {reasons}"),
        "en": ("Booth {booth} at {expo} is offered to you",
               "Booth {booth} at {expo} is free and held for you until {expires}. Accept or "
               "decline before then. Reasons: {reasons}"),
    },
    "booth_released": {
        "id": ("Stan {booth} di {expo} dilepas",
               "Stan {booth} di {expo} tidak lagi untuk usaha Anda. Alasan: {reasons}"),
        "en": ("Booth {booth} at {expo} was released",
               "Booth {booth} at {expo} is no longer yours. Reasons: {reasons}"),
    },
    "order_received_by_vendor": {
        "id": ("Pesanan baru {order}",
               "Ada pesanan baru {order} untuk usaha Anda:\n{lines}\nTotal: {total}"),
        "en": ("New order {order}",
               "Your business has a new order {order}:\n{lines}\nTotal: {total}"),
    },
    "order_placed_by_buyer": {
        "id": ("Pesanan {order} sudah kami terima",
               "Terima kasih! Pesanan {order} sudah kami terima:\n{lines}\nTotal: {total}"),
        "en": ("We have your order {order}",
               "Thank you! We have your order {order}:\n{lines}\nTotal: {total}"),
    },
    "order_status_changed": {
        "id": ("Pesanan {order} {status}",
               "Pesanan {order} dari {seller} kini {status} (sebelumnya {previous})."),
        "en": ("Order {order} {status}",
               "Order {order} from {seller} is now {status} (was {previous})."),
    },
    "order_moved_for_vendor": {
        "id": ("Pesanan {order} {status}",
               "Pesanan {order} untuk usaha Anda kini {status}{by} (sebelumnya {previous}):"
               "\n{lines}\nTotal: {total}"),
        "en": ("Order {order} {status}",
               "Order {order} for your business is now {status}{by} (was {previous}):"
               "\n{lines}\nTotal: {total}"),
    },
    "order_part_paid": {
        "id": ("Pembayaran pesanan {order} diterima",
               "{seller} sudah menerima pembayaran {amount} ({method}) untuk pesanan "
               "{order}."),
        "en": ("Payment for order {order} received",
               "{seller} has received your payment of {amount} ({method}) for order "
               "{order}."),
    },
    "product_hidden": {
        "id": ("Produk {product} disembunyikan",
               "Produk {product} dari {business} disembunyikan dari katalog Ngalam Laris. "
               "Alasan: {reason}"),
        "en": ("Product {product} was hidden",
               "{product} of {business} was hidden from the Ngalam Laris catalogue. "
               "Reason: {reason}"),
    },
    "stock_depleted": {
        "id": ("Stok {product} habis",
               "Stok {product} habis: produk ini tidak bisa dipesan sampai stoknya ditambah."),
        "en": ("{product} is out of stock",
               "{product} is out of stock: it cannot be ordered until you add stock."),
    },
    # --- reminders (services/notify/reminders.py) ---
    "certification_expiring": {
        "id": ("Sertifikasi {kind} {business} berakhir {days} hari lagi",
               "Pengingat: sertifikasi {kind} nomor {number} untuk {business} berakhir pada "
               "{valid_until} ({days} hari lagi). Ajukan perpanjangan sebelum tanggal itu."),
        "en": ("{kind} certification of {business} expires in {days} days",
               "Reminder: the {kind} certification number {number} of {business} expires on "
               "{valid_until} (in {days} days). Apply for its renewal before then."),
    },
    "booth_offer_expiring": {
        "id": ("Tawaran stan {booth} di {expo} segera berakhir",
               "Pengingat: stan {booth} di {expo} masih ditahan untuk Anda sampai {expires}. "
               "Terima atau tolak sebelum waktu itu, atau stan akan ditawarkan ke peserta "
               "lain."),
        "en": ("Your offer of booth {booth} at {expo} ends soon",
               "Reminder: booth {booth} at {expo} is still held for you until {expires}. "
               "Accept or decline before then, or it goes to another applicant."),
    },
    "order_unconfirmed": {
        "id": ("Pesanan {order} menunggu konfirmasi Anda",
               "Pengingat: pesanan {order} belum Anda konfirmasi setelah {hours} jam:\n{lines}\n"
               "Total: {total}. Pembeli menunggu."),
        "en": ("Order {order} is waiting for your confirmation",
               "Reminder: you have not confirmed order {order} after {hours} hours:\n{lines}\n"
               "Total: {total}. The buyer is waiting."),
    },
}


@dataclasses.dataclass(frozen=True)
class Draft:
    """One notification before it is written in the recipient's language."""
    account_id: str
    template: str
    params: dict
    ref: dict


# --- formats --------------------------------------------------------------------------------

def rupiah(amount):
    """Whole Rupiah the Indonesian way: thousands with dots, ``Rp 1.250.000``."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(amount):,}".replace(",", ".")


def wib_time(moment):
    """A moment in WIB, per language: ``23 November 2026 pukul 17.58 WIB`` /
    ``23 November 2026, 17:58 WIB``."""
    local = moment.astimezone(WIB)
    return {locale: f"{local.day} {MONTHS[locale][local.month - 1]} {local.year}" + (
        f" pukul {local:%H.%M} WIB" if locale == "id" else f", {local:%H:%M} WIB")
        for locale in LOCALES}


def wib_date(day):
    return {locale: f"{day.day} {MONTHS[locale][day.month - 1]} {day.year}"
            for locale in LOCALES}


def order_reference(order_id):
    """What a person reads of an order id: its first eight characters."""
    return "#" + str(order_id).replace("-", "")[:8].upper()


def order_lines(lines):
    return "\n".join(
        f"- {line['quantity']} × {line['name']} @ {rupiah(line['unit_price_idr'])} = "
        f"{rupiah(line['quantity'] * line['unit_price_idr'])}" for line in lines)


def locale_of(account):
    """The recipient's language: their account's locale when we know it and have it."""
    locale = (account or {}).get("locale")
    return locale if locale in LOCALES else DEFAULT_LOCALE


def _note(note):
    if not note:
        return ""
    return {"id": f" Catatan: {note}", "en": f" Note: {note}"}


def _reasons(reasons):
    return {locale: "; ".join(reason[locale] for reason in reasons) or "-"
            for locale in LOCALES}


# --- who hears about what -------------------------------------------------------------------

def businesses_named_in(event_type, payload):
    """The businesses whose names a message of this event tells and its payload lacks."""
    if event_type == "order.status_changed":
        return [payload["part"]["business_id"]]
    if event_type == "order.part_paid":
        return [payload["business_id"]]
    return []


def drafts_for(event_type, payload, business_names=None):
    """The notifications an event gives: [Draft], one per recipient. ``business_names`` maps a
    business id to its name where the payload does not carry it."""
    return DRAFTERS[event_type](payload, business_names or {})


def _business_decision(template):
    def drafts(payload, business_names):
        return [Draft(payload["owner_account_id"], template,
                      {"business": payload["name"], "note": _note(payload.get("note"))},
                      {"type": "business", "id": payload["business_id"]})]
    return drafts


def _certification_review(template):
    def drafts(payload, business_names):
        business = payload["business"]
        return [Draft(business["owner_account_id"], template, {
            "business": business["name"], "kind": payload["kind"].upper(),
            "number": payload["number"], "valid_until": wib_date(payload["valid_until"]),
            "note": _note(payload.get("note"))},
            {"type": "business", "id": payload["business_id"]})]
    return drafts


def _booth_decision(template):
    def drafts(payload, business_names):
        params = {"expo": payload["expo_name"], "booth": payload.get("booth_code"),
                  "reasons": _reasons(payload["reasons"])}
        if payload.get("hold_expires_at") is not None:
            params["expires"] = wib_time(payload["hold_expires_at"])
        if template == "application_waitlisted":
            position = payload.get("position")
            params["position"] = "" if position is None else {
                "id": f" (urutan {position})", "en": f" (position {position})"}
        return [Draft(payload["owner_account_id"], template, params,
                      {"type": "application", "id": payload["application_id"]})]
    return drafts


def _order_placed(payload, business_names):
    order = order_reference(payload["order_id"])
    ref = {"type": "order", "id": payload["order_id"]}
    vendors = [Draft(part["account_id"], "order_received_by_vendor", {
        "order": order, "lines": order_lines(part["lines"]),
        "total": rupiah(part["total_idr"])}, ref) for part in payload["parts"]]
    every_line = [line for part in payload["parts"] for line in part["lines"]]
    buyer = Draft(payload["buyer_account_id"], "order_placed_by_buyer", {
        "order": order, "lines": order_lines(every_line),
        "total": rupiah(payload["total_idr"])}, ref)
    return [*vendors, buyer]


def _order_status_changed(payload, business_names):
    """The buyer hears of every move; the vendor only of a move they did not make themselves
    (the buyer received or cancelled it, or the timer cancelled it unpaid), with their own
    lines only."""
    part = payload["part"]
    order = order_reference(payload["order_id"])
    ref = {"type": "order", "id": payload["order_id"]}
    status = ORDER_STATUS_LABELS[payload["to_status"]]
    previous = ORDER_STATUS_LABELS[payload["from_status"]]
    drafts = [Draft(payload["buyer_account_id"], "order_status_changed", {
        "order": order, "seller": business_names.get(part["business_id"]) or UNKNOWN_SELLER,
        "status": status, "previous": previous}, ref)]
    if _moved_by_other_than_vendor(payload):
        drafts.append(Draft(part["account_id"], "order_moved_for_vendor", {
            "order": order, "status": status, "previous": previous,
            "by": MOVED_BY.get(payload.get("actor"), ""), "lines": order_lines(part["lines"]),
            "total": rupiah(part["total_idr"])}, ref))
    return drafts


def _moved_by_other_than_vendor(payload):
    actor = payload.get("actor")
    if actor is None:  # a producer that does not say: only a buyer marks a part received
        return payload["to_status"] == "received"
    return actor != "vendor" and payload["to_status"] in ("received", "cancelled")


def _order_part_paid(payload, business_names):
    return [Draft(payload["buyer_account_id"], "order_part_paid", {
        "order": order_reference(payload["order_id"]),
        "seller": business_names.get(payload["business_id"]) or UNKNOWN_SELLER,
        "amount": rupiah(payload["amount_idr"]),
        "method": PAYMENT_METHOD_LABELS[payload["payment_method"]]},
        {"type": "order", "id": payload["order_id"]})]


def _product_hidden(payload, business_names):
    return [Draft(payload["owner_account_id"], "product_hidden", {
        "product": payload["name"], "business": payload["business_name"],
        "reason": payload["reason"]}, {"type": "product", "id": payload["product_id"]})]


def _stock_depleted(payload, business_names):
    return [Draft(payload["owner_account_id"], "stock_depleted", {"product": payload["name"]},
                  {"type": "product", "id": payload["product_id"]})]


DRAFTERS = {
    "business.verified": _business_decision("business_verified"),
    "business.rejected": _business_decision("business_rejected"),
    "business.certification_confirmed": _certification_review("certification_confirmed"),
    "business.certification_refused": _certification_review("certification_refused"),
    "expo.booth_allocated": _booth_decision("booth_allocated"),
    "expo.application_waitlisted": _booth_decision("application_waitlisted"),
    "expo.booth_offered": _booth_decision("booth_offered"),
    "expo.booth_released": _booth_decision("booth_released"),
    "order.placed": _order_placed,
    "order.status_changed": _order_status_changed,
    "order.part_paid": _order_part_paid,
    "product.hidden": _product_hidden,
    "stock.depleted": _stock_depleted,
}


# --- writing it -----------------------------------------------------------------------------

def render(draft, locale):
    """{subject, body} of ``draft`` in ``locale`` (Indonesian when we have no such
    language)."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    subject, body = TEMPLATES[draft.template][locale]
    params = {name: _in_locale(value, locale) for name, value in draft.params.items()}
    return {"subject": subject.format(**params), "body": body.format(**params)}


def _in_locale(value, locale):
    if isinstance(value, dict):
        return value[locale]
    return value


# --- deliveries beyond the inbox ------------------------------------------------------------

CHANNEL_EMAIL = "email"
CHANNEL_WEBHOOK = "webhook"
CHANNEL_WHATSAPP = "whatsapp"
# The channels a person may choose per kind of notification; the inbox is always on.
DELIVERY_CHANNELS = (CHANNEL_EMAIL, CHANNEL_WEBHOOK, CHANNEL_WHATSAPP)
NOTIFIED_KINDS = tuple(DRAFTERS)
WEBHOOK_SECRET_PREFIX = "whsec_"


def wants(channels_by_kind, kind, channel):
    """Whether the recipient's preferences let ``kind`` go out on ``channel``: a kind they
    never chose for gets every channel."""
    chosen = (channels_by_kind or {}).get(kind)
    return chosen is None or channel in chosen


def retry_delay(attempt, base_seconds, cap_seconds, chance):
    """Seconds before the try after failed try number ``attempt`` (1, 2, ...): doubling from
    ``base_seconds`` up to ``cap_seconds``, "equal jitter" (half fixed, half random by
    ``chance`` in [0, 1)) so that sends failing together do not all come back together."""
    ceiling = min(cap_seconds, base_seconds * 2 ** (attempt - 1))
    return ceiling / 2 + ceiling / 2 * chance


def quiet_until(moment, quiet_start, quiet_end):
    """When the recipient's quiet hours (``datetime.time`` in WIB, e.g. 21:00 to 07:00 across
    midnight) around ``moment`` end; None when ``moment`` is not in them or there are none.
    The end is excluded: at 07:00 sharp the morning has come."""
    if quiet_start is None or quiet_end is None or quiet_start == quiet_end:
        return None
    local = moment.astimezone(WIB)
    now_local = local.time().replace(tzinfo=None)
    across_midnight = quiet_start > quiet_end
    if across_midnight:
        quiet = now_local >= quiet_start or now_local < quiet_end
    else:
        quiet = quiet_start <= now_local < quiet_end
    if not quiet:
        return None
    day = local.date()
    if across_midnight and now_local >= quiet_start:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, quiet_end, tzinfo=WIB)


def webhook_url_problem(url, development):
    """Why ``url`` may not receive webhooks, or None: https to a host on the internet; plain
    http only to this machine (loopback), and only in development. Private and link-local
    addresses are refused too, so a webhook cannot be aimed at the city's own network."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (a port out of range raises here)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return "Must be an absolute https:// URL."
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host or any(c.isspace() for c in url):
        return "Must be an absolute https:// URL."
    if parts.username or parts.password:
        return "Must not carry a user name or password."
    loopback = host == "localhost" or _is_ip(host, "is_loopback")
    if parts.scheme == "http":
        if development and loopback:
            return None
        return ("Must use https (plain http only to this machine, in development)."
                if development else "Must use https.")
    if not development and (loopback or _is_ip(host, "is_private") or _is_ip(host, "is_link_local")
                            or _is_ip(host, "is_unspecified")):
        return "Must not point at a private or local address."
    return None


def _is_ip(host, attribute):
    try:
        return getattr(ipaddress.ip_address(host), attribute)
    except ValueError:
        return False


def standard_webhook_signature(secret, message_id, timestamp, body):
    """``v1,<base64 HMAC-SHA256>`` of ``"{id}.{timestamp}.{body}"`` under the key that
    ``secret`` (``whsec_`` + base64) carries, as Standard Webhooks sign."""
    key = base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()

