"""Runs a nameko service as ``nameko run`` does, with Laris's one configuration:

    python -m backbone.runner services.registry.service

The nameko settings come from the environment through backbone.config, and the logging from
backbone.logs, so no process carries a configuration file of its own that could drift.
As under ``nameko run``: eventlet patches the process before anything else is imported,
SIGTERM stops taking work and lets running workers finish, Ctrl-C does the same.
"""
if __name__ == "__main__":
    import warnings

    with warnings.catch_warnings():
        # eventlet announces its own deprecation on import; nameko 2.14 needs it all the same.
        warnings.simplefilter("ignore")
        import eventlet

    eventlet.monkey_patch()  # first: every later import must get the green socket and threads

import argparse  # noqa: E402

from nameko.constants import (AMQP_URI_CONFIG_KEY, HEARTBEAT_CONFIG_KEY,  # noqa: E402
                              MAX_WORKERS_CONFIG_KEY, SERIALIZER_CONFIG_KEY)

from backbone import config  # noqa: E402
from backbone.logs import configure_logging  # noqa: E402

# Seconds between AMQP heartbeats: a broker that vanished without closing is noticed within
# two of them, and the service reconnects.
HEARTBEAT_SECONDS = 30


def nameko_config():
    return {
        AMQP_URI_CONFIG_KEY: config.amqp_uri(),
        MAX_WORKERS_CONFIG_KEY: config.env_int("LARIS_MAX_WORKERS"),
        HEARTBEAT_CONFIG_KEY: HEARTBEAT_SECONDS,
        SERIALIZER_CONFIG_KEY: "json",
        # Events must outlive a broker restart and a quiet hour: never auto-delete exchanges.
        "AUTO_DELETE_EVENT_EXCHANGES": False,
    }


def main(argv=None):
    from nameko.cli.run import import_service, run

    parser = argparse.ArgumentParser(description="Run a Laris nameko service.")
    parser.add_argument("module", help="the service's module, e.g. services.registry.service")
    args = parser.parse_args(argv)
    services = import_service(args.module)
    configure_logging(services[0].name)
    run(services, nameko_config())


if __name__ == "__main__":
    main()
