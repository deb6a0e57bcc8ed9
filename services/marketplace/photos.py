"""A product's photo as the catalogue keeps it: whatever a phone uploads (JPEG, PNG or WebP up
to 5 MB) is decoded, turned upright, fitted into 1600 px and written again as a plain JPEG.
Nothing of the upload but its pixels survives: no EXIF (a phone's photo carries where it was
taken), no colour profile, no comments, no second frame.
"""
import base64
import binascii
import dataclasses
import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from backbone.errors import PayloadTooLarge, ValidationFailed
from services.marketplace.contract import MAX_PHOTO_BYTES as MAX_UPLOAD_BYTES

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
LONGEST_SIDE = 1600
# A decoded image larger than this is refused before its pixels are read (a small file can
# claim enormous dimensions).
MAX_PIXELS = 40_000_000
JPEG_QUALITY = 85
# Behind an image with transparency (a PNG logo): the catalogue's cards are white.
BACKGROUND = (255, 255, 255)


@dataclasses.dataclass(frozen=True)
class Photo:
    jpeg: bytes
    width: int
    height: int


def decoded_upload(encoded):
    """The upload's bytes from the base64 text the RPC carries, within the size allowed."""
    if not isinstance(encoded, str):
        raise _not_an_image()
    if len(encoded) > (MAX_UPLOAD_BYTES + 2) // 3 * 4:
        raise _too_large()
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise _not_an_image() from None
    if len(data) > MAX_UPLOAD_BYTES:
        raise _too_large()
    return data


def catalogue_photo(data):
    """The JPEG the catalogue keeps of ``data``; a ValidationFailed naming ``photo`` when it
    is not a JPEG, PNG or WebP image that decodes whole."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise _not_an_image()
                image.load()
                upright = ImageOps.exif_transpose(image)
        return _as_jpeg(_opaque(upright))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _not_an_image() from None


def _opaque(image):
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in
                                                image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def _as_jpeg(image):
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # Only what is passed here is written: no exif, icc_profile or comment of the upload.
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return Photo(jpeg=out.getvalue(), width=image.width, height=image.height)


def _not_an_image():
    return ValidationFailed("The photo is not an image we can use.", fields={"photo": [
        "Send a JPEG, PNG or WebP photo."]})


def _too_large():
    return PayloadTooLarge("The photo is too large.", fields={"photo": [
        f"A photo may be at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."]})
