"""Catalogue search on 100,000 products: the query plans PostgreSQL picks, with and without
the search indexes.

    .venv/bin/python bench/catalogue_search.py     (make bench runs every bench/*.py)

Creates a scratch database (``<prefix>bench_catalogue``, dropped at the end), migrates it as
the marketplace's, generates 100,000 products of 2,000 businesses (seeded; 95% verified) with
Malang's product names, and runs the listing's real SQL (services/marketplace/store.py) under
EXPLAIN ANALYZE: searches with spelling variants, filters, sorts and the facets. The baseline,
in the same run, is the same SQL with index scans switched off, i.e. what the GIN indexes
buy. Prints a table and, as its last line, one JSON object; it asserts nothing.
"""
import json
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from backbone import config  # noqa: E402
from backbone.db import Postgres  # noqa: E402
from backbone.migrate import drop_database, migrate  # noqa: E402
from services.marketplace import contract, store  # noqa: E402

PRODUCTS = 100_000
BUSINESSES = 2_000
SEED = 0.2025
REPEATS = 3

# Words the generated names and descriptions are made of: what Malang's UMKM sell.
NAMES = ["Keripik Tempe", "Keripik Singkong", "Keripik Apel", "Sari Apel", "Dodol Apel",
         "Batik Malangan", "Batik Tulis", "Kaos Arema", "Kopi Dampit", "Kopi Robusta",
         "Bakpao Telo", "Brownies Tempe", "Topeng Malangan", "Gerabah Dinoyo",
         "Sambal Bawang", "Jamu Kunyit Asam", "Madu Randu", "Tas Anyaman", "Sepatu Kulit",
         "Rengginang", "Kerupuk Udang", "Susu Kedelai", "Teh Rosella", "Gula Aren"]
PLACES = ["Sanan", "Dinoyo", "Tlogomas", "Kayutangan", "Blimbing", "Sukun", "Celaket",
          "Arjosari", "Tumpang", "Bumiaji", "Poncokusumo", "Lowokwaru"]
WORDS = ["renyah", "gurih", "asli", "oleh-oleh", "khas", "Malang", "tanpa", "pengawet",
         "tulis", "motif", "kemasan", "premium", "buatan", "tangan", "petani", "lokal",
         "manis", "pedas", "segar", "kayu", "kain", "katun", "robusta", "arabika"]

QUERIES = [  # (label, query)
    ("q=kripik tempe", {"q": "kripik tempe"}),
    ("q=batik malang", {"q": "batik malang"}),
    ("q=kopi dampit, price_asc", {"q": "kopi dampit", "sort": "price_asc"}),
    ("q=topeng, kecamatan", {"q": "topeng", "kecamatan": "klojen"}),
    ("newest, no q", {}),
    ("category + price range", {"category": "kerajinan", "min_price_idr": 20000,
                                "max_price_idr": 200000, "sort": "price_asc"}),
    ("featured", {"featured": True}),
]


def generate(tx):
    """Businesses and products by SQL, seeded: a generator in the database is seconds, not
    minutes of round trips."""
    tx.execute("SELECT setseed(%s)", (SEED,))
    tx.execute(
        """INSERT INTO businesses (id, owner_account_id, name, kind, sector, kecamatan, status,
                                   export_ready, export_ready_badge, version)
           SELECT gen_random_uuid(), gen_random_uuid(), 'Usaha ' || n, 'umkm', 'kuliner',
                  (ARRAY['klojen','blimbing','kedungkandang','sukun','lowokwaru'])[1 + n %% 5],
                  CASE WHEN n %% 20 = 0 THEN 'rejected' ELSE 'verified' END,
                  CASE WHEN n %% 7 = 0 THEN ARRAY['japan'] ELSE '{}' END, n %% 7 = 0, 1
             FROM generate_series(1, %s) n""", (BUSINESSES,))
    tx.execute(
        """WITH b AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM businesses)
           INSERT INTO products (id, business_id, name, description, category, price_idr,
                                 stock, unit, featured, hidden, hidden_reason, created_at)
           SELECT gen_random_uuid(), b.id,
                  (%(names)s::text[])[1 + (random() * 1000)::int %% cardinality(%(names)s)]
                  || ' ' ||
                  (%(places)s::text[])[1 + (random() * 1000)::int %% cardinality(%(places)s)],
                  (SELECT string_agg((%(words)s::text[])[1 + (random() * 1000 + g * 0)::int
                                               %% cardinality(%(words)s)], ' ')
                     FROM generate_series(1, 12 + p %% 5) g),
                  (ARRAY['makanan_minuman','kopi_teh','pertanian_olahan','batik_fashion',
                         'kerajinan','kesehatan_kecantikan','jasa'])[1 + p %% 7],
                  1000 * (5 + (random() * 500)::int), (random() * 100)::int, 'pcs',
                  p %% 200 = 7, p %% 100 = 0,
                  CASE WHEN p %% 100 = 0 THEN 'bench' END,
                  now() - make_interval(secs => p)
             FROM generate_series(1, %(count)s) p
             JOIN b ON b.n = 1 + p %% %(businesses)s""",
        {"names": NAMES, "places": PLACES, "words": WORDS, "count": PRODUCTS,
         "businesses": BUSINESSES})
    tx.execute("ANALYZE businesses")
    tx.execute("ANALYZE products")


class Explaining:
    """A transaction whose queries run under EXPLAIN ANALYZE: it keeps each plan's execution
    time and top node, and answers no rows."""

    def __init__(self, tx):
        self.tx = tx
        self.plans = []

    def all(self, sql, params=None):
        plan = self.tx.one(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)["QUERY PLAN"][0]
        self.plans.append(plan)
        return []


def _scans(node):
    found = {node["Node Type"]} if "Scan" in node["Node Type"] else set()
    for child in node.get("Plans", []):
        found |= _scans(child)
    return found


def measure(postgres, query, indexes):
    """Best of REPEATS: (listing ms, facets ms, scans used) for one query."""
    query = {"q": None} | query
    query["q"] = contract.normalise_query(query["q"])
    sort = contract.sort_of(query.get("sort"), query["q"])
    best = None
    for _ in range(REPEATS):
        with postgres.transaction() as tx:
            if not indexes:
                tx.execute("SET LOCAL enable_indexscan = off")
                tx.execute("SET LOCAL enable_bitmapscan = off")
            explaining = Explaining(tx)
            store.list_products(explaining, query, sort, 20, None)
            store.facets(explaining, query)
        times = [plan["Execution Time"] for plan in explaining.plans]
        scans = set().union(*(_scans(plan["Plan"]) for plan in explaining.plans))
        figures = (times[0], sum(times[1:]), scans)
        best = figures if best is None or figures[0] + figures[1] < best[0] + best[1] else best
    return best


def main():
    url = f"{config.env('LARIS_PG_URL').rstrip('/')}/{config.database_name('bench_catalogue')}"
    drop_database(url)
    migrate("marketplace", url=url)
    postgres = Postgres(url, source="bench", pool_size=1)
    try:
        started = time.monotonic()
        with postgres.transaction() as tx:
            generate(tx)
        generated_s = time.monotonic() - started
        rows = [(label, measure(postgres, query, True), measure(postgres, query, False))
                for label, query in QUERIES]
    finally:
        postgres.close()
        drop_database(url)
    print(f"{PRODUCTS:,} products of {BUSINESSES:,} businesses generated in {generated_s:.1f} s")
    print(f"{'query':28} {'page ms':>8} {'facets ms':>10} {'no-index page':>14} "
          f"{'no-index facets':>16}  scans (indexed)")
    figures, ratios = {}, {}
    for label, (page_ms, facets_ms, scans), (base_page_ms, base_facets_ms, _) in rows:
        print(f"{label:28} {page_ms:8.1f} {facets_ms:10.1f} {base_page_ms:14.1f} "
              f"{base_facets_ms:16.1f}  {', '.join(sorted(scans))}")
        figures[f"{label} page_ms"] = round(page_ms, 2)
        figures[f"{label} facets_ms"] = round(facets_ms, 2)
        ratios[f"{label} speed-up"] = round((base_page_ms + base_facets_ms)
                                            / (page_ms + facets_ms), 2)
    print(json.dumps({"bench": "catalogue_search", "figures": figures, "ratios": ratios}))


if __name__ == "__main__":
    main()
