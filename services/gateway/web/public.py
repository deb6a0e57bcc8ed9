"""Public pages: the home page, the catalogue, a product and a business's public profile.

The catalogue's search, filters, order and facets are the API's ``GET /products``, answered
the same way (the worker's catalogue index, else the marketplace): the page passes the
visitor's query on as the API does, and a value the marketplace refuses is shown beside its
field, never as an error page.
"""
from flask import request, url_for

from backbone.contracts import DOMESTIC_MARKET, KECAMATAN
from services.gateway import catalogue_cache
from services.gateway.web import i18n
from services.gateway.web.pages import (N_, attempt, call, nav_item, render,
                                        web_blueprint)
from services.marketplace.contract import CATEGORIES, SORTS

blp = web_blueprint("public")

nav_item("web_public.home", N_("Beranda"), order=10)
nav_item("web_public.catalogue", N_("Katalog"), order=20)

HOME_SHELF = 8
CATALOGUE_PAGE = 24
BUSINESS_PRODUCTS = 48
# The catalogue's query parameters, as the API's GET /products names them.
CATALOGUE_PARAMETERS = ("q", "category", "kecamatan", "export_ready", "min_price_idr",
                        "max_price_idr", "sort", "cursor")
SORT_LABELS = {"relevance": N_("Paling cocok"), "newest": N_("Terbaru"),
               "price_asc": N_("Harga terendah"), "price_desc": N_("Harga tertinggi")}
KIND_LABELS = {"koperasi": N_("Koperasi"), "umkm": N_("UMKM")}


def kecamatan_name(value):
    return (value or "").replace("_", " ").title()


def labels():
    return {"kecamatan_name": kecamatan_name, "category_options": list(CATEGORIES.items()),
            "kecamatan_options": [(value, kecamatan_name(value)) for value in KECAMATAN],
            "sort_options": [(value, i18n.translated(SORT_LABELS[value])) for value in SORTS],
            "kind_name": lambda kind: i18n.translated(KIND_LABELS.get(kind, kind or ""))}


blp.context_processor(labels)


def products(**query):
    return catalogue_cache.search_page(query)["items"]


@blp.get("/")
def home():
    return render("publik/beranda.html",
                  featured=products(featured="true", limit=HOME_SHELF),
                  export_ready=products(export_ready="true", limit=HOME_SHELF))


@blp.get("/katalog")
def catalogue():
    query = {name: request.args[name].strip() for name in CATALOGUE_PARAMETERS
             if request.args.get(name, "").strip()}
    page, error = attempt(lambda: catalogue_cache.search_page(
        query | {"limit": CATALOGUE_PAGE}))
    if error:
        return render("publik/katalog.html", status=422, query=query, error=error,
                      page={"items": [], "facets": {}}, next_page=None, refine=refine)
    next_page = page["next_cursor"] and url_for("web_public.catalogue",
                                                **query | {"cursor": page["next_cursor"]})
    return render("publik/katalog.html", query=query, error=None, page=page,
                  next_page=next_page, refine=refine)


def refine(query, **changes):
    """The catalogue's address with ``changes`` to its query, back on its first page."""
    refined = {name: value for name, value in (query | changes).items()
               if value and name != "cursor"}
    return url_for("web_public.catalogue", **refined)


@blp.get("/produk/<product_id>")
def product(product_id):
    return render("publik/produk.html", product=call("marketplace", "get_product", product_id))


@blp.get("/usaha/<business_id>")
def business(business_id):
    profile = call("registry", "get_business", business_id)
    markets_abroad = [market for market in profile.get("export_ready") or []
                      if market != DOMESTIC_MARKET]
    return render("publik/usaha.html", business=profile, markets_abroad=markets_abroad,
                  products=products(business_id=business_id, limit=BUSINESS_PRODUCTS))
