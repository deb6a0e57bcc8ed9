"""The notify service through the gateway: the registry's, the expo's and the marketplace's
events reach the right people's inboxes exactly once, in their language, and an inbox is
private to its owner."""
import datetime as dt
import json
import time
import uuid

import pytest

from backbone.contracts import new_event
from tests.support.api import client_address
from tests.support.db import execute, rows

# Long enough for a second copy of an event to have been handled, had it slipped through.
SETTLE_SECONDS = 1.5
NEXT_YEAR = dt.date.today() + dt.timedelta(days=365)


def _eventually(check, seconds=15):
    deadline = time.monotonic() + seconds
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def _inbox(api, account, **params):
    response = api.get("/notifications", token=account["token"], params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _notified(api, account, kind, count=1):
    """The account's notifications of ``kind`` once there are ``count`` of them; after a
    pause, still exactly that many."""
    def of_kind():
        return [n for n in _inbox(api, account, limit=100)["items"] if n["kind"] == kind]
    assert _eventually(lambda: len(of_kind()) >= count), _inbox(api, account)
    time.sleep(SETTLE_SECONDS)
    found = of_kind()
    assert len(found) == count, found
    return found


def _english_account(api, role):
    email = f"{role}-en-{uuid.uuid4().hex[:10]}@test.laris.local"
    created = api.post("/accounts", headers=client_address(), json={
        "email": email, "password": "rahasia-123", "name": "Test English", "role": role,
        "locale": "en"})
    assert created.status_code == 201, created.text
    return created.json() | {"token": api.login(email, "rahasia-123")}


def _known_to_notify(infra, table, key):
    return _eventually(lambda: rows(infra.database_url("notify"),
                                    f"SELECT 1 FROM {table} WHERE id = %s", (key,)))


# --- the registry ---------------------------------------------------------------------------

def test_a_verified_business_reaches_its_owners_inbox_once(api, vendor, organizer):
    business = api.register_business(vendor)
    assert api.verify(organizer, business["id"], note="Data lengkap").status_code == 200

    [notification] = _notified(api, vendor, "business.verified")
    assert notification["subject"] == f"{business['name']} sudah terverifikasi"
    assert "Catatan: Data lengkap" in notification["body"]
    assert notification["ref"] == {"type": "business", "id": business["id"]}
    assert notification["read_at"] is None


def test_a_rejection_reaches_an_english_speaking_owner_in_english(api, organizer, infra):
    owner = _english_account(api, "vendor")
    assert _known_to_notify(infra, "accounts", owner["id"])
    business = api.register_business(owner)
    assert api.verify(organizer, business["id"], decision="rejected",
                      note="NIB does not match").status_code == 200

    [notification] = _notified(api, owner, "business.rejected")
    assert notification["subject"] == f"Verification of {business['name']} was rejected"
    assert "Note: NIB does not match" in notification["body"]


def test_a_certification_review_reaches_the_owner(api, vendor, organizer):
    business = api.register_business(vendor, packaging=["paper"])
    claimed = api.post(f"/businesses/{business['id']}/certifications", token=vendor["token"],
                       json={"kind": "pirt", "number": "206357301001227",
                             "valid_until": NEXT_YEAR.isoformat()})
    assert claimed.status_code == 201, claimed.text
    assert api.review_certification(organizer, business["id"], claimed.json()["id"],
                                    decision="refused", note="Nomor tidak terdaftar"
                                    ).status_code == 200

    [notification] = _notified(api, vendor, "business.certification_refused")
    assert notification["subject"] == f"Sertifikasi PIRT {business['name']} ditolak"
    assert "Catatan: Nomor tidak terdaftar" in notification["body"]


# --- the expo -------------------------------------------------------------------------------

ZONES = [{"name": "kuliner", "sectors": ["kuliner"]}]
ONE_BOOTH = [{"code": "A-01", "zone": "kuliner", "booth_type": "inline", "size_m2": 9,
              "price_idr": 1_500_000, "x": 0, "y": 0, "width": 3, "height": 3}]


def _applicant(api, organizer, infra, expo):
    vendor = api.new_account("vendor")
    business = api.register_business(vendor, packaging=["paper"])
    assert api.verify(organizer, business["id"]).status_code == 200
    assert _eventually(lambda: rows(infra.database_url("expo"), "SELECT 1 FROM businesses"
                                    " WHERE id = %s AND status = 'verified'", (business["id"],)))
    applied = api.post(f"/expos/{expo['id']}/applications", token=vendor["token"], json={
        "business_id": business["id"], "sector": "kuliner", "preferred_zones": ["kuliner"]})
    assert applied.status_code == 201, applied.text
    return vendor | {"application_id": applied.json()["id"]}


def test_booth_decisions_reach_each_applicant(api, organizer, infra):
    expo = api.create_expo(organizer, zones=ZONES)
    added = api.post(f"/expos/{expo['id']}/booths", token=organizer["token"],
                     json={"booths": ONE_BOOTH})
    assert added.status_code == 201, added.text
    first, second = (_applicant(api, organizer, infra, expo) for _ in range(2))
    run = api.post(f"/expos/{expo['id']}/allocations", token=organizer["token"])
    assert run.status_code == 200, run.text
    placed_id = run.json()["allocated"][0]["application_id"]
    placed, waiting = (first, second) if placed_id == first["application_id"] else (second,
                                                                                   first)

    [allocated] = _notified(api, placed, "expo.booth_allocated")
    assert allocated["subject"] == f"Anda mendapat stan A-01 di {expo['name']}"
    assert allocated["ref"] == {"type": "application", "id": placed["application_id"]}
    [waitlisted] = _notified(api, waiting, "expo.application_waitlisted")
    assert "daftar tunggu (urutan 1)" in waitlisted["body"]
    assert not [n for n in _inbox(api, waiting)["items"] if n["kind"] == "expo.booth_allocated"]

    freed = api.call("DELETE", f"/expos/{expo['id']}/allocations/A-01",
                     token=organizer["token"])
    assert freed.status_code == 200, freed.text
    _notified(api, placed, "expo.booth_released")
    [offered] = _notified(api, waiting, "expo.booth_offered")
    assert offered["subject"] == f"Stan A-01 di {expo['name']} ditawarkan untuk Anda"
    assert " WIB. Terima atau tolak" in offered["body"]


# --- the marketplace (its events published as it will publish them) -------------------------

def _line(name, quantity, unit_price_idr):
    return {"product_id": str(uuid.uuid4()), "name": name, "quantity": quantity,
            "unit_price_idr": unit_price_idr}


def _publish(broker, event_type, payload):
    event = new_event(event_type, payload, source="marketplace")
    broker.publish_raw("marketplace.events", event_type, json.dumps(event.to_message()))
    return event


@pytest.fixture
def order(api, broker, buyer, infra):
    """A placed two-vendor order, its event published twice (a redelivery)."""
    vendors = [api.new_account("vendor") for _ in range(2)]
    businesses = [api.register_business(vendor) for vendor in vendors]
    assert _known_to_notify(infra, "businesses", businesses[1]["id"])
    parts = [
        {"business_id": businesses[0]["id"], "account_id": vendors[0]["id"],
         "total_idr": 75_000, "lines": [_line("Keripik Tempe Sanan", 3, 25_000)]},
        {"business_id": businesses[1]["id"], "account_id": vendors[1]["id"],
         "total_idr": 1_250_000, "lines": [_line("Batik Malangan Tulis", 1, 1_250_000)]},
    ]
    payload = {"order_id": str(uuid.uuid4()), "buyer_account_id": buyer["id"],
               "total_idr": 1_325_000, "parts": parts}
    event = new_event("order.placed", payload, source="marketplace")
    for _ in range(2):
        broker.publish_raw("marketplace.events", "order.placed", json.dumps(event.to_message()))
    return {"id": payload["order_id"], "vendors": vendors, "businesses": businesses,
            "parts": parts, "event": event}


def test_each_vendor_hears_only_of_their_own_lines_and_the_buyer_once(api, buyer, order):
    keripik, batik = order["vendors"]
    [to_keripik] = _notified(api, keripik, "order.placed")
    assert "3 × Keripik Tempe Sanan @ Rp 25.000 = Rp 75.000" in to_keripik["body"]
    assert "Batik" not in to_keripik["body"] and "Rp 1.250.000" not in to_keripik["body"]
    [to_batik] = _notified(api, batik, "order.placed")
    assert "1 × Batik Malangan Tulis @ Rp 1.250.000" in to_batik["body"]
    assert "Keripik" not in to_batik["body"]
    [to_buyer] = _notified(api, buyer, "order.placed")
    assert "Total: Rp 1.325.000" in to_buyer["body"]
    assert {n["ref"]["id"] for n in (to_keripik, to_batik, to_buyer)} == {order["id"]}


def test_the_buyer_hears_when_the_order_moves(api, broker, buyer, order):
    _publish(broker, "order.status_changed", {
        "order_id": order["id"], "buyer_account_id": buyer["id"], "from_status": "placed",
        "to_status": "confirmed", "part": order["parts"][1]})
    [moved] = _notified(api, buyer, "order.status_changed")
    assert moved["body"] == (f"Pesanan #{order['id'].replace('-', '')[:8].upper()} dari "
                             f"{order['businesses'][1]['name']} kini dikonfirmasi "
                             "(sebelumnya dibuat).")
    assert not [n for n in _inbox(api, order["vendors"][1])["items"]
                if n["kind"] == "order.status_changed"]


def test_a_copy_that_slipped_past_the_inbox_gives_no_second_notification(
        api, broker, infra, order):
    """As a second consumer racing on the event would: its inbox row is gone, and the
    notifications' unique key still holds."""
    keripik = order["vendors"][0]
    _notified(api, keripik, "order.placed")
    handler = "notify.notify_order"
    database = infra.database_url("notify")
    execute(database, "DELETE FROM inbox WHERE event_id = %s AND handler = %s",
            (str(order["event"].event_id), handler))
    broker.publish_raw("marketplace.events", "order.placed",
                       json.dumps(order["event"].to_message()))
    assert _eventually(lambda: rows(database, "SELECT 1 FROM inbox WHERE event_id = %s AND"
                                    " handler = %s", (str(order["event"].event_id), handler)))
    _notified(api, keripik, "order.placed")


# --- the inbox ------------------------------------------------------------------------------

def test_the_inbox_is_private_to_its_owner(api, order):
    keripik, batik = order["vendors"]
    [notification] = _notified(api, keripik, "order.placed")
    path = f"/notifications/{notification['id']}/read"

    assert api.post(path, token=batik["token"]).status_code == 404
    assert notification["id"] not in {n["id"] for n in _inbox(api, batik)["items"]}
    assert _inbox(api, keripik, unread="true")["items"][0]["read_at"] is None
    assert api.post(path).status_code == 401
    assert api.get("/notifications").status_code == 401
    assert api.post("/notifications/not-an-id/read", token=keripik["token"]).status_code == 404


def test_marking_read_is_idempotent_and_the_filter_and_count_follow(api, broker, buyer,
                                                                   order):
    _publish(broker, "order.status_changed", {
        "order_id": order["id"], "buyer_account_id": buyer["id"], "from_status": "placed",
        "to_status": "cancelled", "part": order["parts"][0]})
    _notified(api, buyer, "order.status_changed")
    everything = _inbox(api, buyer)
    assert everything["unread_count"] == 2
    newest, oldest = everything["items"]
    assert (newest["kind"], oldest["kind"]) == ("order.status_changed", "order.placed")

    first = api.post(f"/notifications/{oldest['id']}/read", token=buyer["token"])
    assert first.status_code == 200 and first.json()["read_at"] is not None
    again = api.post(f"/notifications/{oldest['id']}/read", token=buyer["token"])
    assert again.status_code == 200 and again.json()["read_at"] == first.json()["read_at"]

    unread = _inbox(api, buyer, unread="true")
    assert [n["id"] for n in unread["items"]] == [newest["id"]]
    assert unread["unread_count"] == 1
    read = _inbox(api, buyer, unread="false")
    assert [n["id"] for n in read["items"]] == [oldest["id"]]
    assert read["unread_count"] == 1
    assert api.get("/notifications", token=buyer["token"],
                   params={"unread": "maybe"}).status_code == 422


def test_the_inbox_pages_newest_first(api, broker, buyer, order):
    _publish(broker, "order.status_changed", {
        "order_id": order["id"], "buyer_account_id": buyer["id"], "from_status": "placed",
        "to_status": "confirmed", "part": order["parts"][0]})
    _notified(api, buyer, "order.status_changed")
    first = _inbox(api, buyer, limit=1)
    second = _inbox(api, buyer, limit=1, cursor=first["next_cursor"])
    assert [n["kind"] for n in first["items"] + second["items"]] == [
        "order.status_changed", "order.placed"]
    assert second["next_cursor"] is None
