"""Event contracts: what a producer may emit and what a consumer accepts."""
import json
import uuid

import pytest

from backbone import contracts
from backbone.contracts import InvalidEvent, event_from_message, new_event

FACTS = {"business_id": "b1", "owner_account_id": "a1", "name": "Batik Celaket",
         "kind": "umkm", "sector": "fashion", "kecamatan": "klojen", "status": "verified"}


def test_an_event_round_trips_through_json():
    event = new_event("business.verified", FACTS | {"note": "lengkap"}, source="registry",
                      request_id="req-1")
    received = event_from_message(json.loads(json.dumps(event.to_message())))
    assert received == event
    assert received.version == contracts.latest_version("business.verified")


def test_a_producer_cannot_emit_a_payload_that_breaks_its_contract():
    with pytest.raises(ValueError, match="kecamatan"):
        new_event("business.verified", FACTS | {"kecamatan": "batu"}, source="registry")
    with pytest.raises(KeyError):
        new_event("business.teleported", FACTS, source="registry")


@pytest.mark.parametrize("body, reason", [
    ("a string", "JSON object"),
    ({"event_type": "business.verified"}, "bad envelope"),
    ({"event_id": str(uuid.uuid4()), "event_type": "business.verified", "version": 9,
      "occurred_at": "2026-05-01T10:00:00+07:00", "source": "registry", "payload": {}},
     "no contract"),
    ({"event_id": str(uuid.uuid4()), "event_type": "business.verified", "version": 1,
      "occurred_at": "2026-05-01T10:00:00", "source": "registry", "payload": FACTS},
     "bad envelope"),  # a timestamp without its offset is ambiguous
    ({"event_id": str(uuid.uuid4()), "event_type": "business.verified", "version": 1,
      "occurred_at": "2026-05-01T10:00:00+07:00", "source": "registry",
      "payload": FACTS | {"status": "sleeping"}}, "payload breaks"),
])
def test_a_consumer_refuses_what_is_not_a_valid_event(body, reason):
    with pytest.raises(InvalidEvent, match=reason):
        event_from_message(body)


def test_unknown_optional_fields_do_not_break_old_consumers():
    """Adding an optional field keeps the version: consumers must not choke on it."""
    message = new_event("account.created", {"account_id": "a", "email": "a@b.id", "name": "A",
                                             "role": "buyer"}, source="registry").to_message()
    message["payload"]["newsletter"] = True
    message["trace_flags"] = "01"
    event = event_from_message(message)
    assert event.payload["email"] == "a@b.id"
    assert "newsletter" not in event.payload
