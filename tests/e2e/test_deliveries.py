"""Notify's deliveries beyond the inbox, through the real system: e-mail to a real SMTP server
(aiosmtpd in the test process), webhooks to a real HTTP receiver that verifies their
signatures, retries with backoff, dead letters an admin sees and retries, preferences and
quiet hours; exactly once through redeliveries and a killed notify."""
import datetime as dt
import json
import time
import uuid

import pytest

from backbone.clock import WIB
from backbone.contracts import new_event
from tests.e2e.test_notify import _eventually, _notified
from tests.support.db import rows
from tests.support.webhook_receiver import WebhookReceiver, verify

# Long enough for a second copy of a send to have gone out, had there been one.
SETTLE_SECONDS = 2.0


@pytest.fixture
def receiver():
    server = WebhookReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def mail(system):
    return system.mail


def _order_for(broker, vendor, buyer, copies=1):
    """An order with one part for ``vendor``, published as the marketplace publishes it
    (``copies`` times: a redelivery)."""
    payload = {"order_id": str(uuid.uuid4()), "buyer_account_id": buyer["id"],
               "total_idr": 75_000, "parts": [{
                   "business_id": str(uuid.uuid4()), "account_id": vendor["id"],
                   "total_idr": 75_000, "lines": [{
                       "product_id": str(uuid.uuid4()), "name": "Keripik Tempe Sanan",
                       "quantity": 3, "unit_price_idr": 25_000}]}]}
    event = new_event("order.placed", payload, source="marketplace")
    for _ in range(copies):
        broker.publish_raw("marketplace.events", "order.placed", json.dumps(event.to_message()))
    return payload | {"event": event}


def _mails(mail, account, count=1):
    """The account's e-mails once there are ``count``; after a pause, still that many."""
    assert _eventually(lambda: len(mail.to(account["email"])) >= count, seconds=20), \
        mail.messages[-3:]
    time.sleep(SETTLE_SECONDS)
    found = mail.to(account["email"])
    assert len(found) == count, [m["Subject"] for m in found]
    return found


def _deliveries(infra, account_id, channel):
    return rows(infra.database_url("notify"),
                "SELECT id, status, attempts, last_error FROM deliveries"
                " WHERE account_id = %s AND channel = %s", (account_id, channel))


def _register(api, vendor, url, events=("order.placed",)):
    created = api.post("/webhooks", token=vendor["token"],
                       json={"url": url, "events": list(events)})
    assert created.status_code == 201, created.text
    return created.json()


def _order_reference(order):
    return "#" + order["order_id"].replace("-", "")[:8].upper()


# --- e-mail ---------------------------------------------------------------------------------

def test_an_order_reaches_the_vendors_inbox_and_mailbox_exactly_once(api, broker, mail, vendor,
                                                                     buyer):
    order = _order_for(broker, vendor, buyer, copies=2)

    [notification] = _notified(api, vendor, "order.placed")
    [message] = _mails(mail, vendor)
    assert message["Subject"] == f"Pesanan baru {_order_reference(order)}"
    assert "3 × Keripik Tempe Sanan @ Rp 25.000 = Rp 75.000" in message.get_content()
    assert message["Subject"] == notification["subject"]
    assert message["Content-Language"] == "id"
    [buyers] = _mails(mail, buyer)
    assert buyers["Subject"] == f"Pesanan {_order_reference(order)} sudah kami terima"


def test_a_notify_killed_and_restarted_sends_no_second_mail(api, broker, mail, system, vendor,
                                                           buyer):
    order = _order_for(broker, vendor, buyer)
    _notified(api, vendor, "order.placed")
    system.processes["notify"].kill()
    # The same event again while notify is down: it waits in the queue for the restart.
    broker.publish_raw("marketplace.events", "order.placed",
                       json.dumps(order["event"].to_message()))
    system.restart("notify")

    _mails(mail, vendor)
    _notified(api, vendor, "order.placed")


def test_a_mail_server_refusing_for_a_while_gets_the_mail_on_a_later_try(
        api, broker, mail, infra, vendor, buyer):
    mail.refuse_with(451)
    try:
        _order_for(broker, vendor, buyer)
        assert _eventually(lambda: any(d["attempts"] >= 1 and d["status"] == "pending" and
                                       "451" in (d["last_error"] or "")
                                       for d in _deliveries(infra, vendor["id"], "email")))
    finally:
        mail.accept()
    _mails(mail, vendor)
    [delivery] = _deliveries(infra, vendor["id"], "email")
    assert delivery["status"] == "sent" and delivery["attempts"] >= 2


# --- webhooks -------------------------------------------------------------------------------

def test_a_webhook_gets_the_vendors_order_signed_and_verifiable(api, broker, receiver, vendor,
                                                               buyer):
    webhook = _register(api, vendor, receiver.url)
    assert webhook["secret"].startswith("whsec_")
    order = _order_for(broker, vendor, buyer)

    [notification] = _notified(api, vendor, "order.placed")
    assert _eventually(lambda: receiver.requests_for(notification["id"]))
    time.sleep(SETTLE_SECONDS)
    [request] = receiver.requests_for(notification["id"])
    assert verify(webhook["secret"], request["headers"], request["raw"])
    assert not verify("whsec_" + "A" * 44, request["headers"], request["raw"])
    assert not verify(webhook["secret"], request["headers"], request["raw"] + b" ")
    assert request["body"]["type"] == "order.placed"
    assert request["body"]["data"]["ref"] == {"type": "order", "id": order["order_id"]}
    assert "Rp 75.000" in request["body"]["data"]["body"]


def test_a_failing_webhook_is_retried_dead_lettered_and_retried_by_the_admin(
        api, broker, infra, receiver, admin, vendor, buyer):
    _register(api, vendor, receiver.url)
    receiver.answer_next(503)
    receiver.stall_next(3)  # longer than the sender's timeout (1 s in tests)
    receiver.answer_next(500)
    _order_for(broker, vendor, buyer)

    assert _eventually(lambda: [d for d in _deliveries(infra, vendor["id"], "webhook")
                                if d["status"] == "failed"], seconds=20)
    tries = [r["at"] for r in receiver.received]
    assert [r["status"] for r in receiver.received] == [503, 204, 500]
    # Backoff: at least half the base (0.2 s) before the second try, more before the third.
    assert tries[1] - tries[0] >= 0.1 and tries[2] - tries[1] >= 0.2 + 1.0

    dead = api.get("/deliveries", token=admin["token"], params={"status": "failed",
                                                                "limit": 100})
    assert dead.status_code == 200, dead.text
    [delivery] = [d for d in dead.json()["items"] if d["account_id"] == vendor["id"]]
    assert delivery["attempts"] == 3 and delivery["channel"] == "webhook"
    assert delivery["last_error"] == "HTTP 500 from the receiver (after 3 attempts)"

    retried = api.post(f"/deliveries/{delivery['id']}/retry", token=admin["token"])
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] in ("pending", "sending", "sent")
    assert _eventually(lambda: _deliveries(infra, vendor["id"], "webhook")[0]["status"]
                       == "sent")
    assert [r["status"] for r in receiver.received] == [503, 204, 500, 204]
    again = api.post(f"/deliveries/{delivery['id']}/retry", token=admin["token"])
    assert again.status_code == 409, again.text


def test_a_slow_webhook_delays_neither_the_inbox_nor_another_vendor(api, broker, receiver,
                                                                   vendor, buyer):
    slow = WebhookReceiver().start()
    try:
        for _ in range(3):
            slow.stall_next(3)
        slow_vendor = api.new_account("vendor")
        _register(api, slow_vendor, slow.url)
        _register(api, vendor, receiver.url)
        _order_for(broker, slow_vendor, buyer)
        started = time.monotonic()
        _order_for(broker, vendor, buyer)
        assert _eventually(lambda: receiver.received, seconds=10)
        assert time.monotonic() - started < 2.5
        _notified(api, slow_vendor, "order.placed")
    finally:
        slow.stop()


def test_a_send_cut_short_by_a_killed_worker_is_taken_again_after_its_lease(
        api, broker, infra, system, receiver, vendor, buyer):
    _register(api, vendor, receiver.url)
    receiver.stall_next(5)
    _order_for(broker, vendor, buyer)
    assert _eventually(lambda: receiver.received)
    system.processes["notify-deliveries"].kill()  # while its send waits for an answer
    system.restart("notify-deliveries")

    # The claim's lease (15 s in tests) runs out, then the restarted worker sends it again,
    # with the same webhook-id: the receiver can tell it is the same message.
    assert _eventually(lambda: _deliveries(infra, vendor["id"], "webhook")[0]["status"]
                       == "sent", seconds=40)
    [delivery] = _deliveries(infra, vendor["id"], "webhook")
    assert delivery["attempts"] >= 2
    assert len({r["headers"]["webhook-id"] for r in receiver.received}) == 1
    assert receiver.received[-1]["status"] == 204


def test_webhooks_are_their_owners_and_take_only_safe_urls(api, vendor, buyer, receiver):
    webhook = _register(api, vendor, receiver.url, events=("order.placed", "order.placed"))
    assert webhook["events"] == ["order.placed"]
    other = api.new_account("vendor")
    path = f"/webhooks/{webhook['id']}"

    mine = api.get(path, token=vendor["token"])
    assert mine.status_code == 200 and "secret" not in mine.json()
    assert api.get(path, token=other["token"]).status_code == 404
    assert api.call("DELETE", path, token=other["token"]).status_code == 404
    assert [w["id"] for w in api.get("/webhooks", token=vendor["token"]).json()["items"]] == [
        webhook["id"]]
    assert api.get("/webhooks", token=other["token"]).json()["items"] == []
    assert api.post("/webhooks", token=buyer["token"], json={
        "url": receiver.url, "events": ["order.placed"]}).status_code == 403
    assert api.get("/webhooks/not-an-id", token=vendor["token"]).status_code == 404

    for url in ("http://example.com/hook", "ftp://example.com/hook", "https://user:pw@x.id/",
                "not a url"):
        refused = api.post("/webhooks", token=vendor["token"],
                           json={"url": url, "events": ["order.placed"]})
        assert refused.status_code == 422 and "url" in refused.json()["error"]["fields"], url
    unknown = api.post("/webhooks", token=vendor["token"],
                       json={"url": receiver.url, "events": ["order.eaten"]})
    assert unknown.status_code == 422, unknown.text

    assert api.call("DELETE", path, token=vendor["token"]).status_code == 200
    assert api.get(path, token=vendor["token"]).status_code == 404


# --- preferences and quiet hours ------------------------------------------------------------

def test_preferences_choose_the_channels_per_kind(api, broker, infra, mail, receiver, vendor,
                                                 buyer):
    _register(api, vendor, receiver.url)
    chosen = api.call("PUT", "/notifications/preferences", token=vendor["token"], json={
        "channels": {"order.placed": ["webhook"], "business.verified": []}})
    assert chosen.status_code == 200, chosen.text
    assert chosen.json() == {"channels": {"order.placed": ["webhook"],
                                          "business.verified": []}, "quiet_hours": None}
    assert api.get("/notifications/preferences",
                   token=vendor["token"]).json() == chosen.json()

    _order_for(broker, vendor, buyer)
    [notification] = _notified(api, vendor, "order.placed")
    assert _eventually(lambda: receiver.requests_for(notification["id"]))
    assert mail.to(vendor["email"]) == []
    assert _deliveries(infra, vendor["id"], "email") == []


def test_quiet_hours_hold_no_email(api, broker, mail, vendor, buyer):
    now = dt.datetime.now(WIB)
    quiet = {"start": f"{now - dt.timedelta(hours=1):%H:%M}",
             "end": f"{now + dt.timedelta(hours=1):%H:%M}"}
    saved = api.call("PUT", "/notifications/preferences", token=vendor["token"],
                     json={"channels": {}, "quiet_hours": quiet})
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"channels": {}, "quiet_hours": quiet}
    _order_for(broker, vendor, buyer)
    _mails(mail, vendor)


@pytest.mark.parametrize("body", [
    {"channels": {"order.placed": ["fax"]}},
    {"channels": {"order.eaten": ["email"]}},
    {"quiet_hours": {"start": "25:00", "end": "07:00"}},
    {"quiet_hours": {"start": "21:00"}},
    {"quiet_hours": None},
    {"channels": ["email"]},
])
def test_preferences_refuse_what_they_cannot_mean(api, vendor, body):
    refused = api.call("PUT", "/notifications/preferences", token=vendor["token"], json=body)
    assert refused.status_code == 422, refused.text
    assert api.get("/notifications/preferences", token=vendor["token"]).json() == {
        "channels": {}, "quiet_hours": None}


# --- the admin's view -----------------------------------------------------------------------

def test_deliveries_are_for_admins_only(api, admin, organizer, vendor):
    for account in (vendor, organizer):
        assert api.get("/deliveries", token=account["token"]).status_code == 403
        assert api.post(f"/deliveries/{uuid.uuid4()}/retry",
                        token=account["token"]).status_code == 403
    assert api.get("/deliveries").status_code == 401
    assert api.post(f"/deliveries/{uuid.uuid4()}/retry", token=admin["token"]).status_code == 404
    assert api.get("/deliveries", token=admin["token"],
                   params={"status": "lost"}).status_code == 422
    listed = api.get("/deliveries", token=admin["token"], params={"limit": 1})
    assert listed.status_code == 200 and "next_cursor" in listed.json()


# --- the marketplace's other events ---------------------------------------------------------

def _publish(broker, event_type, payload):
    event = new_event(event_type, payload, source="marketplace")
    broker.publish_raw("marketplace.events", event_type, json.dumps(event.to_message()))


def test_a_buyer_cancelling_tells_the_vendor_and_a_payment_tells_the_buyer(api, broker, vendor,
                                                                           buyer):
    order = _order_for(broker, vendor, buyer)
    part = order["parts"][0]
    _publish(broker, "order.status_changed", {
        "order_id": order["order_id"], "buyer_account_id": buyer["id"],
        "from_status": "placed", "to_status": "cancelled", "part": part, "actor": "buyer"})
    [told] = _notified(api, vendor, "order.status_changed")
    assert told["subject"] == f"Pesanan {_order_reference(order)} dibatalkan"
    assert "dibatalkan oleh pembeli" in told["body"] and "Keripik Tempe Sanan" in told["body"]

    _publish(broker, "order.part_paid", {
        "order_id": order["order_id"], "part_id": str(uuid.uuid4()),
        "buyer_account_id": buyer["id"], "business_id": part["business_id"],
        "account_id": vendor["id"], "payment_method": "qris", "amount_idr": 75_000,
        "reference": None, "paid_at": dt.datetime.now(dt.timezone.utc)})
    [paid] = _notified(api, buyer, "order.part_paid")
    assert "pembayaran Rp 75.000 (QRIS)" in paid["body"]


def test_the_vendor_hears_of_a_hidden_product_and_an_empty_stock(api, broker, vendor):
    product = {"product_id": str(uuid.uuid4()), "business_id": str(uuid.uuid4()),
               "owner_account_id": vendor["id"], "name": "Keripik Tempe Sanan"}
    _publish(broker, "stock.depleted", product)
    [depleted] = _notified(api, vendor, "stock.depleted")
    assert depleted["subject"] == "Stok Keripik Tempe Sanan habis"
    assert depleted["ref"] == {"type": "product", "id": product["product_id"]}

    _publish(broker, "product.hidden", product | {
        "description": "Renyah.", "category": "makanan_minuman", "price_idr": 15_000,
        "stock": 0, "unit": "bungkus", "images": [], "featured": False, "hidden": True,
        "business_name": "Keripik Bu Wati", "reason": "Foto tidak sesuai produk",
        "hidden_by": str(uuid.uuid4())})
    [hidden] = _notified(api, vendor, "product.hidden")
    assert hidden["body"].endswith("Alasan: Foto tidak sesuai produk")
