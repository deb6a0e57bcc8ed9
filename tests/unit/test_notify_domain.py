"""Notify's rules: who hears about an event, and what they read in their language."""
import datetime as dt
import string
import uuid

import pytest

from backbone.contracts import event_from_message, new_event
from services.notify import domain, events

VENDOR_A, VENDOR_B, BUYER = (str(uuid.uuid4()) for _ in range(3))
ORDER_ID = "1a2b3c4d-0000-4000-8000-000000000001"


def _business(**overrides):
    return {"business_id": str(uuid.uuid4()), "owner_account_id": VENDOR_A,
            "name": "Keripik Tempe Sanan", "kind": "umkm", "sector": "kuliner",
            "kecamatan": "blimbing", "status": "verified"} | overrides


def _line(name, quantity, unit_price_idr):
    return {"product_id": str(uuid.uuid4()), "name": name, "quantity": quantity,
            "unit_price_idr": unit_price_idr}


def _received(event_type, payload):
    """The payload as a consumer gets it: through the contract, both ways."""
    sent = new_event(event_type, payload, source="test").to_message()
    return event_from_message(sent).payload


def _two_vendor_order():
    return _received("order.placed", {
        "order_id": ORDER_ID, "buyer_account_id": BUYER, "total_idr": 1_325_000, "parts": [
            {"business_id": str(uuid.uuid4()), "account_id": VENDOR_A, "total_idr": 75_000,
             "lines": [_line("Keripik Tempe Sanan", 3, 25_000)]},
            {"business_id": str(uuid.uuid4()), "account_id": VENDOR_B,
             "total_idr": 1_250_000, "lines": [_line("Batik Malangan Tulis", 1, 1_250_000)]},
        ]})


# --- formats --------------------------------------------------------------------------------

@pytest.mark.parametrize("amount, written", [
    (0, "Rp 0"), (500, "Rp 500"), (25_000, "Rp 25.000"), (1_250_000, "Rp 1.250.000"),
    (1_000_000_000, "Rp 1.000.000.000"), (-7_500, "-Rp 7.500")])
def test_rupiah_is_written_the_indonesian_way(amount, written):
    assert domain.rupiah(amount) == written


def test_times_are_told_in_wib_in_each_language():
    moment = dt.datetime(2026, 11, 23, 17, 5, tzinfo=dt.timezone.utc)     # 00:05 WIB next day
    assert domain.wib_time(moment) == {"id": "24 November 2026 pukul 00.05 WIB",
                                       "en": "24 November 2026, 00:05 WIB"}


def test_an_order_is_referred_to_by_its_first_eight_characters():
    assert domain.order_reference(ORDER_ID) == "#1A2B3C4D"


@pytest.mark.parametrize("account, locale", [
    ({"locale": "en"}, "en"), ({"locale": "id"}, "id"), ({"locale": "jv"}, "id"),
    (None, "id")])
def test_the_recipients_locale_decides_and_indonesian_is_the_default(account, locale):
    assert domain.locale_of(account) == locale


# --- who hears about what -------------------------------------------------------------------

def test_each_vendor_hears_only_of_their_own_lines_and_the_buyer_once():
    drafts = domain.drafts_for("order.placed", _two_vendor_order())
    assert sorted(draft.account_id for draft in drafts) == sorted([VENDOR_A, VENDOR_B, BUYER])
    by_account = {draft.account_id: domain.render(draft, "id") for draft in drafts}

    vendor_a, vendor_b = by_account[VENDOR_A], by_account[VENDOR_B]
    assert vendor_a["subject"] == "Pesanan baru #1A2B3C4D"
    assert "3 × Keripik Tempe Sanan @ Rp 25.000 = Rp 75.000" in vendor_a["body"]
    assert "Batik" not in vendor_a["body"] and "Total: Rp 75.000" in vendor_a["body"]
    assert "1 × Batik Malangan Tulis @ Rp 1.250.000" in vendor_b["body"]
    assert "Keripik" not in vendor_b["body"] and "Total: Rp 1.250.000" in vendor_b["body"]

    buyer = by_account[BUYER]
    assert "Keripik" in buyer["body"] and "Batik" in buyer["body"]
    assert "Total: Rp 1.325.000" in buyer["body"]
    assert {draft.ref["type"] for draft in drafts} == {"order"}


def test_the_buyer_hears_when_a_part_of_the_order_moves():
    part = _two_vendor_order()["parts"][1]
    payload = _received("order.status_changed", {
        "order_id": ORDER_ID, "buyer_account_id": BUYER, "from_status": "confirmed",
        "to_status": "shipped", "part": part})
    assert domain.businesses_named_in("order.status_changed", payload) == [
        part["business_id"]]
    [draft] = domain.drafts_for("order.status_changed", payload,
                                {part["business_id"]: "Batik Tulis Celaket"})
    assert draft.account_id == BUYER
    assert domain.render(draft, "id") == {
        "subject": "Pesanan #1A2B3C4D dikirim",
        "body": "Pesanan #1A2B3C4D dari Batik Tulis Celaket kini dikirim "
                "(sebelumnya dikonfirmasi)."}
    assert domain.render(draft, "en")["body"] == (
        "Order #1A2B3C4D from Batik Tulis Celaket is now shipped (was confirmed).")


def test_a_seller_we_do_not_know_yet_is_named_generically():
    part = _two_vendor_order()["parts"][0]
    payload = _received("order.status_changed", {
        "order_id": ORDER_ID, "buyer_account_id": BUYER, "from_status": "placed",
        "to_status": "cancelled", "part": part})
    [draft] = domain.drafts_for("order.status_changed", payload)
    assert "dari penjual kini dibatalkan" in domain.render(draft, "id")["body"]
    assert "from the seller is now cancelled" in domain.render(draft, "en")["body"]


def test_the_owner_hears_of_the_verification_with_the_note():
    business = _business()
    [draft] = domain.drafts_for("business.rejected", _received(
        "business.rejected", business | {"note": "NIB tidak cocok"}))
    assert draft.account_id == VENDOR_A
    assert draft.ref == {"type": "business", "id": business["business_id"]}
    indonesian, english = domain.render(draft, "id"), domain.render(draft, "en")
    assert indonesian["subject"] == "Verifikasi Keripik Tempe Sanan ditolak"
    assert "Catatan: NIB tidak cocok" in indonesian["body"]
    assert english["subject"] == "Verification of Keripik Tempe Sanan was rejected"
    assert "Note: NIB tidak cocok" in english["body"]


def test_a_verification_without_a_note_says_no_note():
    [draft] = domain.drafts_for("business.verified", _received("business.verified",
                                                                _business()))
    body = domain.render(draft, "id")["body"]
    assert body.startswith("Selamat! Usaha Keripik Tempe Sanan telah diverifikasi")
    assert "Catatan" not in body


def test_a_certification_review_names_the_kind_and_validity():
    business = _business()
    payload = _received("business.certification_confirmed", {
        "business_id": business["business_id"], "certification_id": str(uuid.uuid4()),
        "kind": "halal", "number": "ID35110000123450321", "valid_until": dt.date(2027, 3, 1),
        "business": business})
    [draft] = domain.drafts_for("business.certification_confirmed", payload)
    assert draft.account_id == VENDOR_A
    assert domain.render(draft, "id")["body"] == (
        "Sertifikasi HALAL nomor ID35110000123450321 untuk Keripik Tempe Sanan telah "
        "dikonfirmasi, berlaku sampai 1 Maret 2027.")
    assert "valid until 1 March 2027" in domain.render(draft, "en")["body"]


def _booth_payload(event_type, **extra):
    return _received(event_type, {
        "application_id": str(uuid.uuid4()), "expo_id": str(uuid.uuid4()),
        "expo_name": "Malang City Expo 2026", "business_id": str(uuid.uuid4()),
        "owner_account_id": VENDOR_B, "reasons": [
            {"code": "freed", "id": "Stan kosong kembali", "en": "The booth is free again"}],
    } | extra)


def test_a_booth_offer_tells_the_applicant_when_the_hold_expires_in_wib():
    payload = _booth_payload("expo.booth_offered", booth_code="B-07",
                             hold_expires_at=dt.datetime(
                                 2026, 11, 25, 3, 30, tzinfo=dt.timezone.utc))
    [draft] = domain.drafts_for("expo.booth_offered", payload)
    assert draft.account_id == VENDOR_B and draft.ref["type"] == "application"
    indonesian = domain.render(draft, "id")
    assert indonesian["subject"] == "Stan B-07 di Malang City Expo 2026 ditawarkan untuk Anda"
    assert "sampai 25 November 2026 pukul 10.30 WIB" in indonesian["body"]
    assert "Alasan: Stan kosong kembali" in indonesian["body"]
    english = domain.render(draft, "en")
    assert "until 25 November 2026, 10:30 WIB" in english["body"]
    assert "Reasons: The booth is free again" in english["body"]


@pytest.mark.parametrize("event_type, extra, subject", [
    ("expo.booth_allocated", {"booth_code": "A-01"},
     "Anda mendapat stan A-01 di Malang City Expo 2026"),
    ("expo.booth_released", {"booth_code": "A-01"},
     "Stan A-01 di Malang City Expo 2026 dilepas"),
    ("expo.application_waitlisted", {"position": 3},
     "Pendaftaran Anda di Malang City Expo 2026 masuk daftar tunggu"),
])
def test_every_booth_decision_reaches_the_applicant(event_type, extra, subject):
    [draft] = domain.drafts_for(event_type, _booth_payload(event_type, **extra))
    assert draft.account_id == VENDOR_B
    assert domain.render(draft, "id")["subject"] == subject


def test_a_waitlist_position_is_told_when_known():
    [known] = domain.drafts_for("expo.application_waitlisted",
                                _booth_payload("expo.application_waitlisted", position=3))
    [unknown] = domain.drafts_for("expo.application_waitlisted",
                                  _booth_payload("expo.application_waitlisted"))
    assert "daftar tunggu (urutan 3)." in domain.render(known, "id")["body"]
    assert "waiting list (position 3)." in domain.render(known, "en")["body"]
    assert "daftar tunggu. Alasan" in domain.render(unknown, "id")["body"]


def test_every_template_has_both_languages_with_the_same_parameters():
    for name, languages in domain.TEMPLATES.items():
        assert set(languages) == set(domain.LOCALES), name
        fields = {locale: {field for text in texts
                           for _, field, _, _ in string.Formatter().parse(text) if field}
                  for locale, texts in languages.items()}
        assert fields["id"] == fields["en"], name


def test_every_notified_event_has_its_rule():
    notified = {event for types in events.NOTIFIED.values() for event in types}
    assert notified == set(domain.DRAFTERS)
