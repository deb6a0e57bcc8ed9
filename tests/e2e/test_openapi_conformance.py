"""The served OpenAPI document tells a client every rule it can know beforehand: schemathesis
generates requests from it against the running gateway and finds no mismatch (bounded in time;
tests/support/schemathesis_hooks.py says what a real client knows beyond the document)."""
import subprocess
import sys

CONFORMANCE = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
               "response_schema_conformance")
LOGIN = "/api/v1/auth/token"


def _fuzz(system, token, checks, *selection):
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", system.url("/api/v1/openapi.json"),
        "--url", system.base_url, "--checks", ",".join(checks),
        "--max-examples", "25", "--workers", "1", "--phases", "fuzzing", "--mode", "positive",
        "--request-timeout", "10", "--max-time", "50",
        "--header", f"Authorization: Bearer {token}", "--no-color", "--warnings", "off",
        *selection,
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120,
                         env=system.env | {
                             "SCHEMATHESIS_HOOKS": "tests.support.schemathesis_hooks"})
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "Tested:" in run.stdout, run.stdout[-2000:]


def test_the_api_is_exactly_as_strict_as_its_document(system, api):
    """Valid data by the document is never refused with a 422, and nothing answers a 5xx."""
    vendor = api.new_account("vendor")
    _fuzz(system, vendor["token"], CONFORMANCE + ("positive_data_acceptance",),
          "--exclude-path", LOGIN)


def test_the_login_answers_as_documented(system, api):
    """The log-in route is held to the conformance checks only: schemathesis 4.32 sent it a
    body with a property its document forbids (additionalProperties: false) as positive data,
    which the route rightly refuses. Noted in the issue; not understood yet."""
    vendor = api.new_account("vendor")
    _fuzz(system, vendor["token"], CONFORMANCE, "--include-path", LOGIN)
