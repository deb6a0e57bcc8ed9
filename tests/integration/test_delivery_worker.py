"""Notify's delivery worker against the real PostgreSQL and a real SMTP server: two workers on
one database never send a delivery twice; a dead worker's claim is taken again after its
lease; quiet hours hold a night-quiet channel without spending a try."""
import dataclasses
import datetime as dt
import threading
import time
import uuid

import pytest

from backbone.clock import WIB
from backbone.db import Postgres
from backbone.migrate import migration_dirs
from services.notify import domain, store
from services.notify.channels import Channel, EmailChannel, SmtpSettings
from services.notify.worker import DeliveryWorker, WorkerSettings
from tests.support.mail import MailCatcher

SETTINGS = WorkerSettings(attempts=3, base_seconds=0.05, cap_seconds=0.2, lease_seconds=30,
                          concurrency=8, poll_seconds=0.02)


@pytest.fixture(scope="module")
def notify_db_url(infra):
    # Its own database: the e2e system of the same session owns "notify".
    return infra.migrate("notify_worker", dirs=migration_dirs("notify"))


@pytest.fixture
def databases(notify_db_url):
    """Two connection pools on one database, as two notify processes have."""
    pools = [Postgres(notify_db_url, source="notify", pool_size=6) for _ in range(2)]
    with pools[0].transaction() as tx:
        tx.execute("TRUNCATE notifications, preferences, accounts CASCADE")
    yield pools
    for pool in pools:
        pool.close()


@pytest.fixture
def mail():
    catcher = MailCatcher().start()
    yield catcher
    catcher.stop()


def email_channel(mail):
    return EmailChannel(SmtpSettings(host="127.0.0.1", port=mail.port, user=None, password=None,
                                     starttls=False, sender="Laris <noreply@test.laris.local>",
                                     timeout=5))


class NightQuietChannel(Channel):
    """A channel that keeps quiet at night, as WhatsApp does, recording what it is given."""
    name = domain.CHANNEL_WHATSAPP
    quiet_at_night = True

    def __init__(self):
        self.sent = []

    def address(self, tx, delivery_row):
        return {}

    def send(self, delivery):
        self.sent.append(delivery.id)


def queue_notifications(postgres, count, channel=domain.CHANNEL_EMAIL):
    """``count`` notifications to as many known accounts, each with one delivery queued."""
    with postgres.transaction() as tx:
        for n in range(count):
            account_id = str(uuid.uuid4())
            store.save_account(tx, {"account_id": account_id, "email": f"p{n}@test.laris.local",
                                    "name": f"Person {n}", "locale": "id", "role": "vendor"},
                               version=1)
            notification_id = store.insert_notification(tx, {
                "account_id": account_id, "kind": "order.placed", "subject": f"Pesanan {n}",
                "body": "Ada pesanan baru.", "ref": {"type": "order", "id": str(n)},
                "event_id": uuid.uuid4(), "channel": domain.CHANNEL_INBOX})
            store.insert_delivery(tx, notification_id, account_id, channel, "")


def statuses(postgres):
    with postgres.transaction() as tx:
        return tx.all("SELECT status, attempts, next_attempt_at, claim_id FROM deliveries")


def test_two_workers_on_one_database_never_send_one_delivery_twice(databases, mail):
    count = 120
    queue_notifications(databases[0], count)
    workers = [DeliveryWorker(pool, {domain.CHANNEL_EMAIL: email_channel(mail)}, SETTINGS)
               for pool in databases]
    threads = [threading.Thread(target=worker.run) for worker in workers]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 60
        while len(mail.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # room for a second copy, had one been claimed
    finally:
        for worker in workers:
            worker.stop()
        for thread in threads:
            thread.join(10)

    message_ids = [entry["message"]["Message-ID"] for entry in mail.messages]
    assert len(message_ids) == count
    assert len(set(message_ids)) == count
    assert {(row["status"], row["attempts"]) for row in statuses(databases[0])} == {("sent", 1)}


def test_a_dead_workers_claim_is_taken_again_once_its_lease_ends(databases, mail):
    queue_notifications(databases[0], 1)
    short_lease = dataclasses.replace(SETTINGS, lease_seconds=0.5)
    dead = DeliveryWorker(databases[0], {domain.CHANNEL_EMAIL: email_channel(mail)},
                          short_lease)
    alive = DeliveryWorker(databases[1], {domain.CHANNEL_EMAIL: email_channel(mail)},
                           short_lease)

    [(_, claimed)] = dead.claim(10)  # ... and the process dies before sending
    assert alive.claim(10) == []     # the lease still holds
    time.sleep(0.6)
    alive.run_until_idle()

    [entry] = mail.messages
    assert entry["message"]["Message-ID"] == f"<{claimed.id}@notify.laris>"
    [row] = statuses(databases[0])
    assert (row["status"], row["attempts"]) == ("sent", 2)


def test_quiet_hours_hold_a_night_quiet_channel_until_morning_without_spending_a_try(
        databases):
    queue_notifications(databases[0], 1, channel=domain.CHANNEL_WHATSAPP)
    now = dt.datetime.now(WIB)
    start, end = (now - dt.timedelta(hours=1)).time(), (now + dt.timedelta(hours=1)).time()
    with databases[0].transaction() as tx:
        account_id = tx.one("SELECT account_id FROM deliveries")["account_id"]
        store.save_preferences(tx, account_id, {}, start.replace(second=0, microsecond=0),
                               end.replace(second=0, microsecond=0))
    channel = NightQuietChannel()
    worker = DeliveryWorker(databases[0], {channel.name: channel}, SETTINGS)

    worker.run_until_idle()

    assert channel.sent == []
    [row] = statuses(databases[0])
    assert (row["status"], row["attempts"], row["claim_id"]) == ("pending", 0, None)
    waits = row["next_attempt_at"] - dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(minutes=55) < waits <= dt.timedelta(hours=1)
