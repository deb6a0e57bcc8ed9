"""The marketplace service's public contract: what the gateway may import.

Request and response schemas of the marketplace's RPC methods (the gateway documents its HTTP
bodies with them), its closed vocabularies and the error codes it answers with. Nothing here
touches the domain or the database: the marketplace validates against these schemas.
"""
import dataclasses
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from backbone import pagination
from backbone.contracts import KECAMATAN, ORDER_STATUSES, PAYMENT_METHODS
from backbone.fields import Id, Text
from backbone.pagination import PageQuery

ERROR_CODES = ("validation_error", "not_found", "conflict", "forbidden", "unauthorized",
               "service_busy", "payload_too_large")

# --- catalogue ---

# What Malang's UMKM sell, as the city's catalogues group it; labels in Indonesian.
CATEGORIES = {
    "makanan_minuman": "Makanan & Minuman",
    "kopi_teh": "Kopi & Teh",
    "pertanian_olahan": "Hasil Pertanian & Olahan",
    "batik_fashion": "Batik & Fashion",
    "kerajinan": "Kerajinan Tangan",
    "kesehatan_kecantikan": "Jamu, Kesehatan & Kecantikan",
    "jasa": "Jasa",
}
SORTS = ("relevance", "newest", "price_asc", "price_desc")

NAME_LENGTH = 120
DESCRIPTION_LENGTH = 2000
UNIT_LENGTH = 20
DEFAULT_UNIT = "pcs"
MAX_IMAGES = 8
IMAGE_URL_LENGTH = 500
# An https URL on a named host: the whole rule, so the OpenAPI document states it exactly.
# No spaces or control characters, spelt as a range: \s differs between regex engines.
# Or the path of a photo uploaded to the marketplace (PHOTO_PATH), which the gateway serves.
IMAGE_URL_PATTERN = (r"^(https://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:[0-9]{1,5})?(/[^\x00-\x20\x7f]*)?"
                     r"|/api/v1/products/[0-9a-f-]{36}/photos/[0-9a-f-]{36}\.jpg)$")
REASON_LENGTH = 500
QUERY_LENGTH = 100
# Whole Rupiah: a hundred million is beyond any UMKM product, far below bigint.
MAX_PRICE_IDR = 100_000_000
MAX_STOCK = 1_000_000


def _one_of(choices, **kwargs):
    return fields.String(validate=validate.OneOf(list(choices)), **kwargs)


def _price(**kwargs):
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_PRICE_IDR),
                          metadata={"description": "Whole Rupiah"}, **kwargs)


def _image_urls(**kwargs):
    return fields.List(
        Text(IMAGE_URL_LENGTH, validate=validate.Regexp(IMAGE_URL_PATTERN)),
        validate=validate.Length(max=MAX_IMAGES),
        metadata={"description": f"Up to {MAX_IMAGES} https URLs of the product's photos, "
                                 "or the paths of photos uploaded to it (POST "
                                 "/products/{id}/photos)"},
        **kwargs)


class ProductCreate(Schema):
    business_id = Id(required=True)
    name = Text(NAME_LENGTH, required=True)
    description = Text(DESCRIPTION_LENGTH, min_length=0, load_default="")
    category = _one_of(CATEGORIES, required=True)
    price_idr = _price(required=True)
    stock = fields.Integer(strict=True, required=True,
                           validate=validate.Range(min=0, max=MAX_STOCK))
    unit = Text(UNIT_LENGTH, load_default=DEFAULT_UNIT,
                metadata={"description": "e.g. pcs, bungkus, kg, botol, lembar"})
    images = _image_urls(load_default=list)


class ProductChange(Schema):
    """Any of the fields of ProductCreate but the business (a product stays with its maker)."""
    name = Text(NAME_LENGTH)
    description = Text(DESCRIPTION_LENGTH, min_length=0)
    category = _one_of(CATEGORIES)
    price_idr = _price()
    stock = fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_STOCK))
    unit = Text(UNIT_LENGTH)
    images = _image_urls()


class ProductHide(Schema):
    reason = Text(REASON_LENGTH, required=True, metadata={
        "description": "Why it breaks the catalogue's rules; the vendor is told"})


class ProductFeature(Schema):
    featured = fields.Boolean(required=True, metadata={
        "description": "true: on the home page (GET /products?featured=true)"})


# --- catalogue: photos uploaded by the vendor ---

MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp")
# Where the gateway serves a photo; the product's images carry this path. A photo never
# changes, so the path names it for good.
PHOTO_PATH = "/api/v1/products/{product_id}/photos/{photo_id}.jpg"


class ProductPhoto(Schema):
    id = fields.String()
    product_id = fields.String()
    url = fields.String(metadata={"description": "The path the JPEG is served at (also in "
                                                 "the product's images)"})
    width = fields.Integer()
    height = fields.Integer()
    created_at = fields.AwareDateTime()


class ProductPhotoList(Schema):
    items = fields.List(fields.Nested(ProductPhoto), metadata={"description": "Oldest first"})


class ProductListQuery(PageQuery):
    q = Text(QUERY_LENGTH, load_default=None, metadata={
        "description": "Search words in Indonesian; spelling variants and typos still match"})
    category = _one_of(CATEGORIES, load_default=None)
    business_id = Id(load_default=None)
    kecamatan = _one_of(KECAMATAN, load_default=None)
    # Exactly the two spellings a boolean has in a query string.
    export_ready = fields.Boolean(load_default=None, truthy={"true"}, falsy={"false"},
                                  metadata={"description": "The business is ready to export "
                                                           "to at least one foreign market"})
    featured = fields.Boolean(load_default=None, truthy={"true"}, falsy={"false"})
    # A query string carries text: these take "15000" (never "15000.5").
    min_price_idr = fields.Integer(load_default=None,
                                   validate=validate.Range(min=1, max=MAX_PRICE_IDR),
                                   metadata={"description": "Not above max_price_idr"})
    max_price_idr = fields.Integer(load_default=None,
                                   validate=validate.Range(min=1, max=MAX_PRICE_IDR))
    sort = _one_of(SORTS, load_default=None, metadata={
        "description": "Default: relevance with q, else newest"})

    @validates_schema
    def _price_range(self, data, **kwargs):
        low, high = data.get("min_price_idr"), data.get("max_price_idr")
        if low is not None and high is not None and low > high:
            raise ValidationError("Must not be above max_price_idr.", "min_price_idr")


class Vendor(Schema):
    """The public fields of the business that makes the product."""
    id = fields.String()
    name = fields.String()
    kecamatan = fields.String()
    export_ready = fields.Boolean(metadata={"description": "The export-ready badge"})


class Product(Schema):
    id = fields.String()
    business_id = fields.String()
    name = fields.String()
    description = fields.String()
    category = fields.String(metadata={"enum": list(CATEGORIES)})
    category_label = fields.String()
    price_idr = fields.Integer()
    stock = fields.Integer()
    unit = fields.String()
    images = fields.List(fields.String())
    featured = fields.Boolean()
    hidden = fields.Boolean(metadata={"description": "Only its owner and organizers see a "
                                                     "hidden product"})
    hidden_reason = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    vendor = fields.Nested(Vendor)


class FacetCount(Schema):
    value = fields.String()
    label = fields.String()
    count = fields.Integer()


class Facets(Schema):
    category = fields.List(fields.Nested(FacetCount))
    kecamatan = fields.List(fields.Nested(FacetCount))


class ProductPage(Schema):
    items = fields.List(fields.Nested(Product))
    next_cursor = fields.String(allow_none=True)
    facets = fields.Nested(Facets, metadata={
        "description": "Counts per category and kecamatan of everything the query matches"})


class BusinessProductsQuery(PageQuery):
    hidden = fields.Boolean(load_default=None, metadata={
        "description": "true: only the hidden ones; false: only the others; default: all"})


class BusinessProductPage(Schema):
    items = fields.List(fields.Nested(Product))
    next_cursor = fields.String(allow_none=True)


# --- the listing's rules: what a query means, its orders, cursors and facets ---
# The marketplace's SQL and the gateway's catalogue index (services/gateway/
# catalogue_index.py) both answer GET /products by these, so a cursor one gave out is
# read the same by the other.

_NOT_WORD = re.compile(r"[^\w]+")


def normalise_query(text):
    """The words a shopper typed, as the index holds them: compatibility forms folded
    (full-width letters, ligatures), lower case, punctuation as spaces, one space between
    words. None when nothing searchable is left (``q=!!!`` lists as if there were no ``q``)."""
    if text is None:
        return None
    words = _NOT_WORD.sub(" ", unicodedata.normalize("NFKC", text).lower()).split()
    return " ".join(words) or None


@dataclasses.dataclass(frozen=True)
class SortOrder:
    """A listing's order: its key column, how a cursor's value of it is parsed, its direction.
    The id breaks ties in the same direction, so (key, id) is a total, stable order."""
    key: str
    parse: object
    descending: bool


def _decimal(value):
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError("not a number") from None


SORT_ORDERS = {
    "relevance": SortOrder("relevance", _decimal, descending=True),
    "newest": SortOrder("created_at", pagination.timestamp, descending=True),
    "price_asc": SortOrder("price_idr", int, descending=False),
    "price_desc": SortOrder("price_idr", int, descending=True),
}


def sort_of(requested, query_text):
    """The order asked for; by default relevance when searching, else newest first. Relevance
    without a query has nothing to rank by: newest first."""
    if requested == "relevance" and query_text is None:
        return "newest"
    return requested or ("relevance" if query_text else "newest")


def cursor_values(sort, row):
    """A cursor names its order, so one from another order is refused, not misread."""
    return (sort, row[SORT_ORDERS[sort].key], row["id"])


def parse_cursor(sort, cursor):
    """(key value, id) after which the next page starts, or a 422 naming ``cursor``."""
    def same_sort(value):
        if value != sort:
            raise ValueError("a cursor of another order")
        return value
    _, key, last_id = pagination.decode_cursor(cursor, same_sort, SORT_ORDERS[sort].parse,
                                               pagination.identifier)
    return key, last_id


def facet_counts(rows, labels=None):
    """[{value, label, count}] largest first, then by value, from (value, count) rows."""
    ordered = sorted(rows, key=lambda row: (-row["count"], row["value"]))
    return [{"value": row["value"], "label": (labels or {}).get(row["value"], row["value"]),
             "count": row["count"]} for row in ordered]


class SearchRefresh(Schema):
    """What the gateway's catalogue index asks after facts named products or businesses:
    their pages and their relevance to the words it holds."""
    product_ids = fields.List(Id(), required=True, validate=validate.Length(max=1000))
    # Every product of these businesses (a fact about the business may have changed them all).
    business_ids = fields.List(Id(), load_default=list, validate=validate.Length(max=100))
    words = fields.List(Text(QUERY_LENGTH), required=True, validate=validate.Length(max=10_000))


# What callers send; a unit test holds every string field in them to backbone.fields.Text.
REQUEST_SCHEMAS = (ProductCreate, ProductChange, ProductHide, ProductFeature, ProductListQuery,
                   BusinessProductsQuery, SearchRefresh)

# --- orders ---

# Orders a buyer may place in one go; quantities per line.
MAX_ORDER_ITEMS = 50
MAX_QUANTITY = 1000
SHIPPING_NAME_LENGTH = 120
ADDRESS_LENGTH = 500
NOTE_LENGTH = 500
PAYMENT_REFERENCE_LENGTH = 120
# qris.py checks a payload's real limit (512) and names what is wrong; this bounds the text
# before it gets there, paste debris around it included.
QRIS_PAYLOAD_TEXT_LENGTH = 1024
# Indonesian numbers as people write them: 0812-3456-7890, +62 812 3456 7890.
PHONE_PATTERN = r"^\+?[0-9][0-9 .-]{6,22}[0-9]$"
LIST_ROLES = ("buyer", "vendor")
HISTORY_KINDS = ("status", "payment")
ACTORS = ("buyer", "vendor", "timer")


class OrderItem(Schema):
    product_id = Id(required=True)
    quantity = fields.Integer(strict=True, required=True,
                              validate=validate.Range(min=1, max=MAX_QUANTITY))


class Shipping(Schema):
    name = Text(SHIPPING_NAME_LENGTH, required=True)
    phone = Text(30, required=True, validate=validate.Regexp(PHONE_PATTERN))
    address = Text(ADDRESS_LENGTH, required=True)


class OrderCreate(Schema):
    items = fields.List(fields.Nested(OrderItem), required=True,
                        validate=validate.Length(min=1, max=MAX_ORDER_ITEMS), metadata={
                            "description": "From one or several vendors; each product once"})
    shipping = fields.Nested(Shipping, required=True)
    payment_method = _one_of(PAYMENT_METHODS, load_default="cod", metadata={
        "description": "qris or transfer: each part is paid to its vendor before the vendor "
                       "confirms it, within the payment window; cod (the default): on delivery"})


class StatusChange(Schema):
    status = _one_of(ORDER_STATUSES, required=True, metadata={
        "description": "vendor: confirmed, shipped, cancelled (before shipping); buyer: "
                       "received, cancelled (while placed)"})
    note = Text(NOTE_LENGTH, load_default=None, allow_none=True)


class PaymentRecord(Schema):
    reference = Text(PAYMENT_REFERENCE_LENGTH, load_default=None, allow_none=True, metadata={
        "description": "The transfer's or QRIS transaction's reference, if any"})


class OrderListQuery(PageQuery):
    role = _one_of(LIST_ROLES, load_default=None, metadata={
        "description": "Default: the caller's own role"})


class VendorQrisPut(Schema):
    payload = Text(QRIS_PAYLOAD_TEXT_LENGTH, required=True, metadata={
        "description": "The static merchant QRIS payload (the text its QR code holds)"})


class OrderLineView(Schema):
    product_id = fields.String()
    name = fields.String()
    quantity = fields.Integer()
    unit_price_idr = fields.Integer(metadata={"description": "Fixed when the order was placed"})
    line_total_idr = fields.Integer()
    business_id = fields.String()
    part_id = fields.String()


class OrderPartView(Schema):
    id = fields.String()
    business_id = fields.String()
    business_name = fields.String()
    status = fields.String(metadata={"enum": list(ORDER_STATUSES)})
    payment_method = fields.String(metadata={"enum": list(PAYMENT_METHODS)})
    total_idr = fields.Integer()
    payment_due_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "A qris or transfer part unpaid by then is cancelled"})
    paid_at = fields.AwareDateTime(allow_none=True)
    payment_reference = fields.String(allow_none=True)
    items = fields.List(fields.Nested(OrderLineView))
    moves = fields.List(fields.String(metadata={"enum": list(ORDER_STATUSES)}), metadata={
        "description": "The statuses the caller may set on this part now "
                       "(POST /orders/{id}/parts/{part_id}/status); empty when none"})
    payment_recordable = fields.Boolean(metadata={
        "description": "Whether the caller (its vendor) may record its payment now "
                       "(POST /orders/{id}/parts/{part_id}/payment)"})


class HistoryEntry(Schema):
    part_id = fields.String()
    kind = fields.String(metadata={"enum": list(HISTORY_KINDS)})
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    actor = fields.String(metadata={"enum": list(ACTORS)})
    note = fields.String(allow_none=True)
    at = fields.AwareDateTime()


class Order(Schema):
    """A vendor sees only their own parts: items, parts, totals and status are theirs."""
    id = fields.String()
    status = fields.String(metadata={"enum": list(ORDER_STATUSES), "description":
                                     "Derived: the least advanced of the parts not cancelled"})
    total_idr = fields.Integer()
    payment_method = fields.String(metadata={"enum": list(PAYMENT_METHODS)})
    buyer_account_id = fields.String()
    shipping = fields.Nested(Shipping)
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    items = fields.List(fields.Nested(OrderLineView))
    parts = fields.List(fields.Nested(OrderPartView))
    history = fields.List(fields.Nested(HistoryEntry), metadata={
        "description": "Every move and payment, oldest first (GET /orders/{id} only)"})


class OrderPage(Schema):
    items = fields.List(fields.Nested(Order))
    next_cursor = fields.String(allow_none=True)


class VendorQris(Schema):
    business_id = fields.String()
    payload = fields.String()
    merchant_name = fields.String()
    merchant_city = fields.String()
    updated_at = fields.AwareDateTime()


class PartQris(Schema):
    order_id = fields.String()
    part_id = fields.String()
    amount_idr = fields.Integer()
    merchant_name = fields.String()
    merchant_city = fields.String()
    payload = fields.String(metadata={"description": "Dynamic QRIS for exactly amount_idr"})


REQUEST_SCHEMAS = REQUEST_SCHEMAS + (OrderCreate, StatusChange, PaymentRecord, OrderListQuery,
                                     VendorQrisPut)
