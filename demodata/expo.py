"""The Malang City Expo 2025 of the demo: its plan, its sixty applicants and their booths.

Runs after the registry's loader: the applicants are verified businesses, some from
registry.yaml, the rest created here the way the registry's loader creates its own.
"""
import datetime as dt
import logging
import os
import pathlib
import time

import yaml

from backbone import clock
from demodata import registry
from demodata.client import ApiError

log = logging.getLogger(__name__)
DATA = pathlib.Path(__file__).with_name("expo.yaml")
EXPO_FIELDS = ("name", "venue", "theme", "starts_on", "ends_on", "applications_open_on",
               "hold_hours", "zones")
# The expo learns of a verification from the registry's facts, a moment after it was made.
NOT_VERIFIED_YET = "not verified (yet)"
VERIFIED_POLLS = 30
VERIFIED_POLL_SECONDS = 1.0
PAGE = 100


def load(gateway):
    data = yaml.safe_load(DATA.read_text())
    accounts = yaml.safe_load(registry.DATA.read_text())
    password = accounts["password"]
    admin = gateway.token(os.environ.get("LARIS_ADMIN_EMAIL", "admin@laris.local"),
                          os.environ.get("LARIS_ADMIN_PASSWORD", "laris-dev-admin"))
    created = {"accounts": 0, "businesses": 0, "certifications": 0, "confirmations": 0,
               "decisions": 0, "expos": 0, "booths": 0, "applications": 0, "flagships": 0,
               "allocation_runs": 0}
    for vendor in data["vendors"]:
        created["accounts"] += gateway.ensure_account(vendor, password, "vendor", admin)
    organizer = gateway.token(accounts["organizers"][0]["email"], password)
    applicants = list(_new_applicants(gateway, data, password, organizer, created))
    applicants += _registry_applicants(gateway, data, password)
    expo = _ensure_expo(gateway, organizer, data["expo"], created)
    _ensure_booths(gateway, organizer, expo["id"], booths_of(data["booth_rows"]), created)
    applications = _applications_by_business(gateway, organizer, expo["id"])
    for token, business, wish in applicants:
        application = applications.get(business["id"])
        if application is None:
            application = _apply(gateway, token, expo["id"], business, wish)
            applications[business["id"]] = application
            created["applications"] += 1
        if wish.get("flagship") and not application["flagship_marked"]:
            gateway.request("POST", f"/expos/{expo['id']}/applications/{application['id']}"
                            "/flagship", token=organizer, json={"flagship": True})
            created["flagships"] += 1
    if any(app["status"] == "submitted" for app in applications.values()):
        created["allocation_runs"] += _allocate(gateway, organizer, expo["id"])
    log.info("demo expo data loaded", extra=created)
    return created


def booths_of(rows):
    """The booths a row of the plan describes, each with its code, type, size and price."""
    booths = []
    for row in rows:
        for index in range(row["count"]):
            booth_type = row.get("booth_type") or _row_booth_type(row, index)
            price = row["corner_price_idr"] if booth_type == "corner" else row["price_idr"]
            booths.append({
                "code": f"{row['prefix']}-{row['first'] + index:02d}", "zone": row["zone"],
                "booth_type": booth_type, "size_m2": row["width"] * row["height"],
                "price_idr": price, "x": row["x"] + index * row["step"], "y": row["y"],
                "width": row["width"], "height": row["height"]})
    return booths


def _row_booth_type(row, index):
    at_an_end = index in (0, row["count"] - 1)
    return "corner" if row.get("corners") and at_an_end else "inline"


def _new_applicants(gateway, data, password, organizer, created):
    """(vendor token, business, application wish) of each business created here."""
    for vendor in data["vendors"]:
        token = gateway.token(vendor["email"], password)
        for spec in vendor["businesses"]:
            registry._ensure_business(gateway, token, organizer, spec, created)
            yield token, registry._find_own(gateway, token, spec["name"]), spec["application"]


def _registry_applicants(gateway, data, password):
    applicants = []
    for wish in data["registry_applicants"]:
        token = gateway.token(wish["vendor"], password)
        business = registry._find_own(gateway, token, wish["business"])
        if business is None:
            raise ApiError(f"{wish['business']} is not among {wish['vendor']}'s businesses")
        applicants.append((token, business, wish))
    return applicants


def _ensure_expo(gateway, organizer, spec, created):
    expo = _find_expo(gateway, spec["name"])
    if expo is not None:
        return expo
    close_on = clock.today_wib() + dt.timedelta(days=spec["close_after_days"])
    body = {key: spec[key] for key in EXPO_FIELDS if key in spec}
    body |= {key: str(body[key]) for key in ("starts_on", "ends_on", "applications_open_on")}
    body["applications_close_on"] = str(close_on)
    created["expos"] += 1
    return gateway.request("POST", "/expos", token=organizer, json=body).json()


def _find_expo(gateway, name):
    for expo in _pages(gateway, "/expos", None):
        if expo["name"] == name:
            return expo
    return None


def _ensure_booths(gateway, organizer, expo_id, booths, created):
    listing = gateway.request("GET", f"/expos/{expo_id}/booths").json()
    on_the_plan = {booth["code"] for booth in listing["items"]}
    missing = [booth for booth in booths if booth["code"] not in on_the_plan]
    if missing:
        gateway.request("POST", f"/expos/{expo_id}/booths", token=organizer,
                        json={"booths": missing})
        created["booths"] += len(missing)


def _applications_by_business(gateway, organizer, expo_id):
    return {application["business_id"]: application
            for application in _pages(gateway, f"/expos/{expo_id}/applications", organizer)}


def _apply(gateway, vendor_token, expo_id, business, wish):
    """The new application; while the expo has not yet heard of the business's verification,
    ask again a little later."""
    body = {"business_id": business["id"], "sector": business["sector"],
            "preferred_zones": wish["preferred_zones"], "booth_type": wish.get("booth_type"),
            "note": wish.get("note")}
    for _ in range(VERIFIED_POLLS):
        response = gateway.request("POST", f"/expos/{expo_id}/applications",
                                   token=vendor_token, json=body, tolerate=(409,))
        if response.status_code == 201:
            return response.json()
        if NOT_VERIFIED_YET not in response.text:
            break
        time.sleep(VERIFIED_POLL_SECONDS)
    raise ApiError(f"POST /expos/{expo_id}/applications for {business['name']} -> 409: "
                   f"{response.text}")


def _allocate(gateway, organizer, expo_id):
    """1 when the allocation ran, 0 when this gateway has no allocation route yet."""
    response = gateway.request("POST", f"/expos/{expo_id}/allocations", token=organizer,
                               json={}, tolerate=(404,))
    if response.status_code == 404:
        log.warning("demo expo not allocated: the gateway has no allocation route yet",
                    extra={"expo_id": expo_id})
        return 0
    result = response.json()
    log.info("demo expo allocated", extra={"expo_id": expo_id,
                                           "allocated": len(result["allocated"]),
                                           "waitlisted": len(result["waitlisted"])})
    return 1


def _pages(gateway, path, token):
    cursor = None
    while True:
        params = {"limit": PAGE} | ({"cursor": cursor} if cursor else {})
        listing = gateway.request("GET", path, token=token, params=params).json()
        yield from listing["items"]
        cursor = listing["next_cursor"]
        if not cursor:
            return
