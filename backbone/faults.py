"""Named crash points, so tests can kill a process exactly where a crash hurts most.

Set ``LARIS_CRASH_AT=<name>`` in a process's environment and it exits abruptly (no cleanup,
as ``kill -9`` would) the first time it reaches that point. Unset, a crash point costs one
dictionary lookup.
"""
import logging
import os

log = logging.getLogger(__name__)


def crash_point(name):
    if os.environ.get("LARIS_CRASH_AT") == name:
        log.critical("crashing on purpose at %s (LARIS_CRASH_AT)", name)
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(75)
