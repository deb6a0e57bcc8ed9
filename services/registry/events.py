"""What the registry publishes, and the payload each event carries.

Published (through the outbox): account.created, account.updated, business.registered,
business.verified, business.rejected, business.resubmitted, business.updated,
business.certification_added, business.certification_confirmed,
business.certification_refused and business.export_readiness_changed. Consumed: none; the
registry is the source of these facts.

Every account.* and business.* event carries the aggregate's version (the envelope's
aggregate fields) and the whole snapshot other services keep of it, so their read models
apply the newest fact and may skip an older one without losing anything.
"""

ACCOUNT_CREATED = "account.created"
ACCOUNT_UPDATED = "account.updated"
BUSINESS_REGISTERED = "business.registered"
BUSINESS_UPDATED = "business.updated"
FACT_FIELDS = ("name", "kind", "sector", "kecamatan", "status")
CERTIFICATION_ADDED = "business.certification_added"
CERTIFICATION_REVIEWED = {"confirmed": "business.certification_confirmed",
                          "refused": "business.certification_refused"}
EXPORT_READINESS_CHANGED = "business.export_readiness_changed"


def account_created(account):
    return {"account_id": str(account["id"]), "email": account["email"], "name": account["name"],
            "role": account["role"], "locale": account["locale"]}


def account_facts(account):
    """The snapshot of an account other services keep (notify: e-mail and locale)."""
    return account_created(account) | {"phone": account["phone"]}


def account_aggregate(account):
    return ("account", str(account["id"]), account["version"])


def facts_changed(before, after):
    """Whether a change of the business is news to the read models of other services."""
    return any(before[key] != after[key] for key in FACT_FIELDS)


def business_aggregate(business):
    return ("business", str(business["id"]), business["version"])


def business_facts(business, confirmed_certifications, note=None):
    """The snapshot other services keep in their read models, for every business.* event."""
    facts = {key: business[key] for key in FACT_FIELDS}
    facts |= {"business_id": str(business["id"]),
              "owner_account_id": str(business["owner_account_id"]),
              "export_ready": business["readiness"]["export_ready"],
              "certifications": confirmed_certifications}
    if note is not None:
        facts["note"] = note
    return facts


def certification_fact(certification, snapshot, note=None):
    fact = {"business_id": snapshot["business_id"],
            "certification_id": str(certification["id"]), "kind": certification["kind"],
            "number": certification["number"], "valid_until": certification["valid_until"],
            "business": snapshot}
    if note is not None:
        fact["note"] = note
    return fact


def export_readiness_changed(summary, snapshot):
    return {"business_id": snapshot["business_id"], "business": snapshot} | summary
