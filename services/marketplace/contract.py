"""The marketplace service's public contract: what the gateway may import.

Request and response schemas of the marketplace's RPC methods (the gateway documents its HTTP
bodies with them), its closed vocabularies and the error codes it answers with. Nothing here
touches the domain or the database: the marketplace validates against these schemas.
"""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from backbone.contracts import KECAMATAN
from backbone.fields import Id, Text
from backbone.pagination import PageQuery

ERROR_CODES = ("validation_error", "not_found", "conflict", "forbidden", "unauthorized",
               "service_busy")

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
        Text(IMAGE_URL_LENGTH, validate=validate.URL(schemes={"https"}, require_tld=True)),
        validate=validate.Length(max=MAX_IMAGES),
        metadata={"description": f"Up to {MAX_IMAGES} https URLs of the product's photos"},
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

    @validates_schema
    def _something_to_change(self, data, **kwargs):
        if not data:
            raise ValidationError("Give at least one field to change.", "_schema")


class ProductHide(Schema):
    reason = Text(REASON_LENGTH, required=True, metadata={
        "description": "Why it breaks the catalogue's rules; the vendor is told"})


class ProductUnhide(Schema):
    reason = Text(REASON_LENGTH, load_default=None, allow_none=True)


class ProductFeature(Schema):
    featured = fields.Boolean(required=True, metadata={
        "description": "true: on the home page (GET /products?featured=true)"})


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
    min_price_idr = _price(load_default=None)
    max_price_idr = _price(load_default=None)
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


# What callers send; a unit test holds every string field in them to backbone.fields.Text.
REQUEST_SCHEMAS = (ProductCreate, ProductChange, ProductHide, ProductUnhide, ProductFeature,
                   ProductListQuery)

# --- orders ---
