"""Browser tests of the web pages, in real headless Chromium against the session's system."""
import pytest

from tests.support import browser as chromium


@pytest.fixture(scope="session")
def chromium_browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = chromium.launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium_browser, system):
    """A fresh visitor (own cookies) on a phone-sized screen, in Indonesian."""
    context = chromium_browser.new_context(base_url=system.base_url, viewport=chromium.PHONE,
                                           locale="id-ID")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, email, password="rahasia-123"):
    page.goto("/masuk")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()


@pytest.fixture
def logged_in_page(browser_page):
    """``logged_in_page(account)``: the page, logged in as an account from tests.support.api."""
    def log_in_as(account):
        log_in(browser_page, account["email"], account.get("password", "rahasia-123"))
        return browser_page
    return log_in_as
