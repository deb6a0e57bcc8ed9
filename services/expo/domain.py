"""The expo's rules, as pure functions: no I/O, no clock (callers pass today)."""
import datetime as dt

from backbone.contracts import exports_abroad
from backbone.errors import Conflict, Forbidden, ValidationFailed
from services.expo import allocation

# Applications an organizer still decides on, or whose booth is held or allocated: a business
# rejected by the registry loses them.
OPEN_APPLICATION_STATUSES = ("submitted", "waitlisted", "offered", "allocated")
REJECTION_REASON = {
    "code": "business_rejected",
    "id": "Usaha ditolak dalam verifikasi registri; permohonan dan stannya dibatalkan.",
    "en": "The business was rejected in the registry's verification; its application and "
          "booth are cancelled.",
}


# --- roles ----------------------------------------------------------------------------------

def is_organizer(caller):
    return caller is not None and caller["role"] in ("organizer", "admin")


def check_organizer(caller):
    if not is_organizer(caller):
        raise Forbidden("Only the city's organizers may do this.")


def check_vendor(caller):
    if caller["role"] != "vendor":
        raise Forbidden("Only vendors apply for booths, for a business they own.")


# --- expos ----------------------------------------------------------------------------------

def application_window(data, today):
    """(open_on, close_on): the organizer's dates, or by default from today until the day
    before the expo starts. An expo imported after the fact has its window in the past."""
    close_on = data["applications_close_on"] or data["starts_on"] - dt.timedelta(days=1)
    open_on = data["applications_open_on"] or min(today, close_on)
    return open_on, close_on


def new_expo(data, today):
    """The expo to store from a loaded ExpoCreate, or a 422 naming the fields at fault."""
    open_on, close_on = application_window(data, today)
    errors = {}
    if data["ends_on"] < data["starts_on"]:
        errors["ends_on"] = ["Must be on or after starts_on."]
    if close_on < open_on:
        errors["applications_close_on"] = ["Must be on or after applications_open_on."]
    names = [zone["name"] for zone in data["zones"]]
    if len(set(names)) != len(names):
        errors["zones"] = ["Each zone has its own name."]
    if errors:
        raise ValidationFailed("Some fields are invalid.", fields=errors)
    return data | {"applications_open_on": open_on, "applications_close_on": close_on}


def check_window(expo, today):
    """A 409 with the reason when ``today`` (WIB) is outside the expo's application window."""
    if today < expo["applications_open_on"]:
        raise Conflict(f"Applications for {expo['name']} open on "
                       f"{expo['applications_open_on'].isoformat()}.",
                       details={"reason": "not_open_yet"})
    if today > expo["applications_close_on"]:
        raise Conflict(f"Applications for {expo['name']} closed on "
                       f"{expo['applications_close_on'].isoformat()}.",
                       details={"reason": "closed"})


def zone_names(expo):
    return {zone["name"] for zone in expo["zones"]}


def check_zones_known(expo, named, field):
    """An expo that declares zones accepts only those names; one without zones, any."""
    known = zone_names(expo)
    unknown = sorted({name for name in named if known and name not in known})
    if unknown:
        raise ValidationFailed("Unknown zones.", fields={field: [
            f"Not a zone of this expo: {', '.join(unknown)}. Zones: {', '.join(sorted(known))}."]})


def zones_for_sector(expo, sector):
    """The zones that welcome ``sector``: those naming it, and those naming no sector."""
    return [zone["name"] for zone in expo["zones"]
            if not zone["sectors"] or sector in zone["sectors"]]


# --- booths on the plan ---------------------------------------------------------------------

def duplicate_codes(new_booths, existing_codes):
    """Codes given twice in the body or already on the plan, sorted."""
    seen, duplicates = set(existing_codes), set()
    for booth in new_booths:
        if booth["code"] in seen:
            duplicates.add(booth["code"])
        seen.add(booth["code"])
    return sorted(duplicates)


def check_codes_free(new_booths, existing_codes):
    duplicates = duplicate_codes(new_booths, existing_codes)
    if duplicates:
        raise Conflict(f"Booth codes already used: {', '.join(duplicates)}.",
                       fields={"booths": [f"Duplicate code: {code}" for code in duplicates]})


def overlap(a, b):
    """Whether two booth rectangles share a positive area (touching edges do not)."""
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def overlapping_pairs(new_booths, existing_booths=()):
    """(code, code) pairs of booths that overlap, the new ones against each other and against
    the existing ones (existing booths never overlap each other), sorted. Sorted by x, a booth only
    meets those that start before it ends, so a plan of a few thousand booths stays quick."""
    tagged = [(booth, True) for booth in new_booths] + [(b, False) for b in existing_booths]
    tagged.sort(key=lambda item: item[0]["x"])
    pairs, active = [], []
    for booth, is_new in tagged:
        active = [item for item in active if item[0]["x"] + item[0]["width"] > booth["x"]]
        pairs.extend(tuple(sorted((other["code"], booth["code"])))
                     for other, other_new in active
                     if (is_new or other_new) and overlap(other, booth))
        active.append((booth, is_new))
    return sorted(pairs)


def check_no_overlap(new_booths, existing_booths):
    pairs = overlapping_pairs(new_booths, existing_booths)
    if pairs:
        described = [f"{a} overlaps {b}" for a, b in pairs]
        raise ValidationFailed("Booths overlap on the plan.", fields={"booths": described})


# --- applications ---------------------------------------------------------------------------

def check_may_apply(caller, business, data):
    """Only the owner of a verified business applies, for the sector it is registered in.
    ``business`` is the read model's row, None when no fact about it has arrived yet."""
    if business is None:
        raise Conflict("The business is not verified (yet): the expo has no verified record "
                       "of it. Try again shortly after its verification.",
                       details={"reason": "not_verified"})
    if str(business["owner_account_id"]) != caller["account_id"]:
        raise Forbidden("Only the business's owner may apply for it.")
    if business["status"] != "verified":
        raise Conflict(f"The business is {business['status']}, not verified (yet).",
                       details={"reason": "not_verified"})
    if data["sector"] != business["sector"]:
        raise ValidationFailed("The sector differs from the business's.", fields={"sector": [
            f"The business is registered in {business['sector']}."]})


def is_flagship(flagship_marked, export_ready):
    """Produk unggulan: marked by an organizer for this expo, or export-ready for at least one
    foreign market."""
    return flagship_marked or exports_abroad(export_ready)


def check_may_see_applications(caller):
    if not (is_organizer(caller) or caller["role"] == "vendor"):
        raise Forbidden("Organizers see every application; vendors their own.")


def applicant_filter(caller):
    """None for an organizer (every application), else the vendor's account id."""
    return None if is_organizer(caller) else caller["account_id"]


def rejects(business):
    return business["status"] == "rejected"


# --- allocation: from stored rows to the engine's inputs --------------------------------------

def booth_input(row):
    return allocation.Booth(code=row["code"], zone=row["zone"], booth_type=row["booth_type"],
                            x=row["x"], y=row["y"], width=row["width"], height=row["height"])


def zone_inputs(expo):
    return [allocation.Zone(name=zone["name"], sectors=frozenset(zone["sectors"]))
            for zone in expo["zones"]]


def applicant_input(row, seq, exhibited_before):
    """The engine's view of an application (``row`` joins its business)."""
    return allocation.Applicant(
        application_id=str(row["id"]), business_id=str(row["business_id"]),
        sector=row["sector"], kecamatan=row["kecamatan"],
        preferred_zones=tuple(row["preferred_zones"]), booth_type=row["booth_type"],
        export_ready=exports_abroad(row["export_ready"]),
        flagship=is_flagship(row["flagship_marked"], row["export_ready"]),
        first_time=row["business_id"] not in exhibited_before, submitted_seq=seq)


def split_candidates(rows, exhibited_before):
    """(fixed, waiting): applicants already holding or owning a booth, by booth code (never
    moved), and those a run may place (their business still verified)."""
    fixed, waiting = {}, []
    for seq, row in enumerate(rows):
        applicant = applicant_input(row, seq, exhibited_before)
        if row["booth_code"] is not None:
            fixed[row["booth_code"]] = applicant
        elif row["status"] in ("submitted", "waitlisted") and row["business_status"] == "verified":
            waiting.append(applicant)
    return fixed, waiting


def reasons_of(decision):
    return [{"code": r.code, "id": r.id, "en": r.en} for r in decision.reasons]


def allocation_row(application, booth_code, reasons, decided_by=None, manual=False,
                   hold_expires_at=None):
    """A booth allocated to an application, or held for it until ``hold_expires_at``."""
    return {"expo_id": application["expo_id"], "booth_code": booth_code,
            "application_id": application["id"], "business_id": application["business_id"],
            "state": "held" if hold_expires_at else "allocated", "manual": manual,
            "hold_expires_at": hold_expires_at, "reasons": reasons, "decided_by": decided_by}


def hold_expires_at(now, hold_hours):
    return now + dt.timedelta(hours=hold_hours)


# --- who may free, accept, decline and place ------------------------------------------------

def check_may_free(caller, owner_account_id):
    """An organizer, or the vendor whose business holds the booth."""
    if is_organizer(caller) or str(owner_account_id) == caller["account_id"]:
        return
    raise Forbidden("Only an organizer or the vendor holding the booth may free it.")


def check_applicant(caller, application):
    if str(application["applicant_account_id"]) != caller["account_id"]:
        raise Forbidden("Only the applicant may answer this offer.")


def check_open_offer(allocation_row, now):
    if allocation_row is None or allocation_row["state"] != "held":
        raise Conflict("There is no booth offer open for this application.")
    if allocation_row["hold_expires_at"] <= now:
        raise Conflict("The offer expired; the booth went to the next applicant.")


def check_placeable(application):
    if application["status"] in ("cancelled", "declined"):
        raise Conflict(f"The application is {application['status']}: it cannot be placed.")


def check_may_block(booth, blocked, taken):
    """A booth held or allocated cannot be blocked (free it first); only a blocked booth is
    unblocked."""
    if blocked and taken:
        raise Conflict(f"Booth {booth['code']} is {booth['status']}: free it first.")
    if not blocked and booth["status"] != "blocked":
        raise Conflict(f"Booth {booth['code']} is not blocked.")


def check_not_blocked(booth):
    if booth["status"] == "blocked":
        raise Conflict(f"Booth {booth['code']} is blocked.")


def reason(code, id_text, en_text):
    return {"code": code, "id": id_text, "en": en_text}


def freed_reason(by_organizer):
    if by_organizer:
        return reason("freed_by_organizer", "Stan dilepas oleh panitia.",
                      "The booth was freed by the organizers.")
    return reason("freed_by_vendor", "Stan dilepas oleh peserta.",
                  "The booth was given up by the exhibitor.")


DECLINED = reason("offer_declined", "Tawaran stan ditolak oleh peserta.",
                  "The exhibitor declined the booth offer.")
EXPIRED = reason("offer_expired", "Tawaran stan kedaluwarsa sebelum diterima.",
                 "The booth offer expired before it was accepted.")
ACCEPTED = reason("offer_accepted", "Tawaran stan diterima.", "The booth offer was accepted.")


def manual_reason(note):
    return reason("placed_by_organizer", f"Ditempatkan oleh panitia: {note}",
                  f"Placed by the organizers: {note}")


def offer_reasons(placement, hold_hours):
    return [reason("offered", f"Stan kosong ditawarkan; berlaku {hold_hours} jam.",
                   f"A freed booth is offered; the offer holds for {hold_hours} hours.")] + \
        reasons_of(placement)


def placement_refused(decision):
    """Why a manual placement breaks a hard rule, from the engine's waitlist reasons."""
    return ValidationFailed("This placement breaks an allocation rule.", fields={
        "booth_code": [r["en"] for r in reasons_of(decision)] or ["A rule forbids it."]})
