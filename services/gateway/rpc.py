"""A pool of nameko RPC clients for the gateway's threads.

One ``ClusterRpcProxy`` is not thread-safe, so each request thread borrows its own. A client
whose call timed out or lost its connection is thrown away rather than reused: a late reply
or a dead socket must not leak into the next request.
"""
import contextlib
import logging
import queue
import socket
import threading

from kombu.exceptions import OperationalError as KombuOperationalError
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.rpc import ServiceProxy
from nameko.standalone.rpc import ClusterRpcProxy

log = logging.getLogger(__name__)


class ServiceUnavailable(Exception):
    """A backing service (or the broker) did not answer; the client may retry later."""

    def __init__(self, service, reason):
        super().__init__(f"{service} is unavailable: {reason}")
        self.service = service


_BROKEN_CLIENT_ERRORS = (RpcTimeout, UnknownService, KombuOperationalError, socket.error,
                         ConnectionError, OSError)


class _ExpiringClusterRpcProxy(ClusterRpcProxy):
    """A request the gateway stopped waiting for (and answered 503) must not run later, when
    the service comes back: each request expires in the queue when its caller gives up."""

    def service(self, name, expiration):
        return ServiceProxy(self._worker_ctx, name, self._reply_listener, expiration=expiration)


class _Client:
    def __init__(self, amqp_uri, timeout):
        self.context = {}
        self.timeout = timeout
        self._runner = _ExpiringClusterRpcProxy({"AMQP_URI": amqp_uri},
                                                context_data=self.context, timeout=timeout)
        self._runner.start()

    def method(self, service, method):
        return getattr(self._runner.service(service, expiration=self.timeout), method)

    def stop(self):
        try:
            self._runner.stop()
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
            return client.method(service, method)(*args, **kwargs)

    @contextlib.contextmanager
    def _client(self, service):
        if not self._slots.acquire(timeout=self._timeout):
            raise ServiceUnavailable(service, "the gateway is saturated")
        client = None
        try:
            client = self._checkout(service)
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

    def _checkout(self, service):
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return _Client(self._amqp_uri, self._timeout)

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
