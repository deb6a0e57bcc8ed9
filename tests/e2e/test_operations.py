"""Operations routes, the OpenAPI document and the error shape on every kind of failure."""
import uuid

import requests

from backbone import config


def test_healthz_answers_while_the_process_runs(system):
    response = requests.get(system.url("/healthz"), timeout=5)
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_checks_broker_database_and_services(system):
    response = requests.get(system.url("/readyz"), timeout=10)
    assert response.status_code == 200
    assert response.json()["checks"] == {"broker": "ok"} | {
        check: "ok" for service in config.SERVICES
        for check in (service, f"{service}.database")}


def test_readyz_names_a_service_that_does_not_answer(system, api):
    sign_up = {"email": f"late-{uuid.uuid4().hex[:8]}@test.laris.local",
               "password": "rahasia-123", "name": "Late", "role": "buyer"}
    system.processes["registry"].stop()
    try:
        response = requests.get(system.url("/readyz"), timeout=15)
        assert response.status_code == 503
        body = response.json()
        assert body["error"]["code"] == "service_unavailable"
        assert "registry" in body["error"]["message"]
        assert body["checks"]["broker"] == "ok"
        # Only the component's state: a reason could carry hosts and users.
        assert body["checks"]["registry"] == "down"
        assert body["checks"]["registry.database"] == "unknown"

        refused = api.post("/accounts", json=sign_up)
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "service_unavailable"
        assert int(refused.headers["Retry-After"]) > 0
    finally:
        system.processes["registry"].start()
        system.wait_ready()
    # The refused request expired in the queue instead of running once the registry was back:
    # the client's retry is the only sign-up.
    assert api.post("/accounts", json=sign_up).status_code == 201


def test_metrics_count_requests_per_route(system, api):
    api.get("/export-rules")
    text = requests.get(system.url("/metrics"), timeout=5).text
    assert 'laris_http_requests_total{' in text
    assert 'route="/api/v1/export-rules"' in text
    assert "laris_http_request_duration_seconds_bucket" in text


def test_openapi_document_and_browsable_ui(system):
    spec = requests.get(system.url("/api/v1/openapi.json"), timeout=5)
    assert spec.status_code == 200
    document = spec.json()
    assert document["openapi"].startswith("3.")
    for path in ("/api/v1/accounts", "/api/v1/auth/token", "/api/v1/me", "/api/v1/businesses",
                 "/api/v1/businesses/{business_id}",
                 "/api/v1/businesses/{business_id}/verification",
                 "/api/v1/businesses/{business_id}/certifications"):
        assert path in document["paths"], path
    assert "201" in document["paths"]["/api/v1/businesses"]["post"]["responses"]
    assert "bearer" in document["components"]["securitySchemes"]
    ui = requests.get(system.url("/api/v1/docs"), timeout=5)
    assert ui.status_code == 200 and "swagger" in ui.text.lower()


def test_errors_are_json_in_the_contract_shape(system):
    """Under /api/ (a path outside it is a page: the web pages' 404, tests/e2e/web)."""
    for response, status in (
            (requests.get(system.url("/api/v1/no/such/route"), timeout=5), 404),
            (requests.delete(system.url("/api/v1/me"), timeout=5), 405),
            # Its own connection: gunicorn drains at most 64 KiB of a body the app refused,
            # then drops the connection it had announced as keep-alive.
            (requests.post(system.url("/api/v1/accounts"), data=b"x" * (2 * 1024 * 1024),
                           headers={"Content-Type": "application/json"}, timeout=10), 413)):
        assert response.status_code == status
        assert response.headers["Content-Type"].startswith("application/json")
        assert set(response.json()) == {"error"}
        assert {"code", "message"} <= set(response.json()["error"])


def test_the_request_id_is_echoed_or_made(system, api):
    echoed = api.get("/export-rules", headers={"X-Request-ID": "client-req-42"})
    assert echoed.headers["X-Request-ID"] == "client-req-42"
    made = api.get("/export-rules", headers={"X-Request-ID": "bad id with spaces!"})
    assert made.headers["X-Request-ID"] not in ("", "bad id with spaces!")
    assert len(made.headers["X-Request-ID"]) == 32
