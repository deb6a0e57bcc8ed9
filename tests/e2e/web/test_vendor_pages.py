"""The vendor's desk (/toko) in a real browser: businesses, certifications, export readiness,
QRIS, products and incoming orders, with a screenshot and an accessibility check of each page."""
import datetime as dt
import re

from playwright.sync_api import expect

from tests.support.api import unique_nib
from tests.support.browser import accessibility_problems, screenshot
from tests.support.shop import move, place, shop, verified_business

A_YEAR_AHEAD = (dt.date.today() + dt.timedelta(days=365)).isoformat()


def looks_right(page, name):
    screenshot(page, name)
    assert accessibility_problems(page) == []


def test_a_vendor_confirms_a_new_order_and_finds_it_in_the_inbox(
        logged_in_page, api, vendor, organizer, buyer):
    _business, [product] = shop(api, vendor, organizer, {"name": "Keripik Tempe Bu Sri"})
    order = place(api, buyer, (product, 2))
    page = logged_in_page(vendor)

    page.goto("/toko")
    expect(page.get_by_role("heading", name="Toko saya")).to_be_visible()
    expect(page.get_by_text("Pesanan menunggu Anda: 1")).to_be_visible()
    looks_right(page, "toko-meja")

    page.get_by_role("link", name="Pesanan masuk").click()
    expect(page.locator(".card .status")).to_have_text(["Pesanan baru"])
    looks_right(page, "toko-pesanan")

    page.locator(".card h2 a").first.click()
    expect(page).to_have_url(re.compile(f"/toko/pesanan/{order['id']}$"))
    expect(page.get_by_text("2 × Keripik Tempe Bu Sri")).to_be_visible()
    expect(page.get_by_text("Bu Sri Wahyuni, 0812-3456-7890")).to_be_visible()
    looks_right(page, "toko-pesanan-rinci")

    page.get_by_role("button", name="Konfirmasi pesanan").click()
    expect(page.get_by_text("Pesanan dikonfirmasi.")).to_be_visible()
    expect(page.locator("section.card .status")).to_have_text("Dikonfirmasi")
    expect(page.get_by_role("button", name="Tandai sudah dikirim")).to_be_visible()
    expect(page.get_by_role("button", name="Konfirmasi pesanan")).to_have_count(0)

    page.goto("/kotak-masuk")
    expect(page.get_by_role("heading", name=re.compile("Pesanan baru"))).to_be_visible(
        timeout=20_000)


def test_a_move_the_order_no_longer_allows_is_said_not_crashed(
        logged_in_page, api, vendor, organizer, buyer):
    _business, [product] = shop(api, vendor, organizer, {})
    order = place(api, buyer, (product, 1))
    page = logged_in_page(vendor)
    page.goto(f"/toko/pesanan/{order['id']}")
    assert move(api, buyer, order, "cancelled").status_code == 200

    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.get_by_role("button", name="Konfirmasi pesanan").click()
    assert answer.value.status == 409
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("section.card .status")).to_have_text("Dibatalkan")


def test_a_vendor_registers_a_business_with_errors_beside_the_fields(logged_in_page, vendor):
    page = logged_in_page(vendor)
    page.goto("/toko/usaha/baru")
    looks_right(page, "toko-usaha-baru")
    page.get_by_label("Nama usaha").fill("Keripik Apel Batu Bu Ani")
    page.get_by_label("NIB (untuk UMKM, 13 angka)").fill("123")
    page.get_by_label("Sektor").select_option("kuliner")
    page.get_by_label("Kecamatan").select_option("lowokwaru")
    page.get_by_label("Alamat").fill("Jl. Soekarno Hatta No. 9, Lowokwaru")
    page.get_by_label("Nomor HP").fill("0812-1111-2222")
    page.get_by_label("E-mail usaha").fill("apel@example.id")
    page.get_by_label("Plastik").check()
    page.get_by_role("button", name="Daftarkan").click()

    expect(page.get_by_label("NIB (untuk UMKM, 13 angka)")).to_have_attribute(
        "aria-invalid", "true")
    expect(page.locator("#nib-error")).to_have_text("NIB terdiri dari tepat 13 angka.")
    expect(page.get_by_label("Nama usaha")).to_have_value("Keripik Apel Batu Bu Ani")
    looks_right(page, "toko-usaha-baru-salah")

    page.get_by_label("NIB (untuk UMKM, 13 angka)").fill(unique_nib())
    page.get_by_role("button", name="Daftarkan").click()
    expect(page.get_by_text("Usaha Anda terdaftar dan menunggu verifikasi.")).to_be_visible()
    expect(page.get_by_role("heading", name="Keripik Apel Batu Bu Ani")).to_be_visible()
    expect(page.locator("dd.status")).to_have_text("Menunggu verifikasi")


def test_a_verified_business_shows_its_readiness_and_takes_a_certification_claim(
        logged_in_page, api, vendor, organizer):
    business = verified_business(api, vendor, organizer)
    page = logged_in_page(vendor)
    page.goto(f"/toko/usaha/{business['id']}")
    expect(page.locator("dd.status")).to_have_text("Terverifikasi")
    expect(page.get_by_role("heading", name="Kesiapan ekspor")).to_be_visible()
    expect(page.get_by_text("Belum siap. Yang masih kurang:").first).to_be_visible()
    # A verified business's legal identity is not offered for change.
    expect(page.get_by_label("Nama usaha")).to_have_count(0)
    looks_right(page, "toko-usaha")

    page.get_by_label("Jenis sertifikasi").select_option("halal")
    page.get_by_label("Nomor sertifikat").fill("bukan nomor")
    page.get_by_label("Berlaku sampai").fill(A_YEAR_AHEAD)
    page.get_by_role("button", name="Ajukan sertifikasi").click()
    expect(page.locator("#number-error")).to_be_visible()

    page.get_by_label("Nomor sertifikat").fill("ID35110000123456")
    page.get_by_role("button", name="Ajukan sertifikasi").click()
    expect(page.get_by_text("Sertifikasi diajukan; organizer akan memeriksanya.")).to_be_visible()
    expect(page.get_by_text("Diajukan, menunggu pemeriksaan")).to_be_visible()

    page.get_by_label("Alamat").fill("Jl. Sanan No. 14, Purwantoro, Blimbing")
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_text("Data usaha disimpan.")).to_be_visible()
    expect(page.get_by_label("Alamat")).to_have_value("Jl. Sanan No. 14, Purwantoro, Blimbing")


def test_a_rejected_business_shows_the_organizers_note(logged_in_page, api, vendor, organizer):
    business = api.register_business(vendor, name="Batik Celaket Pak Joko")
    assert api.verify(organizer, business["id"], decision="rejected",
                      note="Foto NIB tidak terbaca.").status_code == 200
    page = logged_in_page(vendor)
    page.goto("/toko")
    expect(page.get_by_text("Ditolak oleh organizer: Foto NIB tidak terbaca.")).to_be_visible()
    page.get_by_role("link", name="Batik Celaket Pak Joko").click()
    page.get_by_role("button", name="Ajukan lagi untuk verifikasi").click()
    expect(page.get_by_text("Usaha Anda diajukan lagi untuk verifikasi.")).to_be_visible()
    expect(page.locator("dd.status")).to_have_text("Menunggu verifikasi")


def test_a_vendor_adds_a_product_and_changes_its_price_and_stock(
        logged_in_page, api, vendor, organizer):
    business, _ = shop(api, vendor, organizer, {"name": "Kopi Dampit Robusta"})
    page = logged_in_page(vendor)
    page.goto("/toko/produk/baru")
    looks_right(page, "toko-produk-baru")
    page.get_by_label("Usaha").select_option(business["id"])
    page.get_by_label("Nama produk").fill("Sari Apel Malang")
    page.get_by_label("Kategori").select_option("makanan_minuman")
    page.get_by_label("Harga (Rupiah)").fill("-5")
    page.get_by_label("Stok").fill("20")
    page.get_by_label("Satuan").fill("botol")
    page.get_by_role("button", name="Tambah produk").click()
    expect(page.locator("#price_idr-error")).to_have_text("Harus antara 1 dan 100.000.000.")

    page.get_by_label("Harga (Rupiah)").fill("12.500")
    page.get_by_role("button", name="Tambah produk").click()
    expect(page.get_by_text("Produk ditambahkan.", exact=False)).to_be_visible()
    expect(page.get_by_role("link", name="Foto produk")).to_be_visible()
    looks_right(page, "toko-produk-ubah")

    page.get_by_label("Harga (Rupiah)").fill("14000")
    page.get_by_label("Stok").fill("7")
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_text("Produk disimpan.")).to_be_visible()
    expect(page.get_by_label("Harga (Rupiah)")).to_have_value("14000")

    page.goto("/toko/produk")
    expect(page.get_by_role("link", name="Sari Apel Malang")).to_be_visible()
    expect(page.get_by_text("stok 7 botol")).to_be_visible()
    expect(page.get_by_role("link", name="Kopi Dampit Robusta")).to_be_visible()
    looks_right(page, "toko-produk")


def test_a_hidden_product_stays_on_the_vendors_shelf_with_the_organizers_reason(
        logged_in_page, api, vendor, organizer):
    business, [kept, hidden] = shop(api, vendor, organizer, {"name": "Kripik Apel Batu"},
                                    {"name": "Jamu Sehat Sekali"})
    reason = "Klaim khasiat obat tanpa izin BPOM."
    assert api.post(f"/products/{hidden['id']}/hide", token=organizer["token"],
                    json={"reason": reason}).status_code == 200
    page = logged_in_page(vendor)

    page.goto("/toko/produk")
    shelf = page.locator(f"section[aria-labelledby='rak-{business['id']}']")
    expect(shelf.locator(".card h3")).to_have_text(["Jamu Sehat Sekali", "Kripik Apel Batu"])
    expect(shelf.locator(".card .status")).to_have_text(
        [f"Disembunyikan organizer: {reason}"])
    looks_right(page, "toko-produk-disembunyikan")

    page.goto("/toko")
    expect(page.get_by_text("Produk tampil: 1")).to_be_visible()


def test_a_bad_qris_payload_is_named_beside_the_field(logged_in_page, api, vendor, organizer):
    business = verified_business(api, vendor, organizer)
    page = logged_in_page(vendor)
    page.goto(f"/toko/usaha/{business['id']}/qris")
    expect(page.get_by_text("Usaha ini belum punya QRIS", exact=False)).to_be_visible()
    looks_right(page, "toko-qris")
    page.get_by_label("Teks QRIS").fill("000201bukan-qris")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.get_by_role("button", name="Simpan QRIS").click()
    assert answer.value.status == 422
    expect(page.get_by_label("Teks QRIS")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#payload-error")).to_be_visible()
    looks_right(page, "toko-qris-salah")


def test_another_vendors_product_and_order_are_not_shown(
        logged_in_page, api, vendor, organizer, buyer):
    _business, [product] = shop(api, vendor, organizer, {})
    order = place(api, buyer, (product, 1))
    stranger = api.new_account("vendor")
    page = logged_in_page(stranger)

    assert page.goto(f"/toko/produk/{product['id']}").status == 403
    assert page.goto(f"/toko/pesanan/{order['id']}").status == 404
    assert page.goto(f"/toko/usaha/{_business['id']}").status == 403
    looks_right(page, "toko-bukan-milik")


def test_a_buyer_opening_the_vendors_desk_gets_the_403_page(logged_in_page, buyer):
    page = logged_in_page(buyer)
    assert page.goto("/toko").status == 403
    expect(page.get_by_role("link", name="Toko saya")).to_have_count(0)


def test_a_vendor_ships_a_cod_order_records_its_cash_and_cancels_another_with_a_reason(
        logged_in_page, api, vendor, organizer, buyer):
    _business, [product] = shop(api, vendor, organizer, {"name": "Tempe Sanan Mbak Yuli"})
    shipped = place(api, buyer, (product, 1))
    cancelled = place(api, buyer, (product, 1))
    assert move(api, vendor, shipped, "confirmed").status_code == 200
    page = logged_in_page(vendor)

    page.goto("/toko/pesanan?status=confirmed")
    expect(page.locator(".card .status")).to_have_text(["Dikonfirmasi"])
    page.locator(".card h2 a").click()
    # Cash on delivery is recorded once shipped, not before.
    expect(page.get_by_role("button", name="Tandai sudah dibayar")).to_have_count(0)
    page.get_by_role("button", name="Tandai sudah dikirim").click()
    expect(page.get_by_text("Pesanan ditandai dikirim.")).to_be_visible()
    page.get_by_label("Nomor referensi pembayaran (boleh kosong)").fill("KWT-0042")
    page.get_by_role("button", name="Tandai sudah dibayar").click()
    expect(page.locator(".flash")).to_have_text("Pembayaran dicatat.")
    expect(page.get_by_text("(KWT-0042)")).to_be_visible()
    expect(page.get_by_role("button")).to_have_text(["Keluar"])

    page.goto(f"/toko/pesanan/{cancelled['id']}")
    page.get_by_label("Alasan pembatalan").fill("Stok habis terjual di pasar.")
    page.get_by_role("button", name="Batalkan bagian ini").click()
    expect(page.get_by_text("Pesanan dibatalkan.")).to_be_visible()
    expect(page.locator("section.card .status")).to_have_text("Dibatalkan")
    expect(page.get_by_text("Stok habis terjual di pasar.")).to_be_visible()


def test_a_transfer_order_is_offered_confirming_only_once_its_payment_is_recorded(
        logged_in_page, api, vendor, organizer, buyer):
    _business, [product] = shop(api, vendor, organizer, {"name": "Apel Manalagi Poncokusumo"})
    order = place(api, buyer, (product, 1), payment_method="transfer")
    page = logged_in_page(vendor)

    page.goto(f"/toko/pesanan/{order['id']}")
    expect(page.get_by_role("button", name="Konfirmasi pesanan")).to_have_count(0)
    expect(page.get_by_role("button", name="Batalkan bagian ini")).to_be_visible()
    page.get_by_role("button", name="Tandai sudah dibayar").click()
    expect(page.locator(".flash")).to_have_text("Pembayaran dicatat.")
    expect(page.get_by_role("button", name="Tandai sudah dibayar")).to_have_count(0)
    page.get_by_role("button", name="Konfirmasi pesanan").click()
    expect(page.get_by_text("Pesanan dikonfirmasi.")).to_be_visible()


def test_the_desk_speaks_english_when_asked(logged_in_page, api, vendor, organizer):
    business = verified_business(api, vendor, organizer)
    page = logged_in_page(vendor)
    page.goto("/toko")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="My shop")).to_be_visible()
    expect(page.get_by_text("Products on show: 0")).to_be_visible()
    page.goto(f"/toko/usaha/{business['id']}")
    expect(page.get_by_role("heading", name="Claim a certification")).to_be_visible()
    expect(page.get_by_text("Not ready yet. Still missing:").first).to_be_visible()
    looks_right(page, "toko-usaha-en")
