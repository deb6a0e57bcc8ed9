"""The buyer's pages: the cart, checkout, my orders and paying a part by QRIS.

The cart lives in the session cookie as product ids and quantities only: prices, names and
stock are read fresh from the marketplace each time, and the order's prices are the ones the
marketplace fixes when it takes the stock. Anyone may fill a cart; checkout needs a buyer.
"""
import uuid

from flask import Response, flash, redirect, request, session, url_for

from backbone.errors import DomainError
from services.gateway.web import i18n
from services.gateway.web.pages import (FORM_ERROR_CODES, KEPT_ACROSS_LOG_IN, N_, FormError,
                                        attempt, call, done, nav_item, render, requires_login,
                                        web_blueprint)
from services.marketplace.contract import MAX_ORDER_ITEMS, MAX_QUANTITY

blp = web_blueprint("buyer")

CART = "keranjang"
# The idempotency key of the last order placed from this session, and that order: the same
# form sent again lands on the order instead of asking for a second one.
LAST_ORDER = "pesanan_terakhir"
KEPT_ACROSS_LOG_IN.add(CART)
ORDERS_PAGE = 20
STATUS_LABELS = {"placed": N_("Dipesan"), "confirmed": N_("Dikonfirmasi"),
                 "shipped": N_("Dikirim"), "received": N_("Diterima"),
                 "cancelled": N_("Dibatalkan")}
PAYMENT_LABELS = {"qris": N_("QRIS"), "transfer": N_("Transfer bank"),
                  "cod": N_("Bayar di tempat (COD)")}
ACTOR_LABELS = {"buyer": N_("Pembeli"), "vendor": N_("Penjual"), "timer": N_("Sistem")}


# No count beside the cart's link: the menu's badge reads as unread news.
nav_item("web_buyer.cart", N_("Keranjang"), order=40)
nav_item("web_buyer.orders", N_("Pesanan saya"), roles=("buyer",), order=45)


def labels():
    return {"status_name": lambda status: i18n.translated(STATUS_LABELS.get(status, status)),
            "payment_name": lambda method: i18n.translated(PAYMENT_LABELS.get(method, method)),
            "actor_name": lambda actor: i18n.translated(ACTOR_LABELS.get(actor, actor)),
            "payment_options": [(method, i18n.translated(label))
                                for method, label in PAYMENT_LABELS.items()]}


blp.context_processor(labels)


# --- the cart ---------------------------------------------------------------------------------

def cart_items():
    """[(product_id, quantity)] in the order they were added."""
    return [(product_id, quantity) for product_id, quantity in session.get(CART, [])]


def save_cart(items):
    session[CART] = [[product_id, quantity] for product_id, quantity in items if quantity > 0]


def posted_quantity():
    """The form's quantity as a whole number, None if it is not one: the marketplace holds
    the bounds of an order's quantity when the order is placed."""
    try:
        return int(request.form.get("quantity", "").strip())
    except ValueError:
        return None


def cart_lines():
    """The cart's products as the marketplace shows them now; products gone from the
    catalogue leave the cart (the visitor is told)."""
    lines = []
    for product_id, quantity in cart_items():
        try:
            product = call("marketplace", "get_product", product_id)
        except DomainError as error:
            if error.code not in ("not_found", "validation_error"):
                raise
            flash(i18n.gettext("Satu produk di keranjang sudah tidak dijual dan dihapus."),
                  "error")
            continue
        lines.append({"product": product, "quantity": quantity,
                      "total_idr": product["price_idr"] * quantity})
    if len(lines) != len(cart_items()):
        save_cart([(line["product"]["id"], line["quantity"]) for line in lines])
    return lines


@blp.get("/keranjang")
def cart():
    return show_cart()


def show_cart(error=None, short_names=(), status=200):
    lines = cart_lines()
    return render("pembeli/keranjang.html", status=status, lines=lines, error=error,
                  short_names=short_names, total_idr=sum(line["total_idr"] for line in lines))


@blp.post("/keranjang/tambah/<product_id>")
def add_to_cart(product_id):
    quantity = posted_quantity()
    product = call("marketplace", "get_product", product_id)
    if quantity is None or not 1 <= quantity <= MAX_QUANTITY:
        flash(i18n.gettext("Jumlah harus bilangan bulat 1 sampai %(max)s.", max=MAX_QUANTITY),
              "error")
        return redirect(url_for("web_public.product", product_id=product["id"]))
    items = dict(cart_items())
    if product["id"] not in items and len(items) >= MAX_ORDER_ITEMS:
        flash(i18n.gettext("Keranjang sudah berisi %(max)s produk, jumlah terbanyak dalam "
                           "satu pesanan.", max=MAX_ORDER_ITEMS), "error")
        return redirect(url_for("web_buyer.cart"))
    items[product["id"]] = min(items.get(product["id"], 0) + quantity, MAX_QUANTITY)
    save_cart(items.items())
    return done(i18n.gettext("%(name)s masuk ke keranjang.", name=product["name"]),
                "web_buyer.cart")


@blp.post("/keranjang/ubah/<product_id>")
def change_quantity(product_id):
    quantity = posted_quantity()
    if quantity is None or not 0 <= quantity <= MAX_QUANTITY:
        flash(i18n.gettext("Jumlah harus bilangan bulat 1 sampai %(max)s.", max=MAX_QUANTITY),
              "error")
        return redirect(url_for("web_buyer.cart"))
    save_cart((item, quantity if item == product_id else old)
              for item, old in cart_items())
    return done(i18n.gettext("Keranjang diperbarui."), "web_buyer.cart")


@blp.post("/keranjang/hapus/<product_id>")
def remove_from_cart(product_id):
    save_cart((item, quantity) for item, quantity in cart_items() if item != product_id)
    return done(i18n.gettext("Produk dihapus dari keranjang."), "web_buyer.cart")


# --- checkout -----------------------------------------------------------------------------------

@blp.get("/keranjang/pesan")
@requires_login("buyer")
def checkout():
    if not cart_items():
        return done(i18n.gettext("Keranjang masih kosong."), "web_buyer.cart")
    lines = cart_lines()
    return render("pembeli/pesan.html", lines=lines, error=None,
                  total_idr=sum(line["total_idr"] for line in lines),
                  form={"idempotency_key": str(uuid.uuid4()), "payment_method": "qris"})


@blp.post("/keranjang/pesan")
@requires_login("buyer")
def place_order():
    key = request.form.get("idempotency_key", "")
    last = session.get(LAST_ORDER)
    if last and last["key"] == key:
        return redirect(url_for("web_buyer.order", order_id=last["order_id"]))
    items = cart_items()
    if not items:
        return done(i18n.gettext("Keranjang masih kosong."), "web_buyer.cart")
    body = {"items": [{"product_id": product_id, "quantity": quantity}
                      for product_id, quantity in items],
            "shipping": {name: request.form.get(name, "").strip()
                         for name in ("name", "phone", "address")},
            "payment_method": request.form.get("payment_method", "")}
    try:
        order = call("marketplace", "place_order", body, idempotency_key=key or None)
    except DomainError as refusal:
        if refusal.code not in FORM_ERROR_CODES:
            raise
        if refusal.code == "conflict":
            return show_cart(error=FormError(refusal), status=409,
                             short_names=names_refused(refusal.fields or {}, items))
        return refused_checkout(FormError(refusal), refusal.fields or {}, body)
    session.pop(CART, None)
    session[LAST_ORDER] = {"key": key, "order_id": order["id"]}
    return done(i18n.gettext("Pesanan Anda sudah kami terima."), "web_buyer.order",
                order_id=order["id"])


def names_refused(fields, items):
    """The names of the cart's products the marketplace refused (short or not on sale)."""
    refused = {int(index) for index in fields.get("items", {})
               if str(index).isdigit() and int(index) < len(items)}
    names = []
    for index in sorted(refused):
        product = call("marketplace", "get_product", items[index][0])
        names.append(product["name"])
    return names


def refused_checkout(error, fields, body):
    """The checkout form again, the shipping fields' errors beside them."""
    shipping_errors = fields.get("shipping")
    if isinstance(shipping_errors, dict):
        error.fields.update({name: [i18n.service_message(text) for text in messages]
                             for name, messages in shipping_errors.items()})
    lines = cart_lines()
    return render("pembeli/pesan.html", status=422, lines=lines, error=error,
                  total_idr=sum(line["total_idr"] for line in lines),
                  form=body["shipping"] | {"payment_method": body["payment_method"],
                                           "idempotency_key": request.form.get(
                                               "idempotency_key", "")})


# --- my orders ----------------------------------------------------------------------------------

@blp.get("/pesanan")
@requires_login("buyer")
def orders():
    query = {"role": "buyer", "limit": ORDERS_PAGE}
    if request.args.get("cursor"):
        query["cursor"] = request.args["cursor"]
    page = call("marketplace", "list_orders", query)
    next_page = page["next_cursor"] and url_for("web_buyer.orders", cursor=page["next_cursor"])
    return render("pembeli/pesanan_saya.html", orders=page["items"], next_page=next_page)


@blp.get("/pesanan/<order_id>")
@requires_login("buyer")
def order(order_id):
    found = call("marketplace", "get_order", order_id)
    return render("pembeli/pesanan.html", order=found,
                  qris={part["id"]: part_qris(found, part) for part in found["parts"]},
                  part_names={part["id"]: part["business_name"] for part in found["parts"]})


def part_qris(order, part):
    """The QRIS to pay a part with, while there is one to pay: None otherwise, or when the
    vendor has not recorded its QRIS yet (the page says so)."""
    if part["payment_method"] != "qris" or part["paid_at"] or part["status"] != "placed":
        return None
    qris, error = attempt(lambda: call("marketplace", "part_qris", order["id"], part["id"]))
    if error:
        return {"missing": True}
    return qris


@blp.get("/pesanan/<order_id>/bagian/<part_id>/qris.svg")
@requires_login("buyer")
def part_qris_svg(order_id, part_id):
    answer = Response(call("marketplace", "part_qris_svg", order_id, part_id),
                      mimetype="image/svg+xml")
    answer.headers["Cache-Control"] = "no-store"
    return answer


@blp.post("/pesanan/<order_id>/bagian/<part_id>/diterima")
@requires_login("buyer")
def mark_received(order_id, part_id):
    return status_change(order_id, lambda: call(
        "marketplace", "change_part_status", order_id, part_id, {"status": "received"}),
        i18n.gettext("Terima kasih, pesanan ditandai sudah diterima."))


@blp.post("/pesanan/<order_id>/batal")
@requires_login("buyer")
def cancel(order_id):
    return status_change(order_id, lambda: call(
        "marketplace", "change_order_status", order_id, {"status": "cancelled"}),
        i18n.gettext("Pesanan dibatalkan."))


def status_change(order_id, action, message):
    _, error = attempt(action)
    if error:
        flash(error.message, "error")
        return redirect(url_for("web_buyer.order", order_id=order_id))
    return done(message, "web_buyer.order", order_id=order_id)
