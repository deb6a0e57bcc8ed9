"""The one logging configuration of every Laris process: one line per record, each carrying
the service and the request id of the work it belongs to.

Lines are JSON for machines, or short text for a person at a terminal (``LARIS_LOG_FORMAT``:
``json``, ``text``, or ``auto``: text when stdout is a terminal).
"""
import contextvars
import datetime as dt
import json
import logging
import logging.config
import sys

from pythonjsonlogger.json import JsonFormatter

from backbone.clock import WIB
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


# Attributes every LogRecord has; whatever else a record carries came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {
    "message", "asctime", "request_id", "service", "taskName"}


class TextFormatter(logging.Formatter):
    """``16:41:43.382 INFO  registry  worker finished  req=try-it-002 entrypoint=x``: the
    time (WIB), level, service, message, request id, then the record's extra fields."""

    def format(self, record):
        fields = [f"req={record.request_id}"] if record.request_id else []
        fields += [f"{key}={_compact(value)}" for key, value in vars(record).items()
                   if key not in _RECORD_ATTRIBUTES and not key.startswith("_")]
        line = "  ".join(part for part in (
            self.formatTime(record), f"{record.levelname:<7}", record.service or "-",
            record.getMessage(), " ".join(fields)) if part)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line

    def formatTime(self, record, datefmt=None):
        return dt.datetime.fromtimestamp(record.created, WIB).strftime("%H:%M:%S.%f")[:-3]


def _compact(value):
    if isinstance(value, str) and value and " " not in value:
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


def log_format(stream=None):
    """``json`` or ``text``, from ``LARIS_LOG_FORMAT``; ``auto`` asks whether ``stream`` (stdout
    by default) is a terminal."""
    chosen = env("LARIS_LOG_FORMAT").lower()
    if chosen in ("json", "text"):
        return chosen
    if chosen != "auto":
        raise ValueError(f"LARIS_LOG_FORMAT must be json, text or auto, not {chosen!r}")
    return "text" if (stream or sys.stdout).isatty() else "json"


def logging_config(level=None):
    """A ``dictConfig`` mapping; every service process (backbone.runner), the gateway's
    gunicorn and the command-line tools use this one."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"json": {"()": json_formatter}, "text": {"()": TextFormatter}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": sys.stdout,
                "formatter": log_format(),
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
