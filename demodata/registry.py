"""Accounts and businesses of the demo: vendors register, the city's organizer decides."""
import logging
import os
import pathlib

import yaml

log = logging.getLogger(__name__)
DATA = pathlib.Path(__file__).with_name("registry.yaml")
BUSINESS_FIELDS = ("name", "kind", "kecamatan", "address", "phone", "email", "sector", "nib",
                   "nik_koperasi", "cooperative_type", "packaging")


def load(gateway):
    data = yaml.safe_load(DATA.read_text())
    password = data["password"]
    admin = gateway.token(os.environ.get("LARIS_ADMIN_EMAIL", "admin@laris.local"),
                          os.environ.get("LARIS_ADMIN_PASSWORD", "laris-dev-admin"))
    created = {"accounts": 0, "businesses": 0, "certifications": 0, "confirmations": 0,
               "decisions": 0}
    for role, key in (("organizer", "organizers"), ("buyer", "buyers"), ("vendor", "vendors")):
        for account in data.get(key, []):
            created["accounts"] += gateway.ensure_account(account, password, role, admin)
    organizer = gateway.token(data["organizers"][0]["email"], password)
    for vendor in data["vendors"]:
        token = gateway.token(vendor["email"], password)
        for business in vendor["businesses"]:
            _ensure_business(gateway, token, organizer, business, created)
    log.info("demo registry data loaded", extra=created)
    return created


def _ensure_business(gateway, vendor_token, organizer_token, spec, created):
    business = _find_own(gateway, vendor_token, spec["name"])
    if business is None:
        body = {key: spec[key] for key in BUSINESS_FIELDS if key in spec}
        business = gateway.request("POST", "/businesses", token=vendor_token, json=body).json()
        created["businesses"] += 1
    for certification in spec.get("certifications", []):
        response = gateway.request(
            "POST", f"/businesses/{business['id']}/certifications", token=vendor_token,
            json={**certification, "valid_until": str(certification["valid_until"])},
            tolerate=(409,))
        created["certifications"] += response.status_code == 201
    _confirm_claims(gateway, organizer_token, business["id"], created)
    wanted = spec.get("status", "pending")
    if wanted != "pending" and business["status"] == "pending":
        gateway.request("POST", f"/businesses/{business['id']}/verification",
                        token=organizer_token, json={"decision": wanted, "note": spec.get("note")})
        created["decisions"] += 1


def _confirm_claims(gateway, organizer_token, business_id, created):
    """The city checked the demo's certificates: each claim is confirmed."""
    seen = gateway.request("GET", f"/businesses/{business_id}", token=organizer_token).json()
    for certification in seen["certifications"]:
        if certification["status"] == "claimed":
            gateway.request(
                "POST", f"/businesses/{business_id}/certifications/{certification['id']}/review",
                token=organizer_token, json={"decision": "confirmed"})
            created["confirmations"] += 1


def _find_own(gateway, vendor_token, name):
    cursor = None
    while True:
        params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        listing = gateway.request("GET", "/businesses", token=vendor_token, params=params).json()
        for business in listing["items"]:
            if business["name"] == name:
                return business
        cursor = listing["next_cursor"]
        if not cursor:
            return None
