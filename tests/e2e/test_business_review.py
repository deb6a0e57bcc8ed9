"""What a verification decision is tied to, the city's review of certifications, and the
versioned facts the registry publishes about a business."""
import datetime as dt

from tests.support.db import rows

NEXT_YEAR = (dt.date.today() + dt.timedelta(days=365)).isoformat()


def _claim(api, vendor, business_id, kind="pirt", number="206357301001227"):
    response = api.post(f"/businesses/{business_id}/certifications", token=vendor["token"],
                        json={"kind": kind, "number": number, "valid_until": NEXT_YEAR})
    assert response.status_code == 201, response.text
    return response.json()


# --- a decision is tied to what the organizer reviewed --------------------------------------

def test_a_business_carries_its_version_as_an_etag(api, vendor):
    business = api.register_business(vendor)
    seen = api.get(f"/businesses/{business['id']}", token=vendor["token"])
    assert seen.headers["ETag"] == f'"{seen.json()["version"]}"'
    changed = api.patch(f"/businesses/{business['id']}", token=vendor["token"],
                        json={"address": "Jl. Sanan Gang 2 No. 7, Purwantoro"})
    assert changed.json()["version"] > seen.json()["version"]
    assert changed.headers["ETag"] == f'"{changed.json()["version"]}"'


def test_a_decision_on_a_business_changed_since_review_is_a_conflict(api, vendor, organizer):
    business = api.register_business(vendor)
    path = f"/businesses/{business['id']}"
    reviewed = api.get(path, token=organizer["token"])
    etag = reviewed.headers["ETag"]

    # The owner changes the name after the organizer looked at it.
    api.patch(path, token=vendor["token"], json={"name": "Keripik Tempe Sanan Baru"})
    stale = api.verify(organizer, business["id"], headers={"If-Match": etag})
    assert stale.status_code == 409 and "version" in stale.json()["error"]["fields"]
    stale_body = api.post(f"{path}/verification", token=organizer["token"], json={
        "decision": "verified", "version": reviewed.json()["version"]})
    assert stale_body.status_code == 409
    assert api.get(path, token=organizer["token"]).json()["status"] == "pending"

    current = api.get(path, token=organizer["token"])
    decided = api.verify(organizer, business["id"], headers={"If-Match": current.headers["ETag"]})
    assert decided.status_code == 200, decided.text

    history = api.get(path, token=organizer["token"]).json()["verification_history"]
    assert history[-1]["business_version"] == current.json()["version"]
    assert history[-1]["identity"]["name"] == "Keripik Tempe Sanan Baru"
    assert history[-1]["identity"]["nib"] == business["nib"]


def test_a_malformed_if_match_is_a_validation_error(api, vendor, organizer):
    business = api.register_business(vendor)
    response = api.verify(organizer, business["id"], headers={"If-Match": '"abc"'})
    assert response.status_code == 422 and "If-Match" in response.json()["error"]["fields"]


# --- certifications are claimed, then confirmed or refused by the city ----------------------

def test_a_claimed_certification_counts_only_once_confirmed(api, vendor, organizer, broker):
    observed = broker.observe("registry", "business.*", "cert-review")
    business = api.register_business(vendor, packaging=["paper"])    # kuliner: pirt + halal
    api.verify(organizer, business["id"])
    path = f"/businesses/{business['id']}"
    pirt = _claim(api, vendor, business["id"])
    halal = _claim(api, vendor, business["id"], "halal", "ID35110000123450321")
    assert (pirt["status"], pirt["valid"]) == ("claimed", False)
    assert api.get(path).json()["certifications"] == []          # the public sees no claim
    assert api.get(path).json()["export_ready"] == []

    assert api.review_certification(vendor, business["id"], pirt["id"]).status_code == 403
    for claim in (pirt, halal):
        confirmed = api.review_certification(organizer, business["id"], claim["id"])
        assert confirmed.status_code == 200
        assert (confirmed.json()["status"], confirmed.json()["valid"]) == ("confirmed", True)
    public = api.get(path).json()
    assert {c["kind"] for c in public["certifications"]} == {"pirt", "halal"}
    assert "domestic" in public["export_ready"]

    no_reason = api.review_certification(organizer, business["id"], pirt["id"], "refused")
    assert no_reason.status_code == 422 and "note" in no_reason.json()["error"]["fields"]
    refused = api.review_certification(organizer, business["id"], pirt["id"], "refused",
                                       note="Nomor P-IRT tidak terdaftar di Dinkes")
    assert refused.json()["status"] == "refused"
    assert api.get(path).json()["export_ready"] == []
    again = api.review_certification(organizer, business["id"], pirt["id"], "confirmed")
    assert again.status_code == 409

    facts = [broker.body(m) for m in broker.drain(observed, expect=12)]
    types = [fact["event_type"] for fact in facts
             if fact["event_type"].startswith("business.certification_")]
    assert types == ["business.certification_added"] * 2 + [
        "business.certification_confirmed"] * 2 + ["business.certification_refused"]


def test_the_same_certificate_number_on_two_businesses_is_flagged_to_organizers(
        api, vendor, organizer):
    first = api.register_business(vendor)
    other_vendor = api.new_account("vendor")
    second = api.register_business(other_vendor)
    number = f"2063573{dt.datetime.now().strftime('%H%M%S%f')[:8]}"
    _claim(api, vendor, first["id"], number=number)
    _claim(api, other_vendor, second["id"], number=number)

    seen_by_organizer = api.get(f"/businesses/{second['id']}", token=organizer["token"]).json()
    assert seen_by_organizer["certifications"][0]["shared_with"] == [first["id"]]
    seen_by_owner = api.get(f"/businesses/{second['id']}", token=other_vendor["token"]).json()
    assert seen_by_owner["certifications"][0]["shared_with"] == []


def test_an_unknown_certification_is_not_found(api, vendor, organizer):
    business = api.register_business(vendor)
    missing = api.review_certification(organizer, business["id"],
                                       "00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404


# --- every business fact carries the business's version and whole snapshot ------------------

def test_business_facts_carry_the_aggregate_version_and_snapshot(api, vendor, organizer,
                                                                  broker, infra):
    observed = broker.observe("registry", "business.*", "business-facts")
    business = api.register_business(vendor, packaging=["paper"])
    claim = _claim(api, vendor, business["id"])
    api.review_certification(organizer, business["id"], claim["id"])
    api.verify(organizer, business["id"])

    events = [broker.body(m) for m in broker.drain(observed, expect=5)]
    versions = [event["aggregate_version"] for event in events]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert {event["aggregate_type"] for event in events} == {"business"}
    assert {event["aggregate_id"] for event in events} == {business["id"]}
    last = events[-1]
    snapshot = last["payload"].get("business") or last["payload"]
    assert snapshot["status"] == "verified"
    assert snapshot["certifications"] == [{"kind": "pirt", "number": "206357301001227",
                                           "valid_until": NEXT_YEAR}]
    assert snapshot["owner_account_id"] == vendor["id"]
    stored = rows(infra.database_url("registry"),
                  "SELECT version FROM businesses WHERE id = %s", (business["id"],))
    assert versions[-1] == stored[0]["version"]
