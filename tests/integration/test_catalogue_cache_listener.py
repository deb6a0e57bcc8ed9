"""The catalogue cache's listener on the real broker: facts published on the marketplace's and
the registry's exchanges drop what they name, and a connection the broker closes bypasses the
cache until the listener consumes again, with nothing kept from before."""
import subprocess
import time
import uuid

import pytest
from kombu import Connection, Exchange

from services.gateway.catalogue_cache import CatalogueCache, FactListener
from tests.support.infra import IsolatedInfra

pytestmark = pytest.mark.integration
PRODUCT = str(uuid.uuid4())


@pytest.fixture
def vhost():
    """A virtual host of its own: the test closes every connection on it."""
    isolated = IsolatedInfra()
    isolated.create_vhost()
    yield isolated.amqp_uri
    isolated.tear_down()


@pytest.fixture
def cache(vhost):
    listeners = []

    def start(cache):
        listeners.append(FactListener.started(cache, vhost))
        return listeners[-1]

    listening = CatalogueCache(1_000_000, 60.0, start_listener=start)
    listening.ensure_listener()
    yield listening
    listeners[0].stop()


def eventually(check, seconds=10):
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def listening(cache):
    return cache.stats()["listening"]


def keep_page(cache):
    assert cache.store("page", cache.begin(), b"{}", 200, "application/json", "tag", PRODUCT)


def publish(amqp_uri, exchange, routing_key, body):
    with Connection(amqp_uri) as connection:
        topic = Exchange(exchange, type="topic", durable=True)
        connection.Producer().publish(body, exchange=topic, routing_key=routing_key,
                                      declare=[topic], serializer="json")


def test_a_published_fact_drops_the_answers_it_names(vhost, cache):
    assert eventually(lambda: listening(cache))
    keep_page(cache)
    publish(vhost, "marketplace.events", "product.listed", {
        "event_type": "product.listed", "aggregate_type": "product",
        "aggregate_id": str(uuid.uuid4()), "payload": {}})
    assert eventually(lambda: cache.stats()["generation"] > 1)
    assert cache.lookup("page") is not None  # another product's fact

    publish(vhost, "marketplace.events", "product.changed", {
        "event_type": "product.changed", "aggregate_type": "product", "aggregate_id": PRODUCT,
        "payload": {"product_id": PRODUCT, "price_idr": 13500}})
    assert eventually(lambda: cache.lookup("page") is None)

    keep_page(cache)
    publish(vhost, "registry.events", "business.rejected", {
        "event_type": "business.rejected", "aggregate_type": "business",
        "aggregate_id": str(uuid.uuid4()), "payload": {}})
    assert eventually(lambda: cache.lookup("page") is None)


def test_a_closed_connection_bypasses_the_cache_until_the_listener_is_back(vhost, cache):
    assert eventually(lambda: listening(cache))
    keep_page(cache)
    vhost_name = vhost.rsplit("/", 1)[1]
    subprocess.run(["rabbitmqctl", "-q", "close_all_connections", "--vhost", vhost_name,
                    "catalogue cache test"], check=True, capture_output=True, timeout=60)

    assert eventually(lambda: not listening(cache), seconds=5)
    assert cache.begin() is None and cache.lookup("page") is None
    assert eventually(lambda: listening(cache))  # it reconnects by itself
    assert cache.lookup("page") is None  # facts may have been missed: nothing kept
