"""The transactional outbox and its relay.

A service writes its state change and its events in one transaction (``Transaction.emit``).
The relay then publishes a batch of unsent rows on a channel in confirm mode, waits until the
broker confirmed (acked) every message of the batch, and marks sent only the acked rows: at
least once. A nacked or unconfirmed row stays unsent and is published again. Killed after the
confirms and before the mark, the relay publishes the rows again on restart; the consumers'
inbox makes that second copy harmless.

The relay wakes as soon as its own process commits an event, and polls as a safety net for
rows committed elsewhere or left by a crash. Rows are claimed with ``FOR UPDATE SKIP LOCKED``,
so several copies of a service never publish the same row at the same time.
"""
import json
import logging
import time
from functools import partial

import amqp
import psycopg2.extras
from kombu import Connection

from backbone import config
from backbone.faults import crash_point
from backbone.polling import WokenLoop

log = logging.getLogger(__name__)

# Longer than any healthy broker takes to confirm a batch; past it the rows stay unsent.
CONFIRM_TIMEOUT_SECONDS = 30.0

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
MARK_FAILED = """UPDATE outbox SET attempts = attempts + 1, last_error = %s
                  WHERE seq = ANY(%s)"""


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


class PublishNotConfirmed(Exception):
    """The broker did not confirm every message of a batch in time."""


class Confirms:
    """What the broker said about each message of one batch, by the caller's key."""

    def __init__(self):
        self.acked = []
        self.nacked = []


class ConfirmedPublisher:
    """A dedicated AMQP connection whose channel is in confirm mode: a batch is published in
    one go and then every delivery tag is awaited, instead of one round trip per message.

    Works on real threads and under eventlet alike (its socket is green once patched).
    """

    def __init__(self, amqp_uri, confirm_timeout=CONFIRM_TIMEOUT_SECONDS):
        self.amqp_uri = amqp_uri
        self.confirm_timeout = confirm_timeout
        self._connection = None
        self._channel = None
        self._next_tag = 0

    def publish_batch(self, messages, confirms):
        """Publish ``(key, exchange, routing_key, body, properties)`` tuples and return once
        each is acked or nacked, recording the keys in ``confirms`` as the broker answers (so
        a batch cut short by an error still tells which were acked)."""
        channel = self._open_channel()
        pending = {}

        def settle(outcome, delivery_tag, multiple):
            tags = [tag for tag in pending if tag <= delivery_tag] if multiple else [
                delivery_tag]
            outcome.extend(pending.pop(tag) for tag in tags if tag in pending)

        # Listening before publishing: a confirm may arrive while an exchange is declared.
        on_ack, on_nack = partial(settle, confirms.acked), partial(settle, confirms.nacked)
        channel.events["basic_ack"].add(on_ack)
        channel.events["basic_nack"].add(on_nack)
        try:
            self._publish_all(channel, messages, pending)
            self._wait_for(pending)
        except Exception:
            self.close()  # its delivery tags are no longer trustworthy: start afresh
            raise
        finally:
            channel.events["basic_ack"].discard(on_ack)
            channel.events["basic_nack"].discard(on_nack)

    def _publish_all(self, channel, messages, pending):
        declared = set()
        for key, exchange, routing_key, body, properties in messages:
            if exchange not in declared:
                channel.exchange_declare(exchange, "topic", durable=True, auto_delete=False)
                declared.add(exchange)
            channel.basic_publish(amqp.Message(body, **properties), exchange=exchange,
                                  routing_key=routing_key)
            self._next_tag += 1
            pending[self._next_tag] = key

    def _wait_for(self, pending):
        deadline = time.monotonic() + self.confirm_timeout
        while pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishNotConfirmed(
                    f"{len(pending)} message(s) unconfirmed after {self.confirm_timeout}s")
            self._connection.drain_events(timeout=remaining)

    def _open_channel(self):
        if self._channel is None:
            connection = Connection(self.amqp_uri)
            connection.connect()
            self._connection = connection
            self._channel = connection.connection.channel()
            self._channel.confirm_select()
            self._next_tag = 0  # the broker numbers a confirm channel's publishes from 1
        return self._channel

    def close(self):
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # already broken: nothing left to release
                log.debug("closing a broken relay connection", exc_info=True)
        self._connection = self._channel = None


class OutboxRelay(WokenLoop):
    description = "outbox relay"

    def __init__(self, postgres, amqp_uri, batch_size=100):
        super().__init__(config.env_float("LARIS_OUTBOX_POLL_SECONDS"))
        self.postgres = postgres
        self.batch_size = batch_size
        # Not mandatory: an event that no queue is bound for yet is normal (its consumers may
        # arrive later); the outbox row stays, for LARIS_OUTBOX_RETENTION_DAYS, as the record
        # that it happened.
        self.publisher = ConfirmedPublisher(amqp_uri)

    def step(self):
        return self.publish_pending() >= self.batch_size

    def run(self):
        super().run()
        self.publisher.close()

    def publish_pending(self):
        """Publish one batch of unsent rows; return how many the broker confirmed.

        The batch's rows stay locked until their marks commit, so no other relay publishes
        them meanwhile; a crash before that commit means they are published again.
        """
        confirms = Confirms()
        with self.postgres.pool.connection() as conn:
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
                cursor.execute(CLAIM_UNSENT, (self.batch_size,))
                rows = cursor.fetchall()
                try:
                    if rows:
                        crash_point("relay.before_publish")
                        self.publisher.publish_batch([_message(row) for row in rows], confirms)
                        crash_point("relay.after_confirm")
                except Exception as exc:
                    acked = set(confirms.acked)
                    unconfirmed = [row["seq"] for row in rows if row["seq"] not in acked]
                    cursor.execute(MARK_FAILED, (repr(exc)[:1000], unconfirmed))
                    raise
                finally:
                    cursor.execute(MARK_SENT, (confirms.acked,))
                    conn.commit()
                if confirms.nacked:
                    cursor.execute(MARK_FAILED, ("nacked by the broker", confirms.nacked))
                    conn.commit()
        _log_published(rows, set(confirms.acked))
        return len(confirms.acked)


def _message(row):
    """(key, exchange, routing key, body, properties) of an outbox row, as nameko's
    consumers expect it."""
    return (row["seq"], f"{row['source']}.events", row["event_type"],
            json.dumps(row["body"]).encode(), {
                "content_type": "application/json",
                "content_encoding": "utf-8",
                "delivery_mode": 2,  # persistent
                "message_id": str(row["event_id"]),
                # nameko puts headers prefixed "nameko." into the consuming worker's context.
                "application_headers": {"nameko.request_id": row["request_id"]},
            })


def _log_published(rows, acked):
    for row in rows:
        if row["seq"] in acked:
            log.info("event published", extra={
                "event_id": str(row["event_id"]), "event_type": row["event_type"],
                "request_id": row["request_id"]})
