"""WhatsApp through the real system: a person opts in with their number, notify sends their
notifications as approved templates to the Cloud API (an in-process fake speaking it,
tests/support/fake_whatsapp.py) with the delivery worker's real retries, and the API's signed
status webhook moves each delivery's status."""
import datetime as dt
import json
import random
import time
import uuid

import pytest

from backbone.clock import WIB
from backbone.contracts import new_event
from tests.e2e.test_notify import _eventually, _notified
from tests.support.db import rows
from tests.support.fake_whatsapp import VERIFY_TOKEN, FakeWhatsApp

WEBHOOK = "/whatsapp/webhook"
# Long enough for a second copy of a message to have been sent, had there been one.
SETTLE_SECONDS = 2.0


def _unique_mobile():
    return f"0812{random.randrange(10**7, 10**8)}"


def _e164(local):
    return "62" + local[1:]


@pytest.fixture
def opted_in(api, vendor):
    local = _unique_mobile()
    answer = api.call("PUT", "/notifications/whatsapp", token=vendor["token"],
                      json={"phone": local})
    assert answer.status_code == 200, answer.text
    return vendor | {"phone": _e164(local)}


def _order_for(broker, vendor, buyer):
    """An order with one part for ``vendor``, published as the marketplace publishes it."""
    payload = {"order_id": str(uuid.uuid4()), "buyer_account_id": buyer["id"],
               "total_idr": 75_000, "parts": [{
                   "business_id": str(uuid.uuid4()), "account_id": vendor["id"],
                   "total_idr": 75_000, "lines": [{
                       "product_id": str(uuid.uuid4()), "name": "Keripik Tempe Sanan",
                       "quantity": 3, "unit_price_idr": 25_000}]}]}
    event = new_event("order.placed", payload, source="marketplace")
    broker.publish_raw("marketplace.events", "order.placed", json.dumps(event.to_message()))
    return payload


def _whatsapp_deliveries(infra, account_id):
    return rows(infra.database_url("notify"),
                "SELECT id, status, attempts, provider_id, last_error, next_attempt_at"
                " FROM deliveries"
                " WHERE account_id = %s AND channel = 'whatsapp'", (account_id,))


def _sent_to(whatsapp, phone, count=1):
    assert _eventually(lambda: len(whatsapp.sent_to(phone)) >= count, seconds=20), \
        whatsapp.sent_to(phone)
    time.sleep(SETTLE_SECONDS)
    sent = whatsapp.sent_to(phone)
    assert len(sent) == count, sent
    return sent


def _post_status(api, body, signature):
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature(raw)
    return api.call("POST", WEBHOOK, data=raw, headers=headers)


# --- opting in ------------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", ["0812-3456-7890", "+62 812 3456 7890", "6281234567890"])
def test_a_number_in_any_usual_spelling_is_kept_in_e164(api, vendor, spelling):
    answer = api.call("PUT", "/notifications/whatsapp", token=vendor["token"],
                      json={"phone": spelling})
    assert answer.status_code == 200, answer.text
    assert answer.json()["phone"] == "6281234567890"
    assert api.get("/notifications/whatsapp", token=vendor["token"]).json()["phone"] == \
        "6281234567890"


@pytest.mark.parametrize("body, problem", [
    ({"phone": "+65 8123 4567"}, "Only Indonesian numbers"),
    ({"phone": "0341-551234"}, "mobile number"),
    ({"phone": "telepon saya"}, "Not a phone number"),
    ({"phone": "0" * 40}, "Length must be between 1 and 32"),
    ({}, "Missing data"),
])
def test_a_number_whatsapp_cannot_reach_is_a_422_naming_the_problem(api, vendor, body,
                                                                    problem):
    answer = api.call("PUT", "/notifications/whatsapp", token=vendor["token"], json=body)
    assert answer.status_code == 422, answer.text
    assert problem in " ".join(answer.json()["error"]["fields"]["phone"])
    assert api.get("/notifications/whatsapp", token=vendor["token"]).status_code == 404


def test_opting_out_forgets_the_number_and_only_its_owner_sees_it(api, opted_in, buyer):
    assert api.get("/notifications/whatsapp", token=buyer["token"]).status_code == 404
    assert api.get("/notifications/whatsapp").status_code == 401
    removed = api.call("DELETE", "/notifications/whatsapp", token=opted_in["token"])
    assert removed.status_code == 200 and removed.json()["phone"] == opted_in["phone"]
    assert api.get("/notifications/whatsapp", token=opted_in["token"]).status_code == 404
    assert api.call("DELETE", "/notifications/whatsapp",
                    token=opted_in["token"]).status_code == 404


# --- sending --------------------------------------------------------------------------------

def test_a_send_the_api_refuses_then_accepts_is_delivered_once(api, broker, buyer, opted_in,
                                                               system, infra):
    system.whatsapp.refuse_next(503, 133004, "Server temporarily unavailable",
                                error_type="OAuthException")
    order = _order_for(broker, opted_in, buyer)

    [message] = _sent_to(system.whatsapp, opted_in["phone"])
    reference = "#" + order["order_id"].replace("-", "")[:8].upper()
    assert message["template"] == "laris_order_received" and message["language"] == "id"
    assert message["parameters"] == [reference,
                                     "3 × Keripik Tempe Sanan @ Rp 25.000 = Rp 75.000",
                                     "Rp 75.000"]
    [delivery] = _whatsapp_deliveries(infra, opted_in["id"])
    assert (delivery["status"], delivery["attempts"], delivery["provider_id"]) == (
        "sent", 2, message["id"])
    _notified(api, opted_in, "order.placed")


def test_an_answer_lost_to_the_timeout_is_tried_again_and_delivered_once(
        api, broker, buyer, opted_in, system, infra):
    system.whatsapp.stall_next(2.5)  # longer than LARIS_WHATSAPP_TIMEOUT_SECONDS (1)
    _order_for(broker, opted_in, buyer)

    [message] = _sent_to(system.whatsapp, opted_in["phone"])
    [delivery] = _whatsapp_deliveries(infra, opted_in["id"])
    assert (delivery["status"], delivery["attempts"], delivery["provider_id"]) == (
        "sent", 2, message["id"])


def test_quiet_hours_hold_whatsapp_until_they_end_but_not_the_inbox(api, broker, buyer,
                                                                     opted_in, system, infra):
    now = dt.datetime.now(WIB)
    quiet = {"start": f"{now - dt.timedelta(hours=1):%H:%M}",
             "end": f"{now + dt.timedelta(hours=1):%H:%M}"}
    assert api.call("PUT", "/notifications/preferences", token=opted_in["token"],
                    json={"quiet_hours": quiet}).status_code == 200
    _order_for(broker, opted_in, buyer)

    _notified(api, opted_in, "order.placed")
    assert _eventually(lambda: [d for d in _whatsapp_deliveries(infra, opted_in["id"])
                                if d["next_attempt_at"] > dt.datetime.now(WIB)])
    [delivery] = _whatsapp_deliveries(infra, opted_in["id"])
    assert delivery["status"] == "pending" and delivery["attempts"] == 0
    assert delivery["next_attempt_at"].astimezone(WIB).strftime("%H:%M") == quiet["end"]
    assert system.whatsapp.sent_to(opted_in["phone"]) == []


def test_a_kind_the_person_keeps_off_whatsapp_is_not_sent_there(api, broker, buyer, opted_in,
                                                                infra):
    assert api.call("PUT", "/notifications/preferences", token=opted_in["token"], json={
        "channels": {"order.placed": ["email"]}}).status_code == 200
    _order_for(broker, opted_in, buyer)
    _notified(api, opted_in, "order.placed")
    assert _whatsapp_deliveries(infra, opted_in["id"]) == []


def test_a_number_not_on_whatsapp_is_dead_lettered_at_once_with_the_apis_reason(
        api, broker, buyer, opted_in, system, infra, admin):
    system.whatsapp.refuse_next(400, 131026, "Message undeliverable",
                                details="Receiver is incapable of receiving this message")
    _order_for(broker, opted_in, buyer)

    assert _eventually(lambda: [d for d in _whatsapp_deliveries(infra, opted_in["id"])
                                if d["status"] == "failed"], seconds=20)
    [delivery] = _whatsapp_deliveries(infra, opted_in["id"])
    assert delivery["attempts"] == 1
    assert "131026" in delivery["last_error"] and "incapable" in delivery["last_error"]
    assert system.whatsapp.sent_to(opted_in["phone"]) == []


def test_a_reminder_goes_to_whatsapp_as_its_own_template(api, broker, buyer, opted_in,
                                                         system):
    """An order part placed almost a day ago and still unconfirmed: the reminder's
    notification is delivered like any other."""
    payload = {"order_id": str(uuid.uuid4()), "buyer_account_id": buyer["id"],
               "total_idr": 20_000, "parts": [{
                   "business_id": str(uuid.uuid4()), "account_id": opted_in["id"],
                   "total_idr": 20_000, "lines": [{
                       "product_id": str(uuid.uuid4()), "name": "Kopi Dampit",
                       "quantity": 1, "unit_price_idr": 20_000}]}]}
    event = new_event("order.placed", payload, source="marketplace",
                      now=dt.datetime.now(WIB) - dt.timedelta(hours=24, seconds=-2))
    broker.publish_raw("marketplace.events", "order.placed", json.dumps(event.to_message()))

    sent = _sent_to(system.whatsapp, opted_in["phone"], count=2)
    reminder = [m for m in sent if m["template"] == "laris_order_unconfirmed"]
    assert [m["parameters"][1:] for m in reminder] == [
        ["24", "1 × Kopi Dampit @ Rp 20.000 = Rp 20.000", "Rp 20.000"]]


def test_no_whatsapp_message_without_an_opt_in(api, broker, buyer, vendor, infra):
    _order_for(broker, vendor, buyer)
    _notified(api, vendor, "order.placed")
    assert _whatsapp_deliveries(infra, vendor["id"]) == []


# --- statuses -------------------------------------------------------------------------------

@pytest.fixture
def delivered(api, broker, buyer, opted_in, system, infra):
    """A WhatsApp message sent to ``opted_in``: (its wamid, its delivery's id)."""
    _order_for(broker, opted_in, buyer)
    [message] = _sent_to(system.whatsapp, opted_in["phone"])
    [delivery] = _whatsapp_deliveries(infra, opted_in["id"])
    return message["id"], delivery["id"], opted_in["phone"]


def _status_of(infra, wamid):
    found = rows(infra.database_url("notify"),
                 "SELECT status FROM whatsapp_statuses WHERE provider_id = %s", (wamid,))
    return found[0]["status"] if found else None


def test_the_subscription_handshake_echoes_the_challenge_for_our_verify_token(api):
    ours = api.get(WEBHOOK, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                    "hub.challenge": "1158201444"})
    assert ours.status_code == 200 and ours.text == "1158201444"
    theirs = api.get(WEBHOOK, params={"hub.mode": "subscribe", "hub.verify_token": "guess",
                                      "hub.challenge": "1158201444"})
    assert theirs.status_code == 403 and "1158201444" not in theirs.text


def test_a_forged_or_unsigned_status_is_refused_and_changes_nothing(api, infra, delivered):
    wamid, _, phone = delivered
    body = FakeWhatsApp.status_callback(wamid, "read", phone)
    forged = _post_status(api, body, lambda raw: FakeWhatsApp.signature(raw, "not-the-secret"))
    assert forged.status_code == 401, forged.text
    assert forged.json()["error"]["code"] == "unauthorized"
    assert _post_status(api, body, None).status_code == 401
    # A genuine signature over other bytes than those sent.
    other = json.dumps(FakeWhatsApp.status_callback(wamid, "delivered", phone)).encode()
    assert _post_status(api, body, lambda raw: FakeWhatsApp.signature(other)).status_code == 401
    time.sleep(0.5)
    assert _status_of(infra, wamid) is None


def test_a_genuine_status_moves_the_delivery_forward_only(api, infra, admin, delivered):
    wamid, delivery_id, phone = delivered
    for status, recorded in (("delivered", 1), ("read", 1), ("delivered", 0)):
        answer = _post_status(api, FakeWhatsApp.status_callback(wamid, status, phone),
                              FakeWhatsApp.signature)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"recorded": recorded}
    assert _status_of(infra, wamid) == "read"
    listed = api.get("/deliveries", token=admin["token"], params={"limit": 100}).json()
    [shown] = [d for d in listed["items"] if d["id"] == str(delivery_id)]
    assert (shown["status"], shown["provider_status"]) == ("sent", "read")
    unknown = _post_status(api, FakeWhatsApp.status_callback("wamid.unknown", "read", phone),
                           FakeWhatsApp.signature)
    assert unknown.status_code == 200 and unknown.json() == {"recorded": 0}


def test_a_failed_status_dead_letters_the_delivery_for_the_admin(api, infra, admin,
                                                                delivered):
    wamid, delivery_id, phone = delivered
    answer = _post_status(api, FakeWhatsApp.status_callback(wamid, "failed", phone, errors=[
        {"code": 131047, "title": "Re-engagement message",
         "error_data": {"details": "More than 24 hours have passed"}}]), FakeWhatsApp.signature)
    assert answer.status_code == 200 and answer.json() == {"recorded": 1}

    failed = api.get("/deliveries", token=admin["token"], params={"status": "failed",
                                                                  "limit": 100}).json()
    [dead] = [d for d in failed["items"] if d["id"] == str(delivery_id)]
    assert dead["channel"] == "whatsapp"
    assert dead["last_error"] == ("WhatsApp: 131047 Re-engagement message (More than 24 "
                                  "hours have passed)")
    assert dt.datetime.fromisoformat(dead["updated_at"])
