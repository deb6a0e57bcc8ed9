"""The public pages in a real browser: the home page's shelves, the catalogue's search,
filters, facets and pages, a product with its maker, and a business's public profile."""
import uuid

from playwright.sync_api import expect

from tests.support.browser import accessibility_problems, screenshot
from tests.support.catalogue import within_the_promise
from tests.support.shop import list_product, shop


def _featured(api, organizer, product):
    answer = api.call("PUT", f"/products/{product['id']}/featured", token=organizer["token"],
                      json={"featured": True})
    assert answer.status_code == 200, answer.text


def test_the_home_page_shows_featured_products_and_searches(browser_page, api, vendor,
                                                             organizer):
    name = f"Keripik Apel Batu {uuid.uuid4().hex[:6]}"
    _, [product] = shop(api, vendor, organizer, {"name": name})
    _featured(api, organizer, product)
    within_the_promise()  # the home page's shelves are the catalogue's public search
    page = browser_page
    page.goto("/")
    expect(page.get_by_role("heading", name="Produk unggulan")).to_be_visible()
    expect(page.get_by_role("link", name=name)).to_be_visible()
    screenshot(page, "beranda")
    assert accessibility_problems(page) == []

    page.get_by_label("Cari produk").fill(name)
    page.get_by_role("button", name="Cari").click()
    expect(page).to_have_url(f"/katalog?q={name.replace(' ', '+')}")
    expect(page.locator("li.product")).to_have_count(1)


def test_the_catalogue_filters_refines_by_facet_and_pages(browser_page, api, vendor,
                                                          organizer):
    word = f"gethuk{uuid.uuid4().hex[:6]}"
    business, products = shop(api, vendor, organizer,
                              *[{"name": f"Gethuk Lindri {word} {n}", "price_idr": 5_000 * n}
                                for n in range(1, 4)])
    list_product(api, vendor, business["id"], name=f"Batik Malangan {word}",
                 category="batik_fashion", price_idr=250_000)
    page = browser_page
    page.goto(f"/katalog?q={word}")
    expect(page.locator("li.product")).to_have_count(4)
    screenshot(page, "katalog")
    assert accessibility_problems(page) == []

    facets = page.get_by_role("navigation", name="Saring menurut Kategori")
    facets.get_by_role("link", name="Batik & Fashion").click()
    expect(page.locator("li.product")).to_have_count(1)
    expect(page.get_by_label("Kategori", exact=True)).to_have_value("batik_fashion")

    page.goto(f"/katalog?q={word}&category=makanan_minuman&sort=price_desc&max_price_idr=10000")
    cards = page.locator("li.product h3")
    expect(cards).to_have_text([products[1]["name"], products[0]["name"]])
    expect(page.locator("li.product .price").first).to_contain_text("Rp 10.000")


def test_the_catalogue_pages_with_a_cursor(browser_page, api, vendor, organizer):
    word = f"cwie{uuid.uuid4().hex[:6]}"
    business, _ = shop(api, vendor, organizer)
    for n in range(25):
        list_product(api, vendor, business["id"], name=f"Cwie Mie {word} {n}")
    page = browser_page
    page.goto(f"/katalog?q={word}&sort=newest")
    expect(page.locator("li.product")).to_have_count(24)
    page.get_by_role("link", name="Berikutnya").click()
    expect(page.locator("li.product")).to_have_count(1)
    expect(page.get_by_role("link", name="Berikutnya")).to_have_count(0)


def test_bad_filters_are_named_beside_their_fields(browser_page):
    page = browser_page
    answer = page.goto("/katalog?min_price_idr=murah&kecamatan=atlantis")
    assert answer.status == 422
    expect(page.locator("#min_price_idr-error")).to_be_visible()
    expect(page.locator("#kecamatan-error")).to_contain_text("Pilih salah satu kecamatan")
    screenshot(page, "katalog-galat")
    assert accessibility_problems(page) == []

    assert page.goto("/katalog?q=keripik&cursor=rusak").status == 422
    expect(page.locator("#cursor-error")).to_contain_text("Tautan halaman ini tidak sah")


def test_a_product_page_names_its_maker_and_kecamatan(browser_page, api, vendor, organizer):
    business, [product] = shop(api, vendor, organizer, {})
    page = browser_page
    page.goto(f"/produk/{product['id']}")
    expect(page.get_by_role("heading", name=product["name"])).to_be_visible()
    expect(page.get_by_text("Rp 15.000")).to_be_visible()
    expect(page.get_by_text(business["kecamatan"].title(), exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Masukkan ke keranjang")).to_be_visible()
    screenshot(page, "produk")
    assert accessibility_problems(page) == []

    within_the_promise()  # the business's page lists its products by the public search
    page.get_by_role("link", name=business["name"]).click()
    expect(page).to_have_url(f"/usaha/{business['id']}")
    expect(page.get_by_role("heading", name=business["name"])).to_be_visible()
    expect(page.get_by_role("link", name=product["name"])).to_be_visible()
    screenshot(page, "usaha")
    assert accessibility_problems(page) == []


def test_an_unknown_product_or_business_is_the_not_found_page(browser_page):
    page = browser_page
    for path in (f"/produk/{uuid.uuid4()}", f"/usaha/{uuid.uuid4()}"):
        answer = page.goto(path)
        assert answer.status == 404
        expect(page.get_by_role("heading", level=1)).to_be_visible()
    screenshot(page, "produk-tidak-ada")
    assert accessibility_problems(page) == []


def test_the_catalogue_in_english(browser_page):
    page = browser_page
    page.goto("/katalog?lang=en")
    expect(page.get_by_role("heading", name="Product catalogue")).to_be_visible()
    expect(page.get_by_label("Sort by")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"


def test_product_photos_load_lazily_with_their_name_as_alt(browser_page, api, vendor,
                                                           organizer):
    word = f"bakpao{uuid.uuid4().hex[:6]}"
    _, [product] = shop(api, vendor, organizer, {
        "name": f"Bakpao Telo {word}", "images": ["https://foto.example.com/bakpao.jpg"]})
    page = browser_page
    for path in (f"/katalog?q={word}", f"/produk/{product['id']}"):
        page.goto(path)
        photo = page.get_by_role("img", name=f"Foto {product['name']}")
        expect(photo).to_have_attribute("loading", "lazy")
        expect(photo).to_have_attribute("src", "https://foto.example.com/bakpao.jpg")
