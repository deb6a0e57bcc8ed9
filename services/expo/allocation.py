"""Booth allocation: who gets which booth at an expo, as an optimisation with reasons.

Pure: dataclasses in, dataclasses out; no database, broker or clock. The score and the hard
rules are written for the city's staff in docs/allocation.md; keep the two in step.

CP-SAT maximises ``tie_scale * (sum of pair scores + kecamatan spread) + tie``, where ``tie``
favours earlier submissions and all of it is worth less than one point of score. The model
(see "the optimisation" below) is exact without a boolean per (applicant, booth) pair.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping

from ortools.sat.python import cp_model

from backbone.contracts import KECAMATAN

BOOTH_TYPES = ("inline", "corner", "island")
# Booths closer than this (metres) count as neighbours even without a shared edge.
ADJACENCY_TOLERANCE_M = 0.5
# Edges overlapping by less than this (metres) only touch at a corner.
_MIN_SHARED_EDGE_M = 1e-6

# --- the score (points; docs/allocation.md) ---------------------------------------------------
SCORE_UNIT = 100  # every weight is a multiple: a bound can be rounded down to it
PLACEMENT = 1000
EXPORT_READY = 4000
FLAGSHIP = 4000
PREFERRED_ZONE = (400, 300, 200)  # first choice, second, third or later
REQUESTED_TYPE = 100
FIRST_TIME = 300
KECAMATAN_SPREAD = 500  # per exhibitor of a kecamatan, up to its fair share of the booths

# One worker: its search is deterministic, so the same inputs give the same allocation. A
# second (CP-SAT's first-solution and neighbourhood searches beside max_lp) raced it to equal
# scores with different placements and was no faster on 2,000 x 2,000 (bench/allocation.py).
NUM_WORKERS = 1


@dataclass(frozen=True)
class Booth:
    code: str
    zone: str
    booth_type: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Zone:
    name: str
    sectors: frozenset[str]  # empty: welcomes every sector


@dataclass(frozen=True)
class Applicant:
    application_id: str
    business_id: str
    sector: str
    kecamatan: str
    preferred_zones: tuple[str, ...]
    booth_type: str | None  # None: any type
    export_ready: bool
    flagship: bool
    first_time: bool
    submitted_seq: int


@dataclass(frozen=True)
class Reason:
    code: str
    id: str
    en: str


@dataclass(frozen=True)
class Placement:
    application_id: str
    business_id: str
    booth_code: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Waitlisted:
    application_id: str
    business_id: str
    position: int  # 1-based
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Allocation:
    placements: tuple[Placement, ...]
    waitlist: tuple[Waitlisted, ...]
    objective: int  # points of score, kecamatan spread included
    bound: int  # no allocation of these inputs scores more (see docs/allocation.md)
    optimal: bool
    solver: str  # "cp-sat" | "greedy" (the fallback) | "fcfs" (the baseline)


# --- geometry -----------------------------------------------------------------------------------

def _gap(start_a, length_a, start_b, length_b):
    """Distance between two intervals; negative: the length of their overlap."""
    return max(start_a, start_b) - min(start_a + length_a, start_b + length_b)


def are_adjacent(a: Booth, b: Booth) -> bool:
    """Side by side (or across a gap under the tolerance) along an edge of positive length;
    booths touching only at a corner are not neighbours."""
    gap_x = _gap(a.x, a.width, b.x, b.width)
    gap_y = _gap(a.y, a.height, b.y, b.height)
    return ((gap_x < ADJACENCY_TOLERANCE_M and -gap_y > _MIN_SHARED_EDGE_M)
            or (gap_y < ADJACENCY_TOLERANCE_M and -gap_x > _MIN_SHARED_EDGE_M))


def adjacent_pairs(booths: Iterable[Booth]) -> set[frozenset[str]]:
    """Every pair of neighbouring booths, by code. Sorted by x, a booth is compared only with
    those starting before its right edge plus the tolerance: no quadratic scan of a hall."""
    by_x = sorted(booths, key=lambda booth: (booth.x, booth.code))
    pairs = set()
    for index, booth in enumerate(by_x):
        reach = booth.x + booth.width + ADJACENCY_TOLERANCE_M
        for other in by_x[index + 1:]:
            if other.x >= reach:
                break
            if are_adjacent(booth, other):
                pairs.add(frozenset((booth.code, other.code)))
    return pairs


# --- the score ----------------------------------------------------------------------------------

def zone_welcomes(zones: Mapping[str, Zone], zone_name: str, sector: str) -> bool:
    zone = zones.get(zone_name)
    return zone is None or not zone.sectors or sector in zone.sectors


def type_fits(applicant: Applicant, booth: Booth) -> bool:
    return applicant.booth_type is None or applicant.booth_type == booth.booth_type


def priority_points(applicant: Applicant) -> int:
    """What an applicant earns wherever it is placed."""
    return (PLACEMENT + EXPORT_READY * applicant.export_ready + FLAGSHIP * applicant.flagship
            + FIRST_TIME * applicant.first_time
            + REQUESTED_TYPE * (applicant.booth_type is not None))


def zone_points(applicant: Applicant, zone_name: str) -> int:
    if zone_name not in applicant.preferred_zones:
        return 0
    rank = applicant.preferred_zones.index(zone_name)
    return PREFERRED_ZONE[min(rank, len(PREFERRED_ZONE) - 1)]


def score(applicant: Applicant, booth: Booth, zones: Iterable[Zone]) -> int:
    """Points for placing this applicant in this booth (0 when the pair breaks a rule of type
    or zone). The kecamatan spread is a term of the whole allocation, not of a pair."""
    return _score(applicant, booth, {zone.name: zone for zone in zones})


def _score(applicant: Applicant, booth: Booth, zones: Mapping[str, Zone]) -> int:
    if not (type_fits(applicant, booth) and zone_welcomes(zones, booth.zone, applicant.sector)):
        return 0
    return priority_points(applicant) + zone_points(applicant, booth.zone)


# --- the problem, as the solvers and the reasons see it ----------------------------------------

@dataclass
class _Problem:
    booths: dict[str, Booth]
    offerable: tuple[Booth, ...]  # by code
    zones: dict[str, Zone]
    neighbours: dict[str, set[str]]
    fixed: dict[str, Applicant]
    candidates: tuple[Applicant, ...]  # by submission
    fair_share: int
    tie_scale: int

    def __post_init__(self):
        self._rank = {a.application_id: rank for rank, a in enumerate(self.candidates)}
        self._by_id = {a.application_id: a for a in self.candidates}
        self._fitting = {}
        self.offerable_codes = {booth.code for booth in self.offerable}

    def applicant(self, application_id) -> Applicant:
        return self._by_id[application_id]

    def rank(self, application_id) -> int:
        """0 for the earliest submission."""
        return self._rank[application_id]

    def tie(self, applicant: Applicant) -> int:
        """1..n, larger for earlier submissions."""
        return len(self.candidates) - self._rank[applicant.application_id]

    def fitting_booths(self, applicant: Applicant) -> tuple[Booth, ...]:
        """Offerable booths of a fitting type and zone, not next to a fixed occupant of the
        same sector; the same for every applicant of a sector and booth type."""
        key = (applicant.sector, applicant.booth_type)
        if key not in self._fitting:
            self._fitting[key] = tuple(
                booth for booth in self.offerable
                if _score(applicant, booth, self.zones)
                and not self.has_neighbour_of_sector(booth.code, applicant.sector, self.fixed))
        return self._fitting[key]

    def has_neighbour_of_sector(self, code, sector, occupants: Mapping[str, Applicant]):
        return any(occupants[other].sector == sector
                   for other in self.neighbours.get(code, ()) if other in occupants)


def _problem(booths, zones, applicants, fixed, unavailable) -> _Problem:
    booths_by_code = {booth.code: booth for booth in booths}
    neighbours = defaultdict(set)
    for pair in adjacent_pairs(booths_by_code.values()):
        first, second = sorted(pair)
        neighbours[first].add(second)
        neighbours[second].add(first)
    fixed = dict(fixed)
    fixed_ids = {a.application_id for a in fixed.values()}
    offerable = tuple(sorted((b for b in booths_by_code.values()
                              if b.code not in fixed and b.code not in unavailable),
                             key=lambda booth: booth.code))
    candidates = tuple(sorted((a for a in applicants if a.application_id not in fixed_ids),
                              key=lambda a: (a.submitted_seq, a.application_id)))
    n = len(candidates)
    return _Problem(
        booths=booths_by_code, offerable=offerable,
        zones={zone.name: zone for zone in zones}, neighbours=neighbours, fixed=fixed,
        candidates=candidates,
        fair_share=max(1, (len(offerable) + len(fixed)) // len(KECAMATAN)),
        # Larger than the sum of every tie term: a point of score outweighs any tie-break.
        tie_scale=n * (n + 1) // 2 + 1)


def _spread_points(problem: _Problem, placed: Iterable[Applicant]) -> int:
    per_kecamatan = _kecamatan_counts(problem, placed)
    return KECAMATAN_SPREAD * sum(min(count, problem.fair_share)
                                  for count in per_kecamatan.values())


def _kecamatan_counts(problem, placed):
    counts = defaultdict(int)
    for applicant in [*problem.fixed.values(), *placed]:
        counts[applicant.kecamatan] += 1
    return counts


def _objective(problem: _Problem, assignment: Mapping[str, Booth]) -> int:
    placed = [a for a in problem.candidates if a.application_id in assignment]
    return (sum(_score(a, assignment[a.application_id], problem.zones) for a in placed)
            + _spread_points(problem, placed))


def _simple_bound(problem: _Problem) -> int:
    """No allocation beats this: the best pair score of as many applicants as there are
    booths, one per business, plus a full kecamatan spread."""
    best, fixed_businesses = {}, _fixed_businesses(problem)
    for applicant in problem.candidates:
        booths = problem.fitting_booths(applicant)
        if booths and applicant.business_id not in fixed_businesses:
            points = max(_score(applicant, b, problem.zones) for b in booths)
            best[applicant.business_id] = max(best.get(applicant.business_id, 0), points)
    top = sorted(best.values(), reverse=True)[:len(problem.offerable)]
    reachable = _kecamatan_counts(problem, problem.candidates)
    spread = KECAMATAN_SPREAD * sum(min(count, problem.fair_share)
                                    for count in reachable.values())
    return sum(top) + spread


def _fixed_businesses(problem):
    return {a.business_id for a in problem.fixed.values()}


# --- sequential placement: the baseline and the fallback ---------------------------------------

def _place_in_order(problem: _Problem, order, booth_order) -> dict[str, Booth]:
    """Each applicant in turn takes the first booth of its own order that keeps every hard
    rule, given those placed before it."""
    occupants = dict(problem.fixed)
    businesses = _fixed_businesses(problem)
    assignment = {}
    for applicant in order:
        if applicant.business_id in businesses:
            continue
        for booth in booth_order(applicant):
            if booth.code not in occupants and not problem.has_neighbour_of_sector(
                    booth.code, applicant.sector, occupants):
                occupants[booth.code] = applicant
                businesses.add(applicant.business_id)
                assignment[applicant.application_id] = booth
                break
    return assignment


def _greedy_assignment(problem: _Problem) -> dict[str, Booth]:
    def best_first(applicant):
        return sorted(problem.fitting_booths(applicant),
                      key=lambda b: (-_score(applicant, b, problem.zones), b.code))
    order = sorted(problem.candidates, key=lambda a: (-_best_score(problem, a), a.submitted_seq,
                                                      a.application_id))
    return _place_in_order(problem, order, best_first)


def _best_score(problem, applicant):
    booths = problem.fitting_booths(applicant)
    return max((_score(applicant, b, problem.zones) for b in booths),
               default=priority_points(applicant))


def _heuristic_allocation(problem, assignment, solver) -> Allocation:
    objective, bound = _objective(problem, assignment), _simple_bound(problem)
    return _allocation(problem, assignment, objective, bound, objective >= bound, solver)


def first_come_first_served(booths, zones, applicants, fixed: Mapping[str, Applicant] = {},
                            unavailable: frozenset[str] = frozenset()) -> Allocation:
    """The spreadsheet way, as a baseline: in order of submission, each applicant takes the
    first booth (by code) that keeps the hard rules."""
    problem = _problem(booths, zones, applicants, fixed, unavailable)
    assignment = _place_in_order(problem, problem.candidates, problem.fitting_booths)
    return _heuristic_allocation(problem, assignment, "fcfs")


def greedy(booths, zones, applicants, fixed: Mapping[str, Applicant] = {},
           unavailable: frozenset[str] = frozenset()) -> Allocation:
    """The fallback: applicants by descending best score, each in its best booth still free
    that keeps the hard rules."""
    problem = _problem(booths, zones, applicants, fixed, unavailable)
    return _heuristic_allocation(problem, _greedy_assignment(problem), "greedy")


# --- the optimisation ---------------------------------------------------------------------------
#
# A pair's score depends on the booth only through its zone and type, so the model does not
# need a boolean per (applicant, booth): it decides which sector sits in each booth
# (``sector_at``) and which group of booths, a (zone, booth type), each applicant goes to
# (``joins``), with as many applicants of a sector in a group as the group has booths given to
# that sector. Any matching inside a group then scores the same. The model is exact (its bound
# is that of the whole problem), far smaller (applicants x groups + booths x sectors), and has
# none of the symmetry of interchangeable booths.

class _Model:
    def __init__(self, problem: _Problem):
        self.problem = problem
        self.model = cp_model.CpModel()
        self.sector_at = self._sector_variables()
        self.joins = self._group_variables()
        self._one_group_per_business()
        self._one_sector_per_booth_and_none_beside_itself()
        self._as_many_applicants_as_booths()
        self.spread = self._spread_variables()
        self.model.maximize(self._score_terms() + problem.tie_scale * KECAMATAN_SPREAD
                            * sum(self.spread.values()))

    def _sector_variables(self):
        """(booth code, sector) -> BoolVar, for each booth a sector may take."""
        fixed_businesses = _fixed_businesses(self.problem)
        # Applicants of one sector asking for one booth type fit the same booths.
        alike = {(a.sector, a.booth_type): a for a in self.problem.candidates
                 if a.business_id not in fixed_businesses}
        variables = {}
        for _, applicant in sorted(alike.items(), key=lambda item: str(item[0])):
            for booth in self.problem.fitting_booths(applicant):
                key = (booth.code, applicant.sector)
                if key not in variables:
                    variables[key] = self.model.new_bool_var(f"sector[{key[0]},{key[1]}]")
        return variables

    def _group_variables(self):
        """(application id, zone, booth type) -> BoolVar, for each group with a fitting
        booth."""
        fixed_businesses = _fixed_businesses(self.problem)
        variables = {}
        for applicant in self.problem.candidates:
            if applicant.business_id in fixed_businesses:
                continue
            for zone, booth_type in sorted({(b.zone, b.booth_type)
                                            for b in self.problem.fitting_booths(applicant)}):
                key = (applicant.application_id, zone, booth_type)
                variables[key] = self.model.new_bool_var(f"joins[{'|'.join(key)}]")
        return variables

    def _one_group_per_business(self):
        per_business = defaultdict(list)
        for key, variable in self.joins.items():
            per_business[self.problem.applicant(key[0]).business_id].append(variable)
        for variables in per_business.values():
            self.model.add_at_most_one(variables)

    def _one_sector_per_booth_and_none_beside_itself(self):
        per_booth = defaultdict(list)
        for (code, _), variable in self.sector_at.items():
            per_booth[code].append(variable)
        for variables in per_booth.values():
            self.model.add_at_most_one(variables)
        for (code, sector), variable in self.sector_at.items():
            for other in sorted(self.problem.neighbours.get(code, ())):
                if other > code and (other, sector) in self.sector_at:
                    self.model.add_at_most_one([variable, self.sector_at[other, sector]])

    def _as_many_applicants_as_booths(self):
        booths = defaultdict(list)
        for (code, sector), variable in self.sector_at.items():
            booth = self.problem.booths[code]
            booths[booth.zone, booth.booth_type, sector].append(variable)
        applicants = defaultdict(list)
        for (application_id, zone, booth_type), variable in self.joins.items():
            sector = self.problem.applicant(application_id).sector
            applicants[zone, booth_type, sector].append(variable)
        for group in sorted(set(booths) | set(applicants)):
            self.model.add(sum(applicants[group]) == sum(booths[group]))

    def _spread_variables(self):
        """Per kecamatan, min(exhibitors, fair share): the maximisation makes each variable
        reach it."""
        problem = self.problem
        joined = defaultdict(list)
        for (application_id, _, _), variable in self.joins.items():
            joined[problem.applicant(application_id).kecamatan].append(variable)
        fixed_counts = _kecamatan_counts(problem, ())
        spread = {}
        for kecamatan in sorted(set(joined) | set(fixed_counts)):
            spread[kecamatan] = self.model.new_int_var(0, problem.fair_share,
                                                       f"spread[{kecamatan}]")
            self.model.add(spread[kecamatan] <= fixed_counts[kecamatan] + sum(joined[kecamatan]))
        return spread

    def _score_terms(self):
        problem = self.problem
        weights = []
        for application_id, zone, _ in self.joins:
            applicant = problem.applicant(application_id)
            weights.append(problem.tie_scale * (priority_points(applicant)
                                                + zone_points(applicant, zone))
                           + problem.tie(applicant))
        return cp_model.LinearExpr.weighted_sum(list(self.joins.values()), weights)

    def hint(self, assignment: Mapping[str, Booth]):
        """Start from a whole allocation (the greedy one): every variable hinted."""
        problem = self.problem
        for (application_id, zone, booth_type), variable in self.joins.items():
            booth = assignment.get(application_id)
            self.model.add_hint(variable, booth is not None and (booth.zone, booth.booth_type)
                                == (zone, booth_type))
        sectors = {booth.code: problem.applicant(application_id).sector
                   for application_id, booth in assignment.items()}
        for (code, sector), variable in self.sector_at.items():
            self.model.add_hint(variable, sectors.get(code) == sector)
        placed = [problem.applicant(application_id) for application_id in assignment]
        counts = _kecamatan_counts(problem, placed)
        for kecamatan, variable in self.spread.items():
            self.model.add_hint(variable, min(counts[kecamatan], problem.fair_share))

    def solve(self, time_limit_seconds):
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = time_limit_seconds
        solver.parameters.num_workers = NUM_WORKERS
        solver.parameters.random_seed = 0
        # The full problem is searched with the LP that also holds the neighbour rule: the
        # default worker leaves those pairs out of its LP and cannot close the gap.
        solver.parameters.subsolvers.append("max_lp")
        # Stop once the score is proven: the tie-break alone is not worth the time limit.
        solver.parameters.absolute_gap_limit = self.problem.tie_scale - 1
        status = solver.solve(self.model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        return self._assignment(solver), self._score_bound(solver.best_objective_bound)

    def _score_bound(self, objective_bound) -> int:
        """The bound in points: the tie-break is worth less than a point, and every score is
        a multiple of SCORE_UNIT."""
        points = math.floor(objective_bound / self.problem.tie_scale)
        return points - points % SCORE_UNIT

    def _assignment(self, solver) -> dict[str, Booth]:
        """Inside each (zone, booth type, sector), applicants in submission order take the
        booths given to that sector in order of code."""
        problem = self.problem
        booths = defaultdict(list)
        for (code, sector), variable in sorted(self.sector_at.items()):
            if solver.boolean_value(variable):
                booth = problem.booths[code]
                booths[booth.zone, booth.booth_type, sector].append(booth)
        chosen = [key for key, variable in self.joins.items() if solver.boolean_value(variable)]
        assignment = {}
        chosen.sort(key=lambda key: problem.rank(key[0]))
        for application_id, zone, booth_type in chosen:
            sector = problem.applicant(application_id).sector
            assignment[application_id] = booths[zone, booth_type, sector].pop(0)
        return assignment


def allocate(booths, zones, applicants, fixed: Mapping[str, Applicant] = {},
             unavailable: frozenset[str] = frozenset(),
             time_limit_seconds: float = 10.0) -> Allocation:
    """The best allocation CP-SAT finds within the time limit; the greedy one if it finds
    none (or fails)."""
    problem = _problem(booths, zones, applicants, fixed, unavailable)
    fallback = _greedy_assignment(problem)
    model = _Model(problem)
    model.hint(fallback)
    solved = model.solve(time_limit_seconds)
    if solved is None:
        return _heuristic_allocation(problem, fallback, "greedy")
    assignment, bound = solved
    objective = _objective(problem, assignment)
    return _allocation(problem, assignment, objective, bound, objective >= bound, "cp-sat")


# --- reasons ------------------------------------------------------------------------------------

def _allocation(problem, assignment, objective, bound, optimal, solver) -> Allocation:
    placed = [a for a in problem.candidates if a.application_id in assignment]
    counts = _kecamatan_counts(problem, placed)
    placements = tuple(sorted(
        (Placement(a.application_id, a.business_id, assignment[a.application_id].code,
                   _placement_reasons(problem, a, assignment[a.application_id], counts))
         for a in placed),
        key=lambda placement: placement.booth_code))
    return Allocation(placements, _waitlist(problem, assignment), objective, bound, optimal,
                      solver)


def _placement_reasons(problem, applicant, booth, kecamatan_counts) -> tuple[Reason, ...]:
    reasons = [_priority_reason(applicant)] if applicant.export_ready or applicant.flagship \
        else []
    if booth.zone in applicant.preferred_zones:
        reasons.append(Reason("preferred_zone", f"zona pilihan ({booth.zone}) terpenuhi",
                              f"preferred zone ({booth.zone}) met"))
    elif applicant.preferred_zones:
        wanted = ", ".join(applicant.preferred_zones)
        reasons.append(Reason(
            "other_zone", f"zona pilihan ({wanted}) tidak tersedia; ditempatkan di {booth.zone}",
            f"preferred zone ({wanted}) not available; placed in {booth.zone}"))
    if applicant.booth_type is not None:
        reasons.append(Reason("booth_type", f"tipe stan {booth.booth_type} sesuai permintaan",
                              f"{booth.booth_type} booth as requested"))
    if applicant.first_time:
        reasons.append(Reason("first_time", "peserta pertama kali: diutamakan",
                              "first-time exhibitor: favoured"))
    count = kecamatan_counts[applicant.kecamatan]
    if count <= problem.fair_share:
        name = applicant.kecamatan.title()
        reasons.append(Reason(
            "kecamatan_spread",
            f"pemerataan kecamatan: {count} stan untuk {name}, dalam jatah adil "
            f"{problem.fair_share}",
            f"fair spread over kecamatan: {count} booths for {name}, within its fair share "
            f"of {problem.fair_share}"))
    return tuple(reasons)


def _priority_reason(applicant) -> Reason:
    if applicant.export_ready and applicant.flagship:
        return Reason("export_ready_flagship", "Siap ekspor dan produk unggulan: prioritas utama",
                      "Export-ready with a flagship product: top priority")
    if applicant.export_ready:
        return Reason("export_ready", "Siap ekspor: prioritas", "Export-ready: priority")
    return Reason("flagship", "Produk unggulan kota: prioritas",
                  "The city's flagship product (produk unggulan): priority")


def _waitlist(problem, assignment) -> tuple[Waitlisted, ...]:
    occupants = dict(problem.fixed)
    for applicant in problem.candidates:
        if applicant.application_id in assignment:
            occupants[assignment[applicant.application_id].code] = applicant
    businesses = {a.business_id for a in occupants.values()}
    waiting = sorted((a for a in problem.candidates if a.application_id not in assignment),
                     key=lambda a: (-_best_score(problem, a), a.submitted_seq,
                                    a.application_id))
    return tuple(
        Waitlisted(a.application_id, a.business_id, position,
                   (_waitlist_reason(problem, a, occupants, businesses, position),))
        for position, a in enumerate(waiting, start=1))


def _waitlist_reason(problem, applicant, occupants, businesses, position) -> Reason:
    code, why_id, why_en = _why_not_placed(problem, applicant, occupants, businesses)
    return Reason(code, f"{why_id}; posisi {position} dalam daftar tunggu",
                  f"{why_en}; position {position} on the waitlist")


def _why_not_placed(problem, applicant, occupants, businesses):
    if applicant.business_id in businesses:
        return ("business_has_booth", "usaha ini sudah mendapat stan",
                "this business already has a booth")
    sector = applicant.sector
    welcoming = [b for b in problem.booths.values()
                 if zone_welcomes(problem.zones, b.zone, sector)]
    if not welcoming:
        return ("no_zone_for_sector", f"tidak ada zona yang menerima sektor {sector}",
                f"no zone welcomes the {sector} sector")
    fitting = [b for b in welcoming if type_fits(applicant, b)]
    if not fitting:
        return ("no_booth_type", f"tidak ada stan yang sesuai tipe {applicant.booth_type}",
                f"no {applicant.booth_type} booth in a zone for the {sector} sector")
    zones = _zone_names(applicant, fitting)
    free = [b for b in fitting if b.code in problem.offerable_codes and b.code not in occupants]
    if not free:
        return ("zone_full", f"zona {zones} penuh", f"{zones} zone full")
    if all(problem.has_neighbour_of_sector(b.code, sector, occupants) for b in free):
        return ("adjacency",
                f"stan yang masih kosong di zona {zones} bersebelahan dengan usaha sektor "
                f"{sector} lain",
                f"every free booth in the {zones} zone is next to another {sector} business")
    # Only when the search stopped short of the optimum: placing it would score more.
    return ("booth_still_free", "masih ada stan yang sesuai; ditempatkan pada alokasi berikutnya",
            "a fitting booth is still free; the next allocation run places it")


def _zone_names(applicant, booths) -> str:
    names = sorted({b.zone for b in booths},
                   key=lambda name: (name not in applicant.preferred_zones,
                                     applicant.preferred_zones.index(name)
                                     if name in applicant.preferred_zones else 0, name))
    return " / ".join(names)
