"""Notify's SQL. Functions take a ``Transaction`` and return plain dicts."""
import uuid

import psycopg2.extras

from backbone.pagination import decode_cursor, identifier, page, timestamp

NOTIFICATION_COLUMNS = """id, account_id, kind, subject, body, ref, event_id, channel,
    created_at, read_at"""


# --- read models ----------------------------------------------------------------------------

def save_account(tx, facts, version):
    """The account as its newest fact describes it (every field, never a change)."""
    tx.execute(
        """INSERT INTO accounts (id, email, name, phone, locale, role, version)
           VALUES (%(account_id)s, %(email)s, %(name)s, %(phone)s, %(locale)s, %(role)s,
                   %(version)s)
           ON CONFLICT (id) DO UPDATE
              SET email = EXCLUDED.email, name = EXCLUDED.name, phone = EXCLUDED.phone,
                  locale = EXCLUDED.locale, role = EXCLUDED.role, version = EXCLUDED.version,
                  updated_at = now()""",
        {"phone": None} | facts | {"version": version})


def save_business(tx, snapshot, version):
    tx.execute(
        """INSERT INTO businesses (id, owner_account_id, name, status, version)
           VALUES (%(business_id)s, %(owner_account_id)s, %(name)s, %(status)s, %(version)s)
           ON CONFLICT (id) DO UPDATE
              SET owner_account_id = EXCLUDED.owner_account_id, name = EXCLUDED.name,
                  status = EXCLUDED.status, version = EXCLUDED.version, updated_at = now()""",
        snapshot | {"version": version})


def accounts_by_id(tx, account_ids):
    rows = tx.all("SELECT id, locale FROM accounts WHERE id = ANY(%s::uuid[])",
                  (list(account_ids),))
    return {str(row["id"]): row for row in rows}


def business_names(tx, business_ids):
    if not business_ids:
        return {}
    rows = tx.all("SELECT id, name FROM businesses WHERE id = ANY(%s::uuid[])",
                  (list(business_ids),))
    return {str(row["id"]): row["name"] for row in rows}


# --- notifications --------------------------------------------------------------------------

def insert_notification(tx, notification):
    """Writes it unless this event already gave this recipient one on this channel (the
    table's unique key decides, whatever the concurrency); returns its id if it was new, else
    None."""
    row = tx.one(
        """INSERT INTO notifications (id, account_id, kind, subject, body, ref, event_id,
                                      channel)
           VALUES (%(id)s, %(account_id)s, %(kind)s, %(subject)s, %(body)s, %(ref)s,
                   %(event_id)s, %(channel)s)
           ON CONFLICT ON CONSTRAINT one_per_event_recipient_channel DO NOTHING
           RETURNING id""",
        notification | {"id": uuid.uuid4(), "ref": psycopg2.extras.Json(notification["ref"])})
    return row and row["id"]


def list_notifications(tx, account_id, unread, limit, cursor=None):
    """Newest first; ``unread`` True for unread only, False for read only, None for all."""
    params = {"account_id": account_id, "unread": unread, "limit": limit + 1,
              "after_created": None, "after_id": None}
    if cursor:
        params["after_created"], params["after_id"] = decode_cursor(cursor, timestamp,
                                                                    identifier)
    rows = tx.all(
        f"""SELECT {NOTIFICATION_COLUMNS} FROM notifications
             WHERE account_id = %(account_id)s
               AND (%(unread)s::boolean IS NULL OR (read_at IS NULL) = %(unread)s)
               AND (%(after_id)s::uuid IS NULL
                    OR (created_at, id) < (%(after_created)s::timestamptz, %(after_id)s::uuid))
             ORDER BY created_at DESC, id DESC LIMIT %(limit)s""", params)
    return page(rows, limit, lambda row: (row["created_at"].isoformat(), row["id"]))


def unread_count(tx, account_id):
    return tx.one("SELECT count(*) AS unread FROM notifications"
                  " WHERE account_id = %s AND read_at IS NULL", (account_id,))["unread"]


def mark_read(tx, account_id, notification_id, now):
    """The account's notification, read since ``now`` unless it was read before; None when
    the account has no such notification."""
    return tx.one(
        f"""UPDATE notifications SET read_at = COALESCE(read_at, %s)
             WHERE id = %s AND account_id = %s
         RETURNING {NOTIFICATION_COLUMNS}""", (now, notification_id, account_id))


# --- preferences ----------------------------------------------------------------------------

def preferences_of(tx, account_id):
    """The account's choices; everything on and no quiet hours until it chose."""
    row = tx.one("SELECT channels, quiet_start, quiet_end FROM preferences"
                 " WHERE account_id = %s", (account_id,))
    return row or {"channels": {}, "quiet_start": None, "quiet_end": None}


def save_preferences(tx, account_id, channels, quiet_start, quiet_end):
    return tx.one(
        """INSERT INTO preferences (account_id, channels, quiet_start, quiet_end)
           VALUES (%s, %s, %s, %s)
           ON CONFLICT (account_id) DO UPDATE
              SET channels = EXCLUDED.channels, quiet_start = EXCLUDED.quiet_start,
                  quiet_end = EXCLUDED.quiet_end, updated_at = now()
        RETURNING channels, quiet_start, quiet_end""",
        (account_id, psycopg2.extras.Json(channels), quiet_start, quiet_end))


# --- addresses, resolved when a delivery is sent ----------------------------------------------

def email_address(tx, account_id):
    return tx.one("SELECT email, name FROM accounts WHERE id = %s", (account_id,))


def webhook_address(tx, account_id, webhook_id):
    return tx.one("SELECT url, secret FROM webhooks WHERE id = %s AND account_id = %s",
                  (webhook_id, account_id))


# --- webhooks -------------------------------------------------------------------------------

WEBHOOK_COLUMNS = "id, url, events, created_at"


def insert_webhook(tx, account_id, url, events, secret):
    return tx.one(
        f"""INSERT INTO webhooks (id, account_id, url, events, secret)
            VALUES (%s, %s, %s, %s, %s) RETURNING {WEBHOOK_COLUMNS}""",
        (uuid.uuid4(), account_id, url, list(events), secret))


def webhooks_of(tx, account_id, limit, cursor=None):
    params = {"account_id": account_id, "limit": limit + 1, "after_created": None,
              "after_id": None}
    if cursor:
        params["after_created"], params["after_id"] = decode_cursor(cursor, timestamp,
                                                                    identifier)
    rows = tx.all(
        f"""SELECT {WEBHOOK_COLUMNS} FROM webhooks
             WHERE account_id = %(account_id)s
               AND (%(after_id)s::uuid IS NULL
                    OR (created_at, id) < (%(after_created)s::timestamptz, %(after_id)s::uuid))
             ORDER BY created_at DESC, id DESC LIMIT %(limit)s""", params)
    return page(rows, limit, lambda row: (row["created_at"].isoformat(), row["id"]))


def webhook_of(tx, account_id, webhook_id):
    return tx.one(f"SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = %s AND account_id = %s",
                  (webhook_id, account_id))


def delete_webhook(tx, account_id, webhook_id):
    """Removes it and cancels what was still to be sent to it; None if the account has no
    such webhook."""
    removed = tx.one(f"DELETE FROM webhooks WHERE id = %s AND account_id = %s"
                     f" RETURNING {WEBHOOK_COLUMNS}", (webhook_id, account_id))
    if removed is not None:
        tx.execute("""UPDATE deliveries SET status = 'cancelled', claim_id = NULL,
                             lease_until = NULL, last_error = 'the webhook was deleted',
                             updated_at = now()
                       WHERE channel = 'webhook' AND destination = %s
                         AND status IN ('pending', 'sending', 'failed')""",
                   (str(webhook_id),))
    return removed


def webhooks_for(tx, account_id, kind):
    """Ids of the account's webhooks subscribed to ``kind``, oldest first."""
    rows = tx.all("SELECT id FROM webhooks WHERE account_id = %s AND %s = ANY(events)"
                  " ORDER BY created_at, id", (account_id, kind))
    return [str(row["id"]) for row in rows]


# --- deliveries -----------------------------------------------------------------------------

DELIVERY_COLUMNS = """d.id, d.notification_id, d.account_id, d.channel, d.destination,
    d.status, d.attempts, d.next_attempt_at, d.last_error, d.provider_id, d.created_at,
    d.updated_at, d.sent_at, n.kind,
    (SELECT w.status FROM whatsapp_statuses AS w
      WHERE d.channel = 'whatsapp' AND w.provider_id = d.provider_id) AS provider_status"""


# The delivery worker LISTENs on this; whatever queues a delivery NOTIFYs it, which PostgreSQL
# delivers when (and only if) the transaction commits.
DELIVERIES_CHANNEL = "laris_deliveries"


def insert_delivery(tx, notification_id, account_id, channel, destination):
    """One delivery per (notification, channel, destination), by the table's unique key; the
    worker is told once the transaction commits."""
    tx.execute(
        f"""INSERT INTO deliveries (id, notification_id, account_id, channel, destination)
            VALUES (%s, %s, %s, %s, %s)
            ON CONFLICT ON CONSTRAINT one_per_notification_channel_destination DO NOTHING;
            NOTIFY {DELIVERIES_CHANNEL}""",
        (uuid.uuid4(), notification_id, account_id, channel, destination))


def claim_due(tx, limit, claim_id, lease_seconds):
    """Due deliveries (pending, or sending under a lease that ran out: its worker died),
    marked as ours until the lease ends, with their notification and the recipient's quiet
    hours and locale. ``SKIP LOCKED``: rows another worker is claiming right now are left to
    it, so two workers never take one delivery."""
    return tx.all(
        """WITH due AS (
               SELECT id FROM deliveries
                WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
                  AND (status = 'pending' OR lease_until < now())
                ORDER BY next_attempt_at
                LIMIT %(limit)s
                  FOR UPDATE SKIP LOCKED)
           UPDATE deliveries AS d
              SET status = 'sending', claim_id = %(claim_id)s, attempts = d.attempts + 1,
                  lease_until = now() + make_interval(secs => %(lease)s), updated_at = now()
             FROM due, notifications AS n
             LEFT JOIN preferences AS p ON p.account_id = n.account_id
             LEFT JOIN accounts AS a ON a.id = n.account_id
            WHERE d.id = due.id AND n.id = d.notification_id
        RETURNING d.id, d.channel, d.destination, d.account_id, d.attempts,
                  n.id AS notification_id, n.kind, n.subject, n.body, n.ref, n.created_at,
                  p.quiet_start, p.quiet_end, a.locale""",
        {"limit": limit, "claim_id": claim_id, "lease": lease_seconds})


def postpone(tx, delivery_id, claim_id, until):
    """Back to the queue until ``until`` without spending a try (quiet hours)."""
    return tx.execute(
        """UPDATE deliveries SET status = 'pending', attempts = attempts - 1,
                  next_attempt_at = %s, claim_id = NULL, lease_until = NULL, updated_at = now()
            WHERE id = %s AND claim_id = %s""", (until, delivery_id, claim_id))


def mark_sent(tx, delivery_id, claim_id, provider_id):
    """False when the claim was lost meanwhile (its lease ran out and another took it)."""
    return tx.execute(
        """UPDATE deliveries SET status = 'sent', sent_at = now(), provider_id = %s,
                  last_error = NULL, claim_id = NULL, lease_until = NULL, updated_at = now()
            WHERE id = %s AND claim_id = %s""", (provider_id, delivery_id, claim_id)) == 1


def mark_retry(tx, delivery_id, claim_id, delay_seconds, error):
    return tx.execute(
        """UPDATE deliveries SET status = 'pending', last_error = %s,
                  next_attempt_at = now() + make_interval(secs => %s),
                  claim_id = NULL, lease_until = NULL, updated_at = now()
            WHERE id = %s AND claim_id = %s""",
        (error, delay_seconds, delivery_id, claim_id)) == 1


def mark_failed(tx, delivery_id, claim_id, error):
    """Dead-lettered: no more tries until an admin retries it."""
    return tx.execute(
        """UPDATE deliveries SET status = 'failed', last_error = %s, claim_id = NULL,
                  lease_until = NULL, updated_at = now()
            WHERE id = %s AND claim_id = %s""", (error, delivery_id, claim_id)) == 1


def list_deliveries(tx, status, limit, cursor=None):
    """Newest first, of one status or all (``status`` None)."""
    params = {"status": status, "limit": limit + 1, "after_created": None, "after_id": None}
    if cursor:
        params["after_created"], params["after_id"] = decode_cursor(cursor, timestamp,
                                                                    identifier)
    rows = tx.all(
        f"""SELECT {DELIVERY_COLUMNS} FROM deliveries AS d
              JOIN notifications AS n ON n.id = d.notification_id
             WHERE (%(status)s::text IS NULL OR d.status = %(status)s)
               AND (%(after_id)s::uuid IS NULL
                    OR (d.created_at, d.id)
                       < (%(after_created)s::timestamptz, %(after_id)s::uuid))
             ORDER BY d.created_at DESC, d.id DESC LIMIT %(limit)s""", params)
    return page(rows, limit, lambda row: (row["created_at"].isoformat(), row["id"]))


def delivery_by_id(tx, delivery_id, for_update=False):
    return tx.one(
        f"""SELECT {DELIVERY_COLUMNS} FROM deliveries AS d
              JOIN notifications AS n ON n.id = d.notification_id
             WHERE d.id = %s {'FOR UPDATE OF d' if for_update else ''}""", (delivery_id,))


def requeue(tx, delivery_id):
    """A dead-lettered delivery back in the queue, due now, with all its tries again (its
    last error stays until a try replaces it)."""
    tx.execute(f"""UPDATE deliveries SET status = 'pending', attempts = 0,
                          next_attempt_at = now(), updated_at = now()
                    WHERE id = %s;
                   NOTIFY {DELIVERIES_CHANNEL}""", (delivery_id,))
    return delivery_by_id(tx, delivery_id)


# --- reminders ------------------------------------------------------------------------------

REMINDER_COLUMNS = """id, subject, kind, topic, template, account_id, due_at, deadline, facts,
    ref, state"""


def schedule_reminder(tx, reminder, state="pending"):
    """Writes the reminder unless one of its (subject, kind) exists: a redelivered event
    schedules nothing twice, and a reminder settled before its event arrived (written as
    ``cancelled``) stays settled. Returns whether it was new."""
    row = tx.one(
        """INSERT INTO reminders (id, subject, kind, topic, template, account_id, due_at,
                                  deadline, facts, ref, state)
           VALUES (%(id)s, %(subject)s, %(kind)s, %(topic)s, %(template)s, %(account_id)s,
                   %(due_at)s, %(deadline)s, %(facts)s, %(ref)s, %(state)s)
           ON CONFLICT ON CONSTRAINT one_reminder_per_subject_kind DO NOTHING
           RETURNING id""",
        vars(reminder) | {
            "id": uuid.uuid4(), "state": state, "facts": psycopg2.extras.Json(reminder.facts),
            "ref": psycopg2.extras.Json(reminder.ref)})
    return row is not None


def settle_reminders(tx, topic, deadline_before=None):
    """Cancels the pending reminders of ``topic`` (only those whose deadline is earlier than
    ``deadline_before`` when given: the older certificates); returns how many."""
    return tx.execute(
        """UPDATE reminders SET state = 'cancelled', updated_at = now()
            WHERE topic = %(topic)s AND state = 'pending'
              AND (%(before)s::timestamptz IS NULL OR deadline < %(before)s)""",
        {"topic": topic, "before": deadline_before})


def settle_or_forestall(tx, reminder):
    """Settles ``reminder``; when its event has not arrived yet, writes it settled, so the
    late event schedules nothing."""
    if not schedule_reminder(tx, reminder, state="cancelled"):
        tx.execute("""UPDATE reminders SET state = 'cancelled', updated_at = now()
                       WHERE subject = %s AND kind = %s AND state = 'pending'""",
                   (reminder.subject, reminder.kind))


def later_deadline_known(tx, topic, deadline):
    """Whether ``topic`` already has a reminder about something lasting longer (a newer
    certificate confirmed first)."""
    return tx.one("SELECT EXISTS (SELECT 1 FROM reminders WHERE topic = %s AND deadline > %s)"
                  " AS known", (topic, deadline))["known"]


def claim_due_reminders(tx, now, limit):
    """Pending reminders due by ``now``, locked for this transaction; rows another notify
    copy holds are skipped, so each is fired by one."""
    return tx.all(
        f"""SELECT {REMINDER_COLUMNS} FROM reminders
             WHERE state = 'pending' AND due_at <= %s
             ORDER BY due_at LIMIT %s
             FOR UPDATE SKIP LOCKED""", (now, limit))


def finish_reminder(tx, reminder_id, state):
    tx.execute("UPDATE reminders SET state = %s, updated_at = now() WHERE id = %s",
               (state, reminder_id))


# --- whatsapp -------------------------------------------------------------------------------

def save_whatsapp_number(tx, account_id, phone):
    return tx.one(
        """INSERT INTO whatsapp_numbers (account_id, phone) VALUES (%s, %s)
           ON CONFLICT (account_id) DO UPDATE
              SET phone = EXCLUDED.phone, opted_in_at = now()
           RETURNING phone, opted_in_at""", (account_id, phone))


def forget_whatsapp_number(tx, account_id):
    """Removes the account's number and cancels what was still to be sent to it; None if it
    had none."""
    removed = tx.one("DELETE FROM whatsapp_numbers WHERE account_id = %s"
                     " RETURNING phone, opted_in_at", (account_id,))
    if removed is not None:
        tx.execute("""UPDATE deliveries SET status = 'cancelled', claim_id = NULL,
                             lease_until = NULL, last_error = 'the number was withdrawn',
                             updated_at = now()
                       WHERE channel = 'whatsapp' AND account_id = %s
                         AND status IN ('pending', 'failed')""", (account_id,))
    return removed


def whatsapp_number_of(tx, account_id):
    return tx.one("SELECT phone, opted_in_at FROM whatsapp_numbers WHERE account_id = %s",
                  (account_id,))


def whatsapp_number(tx, account_id):
    row = tx.one("SELECT phone FROM whatsapp_numbers WHERE account_id = %s", (account_id,))
    return row and row["phone"]


def save_whatsapp_message(tx, notification_id, message):
    tx.execute(
        """INSERT INTO whatsapp_messages (notification_id, template, language, parameters)
           VALUES (%s, %s, %s, %s) ON CONFLICT (notification_id) DO NOTHING""",
        (notification_id, message["template"], message["language"],
         psycopg2.extras.Json(message["parameters"])))


def whatsapp_address(tx, account_id, notification_id):
    """The account's number now, with the message kept for the notification (its template
    None when none was kept); None once the account opted out."""
    return tx.one(
        """SELECT n.phone, m.template, m.language, m.parameters
             FROM whatsapp_numbers n
             LEFT JOIN whatsapp_messages m ON m.notification_id = %s
            WHERE n.account_id = %s""", (notification_id, account_id))


def whatsapp_delivery(tx, provider_id):
    """The WhatsApp delivery the Cloud API gave this message id (wamid), or None."""
    return tx.one("SELECT id, status FROM deliveries WHERE channel = 'whatsapp'"
                  " AND provider_id = %s", (provider_id,))


def fail_sent_delivery(tx, delivery_id, error):
    """A message the API took and later could not deliver: dead-lettered, for the admin."""
    tx.execute("""UPDATE deliveries SET status = 'failed', last_error = %s, updated_at = now()
                   WHERE id = %s AND status = 'sent'""", (error, delivery_id))


WHATSAPP_STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}


def record_whatsapp_status(tx, provider_id, status, reported_at, error):
    """Keeps the furthest status the Cloud API reported of the message (a late "delivered"
    after "read" changes nothing); returns whether it moved."""
    row = tx.one(
        """INSERT INTO whatsapp_statuses (provider_id, status, reported_at, error)
           VALUES (%(provider_id)s, %(status)s, %(reported_at)s, %(error)s)
           ON CONFLICT (provider_id) DO UPDATE
              SET status = EXCLUDED.status, reported_at = EXCLUDED.reported_at,
                  error = EXCLUDED.error, updated_at = now()
            WHERE array_position(%(ranks)s::text[], whatsapp_statuses.status)
                  < array_position(%(ranks)s::text[], EXCLUDED.status)
           RETURNING provider_id""",
        {"provider_id": provider_id, "status": status, "reported_at": reported_at,
         "error": error, "ranks": sorted(WHATSAPP_STATUS_RANK, key=WHATSAPP_STATUS_RANK.get)})
    return row is not None
