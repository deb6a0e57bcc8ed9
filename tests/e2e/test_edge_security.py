"""The gateway's edge as a client meets it over real sockets: what gunicorn refuses before the
app sees it, malformed bodies, the self-hosted API docs, security headers, and a production
gateway that will not start on a weak signing key."""
import json
import re
import shlex
import socket
import subprocess

import pytest
import requests

from tests.support.system import ROOT, free_port, procfile


def raw_request(system, request_bytes):
    """Sends bytes as they are (requests would refuse to send most of these) and returns
    (status, headers text, body) of the answer."""
    with socket.create_connection(("127.0.0.1", system.port), timeout=10) as sock:
        sock.sendall(request_bytes)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode("latin-1"), body


def assert_contract_error(head, body, code):
    assert "content-type: application/json" in head.lower()
    assert "x-content-type-options: nosniff" in head.lower()
    assert json.loads(body)["error"]["code"] == code


@pytest.mark.parametrize("request_bytes, status, code", [
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
     + b"".join(b"X-Extra-%d: 1\r\n" % n for n in range(150)) + b"\r\n",
     431, "headers_too_large"),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
     431, "headers_too_large"),
    (b"THIS IS NOT HTTP\r\n\r\n", 400, "bad_request"),
])
def test_gunicorn_refusals_are_json_in_the_contract_shape(system, request_bytes, status, code):
    got_status, head, body = raw_request(system, request_bytes)
    assert got_status == status
    assert_contract_error(head, body, code)


def test_deeply_nested_json_is_a_bad_request(api):
    for body in ("[" * 100_000, '{"a":' * 50_000):
        response = api.post("/accounts", data=body,
                            headers={"Content-Type": "application/json"})
        assert response.status_code == 400, response.text[:200]
        assert response.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("body", ["[1, 2]", '"vendor"', "42", "true", "[]"])
def test_json_that_is_not_an_object_is_refused_in_the_contract_shape(api, body):
    response = api.post("/accounts", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422), response.text[:200]
    assert set(response.json()) == {"error"}
    assert response.json()["error"]["code"] in ("bad_request", "validation_error")


def test_the_docs_page_loads_nothing_from_another_origin(system):
    page = requests.get(system.url("/api/v1/docs"), timeout=5)
    assert page.status_code == 200
    assert not re.search(r"https?://", page.text)
    assert "http" not in page.headers["Content-Security-Policy"]
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    assert len(scripts) == 3
    for script in scripts:
        answer = requests.get(system.url(script), timeout=5)
        assert answer.status_code == 200, script
        assert "javascript" in answer.headers["Content-Type"], script
    stylesheet = re.search(r'<link href="([^"]+\.css)"', page.text).group(1)
    assert requests.get(system.url(stylesheet), timeout=5).status_code == 200


def test_security_headers_reach_the_client(system, api):
    for response in (api.get("/export-rules"), api.get("/me"),
                     requests.get(system.url("/readyz"), timeout=10)):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert api.get("/me").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("key", ["CHANGE", "", "too-short-0123456789"])
def test_a_production_gateway_refuses_a_weak_signing_key(system, tmp_path, key):
    command = shlex.split(procfile()["gateway"])
    env = system.env | {"LARIS_ENV": "production", "LARIS_SECRET_KEY": key,
                        "LARIS_HTTP_PORT": str(free_port()),
                        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=60)
    assert finished.returncode != 0
    assert "LARIS_SECRET_KEY" in finished.stdout + finished.stderr
