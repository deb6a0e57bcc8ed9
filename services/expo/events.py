"""What the expo publishes and consumes, and the payload each event carries.

Published (through the outbox), each a fact about one application (its aggregate version in
the envelope): expo.application_submitted, expo.booth_allocated, expo.application_waitlisted,
expo.booth_offered and expo.booth_released (contracts in backbone/contracts.py). Consumed:
every business.* fact of the registry, into the read model of businesses (apply if newer).
"""

APPLICATION_SUBMITTED = "expo.application_submitted"
BOOTH_ALLOCATED = "expo.booth_allocated"
APPLICATION_WAITLISTED = "expo.application_waitlisted"
BOOTH_OFFERED = "expo.booth_offered"
BOOTH_RELEASED = "expo.booth_released"


def application_aggregate(application):
    return ("application", str(application["id"]), application["version"])


def application_submitted(application, expo, business):
    return {"application_id": str(application["id"]), "expo_id": str(expo["id"]),
            "expo_name": expo["name"], "business_id": str(business["id"]),
            "business_name": business["name"],
            "owner_account_id": str(business["owner_account_id"]),
            "sector": application["sector"],
            "preferred_zones": list(application["preferred_zones"]),
            "booth_type": application["booth_type"]}


def booth_decision(application, expo_name, owner_account_id, reasons, **extra):
    """The payload of a booth decision: booth_allocated, application_waitlisted,
    booth_offered or booth_released, with ``extra`` (booth_code, hold_expires_at, position)."""
    return {"application_id": str(application["id"]), "expo_id": str(application["expo_id"]),
            "expo_name": expo_name, "business_id": str(application["business_id"]),
            "owner_account_id": str(owner_account_id), "reasons": reasons} | extra
