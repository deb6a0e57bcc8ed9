"""The catalogue's read path: public product pages and searches answered from memory.

Each gateway worker keeps the catalogue answers it served (path and query in, exact body out)
and drops them when a fact says something changed: a background thread consumes the
marketplace's facts (and the registry's about businesses) on an exclusive, auto-delete queue
of its own. Concurrent misses of one URL ask the marketplace once. The consistency promise
(docs/catalogue-read-path.md):

- A fact about a product drops that product's page and every cached search, in every worker,
  as soon as the fact reaches the worker (tens of milliseconds after the marketplace's commit
  while the outbox relay and the broker run). An answer computed while the fact was on its way
  is never kept: each answer is stored with the generation it started at, and refused when a
  fact it may not have seen arrived meanwhile.
- While the listener is not consuming (starting, broker down, reconnecting), every request
  goes to the marketplace, and whatever was cached before is forgotten: facts may have been
  missed.
- Whatever happens to the facts, no answer is served older than ``LARIS_CATALOGUE_CACHE_SECONDS``.

Product pages are not left to be asked first: once the listener consumes, a preloader thread
asks the marketplace for the page of every product on show, a thousand per RPC, and keeps
them as if each had been asked (same bytes, same freshness rules); again after the cache
forgot everything, and every half maximum age. Shoppers' pages follow a long tail that a
cache filled by misses alone never holds.

Only answers that depend on nothing but the path and the query are kept: the route does not
pass the caller to its RPC, or the request carries no token. Writes, orders and anything
private never come here.
"""
import collections
import dataclasses
import hashlib
import json
import logging
import threading
import time
import uuid

from flask import Response, current_app, g, request
from kombu import Connection, Exchange, Queue, binding
from prometheus_client import Counter

from backbone import config
from backbone.fields import parse_id
from services.gateway import catalogue_search
from services.gateway.catalogue_search import ALL_PRODUCTS

log = logging.getLogger(__name__)

# Every fact that can change what a product page or a search shows: the product's own facts,
# its stock, orders (placing one takes stock, cancelling one gives it back; the marketplace
# also announces the products an order changed), and the registry's facts about businesses
# (a rejected business's products disappear, a page shows its vendor's name).
FACTS = {"marketplace.events": ("product.*", "stock.*", "order.placed", "order.status_changed"),
         "registry.events": ("business.*",)}
# The marketplace applies a business fact to its read model through its inbox, after the
# gateway heard of it: answers computed this soon after one are not kept, since they may
# predate the marketplace's change.
BUSINESS_FACT_SETTLE_SECONDS = 2.0
# Up to this many products named by facts are remembered one by one; beyond that, everything
# kept before is forgotten at once rather than the memory growing.
CHANGED_PRODUCTS_REMEMBERED = 50_000
RECONNECT_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
# The listener notices a silently dead connection within about two heartbeats.
HEARTBEAT_SECONDS = 4
# The route whose answers the preloader writes (routes.py names it "<blueprint>.<rpc method>").
PRODUCT_PAGE_ENDPOINT = "products.get_product"
# Preloaded pages take at most this share of the memory: searches and the rest keep room.
PRELOAD_SHARE = 0.75
# Searches take at most this share: a burst of different searches (each page size, order and
# filter is its own answer, and the index makes them cheap to compute) must not push out the
# preloaded pages, whose misses cost an RPC.
SEARCH_SHARE = 0.25
# A full preload at most this often, whatever makes the cache forget (business facts in a
# burst), and the pause before trying again when the marketplace did not answer.
PRELOAD_MIN_INTERVAL_SECONDS = 30.0
PRELOAD_RETRY_SECONDS = 1.0


LOOKUPS = Counter("laris_catalogue_cache_lookups_total",
                  "Catalogue answers by where they came from: hit (memory), miss (the "
                  "marketplace, then kept), bypass (the marketplace, not kept)",
                  ["route", "outcome"])
INVALIDATIONS = Counter("laris_catalogue_cache_invalidations_total",
                        "Marketplace facts applied to the catalogue cache, by what they "
                        "dropped: one product's page and the searches, or everything",
                        ["scope"])
PRELOADS = Counter("laris_catalogue_cache_preloads_total",
                   "Preloads of every product page on show that a gateway worker finished")


@dataclasses.dataclass(frozen=True)
class Answer:
    """An HTTP answer as the client gets it, and what it was computed from."""
    body: bytes
    status: int
    mimetype: str
    etag: str
    product_id: str | None  # a product page; None for a search (a list of products)
    generation: int  # the cache's generation when the request began
    started: float  # monotonic seconds when the request began


def strong_etag(body):
    """The exact bytes' own validator: equal bodies, equal tags, whoever computed them."""
    return hashlib.blake2b(body, digest_size=12).hexdigest()


def cache_key(path, query_pairs):
    """The same answer whatever order the client wrote its query parameters in."""
    return path + "?" + "&".join(f"{name}={value}" for name, value in sorted(query_pairs))


def product_key(value):
    """A product page's id in canonical form, or None when it names no product (then the
    service answers 404 and nothing is kept)."""
    parsed = parse_id(value)
    return None if parsed is None else str(parsed)


def products_named(event):
    """The products a marketplace fact may have changed: a set of ids, or ALL_PRODUCTS when
    the fact does not say which (the safe reading of a fact we do not know)."""
    if not isinstance(event, dict) or is_business_fact(event):
        return ALL_PRODUCTS
    if event.get("event_type") == "order.status_changed":
        payload = event.get("payload") or {}
        if payload.get("to_status") != "cancelled":
            return set()  # only a cancel puts stock back
    named = set()
    if event.get("aggregate_type") == "product" and event.get("aggregate_id"):
        named.add(str(event["aggregate_id"]))
    _collect_product_ids(event.get("payload"), named)
    return named or ALL_PRODUCTS


def business_named(event):
    """The business a registry fact is about, or None (not a business fact, or one that
    names none)."""
    if not is_business_fact(event):
        return None
    if event.get("aggregate_type") == "business" and event.get("aggregate_id"):
        return str(event["aggregate_id"])
    business_id = (event.get("payload") or {}).get("business_id")
    return str(business_id) if business_id else None


def is_business_fact(event):
    return isinstance(event, dict) and str(event.get("event_type")).startswith("business.")


def _collect_product_ids(value, into):
    if isinstance(value, dict):
        for name, item in value.items():
            if name == "product_id" and isinstance(item, str):
                into.add(item)
            else:
                _collect_product_ids(item, into)
    elif isinstance(value, list):
        for item in value:
            _collect_product_ids(item, into)


class CatalogueCache:
    """A least-recently-used map of answers, bounded in bytes, thread-safe, and invalidated by
    generation: every fact moves the generation on; a search is fresh only at the generation
    it began at, a product page until a fact names its product."""

    def __init__(self, max_bytes, max_age_seconds, start_listener, clock=time.monotonic,
                 coalesce_seconds=10.0):
        """``start_listener(cache)`` starts what will call ``listening`` and ``apply``.
        ``coalesce_seconds``: how long a miss waits for the same URL's miss already asking
        (the RPC's own time limit)."""
        self.max_bytes = max_bytes
        self.max_age = max_age_seconds
        self.coalesce_seconds = coalesce_seconds
        self._clock = clock
        self._answers = collections.OrderedDict()
        self._bytes = 0
        self._searches = collections.OrderedDict()  # key -> bytes of the searches kept, LRU first
        self._search_bytes = 0
        self._lock = threading.Lock()
        self._generation = 0
        self._changed_at = {}  # product id -> generation its last fact brought
        self._floor = 0  # answers begun before this generation are void
        self._keep_nothing_until = 0.0  # while a business fact settles in the marketplace
        self._listening = False
        self._start_listener = start_listener
        self._listener = None
        self._starting = threading.Lock()
        self._asking = {}  # key -> Event set when the miss asking the marketplace is done
        self.forgotten = threading.Event()  # set each time everything kept is forgotten
        self.search = None  # the SearchKeeper answering searches' misses, if any

    # --- serving ---------------------------------------------------------------------------

    def begin(self):
        """A ticket for a request about to ask the marketplace, or None when nothing may be
        kept now (the listener is not consuming, so a fact could go unseen)."""
        now = self._clock()
        with self._lock:
            if not self._listening or now < self._keep_nothing_until:
                return None
            return self._generation, now

    def lookup(self, key):
        with self._lock:
            if not self._listening:
                return None
            answer = self._answers.get(key)
            if answer is None:
                return None
            if not self._fresh(answer):
                self._drop(key)
                return None
            self._answers.move_to_end(key)
            if key in self._searches:
                self._searches.move_to_end(key)
            return answer

    def store(self, key, ticket, body, status, mimetype, etag, product_id=None):
        """Keep an answer begun with ``ticket`` unless a fact it may not reflect came since."""
        generation, started = ticket
        answer = Answer(body, status, mimetype, etag, product_id, generation, started)
        if len(body) > self.max_bytes:
            return False
        with self._lock:
            if not (self._listening and self._fresh(answer)):
                return False
            if key in self._answers:
                self._drop(key)
            self._answers[key] = answer
            self._bytes += len(body)
            if product_id is None:
                self._searches[key] = len(body)
                self._search_bytes += len(body)
                while self._search_bytes > SEARCH_SHARE * self.max_bytes:
                    self._drop(next(iter(self._searches)))
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._answers)))
            return True

    def has_room_to_preload(self):
        with self._lock:
            return self._bytes < PRELOAD_SHARE * self.max_bytes

    def ask_or_wait(self, key):
        """Concurrent misses of one URL ask the marketplace once (right after a fact drops a
        popular search, every request for it misses at the same moment). True: this request
        asks, and must call ``asked`` after; False: another asked and is done, or gave up
        (look the key up again, and ask if it is still missing)."""
        with self._lock:
            asking = self._asking.get(key)
            if asking is None:
                self._asking[key] = threading.Event()
                return True
        asking.wait(self.coalesce_seconds)
        return False

    def asked(self, key):
        with self._lock:
            asking = self._asking.pop(key, None)
        if asking is not None:
            asking.set()

    def _fresh(self, answer):
        if answer.generation < self._floor:
            return False
        if self._clock() - answer.started > self.max_age:
            return False
        if answer.product_id is None:
            return answer.generation == self._generation
        return self._changed_at.get(answer.product_id, self._floor) <= answer.generation

    def _drop(self, key):
        self._bytes -= len(self._answers.pop(key).body)
        self._search_bytes -= self._searches.pop(key, 0)

    # --- facts -----------------------------------------------------------------------------

    def apply(self, event):
        """A fact arrived: move the generation on (every search kept before is
        stale) and remember which products it named (their pages kept before are stale).
        Stale answers are dropped when next looked up, or pushed out by newer ones."""
        named = products_named(event)
        if not named:
            return
        if self.search is not None:  # first: no answer computed after this fact is kept
            business_id = business_named(event)
            if business_id is not None:
                self.search.business_changed(business_id, BUSINESS_FACT_SETTLE_SECONDS)
            else:
                self.search.named(named)
        with self._lock:
            self._generation += 1
            if is_business_fact(event):
                self._keep_nothing_until = self._clock() + BUSINESS_FACT_SETTLE_SECONDS
            if named == ALL_PRODUCTS or len(self._changed_at) + len(named) > (
                    CHANGED_PRODUCTS_REMEMBERED):
                self._forget_everything()
                INVALIDATIONS.labels("all").inc()
                return
            for product_id in named:
                self._changed_at[product_id] = self._generation
        INVALIDATIONS.labels("product").inc()

    def listening(self, consuming):
        """The listener started (or stopped) consuming. Either way what was kept may have
        missed facts, so it is forgotten."""
        if self.search is not None:
            self.search.forget()
        with self._lock:
            self._listening = consuming
            self._generation += 1
            self._forget_everything()

    def _forget_everything(self):
        self._floor = self._generation
        self._changed_at.clear()
        self._answers.clear()
        self._bytes = 0
        self._searches.clear()
        self._search_bytes = 0
        self.forgotten.set()

    def stats(self):
        with self._lock:
            return {"answers": len(self._answers), "bytes": self._bytes,
                    "generation": self._generation, "listening": self._listening}

    # --- the listener ----------------------------------------------------------------------

    def ensure_listener(self):
        """Start this process's listener once (lazily: in each gunicorn worker, after fork)."""
        if self._listener is not None:
            return
        with self._starting:
            if self._listener is None:
                self._listener = self._start_listener(self)


class FactListener(threading.Thread):
    """Consumes the marketplace's facts into a cache; reconnects forever, and while it is not
    consuming the cache is bypassed."""

    def __init__(self, cache, amqp_uri):
        super().__init__(name="catalogue-cache-listener", daemon=True)
        self.cache = cache
        self.amqp_uri = amqp_uri
        self._stopped = threading.Event()
        self._consumed = False

    @classmethod
    def started(cls, cache, amqp_uri):
        listener = cls(cache, amqp_uri)
        listener.start()
        return listener

    def stop(self):
        self._stopped.set()

    def run(self):
        attempts = 0
        while not self._stopped.is_set():
            try:
                self._consume()  # returns only once stopped
            except Exception as exc:
                # A connection that consumed for a while starts again at the shortest pause.
                attempts = 0 if self._consumed else attempts + 1
                delay = RECONNECT_SECONDS[min(attempts, len(RECONNECT_SECONDS) - 1)]
                self.cache.listening(False)
                log.warning("catalogue cache listener disconnected; the cache is bypassed",
                            extra={"reason": repr(exc), "retry_in_s": delay})
                self._stopped.wait(delay)
        self.cache.listening(False)

    def _consume(self):
        self._consumed = False
        queue = Queue(f"catalogue-cache-{uuid.uuid4().hex[:12]}", exclusive=True,
                      auto_delete=True, durable=False,
                      bindings=[binding(Exchange(name, type="topic", durable=True),
                                        routing_key=key)
                                for name, keys in FACTS.items() for key in keys])
        with Connection(self.amqp_uri, heartbeat=HEARTBEAT_SECONDS,
                        connect_timeout=5) as connection:
            with connection.Consumer([queue], callbacks=[self._on_fact], accept=["json"]):
                self.cache.listening(True)
                self._consumed = True
                log.info("catalogue cache listening", extra={"queue": queue.name})
                while not self._stopped.is_set():
                    try:
                        connection.drain_events(timeout=1)
                    except TimeoutError:
                        pass
                    connection.heartbeat_check()

    def _on_fact(self, body, message):
        try:
            self.cache.apply(body)
        except Exception:
            # A fact we could not read may have changed anything.
            log.exception("catalogue cache: unreadable fact; forgetting everything")
            self.cache.apply({})
        message.ack()


class Preloader(threading.Thread):
    """Keeps every product page on show in the cache: the marketplace's pages asked a
    thousand at a time, each kept under the ticket taken before its RPC, so the cache refuses
    a page a fact overtook exactly as it refuses a miss's answer."""

    def __init__(self, cache, app, clock=time.monotonic):
        super().__init__(name="catalogue-cache-preloader", daemon=True)
        self.cache = cache
        self.app = app
        self._clock = clock
        self._urls = app.url_map.bind("")

    @classmethod
    def started(cls, cache, app):
        preloader = cls(cache, app)
        preloader.start()
        return preloader

    def run(self):
        while True:
            self.cache.forgotten.clear()
            began = self._clock()
            try:
                loaded = self._load_all()
            except Exception as exc:
                log.warning("catalogue cache: preloading product pages failed",
                            extra={"reason": repr(exc)})
                loaded = None
            if loaded is None:
                time.sleep(PRELOAD_RETRY_SECONDS)
                continue
            PRELOADS.inc()
            log.info("catalogue cache: product pages preloaded",
                     extra={"pages": loaded, "seconds": round(self._clock() - began, 1)})
            self.cache.forgotten.wait(self.cache.max_age / 2)
            time.sleep(max(0.0, began + PRELOAD_MIN_INTERVAL_SECONDS - self._clock()))

    def _load_all(self):
        """The pages kept, or None when nothing may be kept now (the listener is away, or a
        business fact is settling): then the whole preload starts again. Every page on show
        also builds the search keeper's index, once the memory for pages is full too."""
        search = self.cache.search
        build = search.begin_build() if search is not None else None
        loaded, after, pages = 0, None, []
        while True:
            ticket = self.cache.begin()
            if ticket is None:
                return None
            answer = self.app.extensions["rpc"].call("marketplace", "product_pages_on_show",
                                                     after)
            room = self.cache.has_room_to_preload()
            for page in answer["items"]:
                loaded += room and self._keep(ticket, page)
            after = answer["next_after"]
            if search is not None:
                pages += answer["items"]
            elif not room:
                break
            if after is None:
                break
        if search is not None:
            search.finish_build(build, pages)
        return loaded

    def _keep(self, ticket, page):
        """The page as the route would answer it: the same JSON bytes, under the same key."""
        body = self.app.json.response(page).get_data()
        path = self._urls.build(PRODUCT_PAGE_ENDPOINT, {"product_id": page["id"]})
        return self.cache.store(cache_key(path, ()), ticket, body, 200, "application/json",
                                strong_etag(body), product_key(page["id"]))


def _listener_and_preloader(cache, app, amqp_uri):
    listener = FactListener.started(cache, amqp_uri)
    if cache.search is not None:
        catalogue_search.Refresher(cache.search).start()
    Preloader.started(cache, app)
    return listener


# --- in the gateway's request ----------------------------------------------------------------

def serve(kind, path_args, caller_passed, compute):
    """Answer a catalogue GET from the cache when it may, else by ``compute()`` (the RPC),
    keeping a 200 for the next asker. ``kind`` is "product" (the page of the product named by
    the one path parameter) or "search" (a list of products)."""
    cache = current_app.extensions.get("catalogue_cache")
    private = caller_passed and g.caller is not None
    product_id = product_key(next(iter(path_args.values()))) if kind == "product" else None
    route = request.url_rule.rule
    if cache is None or private or (kind == "product" and product_id is None):
        return _bypass(route, compute(), private)
    cache.ensure_listener()
    ticket = cache.begin()
    if ticket is None:  # nothing may be kept now, so nothing kept is fresh either
        return _bypass(route, compute(), private)
    key = cache_key(request.path, request.args.items(multi=True))
    answer = cache.lookup(key)
    asking = answer is None and cache.ask_or_wait(key)
    if answer is None and not asking:
        answer = cache.lookup(key)  # what the request that asked brought back
    if answer is not None:
        LOOKUPS.labels(route, "hit").inc()
        response = Response(answer.body, status=answer.status, mimetype=answer.mimetype)
        return _conditional(response, answer.etag, "hit")
    try:
        if kind == "search" and cache.search is not None:
            found = cache.search.answer(request.args.to_dict())
            if found is not None:
                return _from_index(cache, key, ticket, route, *found)
        return _ask(cache, key, ticket, route, product_id, private, compute)
    finally:
        if asking:
            cache.asked(key)


def search_page(query):
    """The answer of a public search (``query`` as GET /products takes it) for the web pages:
    from this worker's catalogue index when it can answer, else the marketplace's, whose
    refusal is raised as from any RPC."""
    cache = current_app.extensions.get("catalogue_cache")
    if cache is not None and cache.search is not None:
        cache.ensure_listener()
        found = cache.search.answer(query)
        if found is not None:
            return json.loads(found[0])
    return current_app.extensions["rpc"].call("marketplace", "list_products", query)


def _ask(cache, key, ticket, route, product_id, private, compute):
    """A miss: the marketplace answers, and a 200 is kept for the next asker (unless a fact
    arrived since ``ticket`` was taken, which the cache checks)."""
    response = compute()
    if response.status_code != 200:
        return _bypass(route, response, private)
    etag = _etag_of(response)
    cache.store(key, ticket, response.get_data(), response.status_code, response.mimetype,
                etag, product_id)
    LOOKUPS.labels(route, "miss").inc()
    return _conditional(response, etag, "miss")


def _from_index(cache, key, ticket, route, body, keepable):
    """A search the worker's catalogue index answered (catalogue_search.py): kept like a
    miss's answer, unless a fact is still waiting for its refresh."""
    etag = strong_etag(body)
    if keepable:
        cache.store(key, ticket, body, 200, "application/json", etag)
    LOOKUPS.labels(route, "index").inc()
    return _conditional(Response(body, mimetype="application/json"), etag, "index")


def _bypass(route, response, private):
    LOOKUPS.labels(route, "bypass").inc()
    if response.status_code != 200 or private:
        response.headers["X-Cache"] = "bypass"
        return response
    return _conditional(response, _etag_of(response), "bypass")


def _etag_of(response):
    """The route's own ETag (a version) when it set one, else the body's."""
    return response.get_etag()[0] or strong_etag(response.get_data())


def _conditional(response, etag, outcome):
    """Clients may keep the answer but must ask again each time (``no-cache``): with
    If-None-Match, an unchanged answer is a body-less 304."""
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, no-cache"
    response.headers["X-Cache"] = outcome
    return response.make_conditional(request)


def from_config(app):
    """The cache of this gateway process, or None when LARIS_CATALOGUE_CACHE is off; with
    its search keeper unless LARIS_CATALOGUE_INDEX is off."""
    if config.env("LARIS_CATALOGUE_CACHE") != "on":
        return None
    cache = CatalogueCache(
        max_bytes=int(config.env_float("LARIS_CATALOGUE_CACHE_MB") * 1024 * 1024),
        max_age_seconds=config.env_float("LARIS_CATALOGUE_CACHE_SECONDS"),
        # Called by the first catalogue request of each worker, within its app context.
        start_listener=lambda cache: _listener_and_preloader(
            cache, current_app._get_current_object(), config.amqp_uri()),
        coalesce_seconds=config.env_float("LARIS_RPC_TIMEOUT"))
    if config.env("LARIS_CATALOGUE_INDEX") == "on":
        def compact_json(value):  # as the app's JSON answers write it (not in debug)
            return app.json.dumps(value, separators=(",", ":")).encode()
        cache.search = catalogue_search.SearchKeeper(
            call=lambda *args: app.extensions["rpc"].call(*args),
            dumps=compact_json,
            max_match_bytes=int(config.env_float("LARIS_CATALOGUE_INDEX_MB") * 1024 * 1024))
    return cache
