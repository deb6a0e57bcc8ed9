"""The registry's pure rules: identity formats, roles, verification, throttling, views."""
import datetime as dt

import marshmallow
import pytest

from backbone.errors import Conflict, Forbidden, ValidationFailed
from services.registry import contract, domain, readiness

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
        domain.check_business_identity(base)
    assert set(missing.value.fields) == {"cooperative_type"}
    domain.check_business_identity(base | {"cooperative_type": "simpan_pinjam"})

    with pytest.raises(ValidationFailed) as umkm:
        domain.check_business_identity(
            base | {"kind": "umkm", "cooperative_type": "jasa", "nik_koperasi": "1" * 16})
    assert set(umkm.value.fields) == {"cooperative_type", "nik_koperasi"}


def test_a_change_that_contradicts_the_kind_is_a_conflict():
    umkm = {"kind": "umkm", "cooperative_type": None, "nik_koperasi": None}
    with pytest.raises(Conflict) as error:
        domain.check_update_fits_kind(umkm, {"cooperative_type": "jasa"})
    assert set(error.value.fields) == {"cooperative_type"}
    domain.check_update_fits_kind(umkm, {"nib": "1" * 13})


def test_every_bad_field_is_named_at_once():
    with pytest.raises(marshmallow.ValidationError) as error:
        contract.BusinessCreate().load({"kind": "umkm", "sector": "tambang",
                                        "packaging": ["paper", "styrofoam"]})
    assert {"sector", "packaging", "name", "kecamatan"} <= set(error.value.messages)


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
    certifications = [{"kind": "pirt", "number": "206357301001227", "status": "confirmed",
                       "valid_until": dt.date(2027, 1, 1)},
                      {"kind": "halal", "number": "ID35110000123450321", "status": "confirmed",
                       "valid_until": dt.date(2027, 1, 1)}]
    claimed_only = [c | {"status": "claimed"} for c in certifications]
    unconfirmed = domain.evaluate_readiness(RULES, business, claimed_only, dt.date(2026, 11, 23))
    assert domain.readiness_summary(unconfirmed)["export_ready"] == []
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


# --- what a verification decision and a certification review are tied to ---------------------

@pytest.mark.parametrize("body_version, if_match, expected", [
    (None, None, None), (None, "*", None), (None, '"7"', 7), (None, 'W/"7"', 7), (3, '"7"', 3)])
def test_the_reviewed_version_comes_from_the_body_or_if_match(body_version, if_match, expected):
    assert domain.expected_version(body_version, if_match) == expected


@pytest.mark.parametrize("if_match", ['"abc"', '"1e9"', '"12345678901"', ""])
def test_an_if_match_that_is_no_etag_of_ours_is_refused(if_match):
    with pytest.raises(ValidationFailed) as error:
        domain.expected_version(None, if_match)
    assert "If-Match" in error.value.fields


def test_a_decision_on_another_version_than_reviewed_is_a_conflict():
    domain.check_unchanged_since_review({"version": 4}, None)
    domain.check_unchanged_since_review({"version": 4}, 4)
    with pytest.raises(Conflict):
        domain.check_unchanged_since_review({"version": 5}, 4)


@pytest.mark.parametrize("current, decision", sorted(domain.REVIEW_TRANSITIONS))
def test_allowed_review_transitions(current, decision):
    assert domain.next_review_status(current, decision) == decision


@pytest.mark.parametrize("current, decision", [("refused", "confirmed"),
                                               ("confirmed", "confirmed"),
                                               ("refused", "refused")])
def test_other_review_transitions_are_conflicts(current, decision):
    with pytest.raises(Conflict):
        domain.next_review_status(current, decision)


def test_only_a_confirmed_unexpired_certification_counts():
    today = dt.date(2026, 11, 23)
    cert = {"kind": "pirt", "number": "206357301001227", "valid_until": today}
    assert domain.counts(cert | {"status": "confirmed"}, today)
    assert not domain.counts(cert | {"status": "claimed"}, today)
    assert not domain.counts(cert | {"status": "refused"}, today)
    assert not domain.counts(cert | {"status": "confirmed"}, today + dt.timedelta(days=1))
