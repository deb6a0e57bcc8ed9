"""The system rides out a restart of the broker: the gateway's pooled RPC clients and the
registry's consumers reconnect by themselves.

It restarts the one broker every test session shares (a few seconds' outage for all of them),
once for the whole module, so it is marked ``broker_restart``: ``-m "not broker_restart"``
leaves it out of a run.
"""
import concurrent.futures
import socket
import threading

import pytest
from kombu import Connection, Exchange, Queue

from services.gateway.rpc import RpcPool
from tests.support.broker import restart_broker

pytestmark = pytest.mark.broker_restart

# Enough requests to reach every gateway worker (the test system runs 2) and put several
# pooled clients in each of them before the restart.
REQUESTS = 12
THREADS = 4


class EchoService:
    """A service on the test's virtual host that answers RPC ``echo.say`` the way nameko does,
    and notes every request that arrived while its caller's reply queue did not exist: its
    reply would be dropped and the caller would wait until its timeout."""

    def __init__(self, amqp_uri):
        self.amqp_uri = amqp_uri
        self.orphans = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve_until_stopped, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stopped.set()
        self._thread.join(10)

    def _serve_until_stopped(self):
        exchange = Exchange("nameko-rpc", type="topic", durable=True)
        queue = Queue("rpc-echo", exchange=exchange, routing_key="echo.*", durable=True)
        broker_errors = Connection(self.amqp_uri).connection_errors
        while not self._stopped.is_set():
            try:
                with Connection(self.amqp_uri) as connection:
                    self._serve(connection, queue, exchange)
            except broker_errors:
                self._stopped.wait(0.2)  # the broker is restarting

    def _serve(self, connection, queue, exchange):
        def answer(body, message):
            reply_to = message.properties["reply_to"]
            if not self._reply_queue_exists(connection, reply_to):
                self.orphans.append(reply_to)
            connection.Producer().publish(
                {"result": body["args"], "error": None}, exchange=exchange,
                routing_key=reply_to, correlation_id=message.properties["correlation_id"],
                serializer="json")
            message.ack()

        with connection.Consumer([queue], callbacks=[answer], accept=["json"]):
            while not self._stopped.is_set():
                try:
                    connection.drain_events(timeout=0.2)
                except socket.timeout:
                    pass

    @staticmethod
    def _reply_queue_exists(connection, reply_to):
        channel = connection.channel()
        try:
            channel.queue_declare(f"rpc.reply-standalone_rpc_proxy-{reply_to}", passive=True)
            return True
        except connection.channel_errors:
            return False
        finally:
            channel.close()


def gateway_statuses(api):
    with concurrent.futures.ThreadPoolExecutor(THREADS) as threads:
        return list(threads.map(lambda _: api.get("/export-rules").status_code, range(REQUESTS)))


def pool_answers(pool):
    with concurrent.futures.ThreadPoolExecutor(THREADS) as threads:
        return list(threads.map(lambda n: pool.call("echo", "say", n), range(REQUESTS)))


@pytest.fixture(scope="module")
def around_a_restart(system, infra, api):
    """What the gateway and a pool of our own answered before and after one broker restart."""
    with EchoService(infra.amqp_uri) as echo:
        pool = RpcPool(infra.amqp_uri, size=THREADS, timeout=4)
        before = {"gateway": gateway_statuses(api), "pool": pool_answers(pool)}

        restart_broker(infra.amqp_uri)
        system.wait_ready()  # the registry has reconnected: /readyz called it (own clients)
        after = {"gateway": gateway_statuses(api), "pool": pool_answers(pool)}
        pool.close()
    return before, after, echo.orphans


def test_the_gateway_answers_before_and_after_a_broker_restart(around_a_restart, system):
    before, after, _ = around_a_restart

    assert before["gateway"] == [200] * REQUESTS
    assert after["gateway"] == [200] * REQUESTS
    assert system.processes["registry"].running()


def test_pooled_clients_are_replaced_before_a_request_goes_out(around_a_restart):
    before, after, orphans = around_a_restart

    assert before["pool"] == [[n] for n in range(REQUESTS)]
    assert after["pool"] == [[n] for n in range(REQUESTS)]
    assert orphans == []  # no request went out from a client whose reply queue was gone
