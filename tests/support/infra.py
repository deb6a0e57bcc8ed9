"""Test isolation on the shared RabbitMQ and PostgreSQL: each test session gets its own
RabbitMQ virtual host and its own databases (a unique prefix), created here and removed at
the end, so tests never touch `make run`'s data or queues and runs never see each other."""
import os
import subprocess
import urllib.parse
import uuid

from backbone import config
from backbone.migrate import create_database, drop_database, migrate


class IsolatedInfra:
    def __init__(self):
        self.run_id = uuid.uuid4().hex[:8]
        self.vhost = f"laris-test-{self.run_id}"
        self.db_prefix = f"laris_test_{self.run_id}_"
        base = os.environ.get("LARIS_TEST_AMQP_BASE", "amqp://guest:guest@127.0.0.1:5672")
        self.amqp_uri = f"{base}/{urllib.parse.quote(self.vhost, safe='')}"
        self.pg_url = os.environ.get("LARIS_TEST_PG_URL") or config.env("LARIS_PG_URL")
        self._databases = []

    def env(self):
        return {"LARIS_AMQP_URI": self.amqp_uri, "LARIS_DB_PREFIX": self.db_prefix,
                "LARIS_PG_URL": self.pg_url}

    def database_url(self, name):
        return f"{self.pg_url}/{self.db_prefix}{name}"

    def create_vhost(self):
        _rabbitmqctl("add_vhost", self.vhost)
        _rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")

    def migrate(self, name, dirs=None):
        url = self.database_url(name)
        drop_database(url)
        self._databases.append(url)
        migrate(name, url=url, dirs=dirs)
        return url

    def empty_database(self, name):
        url = self.database_url(name)
        drop_database(url)
        self._databases.append(url)
        create_database(url)
        return url

    def tear_down(self):
        for url in self._databases:
            drop_database(url)
        _rabbitmqctl("delete_vhost", self.vhost, check=False)


def _rabbitmqctl(*args, check=True):
    result = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True,
                            timeout=60)
    if check and result.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {result.stderr.strip()}\n"
                           "The tests need rabbitmqctl (run them as root or as the rabbitmq "
                           "user) to give each run its own virtual host.")
