"""The expo's pages in a real browser: the public floor plan with its booths linked to their
exhibitors, and the vendor's expo (applying, decisions with reasons, a booth offer to accept,
the booth marked on the plan)."""
import datetime as dt
import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from services.expo.floorplan import render_floorplan
from services.gateway.web.expo import UnknownDrawing, checked_drawing
from tests.support.browser import accessibility_problems, screenshot

ZONES = [{"name": "kuliner", "sectors": ["kuliner", "pertanian"]}]
# Three booths in a row, each touching the next: two cooks never sit side by side, so of three
# kuliner applicants two get and one is waitlisted.
ROW = [{"code": f"A-0{n}", "zone": "kuliner", "booth_type": "inline", "size_m2": 9,
        "price_idr": 1_500_000, "x": 3 * (n - 1), "y": 0, "width": 3, "height": 3}
       for n in (1, 2, 3)]


def expo_with_booths(api, organizer, booths=ROW, **overrides):
    expo = api.create_expo(organizer, zones=ZONES, **overrides)
    added = api.post(f"/expos/{expo['id']}/booths", token=organizer["token"],
                     json={"booths": booths})
    assert added.status_code == 201, added.text
    return expo


def latest_dates():
    starts = dt.date.today() + dt.timedelta(days=700)
    return {"starts_on": starts.isoformat(),
            "ends_on": (starts + dt.timedelta(days=3)).isoformat()}


def verified_vendor(api, organizer, name=None):
    """A new vendor with a verified kuliner business."""
    vendor = api.new_account("vendor")
    overrides = {"name": name} if name else {}
    business = api.register_business(vendor, sector="kuliner", **overrides)
    assert api.verify(organizer, business["id"]).status_code == 200
    return vendor, business


def apply(api, expo, vendor, business):
    """Applies once the expo has heard the business is verified (it follows the registry's
    events)."""
    body = {"business_id": business["id"], "sector": "kuliner", "preferred_zones": ["kuliner"]}
    deadline = time.monotonic() + 15
    while True:
        response = api.post(f"/expos/{expo['id']}/applications", token=vendor["token"],
                            json=body)
        if response.status_code == 201 or time.monotonic() > deadline:
            assert response.status_code == 201, response.text
            return response.json()
        time.sleep(0.2)


def applicants(api, organizer, expo, count):
    """``count`` vendors with a verified business each, applied to ``expo``."""
    found = []
    for _ in range(count):
        vendor, business = verified_vendor(api, organizer)
        found.append({"vendor": vendor, "business": business,
                      "application": apply(api, expo, vendor, business)})
    return found


def run_allocation(api, organizer, expo):
    response = api.post(f"/expos/{expo['id']}/allocations", token=organizer["token"])
    assert response.status_code == 200, response.text
    return response.json()


def test_the_public_plan_links_each_allocated_booth_to_its_exhibitor(
        browser_page, api, organizer):
    expo = expo_with_booths(api, organizer)
    cooks = applicants(api, organizer, expo, 2)
    placed = {p["booth_code"]: p["business_id"]
              for p in run_allocation(api, organizer, expo)["allocated"]}
    page = browser_page

    page.goto("/expo")
    page.get_by_role("link", name=expo["name"]).click()
    expect(page.get_by_role("heading", name=expo["name"], level=1)).to_be_visible()
    plan = page.locator("figure.floorplan svg")
    expect(plan).to_have_attribute("role", "group")
    assert plan.locator("script").count() == 0
    for code, business_id in placed.items():
        link = plan.locator(f'a[href="/usaha/{business_id}"]')
        expect(link).to_have_count(1)
        expect(link).to_have_attribute("aria-label", re.compile(f"^Stan {code}: "))
    names = {c["business"]["id"]: c["business"]["name"] for c in cooks}
    booth_list = page.locator("ul.booths")
    for business_id in placed.values():
        expect(booth_list.get_by_role("link", name=names[business_id])).to_have_attribute(
            "href", f"/usaha/{business_id}")
    expect(booth_list).to_contain_text("A-02")
    expect(booth_list).to_contain_text("Kosong")
    screenshot(page, "expo-denah")
    assert accessibility_problems(page) == []

    page.goto("/expo")
    screenshot(page, "expo-daftar")
    assert accessibility_problems(page) == []


def test_the_plan_speaks_english_when_the_visitor_does(browser_page, api, organizer):
    expo = expo_with_booths(api, organizer)
    page = browser_page
    page.goto(f"/expo/{expo['id']}?lang=en")
    expect(page.get_by_role("heading", name="Booths and exhibitors")).to_be_visible()
    expect(page.locator("figure.floorplan svg title").first).to_contain_text("Floor plan")


def test_an_unknown_expo_is_a_404_page(browser_page):
    response = browser_page.goto(f"/expo/{uuid.uuid4()}")
    assert response.status == 404
    expect(browser_page.get_by_role("heading", name="Halaman tidak ditemukan")).to_be_visible()
    screenshot(browser_page, "expo-404")


def test_a_vendor_applies_in_the_browser_and_sees_the_decision_and_their_booth(
        logged_in_page, api, organizer):
    # /toko/expo shows the latest expos by their first day: this one starts after every
    # other expo of the session.
    expo = expo_with_booths(api, organizer, **latest_dates())
    vendor, business = verified_vendor(api, organizer)
    page = logged_in_page(vendor)

    page.goto("/toko/expo")
    entry = page.locator("article.expo-entry", has_text=expo["name"])
    # The expo hears of the verification through the registry's events: retry the form
    # until it has.
    deadline = time.monotonic() + 15
    while True:
        entry.get_by_role("link", name="Daftar sebagai peserta").click()
        screenshot(page, "expo-daftar-stan")
        assert accessibility_problems(page) == []
        page.get_by_label("Usaha").select_option(business["id"])
        page.get_by_label("Zona pilihan pertama").select_option("kuliner")
        page.get_by_role("button", name="Kirim pendaftaran").click()
        if page.get_by_text("Pendaftaran Anda sudah kami terima.").count() or \
                time.monotonic() > deadline:
            break
        page.goto("/toko/expo")
    expect(page.get_by_text("Pendaftaran Anda sudah kami terima.")).to_be_visible()
    expect(entry).to_contain_text("Menunggu alokasi")

    run_allocation(api, organizer, expo)
    page.reload()
    expect(entry).to_contain_text("Mendapat stan")
    expect(entry.locator("ul.reasons")).to_contain_text("zona pilihan")
    expect(entry.locator("svg g.booth.mine")).to_have_count(1)
    expect(entry).to_contain_text("Stan Anda: A-01")
    screenshot(page, "expo-saya")
    assert accessibility_problems(page) == []


def test_applying_after_the_window_closed_is_said_on_the_form(logged_in_page, api, organizer):
    yesterday = dt.date.today() - dt.timedelta(days=1)
    expo = api.create_expo(organizer, zones=ZONES, applications_open_on=(
        yesterday - dt.timedelta(days=7)).isoformat(), applications_close_on=yesterday.isoformat())
    vendor, business = verified_vendor(api, organizer)
    # Applying to an open expo first: the expo has heard of the verification, so the closed
    # window is what refuses the form.
    apply(api, expo_with_booths(api, organizer), vendor, business)
    page = logged_in_page(vendor)
    page.goto(f"/toko/expo/{expo['id']}/daftar")
    page.get_by_label("Usaha").select_option(business["id"])
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Kirim pendaftaran").click()
    assert navigation.value.status == 409
    expect(page.get_by_role("alert")).to_contain_text("closed")
    expect(page.get_by_label("Usaha")).to_have_value(business["id"])
    assert accessibility_problems(page) == []


def test_a_waitlisted_vendor_accepts_the_booth_offered_before_it_expires(
        logged_in_page, api, organizer):
    expo = expo_with_booths(api, organizer, **latest_dates())
    cooks = applicants(api, organizer, expo, 3)
    result = run_allocation(api, organizer, expo)
    waiting = next(c for c in cooks
                   if c["application"]["id"] == result["waitlisted"][0]["application_id"])
    freed = result["allocated"][0]["booth_code"]
    assert api.call("DELETE", f"/expos/{expo['id']}/allocations/{freed}",
                    token=organizer["token"]).status_code == 200
    page = logged_in_page(waiting["vendor"])

    page.goto("/toko/expo")
    offer = page.locator(".offer")
    expect(offer).to_contain_text(f"Stan {freed} ditawarkan kepada Anda, berlaku sampai")
    screenshot(page, "expo-tawaran")
    assert accessibility_problems(page) == []
    offer.get_by_role("button", name=f"Terima stan {freed}").click()
    expect(page.get_by_text("Tawaran stan Anda terima.")).to_be_visible()
    entry = page.locator("article.expo-entry", has_text=expo["name"])
    expect(entry).to_contain_text("Mendapat stan")
    expect(entry).to_contain_text(f"Stan Anda: {freed}")


def test_the_plan_keeps_an_exhibitors_markup_as_text():
    booth = {"code": "A-01", "zone": "kuliner", "booth_type": "inline", "x": 0, "y": 0,
             "width": 3, "height": 3, "status": "allocated",
             "business_name": '<script>alert(1)</script><a href="javascript:x">'}
    svg = checked_drawing(render_floorplan("Expo <b>", [booth]))
    assert not [element for element in svg.iter() if element.tag.endswith(("script", "}a"))]


@pytest.mark.parametrize("drawing", [
    '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(javascript:x)"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
    '<g x:href="javascript:alert(1)"/></svg>',
    '<!DOCTYPE svg [<!ENTITY e "x">]><svg xmlns="http://www.w3.org/2000/svg">&e;</svg>',
    '<html><script>alert(1)</script></html>',
])
def test_a_drawing_with_anything_the_expo_never_draws_is_refused(drawing):
    with pytest.raises(UnknownDrawing):
        checked_drawing(drawing)


def test_my_expo_asks_an_anonymous_visitor_to_log_in(browser_page):
    browser_page.goto("/toko/expo")
    assert browser_page.url.split("?")[0].endswith("/masuk")
