"""Operations routes at the root: liveness, readiness and metrics."""
import os

from flask import Blueprint, current_app, g, jsonify
from kombu import Connection

from backbone import config
from backbone.errors import BackendUnavailable
from services.gateway import observability
from services.gateway.rpc import ServiceUnavailable

blp = Blueprint("ops", __name__)

@blp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@blp.get("/readyz")
def readyz():
    checks = {"broker": _check_broker()}
    for service in config.SERVICES:
        checks.update(_check_service(service))
    down = sorted(name for name, state in checks.items() if state != "ok")
    if not down:
        return jsonify({"status": "ready", "checks": checks})
    body = {"error": {"code": "service_unavailable",
                      "message": f"Not ready: {', '.join(down)} not answering."},
            "checks": checks}
    return jsonify(body), 503, {"Retry-After": "5"}


def _check_broker():
    try:
        with Connection(current_app.config["AMQP_URI"], connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
        return "ok"
    except Exception as exc:
        return f"down: {type(exc).__name__}"


def _check_service(service):
    try:
        health = current_app.extensions["health_rpc"].call(service, "health",
                                                           request_id=g.get("request_id"))
    except ServiceUnavailable as exc:
        return {service: f"down: {exc}", f"{service}.database": "unknown"}
    except BackendUnavailable as exc:
        return {service: "ok", f"{service}.database": f"down: {exc}"}
    return {service: "ok", f"{service}.database": health.get("database", "unknown")}


@blp.get("/metrics")
def metrics():
    body, content_type = observability.metrics_text(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    return body, 200, {"Content-Type": content_type}
