"""Input that used to reach SQL or crash a worker: a clear 4xx in the contract's shape, and
nothing changed."""
import base64
import json

import pytest

from tests.support.api import business_body
from tests.support.db import rows


def _error(response, status):
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"}
    return response.json()["error"]


def _raw_json(api, method, path, text, token=None):
    return api.call(method, path, token=token, data=text.encode(),
                    headers={"Content-Type": "application/json"})


def _businesses_of(infra, vendor):
    return rows(infra.database_url("registry"),
                "SELECT id FROM businesses WHERE owner_account_id = %s", (vendor["id"],))


@pytest.mark.parametrize("name", ["Keripik\\u0000Tempe", "Batik \\ud800 Malangan"])
def test_unstorable_characters_in_any_text_field_are_a_422(api, vendor, infra, name):
    body = json.dumps(business_body(name="PLACEHOLDER")).replace("PLACEHOLDER", name)
    error = _error(_raw_json(api, "POST", "/businesses", body, token=vendor["token"]), 422)
    assert "name" in error["fields"]
    assert _businesses_of(infra, vendor) == []


def test_unstorable_characters_in_a_login_are_a_422_not_a_500(api):
    body = '{"email": "a\\u0000@example.id", "password": "x\\udc00yz"}'
    error = _error(_raw_json(api, "POST", "/auth/token", body), 422)
    assert {"email", "password"} <= set(error["fields"])


def test_an_overlong_email_is_a_422_not_a_database_outage(api):
    email = "a" * 300 + "@example.id"
    signup = api.post("/accounts", json={"email": email, "password": "rahasia-123",
                                          "name": "Panjang", "role": "buyer"})
    assert "email" in _error(signup, 422)["fields"]
    login = api.post("/auth/token", json={"email": email, "password": "rahasia-123"})
    assert "email" in _error(login, 422)["fields"]


@pytest.mark.parametrize("spelling", ["urn:uuid:{id}", "{ID}", "{id}x"])
def test_an_id_in_another_spelling_is_not_found_and_writes_nothing(api, vendor, infra,
                                                                   spelling):
    business = api.register_business(vendor)
    other = spelling.replace("{id}", business["id"]).replace("{ID}", business["id"].upper())
    assert _error(api.get(f"/businesses/{other}", token=vendor["token"]), 404)
    claim = api.post(f"/businesses/{other}/certifications", token=vendor["token"], json={
        "kind": "pirt", "number": "206357301001227", "valid_until": "2030-01-01"})
    _error(claim, 404)
    assert rows(infra.database_url("registry"),
                "SELECT id FROM certifications WHERE business_id = %s", (business["id"],)) == []


@pytest.mark.parametrize("values", [["garbage", "x"], ["2026-05-01T10:00:00+07:00", "x"],
                                    ["2026-05-01T10:00:00", "3f2b8c1e-1d2a-4c3b-9e8f-0a1b2c3d4e5f"],
                                    [[[[]]], 1]])
def test_a_tampered_cursor_is_a_422_naming_the_cursor(api, organizer, values):
    cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
    response = api.get("/businesses", token=organizer["token"], params={"cursor": cursor})
    assert "cursor" in _error(response, 422)["fields"]


def test_unknown_fields_are_refused_by_name(api, vendor, infra):
    response = api.post("/businesses", token=vendor["token"],
                        json=business_body(owner_account_id=vendor["id"], status="verified"))
    assert {"owner_account_id", "status"} <= set(_error(response, 422)["fields"])
    assert _businesses_of(infra, vendor) == []


def test_a_body_that_is_not_an_object_is_a_422(api, vendor):
    response = _raw_json(api, "POST", "/businesses", "[1, 2, 3]", token=vendor["token"])
    _error(response, 422)


def test_malformed_json_is_a_400(api, vendor):
    _error(_raw_json(api, "POST", "/businesses", '{"name": ', token=vendor["token"]), 400)
