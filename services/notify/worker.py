"""The delivery worker: sends what the consumers queued in ``deliveries``, on every channel.

1. Claim: in one short transaction, due rows are taken with ``FOR UPDATE SKIP LOCKED`` and
   marked ``sending`` under this claim's id until a lease ends; the same transaction reads
   each one's current address (the channel's ``address``). Rows in the recipient's quiet
   hours, on a channel that keeps quiet at night, go back to wait for the morning without
   spending a try.
2. Send: outside any transaction, each delivery in its own thread, at most
   ``LARIS_DELIVERY_CONCURRENCY`` at once, each within the channel's timeout: a slow webhook
   holds one slot, never the inbox (written by the consumers, in another process:
   deliveries.py runs this worker) nor anyone else's sends.
3. Record: sent; or back to ``pending`` after an exponential, jittered pause; or, after
   ``LARIS_DELIVERY_ATTEMPTS`` tries (or a refusal not worth retrying), ``failed`` with the
   reason: the dead letters an admin sees and may retry. The outcome is written only while
   the claim is still ours.

All the state is in the database: a worker killed mid-send leaves a ``sending`` row whose
lease runs out, and the next claim (by a restarted process or another copy) takes it again.
"""
import dataclasses
import datetime as dt
import logging
import random
import threading
import time
import uuid

from backbone import clock, config
from backbone.polling import WokenLoop
from services.notify import domain, store
from services.notify.channels import Delivery, DeliveryFailed

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class WorkerSettings:
    attempts: int
    base_seconds: float
    cap_seconds: float
    lease_seconds: float
    concurrency: int
    poll_seconds: float

    @classmethod
    def from_env(cls):
        return cls(attempts=config.env_int("LARIS_DELIVERY_ATTEMPTS"),
                   base_seconds=config.env_float("LARIS_DELIVERY_BASE_SECONDS"),
                   cap_seconds=config.env_float("LARIS_DELIVERY_CAP_SECONDS"),
                   lease_seconds=config.env_float("LARIS_DELIVERY_LEASE_SECONDS"),
                   concurrency=config.env_int("LARIS_DELIVERY_CONCURRENCY"),
                   poll_seconds=config.env_float("LARIS_DELIVERY_POLL_SECONDS"))


class DeliveryWorker(WokenLoop):
    description = "claiming deliveries"

    def __init__(self, postgres, channels, settings, chance=random.random):
        super().__init__(settings.poll_seconds)
        self.postgres = postgres
        self.channels = channels
        self.settings = settings
        self.chance = chance
        self._in_flight = 0
        self._lock = threading.Lock()

    def step(self):
        """Claims as many due deliveries as there are free slots and starts sending them."""
        free = self._free_slots()
        claimed = self.claim(free) if free else []
        for delivery in claimed:
            self._start(delivery)
        return bool(free) and len(claimed) >= free

    def wait_for_sends(self, timeout):
        """Waits, at most ``timeout`` seconds, for the sends in flight to be recorded."""
        deadline = time.monotonic() + timeout
        while self._in_flight and time.monotonic() < deadline:
            self._wakeup.wait(min(1.0, self.settings.poll_seconds))
            self._wakeup.clear()

    def run_until_idle(self, timeout=30.0):
        """Sends everything due now and waits for the sends to end, at most ``timeout``
        seconds (tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            claimed = self.claim(self._free_slots())
            for delivery in claimed:
                self._start(delivery)
            if not claimed and not self._in_flight:
                return
            self._wakeup.wait(self.settings.poll_seconds)
            self._wakeup.clear()

    # --- claim ------------------------------------------------------------------------------

    def claim(self, limit):
        """Up to ``limit`` due deliveries, ours until their lease ends."""
        claim_id = uuid.uuid4()
        ready = []
        with self.postgres.transaction() as tx:
            for row in store.claim_due(tx, limit, claim_id, self.settings.lease_seconds):
                channel = self.channels.get(row["channel"])
                if channel is None:
                    # Claimed by a process without this channel configured: left for one
                    # that has it.
                    store.postpone(tx, row["id"], claim_id, clock.now() + dt.timedelta(
                        seconds=self.settings.lease_seconds))
                    continue
                quiet_until = channel.quiet_at_night and domain.quiet_until(
                    clock.now(), row["quiet_start"], row["quiet_end"])
                if quiet_until:
                    store.postpone(tx, row["id"], claim_id, quiet_until)
                    log.info("delivery waits for the end of quiet hours", extra={
                        "delivery_id": str(row["id"]), "until": quiet_until.isoformat()})
                    continue
                ready.append((claim_id, _delivery(row, channel.address(tx, row))))
        return ready

    # --- send -------------------------------------------------------------------------------

    def _free_slots(self):
        with self._lock:
            return self.settings.concurrency - self._in_flight

    def _start(self, claimed):
        with self._lock:
            self._in_flight += 1
        threading.Thread(target=self._deliver_then_free, args=claimed, daemon=True,
                         name=f"delivery-{claimed[1].id}").start()

    def _deliver_then_free(self, claim_id, delivery):
        try:
            self.deliver(claim_id, delivery)
        except Exception:
            # Unrecorded: the claim's lease runs out and the delivery is tried again.
            log.exception("recording a delivery's outcome failed", extra={
                "delivery_id": delivery.id})
        finally:
            with self._lock:
                self._in_flight -= 1
            self._wakeup.set()

    def deliver(self, claim_id, delivery):
        """Sends one claimed delivery and records what happened."""
        channel = self.channels[delivery.channel]
        try:
            provider_id = channel.send(delivery)
        except DeliveryFailed as failure:
            self._record_failure(claim_id, delivery, failure.reason, failure.retryable)
            return
        except Exception as exc:  # a channel's own bug must not stop the worker
            self._record_failure(claim_id, delivery, f"{exc.__class__.__name__}: {exc}", True)
            return
        with self.postgres.transaction() as tx:
            recorded = store.mark_sent(tx, delivery.id, claim_id, provider_id)
        log.info("delivery sent" if recorded else "delivery sent after its claim was lost",
                 extra=_fields(delivery) | {"provider_id": provider_id})

    def _record_failure(self, claim_id, delivery, reason, retryable):
        fields = _fields(delivery) | {"reason": reason}
        with self.postgres.transaction() as tx:
            if retryable and delivery.attempt < self.settings.attempts:
                delay = domain.retry_delay(delivery.attempt, self.settings.base_seconds,
                                           self.settings.cap_seconds, self.chance())
                store.mark_retry(tx, delivery.id, claim_id, delay, reason)
                log.warning("delivery failed; retrying", extra=fields | {
                    "delay_seconds": round(delay, 3)})
                return
            attempts = f"after {delivery.attempt} attempt{'s' if delivery.attempt > 1 else ''}"
            store.mark_failed(tx, delivery.id, claim_id, f"{reason} ({attempts})")
        log.error("delivery dead-lettered", extra=fields)


def _delivery(row, address):
    return Delivery(
        id=str(row["id"]), channel=row["channel"], destination=row["destination"],
        account_id=str(row["account_id"]), attempt=row["attempts"],
        notification={"id": str(row["notification_id"]), "kind": row["kind"],
                      "subject": row["subject"], "body": row["body"], "ref": row["ref"],
                      "created_at": row["created_at"]},
        address=address, locale=domain.locale_of(row))


def _fields(delivery):
    return {"delivery_id": delivery.id, "channel": delivery.channel,
            "attempt": delivery.attempt, "kind": delivery.notification["kind"]}
