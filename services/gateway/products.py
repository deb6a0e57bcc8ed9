"""Ngalam Laris's catalogue: products of Malang's verified businesses, searchable in
Indonesian, curated by the city's organizers."""
from flask_smorest import Blueprint

from services.gateway.routes import route
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
