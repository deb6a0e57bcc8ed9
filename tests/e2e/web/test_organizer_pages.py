"""The organizers' desk in a real browser: verifying a business a vendor registered, running
an expo's allocation and reading each decision's reasons, freeing a booth, creating an expo
with its booths, and the refusals (a note is required to reject, vendors are not organizers,
an unknown expo)."""
import datetime as dt
import uuid

from playwright.sync_api import expect

from tests.e2e.web.test_expo_pages import (applicants, apply, expo_with_booths,
                                           run_allocation)
from tests.support.browser import accessibility_problems, screenshot


def pending_business(api, name=None):
    vendor = api.new_account("vendor")
    name = name or f"Keripik Tempe Bu Sri {uuid.uuid4().hex[:6]}"
    return vendor, api.register_business(vendor, name=name, sector="kuliner")


def test_an_organizer_verifies_a_business_and_runs_the_allocation(
        logged_in_page, api, organizer):
    vendor, business = pending_business(api)
    page = logged_in_page(organizer)

    page.get_by_role("link", name="Meja organizer").click()
    expect(page.get_by_role("heading", name="Meja organizer")).to_be_visible()
    screenshot(page, "admin-meja")
    assert accessibility_problems(page) == []
    page.get_by_role("link", name="Lihat semua usaha yang menunggu verifikasi").click()
    expect(page.get_by_role("heading", name="Usaha menunggu verifikasi")).to_be_visible()
    screenshot(page, "admin-verifikasi")
    assert accessibility_problems(page) == []

    page.get_by_role("link", name=business["name"]).click()
    expect(page.get_by_role("heading", name=business["name"])).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text(business["nib"])
    screenshot(page, "admin-tinjau-usaha")
    assert accessibility_problems(page) == []
    page.get_by_role("button", name="Verifikasi usaha").click()
    expect(page.get_by_text("Usaha sudah diverifikasi.")).to_be_visible()
    assert api.get(f"/businesses/{business['id']}").json()["status"] == "verified"

    # An expo set up through the API: three booths in a row, the business just verified and
    # two more cooks applied. Same sector never side by side: two placed, one waitlisted.
    expo = expo_with_booths(api, organizer)
    apply(api, expo, vendor, business)
    applicants(api, organizer, expo, 2)
    page.goto("/admin")
    page.get_by_role("link", name=expo["name"]).click()
    expect(page.get_by_text("3 pendaftaran; 3 menunggu alokasi")).to_be_visible()
    page.get_by_role("button", name="Jalankan alokasi").click()

    expect(page.get_by_text("Alokasi selesai: 2 ditempatkan, 1 di daftar tunggu.")).to_be_visible()
    decisions = page.locator("#keputusan").locator("xpath=..")
    placed = decisions.locator("ul.decisions").first.locator(":scope > li")
    expect(placed).to_have_count(2)
    for index in range(2):
        expect(placed.nth(index).locator("ul.reasons li").first).not_to_be_empty()
    expect(placed.first).to_contain_text("zona pilihan (kuliner) terpenuhi")
    waitlist = decisions.locator("ol.decisions > li")
    expect(waitlist).to_have_count(1)
    expect(waitlist).to_contain_text("posisi 1 dalam daftar tunggu")
    screenshot(page, "admin-expo-alokasi")
    assert accessibility_problems(page) == []


def test_freeing_a_booth_offers_it_to_the_first_in_line(logged_in_page, api, organizer):
    expo = expo_with_booths(api, organizer)
    applicants(api, organizer, expo, 3)
    code = run_allocation(api, organizer, expo)["allocated"][0]["booth_code"]
    page = logged_in_page(organizer)
    page.goto(f"/admin/expo/{expo['id']}")
    page.get_by_role("button", name=f"Lepas stan {code}").click()
    expect(page.get_by_text(f"Stan {code} dilepas dan ditawarkan ke pendaftar berikutnya")
           ).to_be_visible()
    booth = page.locator("ul.booths li", has_text=code).last
    expect(booth).to_contain_text("Ditawarkan")
    expect(page.locator("ol.decisions > li")).to_have_count(0)


def test_a_booth_is_placed_by_hand_only_within_the_rules_and_blocked_with_a_reason(
        logged_in_page, api, organizer):
    expo = expo_with_booths(api, organizer)
    applicants(api, organizer, expo, 3)
    waiting = run_allocation(api, organizer, expo)["waitlisted"][0]
    page = logged_in_page(organizer)
    page.goto(f"/admin/expo/{expo['id']}")
    page.get_by_role("link", name="A-02").click()
    expect(page.get_by_role("heading", name="Stan A-02")).to_be_visible()

    # A-02 sits between two kuliner exhibitors: a third cook there breaks rule 5.
    page.get_by_label("Pendaftar").select_option(waiting["application_id"])
    page.get_by_label("Alasan penempatan").fill("Permintaan Dinas")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Tempatkan di stan A-02").click()
    assert navigation.value.status == 422
    expect(page.get_by_role("alert")).to_contain_text("melanggar aturan alokasi")
    expect(page.get_by_label("Pendaftar")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Alasan penempatan")).to_have_value("Permintaan Dinas")
    screenshot(page, "admin-stan")
    assert accessibility_problems(page) == []

    page.get_by_role("button", name="Blokir stan").click()
    expect(page.locator("#reason-error")).to_contain_text("Wajib diisi")
    page.get_by_label("Alasan (disimpan di riwayat stan)").fill("Ada tiang di tengah stan")
    page.get_by_role("button", name="Blokir stan").click()
    expect(page.get_by_text("Stan A-02 diblokir.")).to_be_visible()
    expect(page.locator("ol.history")).to_contain_text("Ada tiang di tengah stan")
    expect(page.get_by_role("button", name="Buka blokir")).to_be_visible()


def test_an_organizer_marks_a_waitlisted_business_as_flagship(logged_in_page, api, organizer):
    expo = expo_with_booths(api, organizer)
    cooks = applicants(api, organizer, expo, 3)
    waiting = run_allocation(api, organizer, expo)["waitlisted"][0]
    name = next(c["business"]["name"] for c in cooks
                if c["application"]["id"] == waiting["application_id"])
    page = logged_in_page(organizer)
    page.goto(f"/admin/expo/{expo['id']}")
    page.get_by_role("button", name=f"Tandai {name} sebagai produk unggulan").click()
    expect(page.get_by_text("Ditandai sebagai produk unggulan.")).to_be_visible()
    expect(page.locator("ol.decisions > li")).to_contain_text("produk unggulan")


def test_rejecting_without_a_note_is_refused_beside_the_note(logged_in_page, api, organizer):
    _, business = pending_business(api)
    page = logged_in_page(organizer)
    page.goto(f"/admin/verifikasi/{business['id']}")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Tolak usaha").click()
    assert navigation.value.status == 422
    note = page.get_by_label("Catatan untuk pemilik usaha")
    expect(note).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#note-error")).to_contain_text("Wajib diisi bila menolak usaha.")
    screenshot(page, "admin-tolak-tanpa-catatan")
    assert accessibility_problems(page) == []

    note.fill("NIB tidak cocok dengan nama usaha di OSS.")
    page.get_by_role("button", name="Tolak usaha").click()
    expect(page.get_by_text("Usaha ditolak; pemiliknya diberi tahu alasannya.")).to_be_visible()
    assert api.get(f"/businesses/{business['id']}",
                   token=organizer["token"]).json()["status"] == "rejected"


def test_an_organizer_confirms_a_claimed_certification(logged_in_page, api, organizer):
    vendor, business = pending_business(api)
    valid_until = (dt.date.today() + dt.timedelta(days=365)).isoformat()
    claimed = api.post(f"/businesses/{business['id']}/certifications", token=vendor["token"],
                       json={"kind": "halal", "number": "ID35110000999990001",
                             "valid_until": valid_until})
    assert claimed.status_code == 201, claimed.text
    page = logged_in_page(organizer)
    page.goto(f"/admin/verifikasi/{business['id']}")
    certification = page.locator("ul.certifications li")
    expect(certification).to_contain_text("Diajukan")
    certification.get_by_role("button", name="Konfirmasi").click()
    expect(page.get_by_text("Sertifikasi sudah ditinjau.")).to_be_visible()
    expect(page.locator("ul.certifications li")).to_contain_text("Dikonfirmasi")


def test_an_organizer_creates_an_expo_and_adds_its_booths(logged_in_page, organizer):
    page = logged_in_page(organizer)
    page.goto("/admin")
    page.get_by_role("link", name="Buat expo baru").click()
    screenshot(page, "admin-expo-baru")
    assert accessibility_problems(page) == []
    name = f"Expo Kuliner Ijen {uuid.uuid4().hex[:6]}"
    starts = dt.date.today() + dt.timedelta(days=40)
    page.get_by_label("Nama expo").fill(name)
    page.get_by_label("Tempat").fill("Jl. Ijen, Klojen")
    page.get_by_label("Hari pertama").fill(starts.isoformat())
    page.get_by_label("Hari terakhir").fill((starts - dt.timedelta(days=1)).isoformat())
    page.get_by_label("Zona, satu per baris").fill("kuliner: kuliner, pertanian\nkerajinan")
    page.get_by_role("button", name="Buat expo").click()
    expect(page.locator("#ends_on-error")).to_contain_text("hari pertama")

    page.get_by_label("Hari terakhir").fill((starts + dt.timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Buat expo").click()
    expect(page.get_by_text("Expo sudah dibuat.")).to_be_visible()
    expect(page.get_by_role("heading", name=name)).to_be_visible()

    page.get_by_role("link", name="Tambah stan").click()
    for code, x in (("K-01", "0"), ("K-02", "1,5")):
        page.get_by_label("Kode stan").fill(code)
        page.get_by_label("Zona").select_option("kuliner")
        page.get_by_label("Tipe stan").select_option("inline")
        page.get_by_label("Luas (m²)").fill("9")
        page.get_by_label("Harga sewa (Rp)").fill("1.500.000")
        page.get_by_label("Jarak dari kiri (m)").fill(x)
        page.get_by_label("Jarak dari atas (m)").fill("0")
        page.get_by_label("Lebar (m)").fill("3")
        page.get_by_label("Panjang (m)").fill("3")
        page.get_by_role("button", name="Tambah stan").click()
    # K-02 at 1.5 m overlaps K-01: the plan refuses it and the form keeps what was typed.
    expect(page.get_by_role("alert")).to_contain_text("Stan bertumpuk di denah.")
    expect(page.get_by_label("Kode stan")).to_have_value("K-02")
    screenshot(page, "admin-stan-baru")
    assert accessibility_problems(page) == []
    page.get_by_label("Jarak dari kiri (m)").fill("3")
    page.get_by_role("button", name="Tambah stan").click()
    expect(page.get_by_text("Stan K-02 sudah ditambahkan.")).to_be_visible()
    expect(page.get_by_text("Stan yang sudah ada: K-01, K-02")).to_be_visible()


def test_a_vendor_opening_the_desk_gets_a_403_page(logged_in_page, api):
    page = logged_in_page(api.new_account("vendor"))
    response = page.goto("/admin")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Anda tidak punya akses ke halaman ini")
           ).to_be_visible()
    screenshot(page, "admin-403")


def test_an_unknown_expo_on_the_desk_is_a_404_page(logged_in_page, organizer):
    page = logged_in_page(organizer)
    response = page.goto(f"/admin/expo/{uuid.uuid4()}")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Halaman tidak ditemukan")).to_be_visible()
