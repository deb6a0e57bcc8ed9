"""The request id and one log line per unit of work, for every nameko entrypoint.

The gateway puts the HTTP request's id in the RPC context; events carry it in their envelope
and headers. ``RequestContext`` makes it the current request id of the worker's log lines and
logs how each worker ended.
"""
import logging
import time
import uuid

from nameko.extensions import DependencyProvider

from backbone.errors import DomainError
from backbone.logs import request_id_var, service_var, set_process_service

log = logging.getLogger("laris.worker")


class RequestContext(DependencyProvider):
    def __init__(self):
        self._started = {}

    def setup(self):
        set_process_service(self.container.service_name)

    def worker_setup(self, worker_ctx):
        worker_ctx.data.setdefault("request_id", uuid.uuid4().hex)
        request_id_var.set(worker_ctx.data["request_id"])
        service_var.set(worker_ctx.service_name)
        self._started[worker_ctx] = time.monotonic()

    def get_dependency(self, worker_ctx):
        # nameko injects dependencies before any worker_setup runs.
        return worker_ctx.data.setdefault("request_id", uuid.uuid4().hex)

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(worker_ctx, time.monotonic())
        elapsed_ms = round((time.monotonic() - started) * 1000, 2)
        fields = {"entrypoint": worker_ctx.entrypoint.method_name, "duration_ms": elapsed_ms}
        if exc_info is None:
            log.info("worker finished", extra=fields | {"outcome": "ok"})
        elif isinstance(exc_info[1], DomainError):
            log.info("worker refused", extra=fields | {
                "outcome": exc_info[1].code, "error": exc_info[1].message})
        else:
            log.error("worker failed", exc_info=exc_info, extra=fields | {"outcome": "error"})
