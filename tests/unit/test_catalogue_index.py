"""The gateway's catalogue index answers a search as the marketplace's SQL would: the same
items in the same order, the same cursors, the same facets. Checked against a plain
reference of the contract's rules (filter, sort by (key, id), cut after the cursor, count per
facet leaving its own filter out), walking every page, on random catalogues."""
import datetime as dt
import json
import random
import uuid
from decimal import Decimal

import pytest

from backbone.pagination import encode_cursor
from services.gateway.catalogue_index import CannotAnswer, CatalogueIndex, relevance_text
from services.marketplace import contract

CATEGORIES = list(contract.CATEGORIES)[:4]
KECAMATAN = ["klojen", "blimbing", "sukun"]
START = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


def encode(page):
    return json.dumps(page, separators=(",", ":")).encode()


def make_page(rng, businesses, created_at=None):
    business = rng.choice(businesses)
    return {"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "business_id": business["id"], "name": "Keripik", "description": "",
            "category": rng.choice(CATEGORIES), "price_idr": rng.choice([5000, 12000, 30000]),
            "stock": 3, "unit": "pcs", "images": [], "featured": rng.random() < 0.3,
            "hidden": False, "hidden_reason": None, "version": 1,
            # few distinct moments: ties that only the id breaks
            "created_at": (created_at or START + dt.timedelta(
                seconds=rng.randrange(6), microseconds=rng.choice([0, 250]))).isoformat(),
            "updated_at": START.isoformat(), "category_label": "",
            "vendor": {"id": business["id"], "name": "B", "kecamatan": business["kecamatan"],
                       "export_ready": business["export_ready"]}}


def catalogue(seed, count=60):
    rng = random.Random(seed)
    businesses = [{"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                   "kecamatan": rng.choice(KECAMATAN), "export_ready": rng.random() < 0.5}
                  for _ in range(5)]
    pages = [make_page(rng, businesses) for _ in range(count)]
    # relevance in millionths, with ties, for the words "keripik"
    relevance = {page["id"]: rng.choice([0, 150000, 333333, 1000000])
                 for page in pages if rng.random() < 0.7}
    return rng, businesses, pages, relevance


def loaded_query(**params):
    query = contract.ProductListQuery().load({k: str(v) for k, v in params.items()})
    query["q"] = contract.normalise_query(query["q"])
    return query


def reference_key(sort, page, relevance):
    if sort == "relevance":
        return Decimal(relevance[page["id"]]) / 10 ** 6
    if sort == "newest":
        return dt.datetime.fromisoformat(page["created_at"])
    return page["price_idr"]


def reference_search(pages, relevance, query, sort, after):
    """The marketplace's rules, written plainly."""
    def passes(page, leave_out=None):
        vendor = page["vendor"]
        return all((
            query["q"] is None or page["id"] in relevance,
            query["business_id"] is None or page["business_id"] == str(query["business_id"]),
            query["export_ready"] is None or vendor["export_ready"] == query["export_ready"],
            query["featured"] is None or page["featured"] == query["featured"],
            query["min_price_idr"] is None or page["price_idr"] >= query["min_price_idr"],
            query["max_price_idr"] is None or page["price_idr"] <= query["max_price_idr"],
            leave_out == "category" or query["category"] in (None, page["category"]),
            leave_out == "kecamatan" or query["kecamatan"] in (None, vendor["kecamatan"])))

    def counts(facet, value_of):
        found = {}
        for page in pages:
            if passes(page, leave_out=facet):
                found[value_of(page)] = found.get(value_of(page), 0) + 1
        return sorted(({"value": value, "count": count} for value, count in found.items()),
                      key=lambda row: row["value"])

    descending = contract.SORT_ORDERS[sort].descending
    rows = sorted(((reference_key(sort, page, relevance), page["id"], page)
                   for page in pages if passes(page)), reverse=descending,
                  key=lambda row: row[:2])
    if after is not None:
        after = (after[0], str(after[1]))
        rows = [row for row in rows
                if (row[:2] < tuple(after) if descending else row[:2] > tuple(after))]
    limit = query["limit"]
    next_cursor = None
    if len(rows) > limit:
        key, product_id, _ = rows[limit - 1]
        key = relevance_text(key * 10 ** 6) if sort == "relevance" else key
        next_cursor = (sort, key, product_id)
    return ([encode(row[2]) for row in rows[:limit]], next_cursor,
            {"category": counts("category", lambda page: page["category"]),
             "kecamatan": counts("kecamatan", lambda page: page["vendor"]["kecamatan"])})


def built(pages, relevance):
    index = CatalogueIndex(encode, max_match_entries=10_000)
    for page in pages:
        index.put(page)
    index.hold_matches("keripik", list(relevance), list(relevance.values()))
    return index


def walk(search, query, sort):
    """Every page of a search, following its cursors (as the marketplace parses them)."""
    answers, after = [], None
    for _ in range(100):
        bodies, next_cursor, facets = search(query, sort, after)
        facets = {name: sorted(rows, key=lambda row: row["value"])
                  for name, rows in facets.items()}
        answers.append((bodies, next_cursor, facets))
        if next_cursor is None:
            return answers
        after = contract.parse_cursor(sort, encode_cursor(*next_cursor))
    raise AssertionError("a search that never ends")


QUERIES = [{}, {"q": "Keripik"}, {"q": "keripik", "category": CATEGORIES[0]},
           {"kecamatan": "sukun", "featured": "true"},
           {"q": "keripik", "export_ready": "false", "min_price_idr": 10000},
           {"q": "keripik", "category": CATEGORIES[1], "kecamatan": "klojen",
            "max_price_idr": 12000},
           {"category": CATEGORIES[2], "export_ready": "true"}]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("params", QUERIES)
@pytest.mark.parametrize("sort", contract.SORTS)
@pytest.mark.parametrize("limit", [1, 4, 25])
def test_every_page_of_a_search_is_the_marketplaces(seed, params, sort, limit):
    _, _, pages, relevance = catalogue(seed)
    query = loaded_query(**params, limit=limit)
    sort = contract.sort_of(sort, query["q"])
    index = built(pages, relevance)
    assert walk(index.search, query, sort) == walk(
        lambda q, s, a: reference_search(pages, relevance, q, s, a), query, sort)


def test_a_business_filter_keeps_its_products_only():
    _, businesses, pages, relevance = catalogue(7)
    query = loaded_query(business_id=businesses[0]["id"], limit=100)
    bodies, _, _ = built(pages, relevance).search(query, "newest", None)
    expected = {page["id"] for page in pages if page["business_id"] == businesses[0]["id"]}
    assert {json.loads(body)["id"] for body in bodies} == expected


def test_changes_removals_and_new_products_are_searched_at_once():
    rng, businesses, pages, relevance = catalogue(3)
    index = built(pages, relevance)
    hidden, cheaper = pages[0], dict(pages[1], price_idr=1000, version=2)
    index.remove(hidden["id"])
    index.put(cheaper)
    index.set_relevance(cheaper["id"], {"keripik": 2_000_000}, ["keripik"])
    newest = make_page(rng, businesses, created_at=START + dt.timedelta(days=1))
    index.put(newest)
    index.set_relevance(newest["id"], {}, ["keripik"])  # its words do not match
    pages = pages[1:] + [newest]
    pages[0] = cheaper
    relevance = {k: v for k, v in relevance.items() if k != hidden["id"]}
    relevance[cheaper["id"]] = 2_000_000
    for params in QUERIES:
        query = loaded_query(**params, limit=7)
        for sort in contract.SORTS:
            sort = contract.sort_of(sort, query["q"])
            assert walk(index.search, query, sort) == walk(
                lambda q, s, a: reference_search(pages, relevance, q, s, a), query, sort)


def test_an_older_version_of_a_product_is_ignored():
    _, _, pages, relevance = catalogue(4)
    index = built(pages, relevance)
    index.put(dict(pages[0], version=3, price_idr=7000))
    assert not index.put(dict(pages[0], version=2, price_idr=9000))
    bodies, _, _ = index.search(loaded_query(limit=100, min_price_idr=7000,
                                             max_price_idr=7000), "newest", None)
    assert [json.loads(body)["id"] for body in bodies] == [pages[0]["id"]]


def test_words_not_held_and_unplaceable_cursors_are_left_to_the_marketplace():
    _, _, pages, relevance = catalogue(5)
    index = built(pages, relevance)
    with pytest.raises(CannotAnswer):
        index.search(loaded_query(q="batik"), "relevance", None)
    with pytest.raises(CannotAnswer):
        index.search(loaded_query(q="keripik"), "relevance", (Decimal("NaN"), uuid.uuid4()))


def test_a_cursor_whose_product_is_gone_still_places_the_next_page():
    _, _, pages, relevance = catalogue(6)
    index = built(pages, relevance)
    query = loaded_query(limit=5)
    _, next_cursor, _ = index.search(query, "price_asc", None)
    index.remove(next_cursor[2])
    after = contract.parse_cursor("price_asc", encode_cursor(*next_cursor))
    expected = reference_search([p for p in pages if p["id"] != next_cursor[2]],
                                relevance, query, "price_asc", after)
    assert index.search(query, "price_asc", after)[:2] == expected[:2]


def test_held_words_are_bounded_dropping_the_longest_unused():
    _, _, pages, relevance = catalogue(8)
    index = CatalogueIndex(encode, max_match_entries=len(relevance) + 1)
    for page in pages:
        index.put(page)
    index.hold_matches("keripik", list(relevance), list(relevance.values()))
    index.hold_matches("tempe", list(relevance), list(relevance.values()))
    assert index.words_held() == ["tempe"]
