"""The envelope's aggregate fields, the clock events are stamped with, and topic patterns."""
import datetime as dt

import pytest

from backbone import clock
from backbone.contracts import InvalidEvent, event_from_message, new_event
from backbone.inbox import topic_matches

FACTS = {"business_id": "b-1", "owner_account_id": "a-1", "name": "Kopi", "kind": "umkm",
         "sector": "kuliner", "kecamatan": "klojen", "status": "pending"}


def test_a_fact_about_an_aggregate_travels_with_its_version():
    event = new_event("business.registered", FACTS, source="registry",
                      aggregate=("business", "b-1", 3))
    message = event.to_message()
    assert (message["aggregate_type"], message["aggregate_id"],
            message["aggregate_version"]) == ("business", "b-1", 3)
    assert event_from_message(message).aggregate == ("business", "b-1", 3)


def test_an_event_about_no_aggregate_has_none():
    event = new_event("business.registered", FACTS, source="registry")
    assert event.aggregate is None
    received = event_from_message(event.to_message())
    assert received.aggregate is None and received.aggregate_version is None


def test_an_older_producer_without_aggregate_fields_still_loads():
    body = new_event("business.registered", FACTS, source="registry").to_message()
    for name in ("aggregate_type", "aggregate_id", "aggregate_version"):
        body.pop(name)
    assert event_from_message(body).aggregate is None


@pytest.mark.parametrize("aggregate", [("business", "b-1", 0), ("business", "b-1", "2"),
                                       ("business", "", 1), ("business", "b-1"), "business"])
def test_a_producer_cannot_emit_a_bad_aggregate(aggregate):
    with pytest.raises(ValueError):
        new_event("business.registered", FACTS, source="registry", aggregate=aggregate)


@pytest.mark.parametrize("fields", [{"aggregate_version": 2},
                                    {"aggregate_type": "business", "aggregate_id": "b-1"},
                                    {"aggregate_type": "business", "aggregate_id": "b-1",
                                     "aggregate_version": 0}])
def test_a_received_envelope_with_partial_or_bad_aggregate_fields_is_invalid(fields):
    body = new_event("business.registered", FACTS, source="registry").to_message() | fields
    with pytest.raises(InvalidEvent, match="bad envelope"):
        event_from_message(body)


def test_events_are_stamped_by_the_one_clock(monkeypatch):
    fixed = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.timezone.utc)
    monkeypatch.setattr(clock, "now", lambda: fixed)
    assert new_event("business.registered", FACTS, source="registry").occurred_at == fixed


@pytest.mark.parametrize("pattern, routing_key, matches", [
    ("business.verified", "business.verified", True),
    ("business.verified", "business.rejected", False),
    ("business.*", "business.verified", True),
    ("business.*", "business.certification.added", False),
    ("business.*", "business", False),
    ("business.#", "business", True),
    ("business.#", "business.certification.added", True),
    ("#", "account.created", True),
    ("*.created", "account.created", True),
    ("*.created", "account.updated", False),
])
def test_topic_patterns_match_as_the_broker_does(pattern, routing_key, matches):
    assert topic_matches(pattern, routing_key) is matches
