"""Everyone's inbox and notification channels: /kotak-masuk and /pengaturan/notifikasi."""
from flask import g, redirect, request, session, url_for

from backbone.errors import DomainError
from services.gateway import rpc
from services.gateway.web import i18n, pages
from services.gateway.web.pages import (N_, attempt, call, done, nav_item, render,
                                        requires_login, safe_next, web_blueprint)

blp = web_blueprint("inbox")
# "Mark all read" marks at most this many pages of unread notifications in one go (the
# service has no bulk RPC; a person never has more than a few pages unread).
MARK_ALL_PAGES = 5
MARK_ALL_PAGE_SIZE = 100


def unread_count(caller):
    """The menu's badge: the caller's unread notifications."""
    return rpc.call("notify", "list_notifications", caller, {"limit": 1})["unread_count"]


nav_item("web_inbox.inbox", N_("Kotak masuk"), roles=(), order=70, badge=unread_count)


# --- the inbox ------------------------------------------------------------------------------

@blp.get("/kotak-masuk")
@requires_login()
def inbox():
    only_unread = request.args.get("belum") == "1"
    query = {name: request.args[arg] for name, arg in (("cursor", "lanjut"), ("limit", "per"))
             if request.args.get(arg)}
    if only_unread:
        query["unread"] = "true"
    listing = call("notify", "list_notifications", query)
    return render("kotak/kotak_masuk.html", listing=listing, only_unread=only_unread,
                  next_page=_next_page_url(listing["next_cursor"], only_unread))


def _next_page_url(cursor, only_unread):
    if not cursor:
        return None
    values = {"lanjut": cursor}
    if only_unread:
        values["belum"] = "1"
    if request.args.get("per"):
        values["per"] = request.args["per"]
    return url_for("web_inbox.inbox", **values)


@blp.post("/kotak-masuk/<notification_id>/dibaca")
@requires_login()
def mark_read(notification_id):
    call("notify", "mark_read", notification_id)
    return redirect(_back_to_inbox())


@blp.post("/kotak-masuk/semua-dibaca")
@requires_login()
def mark_all_read():
    for _ in range(MARK_ALL_PAGES):
        unread = call("notify", "list_notifications",
                      {"unread": "true", "limit": MARK_ALL_PAGE_SIZE})["items"]
        if not unread:
            break
        for notification in unread:
            call("notify", "mark_read", notification["id"])
    return done(i18n.gettext("Semua pemberitahuan sudah ditandai dibaca."), "web_inbox.inbox")


def _back_to_inbox():
    """The inbox page the form was on (its filter and page kept)."""
    back = safe_next(request.form.get("kembali"), default=url_for("web_inbox.inbox"))
    return back if back.startswith(url_for("web_inbox.inbox")) else url_for("web_inbox.inbox")


# --- the notification settings ----------------------------------------------------------------

nav_item("web_inbox.settings", N_("Notifikasi"), roles=(), order=75)

KIND_LABELS = {
    "business.verified": N_("Usaha Anda diverifikasi"),
    "business.rejected": N_("Usaha Anda ditolak"),
    "business.certification_confirmed": N_("Sertifikasi dikonfirmasi"),
    "business.certification_refused": N_("Sertifikasi ditolak"),
    "expo.booth_allocated": N_("Mendapat stan expo"),
    "expo.application_waitlisted": N_("Masuk daftar tunggu expo"),
    "expo.booth_offered": N_("Tawaran stan expo"),
    "expo.booth_released": N_("Stan expo dilepas"),
    "order.placed": N_("Pesanan baru"),
    "order.status_changed": N_("Status pesanan berubah"),
    "order.part_paid": N_("Pembayaran pesanan diterima penjual"),
    "product.hidden": N_("Produk disembunyikan panitia"),
    "stock.depleted": N_("Stok produk habis"),
    "reminder.certification_expiring": N_("Pengingat: sertifikasi hampir habis masa berlakunya"),
    "reminder.booth_offer_expiring": N_("Pengingat: tawaran stan hampir berakhir"),
    "reminder.order_unconfirmed": N_("Pengingat: pesanan belum dikonfirmasi"),
}
# The kinds each role is sent (docs/notifications.md); the page shows only those, and keeps
# the saved choices of the others as they are.
BUYER_KINDS = ("order.placed", "order.status_changed", "order.part_paid")
VENDOR_KINDS = tuple(kind for kind in KIND_LABELS if kind != "order.part_paid")
CHANNEL_LABELS = {"email": N_("E-mail"), "whatsapp": N_("WhatsApp"), "webhook": N_("Webhook")}
# A vendor has a webhook or two (a shop's system); more than this page lists is not expected.
WEBHOOKS_SHOWN = 50


def _kinds_of(role):
    return {"buyer": BUYER_KINDS, "vendor": VENDOR_KINDS}.get(role, tuple(KIND_LABELS))


def _channels_of(role):
    """Webhooks are the vendors' (their shop's systems)."""
    return tuple(channel for channel in CHANNEL_LABELS if channel != "webhook"
                 or role == "vendor")


@blp.get("/pengaturan/notifikasi")
@requires_login()
def settings():
    return _settings_page()


@blp.post("/pengaturan/notifikasi")
@requires_login()
def save_preferences():
    saved = call("notify", "get_preferences")["channels"]
    channels = {kind: saved[kind] for kind in saved}
    channels |= {kind: request.form.getlist(kind) for kind in _kinds_of(g.caller["role"])}
    body = {"channels": channels}
    quiet = pages.form_body("quiet_start", "quiet_end", optional=("quiet_start", "quiet_end"))
    if quiet:
        body["quiet_hours"] = {edge: quiet[f"quiet_{edge}"] for edge in ("start", "end")
                               if f"quiet_{edge}" in quiet}
    _, error = attempt(lambda: call("notify", "put_preferences", body))
    if error:
        return _settings_page(status=422, error=error, failed="preferences",
                              form=request.form)
    return done(i18n.gettext("Pilihan pemberitahuan sudah disimpan."), "web_inbox.settings")


@blp.post("/pengaturan/notifikasi/whatsapp")
@requires_login()
def opt_in_whatsapp():
    _, error = attempt(lambda: call("notify", "put_whatsapp", pages.form_body("phone")))
    if error:
        return _settings_page(status=422, error=error, failed="whatsapp", form=request.form)
    return done(i18n.gettext("Nomor WhatsApp sudah disimpan. Pemberitahuan akan dikirim ke "
                             "sana juga."), "web_inbox.settings")


@blp.post("/pengaturan/notifikasi/whatsapp/berhenti")
@requires_login()
def opt_out_whatsapp():
    call("notify", "delete_whatsapp")
    return done(i18n.gettext("Anda berhenti menerima pemberitahuan lewat WhatsApp."),
                "web_inbox.settings")


@blp.post("/pengaturan/notifikasi/webhook")
@requires_login("vendor")
def create_webhook():
    body = {"url": request.form.get("url", "").strip(), "events": request.form.getlist("events")}
    created, error = attempt(lambda: call("notify", "create_webhook", body))
    if error:
        return _settings_page(status=422, error=error, failed="webhook", form=request.form)
    # Rendered, not redirected: the secret is shown this once and never kept in the session.
    return _settings_page(status=201, created_webhook=created)


@blp.post("/pengaturan/notifikasi/webhook/<webhook_id>/hapus")
@requires_login("vendor")
def delete_webhook(webhook_id):
    call("notify", "delete_webhook", webhook_id)
    return done(i18n.gettext("Webhook sudah dihapus."), "web_inbox.settings")


def _settings_page(status=200, error=None, failed=None, form=None, created_webhook=None):
    role = g.caller["role"]
    preferences = call("notify", "get_preferences")
    return render(
        "kotak/pengaturan.html", status=status, error=error, failed=failed,
        form=form or {}, kinds=[(kind, KIND_LABELS[kind]) for kind in _kinds_of(role)],
        channels=[(channel, CHANNEL_LABELS[channel]) for channel in _channels_of(role)],
        chosen=_chosen_channels(preferences["channels"],
                                form if failed == "preferences" else None),
        quiet_hours=preferences["quiet_hours"] or {}, whatsapp=_whatsapp_number(),
        email=session.get("email"), webhooks=_webhooks_of(role),
        webhook_kinds=[(kind, KIND_LABELS[kind]) for kind in VENDOR_KINDS],
        created_webhook=created_webhook)


def _chosen_channels(saved, posted):
    """Per kind, the channels ticked: as posted when the form comes back with an error, else
    as saved (a kind never chosen gets every channel)."""
    if posted is not None:
        return {kind: posted.getlist(kind) for kind in KIND_LABELS}
    return {kind: saved.get(kind, list(CHANNEL_LABELS)) for kind in KIND_LABELS}


def _webhooks_of(role):
    if role != "vendor":
        return None
    return call("notify", "list_webhooks", {"limit": WEBHOOKS_SHOWN})["items"]


def _whatsapp_number():
    try:
        return call("notify", "get_whatsapp")
    except DomainError as error:
        if error.code == "not_found":
            return None
        raise
