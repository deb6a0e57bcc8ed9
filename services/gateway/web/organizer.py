"""The organizers' desk (/admin): businesses awaiting verification, certifications to review,
expos with their booths and applications, allocation runs with each decision's reasons,
freeing booths, and the waitlist in order.

Every decision is the registry's or the expo's: the pages only show what they answer and pass
the organizer's choices on, with the version reviewed so a business changed meanwhile is not
decided on blindly.
"""
import re

from flask import request, url_for

from backbone.errors import DomainError
from services.gateway.web import i18n
from services.gateway.web.expo import (BOOTH_TYPE, PAGE_SIZE, all_applications,
                                       application_status, floorplan, labels,
                                       move_field_errors, zones_of)
from services.gateway.web.pages import (N_, attempt, call, call_anonymous, done, error_page,
                                        form_body, form_status, nav_item, render,
                                        requires_login, web_blueprint)

blp = web_blueprint("organizer", url_prefix="/admin")
blp.context_processor(labels)

nav_item("web_organizer.desk", N_("Meja organizer"), roles=("organizer",), order=60)

# How many pending businesses the desk's front page shows before "see all".
DESK_QUEUE_PREVIEW = 5
# The waitlist reason ends with the position the last run gave (docs/allocation.md, Reasons).
WAITLIST_POSITION = re.compile(r"position (\d+) on the waitlist")
BUSINESS_STATUS = {"pending": N_("Menunggu verifikasi"), "verified": N_("Terverifikasi"),
                   "rejected": N_("Ditolak")}
CERTIFICATION_STATUS = {"claimed": N_("Diajukan"), "confirmed": N_("Dikonfirmasi"),
                        "refused": N_("Ditolak")}
BOOTH_FIELDS = ("code", "zone", "booth_type", "size_m2", "price_idr", "x", "y", "width",
                "height")
EXPO_FIELDS = ("name", "venue", "theme", "starts_on", "ends_on", "applications_open_on",
               "applications_close_on", "hold_hours")


def status_words():
    return {"business_status": lambda s: i18n.translated(BUSINESS_STATUS.get(s, s)),
            "certification_status": lambda s: i18n.translated(CERTIFICATION_STATUS.get(s, s))}


blp.context_processor(status_words)


def label_of(labels_by_code, code):
    """A code of the registry's vocabulary (a sector, a certification) in the page's words."""
    label = labels_by_code.get(code)
    return label[i18n.language()] if label else code


# --- the desk ---------------------------------------------------------------------------------

@blp.get("")
@requires_login("organizer")
def desk():
    pending = call("registry", "list_businesses",
                   {"status": "pending", "limit": DESK_QUEUE_PREVIEW})
    expos = call_anonymous("expo", "list_expos", {"limit": PAGE_SIZE})
    return render("admin/meja.html", pending=pending, expos=expos["items"])


# --- verification -------------------------------------------------------------------------------

@blp.get("/verifikasi")
@requires_login("organizer")
def verification_queue():
    query = {"status": "pending", "limit": PAGE_SIZE}
    if request.args.get("lanjut"):
        query["cursor"] = request.args["lanjut"]
    listing = call("registry", "list_businesses", query)
    return render("admin/verifikasi.html", businesses=listing["items"],
                  sectors=call_anonymous("registry", "export_rules")["sectors"],
                  label_of=label_of,
                  next_page=listing["next_cursor"] and url_for(
                      "web_organizer.verification_queue", lanjut=listing["next_cursor"]))


@blp.get("/verifikasi/<business_id>")
@requires_login("organizer")
def business_review(business_id):
    return _review_page(business_id)


def _review_page(business_id, error=None, certification_error=None, form=None):
    """The business as the organizer reviews it; ``certification_error`` is
    (certification id, FormError) for the certification whose review was refused."""
    business = call("registry", "get_business", business_id)
    refused = error or (certification_error and certification_error[1])
    return render("admin/tinjau_usaha.html", status=form_status(refused), business=business,
                  rules=call_anonymous("registry", "export_rules"), label_of=label_of,
                  error=error, certification_error=certification_error, form=form or {})


@blp.post("/verifikasi/<business_id>")
@requires_login("organizer")
def decide(business_id):
    body = {"decision": request.form.get("decision", ""),
            "note": request.form.get("note", "").strip() or None,
            "version": _integer(request.form.get("version"))}
    result, error = attempt(lambda: call("registry", "decide_verification", business_id, body))
    if error:
        return _review_page(business_id, error=error, form={"note": body["note"]})
    message = (i18n.gettext("Usaha sudah diverifikasi.") if result["status"] == "verified"
               else i18n.gettext("Usaha ditolak; pemiliknya diberi tahu alasannya."))
    return done(message, "web_organizer.verification_queue")


@blp.post("/verifikasi/<business_id>/sertifikasi/<certification_id>")
@requires_login("organizer")
def review_certification(business_id, certification_id):
    body = {"decision": request.form.get("decision", ""),
            "note": request.form.get("note", "").strip() or None}
    _, error = attempt(lambda: call("registry", "review_certification", business_id,
                                    certification_id, body))
    if error:
        return _review_page(business_id, certification_error=(certification_id, error),
                            form={"certification_note": body["note"]})
    return done(i18n.gettext("Sertifikasi sudah ditinjau."), "web_organizer.business_review",
                business_id=business_id)


def _integer(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


# --- expos --------------------------------------------------------------------------------------

@blp.get("/expo/baru")
@requires_login("organizer")
def new_expo_page():
    return _expo_form(form={})


@blp.post("/expo/baru")
@requires_login("organizer")
def new_expo_submit():
    form = {name: request.form.get(name, "").strip() for name in EXPO_FIELDS + ("zones",)}
    body = form_body(*EXPO_FIELDS, integers=("hold_hours",),
                     optional=("theme", "applications_open_on", "applications_close_on",
                               "hold_hours"))
    body["zones"] = parse_zones(form["zones"])
    created, error = attempt(lambda: call("expo", "create_expo", body))
    if error:
        return _expo_form(form=form, error=error)
    return done(i18n.gettext("Expo sudah dibuat. Tambahkan stan-stannya."),
                "web_organizer.expo_desk", expo_id=created["id"])


def parse_zones(text):
    """One zone a line, ``name: sector, sector`` (no sectors: every sector welcome)."""
    zones = []
    for line in text.splitlines():
        name, _, sectors = line.partition(":")
        if name.strip():
            zones.append({"name": name.strip(),
                          "sectors": [s.strip() for s in sectors.split(",") if s.strip()]})
    return zones


def _expo_form(form, error=None):
    return render("admin/expo_baru.html", status=form_status(error), form=form, error=error,
                  sectors=call_anonymous("registry", "export_rules")["sectors"])


@blp.get("/expo/<expo_id>")
@requires_login("organizer")
def expo_desk(expo_id):
    expo = call_anonymous("expo", "get_expo", expo_id)
    booths = call_anonymous("expo", "list_booths", expo_id)["items"]
    applications = all_applications(expo_id)
    return render("admin/expo.html", expo=expo, booths=booths, zones=zones_of(expo, booths),
                  plan=floorplan(expo, booths), **by_decision(applications))


def by_decision(applications):
    """The applications as the desk shows them: placed, waitlist in order, undecided, out."""
    def grouped(*statuses):
        return [a for a in applications if a["status"] in statuses]
    return {"placed": grouped("allocated", "offered"),
            "waitlist": sorted(grouped("waitlisted"), key=waitlist_position),
            "undecided": grouped("submitted"), "closed": grouped("declined", "cancelled"),
            "application_count": len(applications)}


def waitlist_position(application):
    """The position the last run gave; one without it goes last, oldest first."""
    for reason in application["reasons"]:
        found = WAITLIST_POSITION.search(reason.get("en", ""))
        if found:
            return int(found.group(1))
    return float("inf")


@blp.post("/expo/<expo_id>/alokasi")
@requires_login("organizer")
def run_allocation(expo_id):
    result = call("expo", "run_allocation", expo_id)
    message = i18n.gettext(
        "Alokasi selesai: %(placed)s ditempatkan, %(waiting)s di daftar tunggu.",
        placed=len(result["allocated"]), waiting=len(result["waitlisted"]))
    if result["optimal"]:
        message += " " + i18n.gettext("Susunan ini terbukti optimal.")
    return done(message, "web_organizer.expo_desk", expo_id=expo_id, _anchor="keputusan")


@blp.post("/expo/<expo_id>/stan/<booth_code>/lepas")
@requires_login("organizer")
def free_booth(expo_id, booth_code):
    freed = call("expo", "free_booth", expo_id, booth_code)
    if freed["offered_to"]:
        message = i18n.gettext("Stan %(code)s dilepas dan ditawarkan ke pendaftar berikutnya "
                               "di daftar tunggu.", code=booth_code)
    else:
        message = i18n.gettext("Stan %(code)s dilepas; tidak ada pendaftar di daftar tunggu "
                               "yang cocok, jadi stan itu kosong.", code=booth_code)
    return done(message, "web_organizer.expo_desk", expo_id=expo_id, _anchor="stan")


@blp.post("/expo/<expo_id>/lamaran/<application_id>/unggulan")
@requires_login("organizer")
def mark_flagship(expo_id, application_id):
    flagship = request.form.get("flagship") == "true"
    call("expo", "mark_flagship", expo_id, application_id, {"flagship": flagship})
    message = (i18n.gettext("Ditandai sebagai produk unggulan.") if flagship
               else i18n.gettext("Tanda produk unggulan dihapus."))
    return done(message, "web_organizer.expo_desk", expo_id=expo_id, _anchor="keputusan")


# --- one booth: its history, blocking, placing by hand ------------------------------------------

@blp.get("/expo/<expo_id>/stan/<booth_code>")
@requires_login("organizer")
def booth(expo_id, booth_code):
    return _booth_page(expo_id, booth_code)


def _booth_page(expo_id, booth_code, block_error=None, place_error=None, form=None):
    expo = call_anonymous("expo", "get_expo", expo_id)
    shown = next((b for b in call_anonymous("expo", "list_booths", expo_id)["items"]
                  if b["code"] == booth_code), None)
    if shown is None:
        return error_page(404)
    history = call("expo", "booth_history", expo_id, booth_code)["items"]
    candidates = [a for a in all_applications(expo_id)
                  if a["status"] in ("submitted", "waitlisted", "allocated", "offered")
                  and a["booth_code"] != booth_code]
    return render("admin/stan.html", status=form_status(block_error or place_error),
                  expo=expo, booth=shown, history=history, candidates=candidates,
                  candidates_options=[(a["id"], _candidate_label(a)) for a in candidates],
                  block_error=block_error, place_error=place_error, form=form or {})


def _candidate_label(application):
    """An applicant as the placement form lists it: name, status and booth if any."""
    label = f"{application['business_name']} · {application_status(application['status'])}"
    if application["booth_code"]:
        label += f" · {application['booth_code']}"
    return label


@blp.post("/expo/<expo_id>/stan/<booth_code>/blokir")
@requires_login("organizer")
def block_booth(expo_id, booth_code):
    body = {"blocked": request.form.get("blocked") == "true",
            "reason": request.form.get("reason", "").strip()}
    _, error = attempt(lambda: call("expo", "block_booth", expo_id, booth_code, body))
    if error:
        return _booth_page(expo_id, booth_code, block_error=error,
                           form={"reason": body["reason"]})
    message = (i18n.gettext("Stan %(code)s diblokir.", code=booth_code) if body["blocked"]
               else i18n.gettext("Stan %(code)s bisa ditawarkan lagi.", code=booth_code))
    return done(message, "web_organizer.booth", expo_id=expo_id, booth_code=booth_code)


@blp.post("/expo/<expo_id>/stan/<booth_code>/tempatkan")
@requires_login("organizer")
def place_manually(expo_id, booth_code):
    body = {"application_id": request.form.get("application_id", ""),
            "reason": request.form.get("place_reason", "").strip()}
    _, error = attempt(lambda: call("expo", "place_manually", expo_id, booth_code, body))
    if error:
        # A rule the placement breaks is named on the booth: said beside the applicant.
        move_field_errors(error, {"reason": "place_reason", "booth_code": "application_id"})
        return _booth_page(expo_id, booth_code, place_error=error, form={
            "application_id": body["application_id"], "place_reason": body["reason"]})
    return done(i18n.gettext("Peserta ditempatkan di stan %(code)s.", code=booth_code),
                "web_organizer.booth", expo_id=expo_id, booth_code=booth_code)


@blp.get("/expo/<expo_id>/stan")
@requires_login("organizer")
def add_booth_page(expo_id):
    return _booth_form(expo_id, form={})


@blp.post("/expo/<expo_id>/stan")
@requires_login("organizer")
def add_booth_submit(expo_id):
    form = {name: request.form.get(name, "").strip() for name in BOOTH_FIELDS}
    booth = form_body(*BOOTH_FIELDS, integers=("price_idr",))
    booth.update({name: _metres_or_text(booth[name])
                  for name in ("size_m2", "x", "y", "width", "height")})
    _, error = attempt(lambda: _add_booth(expo_id, booth))
    if error:
        return _booth_form(expo_id, form=form, error=error)
    return done(i18n.gettext("Stan %(code)s sudah ditambahkan.", code=form["code"]),
                "web_organizer.add_booth_page", expo_id=expo_id)


def _add_booth(expo_id, booth):
    """The service checks a list of booths; the form adds one, so its errors are put back
    beside that booth's fields."""
    try:
        return call("expo", "add_booths", expo_id, {"booths": [booth]})
    except DomainError as error:
        nested = error.fields.get("booths")
        if isinstance(nested, dict):
            error.fields = nested.get("0", nested.get(0, {}))
        raise


def _metres_or_text(value):
    """A length as typed, with a decimal comma or point; text that is none stays text for the
    service to name."""
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        return value
    return int(number) if number.is_integer() else number


def _booth_form(expo_id, form, error=None):
    expo = call_anonymous("expo", "get_expo", expo_id)
    booths = call_anonymous("expo", "list_booths", expo_id)["items"]
    return render("admin/stan_baru.html", status=form_status(error), expo=expo, booths=booths,
                  form=form, error=error, zone_pairs=[(z, z) for z in zones_of(expo, booths)],
                  type_pairs=[(kind, i18n.translated(label))
                              for kind, label in BOOTH_TYPE.items()])
