"""The gateway's edge: the signing key, token leeway, readiness and metrics access, security
headers, deeply nested JSON and gunicorn's own errors, with a fake of our own RPC port."""
import datetime as dt
import json
import logging
import secrets
import uuid

import jwt
import pytest

from backbone import config
from backbone.errors import BackendUnavailable, DomainError
from services.gateway import gunicorn_worker
from services.gateway.app import create_app
from services.gateway.errors import STATUS_BY_CODE
from services.gateway.rpc import ServiceUnavailable
from services.gateway.signing_key import DEV_SECRET_KEY, WeakSigningKey, key_problem
from tests.unit.test_gateway import SECRET, FakeRpc

STRONG_KEY = secrets.token_urlsafe(48)
# A database driver's message, as it names the host and the user.
DRIVER_MESSAGE = ('connection to server at "db.internal" (10.9.8.7), port 5432 failed: '
                  'FATAL: password authentication failed for user "laris_registry"')


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setenv("LARIS_SECRET_KEY", SECRET)
    monkeypatch.setenv("LARIS_ENV", "development")
    # Nothing listens on port 1: the broker check fails at once, with no broker in unit tests.
    monkeypatch.setenv("LARIS_AMQP_URI", "amqp://guest:guest@127.0.0.1:1/")
    application = create_app()
    application.extensions["rpc"] = FakeRpc()
    application.extensions["health_rpc"] = FakeRpc()
    return application


@pytest.fixture
def client(app):
    return app.test_client()


def bearer(**claims):
    now = dt.datetime.now(dt.timezone.utc)
    body = {"sub": "acc-1", "role": "buyer", "iat": now, "jti": uuid.uuid4().hex, "tv": 1,
            "exp": now + dt.timedelta(minutes=5)} | claims
    body = {name: value for name, value in body.items() if value is not None}
    return {"Authorization": "Bearer " + jwt.encode(body, SECRET, algorithm="HS256")}


# --- the signing key ------------------------------------------------------------------------

@pytest.mark.parametrize("key", [
    None, "", DEV_SECRET_KEY, "CHANGE", "change-me-0123456789-0123456789-0123",
    "ChangeMe0123456789abcdefghijklmnopqrstuv", "our-SECRET-key-0123456789-0123456789",
    "example-0123456789abcdefghijklmnopqrstuvwxyz", "short-but-random-Zx81Qa"])
def test_weak_signing_keys_are_named(key):
    assert key_problem(key)


def test_a_long_random_key_is_fit():
    assert key_problem(STRONG_KEY) is None


@pytest.mark.parametrize("env", [{"LARIS_SECRET_KEY": "CHANGE"}, {},
                                 {"LARIS_SECRET_KEY": DEV_SECRET_KEY},
                                 {"LARIS_SECRET_KEY": "x" * 31}])
def test_production_refuses_to_start_on_a_weak_key(monkeypatch, env):
    monkeypatch.delenv("LARIS_SECRET_KEY", raising=False)
    monkeypatch.delenv("LARIS_ENV", raising=False)  # production is the default
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(WeakSigningKey, match="LARIS_SECRET_KEY"):
        create_app()


def test_production_starts_on_a_strong_key(monkeypatch):
    monkeypatch.setenv("LARIS_ENV", "production")
    monkeypatch.setenv("LARIS_SECRET_KEY", STRONG_KEY)
    assert create_app().config["SECRET_KEY"] == STRONG_KEY


def test_development_allows_the_default_key_with_a_warning(monkeypatch, caplog):
    monkeypatch.setenv("LARIS_ENV", "development")
    monkeypatch.delenv("LARIS_SECRET_KEY", raising=False)
    with caplog.at_level(logging.WARNING):
        app = create_app()
    assert app.config["SECRET_KEY"] == DEV_SECRET_KEY
    assert "LARIS_SECRET_KEY" in caplog.text


# --- token leeway and required claims -------------------------------------------------------

def test_clock_skew_within_the_leeway_is_accepted(app, client):
    app.extensions["rpc"].outcome = {"id": "acc-1", "role": "buyer", "email": "b@x.id"}
    now = dt.datetime.now(dt.timezone.utc)
    issued_ahead = bearer(iat=now + dt.timedelta(seconds=10))
    just_expired = bearer(iat=now - dt.timedelta(minutes=5),
                          exp=now - dt.timedelta(seconds=10))
    for headers in (issued_ahead, just_expired):
        assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_a_token_expired_beyond_the_leeway_is_refused(client):
    now = dt.datetime.now(dt.timezone.utc)
    response = client.get("/api/v1/me", headers=bearer(
        iat=now - dt.timedelta(minutes=5), exp=now - dt.timedelta(seconds=120)))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("missing", ["iat", "jti"])
def test_tokens_must_carry_iat_and_jti(client, missing):
    response = client.get("/api/v1/me", headers=bearer(**{missing: None}))
    assert response.status_code == 401


# --- /readyz and /metrics -------------------------------------------------------------------

def test_readyz_names_the_component_never_the_drivers_message(app, client):
    app.extensions["health_rpc"].outcome = BackendUnavailable(DRIVER_MESSAGE)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"broker": "down"} | {
        check: state for service in config.SERVICES
        for check, state in ((service, "ok"), (f"{service}.database", "down"))}
    text = response.get_data(as_text=True)
    for leak in ("db.internal", "10.9.8.7", "laris_registry", "password", "127.0.0.1"):
        assert leak not in text


def test_readyz_says_down_for_a_service_that_does_not_answer(app, client):
    app.extensions["health_rpc"].outcome = ServiceUnavailable("registry", "RpcTimeout")
    checks = client.get("/readyz").json["checks"]
    assert checks == {"broker": "down"} | {
        check: state for service in config.SERVICES
        for check, state in ((service, "down"), (f"{service}.database", "unknown"))}


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_metrics_answer_local_clients(client, address):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 200 and b"# TYPE" in response.data


def test_metrics_refuse_other_clients_in_the_contract_shape(client):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert "LARIS_METRICS_ALLOW" in response.json["error"]["message"]


def test_metrics_follow_the_allow_list(monkeypatch):
    monkeypatch.setenv("LARIS_ENV", "development")
    monkeypatch.setenv("LARIS_METRICS_ALLOW", "10.0.0.0/8, 192.0.2.7")
    client = create_app().test_client()
    for address, status in (("10.20.30.40", 200), ("192.0.2.7", 200), ("127.0.0.1", 403)):
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": address}
                          ).status_code == status, address


def test_a_bad_allow_list_fails_start_up(monkeypatch):
    monkeypatch.setenv("LARIS_ENV", "development")
    monkeypatch.setenv("LARIS_METRICS_ALLOW", "127.0.0.1/32,scraper.internal")
    with pytest.raises(ValueError, match="LARIS_METRICS_ALLOW"):
        create_app()


# --- security headers -----------------------------------------------------------------------

STRICT_JSON_POLICY = "default-src 'none'; frame-ancestors 'none'"


@pytest.mark.parametrize("method, path, headers", [
    ("get", "/healthz", {}),
    ("get", "/api/v1/export-rules", {}),
    ("get", "/api/v1/no/such/route", {}),
    ("get", "/api/v1/me", {}),
    ("get", "/api/v1/me", {"Authorization": "Bearer not.a.token"}),
    ("get", "/api/v1/openapi.json", {}),
])
def test_every_response_carries_the_security_headers(client, method, path, headers):
    response = getattr(client, method)(path, headers=headers)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Security-Policy"] == STRICT_JSON_POLICY


def test_an_unknown_page_outside_the_api_is_a_page_that_runs_no_script(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'none'" in response.headers["Content-Security-Policy"]


def test_answers_that_depend_on_the_caller_are_not_cached(app, client):
    app.extensions["rpc"].outcome = {"id": "acc-1", "role": "buyer", "email": "b@x.id",
                                     "token_version": 1}
    assert client.get("/api/v1/me", headers=bearer()).headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/me").headers["Cache-Control"] == "no-store"  # 401
    logged_in = client.post("/api/v1/auth/token", json={"email": "b@x.id", "password": "x"})
    assert logged_in.status_code == 200 and logged_in.headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/healthz").headers.get("Cache-Control", "")


def test_the_docs_page_allows_only_its_own_origin(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "http" not in policy and "unsafe-eval" not in policy
    assert "<script>" not in response.get_data(as_text=True)  # no inline script to allow


def test_the_docs_serve_only_the_files_the_page_needs(client):
    assert client.get("/api/v1/docs/static/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/v1/docs/static/index.html").status_code == 404
    assert client.get("/api/v1/docs/static/..%2F__init__.py").status_code == 404


# --- errors ---------------------------------------------------------------------------------

class ServiceBusy(DomainError):
    code = "service_busy"


def test_a_busy_service_is_a_503_to_retry(app, client):
    app.extensions["rpc"].outcome = ServiceBusy("The registry is busy; try again shortly.")
    response = client.get("/api/v1/export-rules")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "service_busy"
    assert int(response.headers["Retry-After"]) > 0


def test_deeply_nested_json_is_a_bad_request(app, client):
    response = client.post("/api/v1/auth/token", data="[" * 100_000,
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_request"
    assert app.extensions["rpc"].calls == []


def test_a_recursion_error_of_our_own_stays_a_500(app, client):
    app.extensions["rpc"].outcome = RecursionError("maximum recursion depth exceeded")
    response = client.post("/api/v1/auth/token", json={"email": "b@x.id", "password": "x"})
    assert response.status_code == 500
    assert response.json["error"]["code"] == "internal_error"


def test_gunicorn_error_codes_are_those_of_the_error_table():
    for *_, status, _reason, code, _message in gunicorn_worker.PARSE_ERRORS:
        assert STATUS_BY_CODE[code] == status, code


def test_gunicorn_errors_are_json_in_the_contract_shape():
    from gunicorn.http.errors import LimitRequestLine

    raw = gunicorn_worker.error_bytes(*gunicorn_worker.classify(LimitRequestLine(9000, 4094)))
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414 ")
    assert b"Content-Type: application/json" in head
    assert f"Content-Length: {len(body)}".encode() in head
    assert json.loads(body)["error"]["code"] == "uri_too_long"
