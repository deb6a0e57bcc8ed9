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


def test_an_empty_inbox_says_what_will_come_and_a_visitor_must_log_in(browser_page,
                                                                       logged_in_page, buyer):
    browser_page.goto("/kotak-masuk")
    assert "/masuk" in browser_page.url
    page = logged_in_page(buyer)
    page.goto("/kotak-masuk")
    expect(page.get_by_text("Belum ada pemberitahuan.")).to_be_visible()
    screenshot(page, "kotak-masuk-kosong")
    assert accessibility_problems(page) == []
