"""One JSON line per log record, each carrying the request id of the work it belongs to."""
import contextvars
import logging
import logging.config
import sys

from pythonjsonlogger.json import JsonFormatter

from backbone.config import env

request_id_var = contextvars.ContextVar("request_id", default=None)
service_var = contextvars.ContextVar("service", default=None)
_process_service = {"name": None}


class ContextFilter(logging.Filter):
    """Stamps every record with the current request id and the service name, and drops
    nameko's traceback for errors the user caused (a 404 is not an incident)."""

    def filter(self, record):
        if record.name == "nameko.containers" and _is_domain_error(record.exc_info):
            return False
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        if getattr(record, "service", None) is None:
            record.service = service_var.get() or _process_service["name"]
        return True


def _is_domain_error(exc_info):
    from backbone.errors import DomainError

    return bool(exc_info) and isinstance(exc_info[1], DomainError)


def json_formatter():
    return JsonFormatter(
        "%(levelname)s %(service)s %(name)s %(message)s %(request_id)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="ts",
    )


def logging_config(level=None):
    """A ``dictConfig`` mapping; nameko's ``LOGGING`` setting and gunicorn's use the same one."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"json": {"()": json_formatter}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": sys.stdout,
                "formatter": "json",
                "filters": ["context"],
            }
        },
        "root": {"level": level or env("LARIS_LOG_LEVEL"), "handlers": ["stdout"]},
        "loggers": {
            # kombu/amqp chatter drowns the service's own lines at INFO.
            "kombu": {"level": "WARNING"},
            "amqp": {"level": "WARNING"},
            "yoyo": {"level": "WARNING"},
        },
    }


def set_process_service(service_name):
    """The service named on log lines written outside any worker (relay, start-up)."""
    _process_service["name"] = service_name


def configure_logging(service_name, level=None):
    set_process_service(service_name)
    logging.config.dictConfig(logging_config(level))
