"""The marketplace's SQL. Every function takes an open transaction; ids arrive parsed."""
import psycopg2.extras
from backbone.errors import Conflict
from backbone.contracts import exports_abroad
from backbone.pagination import decode_cursor, identifier, page, timestamp
from services.marketplace import contract, domain

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
                    "export_ready_badge": exports_abroad(snapshot["export_ready"])})


def business_by_id(tx, business_id):
    return tx.one(f"SELECT {BUSINESS_COLUMNS} FROM businesses WHERE id = %s", (business_id,))


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


def products_on_show(tx, after, limit):
    """Up to ``limit`` products an anonymous reader sees (domain.on_show), in id order after
    the id ``after`` (None: from the first)."""
    after_sql, after_params = ("AND p.id > %s", (after,)) if after is not None else ("", ())
    return tx.all(f"""{PRODUCT_VIEW} WHERE NOT p.hidden AND b.status = 'verified' {after_sql}
                      ORDER BY p.id LIMIT %s""", after_params + (limit,))


def products_of_business(tx, business_id, hidden, limit, cursor=None):
    """A page of the business's products as its owner sees them, hidden ones too (or only
    the hidden, or only the others, by ``hidden``), newest first."""
    params = {"business": business_id, "limit": limit + 1}
    conditions = ["p.business_id = %(business)s"]
    if hidden is not None:
        params["hidden"] = hidden
        conditions.append("p.hidden = %(hidden)s")
    if cursor:
        params["after_at"], params["after_id"] = decode_cursor(cursor, timestamp, identifier)
        conditions.append("(p.created_at, p.id) < (%(after_at)s, %(after_id)s)")
    rows = tx.all(f"""{PRODUCT_VIEW} WHERE {" AND ".join(conditions)}
                      ORDER BY p.created_at DESC, p.id DESC LIMIT %(limit)s""", params)
    return page(rows, limit, key=lambda row: (row["created_at"].isoformat(), row["id"]))


def update_product(tx, product_id, values, now):
    """Sets ``values`` (column: value; the names come from the domain's fixed list, never from
    a request) and moves the product to its next version."""
    assignments = "".join(f"{column} = %({column})s, " for column in values)
    tx.execute(f"""UPDATE products SET {assignments}version = version + 1, updated_at = %(now)s
                    WHERE id = %(product_id)s""",
               values | {"product_id": product_id, "now": now})
    return product_by_id(tx, product_id)


# --- products' photos ---

PHOTO_COLUMNS = "id, product_id, width, height, created_at"


def insert_photo(tx, photo):
    return tx.one(f"""INSERT INTO product_photos (id, product_id, jpeg, width, height, created_at)
                      VALUES (%(id)s, %(product_id)s, %(jpeg)s, %(width)s, %(height)s, %(now)s)
                      RETURNING {PHOTO_COLUMNS}""",
                  photo)


def photos_of(tx, product_id):
    """The product's photos, oldest first, without their bytes."""
    return tx.all(f"SELECT {PHOTO_COLUMNS} FROM product_photos WHERE product_id = %s"
                  " ORDER BY created_at, id", (product_id,))


def photo_jpeg(tx, product_id, photo_id):
    """The photo's JPEG bytes, None when the product has no such photo."""
    row = tx.one("SELECT jpeg FROM product_photos WHERE id = %s AND product_id = %s",
                 (photo_id, product_id))
    return bytes(row["jpeg"]) if row else None


def delete_photo(tx, product_id, photo_id):
    return tx.one(f"""DELETE FROM product_photos WHERE id = %s AND product_id = %s
                      RETURNING {PHOTO_COLUMNS}""", (photo_id, product_id))


# --- the listing ---

def _words_found(words):
    """SQL: the product's document holds ``words`` (an SQL expression): the full-text match."""
    return f"search_document @@ websearch_to_tsquery('indonesian', {words})"


def _name_like(words):
    """SQL: the product's name has words like ``words`` (trigrams): typos and variants."""
    return f"lower(name) %%> {words}"


def _filters(query):
    """[(name, SQL, params)]: what a listing asks, each named so that a facet can leave its
    own filter out. Products off show never appear (domain.on_show)."""
    filters = [("on_show", "NOT p.hidden AND b.status = 'verified'", ())]
    if query["q"] is not None:
        # The words (full text) or a name like them (trigrams), each found through its own
        # GIN index. Written as one OR, the planner misjudges the trigram operator's cost and
        # scans the whole table instead (215 ms against 69 ms on 100,000 products).
        filters.append(("q", f"""p.id IN (
            SELECT id FROM products WHERE {_words_found("%s")}
            UNION ALL
            SELECT id FROM products WHERE {_name_like("%s")})""", (query["q"], query["q"])))
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


def _relevance_of(words):
    """SQL of a product's relevance to ``words`` (an SQL expression): ts_rank of the words
    (the name weighs more than the description), plus the trigram likeness of the words to
    the name's words and to the whole name, plus a bonus for the exact name (weights in
    domain); rounded so a cursor carries it exactly."""
    return f"""round((ts_rank(p.search_document, websearch_to_tsquery('indonesian', {words}))
                      + {domain.NAME_WORDS_WEIGHT} * word_similarity({words}, lower(p.name))
                      + {domain.WHOLE_NAME_WEIGHT} * similarity({words}, lower(p.name))
                      + CASE WHEN lower(p.name) = {words} THEN {domain.EXACT_NAME_BONUS} ELSE 0
                        END)::numeric, {domain.RELEVANCE_DECIMALS})"""


def _relevance(query_text):
    if query_text is None:
        return "0", ()
    return _relevance_of("%s"), (query_text,) * 4


def list_products(tx, query, sort, limit, after):
    """One page of the products ``query`` matches in ``sort`` order (contract.SORT_ORDERS),
    starting after ``after`` ((key, id) of the last item seen, or None)."""
    order = contract.SORT_ORDERS[sort]
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


def search_matches(tx, words):
    """(ids, relevance in millionths) of every product on show that ``words`` match, in no
    order: what the gateway's catalogue index holds for them."""
    where, params = _where(_filters({"q": words}))
    rows = tx.all(f"""SELECT p.id, ({_relevance_of("%s")} * {domain.RELEVANCE_SCALE})::bigint
                             AS relevance
                        FROM products p JOIN businesses b ON b.id = p.business_id
                       WHERE {where}""", (words,) * 4 + params)
    return [str(row["id"]) for row in rows], [row["relevance"] for row in rows]


def products_on_show_by_ids(tx, product_ids, business_ids=()):
    """The products on show among ``product_ids`` and of ``business_ids``."""
    return tx.all(f"""{PRODUCT_VIEW}
                     WHERE (p.id = ANY(%s::uuid[]) OR p.business_id = ANY(%s::uuid[]))
                       AND NOT p.hidden AND b.status = 'verified'""",
                  (product_ids, list(business_ids)))


def relevance_to(tx, product_ids, words_list):
    """{product id: {words: relevance in millionths}} for each of ``words_list`` that matches
    each product (the listing's rule for a product to match its words)."""
    rows = tx.all(f"""SELECT p.id, w.words,
                             ({_relevance_of("w.words")} * {domain.RELEVANCE_SCALE})::bigint
                             AS relevance
                        FROM products p, unnest(%s::text[]) AS w(words)
                       WHERE p.id = ANY(%s::uuid[])
                         AND ({_words_found("w.words")} OR {_name_like("w.words")})""",
                  (words_list, product_ids))
    relevance = {}
    for row in rows:
        relevance.setdefault(str(row["id"]), {})[row["words"]] = row["relevance"]
    return relevance


FACETS = ("category", "kecamatan")


def facets(tx, query):
    """Counts per category and per kecamatan of what the query matches. Each facet leaves its
    own filter out, so a shopper who chose one category still sees how many the others hold.
    Both come from one pass over the matches without either facet's filter, counted per
    (category, kecamatan) pair: scanning the matches is most of what a search costs."""
    where, params = _where([f for f in _filters(query) if f[0] not in FACETS])
    pairs = tx.all(f"""SELECT p.category, b.kecamatan, count(*) AS count
                          FROM products p JOIN businesses b ON b.id = p.business_id
                         WHERE {where} GROUP BY p.category, b.kecamatan""", params)
    return {facet: _counts_of(pairs, facet, other, query.get(other))
            for facet, other in (FACETS, FACETS[::-1])}


def _counts_of(pairs, facet, other, other_value):
    """[{value, count}] per value of ``facet``, among the pairs the other facet's filter
    (``other_value``, None for none) keeps."""
    counts = {}
    for pair in pairs:
        if other_value is None or pair[other] == other_value:
            counts[pair[facet]] = counts.get(pair[facet], 0) + pair["count"]
    return [{"value": value, "count": count} for value, count in counts.items()]

# --- orders ---

ORDER_COLUMNS = ("o.id, o.buyer_account_id, o.payment_method, o.shipping, o.total_idr, "
                 "o.version, o.created_at, o.updated_at")
PART_COLUMNS = ("pt.id, pt.order_id, pt.business_id, pt.vendor_account_id, pt.business_name, "
                "pt.status, pt.payment_method, pt.total_idr, pt.payment_due_at, pt.paid_at, "
                "pt.stock_returned_at, pt.created_at, pt.updated_at, "
                "pay.reference AS payment_reference")
PARTS = "order_parts pt LEFT JOIN order_payments pay ON pay.part_id = pt.id"
# A product as an order's stock change announces it (product.changed, stock.depleted).
STOCK_PRODUCT_COLUMNS = ("p.id, p.business_id, p.name, p.description, p.category, p.price_idr, "
                         "p.stock, p.unit, p.images, p.featured, p.hidden, p.version, "
                         "b.owner_account_id")


# --- stock ----------------------------------------------------------------------------------

def products_for_order(tx, product_ids, lock=False):
    """The products an order names, by id (as text), each with its business as the read
    model knows it. ``lock``: their rows stay locked until the order commits or rolls back,
    taken in id order, so two orders sharing products queue instead of deadlocking, and the
    stock and price read are the ones the order is placed at."""
    rows = tx.all(
        f"""SELECT p.id, p.business_id, p.name, p.price_idr, p.stock, p.hidden,
                   b.owner_account_id, b.name AS business_name,
                   COALESCE(b.status, 'unknown') AS business_status
              FROM products p LEFT JOIN businesses b ON b.id = p.business_id
             WHERE p.id = ANY(%s::uuid[])
             ORDER BY p.id{" FOR UPDATE OF p" if lock else ""}""",
        ([str(product_id) for product_id in product_ids],))
    return {str(row["id"]): row for row in rows}


def take_stock(tx, quantities):
    """Takes ``{product id: quantity}`` off rows already locked and checked; each product
    moves to its next version. The guard ``stock >= quantity`` (and the table's CHECK) keep
    stock from going below zero even if a caller forgot to check. Returns the products."""
    return _move_stock(tx, quantities, sign=-1)


def give_stock_back(tx, part_id):
    """Puts a cancelled part's quantities back, once: the part's ``stock_returned_at`` is set
    by the first call and a second finds it set and returns no products."""
    marked = tx.one("""UPDATE order_parts SET stock_returned_at = now()
                        WHERE id = %s AND stock_returned_at IS NULL RETURNING id""", (part_id,))
    if marked is None:
        return []
    lines = tx.all("""SELECT l.product_id, l.quantity FROM order_lines l
                       WHERE l.part_id = %s ORDER BY l.product_id""", (part_id,))
    # Locked in id order, as an order placing takes them: no deadlock between the two.
    tx.all("SELECT id FROM products WHERE id = ANY(%s::uuid[]) ORDER BY id FOR UPDATE",
           ([str(line["product_id"]) for line in lines],))
    return _move_stock(tx, {str(line["product_id"]): line["quantity"] for line in lines},
                       sign=1)


def _move_stock(tx, quantities, sign):
    ids = sorted(quantities)
    changed = tx.all(
        """UPDATE products p
              SET stock = p.stock + %s * t.quantity, version = p.version + 1,
                  updated_at = now()
             FROM unnest(%s::uuid[], %s::integer[]) AS t(id, quantity)
            WHERE p.id = t.id AND p.stock + %s * t.quantity >= 0
        RETURNING p.id""", (sign, ids, [quantities[i] for i in ids], sign))
    if len(changed) != len(ids):
        raise Conflict("The stock changed while the order was placed; nothing was reserved.")
    return tx.all(f"""SELECT {STOCK_PRODUCT_COLUMNS}
                        FROM products p JOIN businesses b ON b.id = p.business_id
                       WHERE p.id = ANY(%s::uuid[]) ORDER BY p.id""", (ids,))


# --- orders ---------------------------------------------------------------------------------

def insert_order(tx, order, parts):
    """The order, its parts and their lines as priced (domain.priced_parts)."""
    tx.execute(
        """INSERT INTO orders (id, buyer_account_id, payment_method, shipping, total_idr,
                               created_at, updated_at)
           VALUES (%(id)s, %(buyer_account_id)s, %(payment_method)s, %(shipping)s,
                   %(total_idr)s, %(created_at)s, %(created_at)s)""",
        order | {"shipping": psycopg2.extras.Json(order["shipping"])})
    for part in parts:
        tx.execute(
            """INSERT INTO order_parts (id, order_id, business_id, vendor_account_id,
                                        business_name, payment_method, total_idr,
                                        payment_due_at, created_at, updated_at)
               VALUES (%(id)s, %(order_id)s, %(business_id)s, %(vendor_account_id)s,
                       %(business_name)s, %(payment_method)s, %(total_idr)s,
                       %(payment_due_at)s, %(created_at)s, %(created_at)s)""", part)
        for position, line in enumerate(part["lines"]):
            tx.execute(
                """INSERT INTO order_lines (part_id, product_id, name, quantity,
                                            unit_price_idr, line_total_idr, position)
                   VALUES (%(part_id)s, %(product_id)s, %(name)s, %(quantity)s,
                           %(unit_price_idr)s, %(line_total_idr)s, %(position)s)""",
                line | {"part_id": part["id"], "position": position})


def order_by_id(tx, order_id, for_update=False):
    """The order; ``for_update`` locks it, so that moves of its parts happen one at a time."""
    lock = " FOR UPDATE" if for_update else ""
    return tx.one(f"SELECT {ORDER_COLUMNS} FROM orders o WHERE o.id = %s{lock}", (order_id,))


def parts_of_orders(tx, order_ids):
    return tx.all(f"""SELECT {PART_COLUMNS} FROM {PARTS}
                       WHERE pt.order_id = ANY(%s::uuid[])
                       ORDER BY pt.created_at, pt.business_id""",
                  ([str(order_id) for order_id in order_ids],))


def lines_of_parts(tx, part_ids):
    return tx.all("""SELECT l.part_id, l.product_id, l.name, l.quantity, l.unit_price_idr,
                            l.line_total_idr, pt.business_id
                       FROM order_lines l JOIN order_parts pt ON pt.id = l.part_id
                      WHERE l.part_id = ANY(%s::uuid[])
                      ORDER BY pt.created_at, pt.business_id, l.position""",
                  ([str(part_id) for part_id in part_ids],))


def history_of_parts(tx, part_ids):
    return tx.all("""SELECT part_id, kind, from_status, to_status, actor, note, at
                       FROM order_part_history WHERE part_id = ANY(%s::uuid[])
                      ORDER BY id""", ([str(part_id) for part_id in part_ids],))


def add_history(tx, part_id, kind, from_status, to_status, actor, actor_account_id, note=None,
                at=None):
    """``at``: when it happened, by default the transaction's start."""
    tx.execute("""INSERT INTO order_part_history (part_id, kind, from_status, to_status, actor,
                                                  actor_account_id, note, at)
                  VALUES (%s, %s, %s, %s, %s, %s, %s, COALESCE(%s, now()))""",
               (part_id, kind, from_status, to_status, actor, actor_account_id, note, at))


def set_part_status(tx, part_id, status):
    tx.execute("UPDATE order_parts SET status = %s, updated_at = now() WHERE id = %s",
               (status, part_id))


def next_order_version(tx, order_id):
    """The order moves to its next version (the aggregate version of its events)."""
    return tx.one("""UPDATE orders SET version = version + 1, updated_at = now()
                      WHERE id = %s RETURNING version""", (order_id,))["version"]


def record_payment(tx, part, payment, recorded_by, paid_at):
    tx.execute("""INSERT INTO order_payments (part_id, method, amount_idr, reference,
                                              recorded_by, recorded_at)
                  VALUES (%s, %s, %s, %s, %s, %s)""",
               (part["id"], payment.method, payment.amount_idr, payment.reference,
                recorded_by, paid_at))
    tx.execute("UPDATE order_parts SET paid_at = %s, updated_at = now() WHERE id = %s",
               (paid_at, part["id"]))


def list_order_ids(tx, account_id, role, limit, cursor=None):
    """A page of (order id, created_at) of the buyer's orders, or of the orders with a part
    of the vendor's, newest first."""
    params = {"account": account_id, "limit": limit + 1}
    after = ""
    if cursor:
        params["after_at"], params["after_id"] = decode_cursor(cursor, timestamp, identifier)
        after = "AND (created_at, {id}) < (%(after_at)s, %(after_id)s)"
    if role == "buyer":
        sql = f"""SELECT id, created_at FROM orders
                   WHERE buyer_account_id = %(account)s {after.format(id="id")}
                   ORDER BY created_at DESC, id DESC LIMIT %(limit)s"""
    else:
        # A vendor with two businesses in one order has two parts in it: one row per order.
        sql = f"""SELECT DISTINCT order_id AS id, created_at FROM order_parts
                   WHERE vendor_account_id = %(account)s {after.format(id="order_id")}
                   ORDER BY created_at DESC, id DESC LIMIT %(limit)s"""
    rows = tx.all(sql, params)
    return page(rows, limit, key=lambda row: (row["created_at"].isoformat(), row["id"]))


def orders_by_ids(tx, order_ids):
    return tx.all(f"SELECT {ORDER_COLUMNS} FROM orders o WHERE o.id = ANY(%s::uuid[])",
                  ([str(order_id) for order_id in order_ids],))


def overdue_parts(tx, now, limit):
    """(order id, part id) of placed prepaid parts unpaid past their deadline, soonest first."""
    return tx.all("""SELECT order_id, id FROM order_parts
                      WHERE status = 'placed' AND paid_at IS NULL
                        AND payment_due_at IS NOT NULL AND payment_due_at <= %s
                      ORDER BY payment_due_at LIMIT %s""", (now, limit))


# --- vendors' QRIS --------------------------------------------------------------------------

def save_vendor_qris(tx, business_id, qris, updated_by):
    return tx.one(
        """INSERT INTO vendor_qris (business_id, payload, merchant_name, merchant_city,
                                    updated_by, updated_at)
           VALUES (%s, %s, %s, %s, %s, now())
           ON CONFLICT (business_id) DO UPDATE SET
               payload = EXCLUDED.payload, merchant_name = EXCLUDED.merchant_name,
               merchant_city = EXCLUDED.merchant_city, updated_by = EXCLUDED.updated_by,
               updated_at = EXCLUDED.updated_at
           RETURNING business_id, payload, merchant_name, merchant_city, updated_at""",
        (business_id, qris.payload, qris.merchant_name, qris.merchant_city, updated_by))


def vendor_qris(tx, business_id):
    return tx.one("""SELECT business_id, payload, merchant_name, merchant_city, updated_at
                       FROM vendor_qris WHERE business_id = %s""", (business_id,))
