"""A product's photos in a real browser: the vendor uploads one as a phone would (the file
field offers the camera), sees it with its alt text, is told beside the field what is wrong
with a file that is not a photo, and deletes it."""
import io
import os

from playwright.sync_api import expect
from PIL import Image, ImageDraw

from tests.support.browser import accessibility_problems, screenshot
from tests.support.shop import shop


def a_photo_of_keripik():
    image = Image.new("RGB", (1200, 900), (238, 200, 120))
    draw = ImageDraw.Draw(image)
    for row in range(3):
        for column in range(4):
            left, top = 100 + column * 260, 120 + row * 250
            draw.ellipse((left, top, left + 200, top + 160), fill=(190, 130, 50))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def test_a_vendor_uploads_a_photo_and_deletes_it(logged_in_page, api, vendor, organizer):
    _, [product] = shop(api, vendor, organizer, {"name": "Keripik Tempe Sanan Pedas"})
    page = logged_in_page(vendor)
    page.goto(f"/toko/produk/{product['id']}/foto")
    expect(page.get_by_role("heading", name="Foto produk")).to_be_visible()
    field = page.get_by_label("Foto baru")
    assert field.get_attribute("accept") == "image/*"
    assert field.get_attribute("capture") == "environment"
    screenshot(page, "foto-produk-kosong")
    assert accessibility_problems(page) == []

    field.set_input_files({"name": "keripik.jpg", "mimeType": "image/jpeg",
                           "buffer": a_photo_of_keripik()})
    page.get_by_role("button", name="Unggah foto").click()
    expect(page.get_by_text("Foto sudah ditambahkan.")).to_be_visible()
    photo = page.get_by_role("img", name="Foto 1 dari Keripik Tempe Sanan Pedas")
    expect(photo).to_be_visible()
    assert photo.get_attribute("loading") == "lazy"
    assert photo.evaluate("image => image.complete && image.naturalWidth") == 1200
    expect(page.get_by_text("1 dari 5 foto.")).to_be_visible()
    screenshot(page, "foto-produk")
    assert accessibility_problems(page) == []
    images = api.get(f"/products/{product['id']}").json()["images"]
    assert photo.get_attribute("src") in images

    page.get_by_role("button", name="Hapus foto 1").click()
    expect(page.get_by_text("Foto sudah dihapus.")).to_be_visible()
    expect(page.get_by_text("Produk ini belum punya foto.")).to_be_visible()


def test_a_file_that_is_not_a_photo_is_named_beside_the_field(logged_in_page, api, vendor,
                                                              organizer):
    _, [product] = shop(api, vendor, organizer, {})
    page = logged_in_page(vendor)
    page.goto(f"/toko/produk/{product['id']}/foto")
    page.get_by_label("Foto baru").set_input_files({
        "name": "nota.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 nota"})
    page.get_by_role("button", name="Unggah foto").click()
    expect(page.get_by_role("alert")).to_contain_text("bukan foto yang bisa kami pakai")
    expect(page.locator("#photo-error")).to_contain_text("Kirim foto JPEG, PNG atau WebP.")
    expect(page.get_by_label("Foto baru")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "foto-produk-salah")
    assert accessibility_problems(page) == []


def test_another_vendor_cannot_upload_to_the_product(logged_in_page, api, vendor, organizer):
    _, [product] = shop(api, vendor, organizer, {})
    page = logged_in_page(api.new_account("vendor"))
    page.goto(f"/toko/produk/{product['id']}/foto")
    page.get_by_label("Foto baru").set_input_files({
        "name": "foto.jpg", "mimeType": "image/jpeg", "buffer": a_photo_of_keripik()})
    page.get_by_role("button", name="Unggah foto").click()
    expect(page.get_by_role("heading", name="Anda tidak punya akses ke halaman ini")) \
        .to_be_visible()
    assert api.get(f"/products/{product['id']}/photos").json()["items"] == []


def test_a_photo_too_large_is_said_in_indonesian_not_dropped(logged_in_page, api, vendor,
                                                             organizer):
    _, [product] = shop(api, vendor, organizer, {})
    page = logged_in_page(vendor)
    page.goto(f"/toko/produk/{product['id']}/foto")
    page.get_by_label("Foto baru").set_input_files({
        "name": "besar.jpg", "mimeType": "image/jpeg", "buffer": os.urandom(5 * 1024 * 1024 + 1)})
    page.get_by_role("button", name="Unggah foto").click()
    expect(page.locator("#photo-error")).to_contain_text("Foto paling besar 5 MB.")

    page.get_by_label("Foto baru").set_input_files({
        "name": "raksasa.jpg", "mimeType": "image/jpeg", "buffer": os.urandom(9 * 1024 * 1024)})
    page.get_by_role("button", name="Unggah foto").click()
    expect(page.get_by_role("heading", name="Berkas terlalu besar")).to_be_visible()
    assert api.get(f"/products/{product['id']}/photos").json()["items"] == []
