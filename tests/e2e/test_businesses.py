"""The registry through the gateway: register, see, list, verify, certify, export readiness."""
import concurrent.futures
import datetime as dt
import uuid

import jwt
import psycopg2
import pytest

from tests.support.api import business_body, unique_nib

TODAY = dt.date.today()
NEXT_YEAR = (TODAY + dt.timedelta(days=365)).isoformat()


def _market(business, code):
    return next(m for m in business["readiness"] if m["market"] == code)


def _count_businesses(infra):
    with psycopg2.connect(infra.database_url("registry")) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM businesses")
        businesses = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM outbox")
        return businesses, cur.fetchone()[0]


# --- registering ----------------------------------------------------------------------------

def test_a_vendor_registers_an_umkm_pending_verification(api, vendor):
    response = api.post("/businesses", token=vendor["token"], json=business_body(
        name="  Keripik   Tempe Sanan Bu Siti ", phone="6281234567890"))
    assert response.status_code == 201
    business = response.json()
    assert business["status"] == "pending"
    assert business["name"] == "Keripik Tempe Sanan Bu Siti"
    assert business["phone"] == "+6281234567890"
    assert business["owner_account_id"] == vendor["id"]
    assert business["export_ready"] == []
    domestic = _market(business, "domestic")
    assert domestic["ready"] is False
    assert "verified" in [item["code"] for item in domestic["missing"]]
    assert all(item["id"] and item["en"] for item in domestic["missing"])


def test_a_koperasi_needs_its_cooperative_type(api, vendor):
    missing = api.post("/businesses", token=vendor["token"], json=business_body(
        kind="koperasi", nik_koperasi="3573010000000001"))
    assert missing.status_code == 422
    assert "cooperative_type" in missing.json()["error"]["fields"]

    created = api.post("/businesses", token=vendor["token"], json=business_body(
        kind="koperasi", name="Koperasi Produsen Tempe Sanan", nik_koperasi=unique_nib() + "123",
        cooperative_type="produsen"))
    assert created.status_code == 201, created.text
    assert created.json()["cooperative_type"] == "produsen"


@pytest.mark.parametrize("field, value", [
    ("kecamatan", "batu"),
    ("nib", "12345"),
    ("nib", "12345678901234"),
    ("nik_koperasi", "3573"),
    ("phone", "0341-551234"),
    ("phone", "+6512345678"),
    ("email", "nope"),
    ("sector", "pertambangan"),
    ("packaging", ["styrofoam"]),
    ("kind", "pt"),
])
def test_invalid_fields_are_named_and_change_nothing(api, vendor, infra, field, value):
    before = _count_businesses(infra)
    response = api.post("/businesses", token=vendor["token"], json=business_body(
        **{field: value}))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"]
    assert _count_businesses(infra) == before


def test_a_nib_registers_once(api, vendor):
    nib = unique_nib()
    assert api.post("/businesses", token=vendor["token"],
                    json=business_body(nib=nib)).status_code == 201
    again = api.post("/businesses", token=vendor["token"], json=business_body(nib=nib))
    assert again.status_code == 409
    assert again.json()["error"]["fields"] == {"nib": ["Already registered."]}


def test_only_vendors_register_businesses(api, buyer, organizer):
    assert api.post("/businesses", json=business_body()).status_code == 401
    assert api.post("/businesses", token=buyer["token"],
                    json=business_body()).status_code == 403
    assert api.post("/businesses", token=organizer["token"],
                    json=business_body()).status_code == 403


# --- seeing and listing ---------------------------------------------------------------------

def test_who_sees_what_of_a_business(api, vendor, organizer):
    business = api.register_business(vendor)
    path = f"/businesses/{business['id']}"
    other_vendor = api.new_account("vendor")

    # Pending: only the owner and the city see it at all.
    assert api.get(path).status_code == 404
    assert api.get(path, token=other_vendor["token"]).status_code == 404
    assert api.get(path, token=vendor["token"]).json()["phone"] == "+6281234567890"
    assert api.get(path, token=organizer["token"]).json()["nib"] == business["nib"]

    assert api.verify(organizer, business["id"]).status_code == 200
    public = api.get(path).json()
    for viewer in (None, other_vendor["token"]):
        seen = api.get(path, token=viewer).json()
        assert seen == public
        assert {"phone", "email", "address", "nib", "owner_account_id",
                "readiness"}.isdisjoint(seen)
    assert public["status"] == "verified"
    assert {"name", "kind", "sector", "kecamatan", "export_ready",
            "certifications"} <= set(public)


def test_unknown_business_is_a_404(api, organizer):
    assert api.get("/businesses/00000000-0000-0000-0000-000000000000").status_code == 404
    assert api.get("/businesses/not-a-uuid", token=organizer["token"]).status_code == 404


def test_organizers_list_and_filter_with_cursor_pages(api, organizer):
    vendor = api.new_account("vendor")
    ids = {api.register_business(vendor, kecamatan="sukun")["id"] for _ in range(3)}
    seen, cursor = [], None
    while True:
        params = {"kecamatan": "sukun", "status": "pending", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/businesses", token=organizer["token"], params=params)
        assert page.status_code == 200
        body = page.json()
        assert len(body["items"]) <= 2
        assert all(b["kecamatan"] == "sukun" and b["status"] == "pending"
                   for b in body["items"])
        seen += [b["id"] for b in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert ids <= set(seen)
    assert len(seen) == len(set(seen))


def test_a_vendor_lists_only_their_own(api, vendor, buyer):
    mine = api.register_business(vendor)
    api.register_business(api.new_account("vendor"))
    listing = api.get("/businesses", token=vendor["token"]).json()
    assert [b["id"] for b in listing["items"]] == [mine["id"]]
    assert api.get("/businesses", token=buyer["token"]).status_code == 403
    assert api.get("/businesses").status_code == 401


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"cursor": "garbage"},
                                    {"kecamatan": "batu"}, {"status": "deleted"}])
def test_bad_list_parameters_are_a_422(api, organizer, params):
    response = api.get("/businesses", token=organizer["token"], params=params)
    assert response.status_code == 422
    assert set(params) <= set(response.json()["error"]["fields"])


# --- verification -------------------------------------------------------------------------

def test_verification_is_a_state_machine(api, vendor, organizer):
    business = api.register_business(vendor)
    bid = business["id"]

    assert api.verify(vendor, bid).status_code == 403
    no_note = api.verify(organizer, bid, "rejected")
    assert no_note.status_code == 422 and "note" in no_note.json()["error"]["fields"]

    rejected = api.verify(organizer, bid, "rejected", note="NIB tidak sesuai data OSS")
    assert rejected.status_code == 200
    assert rejected.json() == {"id": bid, "status": "rejected", "version": 3}
    assert api.verify(organizer, bid, "verified").status_code == 409

    assert api.post(f"/businesses/{bid}/resubmission",
                    token=api.new_account("vendor")["token"]).status_code == 403
    resubmitted = api.post(f"/businesses/{bid}/resubmission", token=vendor["token"])
    assert resubmitted.status_code == 200 and resubmitted.json()["status"] == "pending"
    assert api.post(f"/businesses/{bid}/resubmission",
                    token=vendor["token"]).status_code == 409

    assert api.verify(organizer, bid, "verified").json()["status"] == "verified"
    again = api.verify(organizer, bid, "verified")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"

    history = api.get(f"/businesses/{bid}", token=vendor["token"]).json()["verification_history"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("pending", "rejected"), ("rejected", "pending"), ("pending", "verified")]
    assert history[0]["note"] == "NIB tidak sesuai data OSS"


def test_concurrent_decisions_on_one_business_have_one_winner(api, vendor, organizer, infra):
    business = api.register_business(vendor)
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda _: api.verify(organizer, business["id"]).status_code,
                                 range(6)))
    assert sorted(statuses) == [200] + [409] * 5
    with psycopg2.connect(infra.database_url("registry")) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM outbox WHERE event_type = 'business.verified'"
                    " AND body->'payload'->>'business_id' = %s", (business["id"],))
        assert cur.fetchone()[0] == 1


def test_decisions_on_unknown_business_are_404(api, organizer):
    assert api.verify(organizer, "00000000-0000-0000-0000-000000000000").status_code == 404


# --- updates --------------------------------------------------------------------------------

def test_legal_identity_is_fixed_once_verified(api, vendor, organizer):
    business = api.register_business(vendor)
    path = f"/businesses/{business['id']}"
    renamed = api.patch(path, token=vendor["token"], json={"name": "Nama Baru Sebelum Verif"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Nama Baru Sebelum Verif"
    api.verify(organizer, business["id"])

    same_name = api.patch(path, token=vendor["token"], json={"name": "Nama Baru Sebelum Verif"})
    assert same_name.status_code == 200
    frozen = api.patch(path, token=vendor["token"], json={"nib": unique_nib()})
    assert frozen.status_code == 409 and "nib" in frozen.json()["error"]["fields"]
    contact = api.patch(path, token=vendor["token"], json={"phone": "085712345678",
                                                           "address": "Jl. Kawi No. 5"})
    assert contact.status_code == 200 and contact.json()["phone"] == "+6285712345678"
    assert api.patch(path, token=api.new_account("vendor")["token"],
                     json={"address": "Jl. Ijen 1"}).status_code == 403
    bad = api.patch(path, token=vendor["token"], json={"phone": "12345", "packaging": "paper"})
    assert bad.status_code == 422
    assert {"phone", "packaging"} <= set(bad.json()["error"]["fields"])
    assert api.get(path, token=vendor["token"]).json()["phone"] == "+6285712345678"


# --- certifications and export readiness --------------------------------------------------

def test_certifications_are_checked_per_kind(api, vendor):
    business = api.register_business(vendor)
    path = f"/businesses/{business['id']}/certifications"
    cases = [
        ({"kind": "pirt", "number": "1234", "valid_until": NEXT_YEAR}, "number"),
        ({"kind": "bpom_md", "number": "MD12345", "valid_until": NEXT_YEAR}, "number"),
        ({"kind": "halal", "number": "ID35110000123450321",
          "valid_until": (TODAY - dt.timedelta(days=1)).isoformat()}, "valid_until"),
        ({"kind": "michelin", "number": "3", "valid_until": NEXT_YEAR}, "kind"),
        ({"kind": "pirt", "number": "206357301001227", "valid_until": "31-12-2027"},
         "valid_until"),
    ]
    for body, field in cases:
        response = api.post(path, token=vendor["token"], json=body)
        assert response.status_code == 422, body
        assert field in response.json()["error"]["fields"], body

    ok = api.post(path, token=vendor["token"], json={
        "kind": "bpom_md", "number": "md 224513001234", "valid_until": NEXT_YEAR})
    assert ok.status_code == 201, ok.text
    assert ok.json()["number"] == "MD224513001234"
    assert (ok.json()["status"], ok.json()["valid"]) == ("claimed", False)
    duplicate = api.post(path, token=vendor["token"], json={
        "kind": "bpom_md", "number": "MD224513001234", "valid_until": NEXT_YEAR})
    assert duplicate.status_code == 409
    assert api.post(path, token=api.new_account("vendor")["token"], json={
        "kind": "sni", "number": "SNI 01-2345", "valid_until": NEXT_YEAR}).status_code == 403


def test_export_readiness_follows_certifications_and_packaging(api, vendor, organizer):
    business = api.register_business(vendor, packaging=["plastic"])
    bid, path = business["id"], f"/businesses/{business['id']}"
    api.verify(organizer, bid)
    for kind, number in (("pirt", "206357301001227"), ("halal", "ID35110000123450321"),
                         ("haccp", "HACCP-ID-2025-0042")):
        before = api.get(path, token=vendor["token"]).json()["export_ready"]
        claimed = api.post(f"{path}/certifications", token=vendor["token"], json={
            "kind": kind, "number": number, "valid_until": NEXT_YEAR})
        assert claimed.status_code == 201
        assert api.get(path, token=vendor["token"]).json()["export_ready"] == before
        assert api.review_certification(organizer, bid, claimed.json()["id"]).status_code == 200

    business = api.get(path, token=vendor["token"]).json()
    assert "domestic" in business["export_ready"]
    japan = _market(business, "japan")
    assert japan["ready"] is False
    assert [item["code"] for item in japan["missing"]] == ["packaging:plastic"]
    assert "plastik" in japan["missing"][0]["id"].lower()

    repacked = api.patch(path, token=vendor["token"], json={"packaging": ["paper", "glass"]})
    assert repacked.status_code == 200
    assert {"domestic", "japan", "eu"} <= set(repacked.json()["export_ready"])
    assert set(api.get(path).json()["export_ready"]) == set(repacked.json()["export_ready"])


def test_export_rules_are_public(api):
    rules = api.get("/export-rules")
    assert rules.status_code == 200
    body = rules.json()
    assert {"domestic", "asean", "middle_east", "japan", "eu", "usa"} <= {
        m["code"] for m in body["markets"]}
    assert "kuliner" in body["sectors"] and "halal" in body["certifications"]


def test_a_token_of_a_vanished_vendor_cannot_register(api):
    ghost = jwt.encode({"sub": str(uuid.uuid4()), "role": "vendor",
                        "exp": dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)},
                       "test-secret-key-with-enough-length-for-hs256", algorithm="HS256")
    response = api.post("/businesses", token=ghost, json=business_body())
    assert response.status_code == 401


# --- retries with an Idempotency-Key --------------------------------------------------------

def test_a_retried_registration_with_its_key_registers_once(api, vendor):
    body = business_body(nib=None)
    key = {"Idempotency-Key": f"reg-{uuid.uuid4()}"}
    first = api.post("/businesses", token=vendor["token"], json=body, headers=key)
    retry = api.post("/businesses", token=vendor["token"], json=body, headers=key)
    assert first.status_code == retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    other_body = api.post("/businesses", token=vendor["token"],
                          json=business_body(nib=None), headers=key)
    assert other_body.status_code == 422
    assert "Idempotency-Key" in other_body.json()["error"]["fields"]
    listing = api.get("/businesses", token=vendor["token"]).json()["items"]
    assert [b["id"] for b in listing] == [first.json()["id"]]


def test_concurrent_retries_with_one_key_make_one_business(api, vendor):
    body = business_body(nib=None)
    key = {"Idempotency-Key": f"race-{uuid.uuid4()}"}
    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(lambda _: api.post(
            "/businesses", token=vendor["token"], json=body, headers=key), range(5)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(api.get("/businesses", token=vendor["token"]).json()["items"]) == 1


def test_without_a_key_each_request_is_its_own(api, vendor):
    body = business_body(nib=None)
    ids = {api.post("/businesses", token=vendor["token"], json=body).json()["id"]
           for _ in range(2)}
    assert len(ids) == 2


def test_the_contracts_generic_certification_kinds_are_understood(api, vendor):
    business = api.register_business(vendor, sector="fashion")
    path = f"/businesses/{business['id']}/certifications"
    bpom = api.post(path, token=vendor["token"], json={
        "kind": "bpom", "number": "ML 224513001234", "valid_until": NEXT_YEAR})
    iso = api.post(path, token=vendor["token"], json={
        "kind": "iso", "number": "ISO 9001:2015-ID-0421", "valid_until": NEXT_YEAR})
    assert (bpom.status_code, bpom.json()["kind"]) == (201, "bpom_ml")
    assert (iso.status_code, iso.json()["kind"]) == (201, "iso_9001")
    vague = api.post(path, token=vendor["token"], json={
        "kind": "iso", "number": "ISO 14001", "valid_until": NEXT_YEAR})
    assert vague.status_code == 422 and "kind" in vague.json()["error"]["fields"]
