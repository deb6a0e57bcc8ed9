"""Idempotent event consumers: the inbox, retries, and the dead-letter queues.

``@consumes("registry", "business.verified")`` declares a handler. Before the handler runs, the
message is checked against its event contract; the handler receives an ``Event``. A message
that is not a valid event, or whose handler keeps failing, is published to the dead-letter
exchange with the reason in its headers and acknowledged: never an endless requeue loop, never
silently dropped. A handler that fails is retried with a growing pause, up to
``LARIS_CONSUMER_MAX_ATTEMPTS`` times, each retry a new copy carrying its attempt count; while
the service's database is unreachable the event waits (at most 30 s between tries) without
spending those attempts.

The handler makes its effect through ``self.db.apply_once(event, effect)``, which writes the
inbox row (event id, handler) in the effect's own transaction.
"""
import datetime as dt
import logging
from functools import partial

import eventlet
from kombu import Exchange, Queue
from nameko.amqp.publish import Publisher, get_connection
from nameko.constants import PERSISTENT
from nameko.exceptions import ContainerBeingKilled
from nameko.events import SERVICE_POOL, EventHandler
from nameko.messaging import QueueConsumer

from backbone import config
from backbone.contracts import InvalidEvent, event_from_message
from backbone.errors import BackendUnavailable

log = logging.getLogger(__name__)

DEAD_LETTER_EXCHANGE = Exchange("laris.dead-letter", type="direct", durable=True)
ATTEMPTS_HEADER = "x-laris-attempts"
OUTAGE_WAITS_HEADER = "x-laris-outage-waits"
MAX_OUTAGE_WAIT_SECONDS = 30.0
REASON_HEADER = "x-laris-dead-reason"


class PermanentFailure(Exception):
    """Raised by a handler for an event it can never handle: dead-lettered without retries."""


def claim(tx, event, handler):
    """Record that ``handler`` handles ``event``; False if it already did."""
    row = tx.one(
        "INSERT INTO inbox (event_id, handler, event_type) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        (event.event_id, handler, event.event_type),
    )
    return row is not None


def purge_handled(tx, older_than_days):
    """Forget old inbox rows. Keep them longer than any redelivery can come late: a copy
    arriving after its row is gone would be applied again."""
    tx.execute("DELETE FROM inbox WHERE handled_at < now() - make_interval(days => %s)",
               (older_than_days,))


def dead_letter_queue(queue_name):
    return Queue(f"dlq.{queue_name}", exchange=DEAD_LETTER_EXCHANGE, routing_key=queue_name,
                 durable=True)


def _republish(amqp_uri, message, headers, **target):
    """Publish a received message again, body untouched, with extra headers."""
    Publisher(amqp_uri, use_confirms=True, delivery_mode=PERSISTENT).publish(
        message.body,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        message_id=_message_id(message),
        headers={**(message.headers or {}), **headers},
        **target,
    )


class DeadLetteringQueueConsumer(QueueConsumer):
    """nameko's queue consumer, except that a body the broker cannot even decode is
    dead-lettered instead of killing the consumer (and with it the service)."""

    def get_consumers(self, consumer_cls, channel):
        consumers = super().get_consumers(consumer_cls, channel)
        for provider, consumer in self._consumers.items():
            consumer.on_decode_error = partial(self._on_decode_error, provider)
        return consumers

    def _on_decode_error(self, provider, message, exc):
        provider.dead_letter(message, f"undecodable body: {exc}")
        self.ack_message(message)


class InboxEventHandler(EventHandler):
    """``version`` is the contract version the handler was written for. While a producer
    publishes two versions side by side (same routing key), each handler takes its own and
    acknowledges the other."""

    queue_consumer = DeadLetteringQueueConsumer()

    def __init__(self, source_service, event_type, version=1, **kwargs):
        self.version = version
        super().__init__(source_service, event_type, handler_type=SERVICE_POOL,
                         reliable_delivery=True, requeue_on_error=False, **kwargs)

    def setup(self):
        super().setup()
        # Anything the broker itself rejects also lands in this handler's dead-letter queue.
        self.queue = Queue(
            self.queue.name, exchange=self.queue.exchange, routing_key=self.queue.routing_key,
            durable=True, queue_arguments={
                "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name,
                "x-dead-letter-routing-key": self.queue.name,
            })
        self.amqp_uri = config.amqp_uri()
        self.max_attempts = config.env_int("LARIS_CONSUMER_MAX_ATTEMPTS")
        self.retry_seconds = config.env_float("LARIS_CONSUMER_RETRY_SECONDS")
        with get_connection(self.amqp_uri) as connection:
            dead_letter_queue(self.queue.name)(connection).declare()

    def handle_message(self, body, message):
        try:
            event = event_from_message(body)
            if event.event_type != self.event_type:
                raise InvalidEvent(f"expected {self.event_type}, got {event.event_type}")
        except InvalidEvent as exc:
            self.dead_letter(message, str(exc))
            self.queue_consumer.ack_message(message)
            return
        if event.version != self.version:
            log.info("event of another contract version left to its own handler", extra={
                "queue": self.queue.name, "event_id": str(event.event_id),
                "version": event.version, "handles_version": self.version})
            self.queue_consumer.ack_message(message)
            return
        context_data = self.unpack_message_headers(message)
        context_data["request_id"] = context_data.get("request_id") or event.request_id
        try:
            self.container.spawn_worker(
                self, (event,), {}, context_data=context_data,
                handle_result=partial(self.handle_result, message))
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return
        error = exc_info[1]
        headers = message.headers or {}
        if isinstance(error, BackendUnavailable):
            # The database is away, not the event at fault: wait for it without spending
            # the handler's attempts, so an outage does not fill the dead-letter queue.
            waits = int(headers.get(OUTAGE_WAITS_HEADER, 0)) + 1
            self._retry_later(message, {OUTAGE_WAITS_HEADER: waits}, error,
                              delay=min(MAX_OUTAGE_WAIT_SECONDS,
                                        self.retry_seconds * 2 ** (waits - 1)))
        else:
            attempt = int(headers.get(ATTEMPTS_HEADER, 0)) + 1
            if isinstance(error, PermanentFailure) or attempt >= self.max_attempts:
                self.dead_letter(message, f"{type(error).__name__}: {error}"
                                 f" (after {attempt} attempt{'s' if attempt > 1 else ''})")
            else:
                self._retry_later(message, {ATTEMPTS_HEADER: attempt}, error,
                                  delay=self.retry_seconds * 2 ** (attempt - 1))
        self.queue_consumer.ack_message(message)

    def dead_letter(self, message, reason):
        log.error("event dead-lettered", extra={
            "queue": self.queue.name, "reason": reason, "message_id": _message_id(message)})
        _republish(self.amqp_uri, message, {
            REASON_HEADER: reason[:2000],
            "x-laris-dead-at": dt.datetime.now(dt.timezone.utc).isoformat(),
            "x-laris-queue": self.queue.name,
        }, exchange=DEAD_LETTER_EXCHANGE, routing_key=self.queue.name,
            declare=[dead_letter_queue(self.queue.name)])

    def _retry_later(self, message, counters, error, delay):
        log.warning("event handler failed; retrying", extra={
            "queue": self.queue.name, **counters, "delay_seconds": delay,
            "error": repr(error), "message_id": _message_id(message)})
        eventlet.sleep(delay)
        _republish(self.amqp_uri, message, counters, exchange="", routing_key=self.queue.name)


def _message_id(message):
    return (message.properties or {}).get("message_id")


consumes = InboxEventHandler.decorator
