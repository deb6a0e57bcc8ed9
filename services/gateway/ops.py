"""Operations routes at the root: liveness, readiness and metrics."""
import ipaddress
import logging
import os

from flask import Blueprint, current_app, g, jsonify, request
from kombu import Connection

from backbone import config
from backbone.errors import BackendUnavailable
from services.gateway import observability
from services.gateway.errors import error_response
from services.gateway.rpc import ServiceUnavailable

log = logging.getLogger(__name__)
blp = Blueprint("ops", __name__)

@blp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@blp.get("/readyz")
def readyz():
    """Each check is "ok", "down" or "unknown": the reason goes to the log, never to the
    client, since a driver's message names hosts and database users."""
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
        log.warning("readiness: the broker is down", extra={"reason": repr(exc)})
        return "down"


def _check_service(service):
    try:
        health = current_app.extensions["health_rpc"].call(service, "health",
                                                           request_id=g.get("request_id"))
    except ServiceUnavailable as exc:
        log.warning("readiness: %s is down", service, extra={"reason": str(exc)})
        return {service: "down", f"{service}.database": "unknown"}
    except BackendUnavailable as exc:
        log.warning("readiness: %s's database is down", service, extra={"reason": str(exc)})
        return {service: "ok", f"{service}.database": "down"}
    database = health.get("database")
    return {service: "ok", f"{service}.database": "unknown" if database is None
            else "ok" if database == "ok" else "down"}


def allowed_networks(setting):
    """``LARIS_METRICS_ALLOW``: comma-separated addresses or CIDRs. A bad entry fails start-up."""
    try:
        return tuple(ipaddress.ip_network(entry.strip(), strict=False)
                     for entry in setting.split(",") if entry.strip())
    except ValueError as exc:
        raise ValueError(f"LARIS_METRICS_ALLOW: {exc}") from None


def client_allowed(address, networks):
    try:
        client = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    # A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d.
    client = getattr(client, "ipv4_mapped", None) or client
    return any(client in network for network in networks)


@blp.get("/metrics")
def metrics():
    if not client_allowed(request.remote_addr, current_app.config["METRICS_ALLOW"]):
        return error_response("forbidden", "Metrics are served only to the addresses in "
                                           "LARIS_METRICS_ALLOW.")
    body, content_type = observability.metrics_text(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    return body, 200, {"Content-Type": content_type}
