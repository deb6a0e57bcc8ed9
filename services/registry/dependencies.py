"""The registry's nameko dependencies beyond the shared database: its export rules, its
password hasher and its throttles."""
import datetime as dt
import os

import argon2
from eventlet import semaphore, tpool
from nameko.extensions import DependencyProvider

from backbone import config
from backbone.errors import ServiceBusy
from services.registry import domain, readiness


class ExportRules(DependencyProvider):
    """The city's export-readiness rules, read once at start-up: a broken file stops the
    service from starting, with the file's error, rather than answering wrongly."""

    def setup(self):
        path = os.environ.get("LARIS_EXPORT_RULES") or readiness.DEFAULT_RULES_PATH
        self.rules = readiness.load_rules(path)
        domain.check_rules_match_contract(self.rules)

    def get_dependency(self, worker_ctx):
        return self.rules


class PasswordHasher:
    """argon2id. Hashing is deliberately slow CPU work (and 64 MiB each), so it runs in a real
    OS thread: on the eventlet hub it would stall every other request of the service.

    At most ``concurrency`` hashes run at once and ``queue`` more wait for a turn; beyond that
    ``hash`` answers ServiceBusy at once, so a flood of sign-ups cannot hold every worker of
    the service and logins and reads keep answering."""

    def __init__(self, concurrency=1, queue=0):
        self._hasher = argon2.PasswordHasher()
        # Verifying against this when the e-mail is unknown keeps both answers equally slow.
        self._decoy_hash = self._hasher.hash("laris-decoy-password")
        self._turns = semaphore.Semaphore(concurrency)
        self._admitted_limit = concurrency + queue
        self._admitted = 0

    def hash(self, password):
        # Green threads switch only on I/O, so this check and count cannot interleave.
        if self._admitted >= self._admitted_limit:
            raise ServiceBusy("Too many passwords are being set right now; try again shortly.",
                              details={"retry_after": 1})
        self._admitted += 1
        try:
            with self._turns:
                return tpool.execute(self._hasher.hash, password)
        finally:
            self._admitted -= 1

    def verify(self, password_hash, password):
        try:
            return tpool.execute(self._hasher.verify, password_hash or self._decoy_hash,
                                 password) and password_hash is not None
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False

    def needs_rehash(self, password_hash):
        return self._hasher.check_needs_rehash(password_hash)


class Passwords(DependencyProvider):
    def setup(self):
        self.hasher = PasswordHasher(concurrency=config.env_int("LARIS_HASH_CONCURRENCY"),
                                     queue=config.env_int("LARIS_HASH_QUEUE"))

    def get_dependency(self, worker_ctx):
        return self.hasher


class Throttles(DependencyProvider):
    """The log-in and sign-up throttles, as configured (backbone/config.py)."""

    def setup(self):
        self.throttles = {
            "login": domain.LoginThrottle(
                free_failures=config.env_int("LARIS_LOGIN_FREE_FAILURES"),
                first_delay=dt.timedelta(
                    seconds=config.env_float("LARIS_LOGIN_FIRST_DELAY_SECONDS")),
                max_delay=dt.timedelta(seconds=config.env_float("LARIS_LOGIN_MAX_DELAY_SECONDS"))),
            "signup": domain.SignupThrottle(
                per_window=config.env_int("LARIS_SIGNUP_PER_CLIENT_PER_HOUR")),
        }

    def get_dependency(self, worker_ctx):
        return self.throttles
