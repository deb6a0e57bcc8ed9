"""The marketplace's SQL. Every function takes an open transaction; ids arrive parsed."""
from services.marketplace import domain

# --- catalogue ---

BUSINESS_COLUMNS = ("id, owner_account_id, name, kind, sector, kecamatan, status, export_ready, "
                    "export_ready_badge, version")


# --- the read model of businesses ---

def save_business(tx, snapshot, version):
    """The business as its newest fact describes it (every field, never a change)."""
    tx.execute(
        """INSERT INTO businesses (id, owner_account_id, name, kind, sector, kecamatan, status,
                                   export_ready, export_ready_badge, version)
           VALUES (%(business_id)s, %(owner_account_id)s, %(name)s, %(kind)s, %(sector)s,
                   %(kecamatan)s, %(status)s, %(export_ready)s, %(export_ready_badge)s,
                   %(version)s)
           ON CONFLICT (id) DO UPDATE SET
               owner_account_id = EXCLUDED.owner_account_id, name = EXCLUDED.name,
               kind = EXCLUDED.kind, sector = EXCLUDED.sector, kecamatan = EXCLUDED.kecamatan,
               status = EXCLUDED.status, export_ready = EXCLUDED.export_ready,
               export_ready_badge = EXCLUDED.export_ready_badge, version = EXCLUDED.version,
               updated_at = now()""",
        snapshot | {"version": version,
                    "export_ready_badge": domain.export_ready_badge(snapshot["export_ready"])})


def business_by_id(tx, business_id):
    return tx.one(f"SELECT {BUSINESS_COLUMNS} FROM businesses WHERE id = %s", (business_id,))


def forget_businesses(tx, handler):
    """Empties the read model and the versions its handler applied, for a rebuild."""
    tx.execute("DELETE FROM businesses")
    tx.execute("DELETE FROM aggregate_versions WHERE handler = %s", (handler,))


# --- products ---

PRODUCT_COLUMNS = ("p.id, p.business_id, p.name, p.description, p.category, p.price_idr, "
                   "p.stock, p.unit, p.images, p.featured, p.hidden, p.hidden_reason, "
                   "p.hidden_by, p.version, p.created_at, p.updated_at")
# A product with its vendor's public fields, as every reader wants it.
PRODUCT_VIEW = f"""SELECT {PRODUCT_COLUMNS}, b.name AS business_name, b.kecamatan,
                          b.export_ready_badge, b.status AS business_status
                     FROM products p JOIN businesses b ON b.id = p.business_id"""


def insert_product(tx, product):
    tx.execute(
        """INSERT INTO products (id, business_id, name, description, category, price_idr,
                                 stock, unit, images, created_at, updated_at)
           VALUES (%(id)s, %(business_id)s, %(name)s, %(description)s, %(category)s,
                   %(price_idr)s, %(stock)s, %(unit)s, %(images)s, %(now)s, %(now)s)""",
        product)
    return product_by_id(tx, product["id"])


def product_by_id(tx, product_id, for_update=False):
    lock = " FOR UPDATE OF p" if for_update else ""
    return tx.one(f"{PRODUCT_VIEW} WHERE p.id = %s{lock}", (product_id,))


def update_product(tx, product_id, values, now):
    """Sets ``values`` (column: value; the names come from the domain's fixed list, never from
    a request) and moves the product to its next version."""
    assignments = "".join(f"{column} = %({column})s, " for column in values)
    tx.execute(f"""UPDATE products SET {assignments}version = version + 1, updated_at = %(now)s
                    WHERE id = %(product_id)s""",
               values | {"product_id": product_id, "now": now})
    return product_by_id(tx, product_id)


# --- the listing ---

def _filters(query):
    """[(name, SQL, params)]: what a listing asks, each named so that a facet can leave its
    own filter out. Products off show never appear (domain.on_show)."""
    filters = [("on_show", "NOT p.hidden AND b.status = 'verified'", ())]
    if query["q"] is not None:
        filters.append(("q", """(p.search_document @@ websearch_to_tsquery('indonesian', %s)
                                 OR lower(p.name) %%> %s)""", (query["q"], query["q"])))
    simple = (("category", "p.category = %s"), ("business_id", "p.business_id = %s"),
              ("kecamatan", "b.kecamatan = %s"), ("export_ready", "b.export_ready_badge = %s"),
              ("featured", "p.featured = %s"), ("min_price_idr", "p.price_idr >= %s"),
              ("max_price_idr", "p.price_idr <= %s"))
    filters += [(name, sql, (query[name],)) for name, sql in simple
                if query.get(name) is not None]
    return filters


def _where(filters, leave_out=None):
    kept = [(sql, params) for name, sql, params in filters if name != leave_out]
    return (" AND ".join(sql for sql, _ in kept),
            tuple(param for _, params in kept for param in params))


def _relevance(query_text):
    """Words ranked by ts_rank (the name weighs more than the description), plus the trigram
    likeness of the query to the name, plus a bonus for the exact name; rounded so a cursor
    carries it exactly (domain.RELEVANCE_DECIMALS)."""
    if query_text is None:
        return "0", ()
    return (f"""round((ts_rank(p.search_document, websearch_to_tsquery('indonesian', %s))
                      + {domain.NAME_SIMILARITY_WEIGHT} * word_similarity(%s, lower(p.name))
                      + CASE WHEN lower(p.name) = %s THEN {domain.EXACT_NAME_BONUS} ELSE 0 END
                      )::numeric, {domain.RELEVANCE_DECIMALS})""",
            (query_text, query_text, query_text))


def list_products(tx, query, sort, limit, after):
    """One page of the products ``query`` matches in ``sort`` order (domain.SORT_ORDERS),
    starting after ``after`` ((key, id) of the last item seen, or None)."""
    order = domain.SORT_ORDERS[sort]
    where, where_params = _where(_filters(query))
    relevance, relevance_params = _relevance(query["q"])
    direction, beyond = ("DESC", "<") if order.descending else ("ASC", ">")
    after_sql, after_params = "", ()
    if after is not None:
        after_sql = f"WHERE (listing.{order.key}, listing.id) {beyond} (%s, %s)"
        after_params = tuple(after)
    return tx.all(
        f"""SELECT * FROM (
                SELECT {PRODUCT_COLUMNS}, b.name AS business_name, b.kecamatan,
                       b.export_ready_badge, {relevance} AS relevance
                  FROM products p JOIN businesses b ON b.id = p.business_id
                 WHERE {where}) listing
            {after_sql}
            ORDER BY listing.{order.key} {direction}, listing.id {direction}
            LIMIT %s""",
        relevance_params + where_params + after_params + (limit + 1,))


def facets(tx, query):
    """Counts per category and per kecamatan of what the query matches. Each facet leaves its
    own filter out, so a shopper who chose one category still sees how many the others hold."""
    filters = _filters(query)
    counts = {}
    for facet, column in (("category", "p.category"), ("kecamatan", "b.kecamatan")):
        where, params = _where(filters, leave_out=facet)
        counts[facet] = tx.all(
            f"""SELECT {column} AS value, count(*) AS count
                  FROM products p JOIN businesses b ON b.id = p.business_id
                 WHERE {where} GROUP BY {column}""", params)
    return counts

# --- orders ---
