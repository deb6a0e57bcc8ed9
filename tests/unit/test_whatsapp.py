"""The WhatsApp adapter: numbers, our templates, and the Cloud API's answers (over real HTTP,
against tests/support/fake_whatsapp.py)."""
import pathlib
import re

import pytest

from services.notify import domain, whatsapp
from tests.support.fake_whatsapp import FakeWhatsApp

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "whatsapp.md"


@pytest.fixture(scope="module")
def fake():
    server = FakeWhatsApp().start()
    yield server
    server.stop()


# --- numbers --------------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", ["0812-3456-7890", "+62 812 3456 7890", "6281234567890",
                                      "081234567890", "+62-812-3456-7890", " (0812) 3456 7890 "])
def test_every_usual_spelling_of_an_indonesian_mobile_number_becomes_e164(spelling):
    assert whatsapp.normalised_phone(spelling) == "6281234567890"


@pytest.mark.parametrize("text, problem", [
    ("nomor saya", "Not a phone number"),
    ("+65 8123 4567", "Only Indonesian numbers"),
    ("0812-34", "Not a valid Indonesian number"),
    ("0341-551234", "mobile number"),
])
def test_a_number_whatsapp_cannot_reach_is_refused_with_its_problem(text, problem):
    with pytest.raises(whatsapp.InvalidPhone, match=problem):
        whatsapp.normalised_phone(text)


# --- templates ------------------------------------------------------------------------------

def test_every_notification_we_write_has_an_approved_whatsapp_template():
    assert set(domain.TEMPLATES) <= set(whatsapp.TEMPLATES)


@pytest.mark.parametrize("template", sorted(whatsapp.TEMPLATES))
def test_a_template_has_as_many_parameters_as_it_names_in_both_languages(template):
    spec = whatsapp.TEMPLATES[template]
    for locale in domain.LOCALES:
        assert whatsapp.parameter_count(spec[locale]) == len(spec["parameters"])
        assert re.findall(r"\{\{(\d+)\}\}", spec[locale]) == [
            str(n) for n in range(1, len(spec["parameters"]) + 1)]


@pytest.mark.parametrize("template", sorted(whatsapp.TEMPLATES))
def test_docs_whatsapp_md_lists_each_template_with_its_bodies(template):
    text = DOCS.read_text()
    spec = whatsapp.TEMPLATES[template]
    assert f"`{spec['name']}`" in text
    assert spec["id"] in text and spec["en"] in text


def test_an_order_becomes_a_message_of_one_line_per_parameter_in_the_recipients_language():
    draft = domain.drafts_for("order.placed", {
        "order_id": "1a2b3c4d-0000-4000-8000-000000000000", "buyer_account_id": "b",
        "total_idr": 45000, "parts": [{
            "business_id": "x", "account_id": "v", "total_idr": 45000, "lines": [
                {"product_id": "p", "name": "Keripik Tempe", "quantity": 2,
                 "unit_price_idr": 15000},
                {"product_id": "q", "name": "Kopi Dampit", "quantity": 1,
                 "unit_price_idr": 15000}]}]})[0]
    message = whatsapp.message_for(draft.template, draft.params, "id")
    assert message == {"template": "laris_order_received", "language": "id", "parameters": [
        "#1A2B3C4D", "2 × Keripik Tempe @ Rp 15.000 = Rp 30.000; "
                     "1 × Kopi Dampit @ Rp 15.000 = Rp 15.000", "Rp 45.000"]}


def test_a_missing_note_is_a_dash_and_a_per_language_parameter_is_resolved():
    draft = domain.drafts_for("business.verified", {
        "business_id": "x", "owner_account_id": "o", "name": "Batik Tulis Celaket"})[0]
    assert whatsapp.message_for(draft.template, draft.params, "en")["parameters"] == [
        "Batik Tulis Celaket", "-"]
    noted = domain.drafts_for("business.verified", {
        "business_id": "x", "owner_account_id": "o", "name": "Batik", "note": "Lengkap"})[0]
    assert whatsapp.message_for(noted.template, noted.params, "id")["parameters"][1] == \
        "Catatan: Lengkap"


# --- the Cloud API --------------------------------------------------------------------------

def test_a_template_message_is_sent_and_its_wamid_returned(fake):
    message_id = fake.client().send_template("6281234567001", "laris_booth_offer_expiring",
                                             "id", ["A-12", "Malang City Expo", "besok"])
    assert message_id.startswith("wamid.")
    [sent] = fake.sent_to("6281234567001")
    assert sent == {"id": message_id, "to": "6281234567001",
                    "template": "laris_booth_offer_expiring", "language": "id",
                    "parameters": ["A-12", "Malang City Expo", "besok"]}


def test_a_number_not_on_whatsapp_is_refused_for_good(fake):
    fake.refuse_next(400, 131026, "Message undeliverable", details="Receiver is incapable")
    with pytest.raises(whatsapp.WhatsAppSendFailed) as failed:
        fake.client().send_template("6281234567002", "laris_order_status", "en",
                                    ["#1", "Toko", "shipped", "confirmed"])
    assert failed.value.retryable is False
    assert "131026" in failed.value.reason and "Receiver is incapable" in failed.value.reason


@pytest.mark.parametrize("status, code", [(429, 130429), (400, 131056), (500, 131000),
                                          (503, 133004)])
def test_throttling_and_the_apis_own_trouble_are_worth_another_try(fake, status, code):
    fake.refuse_next(status, code, "Rate limit hit or service unavailable")
    with pytest.raises(whatsapp.WhatsAppSendFailed) as failed:
        fake.client().send_template("6281234567003", "laris_order_status", "en",
                                    ["#1", "Toko", "shipped", "confirmed"])
    assert failed.value.retryable is True


def test_a_template_meta_never_approved_is_not_retried(fake):
    with pytest.raises(whatsapp.WhatsAppSendFailed) as failed:
        fake.client().send_template("6281234567004", "laris_not_approved", "id", ["x"])
    assert failed.value.retryable is False and "132001" in failed.value.reason


def test_a_wrong_token_is_not_retried(fake):
    client = whatsapp.WhatsAppCloud(fake.base_url, "106540352242922", "stale-token", 2.0)
    with pytest.raises(whatsapp.WhatsAppSendFailed) as failed:
        client.send_template("6281234567005", "laris_order_status", "en",
                             ["#1", "Toko", "shipped", "confirmed"])
    assert failed.value.retryable is False and "190" in failed.value.reason


def test_an_api_that_does_not_answer_in_time_is_a_retryable_timeout(fake):
    fake.stall_next(1.5)
    with pytest.raises(whatsapp.WhatsAppSendFailed) as failed:
        fake.client(timeout_seconds=0.3).send_template(
            "6281234567006", "laris_order_status", "en", ["#1", "Toko", "shipped", "confirmed"])
    assert failed.value.retryable is True and "0.3s" in failed.value.reason


def test_the_channel_is_off_until_token_and_phone_number_id_are_set(monkeypatch):
    monkeypatch.delenv("LARIS_WHATSAPP_TOKEN", raising=False)
    monkeypatch.setenv("LARIS_WHATSAPP_PHONE_NUMBER_ID", "106540352242922")
    assert whatsapp.from_config() is None
    monkeypatch.setenv("LARIS_WHATSAPP_TOKEN", "token")
    assert whatsapp.from_config().phone_number_id == "106540352242922"


def test_a_failed_status_is_told_to_the_admin_in_one_line():
    assert whatsapp.status_error([{"code": 131026, "title": "Message undeliverable",
                                   "error_data": {"details": "Receiver is incapable"}}]) == \
        "WhatsApp: 131026 Message undeliverable (Receiver is incapable)"
    assert whatsapp.status_error([]) == "WhatsApp: failed"
