"""Setting up a shop through the gateway, as vendors and buyers do: a verified business with
products, and orders of them."""
import time
import uuid

from tests.support.db import rows

SHIPPING = {"name": "Bu Sri Wahyuni", "phone": "0812-3456-7890",
            "address": "Jl. Ijen No. 25, Oro-oro Dowo, Klojen, Malang 65119"}


def verified_business(api, vendor, organizer):
    business = api.register_business(vendor)
    decided = api.verify(organizer, business["id"])
    assert decided.status_code == 200, decided.text
    return business


def list_product(api, vendor, business_id, **overrides):
    """Lists a product; waits until the marketplace has heard the business is verified (its
    read model follows the registry's events)."""
    body = {"business_id": business_id, "name": f"Keripik Tempe Sanan {uuid.uuid4().hex[:6]}",
            "description": "Keripik tempe renyah khas Sanan, Malang.",
            "category": "makanan_minuman", "price_idr": 15_000, "stock": 10,
            "unit": "bungkus"} | overrides
    deadline = time.monotonic() + 15
    while True:
        response = api.post("/products", token=vendor["token"], json=body)
        if response.status_code == 201 or time.monotonic() > deadline:
            assert response.status_code == 201, response.text
            return response.json()
        time.sleep(0.2)


def shop(api, vendor, organizer, *products):
    """A verified business of ``vendor`` with the products given as overrides dicts."""
    business = verified_business(api, vendor, organizer)
    return business, [list_product(api, vendor, business["id"], **product)
                      for product in products]


def order_body(*lines, payment_method=None):
    """lines: (product, quantity)."""
    body = {"items": [{"product_id": product["id"], "quantity": quantity}
                      for product, quantity in lines], "shipping": SHIPPING}
    if payment_method:
        body["payment_method"] = payment_method
    return body


def place(api, buyer, *lines, payment_method=None, expect=201, headers=None):
    response = api.post("/orders", token=buyer["token"], headers=headers,
                        json=order_body(*lines, payment_method=payment_method))
    assert response.status_code == expect, response.text
    return response.json()


def stock_of(marketplace_db, product):
    """The product's stock as the marketplace's database holds it: the truth, whatever a
    cache in front of it may say."""
    [row] = rows(marketplace_db, "SELECT stock FROM products WHERE id = %s", (product["id"],))
    return row["stock"]


def move(api, who, order, status, part=None):
    path = (f"/orders/{order['id']}/parts/{part['id']}/status" if part
            else f"/orders/{order['id']}/status")
    return api.post(path, token=who["token"], json={"status": status})


def wait_for(check, timeout=15, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)
