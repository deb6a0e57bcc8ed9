"""Where the tests live, and what they may fake.

- tests/unit: pure rules (domain, contracts, pagination, the gateway's error table). No broker,
  no database. Fakes only of our own ports, never of RabbitMQ or PostgreSQL.
- tests/integration: the backbone against the real PostgreSQL and RabbitMQ.
- tests/e2e: the real processes, started from the Procfile as `make run` starts them, driven
  over HTTP through the gateway.

Mocking our own broker or database proves nothing about them, so no test does it. Integration
and e2e tests share one isolated virtual host and database prefix per session (support/infra).
"""
import pathlib

import pytest

from tests.support.broker import Broker
from tests.support.infra import IsolatedInfra
from tests.support.system import ServiceClients, System

PROBE_COMMAND = "python -m backbone.runner tests.support.probe.service"
PROBE_MIGRATIONS = [pathlib.Path(__file__).resolve().parents[1] / "backbone" / "migrations",
                    pathlib.Path(__file__).resolve().parent / "support" / "probe" / "migrations"]


@pytest.fixture(scope="session")
def infra():
    isolated = IsolatedInfra()
    isolated.create_vhost()
    yield isolated
    isolated.tear_down()


@pytest.fixture(scope="session")
def system(request, infra, tmp_path_factory):
    """Every process of the Procfile, plus the probe consumer, started once per session."""
    infra.migrate("probe", dirs=PROBE_MIGRATIONS)
    running = System(infra, tmp_path_factory.mktemp("logs"), extra_processes={
        "probe": PROBE_COMMAND})
    try:
        request.session._laris_system = running
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def rpc(system, infra):
    """Any running service by name, as the gateway calls it: ``rpc.registry.health()``."""
    clients = ServiceClients(infra.amqp_uri)
    yield clients
    clients.close()


@pytest.fixture
def broker(infra):
    """The test's virtual host on the real broker: observe, publish raw, drain (support/broker)."""
    connection = Broker(infra.amqp_uri)
    yield connection
    connection.close()
