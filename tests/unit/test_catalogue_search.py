"""The search keeper's rules of freshness (services/gateway/catalogue_search.py), with a
stand-in for the marketplace's two RPCs that answers from a dict and a hand-moved clock.
The real thing, through the broker and the database, is tests/e2e/test_catalogue_index.py."""
import json

from services.gateway.catalogue_search import ALL_PRODUCTS, PENDING_GRACE_SECONDS, SearchKeeper
from tests.unit.test_catalogue_index import catalogue


class Marketplace:
    """Pages on show and the relevance of the words "keripik", as the RPCs would answer."""

    def __init__(self, pages, relevance):
        self.pages = {page["id"]: page for page in pages}
        self.relevance = dict(relevance)
        self.calls = []
        self.during_call = None  # something that happens while the marketplace answers

    def __call__(self, service, method, argument):
        self.calls.append(method)
        if self.during_call is not None:
            happening, self.during_call = self.during_call, None
            happening()
        if method == "search_matches":
            ids = [i for i in self.relevance if i in self.pages]
            return {"words": argument, "ids": ids,
                    "relevance": [self.relevance[i] for i in ids]}
        assert method == "search_refresh"
        ids = argument["product_ids"] + [
            i for i, page in self.pages.items()
            if page["business_id"] in argument["business_ids"]]
        return {"pages": [self.pages[i] for i in ids if i in self.pages],
                "relevance": {i: {"keripik": self.relevance[i]} for i in ids
                              if i in self.relevance and "keripik" in argument["words"]}}


class Clock:
    now = 100.0

    def __call__(self):
        return self.now


def keeper_of(seed=1):
    _, _, pages, relevance = catalogue(seed)
    marketplace, clock = Marketplace(pages, relevance), Clock()
    dumps = lambda value: json.dumps(value, separators=(",", ":")).encode()  # noqa: E731
    keeper = SearchKeeper(marketplace, dumps, max_match_bytes=1 << 20, clock=clock)
    return keeper, marketplace, clock, pages


def built(keeper, pages):
    assert keeper.finish_build(keeper.begin_build(), pages)


def ids_found(keeper, **args):
    body, keepable = keeper.answer({"limit": "100"} | args)
    return {item["id"] for item in json.loads(body)["items"]}, keepable


def test_nothing_is_answered_before_the_first_build_and_after_a_fact_it_cannot_place():
    keeper, _, _, pages = keeper_of()
    assert keeper.answer({}) is None
    built(keeper, pages)
    assert keeper.answer({}) is not None
    keeper.named(ALL_PRODUCTS)
    assert keeper.answer({}) is None


def test_a_build_the_index_was_forgotten_during_is_not_installed():
    keeper, _, _, pages = keeper_of()
    token = keeper.begin_build()
    keeper.forget()
    assert not keeper.finish_build(token, pages)
    assert keeper.answer({}) is None


def test_products_named_while_it_built_are_refreshed_before_answers_are_kept():
    keeper, marketplace, _, pages = keeper_of()
    token = keeper.begin_build()
    keeper.named({pages[0]["id"]})
    marketplace.pages[pages[0]["id"]] = dict(pages[0], price_idr=999, version=2)
    assert keeper.finish_build(token, pages)
    assert ids_found(keeper, max_price_idr="999") == (set(), False)  # built from the old page
    assert keeper.refresh_once()
    assert ids_found(keeper, max_price_idr="999") == ({pages[0]["id"]}, True)


def test_a_fact_waits_its_refresh_half_a_second_then_the_marketplace_answers():
    keeper, marketplace, clock, pages = keeper_of()
    built(keeper, pages)
    keeper.named({pages[1]["id"]})
    assert keeper.answer({})[1] is False  # served, not kept
    clock.now += PENDING_GRACE_SECONDS + 0.1
    assert keeper.answer({}) is None
    del marketplace.pages[pages[1]["id"]]  # hidden meanwhile
    assert keeper.refresh_once()
    found, keepable = ids_found(keeper)
    assert keepable and pages[1]["id"] not in found and len(found) == len(pages) - 1


def test_a_fact_that_arrives_during_a_refresh_keeps_its_product_pending():
    keeper, marketplace, _, pages = keeper_of()
    built(keeper, pages)
    keeper.named({pages[2]["id"]})
    marketplace.during_call = lambda: keeper.named({pages[2]["id"]})
    assert keeper.refresh_once()
    assert keeper.answer({})[1] is False
    assert keeper.refresh_once()
    assert keeper.answer({})[1] is True


def test_new_words_are_asked_once_then_answered_from_memory():
    keeper, marketplace, _, pages = keeper_of()
    built(keeper, pages)
    found, _ = ids_found(keeper, q="Keripik")
    assert found == {i for i in marketplace.relevance}
    ids_found(keeper, q="keripik", sort="price_asc")
    assert marketplace.calls == ["search_matches"]


def test_products_refreshed_while_words_were_fetched_are_refreshed_again():
    keeper, marketplace, _, pages = keeper_of()
    built(keeper, pages)
    newcomer = next(page for page in pages if page["id"] not in marketplace.relevance)

    def renamed_and_refreshed():
        keeper.named({newcomer["id"]})
        marketplace.relevance[newcomer["id"]] = 1_000_000
        keeper.refresh_once()  # asks without "keripik": it is not held yet

    marketplace.during_call = renamed_and_refreshed
    found, keepable = ids_found(keeper, q="keripik")
    assert not keepable  # the newcomer waits for a refresh that includes the words
    assert keeper.refresh_once()
    found, keepable = ids_found(keeper, q="keripik")
    assert keepable and newcomer["id"] in found


def test_a_new_build_keeps_the_words_held_and_refreshes_what_changed_meanwhile():
    keeper, marketplace, _, pages = keeper_of()
    built(keeper, pages)
    before, _ = ids_found(keeper, q="keripik")
    token = keeper.begin_build()
    dropped = next(iter(before))
    keeper.named({dropped})
    marketplace.relevance.pop(dropped)
    assert keeper.refresh_once()  # in the old index, while the new one builds
    assert keeper.finish_build(token, pages)  # its pages predate the change
    assert keeper.refresh_once()
    found, keepable = ids_found(keeper, q="keripik")
    assert keepable and found == before - {dropped}
    assert marketplace.calls.count("search_matches") == 1


def test_a_business_fact_refreshes_all_its_products_once_the_marketplace_applied_it():
    keeper, marketplace, clock, pages = keeper_of()
    built(keeper, pages)
    rejected = pages[0]["business_id"]
    keeper.business_changed(rejected, settle_seconds=2.0)
    for product_id in [i for i, page in marketplace.pages.items()
                       if page["business_id"] == rejected]:
        del marketplace.pages[product_id]
    assert not keeper.refresh_once()  # not before the marketplace has applied it
    assert keeper.answer({})[1] is False  # served meanwhile, not kept
    clock.now += 2.0
    assert keeper.refresh_once()
    found, keepable = ids_found(keeper)
    assert keepable and found == set(marketplace.pages) and len(found) < len(pages)


def test_words_matching_a_product_the_index_lacks_are_the_marketplaces_until_it_is_refreshed():
    keeper, marketplace, _, pages = keeper_of()
    newest = next(page for page in pages if page["id"] in marketplace.relevance)
    built(keeper, [page for page in pages if page is not newest])  # its fact still on its way
    assert keeper.answer({"q": "keripik", "limit": "100"}) is None
    assert keeper.answer({"q": "keripik", "limit": "50"}) is None
    assert marketplace.calls == ["search_matches", "search_matches"]
    assert keeper.refresh_once()
    found, keepable = ids_found(keeper, q="keripik")
    assert found == set(marketplace.relevance) and keepable
    assert marketplace.calls == ["search_matches", "search_matches", "search_refresh",
                                 "search_matches"]


def test_words_matching_a_product_the_index_holds_as_removed_wait_for_its_refresh_too():
    keeper, marketplace, _, pages = keeper_of()
    built(keeper, pages)
    back = next(page for page in pages if page["id"] in marketplace.relevance)
    hidden = marketplace.pages.pop(back["id"])
    keeper.named([back["id"]])
    assert keeper.refresh_once()  # the index hears it is hidden
    marketplace.pages[back["id"]] = hidden  # shown again, its fact still on its way
    assert keeper.answer({"q": "keripik", "limit": "100"}) is None
    assert keeper.refresh_once()
    found, _ = ids_found(keeper, q="keripik")
    assert back["id"] in found
