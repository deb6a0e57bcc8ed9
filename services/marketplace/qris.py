"""QRIS, as Malang's sellers are paid: a vendor's static merchant payload, checked once, and
from it a dynamic payload (and its QR code) for exactly what one order part costs. Pure: no
I/O, no database, no clock.

Parsing, the QRIS rules and the static-to-dynamic conversion are qriskit's (EMVCo TLV
structure, required tags, CRC-16/CCITT-FALSE in tag 63); this module only adds what a
marketplace needs on top: one error type with a reason, printable ASCII only, the static
payload required where a sticker is expected, and amounts as whole Rupiah.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import qriskit
import segno

# EMVCo merchant-presented mode caps a payload at 512 characters.
MAX_PAYLOAD_LENGTH = 512
# Tag 54 holds at most 13 characters; a whole-Rupiah amount has no decimals to spend them on.
MAX_AMOUNT_IDR = 10**13 - 1
# Leftovers of copying a payload out of a scanner app or a chat, harmless around it.
_PASTE_DEBRIS = " \t\r\n\v\f\u00a0\ufeff"
# Error correction level M, as QRIS stickers use; a PNG of at least 115 px (ASPI's minimum).
_QR_ERROR_LEVEL = "m"
_QR_SCALE = 8
_QR_BORDER = 4

# QrisError.reason: a closed vocabulary the marketplace can put in its error details.
REASONS = (
    "not_text",        # not a string at all
    "empty",           # nothing but whitespace
    "too_long",        # longer than MAX_PAYLOAD_LENGTH
    "characters",      # outside printable ASCII
    "structure",       # not tag-length-value data, or its templates / tag 00 are broken
    "crc",             # tag 63 missing, misplaced or not the checksum of the payload
    "merchant_name",   # tag 59 missing, empty or too long
    "merchant_city",   # tag 60 missing, empty or too long
    "merchant_account",  # no merchant account (tags 02-51)
    "currency",        # tag 53 missing or not Rupiah (360)
    "country",         # tag 58 missing or not Indonesia (ID)
    "rules",           # any other QRIS rule qriskit reports as an error
    "not_static",      # a dynamic payload where the static sticker payload is expected
    "amount",          # not a whole number of Rupiah in 1..MAX_AMOUNT_IDR
)
# Which reason a qriskit issue stands for, by its tag; the first found in this order names the
# error (a broken checksum first: the payload was changed or mistyped, the rest follows from it).
_REASON_OF_TAG = {"63": "crc", "00": "structure", "59": "merchant_name", "60": "merchant_city",
                  "53": "currency", "58": "country"}
_REASON_PRIORITY = ("structure", "crc", "merchant_name", "merchant_city", "merchant_account",
                    "currency", "country", "rules")
_MESSAGES_SHOWN = 3


class QrisError(ValueError):
    """A payload or amount that cannot be used, with a message a vendor can act on.

    ``reason`` is one of REASONS; ``tag`` the EMVCo tag at fault where there is one ("63")."""

    def __init__(self, message: str, reason: str, tag: str | None = None):
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.tag = tag


@dataclass(frozen=True)
class StaticQris:
    """A vendor's static merchant QRIS, checked. ``payload`` is the normalised text to keep."""
    payload: str
    merchant_name: str
    merchant_city: str
    country: str
    currency: str
    merchant_pan: str | None  # the first merchant account's PAN; its first 8 digits: the acquirer
    nmid: str | None          # the National Merchant ID from tag 51, where the payload has one
    acquirer: str | None      # e.g. "GoPay", from the PAN's NNS in Bank Indonesia's list
    postal_code: str | None


def parse_static(payload: str) -> StaticQris:
    """The static QRIS in ``payload``, or QrisError naming what is wrong with it."""
    qris = _static(payload)
    account = next((a for a in qris.merchant_accounts if a.pan), None)
    return StaticQris(
        payload=qris.dumps(),
        merchant_name=qris.merchant_name,
        merchant_city=qris.merchant_city,
        country=qris.country,
        currency=qris.currency,
        merchant_pan=account.pan if account else None,
        nmid=qris.nmid,
        acquirer=account.acquirer.name if account and account.acquirer else None,
        postal_code=qris.postal_code,
    )


def dynamic_for(payload: str, amount_idr: int) -> str:
    """The dynamic QRIS for exactly ``amount_idr`` Rupiah from the static ``payload``: tag 01
    becomes 12, tag 54 carries the amount, the CRC is recomputed (qriskit's ``to_dynamic``)."""
    _check_amount(amount_idr)
    dynamic = _static(payload).to_dynamic(amount_idr).dumps()
    if len(dynamic) > MAX_PAYLOAD_LENGTH:
        raise QrisError(f"With the amount, the QRIS would be {len(dynamic)} characters; "
                        f"a QRIS holds at most {MAX_PAYLOAD_LENGTH}.", "too_long")
    return dynamic


def qr_svg(payload: str) -> str:
    """The QR code of a valid QRIS ``payload`` (static or dynamic) as an SVG document."""
    buffer = io.BytesIO()
    _qr_code(payload).save(buffer, kind="svg", scale=_QR_SCALE, border=_QR_BORDER,
                           xmldecl=False, title="QRIS")
    return buffer.getvalue().decode("utf-8")


def qr_png(payload: str) -> bytes:
    """The QR code of a valid QRIS ``payload`` (static or dynamic) as PNG bytes."""
    buffer = io.BytesIO()
    _qr_code(payload).save(buffer, kind="png", scale=_QR_SCALE, border=_QR_BORDER)
    return buffer.getvalue()


def _qr_code(payload: str) -> segno.QRCode:
    # The checked, normalised text: a QR code is never made of a payload no app could pay.
    return segno.make_qr(_checked(payload).dumps(), error=_QR_ERROR_LEVEL, boost_error=False)


def _static(payload: str) -> qriskit.QRIS:
    """The checked QRIS of a merchant's sticker: static, with a name and a city to show."""
    qris = _checked(payload)
    if not qris.is_static:
        raise QrisError(
            "This is a dynamic QRIS (tag 01 is 12), made for one payment of one amount; "
            "record the static QRIS printed on the merchant's sticker (tag 01 is 11).",
            "not_static", "01")
    # qriskit refuses an empty name or city; one of spaces only names nobody either.
    for tag, reason, value in (("59", "merchant_name", qris.merchant_name),
                               ("60", "merchant_city", qris.merchant_city)):
        if not value.strip():
            raise QrisError(f"Not a valid QRIS: tag {tag} ({reason.replace('_', ' ')}) is blank.",
                            reason, tag)
    return qris


def _checked(payload: str) -> qriskit.QRIS:
    """The QRIS in ``payload`` with no error-level issue (warnings such as a missing postal code
    are common on real stickers and pay fine), static or dynamic."""
    text = _clean_text(payload)
    try:
        qris = qriskit.parse(text)
    except qriskit.QRISParseError as exc:
        raise QrisError(f"Not a valid QRIS: its tag-length-value structure is broken: {exc}.",
                        "structure") from None
    errors = [issue for issue in qriskit.validate(qris) if issue.severity == "error"]
    if errors:
        raise _error_from(errors)
    return qris


def _clean_text(payload: str) -> str:
    if not isinstance(payload, str):
        raise QrisError(f"A QRIS payload is text, not {type(payload).__name__}.", "not_text")
    text = payload.strip(_PASTE_DEBRIS)
    if not text:
        raise QrisError("The QRIS payload is empty.", "empty")
    if len(text) > MAX_PAYLOAD_LENGTH:
        raise QrisError(f"A QRIS payload is at most {MAX_PAYLOAD_LENGTH} characters; "
                        f"this one has {len(text)}.", "too_long")
    # Indonesian QRIS uses the EMVCo common character set only. Refusing the rest also spares
    # us payloads whose lengths mean characters to one reader and bytes to another.
    outside = next((i for i, char in enumerate(text) if not " " <= char <= "~"), None)
    if outside is not None:
        raise QrisError(f"Not a valid QRIS: character {text[outside]!r} at position {outside} "
                        "is not printable ASCII.", "characters")
    return text


def _error_from(errors: list[qriskit.Issue]) -> QrisError:
    """One QrisError for qriskit's error-level issues, named by the most telling of them."""
    reasons = [_reason_of(issue) for issue in errors]
    reason = min(reasons, key=_REASON_PRIORITY.index)
    lead = errors[reasons.index(reason)]
    others = [_described(issue) for issue in errors if issue is not lead]
    shown = [_described(lead), *others[:_MESSAGES_SHOWN - 1]]
    more = len(errors) - len(shown)
    message = "Not a valid QRIS: " + "; ".join(shown) + (
        f" (and {more} more problem{'s' if more > 1 else ''})." if more else ".")
    if reason == "crc":
        message += " The payload was changed or mistyped: copy it again from the sticker."
    return QrisError(message, reason, lead.path)


def _described(issue: qriskit.Issue) -> str:
    """qriskit's message, with the tag it is about where the message does not say it."""
    if issue.path is None or f"tag {issue.path}" in issue.message:
        return issue.message
    return f"tag {issue.path}: {issue.message}"


def _reason_of(issue: qriskit.Issue) -> str:
    if issue.code in ("template.malformed", "tag.duplicate", "pfi.invalid"):
        return "structure"
    if issue.code == "merchant_account.missing":
        return "merchant_account"
    return _REASON_OF_TAG.get((issue.path or "").partition(".")[0], "rules")


def _check_amount(amount_idr: int) -> None:
    # bool is an int to Python, never an amount.
    if isinstance(amount_idr, bool) or not isinstance(amount_idr, int):
        raise QrisError(f"The amount is a whole number of Rupiah, not {amount_idr!r}.", "amount")
    if not 1 <= amount_idr <= MAX_AMOUNT_IDR:
        raise QrisError(f"The amount must be from Rp 1 to Rp {_rupiah(MAX_AMOUNT_IDR)} (whole "
                        f"Rupiah); got Rp {_rupiah(amount_idr)}.", "amount", "54")


def _rupiah(amount: int) -> str:
    """Thousands grouped with dots, as Indonesians write Rupiah."""
    return f"{amount:,}".replace(",", ".")
