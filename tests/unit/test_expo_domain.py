"""The expo's rules: dates and the application window, the plan's geometry, who may apply, the
flagship rule, and the contract's bounds."""
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backbone.errors import Conflict, Forbidden, ValidationFailed, load_valid
from services.expo import contract, domain

TODAY = dt.date(2026, 3, 2)
OWNER = "3f2b8c1e-1d2a-4c3b-9e8f-0a1b2c3d4e5f"


def _expo(**overrides):
    body = {"name": "Malang City Expo 2026", "venue": "Gedung Kartini, Klojen",
            "starts_on": "2026-04-30", "ends_on": "2026-05-03"} | overrides
    return domain.new_expo(load_valid(contract.ExpoCreate(), body), TODAY)


def _booth(code, x, y, width=3.0, height=3.0):
    return {"code": code, "x": x, "y": y, "width": width, "height": height}


def _business(**overrides):
    return {"owner_account_id": OWNER, "status": "verified", "sector": "kuliner"} | overrides


# --- expos and their window -----------------------------------------------------------------

def test_the_window_defaults_to_today_until_the_day_before_the_expo():
    expo = _expo()
    assert (expo["applications_open_on"], expo["applications_close_on"]) == (
        TODAY, dt.date(2026, 4, 29))
    assert expo["hold_hours"] == 48 and expo["zones"] == []


def test_a_past_expo_can_be_imported_with_its_window_in_the_past():
    expo = _expo(starts_on="2025-04-30", ends_on="2025-05-03")
    assert expo["applications_open_on"] == expo["applications_close_on"] == dt.date(2025, 4, 29)
    with pytest.raises(Conflict, match="closed on 2025-04-29"):
        domain.check_window(expo, TODAY)


def test_an_expo_ending_before_it_starts_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        _expo(ends_on="2026-04-29")
    assert "ends_on" in refused.value.fields


def test_a_window_closing_before_it_opens_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        _expo(applications_open_on="2026-04-01", applications_close_on="2026-03-31")
    assert "applications_close_on" in refused.value.fields


def test_a_one_day_expo_and_a_one_day_window_are_fine():
    expo = _expo(ends_on="2026-04-30", applications_open_on="2026-04-10",
                 applications_close_on="2026-04-10")
    domain.check_window(expo, dt.date(2026, 4, 10))


def test_applications_outside_the_window_are_refused_with_the_reason():
    expo = _expo(applications_open_on="2026-03-10", applications_close_on="2026-04-20")
    with pytest.raises(Conflict, match="open on 2026-03-10") as early:
        domain.check_window(expo, dt.date(2026, 3, 9))
    assert early.value.details == {"reason": "not_open_yet"}
    domain.check_window(expo, dt.date(2026, 3, 10))
    domain.check_window(expo, dt.date(2026, 4, 20))
    with pytest.raises(Conflict, match="closed on 2026-04-20"):
        domain.check_window(expo, dt.date(2026, 4, 21))


def test_zones_have_their_own_names():
    with pytest.raises(ValidationFailed) as refused:
        _expo(zones=[{"name": "kuliner"}, {"name": "kuliner", "sectors": ["kuliner"]}])
    assert "zones" in refused.value.fields


def test_a_zone_welcomes_the_sectors_it_names_or_every_sector():
    expo = _expo(zones=[{"name": "kuliner", "sectors": ["kuliner", "pertanian"]},
                        {"name": "fashion & batik", "sectors": ["fashion"]},
                        {"name": "umum"}])
    assert domain.zones_for_sector(expo, "kuliner") == ["kuliner", "umum"]
    assert domain.zones_for_sector(expo, "kerajinan") == ["umum"]


def test_an_expo_with_zones_knows_only_those():
    expo = _expo(zones=[{"name": "kuliner"}])
    domain.check_zones_known(expo, ["kuliner"], "booths")
    with pytest.raises(ValidationFailed, match="Unknown zones") as refused:
        domain.check_zones_known(expo, ["kuliner", "tambang"], "preferred_zones")
    assert "tambang" in refused.value.fields["preferred_zones"][0]
    domain.check_zones_known(_expo(), ["anything"], "booths")


def test_a_sector_outside_the_registrys_vocabulary_is_refused_in_a_zone():
    with pytest.raises(ValidationFailed):
        load_valid(contract.ExpoCreate(), {"name": "X", "venue": "Y", "starts_on": "2026-04-30",
                                           "ends_on": "2026-05-01",
                                           "zones": [{"name": "z", "sectors": ["tambang"]}]})


# --- the plan's geometry --------------------------------------------------------------------

def test_rectangles_sharing_an_edge_or_a_corner_do_not_overlap():
    a = _booth("A-01", 0, 0)
    assert not domain.overlap(a, _booth("A-02", 3, 0))
    assert not domain.overlap(a, _booth("B-01", 0, 3))
    assert not domain.overlap(a, _booth("B-02", 3, 3))


def test_rectangles_sharing_any_area_overlap():
    a = _booth("A-01", 0, 0)
    assert domain.overlap(a, _booth("A-02", 2.5, 2.5))
    assert domain.overlap(a, _booth("inside", 1, 1, 0.5, 0.5))
    assert domain.overlap(_booth("inside", 1, 1, 0.5, 0.5), a)
    assert domain.overlap(a, _booth("cross", 1, -1, 1, 5))


def test_overlaps_are_named_among_new_booths_and_against_existing_ones():
    existing = [_booth("A-01", 0, 0), _booth("A-02", 3, 0)]
    new = [_booth("B-01", 5, 0), _booth("B-02", 10, 0), _booth("B-03", 11, 1)]
    assert sorted(map(sorted, domain.overlapping_pairs(new, existing))) == [
        ["A-02", "B-01"], ["B-02", "B-03"]]


def test_existing_booths_are_not_checked_again_against_each_other():
    existing = [_booth("A-01", 0, 0), _booth("A-02", 1, 0)]
    assert domain.overlapping_pairs([_booth("C-01", 20, 20)], existing) == []


def test_overlapping_booths_are_a_validation_error_naming_them():
    with pytest.raises(ValidationFailed) as refused:
        domain.check_no_overlap([_booth("B-01", 1, 1)], [_booth("A-01", 0, 0)])
    assert refused.value.fields == {"booths": ["A-01 overlaps B-01"]}


rectangles = st.builds(
    lambda i, x, y, w, h: _booth(f"R-{i}", x, y, w, h), st.integers(0, 10**6),
    st.integers(0, 30), st.integers(0, 30), st.integers(1, 8), st.integers(1, 8))


@settings(max_examples=150, deadline=None)
@given(st.lists(rectangles, max_size=12, unique_by=lambda b: b["code"]))
def test_the_sweep_finds_exactly_the_pairs_a_full_comparison_finds(booths):
    expected = {frozenset((a["code"], b["code"])) for i, a in enumerate(booths)
                for b in booths[i + 1:] if domain.overlap(a, b)}
    found = {frozenset(pair) for pair in domain.overlapping_pairs(booths)}
    assert found == expected


def test_duplicate_codes_in_the_body_or_on_the_plan_are_a_conflict():
    assert domain.duplicate_codes([{"code": "A-01"}, {"code": "A-02"}, {"code": "A-01"}],
                                  ["A-02", "C-01"]) == ["A-01", "A-02"]
    with pytest.raises(Conflict, match="A-01"):
        domain.check_codes_free([{"code": "A-01"}], ["A-01"])
    domain.check_codes_free([{"code": "A-01"}], ["a-01"])


@pytest.mark.parametrize("field, value", [
    ("size_m2", 0), ("price_idr", 0), ("price_idr", 1500000.5), ("price_idr", "1500000"),
    ("width", 0), ("height", -1), ("x", -0.5), ("booth_type", "kiosk"), ("code", "A 01"),
    ("code", "A/01"), ("code", "")])
def test_a_booth_needs_positive_sizes_whole_rupiah_and_a_url_safe_code(field, value):
    booth = {"code": "A-01", "zone": "kuliner", "booth_type": "inline", "size_m2": 9,
             "price_idr": 1500000, "x": 0, "y": 0, "width": 3, "height": 3} | {field: value}
    with pytest.raises(ValidationFailed) as refused:
        load_valid(contract.BoothsCreate(), {"booths": [booth]})
    assert field in refused.value.fields["booths"][0]


# --- who may apply --------------------------------------------------------------------------

VENDOR = {"account_id": OWNER, "role": "vendor"}
APPLICATION = {"sector": "kuliner"}


def test_the_owner_of_a_verified_business_may_apply():
    domain.check_may_apply(VENDOR, _business(), APPLICATION)


def test_a_business_the_read_model_does_not_know_is_not_verified_yet():
    with pytest.raises(Conflict, match=r"not verified \(yet\)"):
        domain.check_may_apply(VENDOR, None, APPLICATION)


@pytest.mark.parametrize("status", ["pending", "rejected"])
def test_only_a_verified_business_may_apply(status):
    with pytest.raises(Conflict, match=status):
        domain.check_may_apply(VENDOR, _business(status=status), APPLICATION)


def test_only_the_owner_may_apply():
    other = {"account_id": "00000000-0000-4000-8000-000000000000", "role": "vendor"}
    with pytest.raises(Forbidden):
        domain.check_may_apply(other, _business(), APPLICATION)


def test_the_application_names_the_business_s_registered_sector():
    with pytest.raises(ValidationFailed) as refused:
        domain.check_may_apply(VENDOR, _business(), {"sector": "fashion"})
    assert "kuliner" in refused.value.fields["sector"][0]


def test_organizers_see_every_application_a_vendor_their_own():
    assert domain.applicant_filter({"account_id": OWNER, "role": "organizer"}) is None
    assert domain.applicant_filter({"account_id": OWNER, "role": "admin"}) is None
    assert domain.applicant_filter(VENDOR) == OWNER
    with pytest.raises(Forbidden):
        domain.check_may_see_applications({"account_id": OWNER, "role": "buyer"})


# --- produk unggulan ------------------------------------------------------------------------

@pytest.mark.parametrize("marked, export_ready, flagship", [
    (False, [], False),
    (False, ["domestic"], False),
    (False, ["domestic", "asean"], True),
    (False, ["japan"], True),
    (True, [], True),
    (True, ["domestic"], True),
])
def test_a_flagship_is_marked_or_export_ready_for_a_foreign_market(marked, export_ready,
                                                                    flagship):
    assert domain.is_flagship(marked, export_ready) is flagship


def test_only_a_rejected_business_loses_its_applications():
    assert domain.rejects({"status": "rejected"})
    assert not domain.rejects({"status": "pending"})
