"""The registry's nameko dependencies beyond the shared database: its export rules and its
password hasher."""
import os

import argon2
from eventlet import tpool
from nameko.extensions import DependencyProvider

from services.registry import readiness


class ExportRules(DependencyProvider):
    """The city's export-readiness rules, read once at start-up: a broken file stops the
    service from starting, with the file's error, rather than answering wrongly."""

    def setup(self):
        path = os.environ.get("LARIS_EXPORT_RULES") or readiness.DEFAULT_RULES_PATH
        self.rules = readiness.load_rules(path)

    def get_dependency(self, worker_ctx):
        return self.rules


class PasswordHasher:
    """argon2id. Hashing is deliberately slow CPU work, so it runs in a real OS thread:
    on the eventlet hub it would stall every other request of the service."""

    def __init__(self):
        self._hasher = argon2.PasswordHasher()
        # Verifying against this when the e-mail is unknown keeps both answers equally slow.
        self._decoy_hash = self._hasher.hash("laris-decoy-password")

    def hash(self, password):
        return tpool.execute(self._hasher.hash, password)

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
        self.hasher = PasswordHasher()

    def get_dependency(self, worker_ctx):
        return self.hasher
