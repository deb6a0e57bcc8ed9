"""Reminders through the real system: notify learns the dates from the events it consumes,
keeps a schedule in its database, and its timer (every second in tests) turns each due
reminder into one notification; what is settled first is never reminded.

Certifications go through the registry; booth offers and orders are published as the expo and
the marketplace publish them, with dates near now."""
import datetime as dt
import json
import time
import uuid

from backbone import clock
from backbone.contracts import new_event
from tests.e2e.test_notify import _eventually, _inbox, _notified
from tests.support.db import rows

# Longer than a few sweeps of the timer: what was going to fire has fired.
SWEEPS_SECONDS = 4.0


def _reminders(infra, subject_like):
    return rows(infra.database_url("notify"),
                "SELECT kind, state, due_at, topic FROM reminders WHERE subject LIKE %s"
                " ORDER BY kind", (subject_like,))


def _wait_for_reminders(infra, subject_like, count):
    assert _eventually(lambda: len(_reminders(infra, subject_like)) >= count), \
        _reminders(infra, subject_like)
    return _reminders(infra, subject_like)


def _none_of_kind(api, account, kind):
    time.sleep(SWEEPS_SECONDS)
    return not [n for n in _inbox(api, account, limit=100)["items"] if n["kind"] == kind]


# --- certifications -------------------------------------------------------------------------

def _confirmed_certificate(api, vendor, organizer, business, valid_until, kind="halal"):
    claimed = api.post(f"/businesses/{business['id']}/certifications", token=vendor["token"],
                       json={"kind": kind, "number": f"ID{uuid.uuid4().int % 10**17:017d}",
                             "valid_until": valid_until.isoformat()})
    assert claimed.status_code == 201, claimed.text
    assert api.review_certification(organizer, business["id"],
                                    claimed.json()["id"]).status_code == 200
    return claimed.json()["id"]


def test_a_certificate_expiring_within_two_weeks_is_reminded_once(api, vendor, organizer,
                                                                  infra):
    business = api.register_business(vendor)
    valid_until = clock.today_wib() + dt.timedelta(days=13)
    certification_id = _confirmed_certificate(api, vendor, organizer, business, valid_until)

    [reminder] = _notified(api, vendor, "reminder.certification_expiring")
    assert reminder["subject"] == f"Sertifikasi HALAL {business['name']} berakhir 13 hari lagi"
    assert reminder["ref"] == {"type": "business", "id": business["id"]}
    # Both marks were past when it was confirmed: the nearest one only, and it is done.
    assert [(r["kind"], r["state"]) for r in _reminders(
        infra, f"certification:{certification_id}")] == [("certification_expiring_14d", "sent")]


def test_a_certificate_inside_sixty_days_is_reminded_now_and_again_at_fourteen(
        api, vendor, organizer, infra):
    business = api.register_business(vendor)
    valid_until = clock.today_wib() + dt.timedelta(days=59)
    certification_id = _confirmed_certificate(api, vendor, organizer, business, valid_until)

    [reminder] = _notified(api, vendor, "reminder.certification_expiring")
    assert "(59 hari lagi)" in reminder["body"]
    fourteen, sixty = _reminders(infra, f"certification:{certification_id}")
    assert (sixty["kind"], sixty["state"]) == ("certification_expiring_60d", "sent")
    assert (fourteen["kind"], fourteen["state"]) == ("certification_expiring_14d", "pending")
    assert fourteen["due_at"].astimezone(clock.WIB) == dt.datetime.combine(
        valid_until - dt.timedelta(days=14), dt.time(9, 0), tzinfo=clock.WIB)


def test_a_renewed_certificate_cancels_the_old_ones_reminders(api, vendor, organizer, infra):
    business = api.register_business(vendor)
    today = clock.today_wib()
    old = _confirmed_certificate(api, vendor, organizer, business,
                                 today + dt.timedelta(days=100))
    assert {r["state"] for r in _wait_for_reminders(infra, f"certification:{old}", 2)} == {
        "pending"}
    renewed = _confirmed_certificate(api, vendor, organizer, business,
                                     today + dt.timedelta(days=465))

    assert {r["state"] for r in _wait_for_reminders(infra, f"certification:{renewed}", 2)} \
        == {"pending"}
    assert {r["state"] for r in _reminders(infra, f"certification:{old}")} == {"cancelled"}


# --- booth offers ---------------------------------------------------------------------------

def _publish_expo(broker, event_type, payload, version):
    event = new_event(event_type, payload, source="expo",
                      aggregate=("application", payload["application_id"], version))
    broker.publish_raw("expo.events", event_type, json.dumps(event.to_message()))
    return event


def _offer_payload(vendor, hold_expires_at, application_id=None):
    return {"application_id": application_id or str(uuid.uuid4()),
            "expo_id": str(uuid.uuid4()), "expo_name": "Malang City Expo 2027",
            "business_id": str(uuid.uuid4()), "owner_account_id": vendor["id"],
            "booth_code": "C-03", "hold_expires_at": hold_expires_at,
            "reasons": [{"code": "waitlist_next", "id": "Urutan berikutnya",
                         "en": "Next in line"}]}


def test_an_unanswered_offer_is_reminded_twelve_hours_before_its_hold_ends(api, vendor,
                                                                          broker, infra):
    expires = clock.now() + dt.timedelta(hours=12, seconds=3)
    offer = _offer_payload(vendor, expires)
    _publish_expo(broker, "expo.booth_offered", offer, version=3)

    [reminder] = _notified(api, vendor, "reminder.booth_offer_expiring")
    assert reminder["subject"] == "Tawaran stan C-03 di Malang City Expo 2027 segera berakhir"
    assert reminder["ref"] == {"type": "application", "id": offer["application_id"]}
    [row] = _reminders(infra, f"booth-offer:{offer['application_id']}@%")
    assert row["state"] == "sent"


def test_an_offer_answered_in_time_is_not_reminded(api, vendor, broker, infra):
    offer = _offer_payload(vendor, clock.now() + dt.timedelta(hours=12, seconds=5))
    _publish_expo(broker, "expo.booth_offered", offer, version=3)
    assert _wait_for_reminders(infra, f"booth-offer:{offer['application_id']}@%", 1)
    _publish_expo(broker, "expo.booth_allocated", {
        key: offer[key] for key in ("application_id", "expo_id", "expo_name", "business_id",
                                    "owner_account_id", "booth_code", "reasons")}, version=4)

    assert _eventually(lambda: _reminders(infra, f"booth-offer:{offer['application_id']}@%")[0][
        "state"] == "cancelled")
    assert _none_of_kind(api, vendor, "reminder.booth_offer_expiring")


def test_an_offer_that_arrives_after_its_answer_schedules_nothing(api, vendor, broker, infra):
    offer = _offer_payload(vendor, clock.now() + dt.timedelta(hours=12, seconds=2))
    released = _publish_expo(broker, "expo.booth_released", {
        key: offer[key] for key in ("application_id", "expo_id", "expo_name", "business_id",
                                    "owner_account_id", "booth_code", "reasons")}, version=4)
    assert _eventually(lambda: rows(
        infra.database_url("notify"), "SELECT 1 FROM inbox WHERE event_id = %s AND handler = %s",
        (str(released.event_id), "notify.track_booth_offers")))
    _publish_expo(broker, "expo.booth_offered", offer, version=3)

    assert _none_of_kind(api, vendor, "reminder.booth_offer_expiring")
    assert _reminders(infra, f"booth-offer:{offer['application_id']}@%") == []


# --- order parts ----------------------------------------------------------------------------

def _order(api, buyer, vendors):
    parts = [{"business_id": str(uuid.uuid4()), "account_id": vendor["id"],
              "total_idr": 50_000, "lines": [{"product_id": str(uuid.uuid4()),
                                              "name": f"Keripik Tempe {n}", "quantity": 2,
                                              "unit_price_idr": 25_000}]}
             for n, vendor in enumerate(vendors)]
    return {"order_id": str(uuid.uuid4()), "buyer_account_id": buyer["id"],
            "total_idr": 50_000 * len(parts), "parts": parts}


def _publish_order(broker, event_type, payload, placed_ago):
    event = new_event(event_type, payload, source="marketplace", now=clock.now() - placed_ago)
    broker.publish_raw("marketplace.events", event_type, json.dumps(event.to_message()))


ALMOST_A_DAY = dt.timedelta(hours=24) - dt.timedelta(seconds=3)


def test_an_order_part_unconfirmed_for_a_day_is_reminded_to_its_vendor_only(api, broker,
                                                                           buyer):
    waiting, confirming = api.new_account("vendor"), api.new_account("vendor")
    order = _order(api, buyer, [waiting, confirming])
    _publish_order(broker, "order.placed", order, placed_ago=ALMOST_A_DAY)
    _publish_order(broker, "order.status_changed", {
        "order_id": order["order_id"], "buyer_account_id": buyer["id"],
        "from_status": "placed", "to_status": "confirmed", "part": order["parts"][1]},
        placed_ago=dt.timedelta(0))

    [reminder] = _notified(api, waiting, "reminder.order_unconfirmed")
    reference = "#" + order["order_id"].replace("-", "")[:8].upper()
    assert reminder["subject"] == f"Pesanan {reference} menunggu konfirmasi Anda"
    assert "setelah 24 jam:\n- 2 × Keripik Tempe 0 @ Rp 25.000" in reminder["body"]
    assert _none_of_kind(api, confirming, "reminder.order_unconfirmed")
    assert not [n for n in _inbox(api, buyer, limit=100)["items"]
                if n["kind"] == "reminder.order_unconfirmed"]


def test_a_confirmation_heard_before_the_order_itself_still_settles_it(api, broker, buyer,
                                                                      infra):
    vendor = api.new_account("vendor")
    order = _order(api, buyer, [vendor])
    _publish_order(broker, "order.status_changed", {
        "order_id": order["order_id"], "buyer_account_id": buyer["id"],
        "from_status": "placed", "to_status": "confirmed", "part": order["parts"][0]},
        placed_ago=dt.timedelta(0))
    subject = f"order-part:{order['order_id']}:%"
    assert _wait_for_reminders(infra, subject, 1)[0]["state"] == "cancelled"
    _publish_order(broker, "order.placed", order, placed_ago=ALMOST_A_DAY)
    _notified(api, vendor, "order.placed")

    assert _none_of_kind(api, vendor, "reminder.order_unconfirmed")
    assert [r["state"] for r in _reminders(infra, subject)] == ["cancelled"]


def test_a_reminder_due_while_notify_is_down_goes_once_when_it_is_back(api, broker, buyer,
                                                                      system, infra):
    vendor = api.new_account("vendor")
    order = _order(api, buyer, [vendor])
    _publish_order(broker, "order.placed", order,
                   placed_ago=dt.timedelta(hours=24) - dt.timedelta(seconds=8))
    [scheduled] = _wait_for_reminders(infra, f"order-part:{order['order_id']}:%", 1)
    assert scheduled["state"] == "pending"

    system.processes["notify"].kill()
    time.sleep(max(0.0, (scheduled["due_at"] - clock.now()).total_seconds()) + 1)
    system.restart("notify")

    _notified(api, vendor, "reminder.order_unconfirmed")
    assert [r["state"] for r in _reminders(infra, f"order-part:{order['order_id']}:%")] == [
        "sent"]
