"""Notify's delivery worker as a process of its own (the Procfile's ``notify-deliveries``):

    python -m services.notify.deliveries

Sending e-mail and calling webhooks takes CPU and waits on slow receivers; in a process of its
own that never takes the turn of the consumers that write the inbox (under nameko's eventlet
they would share one thread). Plain threads here, no eventlet.

It is woken by PostgreSQL: whatever queues a delivery (the consumers, the reminders' timer,
an admin's retry) runs ``NOTIFY laris_deliveries`` in its transaction, delivered when it
commits, and this process ``LISTEN``s; it also polls every ``LARIS_DELIVERY_POLL_SECONDS`` in
case a notification was missed (a reconnect). Any number of copies may run: they claim with
``SKIP LOCKED``. SIGTERM (or Ctrl-C) stops claiming and lets the sends in flight finish.
"""
import logging
import select
import signal
import threading

import psycopg2

from backbone import config
from backbone.db import Postgres
from backbone.logs import configure_logging
from services.notify import channels, store
from services.notify.worker import DeliveryWorker, WorkerSettings

log = logging.getLogger(__name__)
SERVICE = "notify"
RECONNECT_SECONDS = 5.0
# Claims and outcomes are short transactions (the sends hold no connection): a few
# connections serve every send in flight, and spare the server's connection slots.
DATABASE_CONNECTIONS = 4


def listen_for_work(dsn, worker, stopped, poll_seconds):
    """Wakes ``worker`` whenever a transaction that queued a delivery commits."""
    while not stopped.is_set():
        connection = None
        try:
            connection = psycopg2.connect(dsn)
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f"LISTEN {store.DELIVERIES_CHANNEL}")
            worker.wake()  # whatever was queued while nobody listened
            while not stopped.is_set():
                if select.select([connection], [], [], poll_seconds)[0]:
                    connection.poll()
                    if connection.notifies:
                        connection.notifies.clear()
                        worker.wake()
        except psycopg2.Error:
            log.exception("listening for deliveries failed; reconnecting in %ss",
                          RECONNECT_SECONDS)
            stopped.wait(RECONNECT_SECONDS)
        finally:
            if connection is not None:
                connection.close()


def main():
    configure_logging(f"{SERVICE}-deliveries")
    dsn = config.database_url(SERVICE)
    settings = WorkerSettings.from_env()
    postgres = Postgres(dsn, source=SERVICE, pool_size=DATABASE_CONNECTIONS)
    worker = DeliveryWorker(postgres, channels.available(), settings)
    stopped = threading.Event()

    def stop(signum, frame):
        log.info("stopping deliveries", extra={"signal": signum})
        stopped.set()
        worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=listen_for_work, args=(dsn, worker, stopped,
                                                   settings.poll_seconds),
                     daemon=True, name="deliveries-listener").start()
    log.info("deliveries started", extra={"channels": sorted(worker.channels)})
    worker.run()
    worker.wait_for_sends(timeout=settings.lease_seconds)
    postgres.close()


if __name__ == "__main__":
    main()
