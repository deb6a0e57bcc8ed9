"""Orders through the gateway: stock taken at once or not at all, whatever the concurrency;
one part per vendor, each vendor seeing and moving only theirs; the status machine and its
history; cancels that put stock back once; idempotent retries; prices fixed at order time."""
import concurrent.futures
import uuid

import pytest

from tests.support.db import rows
from tests.support.shop import SHIPPING, move, order_body, place, shop, stock_of, wait_for


@pytest.fixture
def db(infra):
    return infra.database_url("marketplace")


@pytest.fixture
def other_vendor(api):
    return api.new_account("vendor")


def outbox(db, event_type, order_id):
    return [row["body"]["payload"] for row in rows(
        db, "SELECT body FROM outbox WHERE event_type = %s AND body->>'aggregate_id' = %s"
            " ORDER BY seq", (event_type, order_id))]


# --- placing --------------------------------------------------------------------------------

def test_a_multi_vendor_order_has_one_part_per_vendor_each_seeing_only_theirs(
        api, organizer, vendor, other_vendor, buyer, db):
    _, [tempe, kopi] = shop(api, vendor, organizer, {"price_idr": 15_000},
                            {"name": "Kopi Dampit Robusta", "price_idr": 40_000})
    _, [apel] = shop(api, other_vendor, organizer, {"name": "Sari Apel Batu",
                                                    "price_idr": 12_500})

    order = place(api, buyer, (tempe, 3), (kopi, 1), (apel, 2))

    assert order["status"] == "placed" and order["payment_method"] == "cod"
    assert order["total_idr"] == 3 * 15_000 + 40_000 + 2 * 12_500
    assert {item["product_id"]: item["quantity"] for item in order["items"]} == {
        tempe["id"]: 3, kopi["id"]: 1, apel["id"]: 2}
    assert sorted(part["total_idr"] for part in order["parts"]) == [25_000, 85_000]
    assert order["shipping"] == SHIPPING
    assert api.get(f"/orders/{order['id']}", token=buyer["token"]).json()["parts"] == \
        order["parts"]

    seen = api.get(f"/orders/{order['id']}", token=vendor["token"]).json()
    assert [item["product_id"] for item in seen["items"]] == [tempe["id"], kopi["id"]]
    assert len(seen["parts"]) == 1 and seen["total_idr"] == 85_000
    assert {entry["part_id"] for entry in seen["history"]} == {seen["parts"][0]["id"]}
    theirs = api.get(f"/orders/{order['id']}", token=other_vendor["token"]).json()
    assert [item["product_id"] for item in theirs["items"]] == [apel["id"]]
    assert theirs["total_idr"] == 25_000

    [placed] = outbox(db, "order.placed", order["id"])
    assert {part["account_id"]: [line["product_id"] for line in part["lines"]]
            for part in placed["parts"]} == {vendor["id"]: [tempe["id"], kopi["id"]],
                                             other_vendor["id"]: [apel["id"]]}
    assert (stock_of(db, tempe), stock_of(db, kopi), stock_of(db, apel)) == (7, 9, 8)


def test_a_short_item_refuses_the_whole_order_naming_it_and_reserves_nothing(
        api, organizer, vendor, buyer, db):
    _, [tempe, malangan] = shop(api, vendor, organizer, {"stock": 10},
                                {"name": "Batik Malangan Topeng", "stock": 2,
                                 "price_idr": 350_000})

    refused = api.post("/orders", token=buyer["token"],
                       json=order_body((tempe, 4), (malangan, 3)))

    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "conflict" and "Batik Malangan Topeng" in error["message"]
    assert error["fields"] == {"items": {"1": {"quantity": [
        f"Only 2 of Batik Malangan Topeng ({malangan['id']}) left."]}}}
    assert (stock_of(db, tempe), stock_of(db, malangan)) == (10, 2)
    assert api.get("/orders", token=buyer["token"]).json()["items"] == []


def test_many_buyers_racing_for_the_last_units_buy_exactly_the_stock(
        api, organizer, vendor, db):
    _, [tempe] = shop(api, vendor, organizer, {"stock": 7})
    buyers = [api.new_account("buyer") for _ in range(24)]

    def buy(buyer):
        return api.post("/orders", token=buyer["token"], json=order_body((tempe, 1))).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(buy, buyers))

    assert sorted(statuses) == [201] * 7 + [409] * 17
    assert stock_of(db, tempe) == 0
    [sold] = rows(db, "SELECT coalesce(sum(quantity), 0) AS n FROM order_lines"
                      " WHERE product_id = %s", (tempe["id"],))
    assert sold["n"] == 7
    depleted = rows(db, "SELECT body FROM outbox WHERE event_type = 'stock.depleted'"
                        " AND body->>'aggregate_id' = %s", (tempe["id"],))
    assert len(depleted) == 1


def test_a_price_changed_right_before_an_order_is_the_price_charged(
        api, organizer, vendor, buyer):
    _, [kopi] = shop(api, vendor, organizer, {"price_idr": 40_000})
    api.get(f"/products/{kopi['id']}")   # a public read, as a shopper's, before the change
    changed = api.patch(f"/products/{kopi['id']}", token=vendor["token"],
                        json={"price_idr": 42_500})
    assert changed.status_code == 200, changed.text

    order = place(api, buyer, (kopi, 2))

    assert order["items"][0]["unit_price_idr"] == 42_500
    assert order["total_idr"] == 85_000
    assert api.patch(f"/products/{kopi['id']}", token=vendor["token"],
                     json={"price_idr": 50_000}).status_code == 200
    later = api.get(f"/orders/{order['id']}", token=buyer["token"]).json()
    assert later["items"][0]["unit_price_idr"] == 42_500 and later["total_idr"] == 85_000


def test_a_hidden_product_or_one_of_a_rejected_business_is_not_sold(
        api, organizer, vendor, buyer, db):
    business, [tempe, kopi] = shop(api, vendor, organizer, {}, {"name": "Kopi Dampit"})
    hidden = api.post(f"/products/{tempe['id']}/hide", token=organizer["token"],
                      json={"reason": "Foto bukan produk asli."})
    assert hidden.status_code == 200, hidden.text

    refused = api.post("/orders", token=buyer["token"], json=order_body((tempe, 1)))
    assert refused.status_code == 409 and tempe["name"] in refused.json()["error"]["message"]

    rejected = api.verify(organizer, business["id"], decision="rejected",
                          note="Izin usaha kedaluwarsa.")
    assert rejected.status_code == 200, rejected.text
    assert wait_for(lambda: api.post("/orders", token=buyer["token"],
                                     json=order_body((kopi, 1))).status_code == 409)
    assert (stock_of(db, tempe), stock_of(db, kopi)) == (10, 10)


@pytest.mark.parametrize("body, field", [
    ({"items": [], "shipping": SHIPPING}, "items"),
    ({"items": [{"product_id": str(uuid.uuid4()), "quantity": 0}], "shipping": SHIPPING},
     "items"),
    ({"items": [{"product_id": "not-an-id", "quantity": 1}], "shipping": SHIPPING}, "items"),
    ({"items": [{"product_id": str(uuid.uuid4()), "quantity": 1}]}, "shipping"),
    ({"items": [{"product_id": str(uuid.uuid4()), "quantity": 1}],
      "shipping": SHIPPING | {"phone": "call me"}}, "shipping"),
    ({"items": [{"product_id": str(uuid.uuid4()), "quantity": 1}], "shipping": SHIPPING,
      "payment_method": "bitcoin"}, "payment_method"),
])
def test_a_malformed_order_is_a_422_naming_the_field(api, buyer, body, field):
    response = api.post("/orders", token=buyer["token"], json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]


def test_an_unknown_or_repeated_product_is_a_422_naming_the_item(api, organizer, vendor, buyer):
    _, [tempe] = shop(api, vendor, organizer, {})
    unknown = api.post("/orders", token=buyer["token"], json={
        "items": [{"product_id": tempe["id"], "quantity": 1},
                  {"product_id": str(uuid.uuid4()), "quantity": 1}], "shipping": SHIPPING})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["fields"] == {"items": {"1": {"product_id": [
        "No such product."]}}}
    twice = api.post("/orders", token=buyer["token"],
                     json=order_body((tempe, 1), (tempe, 2)))
    assert twice.status_code == 422 and "1" in twice.json()["error"]["fields"]["items"]


def test_only_buyers_order_and_only_with_a_token(api, organizer, vendor):
    _, [tempe] = shop(api, vendor, organizer, {})
    assert api.post("/orders", json=order_body((tempe, 1))).status_code == 401
    assert api.post("/orders", token=vendor["token"],
                    json=order_body((tempe, 1))).status_code == 403


# --- idempotency ----------------------------------------------------------------------------

def test_a_retry_with_the_same_key_gives_the_same_order_and_takes_stock_once(
        api, organizer, vendor, buyer, db):
    _, [tempe] = shop(api, vendor, organizer, {"stock": 10})
    key = {"Idempotency-Key": f"order-{uuid.uuid4()}"}

    first = place(api, buyer, (tempe, 2), headers=key)
    again = place(api, buyer, (tempe, 2), headers=key)

    assert again == first
    assert stock_of(db, tempe) == 8
    assert len(api.get("/orders", token=buyer["token"]).json()["items"]) == 1

    other_body = api.post("/orders", token=buyer["token"], headers=key,
                          json=order_body((tempe, 3)))
    assert other_body.status_code == 422
    assert "Idempotency-Key" in other_body.json()["error"]["fields"]
    assert stock_of(db, tempe) == 8


def test_concurrent_retries_with_one_key_make_one_order(api, organizer, vendor, buyer, db):
    _, [tempe] = shop(api, vendor, organizer, {"stock": 10})
    key = {"Idempotency-Key": f"order-{uuid.uuid4()}"}

    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: api.post(
            "/orders", token=buyer["token"], headers=key, json=order_body((tempe, 1))),
            range(6)))

    assert [answer.status_code for answer in answers] == [201] * 6
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert stock_of(db, tempe) == 9


# --- reading --------------------------------------------------------------------------------

def test_nobody_else_reads_an_order(api, organizer, vendor, other_vendor, buyer):
    _, [tempe] = shop(api, vendor, organizer, {})
    order = place(api, buyer, (tempe, 1))
    stranger = api.new_account("buyer")

    for who in (stranger, other_vendor):
        response = api.get(f"/orders/{order['id']}", token=who["token"])
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert api.get(f"/orders/{order['id']}").status_code == 401
    assert api.get(f"/orders/{order['id']}", token=organizer["token"]).status_code == 403
    assert api.get("/orders/not-an-order", token=buyer["token"]).status_code == 404
    assert api.get(f"/orders/{uuid.uuid4()}", token=buyer["token"]).status_code == 404
    assert api.get("/orders", token=stranger["token"]).json()["items"] == []


def test_orders_are_listed_newest_first_in_pages_for_each_side(
        api, organizer, vendor, other_vendor, buyer):
    _, [tempe] = shop(api, vendor, organizer, {"stock": 50})
    _, [apel] = shop(api, other_vendor, organizer, {"name": "Sari Apel Batu"})
    placed = [place(api, buyer, (tempe, 1))["id"], place(api, buyer, (tempe, 1), (apel, 1))["id"],
              place(api, buyer, (tempe, 2))["id"]]

    first = api.get("/orders?limit=2", token=buyer["token"]).json()
    rest = api.get(f"/orders?limit=2&cursor={first['next_cursor']}",
                   token=buyer["token"]).json()
    assert [o["id"] for o in first["items"] + rest["items"]] == placed[::-1]
    assert rest["next_cursor"] is None

    theirs = api.get("/orders?role=vendor", token=other_vendor["token"]).json()["items"]
    assert [o["id"] for o in theirs] == [placed[1]]
    assert [item["product_id"] for item in theirs[0]["items"]] == [apel["id"]]
    assert api.get("/orders?role=vendor", token=buyer["token"]).status_code == 403
    assert api.get("/orders?role=admin", token=buyer["token"]).status_code == 422
    assert api.get("/orders?cursor=garbage", token=buyer["token"]).status_code == 422


# --- the status machine ---------------------------------------------------------------------

def test_a_part_goes_from_placed_to_received_with_its_history(
        api, organizer, vendor, buyer, db):
    _, [tempe] = shop(api, vendor, organizer, {})
    order = place(api, buyer, (tempe, 1))

    for who, status in ((vendor, "confirmed"), (vendor, "shipped"), (buyer, "received")):
        moved = move(api, who, order, status)
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == status

    history = api.get(f"/orders/{order['id']}", token=buyer["token"]).json()["history"]
    assert [(e["from_status"], e["to_status"], e["actor"]) for e in history] == [
        (None, "placed", "buyer"), ("placed", "confirmed", "vendor"),
        ("confirmed", "shipped", "vendor"), ("shipped", "received", "buyer")]
    changes = outbox(db, "order.status_changed", order["id"])
    assert [(c["from_status"], c["to_status"], c["order_status"]) for c in changes] == [
        ("placed", "confirmed", "confirmed"), ("confirmed", "shipped", "shipped"),
        ("shipped", "received", "received")]


def test_illegal_moves_are_409_and_statuses_not_theirs_403(api, organizer, vendor, buyer):
    _, [tempe] = shop(api, vendor, organizer, {})
    order = place(api, buyer, (tempe, 1))

    assert move(api, buyer, order, "confirmed").status_code == 403
    assert move(api, vendor, order, "received").status_code == 403
    assert move(api, vendor, order, "shipped").status_code == 409       # not confirmed yet
    assert move(api, buyer, order, "received").status_code == 409       # not shipped yet
    assert move(api, vendor, order, "confirmed").status_code == 200
    refused = move(api, buyer, order, "cancelled")                      # only while placed
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "conflict"
    assert move(api, vendor, order, "confirmed").status_code == 409
    bad = api.post(f"/orders/{order['id']}/status", token=vendor["token"],
                   json={"status": "lost"})
    assert bad.status_code == 422 and "status" in bad.json()["error"]["fields"]
    assert api.get(f"/orders/{order['id']}", token=buyer["token"]).json()["status"] == \
        "confirmed"


def test_each_vendor_moves_only_their_part_and_the_order_follows_its_parts(
        api, organizer, vendor, other_vendor, buyer):
    _, [tempe] = shop(api, vendor, organizer, {})
    _, [apel] = shop(api, other_vendor, organizer, {"name": "Sari Apel Batu"})
    order = place(api, buyer, (tempe, 1), (apel, 1))
    mine = next(p for p in order["parts"] if p["business_id"] == tempe["business_id"])
    theirs = next(p for p in order["parts"] if p["business_id"] == apel["business_id"])

    assert move(api, other_vendor, order, "confirmed", part=mine).status_code == 404
    assert move(api, vendor, order, "confirmed", part=mine).status_code == 200
    assert api.get(f"/orders/{order['id']}", token=buyer["token"]).json()["status"] == "placed"
    assert move(api, other_vendor, order, "cancelled").status_code == 200
    seen = api.get(f"/orders/{order['id']}", token=buyer["token"]).json()
    assert seen["status"] == "confirmed"
    assert {p["id"]: p["status"] for p in seen["parts"]} == {mine["id"]: "confirmed",
                                                            theirs["id"]: "cancelled"}
    assert move(api, vendor, order, "confirmed", part={"id": "nope"}).status_code == 404


def test_a_cancel_puts_the_stock_back_once(api, organizer, vendor, buyer, db):
    _, [tempe, kopi] = shop(api, vendor, organizer, {"stock": 10}, {"name": "Kopi Dampit",
                                                                    "stock": 3})
    order = place(api, buyer, (tempe, 4), (kopi, 3))
    assert (stock_of(db, tempe), stock_of(db, kopi)) == (6, 0)

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(pool.map(lambda _: move(api, buyer, order, "cancelled").status_code,
                                   range(4)))

    assert statuses == [200, 409, 409, 409]
    assert (stock_of(db, tempe), stock_of(db, kopi)) == (10, 3)
    assert api.get(f"/orders/{order['id']}", token=buyer["token"]).json()["status"] == \
        "cancelled"
    changed = rows(db, "SELECT body FROM outbox WHERE event_type = 'product.changed'"
                       " AND body->>'aggregate_id' = %s ORDER BY seq", (kopi["id"],))
    assert [c["body"]["payload"]["stock"] for c in changed][-2:] == [0, 3]


def test_the_vendor_cancels_before_shipping_but_not_after(api, organizer, vendor, buyer, db):
    _, [tempe] = shop(api, vendor, organizer, {"stock": 10})
    kept = place(api, buyer, (tempe, 1))
    dropped = place(api, buyer, (tempe, 2))

    assert move(api, vendor, dropped, "confirmed").status_code == 200
    assert move(api, vendor, dropped, "cancelled").status_code == 200
    assert move(api, vendor, kept, "confirmed").status_code == 200
    assert move(api, vendor, kept, "shipped").status_code == 200
    assert move(api, vendor, kept, "cancelled").status_code == 409
    assert stock_of(db, tempe) == 9


def test_each_vendor_is_notified_of_their_own_lines_only(
        api, organizer, vendor, other_vendor, buyer):
    """The contract's promise, through notify: order.placed carries each vendor's lines with
    the vendor's account, and notify tells each vendor about theirs alone."""
    _, [tempe] = shop(api, vendor, organizer, {"name": "Keripik Tempe Sanan Pedas"})
    _, [apel] = shop(api, other_vendor, organizer, {"name": "Sari Apel Batu Manalagi"})
    order = place(api, buyer, (tempe, 2), (apel, 1))

    def told(account):
        inbox = api.get("/notifications", token=account["token"]).json()["items"]
        return [n for n in inbox if n["ref"] and n["ref"]["id"] == order["id"]]

    [mine] = wait_for(lambda: told(vendor))
    [theirs] = wait_for(lambda: told(other_vendor))
    assert tempe["name"] in mine["body"] and apel["name"] not in mine["body"]
    assert apel["name"] in theirs["body"] and tempe["name"] not in theirs["body"]
    [receipt] = wait_for(lambda: told(buyer))
    assert tempe["name"] in receipt["body"] and apel["name"] in receipt["body"]
