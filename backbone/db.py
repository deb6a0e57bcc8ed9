"""PostgreSQL for a service: a small bounded connection pool, transactions that roll back unless
they commit, events written to the outbox inside the same transaction, and the nameko
dependency that hands each worker its own handle.

Under ``nameko run`` eventlet has patched ``queue``/``threading`` and made psycopg2 green, so
the same pool serves greenthreads there and real threads in scripts and tests.
"""
import contextlib
import logging
import queue
import threading
import time

import psycopg2
import psycopg2.extensions
import psycopg2.extras
from nameko.extensions import DependencyProvider

from backbone import config, idempotency, inbox, outbox
from backbone.contracts import new_event
from backbone.errors import BackendUnavailable, classify_database_error

log = logging.getLogger(__name__)
psycopg2.extras.register_uuid()

# A connection idle longer than this is pinged before use: after a database restart the
# pool's sockets are dead, and a ping is cheaper than failing the user's request.
PING_AFTER_IDLE_SECONDS = 5.0
HOUSEKEEPING_EVERY_SECONDS = 600


class ConnectionPool:
    def __init__(self, dsn, size):
        self._dsn = dsn
        self._idle = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)

    @contextlib.contextmanager
    def connection(self, timeout=30.0):
        if not self._slots.acquire(timeout=timeout):
            raise BackendUnavailable("no free database connection within %ss" % timeout)
        conn = None
        try:
            conn = self._checkout()
            yield conn
        finally:
            if conn is not None:
                self._checkin(conn)
            self._slots.release()

    def close(self):
        while True:
            try:
                conn, _ = self._idle.get_nowait()
            except queue.Empty:
                return
            conn.close()

    def _checkout(self):
        while True:
            try:
                conn, idle_since = self._idle.get_nowait()
            except queue.Empty:
                return self._connect()
            if time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS or _alive(conn):
                return conn
            conn.close()

    def _connect(self):
        try:
            return psycopg2.connect(self._dsn)
        except psycopg2.OperationalError as exc:
            raise BackendUnavailable(str(exc).strip()) from exc

    def _checkin(self, conn):
        if conn.closed:
            return
        if conn.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            try:
                conn.rollback()
            except psycopg2.Error:
                conn.close()
                return
        self._idle.put((conn, time.monotonic()))


def _alive(conn):
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
        conn.rollback()
        return True
    except psycopg2.Error:
        return False


class Transaction:
    """One database transaction: SQL through a dict cursor, and events for the outbox."""

    def __init__(self, cursor, source, request_id):
        self.cursor = cursor
        self.source = source
        self.request_id = request_id
        self.events = []

    def execute(self, sql, params=None):
        self.cursor.execute(sql, params)
        return self.cursor.rowcount

    def one(self, sql, params=None):
        self.cursor.execute(sql, params)
        return self.cursor.fetchone()

    def all(self, sql, params=None):
        self.cursor.execute(sql, params)
        return self.cursor.fetchall()

    def emit(self, event_type, payload, version=None, aggregate=None):
        """Record an event as a fact of this transaction: it is published only if we commit.

        ``version`` is the payload's contract version (the latest by default); ``aggregate``
        is ``(aggregate_type, aggregate_id, aggregate_version)`` for a fact about one
        aggregate, whose payload is then the full snapshot a read model keeps.
        """
        event = new_event(event_type, payload, source=self.source,
                          request_id=self.request_id, version=version, aggregate=aggregate)
        outbox.store(self, event)
        self.events.append(event)
        return event


class Postgres:
    """A service's database, usable from nameko workers, scripts and tests alike."""

    def __init__(self, dsn, source, pool_size=None):
        self.source = source
        self.pool = ConnectionPool(dsn, pool_size or config.env_int("LARIS_DB_POOL_SIZE"))
        self.on_events_committed = None

    @contextlib.contextmanager
    def transaction(self, request_id=None):
        """Commit when the block ends normally; roll back on any exception.

        A database error leaves as what it means for the caller (``classify_database_error``):
        an outage as ``BackendUnavailable``, a refused request as a ``DomainError``.
        """
        try:
            with self.pool.connection() as conn:
                with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
                    tx = Transaction(cursor, self.source, request_id)
                    try:
                        yield tx
                        conn.commit()
                    except BaseException:
                        if not conn.closed:
                            conn.rollback()
                        raise
        except psycopg2.Error as exc:
            classified = classify_database_error(exc)
            if classified is None:
                raise
            raise classified from exc
        if tx.events and self.on_events_committed:
            self.on_events_committed()

    def apply_once(self, event, handler, effect, request_id=None):
        """Run ``effect(tx, event)`` unless ``handler`` already handled this event.

        The inbox row and the effect commit together, so a redelivered event, or two copies of
        a consumer racing on one event, change nothing the second time. Returns whether the
        effect ran.
        """
        with self.transaction(request_id=request_id or event.request_id) as tx:
            if not inbox.claim(tx, event, handler):
                log.info("duplicate event skipped", extra=_event_fields(event, handler))
                return False
            effect(tx, event)
            return True

    def apply_if_newer(self, event, handler, effect, request_id=None):
        """Run ``effect(tx, event)`` only for a new event that is newer than every fact
        ``handler`` applied about the same aggregate.

        For read models fed by snapshots: a late or redelivered older fact is skipped (and
        acknowledged), never applied over a newer one. The inbox row, the aggregate's version
        and the effect commit together; two consumers racing on one aggregate queue on its
        version row, so the highest version is the one left applied. Returns whether the
        effect ran.
        """
        if event.aggregate is None:
            raise inbox.PermanentFailure(
                f"{event.event_type} v{event.version} carries no aggregate version;"
                " apply_if_newer needs one (use apply_once)")
        with self.transaction(request_id=request_id or event.request_id) as tx:
            if not inbox.claim(tx, event, handler):
                log.info("duplicate event skipped", extra=_event_fields(event, handler))
                return False
            if not inbox.advance_version(tx, event, handler):
                log.info("older fact skipped", extra=_event_fields(event, handler) | {
                    "aggregate_version": event.aggregate_version,
                    "applied_version": inbox.applied_version(tx, event, handler)})
                return False
            effect(tx, event)
            return True

    def close(self):
        self.pool.close()


def _event_fields(event, handler):
    return {"event_id": str(event.event_id), "event_type": event.event_type,
            "handler": handler}


class WorkerDatabase:
    """What a nameko worker sees as ``self.db``: the service's database, bound to the
    request id and entrypoint of the work at hand."""

    def __init__(self, postgres, worker_ctx):
        self._postgres = postgres
        self._worker_ctx = worker_ctx

    @property
    def _request_id(self):
        return self._worker_ctx.data.get("request_id")

    def transaction(self):
        return self._postgres.transaction(request_id=self._request_id)

    @property
    def _handler(self):
        return "{}.{}".format(self._worker_ctx.service_name,
                              self._worker_ctx.entrypoint.method_name)

    def apply_once(self, event, effect):
        return self._postgres.apply_once(event, self._handler, effect, self._request_id)

    def apply_if_newer(self, event, effect):
        return self._postgres.apply_if_newer(event, self._handler, effect, self._request_id)


class Database(DependencyProvider):
    """The service's own PostgreSQL database, plus the relay that publishes its outbox.

    Declare it once on a service class: ``db = Database()``.
    """

    def __init__(self, relay=True):
        self.with_relay = relay
        self.postgres = None
        self.relay = None
        self._stopped = threading.Event()

    def setup(self):
        service = self.container.service_name
        self.postgres = Postgres(config.database_url(service), source=service)
        # LARIS_OUTBOX_RELAY=off pauses publishing (events wait in the outbox), e.g. to run the
        # relay elsewhere or while the broker is being repaired.
        if self.with_relay and config.env("LARIS_OUTBOX_RELAY") != "off":
            self.relay = outbox.OutboxRelay(self.postgres, config.amqp_uri())
            self.postgres.on_events_committed = self.relay.wake

    def start(self):
        self.container.spawn_managed_thread(self._housekeeping)
        if self.relay:
            self.container.spawn_managed_thread(self.relay.run)

    def stop(self):
        self._stopped.set()
        if self.relay:
            self.relay.stop()
        self.postgres.close()

    def _housekeeping(self):
        """Sent outbox rows, inbox rows and idempotency keys are kept for a while, then
        forgotten."""
        while not self._stopped.wait(HOUSEKEEPING_EVERY_SECONDS):
            try:
                with self.postgres.transaction() as tx:
                    outbox.purge_sent(tx, config.env_int("LARIS_OUTBOX_RETENTION_DAYS"))
                    inbox.purge_handled(tx, config.env_int("LARIS_INBOX_RETENTION_DAYS"))
                    idempotency.purge_older_than(
                        tx, config.env_int("LARIS_IDEMPOTENCY_RETENTION_HOURS"))
            except Exception:
                log.exception("database housekeeping failed; next try in %ss",
                              HOUSEKEEPING_EVERY_SECONDS)

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return WorkerDatabase(self.postgres, worker_ctx)
