"""What the registry publishes, and the payload each event carries.

Published (through the outbox): account.created, business.registered, business.verified,
business.rejected, business.resubmitted, business.updated, business.certification_added,
business.export_readiness_changed. Consumed: none; the registry is the source of these facts.
"""

ACCOUNT_CREATED = "account.created"
BUSINESS_REGISTERED = "business.registered"
BUSINESS_UPDATED = "business.updated"
FACT_FIELDS = ("name", "kind", "sector", "kecamatan", "status")
CERTIFICATION_ADDED = "business.certification_added"
EXPORT_READINESS_CHANGED = "business.export_readiness_changed"


def account_created(account):
    return {"account_id": str(account["id"]), "email": account["email"], "name": account["name"],
            "role": account["role"], "locale": account["locale"]}


def facts_changed(before, after):
    """Whether a change of the business is news to the read models of other services."""
    return any(before[key] != after[key] for key in FACT_FIELDS)


def business_facts(business, note=None):
    """The facts other services keep in their read models, for every business.* status event."""
    facts = {key: business[key] for key in FACT_FIELDS}
    facts |= {"business_id": str(business["id"]),
              "owner_account_id": str(business["owner_account_id"])}
    if note is not None:
        facts["note"] = note
    return facts


def certification_added(certification):
    return {"business_id": str(certification["business_id"]),
            "certification_id": str(certification["id"]), "kind": certification["kind"],
            "number": certification["number"], "valid_until": certification["valid_until"]}


def export_readiness_changed(business_id, summary):
    return {"business_id": str(business_id)} | summary
