"""The vendor's desk (/toko): my businesses (registration, details, certifications, export
readiness, QRIS), my products and the orders' parts that are mine."""
import uuid

from flask import abort, current_app, g, request, url_for

from backbone.contracts import BUSINESS_KINDS, KECAMATAN, ORDER_STATUSES, SECTORS
from backbone.errors import DomainError
from services.gateway.web import i18n
from services.gateway.web.pages import (N_, attempt, call, call_anonymous, done, form_body,
                                        form_status, nav_item, render, requires_login,
                                        web_blueprint)
from services.marketplace.contract import CATEGORIES
from services.registry.contract import (COOPERATIVE_TYPES, GENERIC_CERTIFICATION_KINDS,
                                        PACKAGING_MATERIALS)

blp = web_blueprint("vendor", url_prefix="/toko")
nav_item("web_vendor.desk", N_("Toko saya"), roles=("vendor",), order=50)

# A vendor has a handful of businesses and products: one page of each is all of them.
LISTING_LIMIT = 100
BUSINESS_STATUS = {"pending": N_("Menunggu verifikasi"), "verified": N_("Terverifikasi"),
                   "rejected": N_("Ditolak")}
CERTIFICATION_STATUS = {"claimed": N_("Diajukan, menunggu pemeriksaan"),
                        "confirmed": N_("Dikonfirmasi"), "refused": N_("Ditolak")}
PART_STATUS = {"placed": N_("Pesanan baru"), "confirmed": N_("Dikonfirmasi"),
               "shipped": N_("Dikirim"), "received": N_("Diterima pembeli"),
               "cancelled": N_("Dibatalkan")}
PAYMENT_METHOD = {"qris": N_("QRIS"), "transfer": N_("Transfer bank"),
                  "cod": N_("Bayar di tempat (COD)")}
KIND = {"koperasi": N_("Koperasi"), "umkm": N_("UMKM")}
COOPERATIVE_TYPE = {"simpan_pinjam": N_("Simpan pinjam"), "konsumen": N_("Konsumen"),
                    "produsen": N_("Produsen"), "pemasaran": N_("Pemasaran"),
                    "jasa": N_("Jasa"), "serba_usaha": N_("Serba usaha")}
# The buttons of the moves the marketplace offers on a part (its view's "moves").
MOVE_BUTTON = {"confirmed": N_("Konfirmasi pesanan"), "shipped": N_("Tandai sudah dikirim"),
               "cancelled": N_("Batalkan bagian ini")}
MOVE_DONE = {"confirmed": N_("Pesanan dikonfirmasi."), "shipped": N_("Pesanan ditandai dikirim."),
             "cancelled": N_("Pesanan dibatalkan.")}
BUSINESS_FIELDS = ("name", "kind", "nib", "nik_koperasi", "cooperative_type", "sector",
                   "kecamatan", "address", "phone", "email")
CONTACT_FIELDS = ("address", "phone", "email")
IDENTITY_FIELDS = ("name", "sector", "kecamatan", "nib", "nik_koperasi", "cooperative_type")
PRODUCT_FIELDS = ("name", "description", "category", "price_idr", "stock", "unit")


# --- the desk ---------------------------------------------------------------------------------

@blp.get("")
@requires_login("vendor")
def desk():
    businesses = my_businesses()
    products = {business["id"]: len(products_of(business, hidden=False))
                for business in businesses if business["status"] == "verified"}
    waiting = {}
    for _order, part in my_parts():
        if part["status"] == "placed":
            waiting[part["business_id"]] = waiting.get(part["business_id"], 0) + 1
    return render("toko/meja.html", businesses=businesses, products=products, waiting=waiting,
                  **_labels())


def my_businesses():
    return call("registry", "list_businesses", {"limit": LISTING_LIMIT})["items"]


def products_of(business, hidden=None):
    """My business's products, newest first, the hidden ones with the organizer's reason
    (``hidden``: only those, or only the others). Empty while the marketplace has not yet
    heard of a business just registered."""
    query = {"limit": LISTING_LIMIT} | ({} if hidden is None else {"hidden": hidden})
    try:
        return call("marketplace", "list_business_products", business["id"], query)["items"]
    except DomainError as error:
        if error.code != "not_found":
            raise
        return []


def my_parts():
    """(order, part) for each of my parts, newest order first."""
    orders = call("marketplace", "list_orders", {"role": "vendor", "limit": LISTING_LIMIT})
    return [(order, part) for order in orders["items"] for part in order["parts"]]


# --- businesses -------------------------------------------------------------------------------

@blp.get("/usaha/baru")
@requires_login("vendor")
def new_business():
    return _business_form(form={"kind": "umkm", "idempotency_key": str(uuid.uuid4())})


@blp.post("/usaha/baru")
@requires_login("vendor")
def register_business():
    body = form_body(*BUSINESS_FIELDS, optional=("nib", "nik_koperasi", "cooperative_type"))
    body["packaging"] = request.form.getlist("packaging")
    key = request.form.get("idempotency_key") or None
    business, error = attempt(lambda: call("registry", "register_business", body,
                                           idempotency_key=key))
    if error:
        return _business_form(form=body | {"idempotency_key": key}, error=error,
                              status=form_status(error))
    return done(i18n.gettext("Usaha Anda terdaftar dan menunggu verifikasi."),
                "web_vendor.business", business_id=business["id"])


def _business_form(form, error=None, status=200):
    return render("toko/usaha_baru.html", status=status, form=form, error=error,
                  choices=_business_choices(), **_labels())


@blp.get("/usaha/<business_id>")
@requires_login("vendor")
def business(business_id):
    return _business_page(_my_business(business_id))


@blp.post("/usaha/<business_id>")
@requires_login("vendor")
def update_business(business_id):
    current = _my_business(business_id)
    body = form_body(*_editable_fields(current), optional=("nib", "nik_koperasi",
                                                           "cooperative_type"))
    body["packaging"] = request.form.getlist("packaging")
    _, error = attempt(lambda: call("registry", "update_business", business_id, body))
    if error:
        return _business_page(current, edit=current | body, error=error, status=form_status(error))
    return done(i18n.gettext("Data usaha disimpan."), "web_vendor.business",
                business_id=business_id)


@blp.post("/usaha/<business_id>/ajukan-ulang")
@requires_login("vendor")
def resubmit_business(business_id):
    current = _my_business(business_id)
    _, error = attempt(lambda: call("registry", "resubmit_business", business_id))
    if error:
        return _business_page(current, error=error, status=form_status(error))
    return done(i18n.gettext("Usaha Anda diajukan lagi untuk verifikasi."),
                "web_vendor.business", business_id=business_id)


@blp.post("/usaha/<business_id>/sertifikasi")
@requires_login("vendor")
def add_certification(business_id):
    current = _my_business(business_id)
    body = form_body("kind", "number", "valid_until")
    key = request.form.get("idempotency_key") or None
    _, error = attempt(lambda: call("registry", "add_certification", business_id, body,
                                    idempotency_key=key))
    if error:
        return _business_page(current, certification=body | {"idempotency_key": key},
                              certification_error=error, status=form_status(error))
    return done(i18n.gettext("Sertifikasi diajukan; organizer akan memeriksanya."),
                "web_vendor.business", business_id=business_id)


def _my_business(business_id):
    business = call("registry", "get_business", business_id)
    if business.get("owner_account_id") != g.caller["account_id"]:
        abort(403)
    return business


def _editable_fields(business):
    """Contact details at any time; the legal identity only until it is verified."""
    if business["status"] == "verified":
        return CONTACT_FIELDS
    return CONTACT_FIELDS + IDENTITY_FIELDS


def _business_page(business, edit=None, error=None, certification=None,
                   certification_error=None, status=200):
    rules = call_anonymous("registry", "export_rules")
    return render("toko/usaha.html", status=status, business=business,
                  edit=edit or business, error=error, editable=_editable_fields(business),
                  certification=certification or {"idempotency_key": str(uuid.uuid4())},
                  certification_error=certification_error,
                  certification_kinds=_certification_kinds(rules),
                  markets=_readiness(business), choices=_business_choices(rules), **_labels())


def _readiness(business):
    """Each market in the page's language, with what is missing in the registry's words."""
    language = i18n.language()
    return [{"name": market["label"].get(language) or market["label"]["id"],
             "ready": market["ready"],
             "missing": [item.get(language) or item["id"] for item in market["missing"]]}
            for market in business.get("readiness") or []]


def _certification_kinds(rules):
    """The kinds a vendor may claim, named as the registry's rules name them; the generic
    kinds (the registry resolves them from the number) are not offered on this form."""
    return [(kind, _label(label)) for kind, label in rules["certifications"].items()
            if kind not in GENERIC_CERTIFICATION_KINDS]


def _business_choices(rules=None):
    rules = rules or call_anonymous("registry", "export_rules")
    sectors = rules["sectors"]
    packaging = rules["packaging_materials"]
    return {"kinds": [(kind, i18n.translated(KIND[kind])) for kind in BUSINESS_KINDS],
            "sectors": [(sector, _label(sectors.get(sector)) or sector) for sector in SECTORS],
            "kecamatan": [(name, name.title()) for name in KECAMATAN],
            "cooperative_types": [(name, i18n.translated(COOPERATIVE_TYPE[name]))
                                  for name in COOPERATIVE_TYPES],
            "packaging": [(name, _label(packaging.get(name)) or name)
                          for name in PACKAGING_MATERIALS]}


def _label(label):
    return label and (label.get(i18n.language()) or label.get("id"))


# --- QRIS -------------------------------------------------------------------------------------

@blp.get("/usaha/<business_id>/qris")
@requires_login("vendor")
def qris(business_id):
    business = _my_business(business_id)
    return render("toko/qris.html", business=business, qris=_current_qris(business_id),
                  form={})


@blp.post("/usaha/<business_id>/qris")
@requires_login("vendor")
def save_qris(business_id):
    business = _my_business(business_id)
    body = form_body("payload")
    saved, error = attempt(lambda: call("marketplace", "put_vendor_qris", business_id, body))
    if error:
        return render("toko/qris.html", status=form_status(error), business=business,
                      qris=_current_qris(business_id), form=body, error=error)
    return done(i18n.gettext("QRIS disimpan: pembeli kini bisa membayar %(merchant)s dengan "
                             "QRIS.", merchant=saved["merchant_name"]),
                "web_vendor.qris", business_id=business_id)


def _current_qris(business_id):
    try:
        return call("marketplace", "get_vendor_qris", business_id)
    except DomainError as error:
        if error.code != "not_found":
            raise
        return None


# --- products ---------------------------------------------------------------------------------

@blp.get("/produk")
@requires_login("vendor")
def products():
    businesses = my_businesses()
    shelves = [(business, products_of(business)) for business in businesses]
    return render("toko/produk.html", shelves=shelves, photos_url=_photos_url, **_labels())


@blp.get("/produk/baru")
@requires_login("vendor")
def new_product():
    return _product_form(form={"unit": "pcs", "idempotency_key": str(uuid.uuid4())})


@blp.post("/produk/baru")
@requires_login("vendor")
def list_product():
    body = form_body("business_id", *PRODUCT_FIELDS, integers=("price_idr", "stock"),
                     optional=("unit",))
    key = request.form.get("idempotency_key") or None
    product, error = attempt(lambda: call("marketplace", "list_product", body,
                                          idempotency_key=key))
    if error:
        return _product_form(form=body | {"idempotency_key": key}, error=error,
                             status=form_status(error))
    return done(i18n.gettext("Produk ditambahkan. Pasang fotonya agar pembeli tertarik."),
                "web_vendor.product", product_id=product["id"])


def _product_form(form, error=None, status=200):
    verified = [(business["id"], business["name"]) for business in my_businesses()
                if business["status"] == "verified"]
    return render("toko/produk_baru.html", status=status, form=form, error=error,
                  businesses=verified, categories=_categories())


@blp.get("/produk/<product_id>")
@requires_login("vendor")
def product(product_id):
    current = _my_product(product_id)
    return _product_page(current, form=current)


@blp.post("/produk/<product_id>")
@requires_login("vendor")
def change_product(product_id):
    current = _my_product(product_id)
    body = form_body(*PRODUCT_FIELDS, integers=("price_idr", "stock"))
    _, error = attempt(lambda: call("marketplace", "change_product", product_id, body))
    if error:
        return _product_page(current, form=current | body, error=error,
                             status=form_status(error))
    return done(i18n.gettext("Produk disimpan."), "web_vendor.product", product_id=product_id)


def _my_product(product_id):
    product = call("marketplace", "get_product", product_id)
    mine = {business["id"] for business in my_businesses()}
    if product["business_id"] not in mine:
        abort(403)
    return product


def _product_page(product, form, error=None, status=200):
    return render("toko/produk_ubah.html", status=status, product=product, form=form,
                  error=error, categories=_categories(), photos_url=_photos_url(product))


def _photos_url(product):
    if "web_photos.product_photos" not in current_app.view_functions:
        return None
    return url_for("web_photos.product_photos", product_id=product["id"])


def _categories():
    return list(CATEGORIES.items())


# --- orders -----------------------------------------------------------------------------------

@blp.get("/pesanan")
@requires_login("vendor")
def orders():
    wanted = request.args.get("status") or None
    parts = [(order, part) for order, part in my_parts()
             if wanted is None or part["status"] == wanted]
    statuses = [(status, i18n.translated(PART_STATUS[status])) for status in ORDER_STATUSES]
    return render("toko/pesanan.html", parts=parts, wanted=wanted, statuses=statuses,
                  **_labels())


@blp.get("/pesanan/<order_id>")
@requires_login("vendor")
def order(order_id):
    return _order_page(call("marketplace", "get_order", order_id))


@blp.post("/pesanan/<order_id>/bagian/<part_id>/status")
@requires_login("vendor")
def move_part(order_id, part_id):
    body = form_body("status", "note", optional=("note",))
    _, error = attempt(lambda: call("marketplace", "change_part_status", order_id, part_id,
                                    body))
    if error:
        return _refused(order_id, error)
    return done(i18n.translated(MOVE_DONE[body["status"]]), "web_vendor.order",
                order_id=order_id)


@blp.post("/pesanan/<order_id>/bagian/<part_id>/pembayaran")
@requires_login("vendor")
def record_payment(order_id, part_id):
    body = form_body("reference", optional=("reference",))
    _, error = attempt(lambda: call("marketplace", "record_payment", order_id, part_id, body))
    if error:
        return _refused(order_id, error)
    return done(i18n.gettext("Pembayaran dicatat."), "web_vendor.order", order_id=order_id)


def _refused(order_id, error):
    return _order_page(call("marketplace", "get_order", order_id), error=error,
                       status=form_status(error))


def _order_page(order, error=None, status=200):
    return render("toko/pesanan_rinci.html", status=status, order=order, error=error,
                  move_button=_move_button, **_labels())


def _move_button(status):
    return i18n.translated(MOVE_BUTTON[status])


# --- shared -----------------------------------------------------------------------------------

def _labels():
    """Functions the templates name statuses and methods with, in the page's language."""
    return {"business_status": lambda code: i18n.translated(BUSINESS_STATUS.get(code, code)),
            "certification_status":
                lambda code: i18n.translated(CERTIFICATION_STATUS.get(code, code)),
            "part_status": lambda code: i18n.translated(PART_STATUS.get(code, code)),
            "payment_name": lambda code: i18n.translated(PAYMENT_METHOD.get(code, code)),
            "kind_name": lambda code: i18n.translated(KIND.get(code, code))}
