"""What the marketplace publishes and consumes, and the payload each event carries.

Published (through the outbox), each a fact about one product with the product's version in
the envelope: product.listed, product.changed (the whole product after the change),
product.hidden (with the reason); contracts in backbone/contracts.py. Consumed: every
business.* fact of the registry, into the read model of businesses (apply if newer).
"""

# --- catalogue ---

PRODUCT_LISTED = "product.listed"
PRODUCT_CHANGED = "product.changed"
PRODUCT_HIDDEN = "product.hidden"
# The inbox's name for a snapshot replayed by rebuild_read_model (not a broker event).
BUSINESS_REPLAYED = "business.replayed"

SNAPSHOT_FIELDS = ("name", "description", "category", "price_idr", "stock", "unit",
                   "featured", "hidden")


def product_aggregate(product):
    return ("product", str(product["id"]), product["version"])


def product_snapshot(product, business):
    """The whole product as it stands, with whom to tell (the business's owner)."""
    return {"product_id": str(product["id"]), "business_id": str(product["business_id"]),
            "owner_account_id": str(business["owner_account_id"]),
            "images": list(product["images"])} | {
        field: product[field] for field in SNAPSHOT_FIELDS}


def product_hidden(product, business, reason, hidden_by):
    return product_snapshot(product, business) | {
        "business_name": business["name"], "reason": reason, "hidden_by": str(hidden_by)}

# --- orders ---
