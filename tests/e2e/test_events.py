"""The messaging backbone end to end: the registry's outbox, the broker, and a consumer built
from the shared inbox (the probe service), with the real processes and crashes."""
import json
import time
import uuid

import pytest

from backbone.contracts import event_from_message
from backbone.inbox import ATTEMPTS_HEADER, REASON_HEADER
from tests.support.db import execute, rows

PROBE_QUEUE = "evt-registry-business.verified--probe.on_business_verified"
DEAD_LETTERS = f"dlq.{PROBE_QUEUE}"
# One queue per handler, whatever the number of types it takes.
BUSINESS_FACTS_QUEUE = "evt-registry--probe.on_business_fact"
ACCOUNT_FACTS_QUEUE = "evt-registry--probe.on_account_fact"


def wait_for(check, timeout=20.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"not true within {timeout}s: {check.__doc__ or check}")


def effects(infra, event_id):
    return rows(infra.database_url("probe"),
                "SELECT applied, request_id FROM probe_effects WHERE event_id = %s",
                (str(event_id),))


def outbox_rows(infra, event_type, business_id):
    return rows(infra.database_url("registry"),
                """SELECT event_id, body, published_at FROM outbox WHERE event_type = %s
                    AND body->'payload'->>'business_id' = %s ORDER BY seq""",
                (event_type, business_id))


def copies_of(broker, queue, business_id, expect):
    return [message for message in broker.drain(queue, expect=expect)
            if broker.body(message)["payload"]["business_id"] == business_id]


def test_an_event_carries_its_contract_and_the_request_id(api, vendor, organizer, broker,
                                                         infra, system):
    queue = broker.observe("registry", "business.verified", "contract")
    business = api.register_business(vendor)
    request_id = f"req-{uuid.uuid4().hex[:12]}"
    assert api.verify(organizer, business["id"], headers={
        "X-Request-ID": request_id}).status_code == 200

    [message] = copies_of(broker, queue, business["id"], expect=1)
    event = event_from_message(broker.body(message))
    assert event.event_type == "business.verified" and event.version == 1
    assert event.request_id == request_id
    assert event.payload["status"] == "verified"
    assert event.payload["owner_account_id"] == vendor["id"]

    applied = wait_for(lambda: effects(infra, event.event_id))
    assert applied == [{"applied": 1, "request_id": request_id}]
    for name in ("gateway", "registry", "probe"):
        assert request_id in system.processes[name].log(), name


@pytest.mark.parametrize("crash_at, deliveries", [
    ("relay.before_publish", 1),   # killed between commit and publish: published once
    ("relay.after_confirm", 2),    # killed after the broker's confirm: published again
])
def test_a_killed_relay_loses_nothing_and_the_effect_happens_once(
        api, vendor, organizer, broker, infra, system, crash_at, deliveries):
    business = api.register_business(vendor)
    queue = broker.observe("registry", "business.verified", f"crash-{crash_at}")

    system.restart("registry", extra_env={"LARIS_OUTBOX_RELAY": "off"})
    assert api.verify(organizer, business["id"]).status_code == 200
    [row] = outbox_rows(infra, "business.verified", business["id"])
    assert row["published_at"] is None

    registry = system.processes["registry"]
    registry.stop()
    registry.start({"LARIS_CRASH_AT": crash_at})
    assert registry.wait_exit(timeout=60) == 75
    assert f"crashing on purpose at {crash_at}" in registry.log()
    registry.start()
    system.wait_ready()

    copies = copies_of(broker, queue, business["id"], expect=deliveries)
    assert len(copies) == deliveries
    assert {broker.body(c)["event_id"] for c in copies} == {str(row["event_id"])}
    wait_for(lambda: outbox_rows(infra, "business.verified", business["id"])[0]["published_at"])
    assert wait_for(lambda: effects(infra, row["event_id"]))[0]["applied"] == 1
    time.sleep(1)  # a second copy, had the inbox let it through, would have landed by now
    assert effects(infra, row["event_id"])[0]["applied"] == 1


def test_a_redelivered_event_has_one_effect(api, vendor, organizer, broker, infra, system):
    business = api.register_business(vendor)
    api.verify(organizer, business["id"])
    [row] = outbox_rows(infra, "business.verified", business["id"])
    wait_for(lambda: effects(infra, row["event_id"]))

    for _ in range(2):
        broker.publish_raw("registry.events", "business.verified", json.dumps(row["body"]))
    probe = system.processes["probe"]
    wait_for(lambda: probe.log().count(f'"event_id": "{row["event_id"]}"') >= 2)
    assert effects(infra, row["event_id"]) == [{"applied": 1, "request_id": row["body"][
        "request_id"]}]
    handled = rows(infra.database_url("probe"), "SELECT count(*) AS n FROM inbox"
                   " WHERE event_id = %s AND handler = 'probe.on_business_verified'",
                   (str(row["event_id"]),))
    assert handled == [{"n": 1}]


def _as_bytes(body):
    return body if isinstance(body, bytes) else body.encode()


def _dead_letter(broker, expect_reason, dead_letters=DEAD_LETTERS, timeout=30):
    def found():
        for message in broker.drain(dead_letters, expect=1, timeout=1, settle=0):
            if expect_reason in message.headers.get(REASON_HEADER, ""):
                return message
        return None
    return wait_for(found, timeout=timeout)


def test_poison_messages_go_to_the_dead_letter_queue_with_the_reason(
        api, vendor, organizer, broker, infra, system):
    good_event = {"event_id": str(uuid.uuid4()), "event_type": "business.verified",
                  "version": 1, "occurred_at": "2026-05-01T10:00:00+07:00", "source": "registry",
                  "request_id": None, "payload": {"business_id": "x"}}
    poisons = [
        (b"{not json at all", "undecodable body"),
        (json.dumps(["not", "an", "event"]), "an event body is a JSON object"),
        (json.dumps({"hello": "world"}), "bad envelope"),
        (json.dumps(good_event), "payload breaks business.verified v1"),
    ]
    for body, reason in poisons:
        broker.publish_raw("registry.events", "business.verified", body)
        dead = _dead_letter(broker, reason)
        assert dead.headers["x-laris-queue"] == PROBE_QUEUE
        assert _as_bytes(dead.body) == _as_bytes(body)

    # The consumer is still alive and handles the next good event.
    business = api.register_business(vendor)
    api.verify(organizer, business["id"])
    [row] = outbox_rows(infra, "business.verified", business["id"])
    assert wait_for(lambda: effects(infra, row["event_id"]))[0]["applied"] == 1
    assert system.processes["probe"].running()


def test_a_handler_that_keeps_failing_is_dead_lettered_after_its_retries(
        api, vendor, organizer, broker, infra):
    business = api.register_business(vendor)
    execute(infra.database_url("probe"), "INSERT INTO probe_failures VALUES (%s)",
            (business["id"],))
    api.verify(organizer, business["id"])
    [row] = outbox_rows(infra, "business.verified", business["id"])

    dead = _dead_letter(broker, "probe told to fail")
    assert "after 5 attempts" in dead.headers[REASON_HEADER]
    assert dead.headers[ATTEMPTS_HEADER] == 4
    assert json.loads(dead.body)["event_id"] == str(row["event_id"])
    assert effects(infra, row["event_id"]) == []


def test_two_versions_side_by_side_each_reach_their_own_handler(broker, infra, system):
    facts = {"business_id": str(uuid.uuid4()), "owner_account_id": str(uuid.uuid4()),
             "name": "Kopi Dinoyo", "kind": "umkm", "sector": "kuliner",
             "kecamatan": "lowokwaru", "status": "verified"}
    envelope = {"event_type": "business.verified", "occurred_at": "2026-11-23T10:00:00+07:00",
                "source": "registry", "request_id": "side-by-side"}
    v1 = envelope | {"event_id": str(uuid.uuid4()), "version": 1, "payload": facts}
    v2 = envelope | {"event_id": str(uuid.uuid4()), "version": 2,
                     "payload": facts | {"verified_by": "organizer-1"}}
    for event in (v1, v2):
        broker.publish_raw("registry.events", "business.verified", json.dumps(event))

    handled = lambda: rows(infra.database_url("probe"),  # noqa: E731
                           "SELECT event_id::text, handler FROM inbox WHERE event_id IN (%s, %s)"
                           " ORDER BY handler", (v1["event_id"], v2["event_id"]))
    wait_for(lambda: len(handled()) == 2)
    time.sleep(0.5)
    assert handled() == [
        {"event_id": v1["event_id"], "handler": "probe.on_business_verified"},
        {"event_id": v2["event_id"], "handler": "probe.on_business_verified_v2"}]
    probe_log = system.processes["probe"].log()
    assert "event of another contract version left to its own handler" in probe_log


def test_identity_changes_before_verification_are_announced(api, vendor, broker):
    queue = broker.observe("registry", "business.updated", "updated")
    business = api.register_business(vendor)
    path = f"/businesses/{business['id']}"
    api.patch(path, token=vendor["token"], json={"address": "Jl. Ijen No. 3"})
    api.patch(path, token=vendor["token"], json={"sector": "perdagangan", "name": "Toko Sanan"})
    [message] = copies_of(broker, queue, business["id"], expect=1)
    payload = broker.body(message)["payload"]
    assert (payload["sector"], payload["name"]) == ("perdagangan", "Toko Sanan")


def test_an_expiring_certificate_is_announced_by_the_readiness_sweep(
        api, vendor, organizer, broker, infra, system):
    business = api.register_business(vendor, packaging=["paper"])
    path = f"/businesses/{business['id']}"
    api.verify(organizer, business["id"])
    for kind, number in (("pirt", "206357301001227"), ("halal", "ID35110000123450321")):
        claim = api.post(f"{path}/certifications", token=vendor["token"], json={
            "kind": kind, "number": number, "valid_until": "2030-01-01"})
        api.review_certification(organizer, business["id"], claim.json()["id"])
    assert "domestic" in api.get(path).json()["export_ready"]
    queue = broker.observe("registry", "business.export_readiness_changed", "sweep")

    # Time passes: the halal certificate reaches its end (the API refuses to record an
    # expired one, so the test moves its date, as the calendar would).
    execute(infra.database_url("registry"),
            "UPDATE certifications SET valid_until = current_date - 1"
            " WHERE business_id = %s AND kind = 'halal'", (business["id"],))
    assert "domestic" not in api.get(path).json()["export_ready"]
    system.restart("registry")  # the sweep runs at start-up, then hourly

    [message] = copies_of(broker, queue, business["id"], expect=1)
    payload = broker.body(message)["payload"]
    domestic = next(m for m in payload["markets"] if m["market"] == "domestic")
    assert "domestic" not in payload["export_ready"]
    assert domestic["missing"] == ["certification:halal"]


def test_a_consumer_waits_out_its_database_outage_without_dead_lettering(
        api, vendor, organizer, broker, infra, system):
    probe_db = infra.database_url("probe")
    name = probe_db.rsplit("/", 1)[1]
    admin_url = probe_db.rsplit("/", 1)[0] + "/postgres"
    business = api.register_business(vendor)
    execute(admin_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    try:
        execute(admin_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                           " WHERE datname = %s", (name,))
        api.verify(organizer, business["id"])
        [row] = outbox_rows(infra, "business.verified", business["id"])
        probe = system.processes["probe"]
        # Longer than the handler's five attempts would take (0.05 s doubling): it waits.
        wait_for(lambda: probe.log().count('"x-laris-outage-waits": 6') >= 1, timeout=30)
    finally:
        execute(admin_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert wait_for(lambda: effects(infra, row["event_id"]), timeout=60)[0]["applied"] == 1
    assert all(broker.body(m)["event_id"] != str(row["event_id"])
               for m in broker.drain(DEAD_LETTERS, expect=0, timeout=1))


def business_fact(business_id, aggregate_version, event_type="business.updated", **facts):
    """A business fact as the registry sends it: the full snapshot and its version."""
    return {"event_id": str(uuid.uuid4()), "event_type": event_type, "version": 1,
            "occurred_at": "2026-11-23T10:00:00+07:00", "source": "registry",
            "request_id": f"fact-v{aggregate_version}", "aggregate_type": "business",
            "aggregate_id": business_id, "aggregate_version": aggregate_version,
            "payload": {"business_id": business_id, "owner_account_id": "owner-1",
                        "name": f"Keripik v{aggregate_version}", "kind": "umkm",
                        "sector": "kuliner", "kecamatan": "sukun", "status": "pending"} | facts}


def read_model(infra, business_id):
    return rows(infra.database_url("probe"), "SELECT name, status, version, applied"
                " FROM probe_businesses WHERE business_id = %s", (business_id,))


def handled_by(infra, handler, events):
    return rows(infra.database_url("probe"), "SELECT event_id::text FROM inbox"
                " WHERE handler = %s AND event_id::text = ANY(%s)",
                (handler, [event["event_id"] for event in events]))


def publish(broker, *events, routing_key=None):
    for event in events:
        broker.publish_raw("registry.events", routing_key or event["event_type"],
                           json.dumps(event))


def test_a_read_model_keeps_the_newest_fact_whatever_the_order(broker, infra, system):
    business_id = str(uuid.uuid4())
    v3, v1, v2 = (business_fact(business_id, version) for version in (3, 1, 2))
    # The newest fact first, then the older ones late: they change nothing. (Published
    # together, the consumer's workers may apply v1 before v3; the end state is v3 either way.)
    publish(broker, v3)
    wait_for(lambda: read_model(infra, business_id))
    publish(broker, v1, v2)
    wait_for(lambda: len(handled_by(infra, "probe.on_business_fact", [v3, v1, v2])) == 3)
    assert read_model(infra, business_id) == [
        {"name": "Keripik v3", "status": "pending", "version": 3, "applied": 1}]

    publish(broker, v3)  # redelivered: the inbox knows it
    probe = system.processes["probe"]
    wait_for(lambda: any("duplicate event skipped" in line and v3["event_id"] in line
                         for line in probe.log().splitlines()))
    assert read_model(infra, business_id)[0]["applied"] == 1
    assert "older fact skipped" in probe.log()


def test_one_handler_takes_several_types_from_one_queue(api, broker, infra, system):
    business_id = str(uuid.uuid4())
    registered = business_fact(business_id, 1, "business.registered")
    verified = business_fact(business_id, 2, "business.verified", status="verified")
    publish(broker, registered)
    wait_for(lambda: read_model(infra, business_id))
    publish(broker, verified)
    wait_for(lambda: read_model(infra, business_id)[0]["version"] == 2)
    assert read_model(infra, business_id)[0] | {"name": None} == {
        "name": None, "status": "verified", "version": 2, "applied": 2}
    for queue in (BUSINESS_FACTS_QUEUE, ACCOUNT_FACTS_QUEUE):
        assert broker.declare_passive(queue).consumer_count >= 1

    # A pattern: account.* takes account.created, the registry's real event.
    buyer = api.new_account("buyer")
    wait_for(lambda: rows(infra.database_url("probe"), "SELECT 1 FROM probe_effects"
                          " WHERE subject_id = %s AND event_type = 'account.created'",
                          (buyer["id"],)))


def test_a_type_the_handler_did_not_subscribe_to_is_dead_lettered(broker, system):
    stray = business_fact(str(uuid.uuid4()), 1, "business.verified", status="verified")
    publish(broker, stray, routing_key="account.created")  # lands in the account.* queue
    dead = _dead_letter(broker, "business.verified matches none of this handler's"
                        " subscriptions (account.*)", f"dlq.{ACCOUNT_FACTS_QUEUE}")
    assert json.loads(dead.body)["event_id"] == stray["event_id"]


def test_a_version_no_handler_takes_is_parked_not_dropped(broker, infra, system):
    account = {"account_id": str(uuid.uuid4()), "email": "v2@test.laris.local", "name": "V2",
               "role": "buyer", "locale": "id", "phone": "081234500001"}
    v2 = {"event_id": str(uuid.uuid4()), "event_type": "account.created", "version": 2,
          "occurred_at": "2026-11-23T10:00:00+07:00", "source": "registry",
          "request_id": "parked", "payload": account}
    publish(broker, v2)
    dead = _dead_letter(broker, "no handler for account.created v2 in probe",
                        f"dlq.{ACCOUNT_FACTS_QUEUE}")
    assert json.loads(dead.body)["event_id"] == v2["event_id"]
    assert handled_by(infra, "probe.on_account_fact", [v2]) == []


@pytest.mark.parametrize("mode, error", [("data", "ValidationFailed"),
                                         ("timeout", "ServiceBusy")])
def test_a_handler_failing_on_content_is_dead_lettered_not_waiting(
        api, vendor, organizer, broker, infra, mode, error):
    business = api.register_business(vendor)
    execute(infra.database_url("probe"), "INSERT INTO probe_failures VALUES (%s, %s)",
            (business["id"], mode))
    api.verify(organizer, business["id"])
    [row] = outbox_rows(infra, "business.verified", business["id"])

    dead = _dead_letter(broker, error, timeout=20)
    assert "after 5 attempts" in dead.headers[REASON_HEADER]
    assert json.loads(dead.body)["event_id"] == str(row["event_id"])
    assert "x-laris-outage-waits" not in dead.headers
