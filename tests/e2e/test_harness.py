"""What the test harness gives every service's tests: its processes started from the Procfile,
a client of each service by name, and the shared broker fixture."""
import json

import pytest
from nameko.exceptions import IncorrectSignature

from backbone import config


def test_every_service_of_the_list_runs(system):
    for service in config.SERVICES:
        assert system.processes[service].running()


def test_rpc_calls_each_service_by_name(rpc):
    for service in config.SERVICES:
        assert getattr(rpc, service).health() == {"service": service, "database": "ok"}


def test_a_service_error_reaches_the_caller(rpc):
    with pytest.raises(IncorrectSignature):
        rpc.registry.health("an argument health does not take")


def test_the_broker_fixture_sees_the_test_virtual_host(broker, infra):
    queue = broker.observe("registry", "harness.checked", "harness")
    broker.publish_raw("registry.events", "harness.checked", json.dumps({"checked": True}))

    [message] = broker.drain(queue, expect=1)

    assert broker.body(message) == {"checked": True}
    assert broker.connection.virtual_host == infra.vhost
