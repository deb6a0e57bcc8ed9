"""Browsing the catalogue through the gateway, against the gateway's bare /healthz in the same
run: searches and product pages with 100,000 products loaded, the catalogue cache off and on.

    make bench            (or: .venv/bin/python bench/browse.py)

1. Starts its own isolated system (a virtual host and databases of its own) and loads
   100,000 products of 2,000 businesses into the marketplace's database by SQL (the generator
   of bench/catalogue_search.py: its read model of businesses and its products).
2. The mix, drawn from a fixed seed, as shoppers browse: searches whose words follow a Zipf
   law (s = 1) over 43 Indonesian queries (spelling variants and typos included) or none,
   each filter (category, kecamatan, export-ready, price range) and each order present or
   not by its own odds, 15% of them a second page (a cursor from the first); product pages
   whose products follow a Zipf law (s = 1) over every product on show. The table says how
   many different URLs each row asked, the share the answers cache held (hits) and the share
   each worker's catalogue index answered (index: services/gateway/catalogue_search.py).
   With the cache on, one more row draws the searches' mix with a random page size, so that
   almost every URL is new: what a search computed by the catalogue index costs.
   One more row isolates what an answer from memory costs: the 300 likeliest product pages
   and the 43 searches without filters, each asked a few times before (after the gateway's
   preloads), on a gateway whose maximum age (1 h) lets none of them expire during the rows;
   and the same URLs with the cache off.
3. The load: closed-loop clients, each a process of its own with one keep-alive connection
   and a minimal HTTP/1.1 client (pre-built requests, Content-Length framing), bounded in
   time, on loopback, at c = 4 and c = 16. /healthz is measured the same way in each phase:
   the load tool's own ceiling is at least that figure.
4. Phases: the gateway restarted with LARIS_CATALOGUE_CACHE=off (every request an RPC), then
   with it on (the default), each after a 30 s warm-up of the mix. With the cache on, each
   gateway worker first preloads the page of every product on show (as it does whenever it
   starts, services/gateway/catalogue_cache.py): the bench waits for both workers' preloads
   before the warm-up, as a shop is warm before its shoppers come, and prints how long they
   took. Ratios are each row's throughput over /healthz's at the same concurrency in the same
   phase.

Prints a table and, as its last line, one JSON object; it asserts nothing about time.
"""
import bisect
import collections
import concurrent.futures
import itertools
import json
import multiprocessing
import pathlib
import random
import socket
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

from backbone.db import Postgres  # noqa: E402
from bench.catalogue_search import BUSINESSES, PRODUCTS, generate  # noqa: E402
from services.marketplace.contract import CATEGORIES, SORTS  # noqa: E402
from tests.support.infra import IsolatedInfra  # noqa: E402
from tests.support.system import System  # noqa: E402

CONCURRENCIES = (4, 16)
SECONDS = 10
WARM_SECONDS = 30
SEED = 2025
ZIPF_S = 1.0
SECOND_PAGE_SHARE = 0.15
SECOND_PAGES = 200  # of the most likely searches, each fetched once to learn its cursor
HEAD_PRODUCTS = 300
PREFILL_ASKS = 6
REQUESTS_PER_CLIENT = 20_000  # drawn ahead; a client cycles through its own
# As make run configures the gateway, with quieter logs: the bench measures the read path,
# not logging (bench/orders.py does the same).
BENCH_ENV = {"LARIS_GATEWAY_THREADS": "16", "LARIS_LOG_LEVEL": "WARNING"}

QUERIES = [
    "keripik tempe", "kripik tempe", "keripik", "kripik singkong", "keripik apel", "sari apel",
    "apel batu", "dodol apel", "batik malang", "batik malangan", "batik tulis", "kaos arema",
    "kopi dampit", "kopi robusta", "kopi", "bakpao telo", "brownies tempe", "topeng malangan",
    "topeng", "gerabah dinoyo", "gerabah", "sambal bawang", "sambel", "jamu kunyit asam",
    "jamu", "madu randu", "madu", "tas anyaman", "sepatu kulit", "rengginang",
    "kerupuk udang", "krupuk", "susu kedelai", "teh rosella", "gula aren",
    "oleh-oleh khas malang", "oleh oleh", "pedas", "renyah", "premium", "buatan tangan",
    "tempe sanan", None]
GATEWAY_WORKERS = 2  # tests/support/system.py starts the gateway with two
HEAD_ROW = f"{HEAD_PRODUCTS} pages + {len(QUERIES)} searches"
UNKEPT_ROW = "searches, Zipf mix, each URL new (the index computes it)"
HELD = "on, all held (max age 1 h)"
# (value, weight): None is the filter left out.
FILTERS = {
    "category": [(None, 12)] + [(category, 1) for category in CATEGORIES],
    "kecamatan": [(None, 15)] + [(name, 1) for name in
                                 ("klojen", "blimbing", "kedungkandang", "sukun", "lowokwaru")],
    "export_ready": [(None, 9), ("true", 1)],
    "sort": [(None, 6)] + [(sort, 1) for sort in SORTS],
    "price": [(None, 17), ((10_000, 50_000), 2), ((50_000, 250_000), 1)],
}


# --- the mix ------------------------------------------------------------------------------

def zipf_weights(count, s=ZIPF_S):
    return [1 / rank ** s for rank in range(1, count + 1)]


def search_space():
    """Every search a shopper may make here, with its probability: the words' Zipf weight
    times each filter's odds."""
    words = list(zip(QUERIES, zipf_weights(len(QUERIES)), strict=True))
    space = []
    for (q, q_weight), *choices in itertools.product(words, *FILTERS.values()):
        weight = q_weight
        params = {"q": q}
        for name, (value, odds) in zip(FILTERS, choices, strict=True):
            weight *= odds
            if name == "price" and value:
                params["min_price_idr"], params["max_price_idr"] = value
            elif value:
                params[name] = value
        space.append((search_path(params), weight))
    total = sum(weight for _, weight in space)
    return [(path, weight / total) for path, weight in space]


def search_path(params):
    query = {name: value for name, value in params.items() if value is not None}
    return "/api/v1/products" + ("?" + urllib.parse.urlencode(query) if query else "")


class Sampler:
    def __init__(self, paths, weights, rng):
        self.paths = paths
        self.cumulative = list(itertools.accumulate(weights))
        self.rng = rng

    def draw(self):
        point = self.rng.random() * self.cumulative[-1]
        return self.paths[bisect.bisect_right(self.cumulative, point)]


def second_pages(system, space):
    """Page 2 of the most likely searches: each page 1 asked once, for its cursor."""
    likeliest = sorted(space, key=lambda entry: -entry[1])[:SECOND_PAGES]

    def page_two(entry):
        path, weight = entry
        cursor = requests.get(system.url(path), timeout=60).json().get("next_cursor")
        separator = "&" if "?" in path else "?"
        return (f"{path}{separator}{urllib.parse.urlencode({'cursor': cursor})}", weight) \
            if cursor else None

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return [entry for entry in pool.map(page_two, likeliest) if entry]


def search_sampler(space, pages, rng):
    first = Sampler(*zip(*space, strict=True), rng)
    second = Sampler(*zip(*pages, strict=True), rng)
    return lambda: second.draw() if rng.random() < SECOND_PAGE_SHARE else first.draw()


def product_sampler(ranked, rng):
    """Popularity by a Zipf law over the products, most popular first in ``ranked``."""
    sampler = Sampler([f"/api/v1/products/{pid}" for pid in ranked],
                      zipf_weights(len(ranked)), rng)
    return sampler.draw


def head_paths(ranked):
    """The likeliest product pages and the searches without filters."""
    return ([f"/api/v1/products/{pid}" for pid in ranked[:HEAD_PRODUCTS]]
            + [search_path({"q": q}) for q in QUERIES])


def prefill(system, paths):
    """Each path asked on several new connections, so that every gateway worker has it."""
    def ask(path):
        for _ in range(PREFILL_ASKS):
            requests.get(system.url(path), timeout=60)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(ask, paths))


# --- the load -----------------------------------------------------------------------------

def client(args):
    """One closed-loop client: one keep-alive connection, its own requests, until the
    deadline. Returns (latencies in seconds, statuses)."""
    port, paths, start_at, seconds = args
    requests_bytes = [f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
                      for path in paths]
    time.sleep(max(0.0, start_at - time.time()))
    deadline = time.monotonic() + seconds
    latencies, statuses = [], collections.Counter()
    connection, leftover = None, b""
    for request in itertools.cycle(requests_bytes):
        if time.monotonic() >= deadline:
            break
        began = time.perf_counter()
        try:
            if connection is None:
                connection, leftover = socket.create_connection(("127.0.0.1", port)), b""
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection.sendall(request)
            status, leftover, keep = _response(connection, leftover)
        except OSError:
            status, keep = 599, False
        latencies.append(time.perf_counter() - began)
        statuses[status] += 1
        if not keep and connection is not None:
            connection.close()
            connection = None
    if connection is not None:
        connection.close()
    return latencies, statuses


def _response(connection, data):
    """(status, bytes after this response, whether the connection stays open)."""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    length, keep = 0, True
    for line in header_lines:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            keep = value.strip().lower() != b"close"
    while len(rest) < length:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        rest += chunk
    return int(status_line[9:12]), rest[length:], keep


Row = collections.namedtuple("Row", "name concurrency per_second p50_ms p99_ms errors "
                                    "distinct hit_rate index_rate")


def drive(system, name, concurrency, draw, seconds=SECONDS):
    paths = [[draw() for _ in range(REQUESTS_PER_CLIENT)] for _ in range(concurrency)]
    before = cache_lookups(system)
    start_at = time.time() + 1.0
    with multiprocessing.get_context("fork").Pool(concurrency) as pool:
        results = pool.map(client, [(system.port, own, start_at, seconds) for own in paths])
    after = cache_lookups(system)
    latencies = sorted(itertools.chain.from_iterable(result[0] for result in results))
    statuses = sum((result[1] for result in results), collections.Counter())
    served = len(latencies)
    distinct = len(set(itertools.chain.from_iterable(
        own[:count] for own, count in zip(paths, (len(r[0]) for r in results), strict=True))))
    looked_up = {outcome: after[outcome] - before[outcome] for outcome in after}
    total_lookups = sum(looked_up.values())
    return Row(name, concurrency, served / seconds,
               latencies[served // 2] * 1000, latencies[min(served - 1, int(served * 0.99))] * 1000,
               served - statuses[200] - statuses[304], distinct,
               looked_up.get("hit", 0) / total_lookups if total_lookups else None,
               looked_up.get("index", 0) / total_lookups if total_lookups else None)


def cache_lookups(system):
    """The gateway's catalogue cache counters, summed over its workers and routes."""
    text = requests.get(system.url("/metrics"), timeout=10).text
    counts = collections.Counter()
    for line in text.splitlines():
        if line.startswith("laris_catalogue_cache_lookups_total{"):
            outcome = line.split('outcome="', 1)[1].split('"', 1)[0]
            counts[outcome] += float(line.rsplit(" ", 1)[1])
    return counts


# --- the run ------------------------------------------------------------------------------

def load_catalogue(infra):
    postgres = Postgres(infra.database_url("marketplace"), source="bench", pool_size=1)
    try:
        started = time.monotonic()
        with postgres.transaction() as tx:
            generate(tx)
        with postgres.transaction() as tx:
            ids = [str(row["id"]) for row in tx.all(
                "SELECT p.id FROM products p JOIN businesses b ON b.id = p.business_id"
                " WHERE NOT p.hidden AND b.status = 'verified' ORDER BY p.created_at, p.id")]
        return ids, time.monotonic() - started
    finally:
        postgres.close()


def phase(system, cache, searches, pages, rng):
    """The mixes with one setting of the cache, on a restarted gateway: a warm-up of the mix
    (the database's buffers, and the cache when on), then each row at each concurrency."""
    system.restart("gateway", extra_env={"LARIS_CATALOGUE_CACHE": cache})
    if cache == "on":
        preload_s = wait_for_preloads(system)
        print(f"  cache on: every product page preloaded by both workers in {preload_s:.0f} s",
              flush=True)
    warm = drive(system, "warm-up", 16, lambda: (
        searches() if rng.random() < 0.5 else pages()), WARM_SECONDS)
    print(f"  cache {cache}, warm-up: {warm.per_second:.0f}/s, hit rate {warm.hit_rate:.2f}, "
          f"from the index {warm.index_rate:.2f}", flush=True)
    mixes = [("searches, Zipf mix", searches), ("product pages, Zipf mix", pages)]
    if cache == "on":
        mixes.append((UNKEPT_ROW, each_once(searches, rng)))
    return rows_of(system, cache, mixes)


def each_once(searches, rng):
    """The searches' mix with a page size of 2-100 drawn for each: almost every URL is new,
    so the answers cache almost never holds it and each worker's catalogue index computes
    it (the row shows what that costs; its hit rate says how rare repeats were)."""
    def draw():
        path = searches()
        return f"{path}{'&' if '?' in path else '?'}limit={rng.randint(2, 100)}"
    return draw


def wait_for_preloads(system):
    """Seconds until each worker of the restarted gateway finished its preload. Any catalogue
    request starts a worker's listener and preloader, so a few go out on new connections."""
    started = time.monotonic()
    while preloads(system) < GATEWAY_WORKERS:
        for _ in range(4):
            requests.get(system.url("/api/v1/products?limit=1"), timeout=60)
        time.sleep(0.5)
    return time.monotonic() - started


def preloads(system):
    """Preloads finished since the gateway started (its metrics start afresh with it)."""
    text = requests.get(system.url("/metrics"), timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("laris_catalogue_cache_preloads_total"))


def memory_phase(system, head, rng):
    """What an answer from memory costs: the head's URLs, each asked before the rows, with the
    maximum age out of the way so that none expires meanwhile; against the same URLs asked
    of the marketplace."""
    rows = []
    for label, settings in (("off, same URLs", {"LARIS_CATALOGUE_CACHE": "off"}),
                            (HELD, {"LARIS_CATALOGUE_CACHE": "on",
                                    "LARIS_CATALOGUE_CACHE_SECONDS": "3600"})):
        system.restart("gateway", extra_env=settings)
        if label == HELD:
            wait_for_preloads(system)
            prefill(system, head)
        rows += rows_of(system, label, ((HEAD_ROW, lambda: rng.choice(head)),))
    return rows


def rows_of(system, label, mixes):
    """/healthz and each mix at each concurrency, named "<mix>, cache <label>"."""
    rows = []
    for concurrency in CONCURRENCIES:
        for name, draw in (("GET /healthz", lambda: "/healthz"), *mixes):
            row = drive(system, f"{name}, cache {label}", concurrency, draw)
            print(f"  {row.name} c={concurrency}: {row.per_second:.0f}/s", flush=True)
            rows.append(row)
    return rows


def main():
    infra = IsolatedInfra()
    infra.create_vhost()
    system = System(infra, pathlib.Path(tempfile.mkdtemp(prefix="laris-bench-")))
    system.env.update(BENCH_ENV)
    try:
        system.start()
        product_ids, load_s = load_catalogue(infra)
        print(f"{PRODUCTS:,} products of {BUSINESSES:,} businesses loaded in {load_s:.1f} s; "
              f"{len(product_ids):,} on show", flush=True)
        rng = random.Random(SEED)
        ranked = list(product_ids)
        rng.shuffle(ranked)  # popularity owes nothing to age
        space = search_space()
        searches = search_sampler(space, second_pages(system, space), rng)
        products = product_sampler(ranked, rng)
        head = head_paths(ranked)
        rows = phase(system, "off", searches, products, rng)
        rows += phase(system, "on", searches, products, rng)
        rows += memory_phase(system, head, rng)
    finally:
        system.stop()
        infra.tear_down()
    report(rows)


def report(rows):
    healthz = {(row.name.split(", cache ")[1], row.concurrency): row.per_second
               for row in rows if row.name.startswith("GET /healthz")}
    print(f"\n{'through the gateway':<60} {'c':>3} {'per s':>8} {'x healthz':>9} "
          f"{'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'URLs':>6} {'hits':>5} {'index':>5}")
    figures, ratios = {}, {}
    for row in rows:
        label = f"{row.name} c={row.concurrency}"
        ratio = row.per_second / healthz[(row.name.rsplit("cache ", 1)[1], row.concurrency)]
        hits = "" if row.hit_rate is None or row.name.startswith("GET") else \
            f"{row.hit_rate:.2f}"
        indexed = "" if not hits else f"{row.index_rate:.2f}"
        print(f"{row.name:<60} {row.concurrency:>3} {row.per_second:>8.1f} {ratio:>9.2f} "
              f"{row.p50_ms:>7.1f} {row.p99_ms:>7.1f} {row.errors:>6} {row.distinct:>6} "
              f"{hits:>5} {indexed:>5}")
        figures[f"{label} per_s"] = round(row.per_second, 1)
        figures[f"{label} p50_ms"] = round(row.p50_ms, 2)
        figures[f"{label} p99_ms"] = round(row.p99_ms, 2)
        if hits:
            figures[f"{label} hit_rate"] = round(row.hit_rate, 3)
            figures[f"{label} index_rate"] = round(row.index_rate, 3)
        if not row.name.startswith("GET"):
            ratios[f"{label} vs healthz"] = round(ratio, 3)
    print(f"\n({SECONDS} s per row; the mixes after a {WARM_SECONDS} s warm-up; with "
          f"'{HELD}' the {HEAD_PRODUCTS} + {len(QUERIES)} were each asked {PREFILL_ASKS} times "
          "before; "
          "closed-loop clients, one process and one keep-alive connection each; 2 cores "
          "shared by the load, the gateway's 2 workers, the services, RabbitMQ and PostgreSQL)")
    print(json.dumps({"bench": "browse", "figures": figures, "ratios": ratios}))


if __name__ == "__main__":
    main()
