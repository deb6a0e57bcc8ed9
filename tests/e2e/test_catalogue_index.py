"""Searches answered by each gateway worker's catalogue index (services/gateway/
catalogue_search.py): the same answers as the marketplace's own search, page after page, and
the read path's promise kept through it: a product listed, renamed or repriced is searched as
it now is within a second, by every worker."""
import itertools
import random
import time
import uuid

import requests

from tests.support.catalogue import PROMISE_SECONDS
from tests.support.shop import list_product, shop, wait_for

READS_ACROSS_WORKERS = 12  # each on a new connection, so both gateway workers answer
# Distinct limits make distinct URLs, so an answer is the index's, not a kept one.
LIMITS = itertools.count(2)


def fresh_get(api, path, params):
    return requests.get(api.system.url(f"/api/v1{path}"), params=params, timeout=10)


def index_answers(api):
    """Waits until both workers answer searches from their index (each builds it after its
    first catalogue request, from the preload of every product on show)."""
    def built():
        answers = [fresh_get(api, "/products", {"limit": 100 - next(LIMITS) % 90})
                   for _ in range(READS_ACROSS_WORKERS)]
        return all(answer.headers["X-Cache"] in ("index", "hit") for answer in answers)
    assert wait_for(built, timeout=60, interval=0.5)


def a_word():
    return "gurihz" + uuid.uuid4().hex[:6]


def test_the_index_answers_as_the_marketplace_page_after_page(api, rpc, organizer, vendor):
    word = a_word()
    shop(api, vendor, organizer, *(
        {"name": f"Keripik {word} {n}", "price_idr": 10_000 + 500 * (n % 4),
         "category": ("makanan_minuman", "kopi_teh")[n % 2]} for n in range(9)))
    index_answers(api)
    rng = random.Random(7)
    searches = [{"q": q} | extra for q, extra in itertools.product(
        ["keripik", "kripik tempe", word, "batik malang", None],
        [{}, {"sort": "newest"}, {"sort": "price_asc"}, {"category": "makanan_minuman"},
         {"kecamatan": "klojen", "export_ready": "false"}, {"max_price_idr": "11000"}])]
    for params in searches:
        params = {name: value for name, value in params.items() if value is not None}
        params["limit"] = str(rng.randint(2, 6))
        for _ in range(3):  # three pages, each from the cursor the gateway gave out
            answer = fresh_get(api, "/products", params)
            assert answer.status_code == 200, answer.text
            assert answer.headers["X-Cache"] == "index", (params, answer.headers["X-Cache"])
            assert answer.json() == rpc.marketplace.list_products(params), params
            if answer.json()["next_cursor"] is None:
                break
            params = params | {"cursor": answer.json()["next_cursor"]}


def test_a_listed_renamed_or_repriced_product_is_searched_as_it_is_within_a_second(
        api, organizer, vendor):
    word = a_word()
    business, [first] = shop(api, vendor, organizer, {"name": f"Sambal {word}",
                                                      "price_idr": 20_000})
    index_answers(api)

    def searched(expected_ids, expected_prices=None):
        reads = [fresh_get(api, "/products", {"q": word}).json()["items"]
                 for _ in range(READS_ACROSS_WORKERS)]
        return all({item["id"] for item in items} == expected_ids and (
            expected_prices is None or [item["price_idr"] for item in items] == expected_prices)
            for items in reads)

    assert wait_for(lambda: searched({first["id"]}), timeout=10)  # the word is held now

    second = list_product(api, vendor, business["id"], name=f"Sambal Bawang {word}",
                          price_idr=18_000)
    time.sleep(PROMISE_SECONDS)
    assert searched({first["id"], second["id"]})

    renamed = api.patch(f"/products/{second['id']}", token=vendor["token"],
                        json={"name": "Sambal Bawang Pedas"})
    repriced = api.patch(f"/products/{first['id']}", token=vendor["token"],
                         json={"price_idr": 21_000})
    assert (renamed.status_code, repriced.status_code) == (200, 200)
    time.sleep(PROMISE_SECONDS)
    assert searched({first["id"]}, [21_000])


def test_input_the_index_does_not_take_is_answered_by_the_marketplace(api):
    for params in ({"limit": "0"}, {"cursor": "bm90LWEtY3Vyc29y"}, {"sort": "cheapest"},
                   {"q": "keripik", "cursor": "WyJyZWxldmFuY2UiLCJOYU4iLCJ4Il0"}):
        answer = fresh_get(api, "/products", params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.json()["error"]["code"] == "validation_error"
