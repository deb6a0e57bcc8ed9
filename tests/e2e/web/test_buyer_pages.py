"""The buyer's pages in a real browser: a cart anyone fills, checkout as a buyer (short stock
named on the cart, a double submit ordering once), my orders with their history, the QRIS of
each part to pay on screen, and marking a shipped part received."""
import re
import uuid

from playwright.sync_api import expect

from tests.support.browser import accessibility_problems, screenshot
from tests.support.catalogue import within_the_promise
from tests.support.shop import move, shop, wait_for

# qriskit's published static test vector ("static-gopay"), standing in for a vendor's sticker.
STATIC_QRIS = (
    "00020101021126620014COM.GO-JEK.WWW011993600914123456789010210G1234567890303UMI"
    "51440014ID.CO.QRIS.WWW0215ID10200123456780303UMI5204581253033605802ID5911TOKO CONTOH"
    "6007JAKARTA61051011062120708KASIR-0163043ACC")


def _orders_of(api, buyer):
    answer = api.get("/orders", token=buyer["token"])
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def _add_to_cart(page, product, quantity=1):
    page.goto(f"/produk/{product['id']}")
    page.get_by_label("Jumlah").fill(str(quantity))
    page.get_by_role("button", name="Masukkan ke keranjang").click()
    expect(page.get_by_role("heading", name="Keranjang belanja")).to_be_visible()


def _fill_shipping(page, payment="QRIS"):
    page.get_by_label("Nama penerima").fill("Bu Sri Wahyuni")
    page.get_by_label("Nomor telepon").fill("0812-3456-7890")
    page.get_by_label("Alamat pengiriman").fill("Jl. Ijen No. 25, Klojen, Malang 65119")
    page.get_by_label("Cara bayar").select_option(label=payment)


def test_a_buyer_searches_keripik_orders_and_sees_the_order(logged_in_page, api, vendor,
                                                            organizer, buyer):
    name = f"Keripik Tempe Sanan {uuid.uuid4().hex[:6]}"
    business, [product] = shop(api, vendor, organizer, {"name": name})
    answer = api.call("PUT", f"/vendors/{business['id']}/qris", token=vendor["token"],
                      json={"payload": STATIC_QRIS})
    assert answer.status_code == 200, answer.text
    within_the_promise()  # "keripik" is searched by every test: the catalogue holds its words

    page = logged_in_page(buyer)
    page.goto("/")
    page.get_by_label("Cari produk").fill("keripik")
    page.get_by_role("button", name="Cari").click()
    # Other tests of the session list keripik too: the newest first puts this vendor's on top.
    page.get_by_label("Urutkan", exact=True).select_option(label="Terbaru")
    page.get_by_role("button", name="Tampilkan").click()
    page.get_by_role("link", name=name).click()
    page.get_by_label("Jumlah").fill("2")
    page.get_by_role("button", name="Masukkan ke keranjang").click()
    expect(page.get_by_text(f"{name} masuk ke keranjang.")).to_be_visible()
    expect(page.locator(".total")).to_contain_text("Rp 30.000")
    screenshot(page, "keranjang")
    assert accessibility_problems(page) == []

    page.get_by_role("link", name="Lanjut ke pemesanan").click()
    _fill_shipping(page)
    screenshot(page, "pesan")
    assert accessibility_problems(page) == []
    page.get_by_role("button", name="Pesan", exact=True).click()

    expect(page.get_by_text("Pesanan Anda sudah kami terima.")).to_be_visible()
    expect(page.locator("dd.status")).to_have_text("Dipesan")
    expect(page.get_by_role("link", name=name)).to_be_visible()
    qris = page.get_by_role("img", name=re.compile("^Kode QRIS untuk membayar Rp 30.000"))
    expect(qris).to_be_visible()
    expect(page.locator(".qris-payload")).to_contain_text("ID.CO.QRIS.WWW")
    screenshot(page, "pesanan")
    assert accessibility_problems(page) == []

    svg = page.request.get(qris.get_attribute("src"))
    assert svg.status == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.headers["cache-control"] == "no-store"
    assert "<svg" in svg.text()

    page.get_by_role("link", name="Pesanan saya").first.click()
    expect(page.locator("ul.orders li")).to_have_count(1)
    expect(page.locator("ul.orders li")).to_contain_text(name)
    screenshot(page, "pesanan-saya")
    assert accessibility_problems(page) == []
    assert len(_orders_of(api, buyer)) == 1

    page.goto("/keranjang")
    expect(page.get_by_text("Keranjang masih kosong.")).to_be_visible()


def test_a_shipped_part_is_marked_received(logged_in_page, api, vendor, organizer, buyer):
    _, [product] = shop(api, vendor, organizer, {})
    order = api.post("/orders", token=buyer["token"], json={
        "items": [{"product_id": product["id"], "quantity": 1}], "payment_method": "cod",
        "shipping": {"name": "Pak Budi", "phone": "0812-1111-2222",
                     "address": "Jl. Soekarno Hatta 9, Lowokwaru"}}).json()
    for status in ("confirmed", "shipped"):
        assert move(api, vendor, order, status).status_code == 200
    page = logged_in_page(buyer)
    page.goto(f"/pesanan/{order['id']}")
    page.get_by_role("button", name="Pesanan sudah diterima").click()
    expect(page.get_by_text("Terima kasih, pesanan ditandai sudah diterima.")).to_be_visible()
    expect(page.locator("dd.status")).to_have_text("Diterima")
    expect(page.locator("ol.history li")).to_have_count(4)


def test_a_placed_order_can_be_cancelled(logged_in_page, api, vendor, organizer, buyer):
    _, [product] = shop(api, vendor, organizer, {})
    page = logged_in_page(buyer)
    _add_to_cart(page, product)
    page.get_by_role("link", name="Lanjut ke pemesanan").click()
    _fill_shipping(page, payment="Bayar di tempat (COD)")
    page.get_by_role("button", name="Pesan", exact=True).click()
    page.get_by_role("button", name="Batalkan pesanan").click()
    expect(page.get_by_text("Pesanan dibatalkan.")).to_be_visible()
    expect(page.locator("dd.status")).to_have_text("Dibatalkan")


def test_short_stock_is_named_on_the_cart_and_nothing_is_ordered(logged_in_page, api, vendor,
                                                                organizer, buyer):
    _, [product] = shop(api, vendor, organizer, {"stock": 3})
    page = logged_in_page(buyer)
    _add_to_cart(page, product, quantity=3)
    page.get_by_role("link", name="Lanjut ke pemesanan").click()
    _fill_shipping(page)
    assert api.patch(f"/products/{product['id']}", token=vendor["token"],
                     json={"stock": 1}).status_code == 200
    with page.expect_response(lambda answer: answer.request.method == "POST") as posted:
        page.get_by_role("button", name="Pesan", exact=True).click()
    assert posted.value.status == 409
    expect(page.get_by_role("alert").filter(has_text=product["name"])).to_be_visible()
    screenshot(page, "keranjang-stok-kurang")
    assert accessibility_problems(page) == []
    assert _orders_of(api, buyer) == []


def test_the_checkout_names_a_wrong_phone_beside_its_field(logged_in_page, api, vendor,
                                                           organizer, buyer):
    _, [product] = shop(api, vendor, organizer, {})
    page = logged_in_page(buyer)
    _add_to_cart(page, product)
    page.get_by_role("link", name="Lanjut ke pemesanan").click()
    _fill_shipping(page)
    page.get_by_label("Nomor telepon").fill("telepon saya")
    page.get_by_role("button", name="Pesan", exact=True).click()
    expect(page.locator("#phone-error")).to_have_text("Formatnya belum benar.")
    expect(page.get_by_label("Nama penerima")).to_have_value("Bu Sri Wahyuni")
    screenshot(page, "pesan-galat")
    assert accessibility_problems(page) == []


def test_the_same_checkout_form_sent_twice_orders_once(logged_in_page, api, vendor, organizer,
                                                       buyer):
    _, [product] = shop(api, vendor, organizer, {})
    page = logged_in_page(buyer)
    _add_to_cart(page, product)
    page.get_by_role("link", name="Lanjut ke pemesanan").click()
    form = {"csrf_token": page.locator("input[name=csrf_token]").first.input_value(),
            "idempotency_key": page.locator("input[name=idempotency_key]").input_value(),
            "name": "Bu Sri Wahyuni", "phone": "0812-3456-7890",
            "address": "Jl. Ijen No. 25, Klojen", "payment_method": "cod"}
    # The second arrives with the cookie the first was sent with (as when both are in flight):
    # the cart still full, only the marketplace's idempotency key to go by.
    cookie_before = page.context.cookies()
    landed = [page.request.post("/keranjang/pesan", form=form).url]
    page.context.add_cookies(cookie_before)
    landed.append(page.request.post("/keranjang/pesan", form=form).url)
    # Once more, the cart emptied by then: the session remembers the form's key.
    landed.append(page.request.post("/keranjang/pesan", form=form).url)
    assert landed[0] == landed[1] == landed[2]
    assert re.search(r"/pesanan/[0-9a-f-]{36}$", landed[0])
    assert wait_for(lambda: len(_orders_of(api, buyer)) == 1)
    assert len(_orders_of(api, buyer)) == 1


def test_checkout_asks_to_log_in_and_keeps_the_cart(browser_page, api, vendor, organizer,
                                                    buyer):
    _, [product] = shop(api, vendor, organizer, {})
    page = browser_page
    _add_to_cart(page, product)
    page.get_by_role("link", name="Lanjut ke pemesanan").click()
    expect(page).to_have_url(re.compile(r"/masuk\?next="))
    page.get_by_label("E-mail").fill(buyer["email"])
    page.get_by_label("Kata sandi").fill("rahasia-123")
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", name="Pesan sekarang")).to_be_visible()
    expect(page.get_by_text(product["name"])).to_be_visible()


def test_a_stranger_cannot_see_another_buyers_order(logged_in_page, api, vendor, organizer,
                                                    buyer):
    _, [product] = shop(api, vendor, organizer, {})
    order = api.post("/orders", token=buyer["token"], json={
        "items": [{"product_id": product["id"], "quantity": 1}],
        "shipping": {"name": "Pak Budi", "phone": "0812-1111-2222", "address": "Jl. Ijen 1"}})
    assert order.status_code == 201, order.text
    order = order.json()
    stranger = api.new_account("buyer")
    page = logged_in_page(stranger)
    for path in (f"/pesanan/{order['id']}",
                 f"/pesanan/{order['id']}/bagian/{order['parts'][0]['id']}/qris.svg"):
        answer = page.goto(path)
        assert answer.status == 404
    screenshot(page, "pesanan-orang-lain")
    assert accessibility_problems(page) == []
