"""What the marketplace keeps of an uploaded photo: its pixels only, upright, fitted, as a
JPEG; and what it refuses."""
import base64
import io

import pytest
from PIL import ExifTags, Image

from backbone.errors import PayloadTooLarge, ValidationFailed
from services.marketplace import photos


def encoded(image, form, **options):
    out = io.BytesIO()
    image.save(out, form, **options)
    return out.getvalue()


def kept(data):
    photo = photos.catalogue_photo(data)
    return photo, Image.open(io.BytesIO(photo.jpeg))


def test_a_sideways_phone_photo_is_kept_upright_without_its_exif():
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Laris Phone"
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] = "S"
    photo, image = kept(encoded(Image.new("RGB", (60, 30), "red"), "JPEG", exif=exif))
    assert image.format == "JPEG" and image.size == (30, 60) == (photo.width, photo.height)
    assert dict(image.getexif()) == {}
    assert b"Laris Phone" not in photo.jpeg


def test_a_transparent_png_is_flattened_on_white_and_fitted_into_1600_px():
    photo, image = kept(encoded(Image.new("RGBA", (3200, 800), (0, 0, 0, 0)), "PNG"))
    assert (photo.width, photo.height) == (1600, 400)
    assert image.mode == "RGB" and image.getpixel((10, 10)) >= (250, 250, 250)


def test_a_webp_is_kept_and_a_small_photo_is_not_enlarged():
    photo, _ = kept(encoded(Image.new("RGB", (120, 90), "green"), "WEBP"))
    assert (photo.width, photo.height) == (120, 90)


@pytest.mark.parametrize("data", [
    b"%PDF-1.7 not a photo",
    encoded(Image.new("RGB", (20, 20)), "GIF"),
    encoded(Image.new("RGB", (400, 400), "blue"), "JPEG")[:300],  # cut short
])
def test_what_is_not_a_whole_jpeg_png_or_webp_is_refused_naming_the_photo(data):
    with pytest.raises(ValidationFailed) as refused:
        photos.catalogue_photo(data)
    assert refused.value.fields["photo"]


def test_an_image_claiming_too_many_pixels_is_refused_before_it_is_decoded():
    huge = encoded(Image.new("1", (9000, 9000)), "PNG")
    with pytest.raises(ValidationFailed):
        photos.catalogue_photo(huge)


def test_an_upload_over_5_mb_or_not_base64_is_refused():
    with pytest.raises(PayloadTooLarge):
        photos.decoded_upload(base64.b64encode(b"x" * (5 * 1024 * 1024 + 1)).decode())
    with pytest.raises(ValidationFailed):
        photos.decoded_upload("not base64!")
    assert photos.decoded_upload(base64.b64encode(b"abc").decode()) == b"abc"
