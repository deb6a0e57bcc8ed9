"""When each reminder falls due, and what it says when it fires (services/notify/reminders.py)."""
import datetime as dt

from backbone.clock import WIB
from services.notify import domain, reminders

LEADS = (60, 14)
OWNER = "7d0c1f4e-0000-4000-8000-000000000001"
BUSINESS = "7d0c1f4e-0000-4000-8000-000000000002"


def _wib(*args):
    return dt.datetime(*args, tzinfo=WIB)


def _certificate(valid_until, certification_id="c-1", kind="halal"):
    return {"business_id": BUSINESS, "certification_id": certification_id, "kind": kind,
            "number": "ID35110000123", "valid_until": valid_until,
            "business": {"owner_account_id": OWNER, "name": "Keripik Tempe Sanan"}}


def test_lead_days_come_most_distant_first_whatever_the_setting_says():
    assert reminders.lead_days("14, 60") == (60, 14)
    assert reminders.lead_days("60,14,60") == (60, 14)


def test_a_certificate_is_reminded_60_and_14_days_before_at_nine_in_the_morning_wib():
    due = reminders.certification_reminders(_certificate(dt.date(2027, 6, 30)),
                                            _wib(2027, 1, 5, 12, 0), LEADS)
    assert [(r.kind, r.due_at) for r in due] == [
        ("certification_expiring_60d", _wib(2027, 5, 1, 9, 0)),
        ("certification_expiring_14d", _wib(2027, 6, 16, 9, 0))]
    assert {r.subject for r in due} == {"certification:c-1"}
    assert {r.topic for r in due} == {f"certification:{BUSINESS}:halal"}
    assert {r.account_id for r in due} == {OWNER}
    assert due[0].deadline == _wib(2027, 7, 1, 0, 0)


def test_a_certificate_confirmed_late_gets_only_its_nearest_past_reminder_at_once():
    """Confirmed 10 days before it expires: the 60- and 14-day marks are both past; one
    message, the 14-day one, due now (its time has come)."""
    [only] = reminders.certification_reminders(_certificate(dt.date(2027, 6, 30)),
                                               _wib(2027, 6, 20, 15, 0), LEADS)
    assert only.kind == "certification_expiring_14d"
    assert only.due_at <= _wib(2027, 6, 20, 15, 0)


def test_between_the_two_marks_the_60_day_reminder_goes_now_and_the_14_day_one_later():
    due = reminders.certification_reminders(_certificate(dt.date(2027, 6, 30)),
                                            _wib(2027, 5, 20, 8, 0), LEADS)
    assert [r.kind for r in due] == ["certification_expiring_14d", "certification_expiring_60d"]
    assert due[0].due_at == _wib(2027, 6, 16, 9, 0)
    assert due[1].due_at < _wib(2027, 5, 20, 8, 0)


def test_an_expired_certificate_gets_no_reminder():
    assert reminders.certification_reminders(_certificate(dt.date(2027, 6, 30)),
                                              _wib(2027, 7, 1, 0, 0), LEADS) == []


def test_a_certificate_still_valid_on_its_last_day_is_not_lapsed_until_midnight_wib():
    deadline = reminders.certification_deadline(dt.date(2027, 6, 30))
    assert not reminders.lapsed(deadline, _wib(2027, 6, 30, 23, 59))
    assert reminders.lapsed(deadline, _wib(2027, 7, 1, 0, 0))
    assert not reminders.lapsed(None, _wib(2099, 1, 1, 0, 0))


def test_the_days_left_are_counted_on_the_day_the_reminder_is_sent():
    [sixty, _] = reminders.certification_reminders(_certificate(dt.date(2027, 6, 30)),
                                                   _wib(2027, 1, 5, 12, 0), LEADS)
    late = reminders.draft(sixty.template, sixty.account_id, sixty.facts, sixty.ref,
                           _wib(2027, 5, 3, 9, 0))
    message = domain.render(late, "id")
    assert message["subject"] == "Sertifikasi HALAL Keripik Tempe Sanan berakhir 58 hari lagi"
    assert "berakhir pada 30 Juni 2027 (58 hari lagi)" in message["body"]
    assert domain.render(late, "en")["body"].startswith(
        "Reminder: the HALAL certification number ID35110000123 of Keripik Tempe Sanan "
        "expires on 30 June 2027 (in 58 days).")


def _offer(hold_expires_at):
    return {"application_id": "a-1", "owner_account_id": OWNER, "booth_code": "B-07",
            "expo_name": "Malang City Expo 2027", "hold_expires_at": hold_expires_at}


def test_an_offer_is_reminded_twelve_hours_before_its_hold_expires():
    offered = _wib(2027, 3, 1, 10, 0)
    [reminder] = reminders.offer_reminders(_offer(_wib(2027, 3, 3, 10, 0)), offered, 12)
    assert reminder.due_at == _wib(2027, 3, 2, 22, 0)
    assert reminder.deadline == _wib(2027, 3, 3, 10, 0)
    assert reminder.topic == "application:a-1"
    assert reminder.subject == "booth-offer:a-1@2027-03-03T10:00:00+07:00"
    body = domain.render(reminders.draft(reminder.template, OWNER, reminder.facts,
                                         reminder.ref, reminder.due_at), "id")["body"]
    assert "stan B-07 di Malang City Expo 2027 masih ditahan untuk Anda sampai 3 Maret 2027 " \
           "pukul 10.00 WIB" in body


def test_a_hold_shorter_than_the_lead_gets_no_reminder():
    offered = _wib(2027, 3, 1, 10, 0)
    assert reminders.offer_reminders(_offer(_wib(2027, 3, 1, 22, 0)), offered, 12) == []
    assert reminders.offer_reminders(_offer(_wib(2027, 3, 1, 21, 0)), offered, 12) == []


def test_each_part_of_an_order_is_reminded_to_its_own_vendor_a_day_after_it_was_placed():
    placed = _wib(2027, 3, 1, 10, 0)
    payload = {"order_id": "1a2b3c4d-0000-4000-8000-000000000000", "parts": [
        {"business_id": "b-1", "account_id": "v-1", "total_idr": 50_000, "lines": [
            {"name": "Keripik Tempe", "quantity": 2, "unit_price_idr": 25_000}]},
        {"business_id": "b-2", "account_id": "v-2", "total_idr": 1_250_000, "lines": [
            {"name": "Batik Tulis", "quantity": 1, "unit_price_idr": 1_250_000}]}]}
    first, second = reminders.order_reminders(payload, placed, 24)
    assert (first.account_id, second.account_id) == ("v-1", "v-2")
    assert first.due_at == _wib(2027, 3, 2, 10, 0) and first.deadline is None
    assert first.topic == first.subject == f"order-part:{payload['order_id']}:b-1"
    message = domain.render(reminders.draft(first.template, "v-1", first.facts, first.ref,
                                            first.due_at), "id")
    assert message["subject"] == "Pesanan #1A2B3C4D menunggu konfirmasi Anda"
    assert "setelah 24 jam:\n- 2 × Keripik Tempe @ Rp 25.000 = Rp 50.000\nTotal: Rp 50.000" \
        in message["body"]
    assert "Batik" not in message["body"]


def test_any_move_on_from_placed_settles_an_order_parts_reminder():
    assert reminders.settles_order_part({"to_status": "confirmed"})
    assert reminders.settles_order_part({"to_status": "cancelled"})
    assert not reminders.settles_order_part({"to_status": "placed"})
