"""The gateway's error table, auth and request ids, with a fake of our own RPC port (the
real services and broker are exercised end to end in tests/e2e)."""
import datetime as dt
import uuid

import jwt
import pytest

from backbone.errors import (BackendUnavailable, Conflict, Forbidden, NotFound, RateLimited,
                             Unauthorized, ValidationFailed)
from services.gateway.app import create_app
from services.gateway.rpc import ServiceUnavailable

SECRET = "unit-test-secret-key-of-sufficient-length"


class FakeRpc:
    """Stands in for the RPC pool: answers or raises what the test says."""

    def __init__(self):
        self.outcome = {}
        self.calls = []

    def call(self, service, method, *args, request_id=None, **kwargs):
        if method == "token_state":  # every token() is of the account's current version
            return {"token_version": 1, "role": "vendor"}
        self.calls.append((service, method, args, request_id))
        self.keywords = kwargs
        outcome = self.outcome
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setenv("LARIS_SECRET_KEY", SECRET)
    monkeypatch.setenv("LARIS_ENV", "development")
    application = create_app()
    application.extensions["rpc"] = FakeRpc()
    return application


@pytest.fixture
def client(app):
    return app.test_client()


def token(role="vendor", account_id="acc-1", **claims):
    now = dt.datetime.now(dt.timezone.utc)
    body = {"sub": account_id, "role": role, "iat": now, "jti": uuid.uuid4().hex, "tv": 1,
            "exp": now + dt.timedelta(minutes=5)} | claims
    return {"Authorization": "Bearer " + jwt.encode(body, SECRET, algorithm="HS256")}


@pytest.mark.parametrize("error, status, code", [
    (ValidationFailed("bad", fields={"nib": ["13 digits"]}), 422, "validation_error"),
    (NotFound("gone"), 404, "not_found"),
    (Conflict("taken"), 409, "conflict"),
    (Forbidden("no"), 403, "forbidden"),
    (Unauthorized("who?"), 401, "unauthorized"),
    (RateLimited("slow down", details={"retry_after": 42}), 429, "rate_limited"),
    (ServiceUnavailable("registry", "RpcTimeout"), 503, "service_unavailable"),
    (BackendUnavailable("database down"), 503, "service_unavailable"),
    (RuntimeError("secret internals"), 500, "internal_error"),
])
def test_every_failure_maps_to_the_contract_shape(app, client, error, status, code):
    app.extensions["rpc"].outcome = error
    response = client.get("/api/v1/export-rules")
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    if status == 422:
        assert response.json["error"]["fields"] == {"nib": ["13 digits"]}
    if status == 429:
        assert response.headers["Retry-After"] == "42"
    if status == 503:
        assert response.headers["Retry-After"]


def test_roles_are_checked_before_any_call(app, client):
    rpc = app.extensions["rpc"]
    assert client.post("/api/v1/businesses/b1/verification", json={
        "decision": "verified"}).status_code == 401
    refused = client.post("/api/v1/businesses/b1/verification", json={"decision": "verified"},
                          headers=token("vendor"))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    assert rpc.calls == []
    rpc.outcome = {"id": "b1", "status": "verified"}
    assert client.post("/api/v1/businesses/b1/verification", json={"decision": "verified"},
                       headers=token("admin")).status_code == 200


def test_the_body_is_forwarded_as_received_for_the_service_to_validate(app, client):
    """Decision 15: the service is the authority on its payloads; one validation pass."""
    rpc = app.extensions["rpc"]
    rpc.outcome = ValidationFailed("Some fields are invalid.", fields={"kind": ["Not one of."]})
    response = client.post("/api/v1/businesses", json={"kind": "pt"}, headers=token(
        ) | {"Idempotency-Key": "k-1"})
    assert response.status_code == 422 and "kind" in response.json["error"]["fields"]
    assert rpc.calls[-1][2][1] == {"kind": "pt"}
    assert rpc.keywords == {"idempotency_key": "k-1"}


def test_a_body_that_is_not_json_never_reaches_a_service(app, client):
    response = client.post("/api/v1/businesses", data="{nope", headers=token() | {
        "Content-Type": "application/json"})
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_request"
    assert app.extensions["rpc"].calls == []


def test_the_caller_and_request_id_travel_with_the_call(app, client):
    rpc = app.extensions["rpc"]
    rpc.outcome = {"items": [], "next_cursor": None}
    response = client.get("/api/v1/businesses?status=pending", headers=token(
        "organizer", "org-7") | {"X-Request-ID": "trace-me"})
    assert response.status_code == 200
    service, method, args, request_id = rpc.calls[-1]
    assert (service, method) == ("registry", "list_businesses")
    assert args[0] == {"account_id": "org-7", "role": "organizer"}
    assert args[1] == {"status": "pending"}
    assert request_id == "trace-me" == response.headers["X-Request-ID"]


def test_issued_tokens_carry_role_and_expiry(app, client):
    app.extensions["rpc"].outcome = {"id": "acc-9", "role": "buyer", "email": "b@x.id",
                                     "token_version": 4}
    issued = client.post("/api/v1/auth/token", json={"email": "b@x.id", "password": "x"})
    assert issued.status_code == 200
    body = issued.json
    claims = jwt.decode(body["access_token"], SECRET, algorithms=["HS256"])
    assert claims["sub"] == "acc-9" and claims["role"] == "buyer" and claims["tv"] == 4
    assert claims["exp"] - claims["iat"] == body["expires_in"] == 3600
    assert body["token_type"] == "bearer"


def test_tokens_signed_otherwise_are_refused(client):
    for headers in (token(exp=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)),
                    {"Authorization": "Bearer " + jwt.encode(
                        {"sub": "a", "role": "admin"}, None, algorithm="none")},
                    {"Authorization": "Token abc"}):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
