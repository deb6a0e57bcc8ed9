"""Products' photos through the gateway: a vendor uploads one from a phone, the marketplace
keeps a clean JPEG (upright, at most 1600 px, no EXIF location), the gateway serves it at a
stable URL that the product's images and the catalogue carry, and deleting it takes it away.
Whatever is not a usable photo, or is not the uploader's product, is refused in the error
shape."""
import io
import os
import uuid

import requests
from PIL import ExifTags, Image

from tests.support.shop import shop, wait_for

MALANG_GPS = {ExifTags.GPS.GPSLatitudeRef: "S", ExifTags.GPS.GPSLatitude: (7.0, 58.0, 0.0),
              ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (112.0, 37.0, 0.0)}


def phone_photo(width=40, height=20, orientation=6):
    """A JPEG as a phone writes it: stored sideways with an Orientation tag, and where it was
    taken in its EXIF."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Laris Phone"
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(MALANG_GPS)
    out = io.BytesIO()
    Image.new("RGB", (width, height), (180, 40, 40)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def png(width, height):
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 120, 60, 128)).save(out, "PNG")
    return out.getvalue()


def upload(api, vendor, product, data, name="foto.jpg", headers=None):
    return api.post(f"/products/{product['id']}/photos", token=vendor and vendor["token"],
                    headers=headers, files={"photo": (name, data, "image/jpeg")})


def served(system, url, headers=None):
    """The photo as a browser fetches it: no token."""
    return requests.get(system.url(url), headers=headers, timeout=10)


def images_of(api, product):
    answer = api.get(f"/products/{product['id']}")
    assert answer.status_code == 200, answer.text
    return answer.json()["images"]


def test_a_phone_photo_is_served_upright_without_its_exif_at_a_stable_url(api, system, vendor,
                                                                          organizer):
    _, [product] = shop(api, vendor, organizer, {})
    answer = upload(api, vendor, product, phone_photo())
    assert answer.status_code == 201, answer.text
    photo = answer.json()
    assert photo["url"] == f"/api/v1/products/{product['id']}/photos/{photo['id']}.jpg"
    assert (photo["width"], photo["height"]) == (20, 40)

    jpeg = served(system, photo["url"])
    assert jpeg.status_code == 200
    assert jpeg.headers["Content-Type"] == "image/jpeg"
    assert "immutable" in jpeg.headers["Cache-Control"]
    assert "max-age=31536000" in jpeg.headers["Cache-Control"]
    image = Image.open(io.BytesIO(jpeg.content))
    assert image.format == "JPEG" and image.size == (20, 40)
    assert dict(image.getexif()) == {} and "exif" not in image.info
    assert b"Laris Phone" not in jpeg.content
    again = served(system, photo["url"], headers={"If-None-Match": jpeg.headers["ETag"]})
    assert again.status_code == 304

    assert wait_for(lambda: photo["url"] in images_of(api, product)), images_of(api, product)
    listing = api.get("/products", params={"business_id": product["business_id"]}).json()
    assert photo["url"] in listing["items"][0]["images"]
    listed = api.get(f"/products/{product['id']}/photos").json()["items"]
    assert [item["id"] for item in listed] == [photo["id"]]


def test_a_large_png_is_fitted_and_a_product_keeps_at_most_five(api, system, vendor,
                                                                organizer):
    _, [product] = shop(api, vendor, organizer, {})
    first = upload(api, vendor, product, png(2400, 1200), name="logo.png")
    assert first.status_code == 201, first.text
    assert (first.json()["width"], first.json()["height"]) == (1600, 800)
    assert Image.open(io.BytesIO(served(system, first.json()["url"]).content)).size == \
        (1600, 800)
    for _ in range(4):
        assert upload(api, vendor, product, phone_photo()).status_code == 201
    sixth = upload(api, vendor, product, phone_photo())
    assert sixth.status_code == 409, sixth.text
    assert sixth.json()["error"]["code"] == "conflict"
    assert len(wait_for(lambda: len(images_of(api, product)) == 5 and images_of(api, product))) \
        == 5


def test_what_is_not_a_usable_photo_of_ones_own_product_is_refused(api, vendor, organizer):
    _, [product] = shop(api, vendor, organizer, {})
    not_an_image = upload(api, vendor, product, b"%PDF-1.7 not a photo", name="surat.pdf")
    assert not_an_image.status_code == 422, not_an_image.text
    assert not_an_image.json()["error"]["fields"]["photo"]

    just_too_big = upload(api, vendor, product, os.urandom(5 * 1024 * 1024 + 1))
    assert just_too_big.status_code == 413, just_too_big.text
    assert just_too_big.json()["error"]["code"] == "payload_too_large"
    far_too_big = upload(api, vendor, product, os.urandom(7 * 1024 * 1024))
    assert far_too_big.status_code == 413, far_too_big.text
    assert far_too_big.json()["error"]["code"] == "payload_too_large"

    no_field = api.post(f"/products/{product['id']}/photos", token=vendor["token"],
                        data=phone_photo(), headers={"Content-Type": "image/jpeg"})
    assert no_field.status_code == 422, no_field.text

    another_vendor = api.new_account("vendor")
    assert upload(api, another_vendor, product, phone_photo()).status_code == 403
    assert upload(api, None, product, phone_photo()).status_code == 401
    assert api.get(f"/products/{product['id']}/photos").json()["items"] == []


def test_a_retried_upload_with_its_idempotency_key_adds_one_photo(api, vendor, organizer):
    _, [product] = shop(api, vendor, organizer, {})
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = upload(api, vendor, product, phone_photo(), headers=key)
    retried = upload(api, vendor, product, phone_photo(), headers=key)
    assert first.status_code == retried.status_code == 201
    assert first.json()["id"] == retried.json()["id"]
    assert len(api.get(f"/products/{product['id']}/photos").json()["items"]) == 1


def test_a_deleted_photo_leaves_the_product_and_is_no_longer_served(api, system, vendor,
                                                                    organizer):
    _, [product] = shop(api, vendor, organizer, {})
    photo = upload(api, vendor, product, phone_photo()).json()
    assert wait_for(lambda: photo["url"] in images_of(api, product))
    path = f"/products/{product['id']}/photos/{photo['id']}"

    another_vendor = api.new_account("vendor")
    assert api.call("DELETE", path, token=another_vendor["token"]).status_code == 403
    deleted = api.call("DELETE", path, token=vendor["token"])
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["id"] == photo["id"]
    assert served(system, photo["url"]).status_code == 404
    assert wait_for(lambda: photo["url"] not in images_of(api, product))
    assert api.call("DELETE", path, token=vendor["token"]).status_code == 404
