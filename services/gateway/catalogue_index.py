"""The gateway's catalogue index: every product on show, in columns, and for each search's
words every product the marketplace matched to them with its relevance.

What words match and how well is the marketplace's to judge (its SQL: Indonesian full text
and trigrams); the index holds its verdicts and answers every filter, order, cursor and facet
of those words from memory, by the rules of the marketplace's contract (the same order,
cursors and facets as the marketplace would answer). Pure: no I/O, no clock; the catalogue
search keeper (catalogue_search.py) fills and refreshes it. Thread-safe.

Orders are total: each sort's key is an int64 whose low bits are the product's rank in id
order, so (key, id) pairs compare as one number and a page is one partial sort.
"""
import collections
import datetime as dt
import threading
from decimal import Decimal

import numpy as np

from backbone.contracts import KECAMATAN
from services.marketplace import contract

# The rank of an id fits below this: two million products per gateway worker.
ID_RANKS = 1 << 21
RELEVANCE_SCALE = 10 ** 6  # the marketplace sends relevance in millionths (6 decimals)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
ONE_MICROSECOND = dt.timedelta(microseconds=1)
KEY_LIMIT = 1 << 62  # a cursor's forged key is clamped here rather than overflow int64
INITIAL_CAPACITY = 1024
# Categories and kecamatan are counted together, per (category, kecamatan) pair.
CATEGORY_CODES = KECAMATAN_CODES = 32


class CannotAnswer(Exception):
    """The marketplace has to be asked: the index holds no matches for these words, or the
    cursor carries a key no product can have (not a finite number)."""


class Codebook:
    """Small ints for the values of a column (categories, kecamatan, businesses)."""

    def __init__(self, known=(), limit=None):
        self.codes = {}
        self.values = []
        self.limit = limit
        for value in known:
            self.code(value)

    def code(self, value):
        code = self.codes.get(value)
        if code is None:
            if self.limit is not None and len(self.values) >= self.limit:
                raise OverflowError(f"more than {self.limit} values in a facet")
            code = self.codes[value] = len(self.values)
            self.values.append(value)
        return code


class Matches:
    """What the marketplace found for one search's words: positions (ascending) and their
    relevance, and, computed when first needed, the same in relevance order."""
    __slots__ = ("positions", "relevance", "ordered")

    def __init__(self, positions, relevance):
        self.positions, self.relevance, self.ordered = positions, relevance, None


def micros(moment):
    """Microseconds since the epoch: an exact int for an aware datetime."""
    return (moment - EPOCH) // ONE_MICROSECOND


def relevance_text(millionths):
    """Relevance as the marketplace's SQL writes it in a cursor (numeric, 6 decimals)."""
    return str(Decimal(int(millionths)).scaleb(-6).quantize(Decimal("0.000001")))


class CatalogueIndex:
    COLUMNS = (("ids", "<U36"), ("alive", bool), ("pair", np.int32), ("business", np.int32),
               ("export_ready", bool), ("featured", bool), ("price", np.int64),
               ("created", np.int64))

    def __init__(self, encode, max_match_entries):
        """``encode(page)``: a product page's JSON bytes as the gateway writes them.
        ``max_match_entries``: matches held over all words (8 bytes each); the words used
        longest ago are dropped first."""
        self._encode = encode
        self.max_match_entries = max_match_entries
        self._lock = threading.RLock()
        self._position = {}
        self._bodies = []
        self._versions = []
        self._created_at = []
        self._categories = Codebook(contract.CATEGORIES, CATEGORY_CODES)
        self._kecamatan = Codebook(KECAMATAN, KECAMATAN_CODES)
        self._businesses = Codebook()
        self._columns = {}
        self._grow(INITIAL_CAPACITY)
        self._matches = collections.OrderedDict()  # words -> Matches
        self._match_entries = 0
        self._ranks = None  # id and (created, id) ranks; None since products were added
        self._rank_epoch = 0
        self._orders = {}  # sort -> every position in that order (searches without words)

    def _grow(self, capacity):
        for name, dtype in self.COLUMNS:
            column = np.zeros(capacity, dtype=dtype)
            old = self._columns.get(name)
            if old is not None:
                column[:len(old)] = old
            self._columns[name] = column

    def __len__(self):
        with self._lock:
            return int(self._columns["alive"][:len(self._bodies)].sum())

    # --- filling ---------------------------------------------------------------------------

    def put(self, page):
        """A product on show, as the marketplace's page of it; an older version than the one
        held is ignored."""
        with self._lock:
            position = self._position.get(page["id"])
            if position is None:
                position = self._append(page)
            elif page["version"] < self._versions[position]:
                return False
            column = self._columns
            vendor = page["vendor"]
            if column["price"][position] != page["price_idr"]:
                self._orders.pop("price_asc", None)
                self._orders.pop("price_desc", None)
            column["alive"][position] = True
            column["pair"][position] = (self._categories.code(page["category"]) * KECAMATAN_CODES
                                        + self._kecamatan.code(vendor["kecamatan"]))
            column["business"][position] = self._businesses.code(page["business_id"])
            column["export_ready"][position] = bool(vendor["export_ready"])
            column["featured"][position] = bool(page["featured"])
            column["price"][position] = page["price_idr"]
            self._bodies[position] = self._encode(page)
            self._versions[position] = page["version"]
            return True

    def _append(self, page):
        position = len(self._bodies)
        if position >= ID_RANKS:
            raise OverflowError("more products than the index ranks")
        if position == len(self._columns["alive"]):
            self._grow(2 * position)
        created_at = dt.datetime.fromisoformat(page["created_at"])
        self._columns["ids"][position] = page["id"]
        self._columns["created"][position] = micros(created_at)
        self._position[page["id"]] = position
        self._bodies.append(b"")
        self._versions.append(page["version"])
        self._created_at.append(created_at)
        self._ranks = None
        self._rank_epoch += 1
        self._orders.clear()
        return position

    def remove(self, product_id):
        """The product is no longer on show (hidden, or its business no longer verified)."""
        with self._lock:
            position = self._position.get(product_id)
            if position is not None:
                self._columns["alive"][position] = False

    def products_of(self, business_id):
        """The ids of the business's products on show."""
        with self._lock:
            code = self._businesses.codes.get(business_id)
            if code is None:
                return []
            count = len(self._bodies)
            found = (self._columns["business"][:count] == code) & self._columns["alive"][:count]
            return self._columns["ids"][:count][found].tolist()

    def lacking(self, product_ids):
        """Those of ``product_ids`` (on show, the marketplace says) the index does not hold
        as on show: it has not heard of them yet, or not that they are back."""
        with self._lock:
            return [product_id for product_id in product_ids
                    if not self._held_on_show(product_id)]

    def _held_on_show(self, product_id):
        position = self._position.get(product_id)
        return position is not None and bool(self._columns["alive"][position])

    def words_held(self):
        with self._lock:
            return list(self._matches)

    def hold_matches(self, words, product_ids, relevance):
        """Every product on show that ``words`` match, with its relevance in millionths, as
        the marketplace found them. A product the index does not hold yet is left out: its
        refresh brings its relevance to every held words."""
        with self._lock:
            positions = np.array([self._position.get(product_id, -1)
                                  for product_id in product_ids], dtype=np.int64)
            ranks = np.array(relevance, dtype=np.int32)
            known = positions >= 0
            order = np.argsort(positions[known], kind="stable")
            positions, ranks = positions[known][order].astype(np.int32), ranks[known][order]
            self._drop_matches(words)
            self._matches[words] = Matches(positions, ranks)
            self._match_entries += len(positions)
            while self._match_entries > self.max_match_entries and len(self._matches) > 1:
                self._drop_matches(next(iter(self._matches)))

    def held_matches(self):
        """[(words, product ids, relevance)] of every words held, used longest ago first:
        what a new index of the same catalogue starts from."""
        with self._lock:
            return [(words, self._columns["ids"][held.positions].tolist(),
                     held.relevance.tolist()) for words, held in self._matches.items()]

    def drop_all_matches(self):
        with self._lock:
            self._matches.clear()
            self._match_entries = 0

    def _drop_matches(self, words):
        held = self._matches.pop(words, None)
        if held is not None:
            self._match_entries -= len(held.positions)

    def set_relevance(self, product_id, relevance, words_asked):
        """The product's relevance (millionths) to each of ``words_asked``, as a refresh
        brought it: words absent from ``relevance`` do not match it."""
        with self._lock:
            position = self._position.get(product_id)
            if position is None:
                return
            for words in words_asked:
                matches = self._matches.get(words)
                if matches is not None:
                    self._set_one(matches, position, relevance.get(words))

    def _set_one(self, matches, position, rank):
        at = int(np.searchsorted(matches.positions, position))
        present = at < len(matches.positions) and matches.positions[at] == position
        if present and rank is not None:
            if matches.relevance[at] == rank:
                return
            matches.relevance[at] = rank
        elif rank is not None:
            matches.positions = np.insert(matches.positions, at, position)
            matches.relevance = np.insert(matches.relevance, at, rank)
            self._match_entries += 1
        elif present:
            matches.positions = np.delete(matches.positions, at)
            matches.relevance = np.delete(matches.relevance, at)
            self._match_entries -= 1
        else:
            return
        matches.ordered = None

    # --- searching -------------------------------------------------------------------------

    def search(self, query, sort, after):
        """One page of what ``query`` (the contract's ProductListQuery, loaded, words
        normalised) asks, in ``sort`` order after ``after`` ((key, id) or None):
        (the items' JSON bodies, the next cursor's values or None, facets as the contract's
        rows). Raises CannotAnswer when the words' matches are not held.

        Every order is kept as "order keys", ascending: a descending sort's keys negated."""
        with self._lock:
            positions, keys, relevance, ordered = self._candidates(query["q"], sort)
            pair = self._columns["pair"][positions]
            ok = self._columns["alive"][positions] & self._filters(positions, query)
            category = self._categories.codes[query["category"]] if query["category"] else None
            kecamatan = (self._kecamatan.codes[query["kecamatan"]] if query["kecamatan"]
                         else None)
            counts = np.bincount(pair[ok], minlength=CATEGORY_CODES * KECAMATAN_CODES).reshape(
                CATEGORY_CODES, KECAMATAN_CODES)
            facets = {
                "category": self._facet(self._categories, counts[:, kecamatan]
                                        if kecamatan is not None else counts.sum(axis=1)),
                "kecamatan": self._facet(self._kecamatan, counts[category]
                                         if category is not None else counts.sum(axis=0))}
            chosen = ok
            if category is not None or kecamatan is not None:
                allowed = np.zeros((CATEGORY_CODES, KECAMATAN_CODES), dtype=bool)
                allowed[slice(None) if category is None else category,
                        slice(None) if kecamatan is None else kecamatan] = True
                chosen = ok & allowed.ravel()[pair]
            lowest = None if after is None else self._lowest_key(sort, after)
            page = self._page(keys, chosen, lowest, query["limit"] + 1, ordered)
            items = positions[page[:query["limit"]]]
            next_cursor = None
            if len(page) > query["limit"]:
                last = page[query["limit"] - 1]
                next_cursor = self._cursor_values(
                    sort, int(positions[last]),
                    None if relevance is None else int(relevance[last]))
            return [self._bodies[position] for position in items], next_cursor, facets

    def _candidates(self, words, sort):
        """(positions, their order keys, their relevance or None, whether in key order)."""
        if words is None:  # sort_of never asks relevance without words
            positions, keys = self._order_of_all(sort)
            return positions, keys, None, True
        matches = self._matches.get(words)
        if matches is None:
            raise CannotAnswer(words)
        self._matches.move_to_end(words)
        if sort == "relevance":
            return (*self._by_relevance(matches), True)
        return matches.positions, self._keys(sort, matches.positions), None, False

    def _keys(self, sort, positions, relevance=None):
        id_rank, created_rank, *_ = self._rank_tables()
        if sort == "newest":
            return -created_rank[positions]
        primary = (relevance.astype(np.int64) if sort == "relevance"
                   else self._columns["price"][positions])
        keys = primary * ID_RANKS + id_rank[positions]
        return -keys if contract.SORT_ORDERS[sort].descending else keys

    def _order_of_all(self, sort):
        if sort not in self._orders:
            positions = np.arange(len(self._bodies), dtype=np.int32)
            keys = self._keys(sort, positions)
            order = np.argsort(keys, kind="stable")
            self._orders[sort] = (positions[order], keys[order])
        return self._orders[sort]

    def _by_relevance(self, matches):
        if matches.ordered is None or matches.ordered[0] != self._rank_epoch:
            keys = self._keys("relevance", matches.positions, matches.relevance)
            order = np.argsort(keys, kind="stable")
            matches.ordered = (self._rank_epoch, matches.positions[order], keys[order],
                               matches.relevance[order])
        _, positions, keys, relevance = matches.ordered
        return positions, keys, relevance

    def _filters(self, positions, query):
        column = self._columns
        ok = np.ones(len(positions), dtype=bool)
        if query["business_id"] is not None:
            code = self._businesses.codes.get(str(query["business_id"]))
            ok &= column["business"][positions] == (-1 if code is None else code)
        for flag in ("export_ready", "featured"):
            if query[flag] is not None:
                ok &= column[flag][positions] == query[flag]
        if query["min_price_idr"] is not None:
            ok &= column["price"][positions] >= query["min_price_idr"]
        if query["max_price_idr"] is not None:
            ok &= column["price"][positions] <= query["max_price_idr"]
        return ok

    @staticmethod
    def _facet(codebook, counts):
        return [{"value": codebook.values[code], "count": int(count)}
                for code, count in enumerate(counts[:len(codebook.values)]) if count]

    @staticmethod
    def _page(keys, chosen, lowest, count, ordered):
        """Indexes of the ``count`` chosen candidates with the lowest keys from ``lowest``
        on, in order (keys are unique)."""
        if ordered:
            start = 0 if lowest is None else int(np.searchsorted(keys, lowest, "left"))
            return np.flatnonzero(chosen[start:])[:count] + start
        eligible = np.flatnonzero(chosen if lowest is None else chosen & (keys >= lowest))
        if len(eligible) > count:
            eligible = eligible[np.argpartition(keys[eligible], count - 1)[:count]]
        return eligible[np.argsort(keys[eligible], kind="stable")]

    def _rank_tables(self):
        """Ranks in id order and in (created, id) order, computed again after products were
        added (positions never move, so ranks change only then)."""
        if self._ranks is None:
            count = len(self._bodies)
            ids = self._columns["ids"][:count]
            by_id = np.argsort(ids, kind="stable")
            id_rank = np.empty(count, dtype=np.int64)
            id_rank[by_id] = np.arange(count)
            created = self._columns["created"][:count]
            by_created = np.lexsort((id_rank, created))
            created_rank = np.empty(count, dtype=np.int64)
            created_rank[by_created] = np.arange(count)
            self._ranks = (id_rank, created_rank, ids[by_id], created[by_created],
                           ids[by_created])
        return self._ranks

    def _lowest_key(self, sort, after):
        """The lowest order key of the items after the cursor's (key, id). The cursor's
        product may be gone: its place among the ids is found, not looked up."""
        key, last_id = after
        last_id = str(last_id)
        _, _, ids_sorted, created_sorted, ids_by_created = self._rank_tables()
        descending = contract.SORT_ORDERS[sort].descending
        if sort == "newest":
            moment = micros(key)
            low = int(np.searchsorted(created_sorted, moment, "left"))
            high = int(np.searchsorted(created_sorted, moment, "right"))
            bound = low + int(np.searchsorted(ids_by_created[low:high], last_id, "left"))
            return -bound + 1  # created ranks below the cursor's place: keys above -place
        id_place = int(np.searchsorted(ids_sorted, last_id, "left" if descending else "right"))
        if sort == "relevance":
            if not key.is_finite():
                raise CannotAnswer(key)
            scaled = key * RELEVANCE_SCALE
            whole = int(scaled)
            if whole != scaled:  # a forged cursor between two relevances
                whole, id_place = int(scaled.to_integral_value(rounding="ROUND_FLOOR")) + 1, 0
        else:
            whole = int(key)
        bound = max(-KEY_LIMIT, min(KEY_LIMIT, whole * ID_RANKS + id_place))
        return -bound + 1 if descending else bound

    def _cursor_values(self, sort, position, relevance):
        """What the marketplace's cursor carries for this item (contract.cursor_values)."""
        if sort == "relevance":
            key = relevance_text(relevance)
        elif sort == "newest":
            key = self._created_at[position]
        else:
            key = int(self._columns["price"][position])
        return (sort, key, str(self._columns["ids"][position]))
