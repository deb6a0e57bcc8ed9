"""The shared backbone against the real PostgreSQL and RabbitMQ: transactions, the outbox and
its relay, the inbox."""
import concurrent.futures
import threading

import psycopg2
import pytest
from kombu import Exchange, Queue
from kombu.exceptions import OperationalError as KombuOperationalError

from backbone.contracts import new_event
from backbone.errors import BackendUnavailable
from backbone.outbox import OutboxRelay, pending_count

ACCOUNT = {"email": "a@test.laris.local", "name": "A", "role": "buyer"}


def emit_accounts(postgres, count):
    with postgres.transaction() as tx:
        return [tx.emit("account.created", ACCOUNT | {"account_id": str(n)})
                for n in range(count)]


def unsent(postgres):
    with postgres.transaction() as tx:
        return pending_count(tx)


def test_a_transaction_commits_its_events_or_nothing(postgres):
    with pytest.raises(RuntimeError):
        with postgres.transaction() as tx:
            tx.emit("account.created", ACCOUNT | {"account_id": "1"})
            raise RuntimeError("the business change failed")
    assert unsent(postgres) == 0

    emit_accounts(postgres, 2)
    assert unsent(postgres) == 2


def test_the_relay_publishes_with_confirms_then_marks_sent(postgres, broker, infra):
    queue = broker.observe("itest", "account.created", "relay")
    events = emit_accounts(postgres, 3)
    relay = OutboxRelay(postgres, infra.amqp_uri)

    assert relay.publish_pending() == 3
    assert relay.publish_pending() == 0
    assert unsent(postgres) == 0
    received = [broker.body(m) for m in broker.drain(queue, expect=3)]
    assert [m["event_id"] for m in received] == [str(e.event_id) for e in events]


def test_two_relays_never_publish_the_same_row(postgres, broker, infra):
    queue = broker.observe("itest", "account.created", "two-relays")
    events = emit_accounts(postgres, 300)
    relays = [OutboxRelay(postgres, infra.amqp_uri, batch_size=20) for _ in range(2)]
    start = threading.Barrier(2)

    def drain(relay):
        start.wait()
        published = 0
        while (count := relay.publish_pending()) or unsent(postgres):
            published += count
        return published

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        counts = list(pool.map(drain, relays))
    ids = [broker.body(m)["event_id"] for m in broker.drain(queue, expect=300)]
    assert sum(counts) == 300
    assert sorted(ids) == sorted(str(e.event_id) for e in events)


def test_a_publish_that_fails_leaves_the_row_for_the_next_attempt(postgres, broker, infra):
    emit_accounts(postgres, 1)
    dead_broker = OutboxRelay(postgres, "amqp://guest:guest@127.0.0.1:1/")
    with pytest.raises((OSError, KombuOperationalError)):
        dead_broker.publish_pending()
    with postgres.transaction() as tx:
        row = tx.one("SELECT attempts, last_error, published_at FROM outbox")
    assert row["attempts"] == 1 and row["last_error"] and row["published_at"] is None

    queue = broker.observe("itest", "account.created", "retry")
    assert OutboxRelay(postgres, infra.amqp_uri).publish_pending() == 1
    assert len(broker.drain(queue, expect=1)) == 1


def test_the_inbox_lets_one_handler_apply_an_event_once(postgres):
    event = new_event("account.created", ACCOUNT | {"account_id": "9"}, source="itest")
    applied = []
    for _ in range(3):
        postgres.apply_once(event, "itest.handler", lambda tx, e: applied.append(e.event_id))
    postgres.apply_once(event, "itest.other_handler", lambda tx, e: applied.append("other"))
    assert applied == [event.event_id, "other"]


def test_racing_copies_of_a_consumer_apply_an_event_once(postgres):
    event = new_event("account.created", ACCOUNT | {"account_id": "7"}, source="itest")
    gate = threading.Barrier(4)

    def consume(_):
        gate.wait()
        return postgres.apply_once(event, "itest.racer", lambda tx, e: tx.execute(
            "SELECT pg_sleep(0.2)"))

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(consume, range(4)))
    assert sorted(results) == [False, False, False, True]


def test_a_failed_effect_leaves_no_inbox_row_so_a_retry_can_apply_it(postgres):
    event = new_event("account.created", ACCOUNT | {"account_id": "8"}, source="itest")

    def fail(tx, e):
        raise RuntimeError("downstream hiccup")

    with pytest.raises(RuntimeError):
        postgres.apply_once(event, "itest.flaky", fail)
    assert postgres.apply_once(event, "itest.flaky", lambda tx, e: None) is True


def test_a_lost_database_connection_is_replaced(postgres, backbone_db_url):
    with postgres.transaction() as tx:
        tx.one("SELECT 1 AS ok")
    with psycopg2.connect(backbone_db_url) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                       " WHERE datname = current_database() AND pid <> pg_backend_pid()")
    admin.close()
    outcomes = []
    for _ in range(2):
        try:
            with postgres.transaction() as tx:
                outcomes.append(tx.one("SELECT 1 AS ok")["ok"])
        except BackendUnavailable:
            outcomes.append("unavailable")
    assert outcomes[-1] == 1


def test_invalid_event_payloads_never_reach_the_outbox(postgres):
    with pytest.raises(ValueError):
        with postgres.transaction() as tx:
            tx.emit("account.created", {"account_id": "x", "email": "not-an-email",
                                        "name": "A", "role": "buyer"})
    assert unsent(postgres) == 0


def test_rows_the_broker_nacks_stay_unsent(postgres, broker, infra):
    # A full queue that refuses new messages makes the broker nack their publishes.
    exchange = Exchange("itest.events", type="topic", durable=True)
    full = Queue("itest-full", exchange=exchange, routing_key="account.created",
                 queue_arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
    full(broker.channel).declare()
    full(broker.channel).purge()
    try:
        events = emit_accounts(postgres, 3)
        assert OutboxRelay(postgres, infra.amqp_uri).publish_pending() == 1
        with postgres.transaction() as tx:
            left = tx.all("SELECT event_id, attempts, last_error FROM outbox"
                          " WHERE published_at IS NULL ORDER BY seq")
        assert [row["event_id"] for row in left] == [e.event_id for e in events[1:]]
        assert all(row["last_error"] == "nacked by the broker" for row in left)
    finally:
        full(broker.channel).delete()
