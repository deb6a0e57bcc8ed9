"""Helpers for the catalogue's end-to-end tests: businesses the marketplace knows, products."""
import time
import uuid

from tests.support.db import rows


# How soon the catalogue's public reads (GET /products, its pages, the web pages that list
# products) show a write: docs/catalogue-read-path.md, the consistency promise.
PROMISE_SECONDS = 1.0


def within_the_promise():
    """Waits as long as the catalogue may take to show what was just written: a check after
    it holds the promise itself, never a kinder delay."""
    time.sleep(PROMISE_SECONDS)


def eventually(check, seconds=10):
    """Polls ``check`` until it returns something truthy: facts arrive moments later."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def known_as(infra, business_id, status):
    """Whether the marketplace's read model holds the business with this status (read only)."""
    return rows(infra.database_url("marketplace"),
                "SELECT 1 FROM businesses WHERE id = %s AND status = %s", (business_id, status))


def verified_business(api, vendor, organizer, infra, **overrides):
    """A vendor's business, verified, once the marketplace's read model knows it so."""
    business = api.register_business(vendor, **overrides)
    assert api.verify(organizer, business["id"]).status_code == 200
    assert eventually(lambda: known_as(infra, business["id"], "verified"))
    return business


def product_body(business, **overrides):
    return {"business_id": business["id"], "name": f"Keripik Tempe Sanan {uuid.uuid4().hex[:6]}",
            "description": "Keripik tempe renyah khas Sanan, digoreng tipis dengan bumbu "
                           "bawang putih.",
            "category": "makanan_minuman", "price_idr": 15000, "stock": 40,
            "unit": "bungkus",
            "images": ["https://cdn.laris.example/keripik-tempe.jpg"]} | overrides


def list_product(api, vendor, business, **overrides):
    response = api.post("/products", token=vendor["token"],
                        json=product_body(business, **overrides))
    assert response.status_code == 201, response.text
    return response.json()
