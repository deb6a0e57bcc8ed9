"""Backbone figures, each against a baseline measured in the same run on the same broker.

    make bench            (or: .venv/bin/python bench/backbone.py)

1. RPC from the gateway: calls through the gateway's pool of nameko clients, against the
   baseline of a new nameko client per call (what a naive gateway, or nameko 3's standalone
   proxy, does).
2. The outbox relay: events published from the outbox with publisher confirms and marked sent
   in PostgreSQL, against the baseline of raw confirmed publishes of the same bodies.

It starts its own isolated system (a virtual host and databases of its own), prints a table
and, as its last line, one JSON object; it asserts nothing about time.
"""
import concurrent.futures
import json
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from kombu import Connection, Exchange  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from backbone.db import Postgres  # noqa: E402
from backbone.outbox import OutboxRelay  # noqa: E402
from services.gateway.rpc import RpcPool  # noqa: E402
from tests.support.infra import IsolatedInfra  # noqa: E402
from tests.support.system import System  # noqa: E402

RPC_CALLS = 300
THREADS = 8
EVENTS = 2000


def rate(count, seconds):
    return count / seconds if seconds else float("inf")


def timed(function):
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def bench_rpc(amqp_uri):
    pool = RpcPool(amqp_uri, size=THREADS, timeout=10)
    pool.call("registry", "health")  # warm: the first client connects

    pooled = timed(lambda: [pool.call("registry", "health") for _ in range(RPC_CALLS)])

    def fresh_client_call():
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=10) as cluster:
            cluster.registry.health()
    fresh = timed(lambda: [fresh_client_call() for _ in range(RPC_CALLS)])

    def concurrent_pooled():
        with concurrent.futures.ThreadPoolExecutor(THREADS) as threads:
            list(threads.map(lambda _: pool.call("registry", "health"), range(RPC_CALLS)))
    parallel = timed(concurrent_pooled)
    pool.close()
    return [
        ("RPC, new client per call (baseline)", rate(RPC_CALLS, fresh), 1.0),
        ("RPC, pooled clients, 1 thread", rate(RPC_CALLS, pooled), fresh / pooled),
        (f"RPC, pooled clients, {THREADS} threads", rate(RPC_CALLS, parallel), fresh / parallel),
    ]


def bench_relay(infra, amqp_uri):
    url = infra.migrate("benchrelay", dirs=[pathlib.Path("backbone/migrations").resolve()])
    postgres = Postgres(url, source="bench", pool_size=4)
    with postgres.transaction() as tx:
        events = [tx.emit("account.created", {"account_id": str(n), "email": "b@bench.id",
                                               "name": "Bench", "role": "buyer"})
                  for n in range(EVENTS)]
    bodies = [event.to_message() for event in events]
    relay = OutboxRelay(postgres, amqp_uri, batch_size=200)
    relayed = timed(lambda: [None for _ in iter(relay.publish_pending, 0)])

    exchange = Exchange("bench.raw", type="topic", durable=True)
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        producer = connection.Producer()
        raw = timed(lambda: [producer.publish(body, exchange=exchange, routing_key="raw",
                                              declare=[exchange], serializer="json",
                                              delivery_mode=2) for body in bodies])
    postgres.close()
    return [
        ("raw confirmed publish (baseline)", rate(EVENTS, raw), 1.0),
        ("outbox relay: publish + mark sent", rate(EVENTS, relayed), raw / relayed),
    ]


def main():
    infra = IsolatedInfra()
    infra.create_vhost()
    system = System(infra, pathlib.Path(tempfile.mkdtemp(prefix="laris-bench-")))
    try:
        system.start()
        rows = bench_rpc(infra.amqp_uri) + bench_relay(infra, infra.amqp_uri)
    finally:
        system.stop()
        infra.tear_down()
    print(f"\n{'figure':<42} {'per second':>12} {'x baseline':>11}")
    for name, per_second, ratio in rows:
        print(f"{name:<42} {per_second:>12.1f} {ratio:>11.2f}")
    print(f"\n({RPC_CALLS} RPC calls to registry.health; {EVENTS} events; 2 cores, one broker)")
    print(json.dumps({"bench": "backbone",
                      "figures": {name: round(per_second, 1) for name, per_second, _ in rows},
                      "ratios": {name: round(ratio, 2) for name, _, ratio in rows}}))


if __name__ == "__main__":
    main()
