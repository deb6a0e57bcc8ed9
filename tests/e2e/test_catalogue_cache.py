"""The catalogue's read path through the gateway: public pages and searches served from each
worker's cache, and the consistency promise (docs/catalogue-read-path.md): a change is served
within a second of the write's answer, by every gateway worker, and an order placed at once
uses the new price whatever a cache says."""
import time
import uuid

import requests

from tests.support.catalogue import PROMISE_SECONDS
from tests.support.shop import place, shop, wait_for

# Each read on a new connection, so that both gateway workers (each its own cache) answer.
READS_ACROSS_WORKERS = 12


def fresh_get(api, path, **kwargs):
    return requests.get(api.system.url(f"/api/v1{path}"), timeout=10, **kwargs)


def served_from_memory(api, path):
    """Reads until every worker answers from its cache (its listener connects lazily, on the
    first catalogue request)."""
    return wait_for(lambda: all(fresh_get(api, path).headers.get("X-Cache") == "hit"
                                for _ in range(READS_ACROSS_WORKERS)), timeout=20)


def a_word():
    """A made-up word only this test's product has, so a search finds just it."""
    return "lezatz" + uuid.uuid4().hex[:6]


def test_a_changed_price_is_served_within_a_second_and_an_order_at_once_uses_it(
        api, organizer, vendor, buyer):
    word = a_word()
    _, [product] = shop(api, vendor, organizer, {
        "name": f"Keripik Tempe {word}", "price_idr": 15_000})
    page, search = f"/products/{product['id']}", f"/products?q={word}"
    assert wait_for(lambda: fresh_get(api, search).json()["items"])
    assert served_from_memory(api, page) and served_from_memory(api, search)

    changed = api.patch(page, token=vendor["token"], json={"price_idr": 13_500})
    assert changed.status_code == 200, changed.text
    answered = time.monotonic()
    order = place(api, buyer, (product, 2))
    assert order["items"][0]["unit_price_idr"] == 13_500 and order["total_idr"] == 27_000

    time.sleep(max(0.0, answered + PROMISE_SECONDS - time.monotonic()))
    pages = [fresh_get(api, page).json() for _ in range(READS_ACROSS_WORKERS)]
    searches = [fresh_get(api, search).json() for _ in range(READS_ACROSS_WORKERS)]
    assert {answer["price_idr"] for answer in pages} == {13_500}
    assert {answer["items"][0]["price_idr"] for answer in searches} == {13_500}
    # The order took 2 of the 40: its product.changed reached the caches too.
    assert {answer["stock"] for answer in pages} == {product["stock"] - 2}


def test_a_rejected_business_disappears_from_cached_pages_and_searches(
        api, organizer, vendor):
    word = a_word()
    business, [product] = shop(api, vendor, organizer, {"name": f"Sari Apel {word}"})
    page, search = f"/products/{product['id']}", f"/products?q={word}"
    assert wait_for(lambda: fresh_get(api, search).json()["items"])
    assert served_from_memory(api, page) and served_from_memory(api, search)

    rejected = api.verify(organizer, business["id"], decision="rejected",
                          note="Izin usaha kedaluwarsa.")
    assert rejected.status_code == 200, rejected.text

    # The marketplace hears of it through its own inbox, moments after the gateway does.
    assert wait_for(lambda: all(fresh_get(api, page).status_code == 404
                                for _ in range(READS_ACROSS_WORKERS)), timeout=5)
    assert all(fresh_get(api, search).json()["items"] == []
               for _ in range(READS_ACROSS_WORKERS))


def test_an_unchanged_answer_is_a_304_and_a_token_holders_is_never_kept(
        api, organizer, vendor):
    _, [product] = shop(api, vendor, organizer, {})
    page = f"/products/{product['id']}"
    first = fresh_get(api, page)
    assert first.headers["Cache-Control"] == "public, no-cache"
    again = fresh_get(api, page, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""

    owners = [api.get(page, token=vendor["token"]) for _ in range(3)]
    assert {answer.headers["X-Cache"] for answer in owners} == {"bypass"}
    assert {answer.headers["Cache-Control"] for answer in owners} == {"no-store"}


def test_hits_and_misses_are_counted_in_metrics(api, organizer, vendor):
    _, [product] = shop(api, vendor, organizer, {})
    assert served_from_memory(api, f"/products/{product['id']}")
    metrics = requests.get(api.system.url("/metrics"), timeout=10).text
    hits = [line for line in metrics.splitlines()
            if line.startswith("laris_catalogue_cache_lookups_total")
            and 'outcome="hit"' in line and "/products/<product_id>" in line]
    assert hits and float(hits[0].rsplit(" ", 1)[1]) >= READS_ACROSS_WORKERS


def metric(api, name, *labels):
    """The sum of a metric's samples over the gateway's workers (since it started)."""
    metrics = requests.get(api.system.url("/metrics"), timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith(name) and all(label in line for label in labels))


def test_a_restarted_gateway_serves_every_product_page_from_memory_before_anyone_asks(
        api, organizer, vendor):
    """Each worker preloads the pages on show once its listener consumes: a page nobody asked
    since the restart is a hit from its first read, in both workers, identical to the
    marketplace's own answer."""
    word = a_word()
    _, [product] = shop(api, vendor, organizer, {"name": f"Dodol Apel {word}"})
    page = f"/products/{product['id']}"
    api.system.restart("gateway")

    # Any catalogue request starts a worker's listener, and its preloader after it.
    assert wait_for(lambda: [fresh_get(api, f"/products?q={word}") for _ in range(4)] and (
        metric(api, "laris_catalogue_cache_preloads_total") >= 2), timeout=30)
    reads = [fresh_get(api, page) for _ in range(READS_ACROSS_WORKERS)]
    assert {read.headers["X-Cache"] for read in reads} == {"hit"}
    assert metric(api, "laris_catalogue_cache_lookups_total", 'outcome="miss"',
                  "/products/<product_id>") == 0
    owners = api.get(page, token=vendor["token"])  # with a token: the marketplace's answer
    assert owners.headers["X-Cache"] == "bypass"
    assert {read.content for read in reads} == {owners.content}
