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

# Each a fact about one order (its version in the envelope), announced to the buyer and to
# each vendor about their own part only: order.placed (one part per business, with the
# vendor's account), order.status_changed (one part moved; the order's derived status after
# it), order.part_paid. An order's stock change also announces the products it changed:
# product.changed (the whole product, at its next version) and stock.depleted at zero.
ORDER_PLACED = "order.placed"
ORDER_STATUS_CHANGED = "order.status_changed"
ORDER_PART_PAID = "order.part_paid"
STOCK_DEPLETED = "stock.depleted"


def order_aggregate(order_id, version):
    return ("order", str(order_id), version)


def order_part(part, lines):
    """A part as the order events carry it: the vendor's lines at the ordered prices."""
    return {"part_id": str(part["id"]), "business_id": str(part["business_id"]),
            "account_id": str(part["vendor_account_id"]), "total_idr": part["total_idr"],
            "payment_method": part["payment_method"],
            "lines": [{"product_id": str(line["product_id"]), "name": line["name"],
                       "quantity": line["quantity"], "unit_price_idr": line["unit_price_idr"]}
                      for line in lines]}


def order_placed(order, parts):
    return {"order_id": str(order["id"]), "buyer_account_id": str(order["buyer_account_id"]),
            "total_idr": order["total_idr"], "payment_method": order["payment_method"],
            "parts": [order_part(part, part["lines"]) for part in parts]}


def status_changed(order, part, lines, move):
    """``move``: from_status, to_status, order_status (derived after it) and actor."""
    return {"order_id": str(order["id"]), "buyer_account_id": str(order["buyer_account_id"]),
            "part": order_part(part, lines)} | move


def part_paid(order, part, payment, paid_at):
    return {"order_id": str(order["id"]), "part_id": str(part["id"]),
            "buyer_account_id": str(order["buyer_account_id"]),
            "business_id": str(part["business_id"]),
            "account_id": str(part["vendor_account_id"]), "payment_method": payment.method,
            "amount_idr": payment.amount_idr, "reference": payment.reference,
            "paid_at": paid_at}


def stock_depleted(product):
    return {"product_id": str(product["id"]), "business_id": str(product["business_id"]),
            "owner_account_id": str(product["owner_account_id"]), "name": product["name"]}
