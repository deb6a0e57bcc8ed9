"""Notify's delivery rules, pure: backoff, quiet hours, channel preferences, webhook URLs and
their signatures."""
import datetime as dt

import pytest

from backbone.clock import WIB
from services.notify import contract, domain, reminders
from tests.support.webhook_receiver import verify

# The example of the Standard Webhooks specification (standardwebhooks.com).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = "1614265330"
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def wib(hour, minute=0, day=23):
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=WIB)


# --- backoff --------------------------------------------------------------------------------

def test_the_pause_doubles_up_to_the_cap_with_half_of_it_random():
    assert [domain.retry_delay(n, 30, 3600, 0.0) for n in (1, 2, 3, 4)] == [15, 30, 60, 120]
    assert [domain.retry_delay(n, 30, 3600, 0.999999) for n in (1, 2)] == pytest.approx(
        [30, 60])
    assert domain.retry_delay(20, 30, 3600, 0.0) == 1800
    assert domain.retry_delay(20, 30, 3600, 0.5) == 2700


# --- quiet hours ----------------------------------------------------------------------------

@pytest.mark.parametrize("moment, until", [
    (wib(22), wib(7, day=24)),          # evening: until tomorrow morning
    (wib(3, 30), wib(7)),               # after midnight: until this morning
    (wib(21), wib(7, day=24)),          # the start is quiet
    (wib(7), None),                     # the end is not
    (wib(12), None),
])
def test_quiet_hours_across_midnight(moment, until):
    assert domain.quiet_until(moment, dt.time(21), dt.time(7)) == until


def test_quiet_hours_within_a_day_and_none():
    assert domain.quiet_until(wib(13), dt.time(12), dt.time(14)) == wib(14)
    assert domain.quiet_until(wib(15), dt.time(12), dt.time(14)) is None
    assert domain.quiet_until(wib(3), None, None) is None


def test_quiet_hours_are_read_in_wib_whatever_the_moments_zone():
    moment = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.timezone.utc)  # 22:00 WIB
    assert domain.quiet_until(moment, dt.time(21), dt.time(7)) == wib(7, day=24)


# --- preferences ----------------------------------------------------------------------------

def test_a_kind_never_chosen_for_gets_every_channel():
    chosen = {"order.placed": ["webhook"], "business.verified": []}
    assert domain.wants(chosen, "order.placed", "webhook")
    assert not domain.wants(chosen, "order.placed", "email")
    assert not domain.wants(chosen, "business.verified", "email")
    assert domain.wants(chosen, "order.status_changed", "email")
    assert domain.wants({}, "order.placed", "whatsapp")


def test_the_contracts_vocabularies_are_the_domains():
    assert set(contract.NOTIFICATION_KINDS) == set(domain.DRAFTERS) | set(
        reminders.NOTIFICATION_KINDS.values())
    assert set(contract.DELIVERY_CHANNELS) == set(domain.DELIVERY_CHANNELS)


# --- webhook URLs ---------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["https://toko.example.id/laris", "https://36.86.63.182/hook"])
def test_https_to_the_internet_is_fine(url):
    assert domain.webhook_url_problem(url, development=False) is None


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://localhost/hook",
                                 "http://[::1]:9000/hook"])
def test_plain_http_only_to_this_machine_and_only_in_development(url):
    assert domain.webhook_url_problem(url, development=True) is None
    assert domain.webhook_url_problem(url, development=False) == "Must use https."


@pytest.mark.parametrize("url", [
    "http://toko.example.id/hook", "ftp://toko.example.id/", "toko.example.id/hook", "",
    "https://user:secret@toko.example.id/", "https:///nohost", "http://[invalid/hook",
    "https://toko.example.id:99999/", "https://toko example.id/"])
def test_other_urls_are_refused(url):
    assert domain.webhook_url_problem(url, development=True) is not None


@pytest.mark.parametrize("url", ["https://10.0.0.5/hook", "https://192.168.1.1/",
                                 "https://169.254.169.254/latest", "https://127.0.0.1/",
                                 "https://0.0.0.0/"])
def test_private_and_local_addresses_are_refused_in_production(url):
    assert domain.webhook_url_problem(url, development=False) == (
        "Must not point at a private or local address.")


# --- signatures -----------------------------------------------------------------------------

def test_the_signature_is_the_standard_webhooks_one():
    assert domain.standard_webhook_signature(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP,
                                             SPEC_BODY) == SPEC_SIGNATURE


def test_the_documented_receiver_check_accepts_it_and_nothing_else():
    headers = {"webhook-id": SPEC_ID, "webhook-timestamp": SPEC_TIMESTAMP,
               "webhook-signature": SPEC_SIGNATURE}
    now = int(SPEC_TIMESTAMP) + 10
    assert verify(SPEC_SECRET, headers, SPEC_BODY, now=now)
    assert not verify(SPEC_SECRET, headers, SPEC_BODY + b" ", now=now)
    assert not verify(SPEC_SECRET, headers | {"webhook-id": "msg_other"}, SPEC_BODY, now=now)
    assert not verify(SPEC_SECRET, headers, SPEC_BODY, now=now + 3600)


# --- the marketplace's other events ---------------------------------------------------------

VENDOR, BUYER = "5b0c7c53-2f7a-4d5e-9a0b-6c1f2e3d4a5b", "8e9f0a1b-2c3d-4e5f-8a7b-9c0d1e2f3a4b"
ORDER_ID = "1a2b3c4d-0000-4000-8000-000000000001"
PART = {"business_id": "0c1d2e3f-4a5b-4c6d-8e7f-8a9b0c1d2e3f", "account_id": VENDOR,
        "total_idr": 75_000, "lines": [{"product_id": "p1", "name": "Keripik Tempe Sanan",
                                        "quantity": 3, "unit_price_idr": 25_000}]}


def _moved(to_status, actor, from_status="placed"):
    return {"order_id": ORDER_ID, "buyer_account_id": BUYER, "from_status": from_status,
            "to_status": to_status, "part": PART, "actor": actor}


@pytest.mark.parametrize("to_status, actor, by", [
    ("cancelled", "buyer", "dibatalkan oleh pembeli"),
    ("received", "buyer", "diterima oleh pembeli"),
    ("cancelled", "timer", "dibatalkan otomatis karena belum dibayar"),
    ("received", None, "diterima (sebelumnya"),
])
def test_the_vendor_hears_when_someone_else_moves_their_part(to_status, actor, by):
    drafts = domain.drafts_for("order.status_changed", _moved(to_status, actor))
    assert [draft.account_id for draft in drafts] == [BUYER, VENDOR]
    told = domain.render(drafts[1], "id")
    assert by in told["body"]
    assert "3 × Keripik Tempe Sanan @ Rp 25.000 = Rp 75.000" in told["body"]
    assert told["subject"].startswith("Pesanan #1A2B3C4D ")


@pytest.mark.parametrize("to_status, actor", [
    ("confirmed", "vendor"), ("cancelled", "vendor"), ("shipped", None), ("cancelled", None)])
def test_the_vendor_is_not_told_of_their_own_moves(to_status, actor):
    drafts = domain.drafts_for("order.status_changed", _moved(to_status, actor))
    assert [draft.account_id for draft in drafts] == [BUYER]


def test_the_buyer_hears_that_the_seller_received_the_payment():
    payload = {"order_id": ORDER_ID, "part_id": "x", "buyer_account_id": BUYER,
               "business_id": PART["business_id"], "account_id": VENDOR,
               "payment_method": "transfer", "amount_idr": 75_000}
    assert domain.businesses_named_in("order.part_paid", payload) == [PART["business_id"]]
    [draft] = domain.drafts_for("order.part_paid", payload,
                                {PART["business_id"]: "Keripik Bu Wati"})
    assert draft.account_id == BUYER
    assert domain.render(draft, "id")["body"] == (
        "Keripik Bu Wati sudah menerima pembayaran Rp 75.000 (transfer bank) untuk pesanan "
        "#1A2B3C4D.")
    assert "(bank transfer)" in domain.render(draft, "en")["body"]


def test_the_vendor_hears_of_a_hidden_product_and_of_stock_running_out():
    product = {"product_id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a", "owner_account_id": VENDOR,
               "name": "Keripik Tempe Sanan", "business_name": "Keripik Bu Wati",
               "reason": "Foto tidak sesuai produk"}
    [hidden] = domain.drafts_for("product.hidden", product)
    assert hidden.account_id == VENDOR
    assert hidden.ref == {"type": "product", "id": product["product_id"]}
    assert domain.render(hidden, "id")["body"].endswith("Alasan: Foto tidak sesuai produk")
    [depleted] = domain.drafts_for("stock.depleted", product)
    assert domain.render(depleted, "en")["subject"] == "Keripik Tempe Sanan is out of stock"
    assert domain.render(depleted, "id")["subject"] == "Stok Keripik Tempe Sanan habis"
