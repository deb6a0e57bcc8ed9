"""A product's photos: the vendor uploads them from a phone; the catalogue shows them.

/toko/produk/<product_id>/foto lists the photos uploaded to a product, takes a new one (the
phone offers its camera) and deletes one. The marketplace checks the upload, re-encodes it
without its metadata and says who may change the product.
"""
import base64
import uuid

from flask import request

from backbone.errors import DomainError, ValidationFailed
from services.gateway.http import limit_body
from services.gateway.web import i18n
from services.gateway.web.pages import (FormError, call, done, form_status, render,
                                        requires_login, web_blueprint)
from services.marketplace.contract import MAX_PHOTO_BYTES, MAX_PHOTOS

blp = web_blueprint("photos")
# The form's own bytes around the photo (boundary, CSRF token, idempotency key).
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# Refusals the vendor mends by choosing another photo or deleting one.
PHOTO_REFUSALS = {"validation_error", "payload_too_large", "conflict"}


@blp.before_app_request
def _room_for_a_photo():
    """The upload's request may be larger than a page's form: raised before the CSRF check
    reads the form."""
    if request.endpoint == "web_photos.upload":
        limit_body(MAX_PHOTO_BYTES + MULTIPART_OVERHEAD_BYTES)


@blp.get("/toko/produk/<product_id>/foto")
@requires_login("vendor")
def product_photos(product_id):
    return _page(product_id)


@blp.post("/toko/produk/<product_id>/foto")
@requires_login("vendor")
def upload(product_id):
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return _page(product_id, error=_no_photo_chosen())
    photo = base64.b64encode(upload.read(MAX_PHOTO_BYTES + 1)).decode()
    try:
        call("marketplace", "add_photo", product_id, photo,
             idempotency_key=request.form.get("idempotency_key") or None)
    except DomainError as error:
        if error.code not in PHOTO_REFUSALS:
            raise
        return _page(product_id, error=FormError(error))
    return done(i18n.gettext("Foto sudah ditambahkan."), "web_photos.product_photos",
                product_id=product_id)


@blp.post("/toko/produk/<product_id>/foto/<photo_id>/hapus")
@requires_login("vendor")
def delete(product_id, photo_id):
    call("marketplace", "delete_photo", product_id, photo_id)
    return done(i18n.gettext("Foto sudah dihapus."), "web_photos.product_photos",
                product_id=product_id)


def _page(product_id, error=None):
    product = call("marketplace", "get_product", product_id)
    photos = call("marketplace", "list_photos", product_id)["items"]
    return render("foto/foto_produk.html", status=form_status(error), product=product,
                  photos=photos,
                  error=error, max_photos=MAX_PHOTOS,
                  max_megabytes=MAX_PHOTO_BYTES // (1024 * 1024),
                  idempotency_key=uuid.uuid4().hex)


def _no_photo_chosen():
    return FormError(ValidationFailed(i18n.gettext("Pilih foto dulu."), fields={"photo": [
        i18n.gettext("Pilih foto dari galeri, atau ambil dengan kamera.")]}))
