"""Request ids, one JSON log line per request, and Prometheus metrics for every route."""
import logging
import re
import time
import uuid

from flask import g, request
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram,
                               generate_latest, multiprocess)

from backbone.logs import request_id_var

log = logging.getLogger("laris.http")
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

REQUESTS = Counter("laris_http_requests_total", "HTTP requests handled by the gateway",
                   ["method", "route", "status"])
LATENCY = Histogram("laris_http_request_duration_seconds", "Gateway request latency",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def _begin():
    offered = request.headers.get("X-Request-ID", "")
    g.request_id = offered if _CLIENT_REQUEST_ID.match(offered) else uuid.uuid4().hex
    g.started = time.perf_counter()
    request_id_var.set(g.request_id)


def _finish(response):
    response.headers["X-Request-ID"] = g.get("request_id") or ""
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    route = request.url_rule.rule if request.url_rule else "unmatched"
    REQUESTS.labels(request.method, route, str(response.status_code)).inc()
    LATENCY.labels(request.method, route).observe(elapsed)
    log.info("request", extra={
        "method": request.method, "route": route, "path": request.path,
        "status": response.status_code, "duration_ms": round(elapsed * 1000, 2)})
    return response


def metrics_text(multiprocess_dir):
    """Across all gunicorn workers when they share a multiprocess directory."""
    if multiprocess_dir:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiprocess_dir)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def register(app):
    app.before_request(_begin)
    app.after_request(_finish)
