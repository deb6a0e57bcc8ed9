"""The expo through the gateway: expos, booths on the plan, applications, and the read model
of businesses the expo keeps from the registry's facts."""
import datetime as dt
import subprocess
import sys
import time
import uuid

import pytest

from backbone import clock
from tests.support.db import rows

# The expo's days are WIB days, whatever the machine's time zone.
TODAY = clock.today_wib()
MISSING = "00000000-0000-4000-8000-000000000000"
ZONES = [{"name": "kuliner", "sectors": ["kuliner", "pertanian"]},
         {"name": "fashion & batik", "sectors": ["fashion"]},
         {"name": "ekonomi kreatif"}]


def _booth(code, x, y, zone="kuliner", booth_type="inline", **overrides):
    return {"code": code, "zone": zone, "booth_type": booth_type, "size_m2": 9,
            "price_idr": 1_500_000, "x": x, "y": y, "width": 3, "height": 3} | overrides


def _eventually(check, seconds=10):
    """Polls ``check`` until it returns something truthy: facts arrive moments later."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.fixture
def expo(api, organizer):
    return api.create_expo(organizer, zones=ZONES)


def _known_as(infra, business_id, status):
    """Whether the expo's read model holds the business with this status (read, never set)."""
    return rows(infra.database_url("expo"), "SELECT 1 FROM businesses WHERE id = %s"
                " AND status = %s", (business_id, status))


@pytest.fixture
def verified(api, vendor, organizer, infra):
    """A vendor's business, verified, once the expo's read model knows it as verified."""
    business = api.register_business(vendor)
    assert api.verify(organizer, business["id"]).status_code == 200
    assert _eventually(lambda: _known_as(infra, business["id"], "verified"))
    return business


def _apply(api, vendor, expo, business, **overrides):
    body = {"business_id": business["id"], "sector": "kuliner",
            "preferred_zones": ["kuliner"]} | overrides
    return api.post(f"/expos/{expo['id']}/applications", token=vendor["token"], json=body)


# --- expos ----------------------------------------------------------------------------------

def test_an_organizer_creates_an_expo_as_the_contract_says(api, organizer):
    starts = TODAY + dt.timedelta(days=60)
    response = api.post("/expos", token=organizer["token"], json={
        "name": "Malang City Expo 2026", "venue": "Gedung Kartini, Klojen",
        "starts_on": starts.isoformat(), "ends_on": (starts + dt.timedelta(days=3)).isoformat(),
        "theme": "A Celebration of Local Creation"})
    assert response.status_code == 201, response.text
    expo = response.json()
    assert expo["applications_open_on"] == TODAY.isoformat()
    assert expo["applications_close_on"] == (starts - dt.timedelta(days=1)).isoformat()
    assert (expo["hold_hours"], expo["zones"]) == (48, [])

    public = api.get(f"/expos/{expo['id']}")
    assert public.status_code == 200 and public.json() == expo


def test_expo_dates_and_fields_are_validated(api, organizer):
    later = api.post("/expos", token=organizer["token"], json={
        "name": "X", "venue": "Y", "starts_on": "2026-05-03", "ends_on": "2026-04-30"})
    assert later.status_code == 422 and "ends_on" in later.json()["error"]["fields"]
    window = api.post("/expos", token=organizer["token"], json={
        "name": "X", "venue": "Y", "starts_on": "2026-05-03", "ends_on": "2026-05-04",
        "applications_open_on": "2026-04-10", "applications_close_on": "2026-04-01"})
    assert window.status_code == 422
    assert "applications_close_on" in window.json()["error"]["fields"]
    missing = api.post("/expos", token=organizer["token"], json={"name": "X"})
    assert missing.status_code == 422
    assert {"venue", "starts_on", "ends_on"} <= set(missing.json()["error"]["fields"])


def test_a_past_expo_can_be_imported(api, organizer):
    past = api.create_expo(organizer, name="Malang City Expo 2025", starts_on="2025-04-30",
                           ends_on="2025-05-03")
    assert past["applications_close_on"] == "2025-04-29"


def test_only_organizers_create_expos(api, vendor):
    body = {"name": "X", "venue": "Y", "starts_on": "2026-05-03", "ends_on": "2026-05-04"}
    assert api.post("/expos", json=body).status_code == 401
    assert api.post("/expos", token=vendor["token"], json=body).status_code == 403


def test_expos_are_listed_publicly_page_by_page(api, organizer):
    for _ in range(3):
        api.create_expo(organizer)
    first = api.get("/expos", params={"limit": 2})
    assert first.status_code == 200 and len(first.json()["items"]) == 2
    second = api.get("/expos", params={"limit": 2, "cursor": first.json()["next_cursor"]})
    assert second.status_code == 200
    seen = [e["id"] for e in first.json()["items"] + second.json()["items"]]
    assert len(seen) == len(set(seen))
    assert api.get("/expos", params={"cursor": "not-a-cursor"}).status_code == 422


def test_an_unknown_expo_is_not_found(api, organizer):
    for path in (f"/expos/{MISSING}", "/expos/not-an-id", f"/expos/{MISSING}/booths"):
        response = api.get(path)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    booths = api.post(f"/expos/{MISSING}/booths", token=organizer["token"],
                      json={"booths": [_booth("A-01", 0, 0)]})
    assert booths.status_code == 404


# --- booths ---------------------------------------------------------------------------------

def test_booths_are_added_and_listed_publicly_as_free(api, organizer, expo):
    response = api.post(f"/expos/{expo['id']}/booths", token=organizer["token"], json={
        "booths": [_booth("K-01", 0, 0), _booth("K-02", 3, 0, booth_type="corner"),
                   _booth("F-01", 0, 10, zone="fashion & batik", booth_type="island",
                          width=6, height=6, size_m2=36, price_idr=6_000_000)]})
    assert response.status_code == 201, response.text
    assert [b["code"] for b in response.json()["items"]] == ["F-01", "K-01", "K-02"]

    listed = api.get(f"/expos/{expo['id']}/booths").json()["items"]
    assert {b["code"]: (b["status"], b["business_id"]) for b in listed} == {
        "F-01": ("free", None), "K-01": ("free", None), "K-02": ("free", None)}
    island = next(b for b in listed if b["code"] == "F-01")
    assert (island["booth_type"], island["price_idr"], island["width"]) == ("island",
                                                                           6_000_000, 6.0)


def test_a_duplicate_booth_code_is_a_conflict(api, organizer, expo):
    path = f"/expos/{expo['id']}/booths"
    twice = api.post(path, token=organizer["token"],
                     json={"booths": [_booth("K-01", 0, 0), _booth("K-01", 5, 0)]})
    assert twice.status_code == 409 and "K-01" in twice.json()["error"]["message"]
    assert api.post(path, token=organizer["token"],
                    json={"booths": [_booth("K-01", 0, 0)]}).status_code == 201
    again = api.post(path, token=organizer["token"], json={"booths": [_booth("K-01", 9, 9)]})
    assert again.status_code == 409
    assert len(api.get(path).json()["items"]) == 1


def test_overlapping_booths_are_refused_naming_them(api, organizer, expo):
    path = f"/expos/{expo['id']}/booths"
    assert api.post(path, token=organizer["token"],
                    json={"booths": [_booth("K-01", 0, 0)]}).status_code == 201
    response = api.post(path, token=organizer["token"], json={"booths": [
        _booth("K-02", 3, 0), _booth("K-03", 2, 2), _booth("K-04", 20, 20)]})
    assert response.status_code == 422
    overlaps = response.json()["error"]["fields"]["booths"]
    assert sorted(overlaps) == ["K-01 overlaps K-03", "K-02 overlaps K-03"]
    assert [b["code"] for b in api.get(path).json()["items"]] == ["K-01"]


def test_booth_fields_and_zones_are_validated(api, organizer, expo):
    path = f"/expos/{expo['id']}/booths"
    bad = api.post(path, token=organizer["token"], json={"booths": [
        _booth("K-01", 0, 0, size_m2=0, price_idr=-5, booth_type="kiosk")]})
    assert bad.status_code == 422
    assert {"size_m2", "price_idr", "booth_type"} <= set(bad.json()["error"]["fields"]
                                                          ["booths"]["0"])
    unknown_zone = api.post(path, token=organizer["token"],
                            json={"booths": [_booth("K-01", 0, 0, zone="tambang")]})
    assert unknown_zone.status_code == 422
    assert api.post(path, token=organizer["token"], json={"booths": []}).status_code == 422


def test_only_organizers_add_booths(api, vendor, expo):
    path = f"/expos/{expo['id']}/booths"
    body = {"booths": [_booth("K-01", 0, 0)]}
    assert api.post(path, json=body).status_code == 401
    assert api.post(path, token=vendor["token"], json=body).status_code == 403


# --- applications ---------------------------------------------------------------------------

def test_a_verified_business_applies_and_the_applicant_is_told(api, vendor, expo, verified,
                                                               broker):
    observed = broker.observe("expo", "expo.application_submitted", "expo-submitted")
    response = _apply(api, vendor, expo, verified, booth_type="corner", note="Butuh listrik")
    assert response.status_code == 201, response.text
    application = response.json()
    assert application["status"] == "submitted"
    assert (application["business_name"], application["booth_type"]) == (verified["name"],
                                                                          "corner")
    assert application["booth_code"] is None and application["flagship"] is False

    fact = broker.body(broker.drain(observed, expect=1)[0])
    assert (fact["aggregate_type"], fact["aggregate_id"]) == ("application", application["id"])
    assert {key: fact["payload"][key] for key in ("application_id", "expo_id", "business_id",
                                                  "owner_account_id", "expo_name")} == {
        "application_id": application["id"], "expo_id": expo["id"],
        "business_id": verified["id"], "owner_account_id": vendor["id"],
        "expo_name": expo["name"]}


def test_a_business_applies_once_per_expo(api, vendor, expo, verified):
    assert _apply(api, vendor, expo, verified).status_code == 201
    again = _apply(api, vendor, expo, verified)
    assert again.status_code == 409 and "already applied" in again.json()["error"]["message"]


def test_an_idempotency_key_gives_the_first_application_again(api, vendor, expo, verified):
    key = {"Idempotency-Key": f"apply-{uuid.uuid4()}"}
    body = {"business_id": verified["id"], "sector": "kuliner", "preferred_zones": []}
    path = f"/expos/{expo['id']}/applications"
    first = api.post(path, token=vendor["token"], json=body, headers=key)
    retry = api.post(path, token=vendor["token"], json=body, headers=key)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    changed = api.post(path, token=vendor["token"], json=body | {"note": "lain"}, headers=key)
    assert changed.status_code == 422


def test_only_the_owner_of_a_verified_business_applies(api, vendor, organizer, expo, verified,
                                                       infra):
    stranger = api.new_account("vendor")
    assert _apply(api, stranger, expo, verified).status_code == 403
    assert _apply(api, organizer, expo, verified).status_code == 403

    pending = api.register_business(vendor)
    assert _eventually(lambda: _known_as(infra, pending["id"], "pending"))
    refused = _apply(api, vendor, expo, pending)
    assert refused.status_code == 409 and "not verified" in refused.json()["error"]["message"]

    unknown = _apply(api, vendor, expo, {"id": MISSING})
    assert unknown.status_code == 409
    assert "not verified (yet)" in unknown.json()["error"]["message"]


def test_an_application_is_validated(api, vendor, expo, verified):
    wrong_sector = _apply(api, vendor, expo, verified, sector="fashion")
    assert wrong_sector.status_code == 422 and "sector" in wrong_sector.json()["error"]["fields"]
    unknown_zone = _apply(api, vendor, expo, verified, preferred_zones=["tambang"])
    assert unknown_zone.status_code == 422
    assert "preferred_zones" in unknown_zone.json()["error"]["fields"]
    bad = api.post(f"/expos/{expo['id']}/applications", token=vendor["token"],
                   json={"business_id": "nope", "sector": "kuliner", "preferred_zones": [],
                         "booth_type": "kiosk"})
    assert bad.status_code == 422
    assert {"business_id", "booth_type"} <= set(bad.json()["error"]["fields"])
    assert _apply(api, vendor, {"id": MISSING}, verified).status_code == 404


@pytest.mark.parametrize("window, reason", [
    ({"applications_open_on": (TODAY + dt.timedelta(days=5)).isoformat()}, "open on"),
    ({"applications_open_on": (TODAY - dt.timedelta(days=9)).isoformat(),
      "applications_close_on": (TODAY - dt.timedelta(days=1)).isoformat()}, "closed on"),
])
def test_an_application_outside_the_window_is_a_conflict_with_the_reason(
        api, organizer, vendor, verified, window, reason):
    expo = api.create_expo(organizer, **window)
    response = _apply(api, vendor, expo, verified, preferred_zones=[])
    assert response.status_code == 409 and reason in response.json()["error"]["message"]


def test_organizers_see_every_application_a_vendor_their_own(api, organizer, vendor, expo,
                                                             verified, infra):
    other_vendor = api.new_account("vendor")
    other = api.register_business(other_vendor, sector="fashion")
    api.verify(organizer, other["id"])
    assert _eventually(lambda: _known_as(infra, other["id"], "verified"))
    mine = _apply(api, vendor, expo, verified).json()
    theirs = _apply(api, other_vendor, expo, other, sector="fashion",
                    preferred_zones=["fashion & batik"]).json()
    path = f"/expos/{expo['id']}/applications"

    everyone = api.get(path, token=organizer["token"], params={"limit": 1})
    assert everyone.status_code == 200 and [a["id"] for a in everyone.json()["items"]] == [
        mine["id"]]
    rest = api.get(path, token=organizer["token"],
                   params={"cursor": everyone.json()["next_cursor"]}).json()
    assert [a["id"] for a in rest["items"]] == [theirs["id"]] and rest["next_cursor"] is None
    own = api.get(path, token=vendor["token"]).json()["items"]
    assert [a["id"] for a in own] == [mine["id"]]
    assert own[0]["status"] == "submitted" and own[0]["booth_code"] is None
    assert api.get(path).status_code == 401
    assert api.get(path, token=api.new_account("buyer")["token"]).status_code == 403
    assert api.get(f"/expos/{MISSING}/applications",
                   token=organizer["token"]).status_code == 404


def test_an_organizer_marks_a_flagship(api, organizer, vendor, expo, verified):
    application = _apply(api, vendor, expo, verified).json()
    path = f"/expos/{expo['id']}/applications/{application['id']}/flagship"
    assert api.post(path, token=vendor["token"], json={"flagship": True}).status_code == 403
    assert api.post(path, token=organizer["token"], json={"flagship": "ya"}).status_code == 422
    marked = api.post(path, token=organizer["token"], json={"flagship": True})
    assert marked.status_code == 200, marked.text
    assert (marked.json()["flagship"], marked.json()["flagship_marked"]) == (True, True)
    unmarked = api.post(path, token=organizer["token"], json={"flagship": False}).json()
    assert unmarked["flagship"] is False
    missing = api.post(f"/expos/{expo['id']}/applications/{MISSING}/flagship",
                       token=organizer["token"], json={"flagship": True})
    assert missing.status_code == 404


# --- the read model of businesses -----------------------------------------------------------

def test_a_business_verified_in_the_registry_can_apply_moments_later(api, organizer, vendor,
                                                                     expo):
    business = api.register_business(vendor)
    assert api.verify(organizer, business["id"]).status_code == 200
    answers = []

    def applied():
        answers.append(_apply(api, vendor, expo, business))
        return answers[-1].status_code == 201

    assert _eventually(applied, seconds=10), answers[-1].text
    # Until the fact arrived, the only refusal was "not verified (yet)".
    assert all(a.status_code == 409 and "not verified" in a.json()["error"]["message"]
               for a in answers[:-1])


def test_a_business_rejected_after_applying_has_its_application_cancelled(
        api, organizer, vendor, expo, verified):
    application = _apply(api, vendor, expo, verified).json()
    assert api.verify(organizer, verified["id"], "rejected",
                      note="NIB tidak cocok dengan data OSS").status_code == 200

    def cancelled():
        items = api.get(f"/expos/{expo['id']}/applications", token=vendor["token"]).json()
        return [a for a in items["items"] if a["status"] == "cancelled"]

    found = _eventually(cancelled)
    assert [a["id"] for a in found] == [application["id"]]
    assert found[0]["reasons"][0]["code"] == "business_rejected"


def test_a_business_rejected_loses_its_booth_with_history_and_an_event(
        api, organizer, vendor, expo, verified, infra, broker):
    observed = broker.observe("expo", "expo.booth_released", "expo-released")
    application = _apply(api, vendor, expo, verified).json()
    api.post(f"/expos/{expo['id']}/booths", token=organizer["token"],
             json={"booths": [_booth("K-01", 0, 0)]})
    placed = api.call("PUT", f"/expos/{expo['id']}/allocations/K-01", token=organizer["token"],
                      json={"application_id": application["id"], "reason": "placed by hand"})
    assert placed.status_code == 200, placed.text
    assert api.get(f"/expos/{expo['id']}/booths").json()["items"][0]["business_name"] == (
        verified["name"])

    assert api.verify(organizer, verified["id"], "rejected",
                      note="NIB tidak cocok dengan data OSS").status_code == 200
    released = broker.body(broker.drain(observed, expect=1)[0])
    assert (released["payload"]["booth_code"], released["payload"]["owner_account_id"]) == (
        "K-01", vendor["id"])
    assert released["payload"]["reasons"][0]["code"] == "business_rejected"
    booth = api.get(f"/expos/{expo['id']}/booths").json()["items"][0]
    assert (booth["status"], booth["business_id"]) == ("free", None)
    mine = api.get(f"/expos/{expo['id']}/applications", token=vendor["token"]).json()["items"]
    assert (mine[0]["status"], mine[0]["booth_code"]) == ("cancelled", None)
    history = rows(infra.database_url("expo"), """SELECT from_status, to_status, actor
        FROM booth_history WHERE expo_id = %s ORDER BY id""", (expo["id"],))
    assert [(h["from_status"], h["to_status"], h["actor"]) for h in history] == [
        ("free", "allocated", organizer["id"]), ("allocated", "free", "registry")]


def test_the_read_model_is_rebuilt_from_the_registrys_facts(api, vendor, verified, infra,
                                                            system):
    url = infra.database_url("expo")
    current = rows(infra.database_url("registry"), "SELECT version FROM businesses WHERE id = %s",
                   (verified["id"],))[0]["version"]
    caught_up = _eventually(lambda: rows(
        url, "SELECT id, status, version FROM businesses WHERE id = %s AND version = %s",
        (verified["id"], current)))
    assert caught_up, "the expo's read model never applied the registry's latest fact"
    before = rows(url, "SELECT id, status, version FROM businesses WHERE id = %s",
                  (verified["id"],))
    result = subprocess.run([sys.executable, "-m", "services.expo.rebuild_read_model"],
                            env=system.env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"applied"' in result.stdout.strip().splitlines()[-1]
    after = rows(url, "SELECT id, status, version FROM businesses WHERE id = %s",
                 (verified["id"],))
    assert after == before
    assert rows(url, "SELECT count(*) AS n FROM businesses")[0]["n"] >= 1
