"""The booth allocation on small plans checked by hand, and properties on random ones: no
allocation, optimal, greedy or first-come-first-served, ever breaks a hard rule."""
import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from services.expo import allocation
from services.expo.allocation import (Applicant, Booth, Zone, adjacent_pairs, allocate,
                                      first_come_first_served, greedy, score)

KULINER = Zone("kuliner", frozenset({"kuliner"}))
FASHION = Zone("fashion & batik", frozenset({"fashion"}))


def booth(code, x, y=0.0, zone="kuliner", booth_type="inline", width=3.0, height=3.0):
    return Booth(code, zone, booth_type, x, y, width, height)


def applicant(seq, sector="kuliner", kecamatan="klojen", preferred=("kuliner",),
              booth_type=None, export_ready=False, flagship=False, first_time=False,
              business=None):
    return Applicant(f"app-{seq}", business or f"biz-{seq}", sector, kecamatan,
                     tuple(preferred), booth_type, export_ready, flagship, first_time, seq)


def row(count, zone="kuliner", prefix="K"):
    """Booths side by side along x, each sharing an edge with the next."""
    return [booth(f"{prefix}{n}", 3.0 * n, zone=zone) for n in range(1, count + 1)]


def placed_booths(result):
    return {p.application_id: p.booth_code for p in result.placements}


# --- geometry -------------------------------------------------------------------------------

def test_neighbours_share_an_edge_or_a_small_gap_never_only_a_corner():
    a = booth("A", 0, 0)
    b = booth("B", 3, 0)            # shares A's right edge
    c = booth("C", 3, 3)            # touches A only at the corner (3, 3); on top of B
    d = booth("D", 6.3, 0)          # 0.3 m from B: across the tolerance, a neighbour
    e = booth("E", 9.9, 0)          # 0.6 m from D: an aisle, not a neighbour
    f = booth("F", -3.2, 3.2)       # 0.2 m from A on both axes, no shared edge: diagonal
    assert adjacent_pairs([a, b, c, d, e, f]) == {
        frozenset("AB"), frozenset("BC"), frozenset("BD")}


# --- the score ------------------------------------------------------------------------------

def test_score_puts_export_ready_and_flagship_first_and_counts_each_wish():
    plain = applicant(1, preferred=())
    assert score(plain, booth("K1", 0), [KULINER]) == allocation.PLACEMENT
    wishes = applicant(2, preferred=("fashion & batik", "kuliner"), booth_type="inline",
                       first_time=True)
    assert score(wishes, booth("K1", 0), [KULINER]) == (
        allocation.PLACEMENT + allocation.PREFERRED_ZONE[1] + allocation.REQUESTED_TYPE
        + allocation.FIRST_TIME)
    star = applicant(3, preferred=(), export_ready=True, flagship=True)
    assert score(star, booth("K1", 0), [KULINER]) > 2 * score(wishes, booth("K1", 0), [KULINER])


def test_score_is_zero_for_a_booth_of_another_type_or_a_zone_closed_to_the_sector():
    zones = [KULINER, FASHION]
    assert score(applicant(1, booth_type="corner"), booth("K1", 0), zones) == 0
    assert score(applicant(2), booth("F1", 0, zone="fashion & batik"), zones) == 0
    # A zone not described welcomes every sector.
    assert score(applicant(3), booth("X1", 0, zone="halaman"), zones) > 0


def test_every_weight_is_a_multiple_of_the_score_unit():
    weights = [allocation.PLACEMENT, allocation.EXPORT_READY, allocation.FLAGSHIP,
               allocation.REQUESTED_TYPE, allocation.FIRST_TIME, allocation.KECAMATAN_SPREAD,
               *allocation.PREFERRED_ZONE]
    assert all(weight % allocation.SCORE_UNIT == 0 for weight in weights)


# --- optimisation against first-come-first-served -------------------------------------------

def test_first_come_first_served_is_provably_worse_than_the_optimum():
    """The early applicant takes the only corner in FCFS; the later one asked for a corner
    and is left out. The optimum gives the corner to the one who asked for it."""
    booths = [booth("K1", 0, booth_type="corner"), booth("K2", 10)]
    applicants = [applicant(1, kecamatan="klojen"),
                  applicant(2, kecamatan="sukun", booth_type="corner")]
    early, asked = 1000 + 400, 1000 + 400 + 100
    spread = 500  # each kecamatan's fair share is max(1, 2 booths // 5) = 1

    baseline = first_come_first_served(booths, [KULINER], applicants)
    assert placed_booths(baseline) == {"app-1": "K1"}
    assert baseline.objective == early + spread

    best = allocate(booths, [KULINER], applicants)
    assert placed_booths(best) == {"app-1": "K2", "app-2": "K1"}
    assert best.objective == early + asked + 2 * spread == best.bound
    assert best.optimal and best.solver == "cp-sat"


def test_export_ready_flagship_takes_the_last_booth_over_earlier_submissions():
    applicants = [applicant(1), applicant(2),
                  applicant(3, export_ready=True, flagship=True)]
    result = allocate(row(1), [KULINER], applicants)
    assert placed_booths(result) == {"app-3": "K1"}
    assert [r.id for r in result.placements[0].reasons] == [
        "Siap ekspor dan produk unggulan: prioritas utama", "zona pilihan (kuliner) terpenuhi",
        "pemerataan kecamatan: 1 stan untuk Klojen, dalam jatah adil 1"]


# --- hard rules -----------------------------------------------------------------------------

def test_no_two_businesses_of_a_sector_side_by_side():
    applicants = [applicant(1), applicant(2), applicant(3)]
    result = allocate(row(3), [KULINER], applicants)
    assert placed_booths(result) == {"app-1": "K1", "app-2": "K3"}
    (waiting,) = result.waitlist
    assert waiting.application_id == "app-3"
    assert waiting.reasons[0].code == "adjacency"


def test_a_different_sector_fills_the_booth_between():
    open_zone = Zone("koperasi", frozenset())
    booths = row(3, zone="koperasi")
    applicants = [applicant(1, preferred=()), applicant(2, preferred=()),
                  applicant(3, sector="fashion", preferred=())]
    result = allocate(booths, [open_zone], applicants)
    assert placed_booths(result) == {"app-1": "K1", "app-2": "K3", "app-3": "K2"}
    assert result.waitlist == ()


def test_fixed_occupants_stay_and_their_neighbours_respect_them():
    booths = row(3, zone="koperasi")
    held = applicant(0)
    applicants = [held, applicant(1), applicant(2, sector="fashion", preferred=())]
    result = allocate(booths, [Zone("koperasi", frozenset())], applicants, fixed={"K2": held})
    placed = placed_booths(result)
    assert "app-0" not in placed and "K2" not in placed.values()
    assert "app-0" not in {w.application_id for w in result.waitlist}
    assert placed == {"app-2": "K1"}
    assert [(w.application_id, w.reasons[0].code) for w in result.waitlist] == [
        ("app-1", "adjacency")]


def test_one_booth_per_business_even_with_two_applications():
    applicants = [applicant(1, business="biz-x"), applicant(2, sector="fashion",
                                                               business="biz-x")]
    result = allocate(row(2, zone="koperasi"), [], applicants)
    assert list(placed_booths(result)) == ["app-1"]
    assert result.waitlist[0].reasons[0].code == "business_has_booth"


def test_unavailable_booths_are_never_offered():
    result = allocate(row(2), [KULINER], [applicant(1)], unavailable=frozenset({"K1"}))
    assert placed_booths(result) == {"app-1": "K2"}


def test_booth_type_and_zone_decide_where_each_may_go():
    zones = [KULINER, FASHION]
    booths = [booth("FAB-1", 0, zone="fashion & batik", booth_type="island"),
              booth("KOP-1", 20, zone="koperasi", booth_type="corner"),
              booth("KUL-1", 40, booth_type="inline")]
    applicants = [applicant(1, sector="fashion", booth_type="island"),
                  applicant(2, booth_type="island"),
                  applicant(3, sector="kerajinan", preferred=())]
    result = allocate(booths, zones, applicants)
    assert placed_booths(result) == {"app-1": "FAB-1", "app-3": "KOP-1"}
    (waiting,) = result.waitlist
    assert waiting.reasons[0].code == "no_booth_type"
    assert waiting.reasons[0].id == (
        "tidak ada stan yang sesuai tipe island; posisi 1 dalam daftar tunggu")
    placement = {p.application_id: p for p in result.placements}["app-1"]
    assert "tipe stan island sesuai permintaan" in [r.id for r in placement.reasons]
    assert "island booth as requested" in [r.en for r in placement.reasons]


# --- the waitlist ---------------------------------------------------------------------------

def test_waitlist_by_score_then_submission_with_reasons_in_both_languages():
    applicants = [applicant(1), applicant(2, first_time=True), applicant(3),
                  applicant(4, export_ready=True)]
    result = allocate(row(1), [KULINER], applicants)
    assert placed_booths(result) == {"app-4": "K1"}
    assert [(w.application_id, w.position) for w in result.waitlist] == [
        ("app-2", 1), ("app-1", 2), ("app-3", 3)]
    last = result.waitlist[-1].reasons[0]
    assert (last.code, last.id, last.en) == (
        "zone_full", "zona kuliner penuh; posisi 3 dalam daftar tunggu",
        "kuliner zone full; position 3 on the waitlist")


def test_a_sector_no_zone_welcomes_is_told_so():
    result = allocate(row(1), [KULINER], [applicant(1, sector="jasa", preferred=())])
    assert result.placements == ()
    assert result.waitlist[0].reasons[0].en == (
        "no zone welcomes the jasa sector; position 1 on the waitlist")


# --- determinism ----------------------------------------------------------------------------

def test_the_same_inputs_give_the_same_allocation():
    zones = [KULINER, FASHION, Zone("koperasi", frozenset())]
    booths = [booth(f"{zone.name[:3].upper()}-{row_}{col}", 3.0 * col + 40 * index,
                    3.0 * row_, zone=zone.name, booth_type="corner" if col in (0, 4) else "inline")
              for index, zone in enumerate(zones) for row_ in range(2) for col in range(5)]
    sectors = ("kuliner", "fashion", "kerajinan")
    kecamatan = ("klojen", "blimbing", "kedungkandang", "sukun", "lowokwaru")
    applicants = [applicant(n, sector=sectors[n % 3], kecamatan=kecamatan[n % 5],
                            preferred=(zones[n % 3].name,), export_ready=n % 7 == 0,
                            first_time=n % 2 == 0)
                  for n in range(36)]
    runs = [allocate(booths, zones, applicants) for _ in range(3)]
    assert runs[0].optimal
    assert runs[0] == runs[1] == runs[2]


def test_without_time_to_search_the_greedy_fallback_answers():
    booths = row(4)
    applicants = [applicant(1), applicant(2, export_ready=True), applicant(3)]
    result = allocate(booths, [KULINER], applicants, time_limit_seconds=0.0)
    assert result.solver == "greedy"
    # Greedy takes the best score first: the export-ready applicant, in the first booth.
    assert placed_booths(result) == {"app-2": "K1", "app-1": "K3"}
    assert result.objective <= result.bound


# --- properties: no allocation ever breaks a hard rule --------------------------------------

SECTORS = ("kuliner", "fashion", "kerajinan")
ZONE_NAMES = ("kuliner", "fashion & batik", "koperasi")


@st.composite
def plans(draw):
    cells = draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2)), min_size=1,
                          max_size=9, unique=True))
    gap = draw(st.sampled_from((0.0, 0.3, 1.0)))
    booths = [Booth(f"B{x}{y}", draw(st.sampled_from(ZONE_NAMES)),
                    draw(st.sampled_from(allocation.BOOTH_TYPES)),
                    x * (3.0 + gap), y * (3.0 + gap), 3.0, 3.0) for x, y in cells]
    zones = [Zone(name, frozenset(draw(st.sets(st.sampled_from(SECTORS), max_size=2))))
             for name in ZONE_NAMES[:2]]
    people = [Applicant(f"app-{n}", f"biz-{draw(st.integers(0, 6))}",
                        draw(st.sampled_from(SECTORS)),
                        draw(st.sampled_from(("klojen", "sukun", "blimbing"))),
                        tuple(draw(st.lists(st.sampled_from(ZONE_NAMES), max_size=2,
                                            unique=True))),
                        draw(st.sampled_from((None, *allocation.BOOTH_TYPES))),
                        draw(st.booleans()), draw(st.booleans()), draw(st.booleans()), n)
              for n in range(draw(st.integers(0, 9)))]
    codes = [b.code for b in booths]
    fixed_codes = draw(st.sets(st.sampled_from(codes), max_size=2))
    # Earlier decisions kept the rules too: one booth per business among them.
    one_per_business = list({person.business_id: person for person in people}.values())
    fixed = {code: dataclasses.replace(person, submitted_seq=-1)
             for code, person in zip(sorted(fixed_codes), one_per_business, strict=False)}
    unavailable = frozenset(draw(st.sets(st.sampled_from(codes), max_size=2))) - set(fixed)
    return booths, zones, people, fixed, unavailable


def assert_keeps_the_hard_rules(plan, result):
    booths, zones, people, fixed, unavailable = plan
    by_code = {b.code: b for b in booths}
    zone_of = {z.name: z for z in zones}
    fixed_ids = {a.application_id for a in fixed.values()}
    by_id = {a.application_id: a for a in people}
    occupants = dict(fixed)
    for placement in result.placements:
        assert placement.booth_code in by_code
        assert placement.booth_code not in occupants, "two applicants in one booth"
        assert placement.booth_code not in unavailable
        occupants[placement.booth_code] = by_id[placement.application_id]
    businesses = [a.business_id for a in occupants.values()]
    assert len(businesses) == len(set(businesses)), "a business in two booths"
    for placement in result.placements:
        spot, person = by_code[placement.booth_code], by_id[placement.application_id]
        assert person.booth_type in (None, spot.booth_type)
        zone = zone_of.get(spot.zone)
        assert zone is None or not zone.sectors or person.sector in zone.sectors
    for first, second in adjacent_pairs(booths):
        # Two fixed occupants were placed by hand: only the allocation's own choices count.
        if first in occupants and second in occupants and not {first, second} <= set(fixed):
            assert occupants[first].sector != occupants[second].sector, "same sector adjacent"
    decided = [p.application_id for p in result.placements] + [
        w.application_id for w in result.waitlist]
    assert sorted(decided) == sorted(a.application_id for a in people
                                     if a.application_id not in fixed_ids)
    assert [w.position for w in result.waitlist] == list(range(1, len(result.waitlist) + 1))
    assert all(w.reasons and w.reasons[0].id and w.reasons[0].en for w in result.waitlist)
    assert result.objective <= result.bound


@settings(max_examples=60, deadline=None)
@given(plans())
def test_no_allocation_breaks_a_hard_rule(plan):
    best = allocate(*plan, time_limit_seconds=5.0)
    for result in (best, greedy(*plan), first_come_first_served(*plan)):
        assert_keeps_the_hard_rules(plan, result)
    if best.optimal:
        assert best.objective >= greedy(*plan).objective
        assert best.objective >= first_come_first_served(*plan).objective
