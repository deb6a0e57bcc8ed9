"""The transactional outbox and its relay.

A service writes its state change and its events in one transaction (``Transaction.emit``).
The relay then publishes each unsent row with publisher confirms and marks it sent only after
the broker confirmed: at least once. Killed after the confirm and before the mark, it
publishes the row again on restart; the consumers' inbox makes that second copy harmless.

The relay wakes as soon as its own process commits an event, and polls as a safety net for
rows committed elsewhere or left by a crash. Rows are claimed with ``FOR UPDATE SKIP LOCKED``,
so several copies of a service never publish the same row at the same time.
"""
import logging
import threading

import psycopg2.extras
from nameko.amqp.publish import Publisher
from nameko.constants import PERSISTENT
from nameko.standalone.events import get_event_exchange

from backbone import config
from backbone.faults import crash_point

log = logging.getLogger(__name__)

CLAIM_UNSENT = """
    SELECT seq, event_id, event_type, source, body, request_id
      FROM outbox
     WHERE published_at IS NULL
     ORDER BY seq
     LIMIT %s
       FOR UPDATE SKIP LOCKED
"""
MARK_SENT = """UPDATE outbox SET published_at = now(), attempts = attempts + 1
                WHERE seq = ANY(%s)"""
MARK_FAILED = "UPDATE outbox SET attempts = attempts + 1, last_error = %s WHERE seq = %s"


def store(tx, event):
    """Add an event to the outbox inside the caller's transaction."""
    tx.execute(
        "INSERT INTO outbox (event_id, event_type, version, source, body, request_id)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (event.event_id, event.event_type, event.version, event.source,
         psycopg2.extras.Json(event.to_message()), event.request_id),
    )


def purge_sent(tx, older_than_days):
    tx.execute("DELETE FROM outbox WHERE published_at < now() - make_interval(days => %s)",
               (older_than_days,))


def pending_count(tx):
    return tx.one("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")["n"]


class OutboxRelay:
    def __init__(self, postgres, amqp_uri, batch_size=100):
        self.postgres = postgres
        self.batch_size = batch_size
        self.poll_seconds = config.env_float("LARIS_OUTBOX_POLL_SECONDS")
        # Not mandatory: an event that no queue is bound for yet is normal (its consumers may
        # arrive later); the outbox row stays, for LARIS_OUTBOX_RETENTION_DAYS, as the record
        # that it happened.
        self.publisher = Publisher(amqp_uri, use_confirms=True, delivery_mode=PERSISTENT,
                                   serializer="json", mandatory=False)
        self._wakeup = threading.Event()
        self._stopped = threading.Event()

    def wake(self):
        self._wakeup.set()

    def stop(self):
        self._stopped.set()
        self._wakeup.set()

    def run(self):
        failures = 0
        while not self._stopped.is_set():
            self._wakeup.clear()
            try:
                published = self.publish_pending()
                failures = 0
            except Exception:
                failures += 1
                delay = min(30.0, self.poll_seconds * 2 ** failures)
                log.exception("outbox relay failed; retrying in %.1fs", delay)
                # New commits must not cut the pause short while the broker is away.
                self._stopped.wait(delay)
                continue
            if published < self.batch_size:
                self._wakeup.wait(self.poll_seconds)

    def publish_pending(self):
        """Publish one batch of unsent rows; return how many were confirmed.

        The batch's rows stay locked until their marks commit, so no other relay publishes
        them meanwhile; a crash before that commit means they are published again.
        """
        confirmed = []
        with self.postgres.pool.connection() as conn:
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
                cursor.execute(CLAIM_UNSENT, (self.batch_size,))
                try:
                    for row in cursor.fetchall():
                        crash_point("relay.before_publish")
                        self._publish_or_record_failure(cursor, row)
                        crash_point("relay.after_confirm")
                        confirmed.append(row["seq"])
                finally:
                    cursor.execute(MARK_SENT, (confirmed,))
                    conn.commit()
        return len(confirmed)

    def _publish_or_record_failure(self, cursor, row):
        try:
            self._publish(row)
        except Exception as exc:
            cursor.execute(MARK_FAILED, (repr(exc)[:1000], row["seq"]))
            raise

    def _publish(self, row):
        exchange = get_event_exchange(row["source"], {})
        self.publisher.publish(
            row["body"],
            exchange=exchange,
            routing_key=row["event_type"],
            declare=[exchange],
            message_id=str(row["event_id"]),
            # nameko puts headers prefixed "nameko." into the consuming worker's context.
            headers={"nameko.request_id": row["request_id"]},
        )
        log.info("event published", extra={
            "event_id": str(row["event_id"]), "event_type": row["event_type"],
            "request_id": row["request_id"]})
