"""Booth allocation through the gateway: runs that place and waitlist with reasons and never
move anyone placed, freed booths offered as holds that expire, manual placements under the
same hard rules, the booth's history, the floor plan, and races that never double-book."""
import concurrent.futures
import time
import xml.etree.ElementTree as ET

import pytest

from tests.support.db import execute, rows

SVG = "{http://www.w3.org/2000/svg}"
ZONES = [{"name": "kuliner", "sectors": ["kuliner", "pertanian"]}]
# Three booths in a row, each touching the next: A-01 | A-02 | A-03.
ROW = [{"code": f"A-0{n}", "zone": "kuliner", "booth_type": "inline", "size_m2": 9,
        "price_idr": 1_500_000, "x": 3 * (n - 1), "y": 0, "width": 3, "height": 3}
       for n in (1, 2, 3)]


def _eventually(check, seconds=15):
    deadline = time.monotonic() + seconds
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


@pytest.fixture
def expo(api, organizer):
    expo = api.create_expo(organizer, zones=ZONES)
    added = api.post(f"/expos/{expo['id']}/booths", token=organizer["token"],
                     json={"booths": ROW})
    assert added.status_code == 201, added.text
    return expo


def _applicant(api, organizer, infra, expo, sector="kuliner", kecamatan="blimbing"):
    """A new vendor with a verified business that applied to ``expo``."""
    vendor = api.new_account("vendor")
    business = api.register_business(vendor, sector=sector, kecamatan=kecamatan,
                                     packaging=["paper"])
    assert api.verify(organizer, business["id"]).status_code == 200
    assert _eventually(lambda: rows(infra.database_url("expo"), "SELECT 1 FROM businesses"
                                    " WHERE id = %s AND status = 'verified'", (business["id"],)))
    applied = api.post(f"/expos/{expo['id']}/applications", token=vendor["token"], json={
        "business_id": business["id"], "sector": sector, "preferred_zones": ["kuliner"]})
    assert applied.status_code == 201, applied.text
    return {"vendor": vendor, "business": business, "application": applied.json()}


def _run(api, organizer, expo):
    response = api.post(f"/expos/{expo['id']}/allocations", token=organizer["token"])
    assert response.status_code == 200, response.text
    return response.json()


def _booths(api, expo):
    return {b["code"]: b for b in api.get(f"/expos/{expo['id']}/booths").json()["items"]}


def _application(api, organizer, expo, application_id):
    listing = api.get(f"/expos/{expo['id']}/applications", token=organizer["token"],
                      params={"limit": 100}).json()["items"]
    return next(a for a in listing if a["id"] == application_id)


@pytest.fixture
def four_cooks(api, organizer, infra, expo):
    return [_applicant(api, organizer, infra, expo) for _ in range(4)]


def test_a_run_places_and_waitlists_with_reasons_in_two_languages(
        api, organizer, expo, four_cooks, broker):
    observed = broker.observe("expo", "expo.*", "allocation-run")
    result = _run(api, organizer, expo)

    # Same sector never side by side: the two ends of the row, the others waitlisted.
    assert sorted(p["booth_code"] for p in result["allocated"]) == ["A-01", "A-03"]
    assert [w["position"] for w in result["waitlisted"]] == [1, 2]
    for decision in result["allocated"] + result["waitlisted"]:
        assert decision["reasons"] and all(r["id"] and r["en"] for r in decision["reasons"])
    assert result["solver"] == "cp-sat" and result["optimal"] is True

    booths = _booths(api, expo)
    assert [booths[c]["status"] for c in ("A-01", "A-02", "A-03")] == [
        "allocated", "free", "allocated"]
    assert booths["A-01"]["business_name"]
    types = sorted(broker.body(m)["event_type"] for m in broker.drain(observed, expect=4))
    assert types == ["expo.application_waitlisted"] * 2 + ["expo.booth_allocated"] * 2


def test_a_rerun_never_moves_anyone_and_places_newcomers(api, organizer, infra, expo,
                                                        four_cooks):
    first = {p["application_id"]: p["booth_code"] for p in _run(api, organizer, expo)["allocated"]}
    farmer = _applicant(api, organizer, infra, expo, sector="pertanian")
    second = _run(api, organizer, expo)
    assert [(p["application_id"], p["booth_code"]) for p in second["allocated"]] == [
        (farmer["application"]["id"], "A-02")]
    for application_id, booth in first.items():
        assert _application(api, organizer, expo, application_id)["booth_code"] == booth


def test_a_freed_booth_is_offered_to_the_waitlist_and_accepted(api, organizer, expo,
                                                              four_cooks):
    result = _run(api, organizer, expo)
    first_in_line = result["waitlisted"][0]["application_id"]
    holder = next(c for c in four_cooks
                  if c["application"]["id"] == result["allocated"][0]["application_id"])
    code = result["allocated"][0]["booth_code"]

    someone = api.new_account("vendor")
    assert api.call("DELETE", f"/expos/{expo['id']}/allocations/{code}",
                    token=someone["token"]).status_code == 403
    freed = api.call("DELETE", f"/expos/{expo['id']}/allocations/{code}",
                     token=holder["vendor"]["token"])
    assert freed.status_code == 200 and freed.json()["offered_to"] == first_in_line
    offered = _application(api, organizer, expo, first_in_line)
    assert offered["status"] == "offered" and offered["booth_code"] == code
    assert offered["hold_expires_at"]
    assert _booths(api, expo)[code]["status"] == "held"

    cook = next(c for c in four_cooks if c["application"]["id"] == first_in_line)
    path = f"/expos/{expo['id']}/applications/{first_in_line}"
    assert api.post(f"{path}/accept", token=holder["vendor"]["token"]).status_code == 403
    accepted = api.post(f"{path}/accept", token=cook["vendor"]["token"])
    assert accepted.status_code == 200 and accepted.json()["status"] == "allocated"
    assert api.post(f"{path}/accept", token=cook["vendor"]["token"]).status_code == 409
    assert _booths(api, expo)[code]["status"] == "allocated"


def test_a_declined_or_expired_offer_goes_to_the_next_in_line(api, organizer, infra, expo,
                                                             four_cooks):
    result = _run(api, organizer, expo)
    first, second = (w["application_id"] for w in result["waitlisted"])
    code = result["allocated"][0]["booth_code"]
    api.call("DELETE", f"/expos/{expo['id']}/allocations/{code}", token=organizer["token"])
    declining = next(c for c in four_cooks if c["application"]["id"] == first)
    declined = api.post(f"/expos/{expo['id']}/applications/{first}/decline",
                        token=declining["vendor"]["token"])
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert _application(api, organizer, expo, second)["status"] == "offered"

    # Time passes beyond the hold (the database is the timer's only memory).
    execute(infra.database_url("expo"), "UPDATE allocations SET hold_expires_at = now()"
            " - interval '1 minute' WHERE expo_id = %s AND state = 'held'", (expo["id"],))
    assert _eventually(lambda: _application(api, organizer, expo, second)["status"]
                       == "declined")
    assert _booths(api, expo)[code]["status"] == "free"   # nobody left who fits
    history = api.get(f"/expos/{expo['id']}/booths/{code}/history",
                      token=organizer["token"]).json()["items"]
    assert [h["to_status"] for h in history] == [
        "allocated", "free", "held", "free", "held", "free"]
    assert history[-1]["actor"] == "expo.hold-timer"


def test_a_booth_freed_by_a_rejection_is_offered_to_the_next_in_line(api, organizer, expo,
                                                                     four_cooks):
    result = _run(api, organizer, expo)
    first = result["waitlisted"][0]["application_id"]
    placed = result["allocated"][0]
    loser = next(c for c in four_cooks if c["application"]["id"] == placed["application_id"])
    assert api.verify(organizer, loser["business"]["id"], "rejected",
                      note="Izin usaha dicabut").status_code == 200

    assert _eventually(lambda: _application(api, organizer, expo, first)["status"] == "offered")
    offered = _application(api, organizer, expo, first)
    assert offered["booth_code"] == placed["booth_code"]
    assert _booths(api, expo)[placed["booth_code"]]["status"] == "held"
    assert _application(api, organizer, expo, placed["application_id"])["status"] == "cancelled"


def test_an_organizer_places_by_hand_under_the_same_rules(api, organizer, infra, expo,
                                                         four_cooks):
    result = _run(api, organizer, expo)
    waiting = result["waitlisted"][0]["application_id"]
    path = f"/expos/{expo['id']}/allocations/A-02"
    refused = api.call("PUT", path, token=organizer["token"], json={
        "application_id": waiting, "reason": "Permintaan khusus"})
    assert refused.status_code == 422 and "booth_code" in refused.json()["error"]["fields"]

    farmer = _applicant(api, organizer, infra, expo, sector="pertanian")
    placed = api.call("PUT", path, token=organizer["token"], json={
        "application_id": farmer["application"]["id"], "reason": "Petani apel Batu"})
    assert placed.status_code == 200, placed.text
    assert placed.json()["booth_code"] == "A-02"
    assert _run(api, organizer, expo)["allocated"] == []
    assert _application(api, organizer, expo, farmer["application"]["id"])["booth_code"] == "A-02"
    history = api.get(f"/expos/{expo['id']}/booths/A-02/history",
                      token=organizer["token"]).json()["items"]
    assert history[-1]["actor"] == organizer["id"] and "Petani apel Batu" in history[-1]["reason"]
    taken = api.call("PUT", path, token=organizer["token"], json={
        "application_id": waiting, "reason": "x"})
    assert taken.status_code == 409


def test_a_blocked_booth_is_never_allocated_and_can_be_unblocked(api, organizer, expo,
                                                                 four_cooks):
    path = f"/expos/{expo['id']}/booths/A-01/block"
    blocked = api.call("PUT", path, token=organizer["token"],
                       json={"blocked": True, "reason": "Tiang penyangga"})
    assert blocked.status_code == 200 and blocked.json()["status"] == "blocked"
    result = _run(api, organizer, expo)
    placed = [p["booth_code"] for p in result["allocated"]]
    assert len(placed) == 1 and placed[0] in ("A-02", "A-03")   # neighbours: one cook only
    taken = placed[0]
    refused = api.call("PUT", f"/expos/{expo['id']}/booths/{taken}/block",
                       token=organizer["token"], json={"blocked": True, "reason": "x"})
    assert refused.status_code == 409
    unblocked = api.call("PUT", path, token=organizer["token"],
                         json={"blocked": False, "reason": "Tiang dipindah"})
    assert unblocked.json()["status"] == "free"
    history = api.get(f"/expos/{expo['id']}/booths/A-01/history",
                      token=organizer["token"]).json()["items"]
    assert [(h["to_status"], h["reason"]) for h in history] == [
        ("blocked", "Tiang penyangga"), ("free", "Tiang dipindah")]


def test_who_may_run_free_and_see(api, organizer, vendor, expo):
    assert api.post(f"/expos/{expo['id']}/allocations", token=vendor["token"]).status_code == 403
    assert api.post(f"/expos/{expo['id']}/allocations").status_code == 401
    missing = api.call("DELETE", f"/expos/{expo['id']}/allocations/A-01",
                       token=organizer["token"])
    assert missing.status_code == 404
    assert api.get(f"/expos/{expo['id']}/booths/A-01/history",
                   token=vendor["token"]).status_code == 403
    assert api.get(f"/expos/{expo['id']}/booths/Z-99/history",
                   token=organizer["token"]).status_code == 404


def test_the_floor_plan_is_valid_svg_coloured_by_status(api, organizer, expo, four_cooks):
    _run(api, organizer, expo)
    response = api.get(f"/expos/{expo['id']}/floorplan.svg")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{SVG}svg"
    labels = {text.text for text in root.iter(f"{SVG}text")}
    assert {"A-01", "A-02", "A-03"} <= labels
    english = api.get(f"/expos/{expo['id']}/floorplan.svg", params={"lang": "en"})
    assert ET.fromstring(english.content).tag == f"{SVG}svg"
    assert api.get(f"/expos/{expo['id']}/floorplan.svg",
                   params={"lang": "jv"}).status_code == 422


def test_runs_and_frees_racing_never_double_book(api, organizer, infra, expo, four_cooks):
    _run(api, organizer, expo)

    def run():
        return api.post(f"/expos/{expo['id']}/allocations", token=organizer["token"])

    def free(code):
        return api.call("DELETE", f"/expos/{expo['id']}/allocations/{code}",
                        token=organizer["token"])

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(run) for _ in range(4)] + [
            pool.submit(free, code) for code in ("A-01", "A-03", "A-01", "A-03")]
        statuses = [f.result().status_code for f in futures]
    assert set(statuses) <= {200, 404, 409}, statuses

    db = infra.database_url("expo")
    per_booth = rows(db, "SELECT booth_code, count(*) AS n FROM allocations WHERE expo_id = %s"
                     " GROUP BY booth_code", (expo["id"],))
    assert all(row["n"] == 1 for row in per_booth)
    mismatched = rows(db, """SELECT b.code FROM booths b
                               LEFT JOIN allocations a ON a.expo_id = b.expo_id
                                                     AND a.booth_code = b.code
                              WHERE b.expo_id = %s
                                AND (a.booth_code IS NULL) <> (b.status = 'free')""",
                      (expo["id"],))
    assert mismatched == []
    per_business = rows(db, "SELECT business_id, count(*) AS n FROM allocations"
                        " WHERE expo_id = %s GROUP BY business_id HAVING count(*) > 1",
                        (expo["id"],))
    assert per_business == []


def test_a_hold_that_expired_while_the_service_was_down_goes_to_the_next(
        api, organizer, infra, system, expo, four_cooks):
    result = _run(api, organizer, expo)
    first, second = (w["application_id"] for w in result["waitlisted"])
    code = result["allocated"][0]["booth_code"]
    api.call("DELETE", f"/expos/{expo['id']}/allocations/{code}", token=organizer["token"])
    assert _application(api, organizer, expo, first)["status"] == "offered"

    expo_service = system.processes["expo"]
    expo_service.stop()
    try:
        # The hold runs out while nothing runs: only the database remembers it.
        execute(infra.database_url("expo"), "UPDATE allocations SET hold_expires_at = now()"
                " - interval '1 minute' WHERE expo_id = %s AND state = 'held'", (expo["id"],))
    finally:
        expo_service.start()
        system.wait_ready()
    assert _eventually(lambda: _application(api, organizer, expo, second)["status"]
                       == "offered")
    assert _application(api, organizer, expo, first)["status"] == "declined"
