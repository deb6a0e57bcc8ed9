"""Orders through the gateway with the stock checked: how many are accepted per second, and
that none is ever oversold, against baselines measured in the same run.

    make bench            (or: .venv/bin/python bench/orders.py)

1. Baselines at c=16: the gateway's bare ``GET /healthz`` (no RPC), and single-vendor orders
   without contention (each client thread orders one unit of its own product: the cost of
   placing an order when no other order waits on its rows).
2. Orders at c=16 with contention: each of 16 buyers places orders of 1-3 lines (1-2 units
   each) of the same 6 products of 3 vendors, for a fixed time: every order locks, checks
   and takes the stock of its products, so orders sharing a product take turns. Oversold =
   units accepted beyond a product's stock, counted from the answers and checked against
   the stock left and the database's order lines. (Running out is the race's part.)
3. The race: 200 buyers, each with one request released at the same moment, for a product
   with 50 units left. Exactly 50 must be sold. Each buyer retries a 503 with the same
   Idempotency-Key, as a client should, so a slow answer never counts twice.

It starts its own isolated system (a virtual host and databases of its own), prints a table
and, as its last line, one JSON object; it asserts nothing about time.
"""
import concurrent.futures
import json
import pathlib
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import psycopg2  # noqa: E402
import psycopg2.extras  # noqa: E402
import requests  # noqa: E402

from tests.support.api import Api  # noqa: E402
from tests.support.infra import IsolatedInfra  # noqa: E402
from tests.support.shop import SHIPPING, list_product, verified_business  # noqa: E402
from tests.support.system import System  # noqa: E402

CONCURRENCY = 16
SECONDS = 10
HEALTHZ_SECONDS = 5
SHARED_PRODUCTS = 6
SHARED_STOCK = 5_000
RACE_BUYERS = 200
RACE_STOCK = 50
SEED = 15
# As make run configures the gateway, and quieter logs: the bench measures orders, not logging.
BENCH_ENV = {"LARIS_GATEWAY_THREADS": "16", "LARIS_RPC_TIMEOUT": "10",
             "LARIS_LOG_LEVEL": "WARNING"}


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


class Load:
    """``threads`` clients calling ``one(client_index, session)`` until ``seconds`` pass;
    each call returns (status, what was bought or None)."""

    def __init__(self, threads, seconds):
        self.threads, self.seconds = threads, seconds
        self.latencies, self.statuses, self.bought = [], [], []
        self._lock = threading.Lock()

    def run(self, one):
        deadline = time.monotonic() + self.seconds
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(self.threads) as pool:
            for future in [pool.submit(self._client, index, one, deadline)
                           for index in range(self.threads)]:
                future.result()
        self.elapsed = time.monotonic() - started
        return self

    def _client(self, index, one, deadline):
        session = requests.Session()
        while time.monotonic() < deadline:
            began = time.monotonic()
            status, bought = one(index, session)
            with self._lock:
                self.latencies.append(time.monotonic() - began)
                self.statuses.append(status)
                if bought:
                    self.bought.append(bought)

    def per_second(self, status=None):
        count = sum(1 for s in self.statuses if status is None or s == status)
        return count / self.elapsed

    def latency_ms(self):
        return (round(statistics.median(self.latencies) * 1000, 1),
                round(percentile(self.latencies, 0.99) * 1000, 1))


def order(api, session, buyer, lines, key=None):
    """(status, {product id: quantity} if accepted)."""
    headers = {"Authorization": f"Bearer {buyer['token']}"}
    if key:
        headers["Idempotency-Key"] = key
    response = session.post(api.system.url("/api/v1/orders"), headers=headers, timeout=30, json={
        "items": [{"product_id": product_id, "quantity": quantity}
                  for product_id, quantity in lines.items()], "shipping": SHIPPING})
    return response.status_code, (lines if response.status_code == 201 else None)


def accounts(api, role, count):
    with concurrent.futures.ThreadPoolExecutor(2) as pool:   # the registry hashes 2 at once
        return list(pool.map(lambda _: account(api, role), range(count)))


def account(api, role, tries=5):
    """A new account and its token; on a loaded machine the registry may answer 503 (it
    hashes passwords a few at a time), so a sign-up is tried again, with a new e-mail."""
    for attempt in range(1, tries + 1):
        try:
            return api.new_account(role)
        except AssertionError:
            if attempt == tries:
                raise
            time.sleep(attempt)


def read(db, sql, params):
    """Rows from the marketplace's database over the bench's own connection, opened before
    the load: on a machine shared with other test runs, PostgreSQL may have no connection
    slot left by the time the figures are read."""
    with db.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def stocks(db, product_ids):
    return {str(row["id"]): row["stock"] for row in read(
        db, "SELECT id, stock FROM products WHERE id = ANY(%s::uuid[])", (product_ids,))}


def sold_in_database(db, product_ids):
    return {str(row["product_id"]): row["units"] for row in read(
        db, """SELECT l.product_id, sum(l.quantity) AS units FROM order_lines l
                 JOIN order_parts p ON p.id = l.part_id
                WHERE l.product_id = ANY(%s::uuid[]) AND p.status <> 'cancelled'
                GROUP BY l.product_id""", (product_ids,))}


def oversold(initial, bought, db):
    """Units accepted beyond each product's stock, from the answers; and whether the answers,
    the stock left and the database's order lines all agree."""
    ids = list(initial)
    accepted = {product_id: 0 for product_id in ids}
    for lines in bought:
        for product_id, quantity in lines.items():
            accepted[product_id] += quantity
    left = stocks(db, ids)
    recorded = sold_in_database(db, ids)
    agree = all(accepted[i] == initial[i] - left[i] == recorded.get(i, 0) for i in ids)
    return sum(max(0, accepted[i] - initial[i]) for i in ids), sum(accepted.values()), agree


def bench_healthz(api):
    def one(_, session):
        return session.get(api.system.url("/healthz"), timeout=30).status_code, None
    return Load(CONCURRENCY, HEALTHZ_SECONDS).run(one)


def bench_uncontended(api, vendor, business, buyers):
    own = [list_product(api, vendor, business["id"], name=f"Keripik Tempe Sanan {i}",
                        stock=100_000) for i in range(CONCURRENCY)]

    def one(index, session):
        return order(api, session, buyers[index], {own[index]["id"]: 1})
    return Load(CONCURRENCY, SECONDS).run(one)


def bench_contended(api, shops, buyers, db):
    products = [list_product(api, vendor, business["id"], name=f"Oleh-oleh Malang {i}",
                             stock=SHARED_STOCK, price_idr=10_000 + 2_500 * i)
                for i, (vendor, business) in enumerate(shops * 2)][:SHARED_PRODUCTS]
    ids = [product["id"] for product in products]
    chooser = random.Random(SEED)
    choose = threading.Lock()

    def one(index, session):
        with choose:
            picked = chooser.sample(ids, chooser.randint(1, 3))
            lines = {product_id: chooser.randint(1, 2) for product_id in picked}
        return order(api, session, buyers[index], lines)
    load = Load(CONCURRENCY, SECONDS).run(one)
    return load, oversold({i: SHARED_STOCK for i in ids}, load.bought, db)


def bench_race(api, vendor, business, db):
    last_units = list_product(api, vendor, business["id"], name="Topeng Malangan Edisi Terbatas",
                              stock=RACE_STOCK, price_idr=450_000)
    buyers = accounts(api, "buyer", RACE_BUYERS)
    release = threading.Barrier(RACE_BUYERS)

    def buy(buyer):
        session, key = requests.Session(), f"race-{uuid.uuid4()}"
        release.wait()
        began = time.monotonic()
        while True:
            status, bought = order(api, session, buyer, {last_units["id"]: 1}, key)
            if status != 503:
                return status, bought, time.monotonic() - began

    with concurrent.futures.ThreadPoolExecutor(RACE_BUYERS) as pool:
        answers = list(pool.map(buy, buyers))
    statuses = [status for status, _, _ in answers]
    extra, sold, agree = oversold({last_units["id"]: RACE_STOCK},
                                  [bought for _, bought, _ in answers if bought], db)
    return {"sold": sold, "accepted": statuses.count(201), "refused": statuses.count(409),
            "other": len(statuses) - statuses.count(201) - statuses.count(409),
            "oversold": extra, "agree": agree,
            "slowest_s": round(max(seconds for _, _, seconds in answers), 2)}


def main():
    infra = IsolatedInfra()
    infra.create_vhost()
    system = System(infra, pathlib.Path(tempfile.mkdtemp(prefix="laris-bench-")))
    system.env.update(BENCH_ENV)
    try:
        system.start()
        db = psycopg2.connect(infra.database_url("marketplace"))
        db.autocommit = True
        api = Api(system)
        organizer = api.new_account("organizer", admin_token=api.admin_token())
        vendors = accounts(api, "vendor", 3)
        shops = [(vendor, verified_business(api, vendor, organizer)) for vendor in vendors]
        buyers = accounts(api, "buyer", CONCURRENCY)
        healthz = bench_healthz(api)
        uncontended = bench_uncontended(api, *shops[0], buyers)
        contended, (extra, units, agree) = bench_contended(api, shops, buyers, db)
        race = bench_race(api, *shops[1], db)
        db.close()
    finally:
        system.stop()
        infra.tear_down()

    figures = {
        "healthz_per_s": round(healthz.per_second(), 1),
        "uncontended_orders_per_s": round(uncontended.per_second(201), 1),
        "orders_accepted_per_s": round(contended.per_second(201), 1),
        "orders_not_accepted": sum(1 for s in contended.statuses if s != 201),
        "units_sold": units, "oversold": extra, "answers_match_database": agree,
        "race_sold": race["sold"], "race_oversold": race["oversold"],
        "race_refused": race["refused"], "race_other_statuses": race["other"],
        "race_answers_match_database": race["agree"], "race_slowest_answer_s": race["slowest_s"],
    }
    ratios = {
        "accepted_vs_healthz": round(contended.per_second(201) / healthz.per_second(), 3),
        "accepted_vs_uncontended": round(
            contended.per_second(201) / uncontended.per_second(201), 3),
        "uncontended_vs_healthz": round(uncontended.per_second(201) / healthz.per_second(), 3),
    }
    print(f"\n{'c=16, through the gateway':<46} {'per second':>11} {'p50 ms':>8} {'p99 ms':>8}")
    for name, load, status in (("GET /healthz (baseline)", healthz, None),
                               ("orders, own product each (baseline)", uncontended, 201),
                               ("orders accepted, 6 shared products", contended, 201)):
        p50, p99 = load.latency_ms()
        print(f"{name:<46} {load.per_second(status):>11.1f} {p50:>8} {p99:>8}")
    print(f"\noversold: {extra} of {units} units sold "
          f"(answers, stock left and order lines agree: {agree})")
    print(f"race, {RACE_BUYERS} buyers at once for the last {RACE_STOCK}: sold {race['sold']}, "
          f"refused {race['refused']}, other {race['other']}, oversold {race['oversold']} "
          f"(agree: {race['agree']}; slowest answer {race['slowest_s']} s)")
    print(f"({SECONDS} s per order load, {HEALTHZ_SECONDS} s for healthz; 2 cores shared by "
          "the load, the gateway, the services, RabbitMQ and PostgreSQL)")
    print(json.dumps({"bench": "orders", "figures": figures, "ratios": ratios}))


if __name__ == "__main__":
    main()
