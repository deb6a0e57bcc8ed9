"""Ngalam Laris's catalogue: products of Malang's verified businesses, searchable in
Indonesian, curated by the city's organizers."""
import base64

from flask import Response, g, request
from flask_smorest import Blueprint

from services.gateway import auth
from services.gateway.errors import error_response
from services.gateway.http import limit_body, reply
from services.gateway.routes import (BEARER, IDEMPOTENCY_KEY_PARAMETER,
                                     IF_NONE_MATCH_PARAMETER, route)
from services.gateway.rpc import call
from services.marketplace import contract

blp = Blueprint("products", __name__, url_prefix="/api/v1",
                description="The Ngalam Laris catalogue: products, search and curation.")

route(blp, "POST", "/products", "marketplace.list_product", roles=("vendor",),
      body=contract.ProductCreate, response=contract.Product, status=201, idempotent=True,
      description="By the owner of a verified business (403 not the owner, 409 not verified); "
                  "price in whole Rupiah.")
route(blp, "GET", "/products", "marketplace.list_products", caller=False,
      query=contract.ProductListQuery, response=contract.ProductPage, cache="search",
      description="Search in Indonesian (spelling variants and typos still match), filters, "
                  "an order, cursor pages, and counts per category and kecamatan. Hidden "
                  "products and those of businesses not verified never appear.")
route(blp, "GET", "/products/<product_id>", "marketplace.get_product",
      response=contract.Product, cache="product",
      description="With its vendor's public fields. A hidden product is a 404 but to its "
                  "owner and organizers.")
route(blp, "PATCH", "/products/<product_id>", "marketplace.change_product", roles=("vendor",),
      body=contract.ProductChange, response=contract.Product,
      description="By its business's owner only; any of the fields but the business.")
route(blp, "POST", "/products/<product_id>/hide", "marketplace.hide_product",
      roles=("organizer",), body=contract.ProductHide, response=contract.Product,
      description="Hides a product that breaks the catalogue's rules; the vendor is told the "
                  "reason.")
route(blp, "POST", "/products/<product_id>/unhide", "marketplace.unhide_product",
      roles=("organizer",), response=contract.Product)
route(blp, "PUT", "/products/<product_id>/featured", "marketplace.feature_product",
      roles=("organizer",), body=contract.ProductFeature, response=contract.Product,
      description="On or off the home page (GET /products?featured=true).")
route(blp, "GET", "/vendors/<business_id>/products", "marketplace.list_business_products",
      roles=("vendor", "organizer"), query=contract.BusinessProductsQuery,
      response=contract.BusinessProductPage,
      description="Every product of the business, newest first, hidden ones too with the "
                  "organizer's reason (the catalogue lists only those on show): for its owner "
                  "(403 another vendor) and organizers; 404 a business the marketplace does "
                  "not know.")

# --- photos the vendor uploads (the marketplace keeps them as clean JPEGs) -------------------

# The form's own bytes around the photo (boundary, headers, a few fields).
MULTIPART_OVERHEAD_BYTES = 64 * 1024
PHOTO_CACHE_CONTROL = "public, max-age=31536000, immutable"


@blp.route("/products/<product_id>/photos", methods=["POST"], endpoint="add_photo")
@blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["photo"], "properties": {"photo": {
        "type": "string", "format": "binary",
        "description": f"JPEG, PNG or WebP, at most {contract.MAX_PHOTO_BYTES // 2**20} MB"}}}}}},
    parameters=[IDEMPOTENCY_KEY_PARAMETER], security=BEARER)
@blp.alt_response(201, schema=contract.ProductPhoto, success=True, description=(
    f"By its business's owner (403 otherwise). Kept as a JPEG of at most 1600 px without the "
    f"upload's metadata (no EXIF location); its path is appended to the product's images. "
    f"At most {contract.MAX_PHOTOS} photos (409); 422 not an image, 413 too large."))
@auth.requires("vendor")
def add_photo(product_id):
    limit_body(contract.MAX_PHOTO_BYTES + MULTIPART_OVERHEAD_BYTES)
    upload = request.files.get("photo")
    if upload is None:
        return error_response("validation_error", "Some fields are invalid.", {
            "photo": ["Send the photo as the multipart/form-data field photo."]})
    photo = base64.b64encode(upload.read(contract.MAX_PHOTO_BYTES + 1)).decode()
    return reply(call("marketplace", "add_photo", g.caller, product_id, photo,
                      idempotency_key=request.headers.get("Idempotency-Key")), 201)


@blp.route("/products/<product_id>/photos/<photo_id>.jpg", methods=["GET"],
           endpoint="photo_jpeg")
@blp.doc(parameters=[IF_NONE_MATCH_PARAMETER])
@blp.alt_response(200, success=True, content_type="image/jpeg", description=(
    "The photo's JPEG, to anyone with its URL. It never changes (a new photo has a new "
    "URL): cached for a year, and If-None-Match with its ETag is a 304."))
@blp.alt_response(304, description="Not modified: the photo's ETag was sent in If-None-Match. "
                                   "No body.")
def photo_jpeg(product_id, photo_id):
    etag = photo_id.lower()
    if etag in request.if_none_match:
        answer = Response(status=304)
    else:
        answer = Response(base64.b64decode(call("marketplace", "photo_jpeg", product_id,
                                                photo_id)), mimetype="image/jpeg")
    answer.set_etag(etag)
    answer.headers["Cache-Control"] = PHOTO_CACHE_CONTROL
    return answer


route(blp, "GET", "/products/<product_id>/photos", "marketplace.list_photos",
      response=contract.ProductPhotoList,
      description="The photos uploaded to a product, oldest first, to whoever may see it.")
route(blp, "DELETE", "/products/<product_id>/photos/<photo_id>", "marketplace.delete_photo",
      roles=("vendor",), response=contract.ProductPhoto,
      description="By its business's owner only; its path leaves the product's images.")
