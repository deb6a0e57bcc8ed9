"""Paying for an order part through the gateway: the vendor's static QRIS checked and kept,
each part's dynamic QRIS for exactly its amount (payload, SVG and PNG), payments recorded by
the vendor at the right moment, and prepaid parts left unpaid cancelled by a timer that
survives a restart."""
import io
import time

import pytest
import qriskit
import zxingcpp
from PIL import Image

from tests.support.db import rows
from tests.support.shop import move, place, shop, stock_of, wait_for

# qriskit's published test vector "static-gopay": a sticker's static QRIS as GoPay issues
# them, with the national merchant id (NMID, tag 51) and a terminal label.
GOPAY_STICKER = (
    "00020101021126620014COM.GO-JEK.WWW011993600914123456789010210G1234567890303UMI"
    "51440014ID.CO.QRIS.WWW0215ID10200123456780303UMI5204581253033605802ID5911TOKO CONTOH"
    "6007JAKARTA61051011062120708KASIR-0163043ACC")


@pytest.fixture
def db(infra):
    return infra.database_url("marketplace")


def crc16_ccitt_false(data):
    """CRC-16/CCITT-FALSE bit by bit (poly 0x1021, init 0xFFFF): our own check of tag 63."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def crc_is_right(payload):
    body, crc = payload[:-4], payload[-4:]
    return body.endswith("6304") and crc == f"{crc16_ccitt_false(body.encode('ascii')):04X}"


def record_qris(api, vendor, business, payload=GOPAY_STICKER):
    return api.call("PUT", f"/vendors/{business['id']}/qris", token=vendor["token"],
                    json={"payload": payload})


def part_path(order, suffix=""):
    return f"/orders/{order['id']}/parts/{order['parts'][0]['id']}{suffix}"


def pay(api, who, order, reference=None):
    return api.post(part_path(order, "/payment"), token=who["token"],
                    json={"reference": reference})


# --- the vendor's static QRIS ---------------------------------------------------------------

def test_a_published_static_sticker_is_kept_for_its_owner_only(api, organizer, vendor, buyer):
    business, _ = shop(api, vendor, organizer)

    recorded = record_qris(api, vendor, business, "  " + GOPAY_STICKER + "\n")

    assert recorded.status_code == 200, recorded.text
    assert recorded.json() | {"updated_at": None} == {
        "business_id": business["id"], "payload": GOPAY_STICKER,
        "merchant_name": "TOKO CONTOH", "merchant_city": "JAKARTA", "updated_at": None}
    assert api.get(f"/vendors/{business['id']}/qris", token=vendor["token"]).json() == \
        recorded.json()
    stranger = api.new_account("vendor")
    assert record_qris(api, stranger, business).status_code == 403
    assert api.get(f"/vendors/{business['id']}/qris", token=stranger["token"]).status_code == 403
    assert api.get(f"/vendors/{business['id']}/qris", token=buyer["token"]).status_code == 403
    assert api.get("/vendors/not-a-business/qris", token=vendor["token"]).status_code == 404


def test_a_corrupted_crc_is_refused_naming_the_checksum(api, organizer, vendor):
    business, _ = shop(api, vendor, organizer)
    corrupted = GOPAY_STICKER[:-4] + "3ACD"

    refused = record_qris(api, vendor, business, corrupted)

    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "validation_error" and "payload" in error["fields"]
    assert "63" in error["message"] or "CRC" in error["message"].upper()
    assert api.get(f"/vendors/{business['id']}/qris", token=vendor["token"]).status_code == 404


@pytest.mark.parametrize("payload", ["", "not a qris at all", "0002010102" + "9" * 600,
                                     GOPAY_STICKER.replace("010211", "010212", 1)])
def test_what_is_not_a_static_qris_is_a_422(api, organizer, vendor, payload):
    business, _ = shop(api, vendor, organizer)
    refused = record_qris(api, vendor, business, payload)
    assert refused.status_code == 422, refused.text
    assert "payload" in refused.json()["error"]["fields"]


# --- each part's dynamic QRIS ---------------------------------------------------------------

def test_a_qris_part_offers_a_dynamic_qris_for_exactly_its_amount(
        api, organizer, vendor, buyer):
    business, [tempe] = shop(api, vendor, organizer, {"price_idr": 43_500})
    assert record_qris(api, vendor, business).status_code == 200
    order = place(api, buyer, (tempe, 2), payment_method="qris")
    assert order["parts"][0]["payment_due_at"] is not None

    answer = api.get(part_path(order, "/qris"), token=buyer["token"])

    assert answer.status_code == 200, answer.text
    dynamic = answer.json()["payload"]
    assert answer.json()["amount_idr"] == 87_000
    decoded = qriskit.parse(dynamic, strict=True)
    assert (decoded.get("01"), decoded.get("54")) == ("12", "87000")
    assert (decoded.merchant_name, decoded.merchant_city) == ("TOKO CONTOH", "JAKARTA")
    assert crc_is_right(dynamic)
    assert api.get(part_path(order, "/qris"), token=vendor["token"]).json()["payload"] == dynamic

    svg = api.get(part_path(order, "/qris.svg"), token=buyer["token"])
    assert svg.status_code == 200 and svg.headers["Content-Type"].startswith("image/svg+xml")
    assert "<svg" in svg.text
    png = api.get(part_path(order, "/qris.png"), token=buyer["token"])
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert code.text == dynamic


def test_no_dynamic_qris_without_a_sticker_for_other_methods_or_for_strangers(
        api, organizer, vendor, buyer):
    business, [tempe] = shop(api, vendor, organizer, {})
    by_qris = place(api, buyer, (tempe, 1), payment_method="qris")
    assert api.get(part_path(by_qris, "/qris"), token=buyer["token"]).status_code == 404
    assert record_qris(api, vendor, business).status_code == 200
    cod = place(api, buyer, (tempe, 1))
    assert api.get(part_path(cod, "/qris"), token=buyer["token"]).status_code == 409
    stranger = api.new_account("buyer")
    assert api.get(part_path(by_qris, "/qris"), token=stranger["token"]).status_code == 404
    assert api.get(part_path(by_qris, "/qris.svg"), token=stranger["token"]).status_code == 404


# --- recording payments ---------------------------------------------------------------------

def test_a_prepaid_part_is_paid_before_the_vendor_confirms_it(
        api, organizer, vendor, buyer, db):
    business, [tempe] = shop(api, vendor, organizer, {"price_idr": 20_000})
    assert record_qris(api, vendor, business).status_code == 200
    order = place(api, buyer, (tempe, 3), payment_method="qris")

    unpaid = move(api, vendor, order, "confirmed")
    assert unpaid.status_code == 409 and "payment" in unpaid.json()["error"]["message"]
    assert pay(api, buyer, order).status_code == 403

    paid = pay(api, vendor, order, reference="QRIS-20261123-0042")

    assert paid.status_code == 200, paid.text
    part = paid.json()["parts"][0]
    assert part["paid_at"] is not None and part["payment_reference"] == "QRIS-20261123-0042"
    assert paid.json()["history"][-1] | {"at": None, "part_id": None} == {
        "kind": "payment", "from_status": "placed", "to_status": "placed", "actor": "vendor",
        "note": "QRIS-20261123-0042", "at": None, "part_id": None}
    assert pay(api, vendor, order).status_code == 409
    assert api.get(part_path(order, "/qris"), token=buyer["token"]).status_code == 409
    assert move(api, vendor, order, "confirmed").status_code == 200
    [event] = [row["body"]["payload"] for row in rows(
        db, "SELECT body FROM outbox WHERE event_type = 'order.part_paid'"
            " AND body->>'aggregate_id' = %s", (order["id"],))]
    assert (event["amount_idr"], event["payment_method"], event["reference"],
            event["account_id"]) == (60_000, "qris", "QRIS-20261123-0042", vendor["id"])


def _offered(api, who, order):
    """What the order's view offers ``who`` on its one part: (moves, payment recordable)."""
    [part] = api.get(f"/orders/{order['id']}", token=who["token"]).json()["parts"]
    return part["moves"], part["payment_recordable"]


def test_each_side_is_offered_exactly_the_moves_and_payment_it_may_make_now(
        api, organizer, vendor, buyer):
    business, [tempe] = shop(api, vendor, organizer, {})
    assert record_qris(api, vendor, business).status_code == 200
    order = place(api, buyer, (tempe, 1), payment_method="qris")

    assert _offered(api, vendor, order) == (["cancelled"], True)  # confirmed once paid
    assert _offered(api, buyer, order) == (["cancelled"], False)
    assert pay(api, vendor, order).status_code == 200
    assert _offered(api, vendor, order) == (["confirmed", "cancelled"], False)
    assert move(api, vendor, order, "confirmed").status_code == 200
    assert _offered(api, vendor, order) == (["shipped", "cancelled"], False)
    assert _offered(api, buyer, order) == ([], False)
    assert move(api, vendor, order, "shipped").status_code == 200
    assert _offered(api, buyer, order) == (["received"], False)
    assert _offered(api, vendor, order) == ([], False)
    assert move(api, buyer, order, "received").status_code == 200
    assert _offered(api, buyer, order) == _offered(api, vendor, order) == ([], False)


def test_cash_on_delivery_is_recorded_once_shipped(api, organizer, vendor, buyer):
    _, [tempe] = shop(api, vendor, organizer, {})
    order = place(api, buyer, (tempe, 1), payment_method="cod")
    assert order["parts"][0]["payment_due_at"] is None

    assert pay(api, vendor, order).status_code == 409
    assert move(api, vendor, order, "confirmed").status_code == 200
    assert pay(api, vendor, order).status_code == 409
    assert move(api, vendor, order, "shipped").status_code == 200
    paid = pay(api, vendor, order)
    assert paid.status_code == 200 and paid.json()["parts"][0]["paid_at"] is not None
    other = api.new_account("vendor")
    assert pay(api, other, order).status_code == 404
    bad = api.post(part_path(order, "/payment"), token=vendor["token"],
                   json={"reference": "x" * 500})
    assert bad.status_code == 422 and "reference" in bad.json()["error"]["fields"]


# --- the unpaid timer -----------------------------------------------------------------------

def test_an_unpaid_prepaid_part_is_cancelled_by_the_timer_even_across_a_restart(
        api, system, organizer, vendor, buyer, db):
    """A window of a few seconds, set through the environment as an operator would; the
    service is down when the deadline passes, and the timer cancels the part once back."""
    _, [tempe] = shop(api, vendor, organizer, {"stock": 5})
    short_window = {"LARIS_PAYMENT_WINDOW_HOURS": str(2 / 3600),
                    "LARIS_PAYMENT_SWEEP_SECONDS": "0.5"}
    marketplace = system.processes["marketplace"]
    try:
        system.restart("marketplace", extra_env=short_window)
        unpaid = place(api, buyer, (tempe, 2), payment_method="transfer")
        cash = place(api, buyer, (tempe, 1))
        marketplace.stop()
        time.sleep(3)
        marketplace.start(short_window)
        system.wait_ready()

        def cancelled():
            return api.get(f"/orders/{unpaid['id']}", token=buyer["token"]).json()[
                "status"] == "cancelled"
        assert wait_for(cancelled, timeout=20)
    finally:
        system.restart("marketplace")

    assert stock_of(db, tempe) == 4
    last = api.get(f"/orders/{unpaid['id']}", token=buyer["token"]).json()["history"][-1]
    assert (last["from_status"], last["to_status"], last["actor"]) == (
        "placed", "cancelled", "timer")
    assert api.get(f"/orders/{cash['id']}", token=buyer["token"]).json()["status"] == "placed"
    time.sleep(1)
    assert stock_of(db, tempe) == 4
