"""Accounts and tokens through the gateway: POST /accounts, POST /auth/token, GET /me."""
import datetime as dt
import uuid

import jwt

from tests.support.db import rows

SECRET = "test-secret-key-with-enough-length-for-hs256"


def _email():
    return f"user-{uuid.uuid4().hex[:10]}@test.laris.local"


def test_a_buyer_signs_up_logs_in_and_sees_their_account(api):
    email = _email()
    created = api.post("/accounts", json={"email": email.upper(), "password": "rahasia-123",
                                          "name": "Rina", "role": "buyer",
                                          "phone": "+62 812-1111-2222"})
    assert created.status_code == 201
    account = created.json()
    assert account["email"] == email
    assert account["role"] == "buyer"
    assert account["phone"] == "+6281211112222"
    assert "password" not in account and "password_hash" not in account

    token = api.post("/auth/token", json={"email": email, "password": "rahasia-123"})
    assert token.status_code == 200
    body = token.json()
    assert body["token_type"] == "bearer"
    assert body["role"] == "buyer" and body["account_id"] == account["id"]
    assert 0 < body["expires_in"] <= 24 * 3600

    me = api.get("/me", token=body["access_token"])
    assert me.status_code == 200
    assert me.json()["id"] == account["id"]


def test_an_email_registers_once_whatever_its_case(api):
    email = _email()
    first = api.post("/accounts", json={"email": email, "password": "rahasia-123",
                                        "name": "A", "role": "vendor"})
    again = api.post("/accounts", json={"email": email.upper(), "password": "other-pass-1",
                                        "name": "B", "role": "buyer"})
    assert first.status_code == 201
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert "email" in again.json()["error"]["fields"]


def test_bad_sign_up_fields_are_named(api):
    response = api.post("/accounts", json={"email": "not-an-email", "password": "short",
                                           "name": "", "role": "superuser",
                                           "phone": "12345"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert {"email", "password", "name", "role", "phone"} <= set(error["fields"])


def test_malformed_json_is_a_400_in_the_contract_shape(api):
    response = api.post("/accounts", data="{not json", headers={
        "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_only_an_admin_creates_organizers(api, admin, buyer):
    body = {"email": _email(), "password": "rahasia-123", "name": "Staf", "role": "organizer"}
    assert api.post("/accounts", json=body).status_code == 403
    assert api.post("/accounts", json=body, token=buyer["token"]).status_code == 403
    created = api.post("/accounts", json=body, token=admin["token"])
    assert created.status_code == 201
    assert created.json()["role"] == "organizer"


def test_wrong_credentials_are_a_401(api, buyer):
    wrong = api.post("/auth/token", json={"email": buyer["email"], "password": "wrong-pass"})
    unknown = api.post("/auth/token", json={"email": _email(), "password": "whatever1"})
    assert wrong.status_code == 401 and unknown.status_code == 401
    assert wrong.json()["error"]["code"] == "unauthorized"
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]


def test_repeated_failed_logins_are_rate_limited(api):
    account = api.new_account("buyer")
    statuses = [api.post("/auth/token", json={"email": account["email"],
                                               "password": "wrong-pass"}).status_code
                for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    # From the same client even the right password waits until the delay has passed.
    blocked = api.post("/auth/token", json={"email": account["email"],
                                            "password": account["password"]})
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "rate_limited"
    assert int(blocked.headers["Retry-After"]) > 0


def test_me_needs_a_valid_token(api, buyer):
    assert api.get("/me").status_code == 401
    assert api.get("/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert api.get("/me", token="not.a.token").status_code == 401

    claims = jwt.decode(buyer["token"], SECRET, algorithms=["HS256"])
    expired = jwt.encode(claims | {"exp": dt.datetime.now(dt.timezone.utc)
                                   - dt.timedelta(minutes=1)}, SECRET, algorithm="HS256")
    forged = jwt.encode(claims | {"role": "admin"}, "another-secret-key-of-enough-length!",
                        algorithm="HS256")
    unsigned = jwt.encode(claims | {"role": "admin"}, None, algorithm="none")
    for token in (expired, forged, unsigned):
        response = api.get("/me", token=token)
        assert response.status_code == 401, token
        assert response.json()["error"]["code"] == "unauthorized"


def test_a_token_of_a_vanished_account_is_refused(api):
    ghost = jwt.encode({"sub": str(uuid.uuid4()), "role": "buyer",
                        "exp": dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)},
                       SECRET, algorithm="HS256")
    assert api.get("/me", token=ghost).status_code == 401


def test_passwords_never_reach_logs_events_or_answers(api, system, infra):
    secret = f"Sandi-{uuid.uuid4().hex}"
    email = _email()
    created = api.post("/accounts", json={"email": email, "password": secret, "name": "S",
                                          "role": "vendor"})
    api.post("/auth/token", json={"email": email, "password": secret})
    api.post("/auth/token", json={"email": email, "password": secret + "-wrong"})
    assert secret not in created.text
    stored = rows(infra.database_url("registry"),
                  "SELECT password_hash FROM accounts WHERE email = %s", (email,))
    assert stored[0]["password_hash"].startswith("$argon2id$")
    assert rows(infra.database_url("registry"),
                "SELECT count(*) AS n FROM outbox WHERE body::text LIKE %s",
                (f"%{secret}%",)) == [{"n": 0}]
    for process in system.processes.values():
        assert secret not in process.log(), process.name
