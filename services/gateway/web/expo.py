"""The expo's public pages with the floor plan (/expo) and the vendor's expo (/toko/expo):
applications, booth offers to accept or decline, and the vendor's booth on the plan.

The plan is the expo service's own SVG, put inline in the page so that its booths can be
links without any script. It is parsed and every element and attribute is checked against
what the service is known to draw (a drawing with anything else is not shown: the booths'
list beside it still is); the links are then added as elements, never as text.
"""
import logging
import re
import uuid
import xml.etree.ElementTree as ET

from flask import flash, redirect, request, url_for
from markupsafe import Markup

from backbone import clock
from services.gateway.web import i18n
from services.gateway.web.pages import (N_, attempt, call, call_anonymous, done, form_status,
                                        nav_item, render, requires_login, web_blueprint)

log = logging.getLogger(__name__)
blp = web_blueprint("expo")

nav_item("web_expo.expos", N_("Expo"), order=30)
nav_item("web_expo.my_expo", N_("Expo saya"), roles=("vendor",), order=55)

# The vendor's page looks at this many of the latest expos; the service pages by 100 at most.
LATEST_EXPOS = 20
PAGE_SIZE = 100
# An expo's applications, page after page, up to this many pages (10,000 applications).
MAX_PAGES = 100
APPLICATION_STATUS = {
    "submitted": N_("Menunggu alokasi"), "allocated": N_("Mendapat stan"),
    "waitlisted": N_("Daftar tunggu"), "offered": N_("Ditawari stan"),
    "declined": N_("Tidak diambil"), "cancelled": N_("Dibatalkan")}
BOOTH_STATUS = {"free": N_("Kosong"), "held": N_("Ditawarkan"), "allocated": N_("Terisi"),
                "blocked": N_("Diblokir")}
BOOTH_TYPE = {"inline": N_("Deret (inline)"), "corner": N_("Sudut (corner)"),
              "island": N_("Pulau (island)")}
# Applications that still count: a vendor with one of these does not apply again.
OPEN_APPLICATION_STATUSES = ("submitted", "allocated", "waitlisted", "offered")


# --- words for the templates ------------------------------------------------------------------

def reason_text(reason):
    """A decision's reason in the page's language (the service gives both)."""
    return reason["en"] if i18n.language() == "en" else reason["id"]


def application_status(status):
    return i18n.translated(APPLICATION_STATUS.get(status, status))


def booth_status(status):
    return i18n.translated(BOOTH_STATUS.get(status, status))


def booth_type(kind):
    return i18n.translated(BOOTH_TYPE.get(kind, kind or ""))


def labels():
    """What the expo and organizer templates share: statuses and reasons in words."""
    return {"reason_text": reason_text, "application_status": application_status,
            "booth_status": booth_status, "booth_type": booth_type,
            "business_url": business_url}


blp.context_processor(labels)


def business_url(business_id):
    """The exhibitor's public profile."""
    return url_for("web_public.business", business_id=business_id)


# --- the floor plan ---------------------------------------------------------------------------

SVG_NS = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG_NS)
# Exactly what services/expo/floorplan.py draws: anything else means the drawing is not the
# one this page knows, and it is not put in the page.
PLAN_ELEMENTS = {"svg", "title", "rect", "text", "tspan", "g"}
PLAN_ATTRIBUTES = {"version", "viewBox", "width", "height", "font-family", "font-size",
                   "font-weight", "font-style", "text-anchor", "fill", "stroke",
                   "stroke-width", "x", "y", "dy", "class"}
PLAN_VALUE = re.compile(r"^[A-Za-z0-9 .,#%\-]*$")


class UnknownDrawing(ValueError):
    pass


def floorplan(expo, booths, mine=None):
    """The plan as inline SVG markup, allocated booths linked to their exhibitors and the
    booth ``mine`` (a code) marked; None when the drawing is not one this page knows."""
    drawing = call_anonymous("expo", "floorplan", expo["id"], {"lang": i18n.language()})
    try:
        svg = checked_drawing(drawing)
    except (UnknownDrawing, ET.ParseError):
        log.warning("floor plan not shown: unexpected drawing", extra={"expo_id": expo["id"]},
                    exc_info=True)
        return None
    svg.set("role", "group")
    svg.set("aria-label", i18n.gettext("Denah stan %(expo)s", expo=expo["name"]))
    for attribute in ("width", "height"):  # the page's stylesheet sizes it to the screen
        svg.attrib.pop(attribute, None)
    by_code = {booth["code"]: booth for booth in booths}
    _link_booths(svg, by_code, mine)
    return Markup(ET.tostring(svg, encoding="unicode"))


def checked_drawing(drawing):
    """The drawing's parsed tree, or UnknownDrawing if it holds anything the expo's plan is
    not made of (a script, an event or link attribute, a value that is not plain)."""
    if "<!" in drawing:  # no DOCTYPE, entity or CDATA: the service never writes one
        raise UnknownDrawing("declarations in the drawing")
    svg = ET.fromstring(drawing)
    for element in svg.iter():
        namespace, _, name = element.tag.rpartition("}")
        if namespace != "{" + SVG_NS or name not in PLAN_ELEMENTS:
            raise UnknownDrawing(f"element {element.tag}")
        for attribute, value in element.attrib.items():
            if attribute not in PLAN_ATTRIBUTES or not PLAN_VALUE.match(value):
                raise UnknownDrawing(f"attribute {attribute}={value!r} of {name}")
    return svg


def _link_booths(svg, by_code, mine):
    """Each booth's group: an allocated one becomes a link to its exhibitor, ``mine`` gets
    the class that outlines it."""
    for parent in svg.iter(f"{{{SVG_NS}}}g"):
        for index, group in enumerate(list(parent)):
            booth = by_code.get(_code_of(group))
            if booth is None:
                continue
            if booth["code"] == mine:
                group.set("class", group.get("class", "") + " mine")
            if booth["status"] == "allocated" and booth.get("business_id"):
                parent.remove(group)
                link = ET.Element(f"{{{SVG_NS}}}a", {
                    "href": business_url(booth["business_id"]),
                    "aria-label": i18n.gettext("Stan %(code)s: %(business)s",
                                               code=booth["code"],
                                               business=booth.get("business_name") or "")})
                link.append(group)
                parent.insert(index, link)


def _code_of(group):
    """The booth code a booth's group is labelled with, None for any other element."""
    if group.tag != f"{{{SVG_NS}}}g" or "booth" not in group.get("class", "").split():
        return None
    for text in group.iter(f"{{{SVG_NS}}}text"):
        if text.get("class") == "code":
            return text.text
    return None


# --- public: the expos and one expo's page ----------------------------------------------------

@blp.get("/expo")
def expos():
    query = {"limit": PAGE_SIZE}
    if request.args.get("lanjut"):
        query["cursor"] = request.args["lanjut"]
    listing = call_anonymous("expo", "list_expos", query)
    return render("expo/daftar_expo.html", expos=listing["items"],
                  next_page=listing["next_cursor"] and url_for(
                      "web_expo.expos", lanjut=listing["next_cursor"]))


@blp.get("/expo/<expo_id>")
def expo(expo_id):
    shown = call_anonymous("expo", "get_expo", expo_id)
    booths = call_anonymous("expo", "list_booths", expo_id)["items"]
    return render("expo/expo.html", expo=shown, booths=booths,
                  plan=floorplan(shown, booths), zones=zones_of(shown, booths))


def zones_of(expo, booths):
    """The expo's zones by name; an expo that declares none has its booths' zones."""
    names = [zone["name"] for zone in expo["zones"]]
    for booth in booths:
        if booth["zone"] not in names:
            names.append(booth["zone"])
    return names


def all_applications(expo_id, status=None):
    """Every application of the expo the caller may see (an organizer all, a vendor theirs),
    oldest first."""
    query = {"limit": PAGE_SIZE} | ({"status": status} if status else {})
    applications = []
    for _ in range(MAX_PAGES):
        listing = call("expo", "list_applications", expo_id, query)
        applications += listing["items"]
        if not listing["next_cursor"]:
            break
        query["cursor"] = listing["next_cursor"]
    return applications


# --- vendor: my expo ----------------------------------------------------------------------------

@blp.get("/toko/expo")
@requires_login("vendor")
def my_expo():
    latest = call_anonymous("expo", "list_expos", {"limit": LATEST_EXPOS})["items"]
    entries = [_my_entry(expo) for expo in latest]
    # The expos the vendor applied to first, each group latest first.
    entries.sort(key=lambda entry: not entry["applications"])
    return render("expo/expo_saya.html", entries=entries, today=_today())


def _my_entry(expo):
    """One expo as the vendor sees it: their applications and, where they have a booth or an
    offer, the plan with it marked."""
    applications = all_applications(expo["id"])
    entry = {"expo": expo, "applications": applications, "plan": None,
             "applied": any(a["status"] in OPEN_APPLICATION_STATUSES for a in applications)}
    placed = next((a for a in applications
                   if a["status"] in ("allocated", "offered") and a["booth_code"]), None)
    if placed is not None:
        booths = call_anonymous("expo", "list_booths", expo["id"])["items"]
        entry["plan"] = floorplan(expo, booths, mine=placed["booth_code"])
        entry["my_booth"] = placed["booth_code"]
    return entry


def _today():
    """Today in Malang, to tell which expos take applications (the service still decides)."""
    return clock.today_wib().isoformat()


@blp.get("/toko/expo/<expo_id>/daftar")
@requires_login("vendor")
def apply_page(expo_id):
    return _apply_form(expo_id, form={"idempotency_key": str(uuid.uuid4())})


@blp.post("/toko/expo/<expo_id>/daftar")
@requires_login("vendor")
def apply_submit(expo_id):
    businesses = _my_verified_businesses()
    form = {name: request.form.get(name, "").strip()
            for name in ("business_id", "booth_type", "note", "idempotency_key",
                         "zone_1", "zone_2", "zone_3")}
    body = {"business_id": form["business_id"],
            "sector": next((b["sector"] for b in businesses if b["id"] == form["business_id"]),
                           ""),
            "preferred_zones": _distinct(form["zone_1"], form["zone_2"], form["zone_3"]),
            "booth_type": form["booth_type"] or None, "note": form["note"] or None}
    _, error = attempt(lambda: call("expo", "submit_application", expo_id, body,
                                    idempotency_key=form["idempotency_key"] or None))
    if error:
        # The form asks for the zones as three choices, and the sector through the business.
        move_field_errors(error, {"preferred_zones": "zone_1", "sector": "business_id"})
        return _apply_form(expo_id, form=form, error=error, businesses=businesses)
    return done(i18n.gettext("Pendaftaran Anda sudah kami terima."), "web_expo.my_expo")


def _apply_form(expo_id, form, error=None, businesses=None):
    shown = call_anonymous("expo", "get_expo", expo_id)
    booths = call_anonymous("expo", "list_booths", expo_id)["items"]
    businesses = _my_verified_businesses() if businesses is None else businesses
    return render("expo/daftar_stan.html", status=form_status(error), expo=shown, form=form,
                  error=error, businesses=businesses,
                  business_options=[(b["id"], b["name"]) for b in businesses],
                  zone_pairs=[(zone, zone) for zone in zones_of(shown, booths)],
                  type_pairs=[(kind, i18n.translated(label))
                              for kind, label in BOOTH_TYPE.items()])


def _my_verified_businesses():
    return call("registry", "list_businesses",
                {"status": "verified", "limit": PAGE_SIZE})["items"]


def _distinct(*names):
    chosen = []
    for name in names:
        if name and name not in chosen:
            chosen.append(name)
    return chosen


def move_field_errors(error, renames):
    """A service's field errors beside the form's field that stands for it
    (``{service field: form field}``)."""
    for service_field, form_field in renames.items():
        if service_field in error.fields:
            error.fields[form_field] = (error.fields.get(form_field, [])
                                        + error.fields.pop(service_field))
    return error


@blp.post("/toko/expo/<expo_id>/lamaran/<application_id>/terima")
@requires_login("vendor")
def accept_offer(expo_id, application_id):
    _, error = attempt(lambda: call("expo", "accept_offer", expo_id, application_id))
    if error:
        return _refused(error)
    return done(i18n.gettext("Tawaran stan Anda terima. Sampai jumpa di expo!"),
                "web_expo.my_expo")


@blp.post("/toko/expo/<expo_id>/lamaran/<application_id>/tolak")
@requires_login("vendor")
def decline_offer(expo_id, application_id):
    _, error = attempt(lambda: call("expo", "decline_offer", expo_id, application_id))
    if error:
        return _refused(error)
    return done(i18n.gettext("Tawaran stan Anda tolak; stan itu ditawarkan ke pendaftar "
                             "berikutnya."), "web_expo.my_expo")


def _refused(error):
    """An offer that expired or was answered meanwhile: said on top of the vendor's page."""
    flash(error.message, "error")
    return redirect(url_for("web_expo.my_expo"))
