"""gunicorn settings for the gateway.

Worker class ``gthread`` on purpose: each request thread blocks on an RPC reply, and the RPC
client pool is thread-safe (one nameko client per thread at a time). gunicorn 27 has no
eventlet worker, and the gateway has no need of one.
"""
import glob
import os
import tempfile

from backbone.config import env, env_int
from backbone.logs import logging_config, set_process_service

set_process_service("gateway")

bind = f"{env('LARIS_HTTP_HOST')}:{env_int('LARIS_HTTP_PORT')}"
# gthread, answering its own parse errors (oversized request line or headers) as JSON.
worker_class = "services.gateway.gunicorn_worker.JsonErrorWorker"
workers = env_int("LARIS_GATEWAY_WORKERS")
threads = env_int("LARIS_GATEWAY_THREADS")
timeout = 30
graceful_timeout = 20
accesslog = None  # the app logs one JSON line per request itself
# gunicorn's own lines (start, worker boot, timeouts) in the same JSON as everything else.
logconfig_dict = logging_config()
logconfig_dict["loggers"]["gunicorn.error"] = {"level": "INFO", "handlers": ["stdout"],
                                               "propagate": False}
# The control socket (gunicornc) is not used; several gateways on one host would share it.
control_socket_disable = True

# Metrics from every worker process are summed at /metrics.
_metrics_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="laris-gateway-metrics-"))


def on_starting(server):
    """Counters of a previous run's workers would otherwise be summed into this run's."""
    os.makedirs(_metrics_dir, exist_ok=True)
    for stale in glob.glob(os.path.join(_metrics_dir, "*.db")):
        os.remove(stale)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
