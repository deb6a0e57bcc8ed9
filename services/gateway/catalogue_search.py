"""Searches answered in the gateway worker, from its catalogue index (catalogue_index.py).

A search that misses the answers cache used to cost an RPC and the marketplace's SQL, which
ranks every match and counts the facets: 130-1,300 ms on 100,000 products. Most of that is
the words (what matches them, how well), which few searches differ in; the filters, orders,
pages and facets multiply them into tens of thousands of URLs. So each worker keeps:

- every product on show, in columns: built from the preloader's pages (the page of every
  product on show, which the product-page cache preloads anyway);
- for each search's words, the marketplace's verdict: every product on show they match and
  its relevance (``marketplace.search_matches``, asked once per words and kept);

and answers any search of held words from memory, by the contract's rules (the same items,
order, cursors and facets as the marketplace's own answer).

Freshness, the catalogue cache's promise (docs/catalogue-read-path.md): a fact naming
products puts them on a pending list before the answers cache moves its generation; a
refresher thread asks the marketplace for their current pages and relevance to every held
words (``marketplace.search_refresh``) within milliseconds. While anything is pending, the
index's answers are not kept in the answers cache; once a fact has waited longer than
``PENDING_GRACE_SECONDS`` (the marketplace is slow or down), searches go to the marketplace
until the refresh lands. Words whose fetched matches name a product the index lacks (listed
a moment ago, its fact still on its way) are answered by the marketplace until the product,
refreshed at once, is in the index. A fact the index cannot place (a business changed, an unreadable
fact) or a listener that stopped consuming drops the index until the next preload rebuilds it.
"""
import collections
import itertools
import logging
import threading
import time

from marshmallow import ValidationError
from prometheus_client import Counter

from backbone import pagination
from backbone.errors import ValidationFailed
from services.gateway.catalogue_index import CannotAnswer, CatalogueIndex
from services.marketplace import contract

log = logging.getLogger(__name__)

ALL_PRODUCTS = "all"  # what a fact named when it may have changed any product
PENDING_GRACE_SECONDS = 0.5
REFRESH_BATCH = 500
BUSINESS_BATCH = 100
REFRESH_RETRY_SECONDS = 0.2
# How often the refresher looks for business facts that have settled.
REFRESHER_TICK_SECONDS = 0.25
# Refreshes remembered so that words fetched meanwhile can be brought up to date.
REFRESHES_REMEMBERED = 1000
MATCH_ENTRY_BYTES = 8  # a position and a relevance, int32 each
# One instance for every request: making a schema copies its fields (about 0.9 ms), loading
# with one keeps no state between calls.
LIST_QUERY = contract.ProductListQuery()

ANSWERS = Counter("laris_catalogue_index_answers_total",
                  "Searches a gateway worker answered from its catalogue index, or could not "
                  "(the marketplace answered): by reason", ["outcome"])
WORDS_FETCHED = Counter("laris_catalogue_index_words_fetched_total",
                        "Search words whose matches a gateway worker asked the marketplace for")


class Pending:
    """A product a fact named whose refresh has not landed: since when, and which fact."""
    __slots__ = ("since", "stamp", "latest")

    def __init__(self, now, stamp):
        self.since, self.stamp, self.latest = now, stamp, now


class SearchKeeper:
    def __init__(self, call, dumps, max_match_bytes, clock=time.monotonic):
        """``call(service, method, *args)``: an RPC. ``dumps(value)``: a value's JSON bytes as
        the routes write them (a product's page, a page of results). ``max_match_bytes``:
        memory for the words' matches."""
        self._call = call
        self._dumps = dumps
        self._max_match_entries = max_match_bytes // MATCH_ENTRY_BYTES
        self._clock = clock
        self._lock = threading.Lock()
        self._index = None
        self._build = None  # (token, ids named while it builds)
        self._tokens = 0
        self._stamps = 0
        self._pending = {}
        self._businesses = {}  # business id -> when its fact has settled in the marketplace
        self._refreshed = collections.deque(maxlen=REFRESHES_REMEMBERED)  # (number, ids)
        self._refreshes = 0
        self._fetching = {}  # words -> Event set when their matches are in (or failed)
        self.wake = threading.Event()

    # --- facts (the catalogue cache's listener) ---------------------------------------------

    def named(self, product_ids):
        """A fact named these products (or ALL_PRODUCTS): called before the answers cache
        moves its generation, so no answer computed after it is kept until they are
        refreshed."""
        if product_ids == ALL_PRODUCTS:
            self.forget()
            return
        now = self._clock()
        with self._lock:
            self._stamps += 1
            for product_id in product_ids:
                pending = self._pending.get(product_id)
                if pending is None:
                    self._pending[product_id] = Pending(now, self._stamps)
                else:
                    pending.stamp, pending.latest = self._stamps, now
            if self._build is not None:
                self._build[1].update(product_ids)
        self.wake.set()

    def business_changed(self, business_id, settle_seconds):
        """A fact about a business (verified, rejected, renamed, export-ready...): all its
        products are refreshed once the marketplace has applied the fact to its read model
        (``settle_seconds`` on), those off show leaving the index, those back on show
        joining it."""
        with self._lock:
            self._businesses[business_id] = self._clock() + settle_seconds
        self.wake.set()

    def forget(self):
        """Facts may have been missed, or one changed what the index cannot place: nothing is
        answered from it until the next preload has built it again."""
        with self._lock:
            self._index = None
            self._build = None
            self._pending.clear()
            self._businesses.clear()

    # --- building (the preloader) ------------------------------------------------------------

    def begin_build(self):
        with self._lock:
            self._tokens += 1
            self._build = (self._tokens, set())
            return self._tokens

    def finish_build(self, token, pages):
        """Every page on show, fetched since ``begin_build``: the new index, unless the index
        was forgotten meanwhile. It starts with the words the index it replaces held (a
        periodic preload must not make every worker ask them all again); products that facts
        named while it built, and those refreshed in the old index meanwhile, are refreshed
        again in the new one."""
        index = CatalogueIndex(self._dumps, self._max_match_entries)
        for page in pages:
            index.put(page)
        with self._lock:
            old, refreshes_before = self._index, self._refreshes
        for words, product_ids, relevance in (old.held_matches() if old is not None else ()):
            index.hold_matches(words, product_ids, relevance)
        now = self._clock()
        with self._lock:
            if self._build is None or self._build[0] != token:
                return False
            named = set(self._build[1])
            if old is not None and self._index is old:
                since = [ids for number, ids in self._refreshed if number > refreshes_before]
                if self._refreshes - refreshes_before > len(since):
                    index.drop_all_matches()  # too many refreshes meanwhile to tell which
                named.update(product_id for ids in since for product_id in ids)
            self._stamps += 1
            for product_id in named:
                self._pending.setdefault(product_id, Pending(now, self._stamps))
            self._index, self._build = index, None
        self.wake.set()
        return True

    def ready(self):
        with self._lock:
            return self._index is not None

    # --- refreshing (the refresher thread) ---------------------------------------------------

    def refresh_once(self):
        """Refresh up to a batch of pending products. False when there was nothing to do (or
        no index to refresh); raises when the marketplace did not answer."""
        now = self._clock()
        with self._lock:
            index = self._index
            batch = {product_id: pending.stamp
                     for product_id, pending in list(self._pending.items())[:REFRESH_BATCH]}
            businesses = {business_id: settled for business_id, settled
                          in list(self._businesses.items())[:BUSINESS_BATCH] if settled <= now}
        if index is None or not (batch or businesses):
            return False
        words = index.words_held()
        answer = self._call("marketplace", "search_refresh", {
            "product_ids": list(batch), "business_ids": list(businesses), "words": words})
        on_show = {page["id"]: page for page in answer["pages"]}
        now = self._clock()
        with self._lock:
            if self._index is not index:
                return True
            refreshed = set(batch) | set(on_show)
            for business_id in businesses:
                refreshed.update(index.products_of(business_id))
            for product_id in refreshed:
                if product_id in on_show:
                    index.put(on_show[product_id])
                    index.set_relevance(product_id, answer["relevance"].get(product_id, {}),
                                        words)
                else:
                    index.remove(product_id)
            for business_id, settled in businesses.items():
                if self._businesses.get(business_id) == settled:
                    del self._businesses[business_id]
            self._refreshes += 1
            self._refreshed.append((self._refreshes, list(refreshed)))
            fetched_meanwhile = set(index.words_held()) - set(words)
            for product_id, stamp in batch.items():
                pending = self._pending.get(product_id)
                if pending is None:
                    continue
                if fetched_meanwhile:
                    pending.since = now  # asked again, with the words it missed
                elif pending.stamp == stamp:
                    del self._pending[product_id]
                else:
                    pending.since = pending.latest  # a later fact: its own refresh is next
        return True

    # --- answering (a request's thread) ------------------------------------------------------

    def answer(self, args):
        """(JSON body, keepable) for GET /products with ``args``, or None when the
        marketplace must answer (no index yet, a refresh overdue, input it refuses, words
        whose matches could not be fetched). Keepable: no fact is waiting for its refresh."""
        with self._lock:
            index = self._index
            oldest = min([p.since for p in self._pending.values()]
                         + list(self._businesses.values()), default=None)
        if index is None:
            ANSWERS.labels("not_built").inc()
            return None
        if oldest is not None and self._clock() - oldest > PENDING_GRACE_SECONDS:
            ANSWERS.labels("refresh_overdue").inc()
            return None
        try:
            query = LIST_QUERY.load(args)
            query["q"] = contract.normalise_query(query["q"])
            sort = contract.sort_of(query["sort"], query["q"])
            after = (contract.parse_cursor(sort, query["cursor"])
                     if query["cursor"] is not None else None)
        except (ValidationError, ValidationFailed):
            ANSWERS.labels("refused_input").inc()
            return None  # the marketplace answers with the 422 the contract names
        found = self._search(index, query, sort, after)
        if found is None:
            return None
        ANSWERS.labels("answered").inc()
        with self._lock:  # words fetched meanwhile may have queued refreshes
            keepable = oldest is None and not self._pending and not self._businesses
        return self._body(*found), keepable

    def _search(self, index, query, sort, after):
        try:
            return index.search(query, sort, after)
        except CannotAnswer:
            pass
        if query["q"] is None or not self._fetch(index, query["q"]):
            ANSWERS.labels("cannot_answer").inc()
            return None
        try:
            return index.search(query, sort, after)
        except CannotAnswer:
            ANSWERS.labels("cannot_answer").inc()
            return None

    def _fetch(self, index, words):
        """The marketplace's matches of ``words``, held in ``index``; one request asks, those
        asking the same words meanwhile wait for it. True when held; False when not, as when
        they name products the index has not heard of yet (listed a moment ago: the
        marketplace answers until those products are refreshed, at once)."""
        with self._lock:
            fetching = self._fetching.get(words)
            asking = fetching is None
            if asking:
                fetching = self._fetching[words] = threading.Event()
            refreshes_before = self._refreshes
        if not asking:
            fetching.wait(10)
            return words in index.words_held()
        try:
            matches = self._call("marketplace", "search_matches", words)
            WORDS_FETCHED.inc()
            return self._hold(index, words, matches, refreshes_before)
        except Exception as exc:
            log.warning("catalogue index: fetching search words failed",
                        extra={"reason": repr(exc)})
            return False
        finally:
            with self._lock:
                self._fetching.pop(words, None)
            fetching.set()

    def _hold(self, index, words, matches, refreshes_before):
        """Hold the fetched matches; products refreshed while they were fetched may have
        changed since the marketplace matched them, and those it matched that the index
        lacks are newer than it: both are refreshed. The matches are held only when the
        index lacks none of them (True), so no answer leaves out a product known to match."""
        now = self._clock()
        with self._lock:
            if self._index is not index or matches["words"] != words:
                return False
            since = [ids for number, ids in self._refreshed if number > refreshes_before]
            if self._refreshes - refreshes_before > len(since):
                return False  # too many refreshes meanwhile to tell which products changed
            lacking = index.lacking(matches["ids"])
            if not lacking:  # else asked again once they are refreshed
                index.hold_matches(words, matches["ids"], matches["relevance"])
            self._stamps += 1
            for product_id in itertools.chain(lacking, *since):
                self._pending.setdefault(product_id, Pending(now, self._stamps))
        if since or lacking:
            self.wake.set()
        return not lacking

    def _body(self, bodies, next_cursor, facets):
        """The contract's ProductPage as the route writes it (its fields in order)."""
        cursor = None if next_cursor is None else pagination.encode_cursor(*next_cursor)
        shaped = {"category": contract.facet_counts(facets["category"], contract.CATEGORIES),
                  "kecamatan": contract.facet_counts(facets["kecamatan"])}
        return b"".join((b'{"items":[', b",".join(bodies), b'],"next_cursor":',
                         self._dumps(cursor), b',"facets":', self._dumps(shaped), b"}\n"))


class Refresher(threading.Thread):
    """Brings the products facts named up to date in the index, as soon as they are named."""

    def __init__(self, keeper):
        super().__init__(name="catalogue-index-refresher", daemon=True)
        self.keeper = keeper

    def run(self):
        while True:
            self.keeper.wake.wait(REFRESHER_TICK_SECONDS)
            self.keeper.wake.clear()
            try:
                while self.keeper.refresh_once():
                    pass
            except Exception as exc:
                log.warning("catalogue index: refreshing products failed",
                            extra={"reason": repr(exc)})
                time.sleep(REFRESH_RETRY_SECONDS)
                self.keeper.wake.set()
