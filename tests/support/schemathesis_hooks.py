"""What schemathesis cannot know from any OpenAPI document, and a real client does.

- An ``Idempotency-Key`` is a fresh value per new request (reusing one with another body is a
  422 by design).
- A ``cursor`` is opaque: clients only send back the ones the API gave out.
- A price range's ``min_price_idr`` is not above its ``max_price_idr`` (GET /products; its
  description says so, a JSON Schema of one parameter cannot).
- A certificate's ``valid_until`` is today or later: JSON Schema has no date relative to today.
- A QRIS payload ends with its checksum (tag 63): a vendor sends the one printed on its
  sticker, which no JSON Schema can state.
- A webhook's ``url`` is the vendor's own endpoint, an https URL on the internet (the
  document cannot say which hosts are private).
- A WhatsApp ``phone`` is a real Indonesian mobile number: which digits make one is the
  numbering plan's, not a JSON Schema's.
Everything else the fuzzer generates from the document as it is served.
"""
import datetime as dt
import uuid

import schemathesis

from backbone import clock

# qriskit's published static test vector ("static-gopay"), standing in for a vendor's sticker.
STATIC_QRIS = (
    "00020101021126620014COM.GO-JEK.WWW011993600914123456789010210G1234567890303UMI"
    "51440014ID.CO.QRIS.WWW0215ID10200123456780303UMI5204581253033605802ID5911TOKO CONTOH"
    "6007JAKARTA61051011062120708KASIR-0163043ACC")


@schemathesis.hook
def map_headers(context, headers):
    if headers and "Idempotency-Key" in headers:
        headers["Idempotency-Key"] = uuid.uuid4().hex
    return headers


@schemathesis.hook
def map_query(context, query):
    if query:
        query.pop("cursor", None)
        low, high = query.get("min_price_idr"), query.get("max_price_idr")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            query["min_price_idr"], query["max_price_idr"] = high, low
    return query


@schemathesis.hook
def map_body(context, body):
    if isinstance(body, dict) and context.operation.path.endswith("/webhooks"):
        body["url"] = "https://toko.example.id/laris/webhook"
    if isinstance(body, dict) and context.operation.path.endswith("/qris"):
        body["payload"] = STATIC_QRIS
    if isinstance(body, dict) and context.operation.path.endswith("/notifications/whatsapp"):
        body["phone"] = "0812-3456-7890"
    if isinstance(body, dict) and isinstance(body.get("valid_until"), str):
        try:
            # The registry's days are WIB days, whatever the machine's time zone.
            expired = dt.date.fromisoformat(body["valid_until"]) < clock.today_wib()
        except ValueError:
            expired = False
        if expired:
            body["valid_until"] = (clock.today_wib() + dt.timedelta(days=365)).isoformat()
    return body
