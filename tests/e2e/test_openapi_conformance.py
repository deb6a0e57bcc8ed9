"""The served OpenAPI document tells a client every rule it can know beforehand: schemathesis
generates requests from it against the running gateway and finds no mismatch (bounded in time;
tests/support/schemathesis_hooks.py says what a real client knows beyond the document)."""
import subprocess
import sys

CONFORMANCE = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
               "response_schema_conformance")
# schemathesis 4.32 sends these bodies a property their document forbids
# (additionalProperties: false) as positive data, which the routes rightly refuse with a 422:
# held to the conformance checks only. Not understood yet (noted in the issue).
EXTRA_PROPERTY_SENT = ("/api/v1/auth/token", "/api/v1/notifications/preferences")


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
    excluded = [arg for path in EXTRA_PROPERTY_SENT for arg in ("--exclude-path", path)]
    _fuzz(system, vendor["token"], CONFORMANCE + ("positive_data_acceptance",), *excluded)


def test_the_routes_sent_forbidden_properties_answer_as_documented(system, api):
    """The log-in and the preferences are held to the conformance checks only (see
    EXTRA_PROPERTY_SENT)."""
    vendor = api.new_account("vendor")
    included = [arg for path in EXTRA_PROPERTY_SENT for arg in ("--include-path", path)]
    _fuzz(system, vendor["token"], CONFORMANCE, *included)
