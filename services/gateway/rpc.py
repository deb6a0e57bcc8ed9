"""A pool of RPC clients for the gateway's threads.

One client is not thread-safe, so each request thread borrows its own. A client holds two
broker connections of its own: nameko's reply listener (its reply queue) and a publishing
connection with publisher confirms. Neither is shared, so the pool can tell when one died:

- Before a call, an idle client whose connection the broker closed (a broker restart) is
  thrown away and replaced, so the request goes out on a fresh client instead of waiting on a
  dead socket (and a reply queue the restart deleted) for a reply that can never come.
- A client whose call timed out or lost its connection is thrown away too, and that call is
  not retried: its request may have reached the service, and a command must never run twice.
"""
import contextlib
import logging
import queue
import select
import threading
import uuid

from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu import Connection
from kombu.exceptions import ChannelError
from kombu.exceptions import OperationalError as KombuOperationalError
from nameko.constants import PERSISTENT
from nameko.exceptions import RpcTimeout, UnknownService
# HeaderEncoder through nameko.rpc: the module eventlet's import warning is filtered for.
from nameko.rpc import HeaderEncoder, RpcReply, get_rpc_exchange
from nameko.standalone.rpc import ClusterRpcProxy

log = logging.getLogger(__name__)


class ServiceUnavailable(Exception):
    """A backing service (or the broker) did not answer; the client may retry later."""

    def __init__(self, service, reason):
        super().__init__(f"{service} is unavailable: {reason}")
        self.service = service


_BROKEN_CLIENT_ERRORS = (RpcTimeout, UnknownService, KombuOperationalError, AmqpConnectionError,
                         ConnectionError, OSError)


def _closed_by_broker(connection):
    """True when the broker has closed ``connection``, or is closing it.

    The clients run without heartbeats and throw away any client that timed out, so an idle
    connection never has anything to read but the broker's close or an end of file: a
    readable socket, looked at without waiting, is a dead connection.
    """
    if not connection.connected:
        return True
    poller = select.poll()
    poller.register(connection.connection.sock, select.POLLIN)
    return bool(poller.poll(0))


class _Client:
    def __init__(self, amqp_uri, timeout):
        self.context = {}
        self._timeout = timeout
        self._headers = HeaderEncoder()
        self._listener = ClusterRpcProxy({"AMQP_URI": amqp_uri}, context_data=self.context,
                                         timeout=timeout)
        self._publishing = Connection(amqp_uri, transport_options={"confirm_publish": True})
        try:
            self._listener.start()
            self._publishing.connect()
            self._producer = self._publishing.Producer(serializer="json")
        except Exception:
            self.stop()
            raise

    @property
    def _reply_listener(self):
        return self._listener._reply_listener

    def closed_by_broker(self):
        return any(_closed_by_broker(connection) for connection in (
            self._reply_listener.queue_consumer.connection, self._publishing))

    def call(self, service, method, args, kwargs):
        """The request expires in the queue when its caller gives up: a request the gateway
        stopped waiting for (and answered 503) must not run later, when the service is back."""
        correlation_id = str(uuid.uuid4())
        reply = RpcReply(self._reply_listener.get_reply_event(correlation_id))
        try:
            self._producer.publish(
                {"args": args, "kwargs": kwargs}, exchange=get_rpc_exchange({}),
                routing_key=f"{service}.{method}", mandatory=True,
                reply_to=self._reply_listener.routing_key, correlation_id=correlation_id,
                headers=self._headers.get_message_headers(self._listener._worker_ctx),
                expiration=self._timeout, delivery_mode=PERSISTENT, retry=False)
        except ChannelError as exc:
            if "NO_ROUTE" in str(exc):
                raise UnknownService(service) from exc
            raise
        return reply.result()

    def stop(self):
        for stop in (self._listener.stop, self._publishing.release):
            try:
                stop()
            except Exception:
                log.debug("stopping a broken RPC client failed", exc_info=True)


class RpcPool:
    def __init__(self, amqp_uri, size, timeout):
        self._amqp_uri = amqp_uri
        self._timeout = timeout
        self._idle = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)

    def call(self, service, method, *args, request_id=None, **kwargs):
        with self._client(service) as client:
            client.context.clear()
            if request_id:
                client.context["request_id"] = request_id
            return client.call(service, method, args, kwargs)

    @contextlib.contextmanager
    def _client(self, service):
        if not self._slots.acquire(timeout=self._timeout):
            raise ServiceUnavailable(service, "the gateway is saturated")
        client = None
        try:
            client = self._checkout()
            yield client
        except _BROKEN_CLIENT_ERRORS as exc:
            if client is not None:
                client.stop()
                client = None
            raise ServiceUnavailable(service, type(exc).__name__) from exc
        finally:
            if client is not None:
                self._idle.put(client)
            self._slots.release()

    def _checkout(self):
        """An idle client whose connection is still open, else a new one."""
        while True:
            try:
                client = self._idle.get_nowait()
            except queue.Empty:
                return _Client(self._amqp_uri, self._timeout)
            if not client.closed_by_broker():
                return client
            log.info("RPC client replaced: the broker closed its connection")
            client.stop()

    def close(self):
        while True:
            try:
                self._idle.get_nowait().stop()
            except queue.Empty:
                return


def call(service, method, *args, **kwargs):
    """Call a service for the current HTTP request, carrying its request id."""
    from flask import current_app, g

    return current_app.extensions["rpc"].call(service, method, *args,
                                              request_id=g.get("request_id"), **kwargs)
