"""The catalogue cache's rules: keys, freshness by generation, the bypass while no listener
consumes, its bounds; and how a cached route answers through the gateway (with the fake of
our own RPC port from test_gateway)."""
import threading
import uuid

import pytest
from flask_smorest import Blueprint

from backbone.errors import NotFound
from services.gateway.app import create_app
from services.gateway.catalogue_cache import (ALL_PRODUCTS, BUSINESS_FACT_SETTLE_SECONDS,
                                              CatalogueCache, Preloader, cache_key,
                                              product_key, products_named)
from services.gateway.routes import route
from tests.unit.test_gateway import SECRET, FakeRpc, token

PRODUCT = str(uuid.uuid4())
OTHER = str(uuid.uuid4())


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def consuming_at_once(cache):
    """Starts a listener that is consuming as soon as it starts (and stays so)."""
    cache.listening(True)
    return "listener"


def listening_cache(max_bytes=10_000, max_age=30.0, clock=None):
    cache = CatalogueCache(max_bytes, max_age, start_listener=consuming_at_once,
                           clock=clock or Clock())
    cache.ensure_listener()
    return cache


def keep(cache, key, body=b'{"items": []}', product_id=None, ticket=None):
    return cache.store(key, ticket or cache.begin(), body, 200, "application/json", "tag",
                       product_id)


def fact(event_type="product.changed", product_id=PRODUCT, **payload):
    return {"event_type": event_type, "aggregate_type": "product", "aggregate_id": product_id,
            "payload": {"product_id": product_id} | payload}


# --- keys and facts ---------------------------------------------------------------------------

def test_the_order_of_query_parameters_does_not_make_another_key():
    assert cache_key("/api/v1/products", [("q", "keripik"), ("sort", "price")]) == cache_key(
        "/api/v1/products", [("sort", "price"), ("q", "keripik")])
    assert cache_key("/api/v1/products", [("q", "keripik")]) != cache_key(
        "/api/v1/products", [("q", "kripik")])


def test_a_product_page_is_keyed_by_the_canonical_id_only():
    assert product_key(PRODUCT) == PRODUCT
    # Another spelling of the same id would escape the facts that name the canonical one.
    assert product_key(PRODUCT.upper()) is None
    assert product_key("not-an-id") is None


def test_a_product_fact_names_its_product():
    assert products_named(fact()) == {PRODUCT}
    assert products_named({"event_type": "stock.depleted",
                           "payload": {"product_id": OTHER}}) == {OTHER}


def test_an_order_names_every_product_of_its_lines():
    placed = {"event_type": "order.placed", "aggregate_type": "order", "aggregate_id": "o-1",
              "payload": {"parts": [{"lines": [{"product_id": PRODUCT, "quantity": 1}]},
                                    {"lines": [{"product_id": OTHER, "quantity": 2}]}]}}
    assert products_named(placed) == {PRODUCT, OTHER}


def test_only_a_cancel_among_status_changes_touches_the_catalogue():
    def changed(to_status):
        return {"event_type": "order.status_changed", "payload": {
            "to_status": to_status, "part": {"lines": [{"product_id": PRODUCT}]}}}
    assert products_named(changed("shipped")) == set()
    assert products_named(changed("cancelled")) == {PRODUCT}


def test_a_fact_that_names_no_product_may_have_changed_any():
    assert products_named({"event_type": "product.featured", "payload": {}}) == ALL_PRODUCTS
    assert products_named("not an event") == ALL_PRODUCTS


# --- freshness ----------------------------------------------------------------------------

def test_a_kept_answer_is_served_until_a_fact_makes_it_stale():
    cache = listening_cache()
    keep(cache, "search")
    keep(cache, "page", product_id=PRODUCT)
    keep(cache, "other page", product_id=OTHER)
    assert cache.lookup("search").body == b'{"items": []}'

    cache.apply(fact(product_id=PRODUCT))

    assert cache.lookup("search") is None  # any fact may change any search
    assert cache.lookup("page") is None
    assert cache.lookup("other page") is not None  # a page falls only with its own product


def test_an_answer_begun_before_a_fact_arrived_is_not_kept():
    cache = listening_cache()
    search_ticket, page_ticket = cache.begin(), cache.begin()
    cache.apply(fact(product_id=PRODUCT))
    assert not keep(cache, "search", ticket=search_ticket)
    assert not keep(cache, "page", product_id=PRODUCT, ticket=page_ticket)
    # Begun after the fact: it reflects it.
    assert keep(cache, "page", product_id=PRODUCT)
    assert cache.lookup("page") is not None


def test_nothing_is_kept_or_served_while_no_listener_consumes():
    cache = CatalogueCache(10_000, 30.0, start_listener=lambda c: "still connecting",
                           clock=Clock())
    cache.ensure_listener()
    assert cache.begin() is None
    assert cache.lookup("search") is None

    cache.listening(True)
    keep(cache, "search")
    ticket = cache.begin()
    cache.listening(False)  # the broker went away: facts may be missed from now on
    assert cache.lookup("search") is None
    cache.listening(True)
    assert cache.lookup("search") is None  # what was kept before the gap is gone
    assert not keep(cache, "page", product_id=PRODUCT, ticket=ticket)


def test_no_answer_is_older_than_the_maximum_age():
    clock = Clock()
    cache = listening_cache(max_age=30.0, clock=clock)
    keep(cache, "page", product_id=PRODUCT)
    clock.now += 29.9
    assert cache.lookup("page") is not None
    clock.now += 0.2
    assert cache.lookup("page") is None


def test_after_a_business_fact_nothing_is_kept_until_the_marketplace_applied_it():
    clock = Clock()
    cache = listening_cache(clock=clock)
    keep(cache, "page", product_id=PRODUCT)
    cache.apply({"event_type": "business.rejected", "aggregate_type": "business",
                 "aggregate_id": "b-1", "payload": {"business_id": "b-1"}})
    assert cache.lookup("page") is None  # its vendor may be the business rejected
    assert cache.begin() is None
    clock.now += BUSINESS_FACT_SETTLE_SECONDS
    assert keep(cache, "page", product_id=PRODUCT)


def test_concurrent_misses_of_one_url_ask_the_marketplace_once():
    cache = listening_cache()
    assert cache.ask_or_wait("search")  # the first miss asks
    followers = []
    follower = threading.Thread(target=lambda: followers.append(cache.ask_or_wait("search")))
    follower.start()
    follower.join(0.2)
    assert follower.is_alive()  # the second waits for the first's answer

    keep(cache, "search")
    cache.asked("search")
    follower.join(1)
    assert followers == [False] and cache.lookup("search") is not None
    assert cache.ask_or_wait("search")  # the next miss (once it is stale) asks again


def test_the_least_recently_used_answers_go_first_when_memory_is_full():
    cache = listening_cache(max_bytes=300)
    for name in ("a", "b", "c"):
        keep(cache, name, body=b"x" * 100, product_id=str(uuid.uuid4()))
    cache.lookup("a")  # used: "b" is now the oldest
    keep(cache, "d", body=b"x" * 100, product_id=str(uuid.uuid4()))
    assert cache.lookup("b") is None
    assert all(cache.lookup(name) is not None for name in ("a", "c", "d"))
    assert cache.stats()["bytes"] == 300
    assert not keep(cache, "too big", body=b"x" * 301)


def test_searches_take_a_quarter_of_the_memory_at_most_and_leave_the_pages_be():
    cache = listening_cache(max_bytes=400)
    keep(cache, "page", body=b"x" * 100, product_id=str(uuid.uuid4()))
    for name in ("first search", "second search", "third search"):
        keep(cache, name, body=b"x" * 50)
    assert cache.lookup("first search") is None  # the two others fill the quarter
    assert all(cache.lookup(name) is not None for name in ("page", "second search",
                                                           "third search"))
    assert cache.stats()["bytes"] == 200


def test_too_many_changed_products_to_remember_forgets_everything(monkeypatch):
    monkeypatch.setattr("services.gateway.catalogue_cache.CHANGED_PRODUCTS_REMEMBERED", 2)
    cache = listening_cache()
    keep(cache, "page", product_id=OTHER)
    cache.apply(fact(product_id=str(uuid.uuid4())))
    cache.apply(fact(product_id=str(uuid.uuid4())))
    assert cache.lookup("page") is not None
    cache.apply(fact(product_id=str(uuid.uuid4())))
    assert cache.lookup("page") is None
    assert cache.stats()["answers"] == 0


# --- through the gateway ------------------------------------------------------------------

@pytest.fixture
def catalogue_app(monkeypatch):
    monkeypatch.setenv("LARIS_SECRET_KEY", SECRET)
    monkeypatch.setenv("LARIS_ENV", "development")
    app = create_app()
    app.extensions["rpc"] = FakeRpc()
    blp = Blueprint("catalogue_test", __name__, url_prefix="/api/v1")
    route(blp, "GET", "/things", "shop.search", query=None, cache="search")
    route(blp, "GET", "/things/<thing_id>", "shop.get_thing", cache="product")
    app.register_blueprint(blp)
    app.extensions["catalogue_cache"] = listening_cache(max_bytes=100_000)
    return app


def test_a_second_asker_is_answered_from_memory(catalogue_app):
    rpc, client = catalogue_app.extensions["rpc"], catalogue_app.test_client()
    rpc.outcome = {"id": PRODUCT, "price_idr": 15000}
    first = client.get(f"/api/v1/things/{PRODUCT}")
    second = client.get(f"/api/v1/things/{PRODUCT}")
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert second.get_json() == {"id": PRODUCT, "price_idr": 15000}
    assert len(rpc.calls) == 1
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Cache-Control"] == "public, no-cache"

    catalogue_app.extensions["catalogue_cache"].apply(fact(product_id=PRODUCT))
    rpc.outcome = {"id": PRODUCT, "price_idr": 12000}
    third = client.get(f"/api/v1/things/{PRODUCT}")
    assert third.headers["X-Cache"] == "miss"
    assert third.get_json()["price_idr"] == 12000
    assert third.headers["ETag"] != first.headers["ETag"]


def test_an_unchanged_answer_is_a_304_without_a_body(catalogue_app):
    client = catalogue_app.test_client()
    catalogue_app.extensions["rpc"].outcome = {"items": [], "next_cursor": None}
    etag = client.get("/api/v1/things?q=batik").headers["ETag"]
    again = client.get("/api/v1/things?q=batik", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""


def test_a_callers_own_view_and_errors_are_never_kept(catalogue_app):
    rpc, client = catalogue_app.extensions["rpc"], catalogue_app.test_client()
    rpc.outcome = {"id": PRODUCT, "owner_view": True}
    for _ in range(2):
        answer = client.get(f"/api/v1/things/{PRODUCT}", headers=token())
        assert answer.headers["X-Cache"] == "bypass"
        assert answer.headers["Cache-Control"] == "no-store"
    rpc.outcome = NotFound("no such thing")
    assert client.get(f"/api/v1/things/{OTHER}").status_code == 404
    rpc.outcome = {"id": OTHER}
    assert client.get(f"/api/v1/things/{OTHER}").headers["X-Cache"] == "miss"
    assert len(rpc.calls) == 4


def test_every_request_asks_the_marketplace_while_no_listener_consumes(catalogue_app):
    catalogue_app.extensions["catalogue_cache"] = CatalogueCache(
        100_000, 30.0, start_listener=lambda c: "still connecting", clock=Clock())
    rpc, client = catalogue_app.extensions["rpc"], catalogue_app.test_client()
    rpc.outcome = {"items": [], "next_cursor": None}
    answers = [client.get("/api/v1/things?q=kopi") for _ in range(3)]
    assert {answer.headers["X-Cache"] for answer in answers} == {"bypass"}
    assert len(rpc.calls) == 3


def test_only_a_public_get_may_be_cached():
    blp = Blueprint("refused", __name__)
    with pytest.raises(ValueError):
        route(blp, "POST", "/things", "shop.add", cache="search")
    with pytest.raises(ValueError):
        route(blp, "GET", "/mine", "shop.mine", roles=("buyer",), cache="search")
    with pytest.raises(ValueError):
        route(blp, "GET", "/things/<a>/<b>", "shop.pair", cache="product")


# --- the preload ----------------------------------------------------------------------------

class PagesOnShow:
    """The marketplace's product_pages_on_show, two pages an answer; ``during`` runs what the
    test says while the answer after a given id is on its way (a fact arriving)."""

    def __init__(self, pages, during=None):
        self.pages, self.during, self.asked_after = pages, during or {}, []

    def call(self, service, method, after, request_id=None):
        self.asked_after.append(after)
        start = 0 if after is None else [page["id"] for page in self.pages].index(after) + 1
        if after in self.during:
            self.during[after]()
        answer = self.pages[start:start + 2]
        last = start + 2 >= len(self.pages)
        return {"items": answer, "next_after": None if last else answer[-1]["id"]}


def test_the_preload_keeps_each_page_as_the_route_answers_it_unless_a_fact_overtook_it(
        catalogue_app):
    pages = [{"id": str(uuid.uuid4()), "price_idr": 1000 * n} for n in range(1, 6)]
    cache = catalogue_app.extensions["catalogue_cache"]
    overtaken = pages[3]["id"]
    marketplace = PagesOnShow(pages, during={
        pages[1]["id"]: lambda: cache.apply(fact(product_id=overtaken))})
    catalogue_app.extensions["rpc"] = marketplace

    assert Preloader(cache, catalogue_app)._load_all() == 4
    assert marketplace.asked_after == [None, pages[1]["id"], pages[3]["id"]]
    assert cache.lookup(cache_key(f"/api/v1/products/{overtaken}", ())) is None
    for page in pages[:3] + pages[4:]:
        served = catalogue_app.test_client().get(f"/api/v1/products/{page['id']}")
        assert served.headers["X-Cache"] == "hit" and served.get_json() == page


def test_nothing_is_preloaded_while_no_listener_consumes(catalogue_app):
    cache = CatalogueCache(100_000, 30.0, start_listener=lambda c: "still connecting",
                           clock=Clock())
    cache.ensure_listener()
    marketplace = PagesOnShow([{"id": PRODUCT}])
    catalogue_app.extensions["rpc"] = marketplace
    assert Preloader(cache, catalogue_app)._load_all() is None
    assert marketplace.asked_after == []
