"""Events end to end through our stack, against raw pika on the same broker in the same run.

    make bench            (or: .venv/bin/python bench/events.py)

1. Our stack: each event is a write and its outbox row committed in one transaction (4
   producer threads), published by the outbox relay, delivered by RabbitMQ to the probe
   service (a nameko consumer built only from the backbone, as a real service's would be),
   and applied there with its inbox row in one transaction. Latency: from the producer's
   commit to the consumer's commit (the probe stamps each effect).
2. Raw pika: the same bodies published with publisher confirms (each awaited) and consumed
   with manual acks by a pika consumer, nothing written anywhere. Latency: from the publish to
   the consumer's ack.
3. The relay alone: the same number of rows, already in the outbox, published and marked
   sent, against raw pika confirmed publishes of the same bodies.

It starts its own isolated system (a virtual host and databases of its own), prints a table
and, as its last line, one JSON object. It asserts nothing about time.
"""
import concurrent.futures
import json
import os
import pathlib
import statistics
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pika  # noqa: E402
from kombu import Connection  # noqa: E402

from backbone.db import Postgres  # noqa: E402
from backbone.outbox import OutboxRelay  # noqa: E402
from tests.conftest import PROBE_COMMAND, PROBE_MIGRATIONS  # noqa: E402
from tests.support.db import rows  # noqa: E402
from tests.support.infra import IsolatedInfra  # noqa: E402
from tests.support.system import Process  # noqa: E402

EVENTS = 2000
PRODUCERS = 4
PROBE_QUEUE = "evt-registry--probe.on_account_fact"
RAW_QUEUE = "bench-raw-events"
DEADLINE_SECONDS = 60


def account(n):
    return {"account_id": f"bench-{n}", "email": f"bench{n}@bench.laris.local",
            "name": "Bench", "role": "buyer"}


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def latency_figures(latencies):
    return {"p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1)}


# --- our stack ------------------------------------------------------------------------------

def start_probe(infra, log_dir):
    infra.migrate("probe", dirs=PROBE_MIGRATIONS)
    env = os.environ | infra.env() | {
        "PYTHONPATH": str(ROOT), "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
        "PYTHONWARNINGS": "ignore::Warning"}
    probe = Process("probe", PROBE_COMMAND, env, log_dir)
    probe.start()
    with Connection(infra.amqp_uri) as connection:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and probe.running():
            try:
                if connection.default_channel.queue_declare(
                        PROBE_QUEUE, passive=True).consumer_count:
                    return probe
            except Exception:  # not declared yet: the channel closed, try again
                connection.close()
            time.sleep(0.2)
    raise RuntimeError("the probe did not start consuming:\n" + probe.log()[-3000:])


def produce(postgres, numbers, commits):
    for n in numbers:
        with postgres.transaction() as tx:
            tx.execute("INSERT INTO bench_writes (n) VALUES (%s)", (n,))
            event = tx.emit("account.created", account(n))
        commits[str(event.event_id)] = time.time()


def applied_effects(probe_url, since):
    return rows(probe_url, "SELECT event_id::text, extract(epoch FROM applied_at) AS at"
                " FROM probe_effects WHERE applied_at >= to_timestamp(%s)", (since,))


def bench_stack(infra, postgres):
    probe_url = infra.database_url("probe")
    relay = OutboxRelay(postgres, infra.amqp_uri)
    postgres.on_events_committed = relay.wake
    threading.Thread(target=relay.run, daemon=True).start()
    commits = {}
    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(PRODUCERS) as pool:
        list(pool.map(lambda k: produce(postgres, range(k, EVENTS, PRODUCERS), commits),
                      range(PRODUCERS)))
    deadline = time.monotonic() + DEADLINE_SECONDS
    while len(effects := applied_effects(probe_url, started)) < EVENTS:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(effects)} of {EVENTS} effects within the deadline")
        time.sleep(0.2)
    relay.stop()
    postgres.on_events_committed = None
    applied = {row["event_id"]: float(row["at"]) for row in effects}
    latencies = [applied[event_id] - committed for event_id, committed in commits.items()]
    return EVENTS / (max(applied.values()) - started), latency_figures(latencies)


# --- raw pika -------------------------------------------------------------------------------

def pika_connection(amqp_uri):
    return pika.BlockingConnection(pika.URLParameters(amqp_uri))


def confirmed_pika_publisher(amqp_uri):
    connection = pika_connection(amqp_uri)
    channel = connection.channel()
    channel.confirm_delivery()
    return connection, channel


def publish_raw(channel, body, routing_key):
    channel.basic_publish("", routing_key, body, pika.BasicProperties(
        content_type="application/json", delivery_mode=2))


def publish_streaming(amqp_uri, bodies, published=None):
    """pika's asynchronous adapter with publisher confirms: everything is published at once
    and the broker's confirms are counted as they come, the fastest confirmed publishing pika
    offers. Returns once every body is confirmed."""
    confirmed = 0

    def on_channel(channel):
        channel.confirm_delivery(on_confirm, callback=lambda _: publish_all(channel))

    def publish_all(channel):
        for body in bodies:
            if published is not None:
                published[json.loads(body)["event_id"]] = time.time()
            publish_raw(channel, body, RAW_QUEUE)

    def on_confirm(frame):
        nonlocal confirmed
        if isinstance(frame.method, pika.spec.Basic.Nack):
            raise RuntimeError("the broker nacked a raw publish")
        confirmed = max(confirmed, frame.method.delivery_tag)
        if confirmed == len(bodies):
            connection.close()

    connection = pika.SelectConnection(
        pika.URLParameters(amqp_uri),
        on_open_callback=lambda opened: opened.channel(on_open_callback=on_channel),
        on_close_callback=lambda *_: connection.ioloop.stop())
    connection.ioloop.start()


def bench_raw(amqp_uri, bodies):
    connection = pika_connection(amqp_uri)
    channel = connection.channel()
    channel.queue_declare(RAW_QUEUE, durable=True)
    channel.queue_purge(RAW_QUEUE)
    connection.close()
    published, consumed = {}, {}
    ready = threading.Event()

    def consume():
        consumer = pika_connection(amqp_uri)
        consumer_channel = consumer.channel()
        consumer_channel.basic_qos(prefetch_count=100)
        ready.set()
        for method, _, body in consumer_channel.consume(RAW_QUEUE, inactivity_timeout=10):
            if method is None:
                break
            consumer_channel.basic_ack(method.delivery_tag)
            consumed[json.loads(body)["event_id"]] = time.time()
            if len(consumed) == len(bodies):
                break
        consumer.close()

    reader = threading.Thread(target=consume)
    reader.start()
    ready.wait()
    started = time.time()
    publish_streaming(amqp_uri, bodies, published)
    reader.join()
    latencies = [consumed[event_id] - sent for event_id, sent in published.items()]
    return len(consumed) / (max(consumed.values()) - started), latency_figures(latencies)


# --- the relay alone ------------------------------------------------------------------------

def bench_relay_alone(infra, postgres, bodies):
    with postgres.transaction() as tx:
        for n in range(EVENTS):
            tx.emit("account.created", account(n))
    relay = OutboxRelay(postgres, infra.amqp_uri, batch_size=100)
    started = time.perf_counter()
    while relay.publish_pending():
        pass
    relayed = time.perf_counter() - started
    relay.publisher.close()

    connection, channel = confirmed_pika_publisher(infra.amqp_uri)
    started = time.perf_counter()
    for body in bodies:
        publish_raw(channel, body, RAW_QUEUE)
    one_by_one = time.perf_counter() - started
    started = time.perf_counter()
    publish_streaming(infra.amqp_uri, bodies)
    streaming = time.perf_counter() - started
    channel.queue_purge(RAW_QUEUE)
    connection.close()
    return EVENTS / relayed, EVENTS / streaming, EVENTS / one_by_one


def main():
    infra = IsolatedInfra()
    infra.create_vhost()
    probe = None
    try:
        probe = start_probe(infra, pathlib.Path(tempfile.mkdtemp(prefix="laris-bench-")))
        url = infra.migrate("benchevents", dirs=[ROOT / "backbone" / "migrations"])
        postgres = Postgres(url, source="registry", pool_size=PRODUCERS + 2)
        with postgres.transaction() as tx:
            tx.execute("CREATE TABLE bench_writes (n integer NOT NULL)")
        bodies = [json.dumps({"event_id": f"raw-{n}", "payload": account(n)}).encode()
                  for n in range(EVENTS)]
        stack_rate, stack_latency = bench_stack(infra, postgres)
        raw_rate, raw_latency = bench_raw(infra.amqp_uri, bodies)
        with postgres.transaction() as tx:
            tx.execute("TRUNCATE outbox")
        relay_rate, raw_publish_rate, one_by_one_rate = bench_relay_alone(
            infra, postgres, bodies)
        postgres.close()
    finally:
        if probe:
            probe.stop()
        infra.tear_down()
    report(stack_rate, stack_latency, raw_rate, raw_latency, relay_rate, raw_publish_rate,
           one_by_one_rate)


def report(stack_rate, stack_latency, raw_rate, raw_latency, relay_rate, raw_publish_rate,
           one_by_one_rate):
    table = [
        ("raw pika: confirmed publish -> consume (baseline)", raw_rate, 1.0, raw_latency),
        ("our stack: commit -> relay -> probe inbox + effect", stack_rate,
         stack_rate / raw_rate, stack_latency),
        ("raw pika: confirmed publish, streaming (baseline)", raw_publish_rate, 1.0, None),
        ("raw pika: confirmed publish, each awaited", one_by_one_rate,
         one_by_one_rate / raw_publish_rate, None),
        ("outbox relay alone: publish + confirms + mark sent", relay_rate,
         relay_rate / raw_publish_rate, None),
    ]
    print(f"\n{'figure':<54} {'events/s':>9} {'x base':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for name, per_second, ratio, latency in table:
        p50, p99 = (latency["p50_ms"], latency["p99_ms"]) if latency else ("", "")
        print(f"{name:<54} {per_second:>9.1f} {ratio:>7.2f} {p50:>8} {p99:>8}")
    print(f"\n({EVENTS} events each; {PRODUCERS} producer threads; 2 cores, one broker)")
    print(json.dumps({"bench": "events", "figures": {
        "stack_events_per_s": round(stack_rate, 1), "stack_latency": stack_latency,
        "raw_events_per_s": round(raw_rate, 1), "raw_latency": raw_latency,
        "relay_events_per_s": round(relay_rate, 1),
        "raw_confirmed_publish_per_s": round(raw_publish_rate, 1),
        "raw_publish_each_awaited_per_s": round(one_by_one_rate, 1)},
        "ratios": {"stack_vs_raw": round(stack_rate / raw_rate, 2),
                   "relay_vs_raw_confirmed_publish": round(relay_rate / raw_publish_rate, 2)}}))


if __name__ == "__main__":
    main()
