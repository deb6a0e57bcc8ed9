"""Booth allocation figures: CP-SAT against first-come-first-served on the same inputs.

    .venv/bin/python bench/allocation.py     (make bench runs every bench/*.py)

(a) 60 applicants on 80 booths (the 2025 expo's size, with room to grow): solve time and
    whether CP-SAT proves the allocation optimal.
(b) 2,000 applicants on 2,000 booths with the same-sector adjacency rule: the objective
    against the solver's bound (the gap), and the time.
(c) first-come-first-served on the inputs of (a) and (b): its objective as a ratio of CP-SAT's.
And (b) again with allocate()'s default time limit, which it hits: what a caller then gets.

The inputs are generated, seeded, so every run sees the same expo: a hall of back-to-back
rows of 3 x 3 m booths between 3 m aisles (corners at the row ends, islands on their own),
five zones, the registry's sectors and Malang's five kecamatan. Pure computation: no broker,
no database. It prints a table and, as its last line, one JSON object; it asserts nothing.
"""
import inspect
import json
import pathlib
import random
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from backbone.contracts import KECAMATAN  # noqa: E402
from services.expo.allocation import (NUM_WORKERS, Applicant, Booth, Zone,  # noqa: E402
                                      allocate, first_come_first_served, greedy)
from services.registry.contract import SECTORS  # noqa: E402

SEED = 2025
TIME_LIMIT_SECONDS = 30.0
# What a caller of allocate() gets without choosing a limit: the time limit hit on (b).
DEFAULT_LIMIT_SECONDS = inspect.signature(allocate).parameters["time_limit_seconds"].default
BOOTH_M = 3.0
AISLE_M = 3.0
ISLAND_M = 6.0
BOOTHS_PER_ROW = 10
ROWS_PER_BAND = 4  # back-to-back pairs of rows across each zone's band of the hall

ZONES = (  # (name, code prefix, share of the hall, sectors it welcomes; empty: all)
    ("kuliner", "KUL", 0.35, {"kuliner", "pertanian"}),
    ("fashion & batik", "FAB", 0.15, {"fashion"}),
    ("kerajinan", "KRJ", 0.15, {"kerajinan"}),
    ("ekonomi kreatif", "EKR", 0.15, {"ekonomi_kreatif", "jasa"}),
    ("koperasi", "KOP", 0.20, set()),
)
SECTOR_WEIGHTS = {"kuliner": 34, "fashion": 14, "kerajinan": 14, "pertanian": 9,
                  "ekonomi_kreatif": 12, "jasa": 5, "perdagangan": 12}
# Uneven on purpose: the spread term has something to do.
KECAMATAN_WEIGHTS = dict(zip(KECAMATAN, (26, 20, 9, 13, 32), strict=True))
ISLAND_SHARE = 0.05


def floor_plan(count):
    """Zones side by side as bands across the hall; in each band, blocks of two back-to-back
    rows; a few islands after each band's last block."""
    booths, x0 = [], 0.0
    for index, (name, prefix, share, _) in enumerate(ZONES):
        wanted = count - len(booths) if index == len(ZONES) - 1 else round(count * share)
        islands = round(wanted * ISLAND_SHARE)
        booths += _band(name, prefix, x0, wanted - islands, islands)
        x0 = max(b.x + b.width for b in booths) + AISLE_M
    return booths


def _band(zone, prefix, x0, row_booths, islands):
    booths, number = [], 0
    block_width = BOOTHS_PER_ROW * BOOTH_M
    block_height = 2 * BOOTH_M + AISLE_M
    blocks = -(-row_booths // (2 * BOOTHS_PER_ROW))
    columns = -(-blocks // ROWS_PER_BAND)
    for slot in range(row_booths):
        block, seat = divmod(slot, 2 * BOOTHS_PER_ROW)
        row, column = divmod(seat, BOOTHS_PER_ROW)
        block_x = x0 + (block // ROWS_PER_BAND) * (block_width + AISLE_M)
        block_y = (block % ROWS_PER_BAND) * block_height
        kind = "corner" if column in (0, BOOTHS_PER_ROW - 1) else "inline"
        number += 1
        booths.append(Booth(f"{prefix}-{number:04d}", zone, kind, block_x + column * BOOTH_M,
                            block_y + row * BOOTH_M, BOOTH_M, BOOTH_M))
    islands_x = x0 + columns * (block_width + AISLE_M)
    for island in range(islands):
        number += 1
        booths.append(Booth(f"{prefix}-{number:04d}", zone, "island", islands_x,
                            island * (ISLAND_M + AISLE_M), ISLAND_M, ISLAND_M))
    return booths


def zones():
    return [Zone(name, frozenset(sectors)) for name, _, _, sectors in ZONES]


def applicants(count, rng):
    welcoming = {sector: [name for name, _, _, sectors in ZONES if sector in sectors]
                 for sector in SECTORS}
    people = []
    for seq in range(count):
        sector = rng.choices(list(SECTOR_WEIGHTS), weights=list(SECTOR_WEIGHTS.values()))[0]
        preferred = welcoming[sector] + (["koperasi"] if rng.random() < 0.3 else [])
        export_ready = rng.random() < 0.15
        people.append(Applicant(
            application_id=f"app-{seq:05d}", business_id=f"biz-{seq:05d}", sector=sector,
            kecamatan=rng.choices(list(KECAMATAN_WEIGHTS),
                                  weights=list(KECAMATAN_WEIGHTS.values()))[0],
            preferred_zones=tuple(preferred) if rng.random() < 0.9 else (),
            booth_type=rng.choices([None, "inline", "corner", "island"], [60, 28, 9, 3])[0],
            export_ready=export_ready, flagship=rng.random() < (0.4 if export_ready else 0.05),
            first_time=rng.random() < 0.4, submitted_seq=seq))
    return people


def timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def run(label, booths, people, time_limit_seconds):
    best, seconds = timed(lambda: allocate(booths, zones(), people,
                                           time_limit_seconds=time_limit_seconds))
    baseline, baseline_seconds = timed(lambda: first_come_first_served(booths, zones(), people))
    fallback = greedy(booths, zones(), people)
    return {
        "label": label, "seconds": seconds, "optimal": best.optimal, "solver": best.solver,
        "objective": best.objective, "bound": best.bound,
        "gap_percent": 100.0 * (best.bound - best.objective) / best.bound,
        "placed": len(best.placements), "fcfs_objective": baseline.objective,
        "fcfs_placed": len(baseline.placements), "fcfs_seconds": baseline_seconds,
        "fcfs_ratio": baseline.objective / best.objective,
        "greedy_objective": fallback.objective,
        "greedy_ratio": fallback.objective / best.objective,
    }


def main():
    rng = random.Random(SEED)
    small = floor_plan(80), applicants(60, rng)
    large = floor_plan(2000), applicants(2000, rng)
    rows = [run("a: 60 applicants, 80 booths", *small, TIME_LIMIT_SECONDS),
            run("b: 2000 applicants, 2000 booths", *large, TIME_LIMIT_SECONDS),
            run(f"b, the default {DEFAULT_LIMIT_SECONDS:.0f} s limit", *large,
                DEFAULT_LIMIT_SECONDS)]
    print(f"\n{'case':<33} {'solver':>6} {'s':>7} {'optimal':>7} {'objective':>10} "
          f"{'bound':>10} {'gap %':>6} {'placed':>6} {'FCFS obj':>10} {'FCFS/CP-SAT':>11} "
          f"{'greedy/CP-SAT':>13}")
    for row in rows:
        print(f"{row['label']:<33} {row['solver']:>6} {row['seconds']:>7.2f} "
              f"{str(row['optimal']):>7} {row['objective']:>10} {row['bound']:>10} "
              f"{row['gap_percent']:>6.2f} {row['placed']:>6} {row['fcfs_objective']:>10} "
              f"{row['fcfs_ratio']:>11.3f} {row['greedy_ratio']:>13.3f}")
    print(f"\n(CP-SAT: {TIME_LIMIT_SECONDS:.0f} s limit unless the row says, {NUM_WORKERS} "
          "worker(s), seconds for the whole call; FCFS: submission "
          "order, first booth by code that keeps the hard rules; greedy: the fallback, best "
          "score first)")
    figures, ratios = {}, {}
    for row, key in zip(rows, ("a", "b", "b_default_limit"), strict=True):
        figures.update({f"{key}_seconds": round(row["seconds"], 2),
                        f"{key}_optimal": row["optimal"], f"{key}_objective": row["objective"],
                        f"{key}_bound": row["bound"], f"{key}_gap_percent":
                        round(row["gap_percent"], 3), f"{key}_placed": row["placed"],
                        f"{key}_fcfs_objective": row["fcfs_objective"]})
        ratios[f"{key}_fcfs_over_cp_sat"] = round(row["fcfs_ratio"], 3)
        ratios[f"{key}_greedy_over_cp_sat"] = round(row["greedy_ratio"], 3)
    print(json.dumps({"bench": "allocation", "figures": figures, "ratios": ratios}))


if __name__ == "__main__":
    main()
