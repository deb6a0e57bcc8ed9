"""The marketplace's rules, pure: no I/O. The service reads and writes; these decide."""
import datetime as dt

from backbone.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.marketplace.contract import (CATEGORIES, MAX_IMAGES, MAX_PHOTOS,
                                           PHOTO_PATH)

# --- catalogue ---

CURATOR_ROLES = ("organizer", "admin")
VERIFIED = "verified"
# Product pages per answer of product_pages_on_show (about 0.7 MB of JSON).
ON_SHOW_PAGE_LIMIT = 1000
EDITABLE_FIELDS = ("name", "description", "category", "price_idr", "stock", "unit", "images")


# --- who may do what with a product ---

def check_may_list(caller, business):
    """Only the owner of a verified business lists products for it. ``business`` is the read
    model's row, None when no fact about it has arrived yet."""
    if business is None:
        raise Conflict("The business is not verified (yet): the marketplace has no verified "
                       "record of it. Try again shortly after its verification.",
                       details={"reason": "not_verified"})
    check_owner(caller, business)
    if business["status"] != VERIFIED:
        raise Conflict(f"The business is {business['status']}, not verified: only a verified "
                       "business sells in the catalogue.", details={"reason": "not_verified"})


def _owns(caller, business):
    return business is not None and str(business["owner_account_id"]) == caller["account_id"]


def _owns_or_curates(caller, business):
    return caller["role"] in CURATOR_ROLES or _owns(caller, business)


def check_owner(caller, business):
    if not _owns(caller, business):
        raise Forbidden("Only the business's owner may do this with its products.",
                        details={"reason": "not_owner"})


def check_curator(caller):
    if caller["role"] not in CURATOR_ROLES:
        raise Forbidden("Only organizers curate the catalogue.")


def check_may_list_all(caller, business):
    """A business's whole list of products, hidden ones and their reasons with them, is its
    owner's and the curators' to read."""
    if not _owns_or_curates(caller, business):
        raise Forbidden("Only the business's owner and organizers see all its products.",
                        details={"reason": "not_owner"})


def on_show(product, business):
    """What buyers see: not hidden by curation, and its business verified right now (a business
    rejected later keeps its products, unseen, until it is verified again)."""
    return not product["hidden"] and business is not None and business["status"] == VERIFIED


def check_may_see(caller, product, business):
    """A product off show is as unknown as a missing one, except to its owner and curators."""
    if on_show(product, business) or (caller is not None and _owns_or_curates(caller, business)):
        return
    raise NotFound("No such product.")


def check_may_add_photo(product, photos_kept):
    """A product keeps a few photos of its own, within the images it may have at all."""
    if photos_kept >= MAX_PHOTOS:
        raise Conflict(f"A product keeps at most {MAX_PHOTOS} photos: delete one first.",
                       details={"reason": "too_many_photos"})
    if len(product["images"]) >= MAX_IMAGES:
        raise Conflict(f"A product has at most {MAX_IMAGES} images: remove one first.",
                       details={"reason": "too_many_images"})


def photo_view(row):
    return {"id": row["id"], "product_id": row["product_id"], "width": row["width"],
            "height": row["height"], "created_at": row["created_at"],
            "url": PHOTO_PATH.format(product_id=row["product_id"], photo_id=row["id"])}


def changes(product, requested):
    """The requested fields whose value differs from the product's: nothing to store (and no
    event) when a PATCH repeats what is already there."""
    return {field: value for field, value in requested.items()
            if field in EDITABLE_FIELDS and product[field] != value}


# --- search ---

# What relevance adds to PostgreSQL's ts_rank of the words (the name weighted A, the
# description C): how well the query's words match words of the name (trigram
# word_similarity), so a misspelt name still ranks; how much of the whole name the query is
# (trigram similarity), so "Keripik Tempe Sanan Original" ranks above "Paket Oleh-oleh
# Keripik Tempe Sanan" for "kripik tempe sanan"; and a bonus for a name that is exactly the
# query.
NAME_WORDS_WEIGHT = 1
WHOLE_NAME_WEIGHT = 0.5
EXACT_NAME_BONUS = 1
# Relevance is rounded to this many decimals in SQL, so a cursor carries it exactly.
RELEVANCE_DECIMALS = 6
# The gateway's catalogue index holds relevance as an integer count of millionths.
RELEVANCE_SCALE = 10 ** RELEVANCE_DECIMALS


def product_view(row):
    """A product with its vendor's public fields, as the contract's Product."""
    return {field: row[field] for field in (
        "id", "business_id", "name", "description", "category", "price_idr", "stock", "unit",
        "images", "featured", "hidden", "hidden_reason", "version", "created_at",
        "updated_at")} | {
        "category_label": CATEGORIES[row["category"]],
        "vendor": {"id": row["business_id"], "name": row["business_name"],
                   "kecamatan": row["kecamatan"], "export_ready": row["export_ready_badge"]}}


# --- orders ---


# An order is split into parts, one per selling business; each part moves on its own and the
# order's status is derived from its parts. Payment windows and prices come from the callers
# (the clock and the database), so these rules stay pure.

ORDER_PROGRESS = ("placed", "confirmed", "shipped", "received")
CANCELLED = "cancelled"
# Parts the buyer pays before the vendor confirms; cash on delivery is paid on delivery.
PREPAID_METHODS = ("qris", "transfer")
COD_PAYABLE_STATUSES = ("shipped", "received")
BUYER, VENDOR, TIMER = "buyer", "vendor", "timer"
UNPAID_NOTE = "Not paid within the payment window: cancelled, its stock put back."

# (from, to) -> who may make that move. The timer cancels a prepaid part left unpaid.
TRANSITIONS = {
    ("placed", "confirmed"): frozenset({VENDOR}),
    ("confirmed", "shipped"): frozenset({VENDOR}),
    ("shipped", "received"): frozenset({BUYER}),
    ("placed", CANCELLED): frozenset({BUYER, VENDOR, TIMER}),
    ("confirmed", CANCELLED): frozenset({VENDOR}),
}
# What each actor may ever ask for (the contract's table): anything else is a 403, not a 409.
STATUSES_BY_ACTOR = {
    actor: frozenset(to for (_, to), actors in TRANSITIONS.items() if actor in actors)
    for actor in (BUYER, VENDOR, TIMER)
}


# --- who is asking --------------------------------------------------------------------------

def check_buyer(caller):
    if caller["role"] != "buyer":
        raise Forbidden("Only buyers place orders.")


def check_business_owner(caller, business):
    if not _owns(caller, business):
        raise Forbidden("Only the business's owner records or reads its QRIS.",
                        details={"reason": "not_owner"})


def actor_for_part(caller, order, part):
    """BUYER, VENDOR or None: what the caller is to this part of the order."""
    account_id = str(caller["account_id"])
    if account_id == str(part["vendor_account_id"]):
        return VENDOR
    if account_id == str(order["buyer_account_id"]):
        return BUYER
    return None


def visible_parts(caller, order, parts):
    """The parts the caller may see: all of them for the buyer, their own for a vendor.
    Nobody else sees the order at all (a 404, so an order id reveals nothing)."""
    if str(caller["account_id"]) == str(order["buyer_account_id"]):
        return list(parts)
    own = [part for part in parts if actor_for_part(caller, order, part) == VENDOR]
    if not own:
        raise NotFound("No such order.")
    return own


def list_role(caller, asked):
    """Which side of orders the caller lists: ``role=`` if given, else their own role."""
    role = asked or caller["role"]
    if role != caller["role"]:
        raise Forbidden(f"A {caller['role']} lists their orders with role={caller['role']}.")
    return role


# --- placing --------------------------------------------------------------------------------

def check_items_distinct(items):
    """Each product once per order: a repeated line is a mistake to show, not to merge."""
    seen, errors = set(), {}
    for index, item in enumerate(items):
        if item["product_id"] in seen:
            errors[str(index)] = {"product_id": ["This product is already in the order."]}
        seen.add(item["product_id"])
    if errors:
        raise ValidationFailed("Each product appears once in an order.",
                               fields={"items": errors})


def check_orderable(items, products):
    """Every item names a product on sale with the stock asked for, else the whole order is
    refused: a 422 for products that do not exist, a 409 naming every one not on sale or
    short. ``products`` maps product id -> the locked row (with ``business_status``)."""
    unknown = {str(index): {"product_id": ["No such product."]}
               for index, item in enumerate(items) if item["product_id"] not in products}
    if unknown:
        raise ValidationFailed("Some products do not exist.", fields={"items": unknown})
    unavailable, short = {}, {}
    for index, item in enumerate(items):
        product = products[item["product_id"]]
        if product["hidden"] or product["business_status"] != "verified":
            unavailable[str(index)] = {"product_id": [
                f"{product['name']} ({product['id']}) is not on sale."]}
        elif product["stock"] < item["quantity"]:
            short[str(index)] = {"quantity": [
                f"Only {product['stock']} of {product['name']} ({product['id']}) left."]}
    if unavailable:
        raise Conflict(f"Not on sale: {_names(unavailable, items, products)}.",
                       fields={"items": unavailable}, details={"reason": "not_on_sale"})
    if short:
        raise Conflict(f"Not enough stock of {_names(short, items, products)}; nothing was "
                       "reserved.", fields={"items": short}, details={"reason": "out_of_stock"})


def check_prices_unchanged(priced_at, locked):
    """The order was priced from ``priced_at``; the rows locked to take the stock must still
    say the same, or the buyer is told (a price changed while they ordered)."""
    moved = [product["name"] for product_id, product in locked.items()
             if product["price_idr"] != priced_at[product_id]["price_idr"]]
    if moved:
        raise Conflict(f"The price of {', '.join(moved)} changed while the order was placed: "
                       "check it and order again; nothing was reserved.",
                       details={"reason": "price_changed"})


def _names(errors, items, products):
    return ", ".join(products[items[int(index)]["product_id"]]["name"] for index in errors)


def line_total(quantity, unit_price_idr):
    return quantity * unit_price_idr


def priced_parts(items, products):
    """The order's parts, one per selling business in the order the items came, each with
    its lines at the prices in ``products`` (read when the order is placed) and its total."""
    parts = {}
    for item in items:
        product = products[item["product_id"]]
        part = parts.setdefault(str(product["business_id"]), {
            "business_id": str(product["business_id"]),
            "vendor_account_id": str(product["owner_account_id"]),
            "business_name": product["business_name"], "lines": []})
        part["lines"].append({
            "product_id": str(product["id"]), "name": product["name"],
            "quantity": item["quantity"], "unit_price_idr": product["price_idr"],
            "line_total_idr": line_total(item["quantity"], product["price_idr"])})
    for part in parts.values():
        part["total_idr"] = sum(line["line_total_idr"] for line in part["lines"])
    return list(parts.values())


def order_total(parts):
    return sum(part["total_idr"] for part in parts)


def payment_due_at(method, placed_at, window_hours):
    """When an unpaid prepaid part is cancelled; None for cash on delivery."""
    if method not in PREPAID_METHODS:
        return None
    return placed_at + dt.timedelta(hours=window_hours)


# --- moving parts ---------------------------------------------------------------------------

def check_transition(part, to_status, actor):
    """A 403 for a status the actor may never set, a 409 for one it may not set now (the
    part's status, or a prepaid part not paid yet)."""
    if to_status not in STATUSES_BY_ACTOR[actor]:
        allowed = ", ".join(sorted(STATUSES_BY_ACTOR[actor]))
        raise Forbidden(f"As the {actor} of this part you may set: {allowed}.")
    current = part["status"]
    if actor not in TRANSITIONS.get((current, to_status), ()):
        raise Conflict(f"Part {part['id']} is {current}: the {actor} cannot make it "
                       f"{to_status}.", details={"from_status": current,
                                                 "to_status": to_status})
    if _awaits_payment(part, to_status):
        raise Conflict(f"Part {part['id']} is paid by {part['payment_method']}: record the "
                       "payment before confirming it.", details={"reason": "unpaid"})


def _awaits_payment(part, to_status):
    return (to_status == "confirmed" and part["payment_method"] in PREPAID_METHODS
            and part["paid_at"] is None)


def moves_now(part, actor):
    """The statuses ``actor`` (BUYER, VENDOR or None) may set on the part now: exactly those
    check_transition lets through, so a page offers no move that would be refused."""
    return [to for (current, to), actors in TRANSITIONS.items()
            if current == part["status"] and actor in actors
            and not _awaits_payment(part, to)]


def takes_stock_back(to_status):
    return to_status == CANCELLED


def derived_status(statuses):
    """The order's status from its parts': cancelled when every part is, else the least
    advanced of the parts still going (an order is received when all of it is)."""
    going = [status for status in statuses if status != CANCELLED]
    if not going:
        return CANCELLED
    return min(going, key=ORDER_PROGRESS.index)


# --- payments -------------------------------------------------------------------------------

def check_may_record_payment(part):
    """A prepaid part is paid while placed (before the vendor confirms it); cash on delivery
    once shipped. A part is paid once."""
    refusal = _payment_refusal(part)
    if refusal is not None:
        raise refusal


def payment_recordable(part, actor):
    """Whether ``actor`` may record the part's payment now (only its vendor ever does)."""
    return actor == VENDOR and _payment_refusal(part) is None


def _payment_refusal(part):
    if part["paid_at"] is not None:
        return Conflict(f"Part {part['id']} is already paid.", details={"reason": "paid"})
    method, status = part["payment_method"], part["status"]
    if method in PREPAID_METHODS and status != "placed":
        return Conflict(f"Part {part['id']} is {status}: a {method} payment is recorded while "
                        "it is placed, before confirming it.", details={"from_status": status})
    if method == "cod" and status not in COD_PAYABLE_STATUSES:
        return Conflict(f"Part {part['id']} is {status}: cash on delivery is recorded once it "
                        "is shipped.", details={"from_status": status})
    return None


def check_qris_payable(part, vendor_qris):
    """The part's dynamic QRIS exists only for a QRIS part still to pay, of a vendor who
    recorded its static payload."""
    if part["payment_method"] != "qris":
        raise Conflict(f"Part {part['id']} is paid by {part['payment_method']}, not QRIS.")
    if part["status"] == CANCELLED or part["paid_at"] is not None:
        raise Conflict(f"Part {part['id']} is {'paid' if part['paid_at'] else 'cancelled'}: "
                       "there is nothing to pay.")
    if vendor_qris is None:
        raise NotFound("The vendor has not recorded a QRIS yet.")


def is_overdue(part, now):
    return (part["status"] == "placed" and part["paid_at"] is None
            and part["payment_due_at"] is not None and part["payment_due_at"] <= now)
