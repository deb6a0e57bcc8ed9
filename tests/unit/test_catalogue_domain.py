"""The catalogue's pure rules: who may list and see products, query normalising, orders and
cursors, facets."""
import datetime as dt
import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backbone.contracts import exports_abroad
from backbone.errors import Conflict, Forbidden, NotFound, ValidationFailed
from backbone.pagination import encode_cursor
from services.marketplace import contract, domain

OWNER = str(uuid.uuid4())
VENDOR = {"account_id": OWNER, "role": "vendor"}
STRANGER = {"account_id": str(uuid.uuid4()), "role": "vendor"}
ORGANIZER = {"account_id": str(uuid.uuid4()), "role": "organizer"}


def _business(status="verified"):
    return {"id": uuid.uuid4(), "owner_account_id": uuid.UUID(OWNER), "status": status}


def _product(**overrides):
    return {"hidden": False, "name": "Keripik Tempe Sanan", "price_idr": 15000,
            "stock": 3, "images": []} | overrides


# --- who may do what ---

def test_the_owner_of_a_verified_business_may_list():
    domain.check_may_list(VENDOR, _business())


@pytest.mark.parametrize("business", [None, _business("pending"), _business("rejected")])
def test_a_business_not_verified_is_a_conflict_saying_so(business):
    with pytest.raises(Conflict) as refused:
        domain.check_may_list(VENDOR, business)
    assert refused.value.details == {"reason": "not_verified"}


def test_someone_elses_business_is_forbidden_before_its_status_is_told():
    with pytest.raises(Forbidden):
        domain.check_may_list(STRANGER, _business("pending"))


def test_only_organizers_and_admins_curate():
    domain.check_curator(ORGANIZER)
    domain.check_curator({"account_id": OWNER, "role": "admin"})
    with pytest.raises(Forbidden):
        domain.check_curator(VENDOR)


@pytest.mark.parametrize("product, business, shown", [
    (_product(), _business(), True),
    (_product(hidden=True), _business(), False),
    (_product(), _business("rejected"), False),
    (_product(), _business("pending"), False),
    (_product(), None, False),
])
def test_on_show_only_unhidden_products_of_verified_businesses(product, business, shown):
    assert domain.on_show(product, business) is shown


@pytest.mark.parametrize("caller", [
    None, STRANGER, {"account_id": str(uuid.uuid4()), "role": "buyer"}])
def test_a_product_off_show_is_unknown_to_others(caller):
    with pytest.raises(NotFound):
        domain.check_may_see(caller, _product(hidden=True), _business())


@pytest.mark.parametrize("caller", [VENDOR, ORGANIZER])
def test_its_owner_and_curators_still_see_a_product_off_show(caller):
    domain.check_may_see(caller, _product(), _business("rejected"))


@pytest.mark.parametrize("caller", [VENDOR, ORGANIZER, {"account_id": OWNER, "role": "admin"}])
def test_the_owner_and_curators_read_a_business_whole_list(caller):
    domain.check_may_list_all(caller, _business("rejected"))


@pytest.mark.parametrize("caller", [STRANGER, {"account_id": str(uuid.uuid4()), "role": "buyer"}])
def test_no_one_else_reads_a_business_whole_list(caller):
    with pytest.raises(Forbidden) as refused:
        domain.check_may_list_all(caller, _business())
    assert refused.value.details == {"reason": "not_owner"}


def test_changes_keep_only_what_differs():
    assert domain.changes(_product(), {"price_idr": 15000, "stock": 5}) == {"stock": 5}
    assert domain.changes(_product(), {"name": "Keripik Tempe Sanan"}) == {}


# --- search ---

@pytest.mark.parametrize("typed, words", [
    ("Keripik Tempe", "keripik tempe"),
    ("  kripik--TEMPE!! ", "kripik tempe"),
    ("ＢＡＴＩＫ　Malang", "batik malang"),
    ("kopi, dampit.", "kopi dampit"),
    ("!!!", None),
    ("", None),
    (None, None),
])
def test_normalise_query(typed, words):
    assert contract.normalise_query(typed) == words


@given(st.text(max_size=100))
def test_a_normalised_query_is_lower_case_words_with_single_spaces(typed):
    words = contract.normalise_query(typed)
    assert words is None or (words == words.strip() and "  " not in words and words)


@pytest.mark.parametrize("requested, words, sort", [
    (None, "keripik", "relevance"), (None, None, "newest"),
    ("relevance", None, "newest"), ("price_asc", "keripik", "price_asc"),
])
def test_the_default_order(requested, words, sort):
    assert contract.sort_of(requested, words) == sort


@pytest.mark.parametrize("sort, key", [
    ("relevance", Decimal("1.234567")), ("price_asc", 15000), ("price_desc", 350000),
    ("newest", dt.datetime(2026, 11, 23, 1, 2, 3, 456789, tzinfo=dt.timezone.utc)),
])
def test_a_cursor_carries_its_order_key_exactly(sort, key):
    row = {contract.SORT_ORDERS[sort].key: key, "id": uuid.uuid4()}
    cursor = encode_cursor(*contract.cursor_values(sort, row))
    assert contract.parse_cursor(sort, cursor) == (key, row["id"])


@pytest.mark.parametrize("sort, cursor", [
    ("price_desc", encode_cursor("price_asc", 15000, uuid.uuid4())),
    ("relevance", encode_cursor("relevance", "1; DROP TABLE products", uuid.uuid4())),
    ("price_asc", encode_cursor("price_asc", 15000, "not-an-id")),
    ("newest", encode_cursor("newest", "2026-11-23T01:02:03", uuid.uuid4())),
    ("newest", "garbage"),
])
def test_a_cursor_of_another_order_or_a_forged_one_is_refused(sort, cursor):
    with pytest.raises(ValidationFailed):
        contract.parse_cursor(sort, cursor)


def test_facets_largest_first_with_labels():
    rows = [{"value": "kerajinan", "count": 2}, {"value": "jasa", "count": 2},
            {"value": "kopi_teh", "count": 5}]
    counted = contract.facet_counts(rows, {"kopi_teh": "Kopi & Teh"})
    assert [(f["value"], f["label"], f["count"]) for f in counted] == [
        ("kopi_teh", "Kopi & Teh", 5), ("jasa", "jasa", 2), ("kerajinan", "kerajinan", 2)]


def test_the_export_badge_needs_a_foreign_market():
    assert not exports_abroad([])
    assert not exports_abroad(["domestic"])
    assert exports_abroad(["domestic", "japan"])
