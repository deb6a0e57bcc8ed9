"""Idempotent event consumers: the inbox, retries, and the dead-letter queues.

``@consumes("registry", "business.verified")`` declares a handler; ``@consumes("registry",
["business.registered", "business.verified"])`` or ``@consumes("registry", "business.*")``
(AMQP topic patterns) subscribes one handler, with one queue, to several event types. Before
the handler runs, the message is checked against its event contract and the handler's
subscriptions and contract versions; the handler receives an ``Event``. A message that is not
a valid event, that no handler of the service takes, or whose handler keeps failing, is
published to the dead-letter exchange with the reason in its headers and acknowledged: never
an endless requeue loop, never silently dropped. A handler that fails is retried with a
growing pause, up to ``LARIS_CONSUMER_MAX_ATTEMPTS`` times, each retry a new copy carrying its
attempt count; while the service's database is unreachable the event waits (at most 30 s
between tries) without spending those attempts.

The handler makes its effect through ``self.db.apply_once(event, effect)``, which writes the
inbox row (event id, handler) in the effect's own transaction, or, for a read model fed by
versioned facts, ``self.db.apply_if_newer(event, effect)``.
"""
import logging
from functools import partial

import eventlet
from kombu import Exchange, Queue, binding
from nameko.amqp.publish import Publisher, get_connection
from nameko.constants import PERSISTENT
from nameko.exceptions import ContainerBeingKilled
from nameko.events import SERVICE_POOL, EventHandler
from nameko.messaging import QueueConsumer
from nameko.standalone.events import get_event_exchange

from backbone import clock, config
from backbone.contracts import InvalidEvent, event_from_message
from backbone.errors import is_outage

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


def advance_version(tx, event, handler):
    """Record ``event``'s aggregate version for ``handler`` if it is newer than the stored one;
    False when an equal or newer version was applied already. The row stays locked until the
    transaction ends, so racing consumers of one aggregate take turns."""
    row = tx.one(
        """INSERT INTO aggregate_versions (handler, aggregate_type, aggregate_id, version,
                                          event_id)
           VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (handler, aggregate_type, aggregate_id) DO UPDATE
              SET version = EXCLUDED.version, event_id = EXCLUDED.event_id,
                  applied_at = now()
            WHERE aggregate_versions.version < EXCLUDED.version
        RETURNING version""",
        (handler, event.aggregate_type, event.aggregate_id, event.aggregate_version,
         event.event_id),
    )
    return row is not None


def applied_version(tx, event, handler):
    row = tx.one("SELECT version FROM aggregate_versions WHERE handler = %s"
                 " AND aggregate_type = %s AND aggregate_id = %s",
                 (handler, event.aggregate_type, event.aggregate_id))
    return row and row["version"]


def topic_matches(pattern, routing_key):
    """AMQP topic matching: ``*`` is exactly one dot-separated word, ``#`` zero or more."""
    return _words_match(pattern.split("."), routing_key.split("."))


def _words_match(patterns, words):
    if not patterns:
        return not words
    head, rest = patterns[0], patterns[1:]
    if head == "#":
        return any(_words_match(rest, words[skip:]) for skip in range(len(words) + 1))
    return bool(words) and head in ("*", words[0]) and _words_match(rest, words[1:])


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
    """``event_types`` is one event type, a list of them, or AMQP topic patterns
    (``business.*``): one durable queue, one binding each. ``version`` (or ``versions``) is
    the contract version(s) the handler was written for. While a producer publishes two
    versions side by side (same routing key), each handler takes its own and acknowledges the
    other; a version that no handler of the service takes is dead-lettered (parked) until one
    exists."""

    queue_consumer = DeadLetteringQueueConsumer()

    def __init__(self, source_service, event_types, version=None, versions=None, **kwargs):
        if version is not None and versions is not None:
            raise TypeError("give version or versions, not both")
        self.subscriptions = ((event_types,) if isinstance(event_types, str)
                              else tuple(event_types))
        if not self.subscriptions:
            raise TypeError("a handler subscribes to at least one event type")
        self.versions = frozenset(versions or (version or 1,))
        super().__init__(source_service, ",".join(self.subscriptions),
                         handler_type=SERVICE_POOL, reliable_delivery=True,
                         requeue_on_error=False, **kwargs)

    def takes(self, event_type):
        return any(topic_matches(pattern, event_type) for pattern in self.subscriptions)

    @property
    def queue_name(self):
        # One exact type keeps the name nameko gave it (existing queues keep their messages);
        # several types or a pattern are named after the handler alone.
        handler = f"{self.container.service_name}.{self.method_name}"
        if len(self.subscriptions) == 1 and not set("*#") & set(self.subscriptions[0]):
            return f"evt-{self.source_service}-{self.subscriptions[0]}--{handler}"
        return f"evt-{self.source_service}--{handler}"

    def setup(self):
        exchange = get_event_exchange(self.source_service, self.container.config)
        # Anything the broker itself rejects also lands in this handler's dead-letter queue.
        self.queue = Queue(
            self.queue_name, durable=True,
            bindings=[binding(exchange, routing_key=pattern) for pattern in self.subscriptions],
            queue_arguments={
                "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name,
                "x-dead-letter-routing-key": self.queue_name,
            })
        self.amqp_uri = config.amqp_uri()
        self.max_attempts = config.env_int("LARIS_CONSUMER_MAX_ATTEMPTS")
        self.retry_seconds = config.env_float("LARIS_CONSUMER_RETRY_SECONDS")
        with get_connection(self.amqp_uri) as connection:
            dead_letter_queue(self.queue.name)(connection).declare()
        # nameko's Consumer.setup: register with the shared queue consumer (EventHandler.setup
        # would build a queue of one routing key).
        super(EventHandler, self).setup()

    def handle_message(self, body, message):
        try:
            event = self._event_for_this_handler(body)
        except InvalidEvent as exc:
            self.dead_letter(message, str(exc))
            self.queue_consumer.ack_message(message)
            return
        if event.version not in self.versions:
            self._leave_or_park(event, message)
            return
        context_data = self.unpack_message_headers(message)
        context_data["request_id"] = context_data.get("request_id") or event.request_id
        try:
            self.container.spawn_worker(
                self, (event,), {}, context_data=context_data,
                handle_result=partial(self.handle_result, message))
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def _event_for_this_handler(self, body):
        event = event_from_message(body)
        if not self.takes(event.event_type):
            raise InvalidEvent(f"{event.event_type} matches none of this handler's"
                               f" subscriptions ({', '.join(self.subscriptions)})")
        return event

    def _leave_or_park(self, event, message):
        """Another contract version than this handler's: acknowledged when a handler of the
        service takes it from its own queue, dead-lettered otherwise, so that it waits for a
        handler instead of being lost."""
        if any(handler.source_service == self.source_service and handler.takes(
                event.event_type) and event.version in handler.versions
               for handler in self._siblings()):
            log.info("event of another contract version left to its own handler", extra={
                "queue": self.queue.name, "event_id": str(event.event_id),
                "version": event.version, "handles_versions": sorted(self.versions)})
        else:
            self.dead_letter(message, f"no handler for {event.event_type} v{event.version}"
                                      f" in {self.container.service_name}")
        self.queue_consumer.ack_message(message)

    def _siblings(self):
        return [entrypoint for entrypoint in self.container.entrypoints
                if isinstance(entrypoint, InboxEventHandler) and entrypoint is not self]

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return
        error = exc_info[1]
        headers = message.headers or {}
        if is_outage(error):
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
            "x-laris-dead-at": clock.now().isoformat(),
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
