"""The inbox in a real browser: newest first, unread ones marked and counted in the menu,
marked read one by one or all at once, a page at a time."""
import re

from playwright.sync_api import expect

from tests.support.browser import accessibility_problems, screenshot
from tests.support.shop import verified_business, wait_for


def _unread_count(api, account):
    answer = api.get("/notifications", token=account["token"], params={"limit": 1})
    assert answer.status_code == 200, answer.text
    return answer.json()["unread_count"]


def _vendor_with_news(api, vendor, organizer, count):
    """``count`` businesses verified: as many notifications in the vendor's inbox."""
    for _ in range(count):
        verified_business(api, vendor, organizer)
    assert wait_for(lambda: _unread_count(api, vendor) == count), _unread_count(api, vendor)
    return vendor


def _menu_link(page):
    return page.get_by_role("navigation", name="Menu utama").get_by_role(
        "link", name=re.compile("^Kotak masuk"))


def test_the_inbox_lists_news_newest_first_and_marks_it_read(logged_in_page, api, vendor,
                                                             organizer):
    page = logged_in_page(_vendor_with_news(api, vendor, organizer, 3))
    page.goto("/kotak-masuk?per=2")
    expect(_menu_link(page).locator(".badge")).to_have_text("3")
    expect(page.get_by_text("3 pemberitahuan belum dibaca.")).to_be_visible()
    notices = page.locator("li.notification")
    expect(notices).to_have_count(2)
    expect(notices.first.locator(".unread-tag")).to_have_text("Baru")
    screenshot(page, "kotak-masuk")
    assert accessibility_problems(page) == []

    newest = notices.first.get_by_role("heading").inner_text()
    notices.first.get_by_role("button", name="Tandai sudah dibaca").click()
    expect(page.get_by_text("2 pemberitahuan belum dibaca.")).to_be_visible()
    assert "per=2" in page.url
    expect(page.locator("li.notification").first.locator(".unread-tag")).to_have_count(0)
    assert page.locator("li.notification").first.get_by_role("heading").inner_text() == \
        newest.removeprefix("Baru ").strip()
    assert _unread_count(api, vendor) == 2

    page.get_by_role("link", name="Pemberitahuan sebelumnya").click()
    expect(page.locator("li.notification")).to_have_count(1)
    expect(page.get_by_role("link", name="Pemberitahuan sebelumnya")).to_have_count(0)


def test_mark_all_read_empties_the_unread_filter_and_the_badge(logged_in_page, api, vendor,
                                                               organizer):
    page = logged_in_page(_vendor_with_news(api, vendor, organizer, 2))
    page.goto("/kotak-masuk?belum=1")
    expect(page.locator("li.notification")).to_have_count(2)
    page.get_by_role("button", name="Tandai semua sudah dibaca").click()
    expect(page.get_by_text("Semua pemberitahuan sudah ditandai dibaca.")).to_be_visible()
    expect(_menu_link(page).locator(".badge")).to_have_count(0)
    assert _unread_count(api, vendor) == 0
    page.get_by_role("link", name="Belum dibaca").click()
    expect(page.get_by_text("Tidak ada pemberitahuan yang belum dibaca.")).to_be_visible()
    assert accessibility_problems(page) == []


def test_an_empty_inbox_says_what_will_come_in_either_language_and_needs_a_log_in(
        browser_page, logged_in_page, buyer):
    browser_page.goto("/kotak-masuk")
    assert "/masuk" in browser_page.url
    page = logged_in_page(buyer)
    page.goto("/kotak-masuk")
    expect(page.get_by_text("Belum ada pemberitahuan.")).to_be_visible()
    screenshot(page, "kotak-masuk-kosong")
    assert accessibility_problems(page) == []
    page.get_by_role("link", name="Atur saluran pemberitahuan").click()
    expect(page.get_by_role("heading", name="Pengaturan notifikasi")).to_be_visible()
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Notification settings")).to_be_visible()
    expect(page.get_by_role("group", name="New order")).to_be_visible()
    page.goto("/kotak-masuk")
    expect(page.get_by_text("No notifications yet.")).to_be_visible()


# --- the notification settings --------------------------------------------------------------

def _preferences(api, account):
    answer = api.get("/notifications/preferences", token=account["token"])
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_vendor_chooses_channels_per_kind_and_quiet_hours(logged_in_page, api, vendor):
    page = logged_in_page(vendor)
    page.goto("/pengaturan/notifikasi")
    expect(page.get_by_role("heading", name="Pengaturan notifikasi")).to_be_visible()
    expect(page.get_by_text(f"alamat akun Anda: {vendor['email']}")).to_be_visible()
    screenshot(page, "pengaturan-notifikasi")
    assert accessibility_problems(page) == []

    new_orders = page.get_by_role("group", name="Pesanan baru")
    expect(new_orders.get_by_label("Webhook")).to_be_checked()
    new_orders.get_by_label("E-mail").uncheck()
    new_orders.get_by_label("WhatsApp").uncheck()
    page.get_by_label("Mulai").fill("21:00")
    page.get_by_label("Selesai").fill("06:30")
    page.get_by_role("button", name="Simpan pilihan").click()
    expect(page.get_by_text("Pilihan pemberitahuan sudah disimpan.")).to_be_visible()

    saved = _preferences(api, vendor)
    assert saved["channels"]["order.placed"] == ["webhook"]
    assert sorted(saved["channels"]["stock.depleted"]) == ["email", "webhook", "whatsapp"]
    assert saved["quiet_hours"] == {"start": "21:00", "end": "06:30"}
    expect(page.get_by_role("group", name="Pesanan baru").get_by_label("E-mail")) \
        .not_to_be_checked()
    expect(page.get_by_label("Mulai")).to_have_value("21:00")


def test_half_quiet_hours_are_named_beside_the_field(logged_in_page, api, buyer):
    page = logged_in_page(buyer)
    page.goto("/pengaturan/notifikasi")
    expect(page.get_by_role("group")).to_have_count(4)  # three kinds and the quiet hours
    expect(page.get_by_label("Webhook")).to_have_count(0)
    page.get_by_label("Mulai").fill("22:00")
    page.get_by_role("button", name="Simpan pilihan").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("#quiet_hours-error")).to_contain_text("end")
    expect(page.get_by_label("Mulai")).to_have_value("22:00")
    assert _preferences(api, buyer)["quiet_hours"] is None
    assert accessibility_problems(page) == []


def test_whatsapp_opt_in_with_a_number_and_out_again(logged_in_page, api, buyer):
    page = logged_in_page(buyer)
    page.goto("/pengaturan/notifikasi")
    page.get_by_label("Nomor WhatsApp").fill("12345")
    page.get_by_role("button", name="Aktifkan WhatsApp").click()
    expect(page.get_by_label("Nomor WhatsApp")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#phone-error")).to_be_visible()
    screenshot(page, "pengaturan-notifikasi-whatsapp-salah")
    assert accessibility_problems(page) == []

    page.get_by_label("Nomor WhatsApp").fill("0812-3456-7890")
    page.get_by_role("button", name="Aktifkan WhatsApp").click()
    expect(page.get_by_text("Nomor WhatsApp sudah disimpan.")).to_be_visible()
    expect(page.get_by_text("WhatsApp +6281234567890")).to_be_visible()
    assert api.get("/notifications/whatsapp", token=buyer["token"]).json()["phone"] == \
        "6281234567890"

    page.get_by_role("button", name="Berhenti menerima WhatsApp").click()
    expect(page.get_by_text("Anda berhenti menerima pemberitahuan lewat WhatsApp.")) \
        .to_be_visible()
    assert api.get("/notifications/whatsapp", token=buyer["token"]).status_code == 404


def test_a_vendor_registers_a_webhook_sees_its_secret_once_and_deletes_it(logged_in_page, api,
                                                                          vendor):
    page = logged_in_page(vendor)
    page.goto("/pengaturan/notifikasi")
    address = "https://toko.example.id/laris/webhook"
    page.get_by_label("Alamat (https://...)").fill(address)
    page.get_by_role("button", name="Daftarkan webhook").click()
    expect(page.locator("#events-error")).to_be_visible()

    page.get_by_label("Alamat (https://...)").fill(address)
    webhook_kinds = page.get_by_role("group", name="Kirim pemberitahuan tentang")
    webhook_kinds.get_by_label("Pesanan baru").check()
    webhook_kinds.get_by_label("Stok produk habis").check()
    page.get_by_role("button", name="Daftarkan webhook").click()
    expect(page.get_by_role("heading", name="Webhook sudah didaftarkan")).to_be_visible()
    expect(page.locator(".secret code")).to_contain_text("whsec_")
    screenshot(page, "pengaturan-notifikasi-webhook")
    assert accessibility_problems(page) == []
    [webhook] = api.get("/webhooks", token=vendor["token"]).json()["items"]
    assert webhook["url"] == address
    assert sorted(webhook["events"]) == ["order.placed", "stock.depleted"]

    page.goto("/pengaturan/notifikasi")
    expect(page.locator(".secret")).to_have_count(0)
    page.get_by_role("button", name=f"Hapus webhook {address}").click()
    expect(page.get_by_text("Webhook sudah dihapus.")).to_be_visible()
    assert api.get("/webhooks", token=vendor["token"]).json()["items"] == []
