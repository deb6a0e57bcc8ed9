"""Signing up, logging in and out, the language switch, error pages and the CSRF check, in a
real browser."""
import re
import uuid

import requests
from playwright.sync_api import expect

from tests.e2e.web.conftest import log_in
from tests.support.browser import accessibility_problems, screenshot


def test_a_visitor_signs_up_logs_out_and_logs_in_again(browser_page):
    page = browser_page
    email = f"pembeli-{uuid.uuid4().hex[:8]}@test.laris.local"
    page.goto("/daftar")
    screenshot(page, "daftar")
    assert accessibility_problems(page) == []
    page.get_by_label("Nama").fill("Bu Rina")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Kata sandi").fill("rahasia-123")
    page.get_by_label("Membeli produk Malang").check()
    page.get_by_role("button", name="Daftar").click()
    expect(page.get_by_text("Akun Anda sudah dibuat.")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "laris_sesi")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.get_by_role("button", name="Keluar").click()
    expect(page.get_by_text("Anda sudah keluar.")).to_be_visible()
    log_in(page, email)
    expect(page.get_by_text("Selamat datang kembali.")).to_be_visible()


def test_a_wrong_password_is_said_on_the_form_in_indonesian(browser_page, api):
    buyer = api.new_account("buyer")
    page = browser_page
    log_in(page, buyer["email"], "bukan-sandinya")
    expect(page.get_by_role("alert")).to_contain_text("E-mail atau kata sandi salah.")
    expect(page.get_by_label("E-mail")).to_have_value(buyer["email"])
    screenshot(page, "masuk-salah")


def test_sign_up_errors_stand_beside_their_fields(browser_page):
    page = browser_page
    page.goto("/daftar")
    page.get_by_label("Nama").fill("Pak Budi")
    page.get_by_label("E-mail").fill("bukan-email")
    page.get_by_label("Kata sandi").fill("pendek")
    page.get_by_role("button", name="Daftar").click()
    email = page.get_by_label("E-mail")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email-error")).to_contain_text("e-mail")
    expect(page.locator("#password-error")).to_be_visible()
    assert accessibility_problems(page) == []


def test_the_english_switch_is_remembered(browser_page):
    page = browser_page
    page.goto("/masuk")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Log in to Ngalam Laris")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto("/daftar")
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    page.get_by_role("link", name="Bahasa Indonesia").click()
    expect(page.get_by_role("heading", name="Buat akun")).to_be_visible()


def test_an_unknown_page_is_a_friendly_404_and_the_api_keeps_json(browser_page, system):
    page = browser_page
    response = page.goto("/tidak-ada-halaman-ini")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Halaman tidak ditemukan")).to_be_visible()
    screenshot(page, "404")
    api_answer = requests.get(system.url("/api/v1/tidak-ada"), timeout=10)
    assert api_answer.status_code == 404
    assert api_answer.json()["error"]["code"] == "not_found"


def test_a_form_posted_without_its_csrf_token_is_refused_and_logs_nobody_in(system, api):
    buyer = api.new_account("buyer")
    session = requests.Session()
    answer = session.post(system.url("/masuk"), data={
        "email": buyer["email"], "password": "rahasia-123"}, allow_redirects=False, timeout=10)
    assert answer.status_code == 400
    assert "kedaluwarsa" in answer.text
    assert "laris_sesi" not in session.cookies or "account_id" not in answer.text


def test_a_log_in_goes_back_only_to_a_page_of_this_site(browser_page, api):
    buyer = api.new_account("buyer")
    page = browser_page
    page.goto("/masuk?next=//evil.example/curi")
    page.get_by_label("E-mail").fill(buyer["email"])
    page.get_by_label("Kata sandi").fill("rahasia-123")
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_text("Selamat datang kembali.")).to_be_visible()
    assert re.match(r"^http://127\.0\.0\.1:\d+/", page.url)


def test_pages_send_a_policy_that_runs_no_script(system):
    answer = requests.get(system.url("/masuk"), timeout=10)
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'none'" in policy and "form-action 'self'" in policy
    assert answer.headers["X-Frame-Options"] == "DENY"
