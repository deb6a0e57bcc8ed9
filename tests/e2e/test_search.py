"""Searching the catalogue as Indonesian shoppers do: spelling variants, ranking, filters,
orders, stable cursor pages and facets, through the gateway."""
import datetime as dt

import pytest

from backbone import clock
from tests.support.catalogue import eventually, list_product, verified_business

NEXT_YEAR = (clock.today_wib() + dt.timedelta(days=365)).isoformat()


@pytest.fixture
def shop(api, vendor, organizer, infra):
    """A verified business in Blimbing with a few products of its own."""
    business = verified_business(api, vendor, organizer, infra, kecamatan="blimbing")
    products = {
        "keripik": list_product(api, vendor, business, name="Keripik Tempe Sanan",
                                description="Tempe tipis digoreng renyah, oleh-oleh Malang.",
                                price_idr=15000),
        "batik": list_product(api, vendor, business, name="Batik Malangan Motif Teratai",
                              description="Kain batik tulis khas Malang, katun primisima.",
                              category="batik_fashion", price_idr=350000, unit="lembar"),
        "kopi": list_product(api, vendor, business, name="Kopi Dampit",
                             description="Robusta petik merah dari lereng Semeru.",
                             category="kopi_teh", price_idr=45000),
        "gula": list_product(api, vendor, business, name="Gula Aren Cair",
                             description="Pemanis untuk kopi dampit dan es campur.",
                             price_idr=25000),
        "topeng": list_product(api, vendor, business, name="Topeng Malangan Panji",
                               description="Topeng kayu pule, diukir dan dicat tangan.",
                               category="kerajinan", price_idr=275000),
    }
    return {"business": business, "vendor": vendor, "products": products}


def _search(api, shop, **query):
    response = api.get("/products", params={"business_id": shop["business"]["id"]} | query)
    assert response.status_code == 200, response.text
    return response.json()


def _names(page):
    return [item["name"] for item in page["items"]]


# --- spelling variants and typos -----------------------------------------------------------

@pytest.mark.parametrize("words", ["keripik tempe", "kripik tempe", "Kripik  TEMPE!",
                                   "keripik tempeh", "tempe sanan"])
def test_spelling_variants_find_keripik_tempe_sanan(api, shop, words):
    assert _names(_search(api, shop, q=words))[0] == "Keripik Tempe Sanan"


@pytest.mark.parametrize("words", ["batik malang", "batik malangan", "batk malangan"])
def test_batik_malang_finds_batik_malangan(api, shop, words):
    assert _names(_search(api, shop, q=words))[0] == "Batik Malangan Motif Teratai"


def test_a_search_finds_across_the_whole_catalogue(api, shop):
    """Without the business filter too: the shop's product is among what any buyer finds."""
    response = api.get("/products", params={"q": "kripik tempe sanan", "limit": 100})
    ids = [item["id"] for item in response.json()["items"]]
    assert shop["products"]["keripik"]["id"] in ids


def test_words_found_nowhere_find_nothing(api, shop):
    page = _search(api, shop, q="sepeda motor")
    assert page["items"] == [] and page["next_cursor"] is None


def test_an_exact_name_ranks_above_a_description_that_mentions_it(api, shop):
    """'Kopi Dampit' is a product's name and is also in the sugar's description."""
    names = _names(_search(api, shop, q="kopi dampit"))
    assert names[:2] == ["Kopi Dampit", "Gula Aren Cair"]


def test_punctuation_only_lists_as_if_no_query(api, shop):
    assert len(_search(api, shop, q="!!!")["items"]) == 5


# --- filters --------------------------------------------------------------------------------

def test_filters_by_category_and_price_range(api, shop):
    assert _names(_search(api, shop, category="kerajinan")) == ["Topeng Malangan Panji"]
    cheap = _search(api, shop, min_price_idr=20000, max_price_idr=50000, sort="price_asc")
    assert _names(cheap) == ["Gula Aren Cair", "Kopi Dampit"]


def test_filters_by_kecamatan_and_export_readiness(api, shop, organizer, infra):
    other_vendor = api.new_account("vendor")
    klojen = verified_business(api, other_vendor, organizer, infra, kecamatan="klojen")
    list_product(api, other_vendor, klojen, name="Bakpao Telo Klojen")
    ids = {shop["business"]["id"], klojen["id"]}
    for kecamatan, expected in (("klojen", {klojen["id"]}),
                                ("blimbing", {shop["business"]["id"]})):
        page = api.get("/products", params={"kecamatan": kecamatan, "limit": 100}).json()
        assert {item["vendor"]["id"] for item in page["items"]} & ids == expected
        assert {item["vendor"]["kecamatan"] for item in page["items"]} == {kecamatan}
    # Neither business is ready to export yet.
    assert _search(api, shop, export_ready="true")["items"] == []
    assert len(_search(api, shop, export_ready="false")["items"]) == 5


@pytest.mark.parametrize("query, field", [
    ({"min_price_idr": 50000, "max_price_idr": 10000}, "min_price_idr"),
    ({"min_price_idr": "murah"}, "min_price_idr"),
    ({"sort": "popular"}, "sort"),
    ({"category": "elektronik"}, "category"),
    ({"kecamatan": "batu"}, "kecamatan"),
    ({"export_ready": "yes"}, "export_ready"),
    ({"business_id": "1; DROP TABLE products"}, "business_id"),
    ({"q": "x" * 101}, "q"),
    ({"limit": 0}, "limit"),
    ({"cursor": "not-a-cursor"}, "cursor"),
])
def test_a_bad_query_is_422_naming_the_parameter(api, query, field):
    response = api.get("/products", params=query)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]


# --- orders and pages -----------------------------------------------------------------------

def test_sorts_by_price_and_newest(api, shop):
    by_price = [item["price_idr"] for item in _search(api, shop, sort="price_asc")["items"]]
    assert by_price == sorted(by_price)
    by_price_desc = [item["price_idr"]
                     for item in _search(api, shop, sort="price_desc")["items"]]
    assert by_price_desc == sorted(by_price, reverse=True)
    assert _names(_search(api, shop))[0] == "Topeng Malangan Panji"  # listed last


@pytest.mark.parametrize("query", [{"sort": "newest"}, {"sort": "price_asc"},
                                   {"sort": "price_desc"}, {"q": "malang"},
                                   {"q": "kopi", "sort": "relevance"}])
def test_pages_walk_the_whole_order_once(api, shop, query):
    whole = _search(api, shop, limit=100, **query)["items"]
    seen, cursor = [], None
    while True:
        page = _search(api, shop, limit=2, **query, **({"cursor": cursor} if cursor else {}))
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [item["id"] for item in seen] == [item["id"] for item in whole]
    assert len(whole) >= 2


def test_a_cursor_of_another_order_is_refused(api, shop):
    cursor = _search(api, shop, limit=1, sort="price_asc")["next_cursor"]
    response = api.get("/products", params={"sort": "newest", "cursor": cursor})
    assert response.status_code == 422
    assert "cursor" in response.json()["error"]["fields"]


# --- facets and what never shows -----------------------------------------------------------

def test_facets_count_per_category_and_kecamatan(api, shop):
    facets = _search(api, shop)["facets"]
    assert {(f["value"], f["count"]) for f in facets["category"]} == {
        ("makanan_minuman", 2), ("batik_fashion", 1), ("kopi_teh", 1), ("kerajinan", 1)}
    assert facets["category"][0] == {"value": "makanan_minuman",
                                     "label": "Makanan & Minuman", "count": 2}
    assert facets["kecamatan"] == [{"value": "blimbing", "label": "blimbing", "count": 5}]


def test_a_category_chosen_still_counts_the_other_categories(api, shop):
    page = _search(api, shop, category="kerajinan")
    assert len(page["items"]) == 1
    assert sum(facet["count"] for facet in page["facets"]["category"]) == 5


def test_hidden_products_never_appear_in_search(api, shop, organizer):
    topeng = shop["products"]["topeng"]
    assert api.post(f"/products/{topeng['id']}/hide", token=organizer["token"],
                    json={"reason": "Melanggar hak cipta motif."}).status_code == 200
    assert "Topeng Malangan Panji" not in _names(_search(api, shop, q="topeng malangan"))
    facets = _search(api, shop)["facets"]
    assert sum(facet["count"] for facet in facets["category"]) == 4


def test_export_ready_businesses_carry_the_badge_and_the_filter_finds_them(
        api, vendor, organizer, infra):
    """Certified and packed for export, the registry finds the business ready for foreign
    markets; the marketplace shows its badge from that fact."""
    business = verified_business(api, vendor, organizer, infra, packaging=["paper", "glass"])
    path = f"/businesses/{business['id']}/certifications"
    for kind, number in (("pirt", "206357301001227"), ("halal", "ID35110000123450321"),
                         ("haccp", "HACCP-ID-2025-0042")):
        claimed = api.post(path, token=vendor["token"], json={
            "kind": kind, "number": number, "valid_until": NEXT_YEAR})
        assert claimed.status_code == 201, claimed.text
        assert api.review_certification(organizer, business["id"],
                                         claimed.json()["id"]).status_code == 200
    product = list_product(api, vendor, business, name="Kopi Dampit Ekspor")

    def badge():
        page = api.get("/products", params={"business_id": business["id"],
                                            "export_ready": "true"}).json()
        return [item for item in page["items"] if item["vendor"]["export_ready"]]
    assert [item["id"] for item in eventually(badge)] == [product["id"]]
    assert api.get("/products", params={"business_id": business["id"],
                                        "export_ready": "false"}).json()["items"] == []
