"""One logging configuration (backbone.logs) for every process, JSON for machines and text for
a person at a terminal; services start through backbone.runner, which uses it."""
import io
import json
import logging
import os
import sys

import pytest

from backbone import config
from backbone.logs import TextFormatter, json_formatter, log_format, logging_config
from backbone.runner import nameko_config
from tests.support.system import procfile


@pytest.fixture
def terminal():
    leader, follower = os.openpty()
    with open(follower, "w") as stream:
        yield stream
    os.close(leader)


@pytest.fixture
def pipe():
    return io.StringIO()


def test_auto_is_text_on_a_terminal_and_json_elsewhere(monkeypatch, terminal, pipe):
    monkeypatch.delenv("LARIS_LOG_FORMAT", raising=False)

    assert log_format(terminal) == "text"
    assert log_format(pipe) == "json"


@pytest.mark.parametrize("chosen", ["json", "text", "TEXT"])
def test_an_explicit_format_wins_over_the_terminal(monkeypatch, terminal, pipe, chosen):
    monkeypatch.setenv("LARIS_LOG_FORMAT", chosen)

    assert log_format(terminal) == log_format(pipe) == chosen.lower()


def test_an_unknown_format_is_refused(monkeypatch):
    monkeypatch.setenv("LARIS_LOG_FORMAT", "yaml")

    with pytest.raises(ValueError, match="LARIS_LOG_FORMAT"):
        log_format()


def test_the_logging_configuration_follows_the_setting(monkeypatch):
    monkeypatch.setenv("LARIS_LOG_FORMAT", "text")
    assert logging_config()["handlers"]["stdout"]["formatter"] == "text"

    monkeypatch.setenv("LARIS_LOG_FORMAT", "json")
    assert logging_config()["handlers"]["stdout"]["formatter"] == "json"


def formatted(record_fields, exc_info=None):
    record = logging.makeLogRecord({
        "name": "laris.worker", "levelname": "INFO", "levelno": logging.INFO,
        "msg": "worker finished", "created": 1_700_000_000.25, "exc_info": exc_info,
        "request_id": None, **record_fields})
    return TextFormatter().format(record)


def test_a_text_line_has_time_level_service_message_request_id_and_extras():
    line = formatted({"service": "registry", "request_id": "try-it-002",
                      "entrypoint": "decide_verification", "duration_ms": 12.5,
                      "error": "name taken", "fields": {"nib": ["bad"]}})

    # 1_700_000_000.25 is 22:13:20.250 UTC, 05:13:20.250 WIB.
    assert line == ('05:13:20.250  INFO     registry  worker finished  req=try-it-002 '
                    'entrypoint=decide_verification duration_ms=12.5 error="name taken" '
                    'fields={"nib": ["bad"]}')


def test_a_text_line_without_request_shows_no_empty_fields():
    line = formatted({"service": "gateway"})

    assert line == "05:13:20.250  INFO     gateway  worker finished"


def test_a_text_line_carries_the_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        line = formatted({"service": "gateway"}, exc_info=sys.exc_info())

    assert line.splitlines()[0] == "05:13:20.250  INFO     gateway  worker finished"
    assert "RuntimeError: boom" in line


def test_json_lines_keep_their_fields():
    record = logging.makeLogRecord({"name": "x", "levelname": "INFO", "msg": "hello",
                                    "request_id": "r-1", "service": "registry", "n": 1})

    assert json.loads(json_formatter().format(record)) | {"ts": None} == {
        "level": "INFO", "service": "registry", "logger": "x", "message": "hello",
        "request_id": "r-1", "n": 1, "ts": None}


def test_the_nameko_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("LARIS_AMQP_URI", "amqp://u:p@broker:5672/laris")
    monkeypatch.setenv("LARIS_MAX_WORKERS", "4")

    settings = nameko_config()

    assert settings["AMQP_URI"] == "amqp://u:p@broker:5672/laris"
    assert settings["max_workers"] == 4
    assert settings["HEARTBEAT"] == 30
    assert "LOGGING" not in settings


def test_every_service_starts_through_the_runner():
    commands = procfile()

    for service in config.SERVICES:
        assert commands[service] == f"python -m backbone.runner services.{service}.service"
