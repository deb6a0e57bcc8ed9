"""Reminders against the real PostgreSQL: copies of notify sweeping the same schedule at once
fire each due reminder exactly once, and a redelivered scheduling event schedules nothing
twice."""
import concurrent.futures
import datetime as dt
import uuid

import pytest

from backbone import clock
from backbone.db import Postgres
from backbone.migrate import migration_dirs
from services.notify import reminders, service, store

SWEEPERS = 4
DUE = 150


@pytest.fixture(scope="module")
def notify_db(infra):
    """A notify database of its own (the e2e system's is not touched)."""
    db = Postgres(infra.migrate("notify_reminders", dirs=migration_dirs("notify")),
                  source="notify", pool_size=SWEEPERS + 2)
    yield db
    db.close()


def _order_reminder(placed_at):
    part = {"business_id": str(uuid.uuid4()), "account_id": str(uuid.uuid4()),
            "total_idr": 25_000, "lines": [{"name": "Kopi Dampit", "quantity": 1,
                                            "unit_price_idr": 25_000}]}
    return reminders.order_part_reminder(str(uuid.uuid4()), part, placed_at, 24)


def test_racing_sweepers_fire_each_due_reminder_once(notify_db):
    placed = clock.now() - dt.timedelta(hours=25)
    with notify_db.transaction() as tx:
        for _ in range(DUE):
            assert store.schedule_reminder(tx, _order_reminder(placed))
        later = _order_reminder(clock.now())
        store.schedule_reminder(tx, later)

    def sweep():
        fired = 0
        while True:
            with notify_db.transaction() as tx:
                due = service.fire_due_reminders(tx, clock.now())
            fired += due
            if due == 0:
                return fired

    with concurrent.futures.ThreadPoolExecutor(SWEEPERS) as pool:
        fired = sum(pool.map(lambda _: sweep(), range(SWEEPERS)))

    with notify_db.transaction() as tx:
        per_reminder = tx.all(
            """SELECT r.id, r.state, count(n.id) AS notifications FROM reminders r
                 LEFT JOIN notifications n ON n.event_id = r.id
                GROUP BY r.id, r.state""")
    assert fired == DUE
    sent = [row for row in per_reminder if row["state"] == "sent"]
    assert len(sent) == DUE and {row["notifications"] for row in sent} == {1}
    [pending] = [row for row in per_reminder if row["state"] == "pending"]
    assert pending["notifications"] == 0


def test_a_reminder_scheduled_twice_is_one_row_and_a_settled_one_stays_settled(notify_db):
    reminder = _order_reminder(clock.now())
    with notify_db.transaction() as tx:
        assert store.schedule_reminder(tx, reminder)
        assert not store.schedule_reminder(tx, reminder)
        assert store.settle_reminders(tx, reminder.topic) == 1
        assert not store.schedule_reminder(tx, reminder)
        [row] = tx.all("SELECT state FROM reminders WHERE subject = %s", (reminder.subject,))
    assert row["state"] == "cancelled"


def test_a_reminder_found_after_its_deadline_lapses_without_a_message(notify_db):
    offered = clock.now() - dt.timedelta(hours=13)
    [reminder] = reminders.offer_reminders({
        "application_id": str(uuid.uuid4()), "owner_account_id": str(uuid.uuid4()),
        "booth_code": "A-01", "expo_name": "Expo",
        "hold_expires_at": clock.now() - dt.timedelta(minutes=1)}, offered - dt.timedelta(
            hours=1), 12)
    with notify_db.transaction() as tx:
        store.schedule_reminder(tx, reminder)
    with notify_db.transaction() as tx:
        service.fire_due_reminders(tx, clock.now())
        [row] = tx.all("SELECT id, state FROM reminders WHERE subject = %s",
                       (reminder.subject,))
        assert row["state"] == "lapsed"
        assert tx.all("SELECT 1 FROM notifications WHERE event_id = %s", (row["id"],)) == []
