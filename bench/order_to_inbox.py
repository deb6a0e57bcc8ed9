"""From an order's 201 to the vendor's inbox: orders placed through the gateway at a steady
rate, against a raw pika round trip on the same broker in the same run.

    make bench            (or: .venv/bin/python bench/order_to_inbox.py [--seconds 60])

1. Baseline: raw pika on the same broker, at the same steady rate: each message published
   persistent with publisher confirms (each awaited) to a durable queue and consumed with
   manual acks by a pika consumer; latency from just before the publish to the consumer.
2. Orders: ``POST /api/v1/orders`` at a steady RATE per second for SECONDS (open loop: each
   order is sent at its planned moment by a bounded pool of clients, whatever the earlier
   answers' pace; "behind" counts orders sent more than 100 ms late), each one line of one
   of VENDORS vendors' products. Latency: from the 201 to the moment the vendor's
   ``order.placed`` notification is visible in notify's database (committed: what
   ``GET /notifications`` reads), polled every POLL_SECONDS (so figures carry up to that
   much of the poll's own delay). On the way: the marketplace's outbox and relay, RabbitMQ,
   notify's consumer, its inbox row and the notification (and its deliveries) in one
   transaction.
   Lost: orders answered 201 whose vendor had no notification DRAIN_SECONDS after the last.
   Doubled: (order, vendor) pairs with more than one inbox notification.

It starts its own isolated system (a virtual host and databases of its own), with e-mail on:
every notification is also e-mailed, to an SMTP server that discards what it accepts
(aiosmtpd's Sink) in a process of its own, as a real mail server is (in the bench's own
process it would take the CPU of the clients that place the orders). It prints a table and,
as its last line, one JSON object. It asserts nothing about time; the targets of issue 16
(p50 < 100 ms, p99 < 500 ms, none lost or doubled) are printed beside the figures.
"""
import argparse
import concurrent.futures
import datetime as dt
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import pika  # noqa: E402
import psycopg2  # noqa: E402
import requests  # noqa: E402

from tests.support.api import Api  # noqa: E402
from tests.support.db import rows  # noqa: E402
from tests.support.infra import IsolatedInfra  # noqa: E402
from tests.support.shop import SHIPPING, list_product, verified_business  # noqa: E402
from tests.support.system import System, free_port  # noqa: E402

RATE = 50
SECONDS = 60
VENDORS = 10
BUYERS = 20
CLIENTS = 32           # bounds the requests in flight
POLL_SECONDS = 0.005
DRAIN_SECONDS = 30
LATE_SECONDS = 0.1
BASELINE_SECONDS = 20
BASELINE_QUEUE = "bench-order-to-inbox-baseline"
# As make run configures the processes, with quieter logs: the bench measures messages, not
# logging.
BENCH_ENV = {"LARIS_LOG_LEVEL": "WARNING", "LARIS_RPC_TIMEOUT": "10",
             "LARIS_GATEWAY_THREADS": "16"}
TARGETS = {"p50_ms": 100, "p99_ms": 500}


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def latency_figures(latencies):
    if not latencies:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    return {"p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
            "max_ms": round(max(latencies) * 1000, 1)}


def steady(rate, seconds, send):
    """Calls ``send(index)`` at ``rate`` per second for ``seconds``, each at its planned
    moment, on a bounded pool; returns how many went out later than LATE_SECONDS."""
    behind = 0
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        for index in range(int(rate * seconds)):
            planned = start + index / rate
            pause = planned - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            elif -pause > LATE_SECONDS:
                behind += 1
            pool.submit(send, index)
    return behind


# --- the baseline: raw pika -----------------------------------------------------------------

def bench_pika(amqp_uri, seconds):
    received = {}
    ready = threading.Event()

    def consume():
        connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
        channel = connection.channel()
        channel.queue_declare(BASELINE_QUEUE, durable=True)
        channel.basic_qos(prefetch_count=100)

        def on_message(ch, method, properties, body):
            received[json.loads(body)["n"]] = time.time()
            ch.basic_ack(method.delivery_tag)
            if len(received) >= total:
                ch.stop_consuming()

        channel.basic_consume(BASELINE_QUEUE, on_message)
        ready.set()
        channel.start_consuming()
        connection.close()

    total = int(RATE * seconds)
    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    ready.wait(30)
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    channel = connection.channel()
    channel.confirm_delivery()
    sent = {}
    lock = threading.Lock()

    def publish(n):
        # One publishing channel, as a relay has one: sends take turns on it.
        with lock:
            sent[n] = time.time()
            channel.basic_publish("", BASELINE_QUEUE, json.dumps({"n": n}).encode(),
                                  pika.BasicProperties(delivery_mode=2))

    behind = steady(RATE, seconds, publish)
    consumer.join(DRAIN_SECONDS)
    connection.close()
    latencies = [received[n] - sent[n] for n in sent if n in received]
    return latency_figures(latencies) | {"messages": total, "lost": total - len(latencies),
                                         "behind": behind}


# --- orders through the gateway -------------------------------------------------------------

def shops(api):
    organizer = api.new_account("organizer", admin_token=api.admin_token())
    found = []
    for _ in range(VENDORS):
        vendor = api.new_account("vendor")
        business = verified_business(api, vendor, organizer)
        product = list_product(api, vendor, business["id"], stock=1_000_000, price_idr=15_000)
        found.append((vendor, product))
    return found


class InboxWatcher:
    """Notes when each vendor's order.placed notification first becomes visible."""

    def __init__(self, notify_url, vendor_ids):
        self.notify_url = notify_url
        self.vendor_ids = list(vendor_ids)
        self.seen = {}
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stopped.set()
        self._thread.join(10)

    def _watch(self):
        connection = psycopg2.connect(self.notify_url)
        connection.autocommit = True
        newest = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
        with connection.cursor() as cursor:
            while not self._stopped.is_set():
                # created_at is its transaction's start: a row committed late has an early
                # one, so the window looks back well before the newest row seen.
                cursor.execute(
                    "SELECT ref->>'id', account_id::text, created_at FROM notifications"
                    " WHERE kind = 'order.placed' AND account_id = ANY(%s::uuid[])"
                    "   AND created_at > %s - interval '10 seconds'",
                    (self.vendor_ids, newest))
                now = time.time()
                for order_id, account_id, created_at in cursor.fetchall():
                    self.seen.setdefault((order_id, account_id), now)
                    newest = max(newest, created_at)
                time.sleep(POLL_SECONDS)
        connection.close()


def bench_orders(system, infra, seconds):
    api = Api(system)
    vendors = shops(api)
    buyers = [api.new_account("buyer") for _ in range(BUYERS)]
    watcher = InboxWatcher(infra.database_url("notify"),
                           [vendor["id"] for vendor, _ in vendors]).start()
    answered = {}   # order id -> (vendor id, time of the 201)
    statuses = []
    local = threading.local()

    def place(index):
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        vendor, product = vendors[index % VENDORS]
        buyer = buyers[index % BUYERS]
        response = session.post(system.url("/api/v1/orders"), timeout=30, headers={
            "Authorization": f"Bearer {buyer['token']}", "Idempotency-Key": str(uuid.uuid4())},
            json={"items": [{"product_id": product["id"], "quantity": 1}],
                  "shipping": SHIPPING})
        at = time.time()
        statuses.append(response.status_code)
        if response.status_code == 201:
            answered[response.json()["id"]] = (vendor["id"], at)

    behind = steady(RATE, seconds, place)
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline and not all(
            (order_id, vendor_id) in watcher.seen
            for order_id, (vendor_id, _) in answered.items()):
        time.sleep(0.1)
    watcher.stop()

    latencies = [watcher.seen[(order_id, vendor_id)] - at
                 for order_id, (vendor_id, at) in answered.items()
                 if (order_id, vendor_id) in watcher.seen]
    doubled = rows(infra.database_url("notify"),
                   "SELECT ref->>'id' AS order_id, account_id FROM notifications"
                   " WHERE kind = 'order.placed' AND channel = 'inbox'"
                   " GROUP BY 1, 2 HAVING count(*) > 1")
    return latency_figures(latencies) | {
        "orders": len(statuses), "accepted": len(answered),
        "not_accepted": len(statuses) - len(answered),
        "lost": len(answered) - len(latencies), "doubled": len(doubled), "behind": behind}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=SECONDS,
                        help=f"how long orders are placed (default {SECONDS})")
    args = parser.parse_args()
    infra = IsolatedInfra()
    infra.create_vhost()
    system = System(infra, pathlib.Path(tempfile.mkdtemp(prefix="laris-bench-")))
    smtp_port = free_port()
    system.env.update(BENCH_ENV | {"LARIS_SMTP_PORT": str(smtp_port)})
    mail_sink = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-c",
                                  "aiosmtpd.handlers.Sink", "-l", f"127.0.0.1:{smtp_port}"])
    try:
        system.start()
        baseline = bench_pika(infra.amqp_uri, min(BASELINE_SECONDS, args.seconds))
        orders = bench_orders(system, infra, args.seconds)
    finally:
        system.stop()
        mail_sink.terminate()
        mail_sink.wait(10)
        infra.tear_down()

    print(f"\n{RATE}/s steady, on loopback        {'count':>7} {'p50 ms':>8} {'p99 ms':>8}"
          f" {'max ms':>8} {'lost':>5} {'doubled':>8} {'behind':>7}")
    print(f"{'raw pika publish->consume (baseline)':<36} {baseline['messages']:>7}"
          f" {baseline['p50_ms']:>8} {baseline['p99_ms']:>8} {baseline['max_ms']:>8}"
          f" {baseline['lost']:>5} {'-':>8} {baseline['behind']:>7}")
    print(f"{'order 201 -> vendor inbox':<36} {orders['accepted']:>7} {orders['p50_ms']:>8}"
          f" {orders['p99_ms']:>8} {orders['max_ms']:>8} {orders['lost']:>5}"
          f" {orders['doubled']:>8} {orders['behind']:>7}")
    print(f"targets (issue 16): p50 < {TARGETS['p50_ms']} ms, p99 < {TARGETS['p99_ms']} ms, "
          f"0 lost, 0 doubled; orders not answered 201: {orders['not_accepted']}")

    figures = {"rate_per_s": RATE, "seconds": args.seconds,
               **{f"inbox_{key}": value for key, value in orders.items()},
               **{f"pika_{key}": value for key, value in baseline.items()}}
    ratios = {}
    if orders["p50_ms"] and baseline["p50_ms"]:
        ratios = {"p50_vs_pika": round(orders["p50_ms"] / baseline["p50_ms"], 1),
                  "p99_vs_pika": round(orders["p99_ms"] / baseline["p99_ms"], 1)}
    print(json.dumps({"bench": "order_to_inbox", "figures": figures, "ratios": ratios}))


if __name__ == "__main__":
    main()
