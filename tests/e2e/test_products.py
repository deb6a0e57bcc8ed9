"""The catalogue through the gateway: listing, changing, reading, curating products, and a
business's verification deciding whether its products show."""
import subprocess
import sys
import uuid

import pytest

from tests.support.catalogue import (eventually, known_as, list_product, product_body,
                                     verified_business)
from tests.support.db import rows

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def business(api, vendor, organizer, infra):
    return verified_business(api, vendor, organizer, infra)


def _events(infra, event_type, product_id):
    """The events the marketplace published about a product: (payload, aggregate version)."""
    return rows(infra.database_url("marketplace"),
                "SELECT body->'payload' AS payload,"
                " (body->>'aggregate_version')::int AS aggregate_version"
                " FROM outbox WHERE event_type = %s AND body->'payload'->>'product_id' = %s"
                " ORDER BY seq", (event_type, product_id))


def _listed_ids(api, **query):
    response = api.get("/products", params=query | {"limit": 100})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


# --- listing a product ------------------------------------------------------------------------

def test_a_vendor_lists_a_product_of_their_verified_business(api, vendor, business, infra):
    product = list_product(api, vendor, business, price_idr=17500)
    assert product["price_idr"] == 17500 and product["stock"] == 40
    assert product["category_label"] == "Makanan & Minuman"
    assert product["vendor"] == {"id": business["id"], "name": business["name"],
                                 "kecamatan": "blimbing", "export_ready": False}
    assert product["version"] == 1 and product["hidden"] is False
    listed = _events(infra, "product.listed", product["id"])
    assert listed[0]["payload"]["owner_account_id"] == vendor["id"]
    assert listed[0]["aggregate_version"] == 1


def test_a_retried_listing_with_the_same_key_is_one_product(api, vendor, business):
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = product_body(business)
    first = api.post("/products", token=vendor["token"], json=body, headers=key)
    again = api.post("/products", token=vendor["token"], json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert _listed_ids(api, business_id=business["id"]) == [first.json()["id"]]


def test_an_unverified_business_cannot_list(api, vendor, infra):
    pending = api.register_business(vendor)
    assert eventually(lambda: known_as(infra, pending["id"], "pending"))
    response = api.post("/products", token=vendor["token"], json=product_body(pending))
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "conflict"
    assert "not verified" in response.json()["error"]["message"]


def test_a_business_the_marketplace_never_heard_of_cannot_list(api, vendor):
    response = api.post("/products", token=vendor["token"],
                        json=product_body({"id": MISSING}))
    assert response.status_code == 409


def test_a_vendor_cannot_list_for_another_vendors_business(api, business):
    intruder = api.new_account("vendor")
    response = api.post("/products", token=intruder["token"], json=product_body(business))
    assert response.status_code == 403
    assert _listed_ids(api, business_id=business["id"]) == []


def test_a_buyer_cannot_list_products(api, buyer, business):
    response = api.post("/products", token=buyer["token"], json=product_body(business))
    assert response.status_code == 403


def test_listing_needs_a_token(api, business):
    assert api.post("/products", json=product_body(business)).status_code == 401


@pytest.mark.parametrize("bad, field", [
    ({"price_idr": 0}, "price_idr"),
    ({"price_idr": 1500.5}, "price_idr"),
    ({"price_idr": "15000"}, "price_idr"),
    ({"stock": -1}, "stock"),
    ({"category": "elektronik"}, "category"),
    ({"name": ""}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"images": ["http://cdn.laris.example/a.jpg"]}, "images"),
    ({"images": ["javascript:alert(1)"]}, "images"),
    ({"images": [f"https://cdn.laris.example/{n}.jpg" for n in range(9)]}, "images"),
    ({"business_id": "not-an-id"}, "business_id"),
])
def test_bad_fields_are_422_naming_the_field_and_nothing_is_listed(api, vendor, business, bad,
                                                                    field):
    response = api.post("/products", token=vendor["token"], json=product_body(business, **bad))
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]
    assert _listed_ids(api, business_id=business["id"]) == []


# --- changing a product -----------------------------------------------------------------------

def test_the_owner_changes_any_field_and_a_snapshot_event_follows(api, vendor, business, infra):
    product = list_product(api, vendor, business)
    response = api.patch(f"/products/{product['id']}", token=vendor["token"],
                         json={"price_idr": 18000, "stock": 12, "unit": "pak"})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["price_idr"], changed["stock"], changed["unit"]) == (18000, 12, "pak")
    assert changed["version"] == 2 and changed["name"] == product["name"]
    event = _events(infra, "product.changed", product["id"])[-1]
    assert event["aggregate_version"] == 2
    assert event["payload"]["price_idr"] == 18000 and event["payload"]["stock"] == 12
    assert api.get(f"/products/{product['id']}").json()["price_idr"] == 18000


def test_a_patch_that_changes_nothing_keeps_the_version(api, vendor, business, infra):
    product = list_product(api, vendor, business)
    response = api.patch(f"/products/{product['id']}", token=vendor["token"],
                         json={"price_idr": product["price_idr"]})
    assert response.status_code == 200 and response.json()["version"] == 1
    assert _events(infra, "product.changed", product["id"]) == []


def test_another_vendor_cannot_change_a_product(api, vendor, business):
    product = list_product(api, vendor, business)
    intruder = api.new_account("vendor")
    response = api.patch(f"/products/{product['id']}", token=intruder["token"],
                         json={"price_idr": 1})
    assert response.status_code == 403
    assert api.get(f"/products/{product['id']}").json()["price_idr"] == product["price_idr"]


@pytest.mark.parametrize("bad", [{"stock": -5}, {"business_id": MISSING},
                                 {"category": "elektronik"},
                                 {"images": ["http://cdn.laris.example/a.jpg"]}])
def test_a_bad_patch_is_422_and_changes_nothing(api, vendor, business, bad):
    product = list_product(api, vendor, business)
    response = api.patch(f"/products/{product['id']}", token=vendor["token"], json=bad)
    assert response.status_code == 422, response.text
    assert api.get(f"/products/{product['id']}").json()["version"] == 1


@pytest.mark.parametrize("product_id", [MISSING, "not-an-id"])
def test_an_unknown_product_is_404(api, vendor, product_id):
    assert api.get(f"/products/{product_id}").status_code == 404
    assert api.patch(f"/products/{product_id}", token=vendor["token"],
                     json={"stock": 1}).status_code == 404


# --- a business's verification decides what shows ----------------------------------------------

def test_a_rejected_business_has_its_products_hidden_and_shown_again_once_verified(
        api, vendor, organizer, business, infra):
    product = list_product(api, vendor, business)
    assert api.verify(organizer, business["id"], "rejected",
                      note="NIB tidak sesuai").status_code == 200
    assert eventually(lambda: known_as(infra, business["id"], "rejected"))
    assert product["id"] not in _listed_ids(api, business_id=business["id"])
    assert api.get(f"/products/{product['id']}").status_code == 404
    # Not deleted: its owner still sees it, and it returns once the business is verified.
    assert api.get(f"/products/{product['id']}", token=vendor["token"]).status_code == 200
    assert api.post(f"/businesses/{business['id']}/resubmission",
                    token=vendor["token"]).status_code == 200
    assert api.verify(organizer, business["id"]).status_code == 200
    assert eventually(lambda: known_as(infra, business["id"], "verified"))
    assert _listed_ids(api, business_id=business["id"]) == [product["id"]]


# --- curation ----------------------------------------------------------------------------------

def test_an_organizer_hides_a_product_with_a_reason_and_the_vendor_is_told(
        api, vendor, organizer, business, infra):
    product = list_product(api, vendor, business)
    response = api.post(f"/products/{product['id']}/hide", token=organizer["token"],
                        json={"reason": "Foto produk bukan milik penjual."})
    assert response.status_code == 200, response.text
    assert response.json()["hidden"] is True
    assert response.json()["hidden_reason"] == "Foto produk bukan milik penjual."
    hidden = _events(infra, "product.hidden", product["id"])
    assert hidden[0]["payload"]["reason"] == "Foto produk bukan milik penjual."
    assert hidden[0]["payload"]["owner_account_id"] == vendor["id"]
    assert product["id"] not in _listed_ids(api, business_id=business["id"])
    assert api.get(f"/products/{product['id']}").status_code == 404
    assert api.get(f"/products/{product['id']}", token=organizer["token"]).status_code == 200
    told = eventually(lambda: [n for n in api.get("/notifications", token=vendor["token"])
                               .json()["items"] if n["kind"] == "product.hidden"])
    assert told and "Foto produk bukan milik penjual." in told[0]["body"]

    shown = api.post(f"/products/{product['id']}/unhide", token=organizer["token"])
    assert shown.status_code == 200 and shown.json()["hidden_reason"] is None
    assert _listed_ids(api, business_id=business["id"]) == [product["id"]]


def test_only_organizers_curate(api, vendor, business):
    product = list_product(api, vendor, business)
    assert api.post(f"/products/{product['id']}/hide", token=vendor["token"],
                    json={"reason": "x"}).status_code == 403
    assert api.call("PUT", f"/products/{product['id']}/featured", token=vendor["token"],
                    json={"featured": True}).status_code == 403


def test_hiding_needs_a_reason(api, vendor, organizer, business):
    product = list_product(api, vendor, business)
    response = api.post(f"/products/{product['id']}/hide", token=organizer["token"], json={})
    assert response.status_code == 422 and "reason" in response.json()["error"]["fields"]
    assert api.get(f"/products/{product['id']}").status_code == 200


def test_featured_products_for_the_home_page(api, vendor, organizer, business):
    plain = list_product(api, vendor, business)
    star = list_product(api, vendor, business, name="Topeng Malangan Panji")
    response = api.call("PUT", f"/products/{star['id']}/featured", token=organizer["token"],
                        json={"featured": True})
    assert response.status_code == 200 and response.json()["featured"] is True
    featured = _listed_ids(api, business_id=business["id"], featured="true")
    assert featured == [star["id"]]
    assert plain["id"] in _listed_ids(api, business_id=business["id"], featured="false")
    api.call("PUT", f"/products/{star['id']}/featured", token=organizer["token"],
             json={"featured": False})
    assert _listed_ids(api, business_id=business["id"], featured="true") == []


# --- a business's own list: hidden products too -----------------------------------------------

def _own_list(api, account, business, **query):
    return api.get(f"/vendors/{business['id']}/products", token=account["token"], params=query)


def test_the_owner_lists_every_product_newest_first_hidden_ones_with_their_reason(
        api, vendor, organizer, business):
    older = list_product(api, vendor, business, name="Keripik Tempe Original")
    newer = list_product(api, vendor, business, name="Keripik Tempe Pedas")
    reason = "Klaim halal belum ada sertifikatnya."
    assert api.post(f"/products/{older['id']}/hide", token=organizer["token"],
                    json={"reason": reason}).status_code == 200
    assert _listed_ids(api, business_id=business["id"]) == [newer["id"]]

    response = _own_list(api, vendor, business)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(item["id"], item["hidden"], item["hidden_reason"]) for item in items] == [
        (newer["id"], False, None), (older["id"], True, reason)]
    assert response.json()["next_cursor"] is None
    assert [item["id"] for item in _own_list(api, vendor, business, hidden="true")
            .json()["items"]] == [older["id"]]
    assert [item["id"] for item in _own_list(api, vendor, business, hidden="false")
            .json()["items"]] == [newer["id"]]
    assert [item["id"] for item in _own_list(api, organizer, business).json()["items"]] == [
        newer["id"], older["id"]]


def test_the_owners_list_pages_with_a_cursor_and_keeps_a_rejected_business_products(
        api, vendor, organizer, business, infra):
    listed = [list_product(api, vendor, business, name=f"Sambal Pecel Bu Tin {n}")["id"]
              for n in range(3)]
    assert api.verify(organizer, business["id"], "rejected",
                      note="NIB tidak sesuai").status_code == 200
    assert eventually(lambda: known_as(infra, business["id"], "rejected"))
    first = _own_list(api, vendor, business, limit=2).json()
    second = _own_list(api, vendor, business, limit=2, cursor=first["next_cursor"]).json()
    assert [item["id"] for item in first["items"] + second["items"]] == listed[::-1]
    assert second["next_cursor"] is None


def test_only_the_owner_and_organizers_read_a_business_own_list(api, vendor, buyer, business):
    list_product(api, vendor, business)
    intruder = api.new_account("vendor")
    refused = _own_list(api, intruder, business)
    assert refused.status_code == 403
    assert refused.json()["error"] == {
        "code": "forbidden",
        "message": "Only the business's owner and organizers see all its products."}
    assert _own_list(api, buyer, business).status_code == 403
    assert api.get(f"/vendors/{business['id']}/products").status_code == 401


@pytest.mark.parametrize("query, field", [({"limit": "0"}, "limit"),
                                          ({"cursor": "not-a-cursor"}, "cursor"),
                                          ({"hidden": "perhaps"}, "hidden")])
def test_a_bad_query_on_the_own_list_is_422_naming_it(api, vendor, business, query, field):
    response = _own_list(api, vendor, business, **query)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize("business_id", [MISSING, "not-an-id"])
def test_the_own_list_of_an_unknown_business_is_404(api, vendor, business_id):
    response = _own_list(api, vendor, {"id": business_id})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_read_model_is_rebuilt_from_the_registrys_facts(api, vendor, business, infra,
                                                            system):
    product = list_product(api, vendor, business)
    url = infra.database_url("marketplace")
    query = "SELECT id, status, version, export_ready_badge FROM businesses WHERE id = %s"
    before = rows(url, query, (business["id"],))
    result = subprocess.run([sys.executable, "-m", "services.marketplace.rebuild_read_model"],
                            env=system.env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"rebuilt": "marketplace.businesses"' in result.stdout.strip().splitlines()[-1]
    assert rows(url, query, (business["id"],)) == before
    assert _listed_ids(api, business_id=business["id"]) == [product["id"]]
