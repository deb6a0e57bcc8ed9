"""The accounts' rules: log-in and sign-up throttling, role changes, the first admin's password,
the idempotency fingerprint and the hashing bound."""
import datetime as dt
import hashlib
import json

import eventlet
import pytest

from backbone import idempotency
from backbone.errors import Forbidden, RateLimited, ServiceBusy
from services.registry import domain
from services.registry.dependencies import PasswordHasher

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)
THROTTLE = domain.LoginThrottle()


def pair(failures, blocked_until=None, last_failure_at=NOW):
    return {"failures": failures, "blocked_until": blocked_until,
            "last_failure_at": last_failure_at}


def test_three_free_failures_then_a_delay_that_doubles_up_to_the_cap():
    delays = [THROTTLE.blocked_until(failures, NOW) for failures in range(1, 8)]
    assert delays[:2] == [None, None]
    assert [(moment - NOW).total_seconds() for moment in delays[2:]] == [1, 2, 4, 8, 16]
    assert THROTTLE.blocked_until(40, NOW) - NOW == dt.timedelta(minutes=15)
    assert THROTTLE.blocked_until(10_000, NOW) - NOW == dt.timedelta(minutes=15)


def test_a_pair_waits_until_its_delay_is_over_with_retry_after():
    THROTTLE.check(pair(2), NOW)
    THROTTLE.check(pair(5, blocked_until=NOW), NOW)
    with pytest.raises(RateLimited) as error:
        THROTTLE.check(pair(5, blocked_until=NOW + dt.timedelta(seconds=3.2)), NOW)
    assert error.value.details["retry_after"] == 4


def test_old_failures_are_forgotten():
    assert THROTTLE.current_failures(pair(7), NOW) == 7
    long_ago = NOW - THROTTLE.memory - dt.timedelta(seconds=1)
    assert THROTTLE.current_failures(pair(7, last_failure_at=long_ago), NOW) == 0
    assert THROTTLE.current_failures(pair(0, last_failure_at=None), NOW) == 0


def test_sign_ups_per_client_are_limited_per_window():
    throttle = domain.SignupThrottle(per_window=20)
    throttle.check(20, NOW, NOW)
    with pytest.raises(RateLimited) as error:
        throttle.check(21, NOW - dt.timedelta(minutes=45), NOW)
    assert error.value.details["retry_after"] == 15 * 60


def test_only_an_admin_changes_roles_and_not_their_own():
    admin = {"account_id": "a1", "role": "admin"}
    domain.check_may_change_role(admin, "b2")
    for caller, account_id in (({"account_id": "o1", "role": "organizer"}, "b2"),
                               (None, "b2"), (admin, "a1")):
        with pytest.raises(Forbidden):
            domain.check_may_change_role(caller, account_id)


@pytest.mark.parametrize("password", ["", "short", "x" * 7, "x" * 129])
def test_the_first_admin_password_obeys_everyones_length(password):
    with pytest.raises(ValueError, match="LARIS_ADMIN_PASSWORD"):
        domain.check_first_admin_password(password)


def test_a_long_enough_first_admin_password_passes():
    domain.check_first_admin_password("x" * 8)


SIGN_UP = {"email": "wati@example.id", "password": "rahasia-123", "name": "Wati",
           "role": "vendor"}


def test_no_password_enters_an_idempotency_fingerprint():
    canonical = json.dumps(SIGN_UP, sort_keys=True, separators=(",", ":"))
    plain_sha256 = hashlib.sha256(canonical.encode()).hexdigest()
    assert idempotency.fingerprint(SIGN_UP) != plain_sha256
    assert idempotency.fingerprint(SIGN_UP) == idempotency.fingerprint(
        SIGN_UP | {"password": "another-one-1"})
    assert idempotency.fingerprint(SIGN_UP) != idempotency.fingerprint(
        SIGN_UP | {"name": "Wati S."})
    nested = {"change": {"current_password": "a", "new_password": "b"}}
    assert idempotency.fingerprint(nested) == idempotency.fingerprint(
        {"change": {"current_password": "c", "new_password": "d"}})


def test_the_fingerprint_is_keyed_by_the_server(monkeypatch):
    default = idempotency.fingerprint(SIGN_UP)
    monkeypatch.setenv("LARIS_IDEMPOTENCY_KEY", "another-server-key-for-fingerprints")
    assert idempotency.fingerprint(SIGN_UP) != default


def test_hashing_beyond_its_bound_is_refused_at_once():
    hasher = PasswordHasher(concurrency=1, queue=1)
    running = [eventlet.spawn(hasher.hash, "rahasia-123") for _ in range(2)]
    eventlet.sleep(0)  # both admitted: one hashing, one waiting for its turn
    with pytest.raises(ServiceBusy) as error:
        hasher.hash("rahasia-123")
    assert error.value.details["retry_after"] == 1
    assert all(thread.wait().startswith("$argon2id$") for thread in running)
    assert hasher.hash("rahasia-123").startswith("$argon2id$")
