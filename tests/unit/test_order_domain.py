"""The marketplace's order rules: who moves a part where, the order's status derived from its
parts, prices and totals fixed from the products read at order time, and payments."""
import datetime as dt
import itertools
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backbone.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.marketplace import domain

BUYER = {"account_id": str(uuid.uuid4()), "role": "buyer"}
VENDOR = {"account_id": str(uuid.uuid4()), "role": "vendor"}
OTHER_VENDOR = {"account_id": str(uuid.uuid4()), "role": "vendor"}
PLACED_AT = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
STATUSES = domain.ORDER_PROGRESS + (domain.CANCELLED,)


def _part(status="placed", method="cod", paid=False, vendor=VENDOR):
    return {"id": str(uuid.uuid4()), "status": status, "payment_method": method,
            "paid_at": PLACED_AT if paid else None, "vendor_account_id": vendor["account_id"],
            "payment_due_at": domain.payment_due_at(method, PLACED_AT, 24)}


def _order():
    return {"id": str(uuid.uuid4()), "buyer_account_id": BUYER["account_id"]}


def _product(name, price, stock, business, owner, hidden=False, status="verified"):
    return {"id": str(uuid.uuid4()), "name": name, "price_idr": price, "stock": stock,
            "business_id": business, "owner_account_id": owner, "business_name": f"Usaha {name}",
            "hidden": hidden, "business_status": status}


# --- the state machine ----------------------------------------------------------------------

@pytest.mark.parametrize("actor, path", [
    (domain.VENDOR, ("placed", "confirmed", "shipped")),
    (domain.BUYER, ("shipped", "received")),
    (domain.BUYER, ("placed", "cancelled")),
    (domain.VENDOR, ("placed", "cancelled")),
    (domain.VENDOR, ("confirmed", "cancelled")),
    (domain.TIMER, ("placed", "cancelled")),
])
def test_the_contracts_moves_are_allowed(actor, path):
    for current, following in itertools.pairwise(path):
        domain.check_transition(_part(current, paid=True), following, actor)


@pytest.mark.parametrize("actor, current, following", [
    (domain.BUYER, "confirmed", "cancelled"),   # the buyer cancels only while placed
    (domain.VENDOR, "shipped", "cancelled"),    # the vendor cancels only before shipping
    (domain.VENDOR, "placed", "shipped"),       # no skipping confirmation
    (domain.BUYER, "placed", "received"),       # nothing received before it is shipped
    (domain.VENDOR, "cancelled", "confirmed"),  # a cancelled part stays cancelled
    (domain.BUYER, "cancelled", "cancelled"),   # ... and is cancelled once
    (domain.VENDOR, "confirmed", "confirmed"),
])
def test_an_illegal_move_is_a_conflict_naming_both_statuses(actor, current, following):
    with pytest.raises(Conflict) as refused:
        domain.check_transition(_part(current, paid=True), following, actor)
    assert refused.value.details == {"from_status": current, "to_status": following}


@pytest.mark.parametrize("actor, status", [
    (domain.BUYER, "confirmed"), (domain.BUYER, "shipped"), (domain.VENDOR, "received"),
    (domain.TIMER, "confirmed"), (domain.BUYER, "placed"), (domain.VENDOR, "placed")])
def test_a_status_the_actor_never_sets_is_forbidden_whatever_the_state(actor, status):
    for current in STATUSES:
        with pytest.raises(Forbidden):
            domain.check_transition(_part(current, paid=True), status, actor)


@given(st.lists(st.sampled_from(STATUSES), min_size=1, max_size=8),
       st.sampled_from((domain.BUYER, domain.VENDOR, domain.TIMER)))
def test_no_sequence_of_moves_leaves_cancelled_or_goes_backwards(targets, actor):
    part = _part(paid=True)
    for target in targets:
        before = part["status"]
        try:
            domain.check_transition(part, target, actor)
        except (Conflict, Forbidden):
            continue
        assert before != domain.CANCELLED
        assert target == domain.CANCELLED or (
            domain.ORDER_PROGRESS.index(target) == domain.ORDER_PROGRESS.index(before) + 1)
        part["status"] = target


@pytest.mark.parametrize("method", domain.PREPAID_METHODS)
def test_a_prepaid_part_is_confirmed_only_once_paid(method):
    with pytest.raises(Conflict) as refused:
        domain.check_transition(_part(method=method), "confirmed", domain.VENDOR)
    assert refused.value.details == {"reason": "unpaid"}
    domain.check_transition(_part(method=method, paid=True), "confirmed", domain.VENDOR)
    domain.check_transition(_part(method="cod"), "confirmed", domain.VENDOR)


def _allowed(part, status, actor):
    try:
        domain.check_transition(part, status, actor)
        return True
    except (Conflict, Forbidden):
        return False


@pytest.mark.parametrize("actor", [domain.BUYER, domain.VENDOR, domain.TIMER])
@pytest.mark.parametrize("method, paid", [("cod", False), ("qris", False), ("qris", True),
                                          ("transfer", False)])
@pytest.mark.parametrize("current", STATUSES)
def test_the_moves_offered_are_exactly_those_the_state_machine_allows(actor, method, paid,
                                                                      current):
    part = _part(current, method, paid)
    assert domain.moves_now(part, actor) == [
        status for status in STATUSES if _allowed(part, status, actor)]


def test_the_moves_offered_in_words():
    assert domain.moves_now(_part("placed", "cod"), domain.VENDOR) == ["confirmed", "cancelled"]
    assert domain.moves_now(_part("placed", "qris"), domain.VENDOR) == ["cancelled"]
    assert domain.moves_now(_part("shipped"), domain.BUYER) == ["received"]
    assert domain.moves_now(_part("placed"), None) == []


@pytest.mark.parametrize("method, paid", [("cod", False), ("qris", False), ("qris", True),
                                          ("transfer", False), ("cod", True)])
@pytest.mark.parametrize("current", STATUSES)
def test_a_payment_is_offered_to_the_vendor_exactly_when_it_may_be_recorded(method, paid,
                                                                             current):
    part = _part(current, method, paid)
    try:
        domain.check_may_record_payment(part)
        recordable = True
    except Conflict:
        recordable = False
    assert domain.payment_recordable(part, domain.VENDOR) is recordable
    assert domain.payment_recordable(part, domain.BUYER) is False


def test_only_a_cancel_puts_stock_back():
    assert [s for s in STATUSES if domain.takes_stock_back(s)] == ["cancelled"]


# --- the order's status, derived from its parts ---------------------------------------------

@pytest.mark.parametrize("parts, expected", [
    (["placed"], "placed"),
    (["confirmed", "placed"], "placed"),
    (["shipped", "confirmed"], "confirmed"),
    (["received", "shipped"], "shipped"),
    (["received", "received"], "received"),
    (["cancelled", "shipped"], "shipped"),       # a cancelled part no longer holds it back
    (["cancelled", "received"], "received"),
    (["cancelled", "cancelled"], "cancelled"),
])
def test_the_order_is_as_far_as_its_least_advanced_live_part(parts, expected):
    assert domain.derived_status(parts) == expected


@given(st.lists(st.sampled_from(STATUSES), min_size=1, max_size=6))
def test_the_derived_status_is_one_of_the_parts_and_ignores_their_order(statuses):
    derived = domain.derived_status(statuses)
    assert derived in statuses
    assert derived == domain.derived_status(list(reversed(statuses)))
    assert (derived == "cancelled") == all(s == "cancelled" for s in statuses)


# --- who sees and moves what ----------------------------------------------------------------

def test_the_buyer_sees_every_part_and_a_vendor_only_their_own():
    order = _order()
    mine, theirs = _part(vendor=VENDOR), _part(vendor=OTHER_VENDOR)
    assert domain.visible_parts(BUYER, order, [mine, theirs]) == [mine, theirs]
    assert domain.visible_parts(VENDOR, order, [mine, theirs]) == [mine]
    assert domain.actor_for_part(VENDOR, order, theirs) is None
    assert domain.actor_for_part(BUYER, order, theirs) == domain.BUYER


def test_a_stranger_is_told_the_order_does_not_exist():
    stranger = {"account_id": str(uuid.uuid4()), "role": "buyer"}
    with pytest.raises(NotFound):
        domain.visible_parts(stranger, _order(), [_part()])
    with pytest.raises(NotFound):
        domain.visible_parts(OTHER_VENDOR, _order(), [_part(vendor=VENDOR)])


def test_orders_are_listed_as_the_callers_own_role():
    assert domain.list_role(BUYER, None) == "buyer"
    assert domain.list_role(VENDOR, "vendor") == "vendor"
    with pytest.raises(Forbidden):
        domain.list_role(BUYER, "vendor")


def test_only_buyers_place_orders():
    domain.check_buyer(BUYER)
    with pytest.raises(Forbidden):
        domain.check_buyer(VENDOR)


# --- placing: availability, prices and totals -----------------------------------------------

def _catalogue(*products):
    return {product["id"]: product for product in products}


def test_prices_and_totals_come_from_the_products_read_at_order_time():
    tempe = _product("Keripik Tempe Sanan", 15_000, 10, "b1", "o1")
    apel = _product("Sari Apel Batu", 12_500, 10, "b2", "o2")
    malangan = _product("Batik Malangan", 350_000, 2, "b1", "o1")
    items = [{"product_id": tempe["id"], "quantity": 3},
             {"product_id": apel["id"], "quantity": 2},
             {"product_id": malangan["id"], "quantity": 1}]
    parts = domain.priced_parts(items, _catalogue(tempe, apel, malangan))
    assert [(p["business_id"], p["vendor_account_id"], p["total_idr"]) for p in parts] == [
        ("b1", "o1", 3 * 15_000 + 350_000), ("b2", "o2", 25_000)]
    assert [(line["name"], line["unit_price_idr"], line["line_total_idr"])
            for line in parts[0]["lines"]] == [("Keripik Tempe Sanan", 15_000, 45_000),
                                              ("Batik Malangan", 350_000, 350_000)]
    assert domain.order_total(parts) == 420_000


@given(st.lists(st.tuples(st.integers(1, 1000), st.integers(1, 10**9), st.sampled_from("abc")),
                min_size=1, max_size=10))
def test_the_total_is_the_sum_of_its_lines_in_whole_rupiah(lines):
    products = [_product(f"p{i}", price, 1000, business, f"owner-{business}")
                for i, (_, price, business) in enumerate(lines)]
    items = [{"product_id": product["id"], "quantity": quantity}
             for product, (quantity, _, _) in zip(products, lines, strict=True)]
    parts = domain.priced_parts(items, _catalogue(*products))
    assert domain.order_total(parts) == sum(q * price for q, price, _ in lines)
    assert all(isinstance(part["total_idr"], int) for part in parts)
    assert len(parts) == len({business for _, _, business in lines})


def test_a_short_item_refuses_the_whole_order_naming_the_product():
    tempe = _product("Keripik Tempe Sanan", 15_000, 3, "b1", "o1")
    apel = _product("Sari Apel Batu", 12_500, 10, "b2", "o2")
    items = [{"product_id": apel["id"], "quantity": 1},
             {"product_id": tempe["id"], "quantity": 5}]
    with pytest.raises(Conflict) as refused:
        domain.check_orderable(items, _catalogue(tempe, apel))
    assert "Keripik Tempe Sanan" in refused.value.message
    assert refused.value.fields == {"items": {"1": {"quantity": [
        f"Only 3 of Keripik Tempe Sanan ({tempe['id']}) left."]}}}
    domain.check_orderable([{"product_id": tempe["id"], "quantity": 3}], _catalogue(tempe))


@pytest.mark.parametrize("unavailable", [{"hidden": True}, {"business_status": "rejected"},
                                         {"business_status": "pending"}])
def test_a_hidden_product_or_one_of_an_unverified_business_is_not_on_sale(unavailable):
    product = _product("Kopi Dampit", 40_000, 10, "b1", "o1") | unavailable
    with pytest.raises(Conflict) as refused:
        domain.check_orderable([{"product_id": product["id"], "quantity": 1}],
                               _catalogue(product))
    assert refused.value.details == {"reason": "not_on_sale"}


def test_an_unknown_product_is_a_422_naming_the_item():
    known = _product("Kopi Dampit", 40_000, 10, "b1", "o1")
    items = [{"product_id": known["id"], "quantity": 1},
             {"product_id": str(uuid.uuid4()), "quantity": 1}]
    with pytest.raises(ValidationFailed) as refused:
        domain.check_orderable(items, _catalogue(known))
    assert refused.value.fields == {"items": {"1": {"product_id": ["No such product."]}}}


def test_a_product_named_twice_is_a_422():
    product_id = str(uuid.uuid4())
    with pytest.raises(ValidationFailed) as refused:
        domain.check_items_distinct([{"product_id": product_id, "quantity": 1},
                                     {"product_id": product_id, "quantity": 2}])
    assert list(refused.value.fields["items"]) == ["1"]


# --- payments -------------------------------------------------------------------------------

def test_a_prepaid_part_has_a_deadline_and_cash_on_delivery_none():
    assert domain.payment_due_at("qris", PLACED_AT, 24) == PLACED_AT + dt.timedelta(hours=24)
    assert domain.payment_due_at("transfer", PLACED_AT, 0.5) == PLACED_AT + dt.timedelta(
        minutes=30)
    assert domain.payment_due_at("cod", PLACED_AT, 24) is None


def test_only_a_placed_unpaid_prepaid_part_past_its_deadline_is_overdue():
    after = PLACED_AT + dt.timedelta(hours=24)
    assert domain.is_overdue(_part(method="qris"), after)
    assert not domain.is_overdue(_part(method="qris"), after - dt.timedelta(seconds=1))
    assert not domain.is_overdue(_part(method="qris", paid=True), after)
    assert not domain.is_overdue(_part("cancelled", method="qris"), after)
    assert not domain.is_overdue(_part(method="cod"), after + dt.timedelta(days=30))


@pytest.mark.parametrize("method", domain.PREPAID_METHODS)
def test_a_prepaid_part_is_paid_while_placed_and_only_once(method):
    domain.check_may_record_payment(_part(method=method))
    for status in ("confirmed", "shipped", "received", "cancelled"):
        with pytest.raises(Conflict):
            domain.check_may_record_payment(_part(status, method=method))
    with pytest.raises(Conflict):
        domain.check_may_record_payment(_part(method=method, paid=True))


def test_cash_on_delivery_is_paid_once_shipped():
    for status in ("shipped", "received"):
        domain.check_may_record_payment(_part(status, method="cod"))
    for status in ("placed", "confirmed", "cancelled"):
        with pytest.raises(Conflict):
            domain.check_may_record_payment(_part(status, method="cod"))


def test_a_dynamic_qris_is_offered_only_for_a_qris_part_still_to_pay():
    stored = {"payload": "000201..."}
    domain.check_qris_payable(_part(method="qris"), stored)
    with pytest.raises(NotFound):
        domain.check_qris_payable(_part(method="qris"), None)
    for part in (_part(method="cod"), _part(method="qris", paid=True),
                 _part("cancelled", method="qris")):
        with pytest.raises(Conflict):
            domain.check_qris_payable(part, stored)


def test_a_price_changed_between_pricing_and_taking_the_stock_is_a_409_naming_it():
    kopi = _product("Kopi Dampit", 40_000, 10, "b1", "o1")
    tempe = _product("Keripik Tempe Sanan", 15_000, 10, "b1", "o1")
    priced = _catalogue(kopi, tempe)
    domain.check_prices_unchanged(priced, _catalogue(kopi | {"stock": 3}, tempe))
    with pytest.raises(Conflict) as refused:
        domain.check_prices_unchanged(priced, _catalogue(kopi | {"price_idr": 42_500}, tempe))
    assert "Kopi Dampit" in refused.value.message
    assert refused.value.details == {"reason": "price_changed"}
