"""The registry's pure rules: identity formats, roles, verification, throttling, views."""
import datetime as dt

import pytest

from backbone.errors import Conflict, Forbidden, RateLimited, ValidationFailed
from services.registry import domain, readiness

RULES = readiness.load_rules()
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("raw, expected", [
    ("081234567890", "+6281234567890"),
    ("0812-3456-7890", "+6281234567890"),
    ("+62 812 3456 7890", "+6281234567890"),
    ("6281234567890", "+6281234567890"),
    ("(0857) 1234 5678", "+6285712345678"),
    ("08123456", None),            # too short
    ("081234567890123", None),     # too long
    ("0341551234", None),          # a Malang landline, not a mobile
    ("+6581234567", None),         # Singapore
    ("", None),
    (None, None),
])
def test_indonesian_mobile_numbers_are_normalised(raw, expected):
    assert domain.normalise_phone(raw) == expected


@pytest.mark.parametrize("value, nib, nik", [
    ("1234567890123", True, False),
    ("1234567890123456", False, True),
    ("123456789012", False, False),
    ("12345678901a3", False, False),
    ("", False, False),
])
def test_nib_and_nik_koperasi_formats(value, nib, nik):
    assert domain.is_nib(value) is nib
    assert domain.is_nik_koperasi(value) is nik


@pytest.mark.parametrize("caller_role, role, allowed", [
    (None, "buyer", True), (None, "vendor", True), ("buyer", "vendor", True),
    (None, "organizer", False), ("organizer", "organizer", False), ("vendor", "admin", False),
    ("admin", "organizer", True), ("admin", "admin", True),
])
def test_who_may_create_which_role(caller_role, role, allowed):
    if allowed:
        domain.check_may_create_role(caller_role, role)
    else:
        with pytest.raises(Forbidden):
            domain.check_may_create_role(caller_role, role)


def test_a_koperasi_needs_a_type_and_an_umkm_has_none():
    base = {"kind": "koperasi", "sector": "kuliner", "packaging": []}
    with pytest.raises(ValidationFailed) as missing:
        domain.check_business_identity(base, RULES)
    assert set(missing.value.fields) == {"cooperative_type"}
    domain.check_business_identity(base | {"cooperative_type": "simpan_pinjam"}, RULES)

    with pytest.raises(ValidationFailed) as umkm:
        domain.check_business_identity(
            base | {"kind": "umkm", "cooperative_type": "jasa", "nik_koperasi": "1" * 16},
            RULES)
    assert set(umkm.value.fields) == {"cooperative_type", "nik_koperasi"}


def test_every_bad_field_is_named_at_once():
    with pytest.raises(ValidationFailed) as error:
        domain.check_business_identity(
            {"kind": "umkm", "sector": "tambang", "packaging": ["paper", "styrofoam"]}, RULES)
    assert set(error.value.fields) == {"sector", "packaging"}
    assert "styrofoam" in error.value.fields["packaging"][0]


def test_normalised_business_tidies_what_people_type():
    out = domain.normalised_business({"name": "  Batik   Malangan ", "phone": "0812 3456 7890",
                                      "email": "Info@Batik.ID", "packaging": ["paper", "cloth",
                                                                              "paper"]})
    assert out == {"name": "Batik Malangan", "phone": "+6281234567890",
                   "email": "info@batik.id", "packaging": ["cloth", "paper"]}


@pytest.mark.parametrize("current, wanted", sorted(domain.TRANSITIONS))
def test_legal_transitions(current, wanted):
    assert domain.next_status(current, wanted) == wanted


@pytest.mark.parametrize("current, wanted", [
    ("pending", "pending"), ("verified", "verified"), ("rejected", "rejected"),
    ("rejected", "verified"), ("verified", "pending"),
])
def test_illegal_transitions_are_conflicts(current, wanted):
    with pytest.raises(Conflict):
        domain.next_status(current, wanted)


def test_each_status_is_announced_by_its_event():
    assert domain.event_for_status("verified") == "business.verified"
    assert domain.event_for_status("rejected") == "business.rejected"
    assert domain.event_for_status("pending") == "business.resubmitted"


def test_a_rejection_says_why():
    with pytest.raises(ValidationFailed):
        domain.check_decision_note("rejected", "   ")
    domain.check_decision_note("rejected", "NIB tidak sesuai")
    domain.check_decision_note("verified", None)


def test_the_legal_identity_is_fixed_once_verified():
    domain.check_may_update("pending", {"name": "x", "nib": "1" * 13})
    domain.check_may_update("verified", {"phone": "x", "packaging": []})
    with pytest.raises(Conflict) as error:
        domain.check_may_update("verified", {"phone": "x", "sector": "jasa"})
    assert set(error.value.fields) == {"sector"}


def test_login_throttle_counts_per_email_and_per_client():
    throttle = domain.LoginThrottle(per_email=5, per_client=30)
    throttle.check(4, 29, NOW - dt.timedelta(minutes=1), NOW)
    for by_email, by_client in ((5, 0), (0, 30)):
        with pytest.raises(RateLimited) as error:
            throttle.check(by_email, by_client, NOW - dt.timedelta(minutes=5), NOW)
        assert error.value.details["retry_after"] == 10 * 60


def test_listing_filters_by_role():
    organizer = {"account_id": "o", "role": "organizer"}
    vendor = {"account_id": "v", "role": "vendor"}
    query = {"status": "pending", "kecamatan": None, "sector": None}
    assert "owner_account_id" not in domain.listing_filters(organizer, query)
    assert domain.listing_filters(vendor, query)["owner_account_id"] == "v"
    for caller in (None, {"account_id": "b", "role": "buyer"}):
        with pytest.raises(Forbidden):
            domain.listing_filters(caller, query)


def test_visibility_of_private_fields():
    business = {"owner_account_id": "v1", "status": "pending"}
    assert domain.may_see_private({"account_id": "v1", "role": "vendor"}, business)
    assert domain.may_see_private({"account_id": "x", "role": "organizer"}, business)
    assert domain.may_see_private({"account_id": "x", "role": "admin"}, business)
    assert not domain.may_see_private({"account_id": "v2", "role": "vendor"}, business)
    assert not domain.may_see_private(None, business)
    assert not domain.is_publicly_visible(business)


def test_certification_checks_normalise_and_refuse_expired():
    today = dt.date(2026, 11, 23)
    assert domain.check_certification(RULES, "bpom_md", "md 224513001234",
                                      dt.date(2027, 1, 1), today) == ("bpom_md", "MD224513001234")
    with pytest.raises(ValidationFailed) as expired:
        domain.check_certification(RULES, "sni", "SNI 123", dt.date(2026, 11, 22), today)
    assert "valid_until" in expired.value.fields
    with pytest.raises(ValidationFailed) as unknown:
        domain.check_certification(RULES, "michelin", "3", dt.date(2027, 1, 1), today)
    assert "kind" in unknown.value.fields


def test_readiness_summary_is_what_the_event_announces():
    business = {"sector": "kuliner", "status": "verified", "nib": "1" * 13,
                "packaging": ["plastic"]}
    certifications = [{"kind": "pirt", "number": "206357301001227",
                       "valid_until": dt.date(2027, 1, 1)},
                      {"kind": "halal", "number": "ID35110000123450321",
                       "valid_until": dt.date(2027, 1, 1)}]
    results = domain.evaluate_readiness(RULES, business, certifications, dt.date(2026, 11, 23))
    summary = domain.readiness_summary(results)
    assert "domestic" in summary["export_ready"]
    japan = next(m for m in summary["markets"] if m["market"] == "japan")
    assert japan["ready"] is False and "packaging:plastic" in japan["missing"]

    # A year later both certificates have expired: nothing is ready any more.
    later = domain.evaluate_readiness(RULES, business, certifications, dt.date(2027, 1, 2))
    assert domain.readiness_summary(later)["export_ready"] == []


@pytest.mark.parametrize("kind, number, precise", [
    ("bpom", "MD 224513001234", "bpom_md"),
    ("bpom", "ml224513001234", "bpom_ml"),
    ("iso", "ISO 9001:2015-ID-0421", "iso_9001"),
    ("iso", "ISO 22000:2018 / 7781", "iso_22000"),
    ("halal", "ID35110000123450321", "halal"),
])
def test_the_contracts_generic_kinds_resolve_from_the_number(kind, number, precise):
    assert domain.resolve_certification_kind(kind, number) == precise


@pytest.mark.parametrize("kind, number, field", [
    ("bpom", "224513001234", "number"),
    ("iso", "ISO 14001:2015", "kind"),
])
def test_an_ambiguous_generic_kind_is_named(kind, number, field):
    with pytest.raises(ValidationFailed) as error:
        domain.resolve_certification_kind(kind, number)
    assert field in error.value.fields


def test_re_sending_current_values_is_no_change():
    business = {"name": "Batik Celaket", "phone": "+6281234567890", "packaging": ["cloth"]}
    requested = {"name": "Batik Celaket", "phone": "+6285712345678", "packaging": ["cloth"]}
    assert domain.actual_changes(business, requested) == {"phone": "+6285712345678"}
    domain.check_may_update("verified", domain.actual_changes(business, requested))
