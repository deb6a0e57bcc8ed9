"""The gateway's WhatsApp webhook: the signature over the raw body, and the statuses it
forwards (services/gateway/whatsapp.py)."""
import json

from services.gateway.whatsapp import signature_matches, statuses_in
from tests.support.fake_whatsapp import APP_SECRET, FakeWhatsApp

STATUS = FakeWhatsApp.status_callback("wamid.abc", "delivered", "6281234567890")


def test_meta_s_signature_of_the_raw_body_is_accepted():
    raw = json.dumps(STATUS).encode()
    assert signature_matches(raw, FakeWhatsApp.signature(raw), APP_SECRET)
    assert signature_matches(raw, FakeWhatsApp.signature(raw).upper().replace("SHA256=",
                                                                              "sha256="),
                             APP_SECRET)


def test_a_forged_missing_or_reencoded_signature_is_refused():
    raw = json.dumps(STATUS).encode()
    assert not signature_matches(raw, FakeWhatsApp.signature(raw, "another-secret"),
                                 APP_SECRET)
    assert not signature_matches(raw, "", APP_SECRET)
    assert not signature_matches(raw, FakeWhatsApp.signature(raw)[len("sha256="):],
                                 APP_SECRET)
    # The same JSON written differently is another body: the signature is of the bytes.
    respaced = json.dumps(STATUS, indent=1).encode()
    assert not signature_matches(respaced, FakeWhatsApp.signature(raw), APP_SECRET)


def test_the_statuses_are_picked_out_of_every_entry_and_change():
    failed = FakeWhatsApp.status_callback("wamid.def", "failed", "6281234567891", errors=[
        {"code": 131026, "title": "Message undeliverable"}])
    body = {"object": "whatsapp_business_account",
            "entry": STATUS["entry"] + failed["entry"] + [{"changes": [
                {"field": "messages", "value": {"messages": [{"id": "wamid.in"}]}}]}]}
    found = statuses_in(body)
    assert [(s["id"], s["status"]) for s in found] == [("wamid.abc", "delivered"),
                                                       ("wamid.def", "failed")]
    assert found[1]["errors"] == [{"code": 131026, "title": "Message undeliverable"}]


def test_a_body_of_another_shape_carries_no_status():
    assert statuses_in([1, 2]) == []
    assert statuses_in({"entry": "x"}) == []
    assert statuses_in({"entry": [{"changes": [{"value": {"statuses": ["x", None]}}]}]}) == []
