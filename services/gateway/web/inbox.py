"""Everyone's inbox and notification channels: /kotak-masuk and /pengaturan/notifikasi."""
from flask import redirect, request, url_for

from services.gateway import rpc
from services.gateway.web import i18n
from services.gateway.web.pages import (N_, call, done, nav_item, render, requires_login,
                                        safe_next, web_blueprint)

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
