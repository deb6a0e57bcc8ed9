"""Accounts under attack, through the gateway: log-in throttling per (e-mail, client), sign-up
floods, idempotency fingerprints without passwords, tokens that an account's role or password
change invalidates, and a first admin with a weak password."""
import concurrent.futures
import hashlib
import json
import shlex
import subprocess
import threading
import time
import uuid

from tests.support.api import client_address
from tests.support.db import rows
from tests.support.system import ROOT, procfile

# The gateway trusts what the registry said of a token for LARIS_TOKEN_CHECK_SECONDS (2).
TOKEN_CHECK_SECONDS = 2


def _email():
    return f"sec-{uuid.uuid4().hex[:10]}@test.laris.local"


def _log_in(api, email, password, client):
    return api.post("/auth/token", json={"email": email, "password": password}, headers=client)


def _in_parallel(count, attempt):
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: attempt(), range(count)))


# --- log-in throttling -----------------------------------------------------------------------

def test_parallel_guesses_are_counted_one_by_one(api):
    account = api.new_account("buyer")
    guesser = client_address()
    answers = _in_parallel(10, lambda: _log_in(api, account["email"], "wrong-pass", guesser))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(401) <= 3, statuses
    assert statuses.count(401) + statuses.count(429) == 10, statuses
    refused = [answer for answer in answers if answer.status_code == 429]
    assert all(int(answer.headers["Retry-After"]) >= 1 for answer in refused)
    assert refused[0].json()["error"]["code"] == "rate_limited"


def test_someone_elses_guesses_never_refuse_the_right_password(api):
    account = api.new_account("vendor")
    guesser, owner = client_address(), client_address()
    for _ in range(4):
        _log_in(api, account["email"], "wrong-pass", guesser)
    assert _log_in(api, account["email"], account["password"], guesser).status_code == 429
    assert _log_in(api, account["email"], account["password"], owner).status_code == 200
    # The guesser's address (a carrier NAT) is not locked out of other accounts either.
    other = api.new_account("buyer")
    assert _log_in(api, other["email"], other["password"], guesser).status_code == 200


def test_the_delay_grows_with_every_further_failure(api):
    account = api.new_account("buyer")
    client = client_address()
    statuses = [_log_in(api, account["email"], "wrong-pass", client).status_code
                for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    time.sleep(1.2)
    assert _log_in(api, account["email"], "wrong-pass", client).status_code == 401
    waiting = _log_in(api, account["email"], "wrong-pass", client)
    assert waiting.status_code == 429 and int(waiting.headers["Retry-After"]) == 2
    time.sleep(2.2)
    # A success clears the pair's failures: the next wrong guess is free again.
    assert _log_in(api, account["email"], account["password"], client).status_code == 200
    assert _log_in(api, account["email"], "wrong-pass", client).status_code == 401


def test_unknown_emails_are_throttled_like_known_ones(api):
    unknown, client = _email(), client_address()
    statuses = [_log_in(api, unknown, "wrong-pass", client).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


# --- sign-up ---------------------------------------------------------------------------------

def _sign_up(api, client, **overrides):
    body = {"email": _email(), "password": "rahasia-123", "name": "Flood", "role": "buyer"}
    return api.post("/accounts", json=body | overrides, headers=client)


def test_sign_ups_are_throttled_per_client(api):
    flooder = client_address()
    statuses = [_sign_up(api, flooder).status_code for _ in range(21)]
    assert statuses == [201] * 20 + [429]
    refused = _sign_up(api, flooder)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert _sign_up(api, client_address()).status_code == 201


def test_logins_and_reads_answer_during_a_sign_up_flood(api, vendor):
    business = api.register_business(vendor)
    flooders = [client_address() for _ in range(4)]
    flooding, answers = threading.Event(), []
    flooding.set()

    def flood(client):
        while flooding.is_set():
            answers.append(_sign_up(api, client))

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        for index in range(12):
            pool.submit(flood, flooders[index % len(flooders)])
        time.sleep(1)
        try:
            read = api.get(f"/businesses/{business['id']}", token=vendor["token"])
            login = api.post("/auth/token", json={"email": vendor["email"],
                                                  "password": vendor["password"]})
        finally:
            flooding.clear()
    assert read.status_code == 200, read.text
    assert login.status_code == 200, login.text
    statuses = {answer.status_code for answer in answers}
    assert statuses <= {201, 429, 503}, statuses
    turned_away = [answer for answer in answers if answer.status_code in (429, 503)]
    assert turned_away and all(int(answer.headers["Retry-After"]) >= 1
                               for answer in turned_away)


# --- idempotency -----------------------------------------------------------------------------

def test_no_password_is_kept_in_an_idempotency_fingerprint(api, infra):
    key, client = f"signup-{uuid.uuid4().hex}", client_address()
    body = {"email": _email(), "password": "rahasia-123", "name": "Idem", "role": "buyer"}
    first = api.post("/accounts", json=body, headers=client | {"Idempotency-Key": key})
    assert first.status_code == 201
    [stored] = rows(infra.database_url("registry"),
                    "SELECT fingerprint FROM idempotency_keys WHERE key = %s", (key,))
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    assert stored["fingerprint"] != hashlib.sha256(canonical.encode()).hexdigest()
    retry = api.post("/accounts", json=body | {"password": "another-pass-9"},
                     headers=client | {"Idempotency-Key": key})
    assert retry.status_code == 201 and retry.json()["id"] == first.json()["id"]


def test_anonymous_clients_do_not_share_an_idempotency_scope(api):
    key = f"signup-{uuid.uuid4().hex}"
    created = [_sign_up(api, client_address() | {"Idempotency-Key": key}) for _ in range(2)]
    assert [answer.status_code for answer in created] == [201, 201]
    assert created[0].json()["id"] != created[1].json()["id"]


# --- tokens that a change invalidates --------------------------------------------------------

def _account_events(infra, account_id):
    return rows(infra.database_url("registry"),
                """SELECT event_type, (body->>'aggregate_version')::int AS version,
                          body->>'aggregate_type' AS aggregate_type, body->'payload' AS payload
                     FROM outbox WHERE body->>'aggregate_id' = %s ORDER BY seq""",
                (account_id,))


def test_a_role_change_invalidates_older_tokens(api, admin, infra):
    account = api.new_account("buyer")
    assert api.get("/me", token=account["token"]).status_code == 200
    path = f"/accounts/{account['id']}"
    assert api.patch(path, json={"role": "vendor"}, token=account["token"]).status_code == 403
    changed = api.patch(path, json={"role": "vendor"}, token=admin["token"])
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "vendor" and changed.json()["version"] == 2

    time.sleep(TOKEN_CHECK_SECONDS + 0.5)
    refused = api.get("/me", token=account["token"])
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    fresh = api.login(account["email"], account["password"])
    assert api.get("/me", token=fresh).json()["role"] == "vendor"

    events = _account_events(infra, account["id"])
    assert [(event["event_type"], event["version"]) for event in events] == [
        ("account.created", 1), ("account.updated", 2)]
    assert events[1]["aggregate_type"] == "account"
    assert events[1]["payload"]["role"] == "vendor"


def test_a_password_change_invalidates_older_tokens(api, infra):
    account = api.new_account("vendor")
    wrong = api.post("/me/password", token=account["token"], json={
        "current_password": "not-my-password", "new_password": "baru-rahasia-456"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"

    changed = api.post("/me/password", token=account["token"], json={
        "current_password": account["password"], "new_password": "baru-rahasia-456"})
    assert changed.status_code == 200, changed.text
    new_token = changed.json()["access_token"]

    time.sleep(TOKEN_CHECK_SECONDS + 0.5)
    assert api.get("/me", token=account["token"]).status_code == 401
    assert api.get("/me", token=new_token).status_code == 200
    assert api.post("/auth/token", json={"email": account["email"],
                                         "password": account["password"]}).status_code == 401
    assert api.login(account["email"], "baru-rahasia-456")
    events = _account_events(infra, account["id"])
    assert [(event["event_type"], event["version"]) for event in events] == [
        ("account.created", 1), ("account.updated", 2)]
    assert "password" not in json.dumps(events[1]["payload"])


# --- the first admin -------------------------------------------------------------------------

def test_the_registry_refuses_to_start_with_a_weak_first_admin_password(system):
    registry = subprocess.run(
        shlex.split(procfile()["registry"]), cwd=ROOT,
        env=system.env | {"LARIS_ADMIN_EMAIL": _email(), "LARIS_ADMIN_PASSWORD": "abcde"},
        capture_output=True, text=True, timeout=120)
    assert registry.returncode != 0
    assert "LARIS_ADMIN_PASSWORD" in registry.stdout + registry.stderr
