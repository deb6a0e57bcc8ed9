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
    table's unique key decides, whatever the concurrency); returns whether it was new."""
    row = tx.one(
        """INSERT INTO notifications (id, account_id, kind, subject, body, ref, event_id,
                                      channel)
           VALUES (%(id)s, %(account_id)s, %(kind)s, %(subject)s, %(body)s, %(ref)s,
                   %(event_id)s, %(channel)s)
           ON CONFLICT ON CONSTRAINT one_per_event_recipient_channel DO NOTHING
           RETURNING id""",
        notification | {"id": uuid.uuid4(), "ref": psycopg2.extras.Json(notification["ref"])})
    return row is not None


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
    """The account's number now, with the message kept for the notification; None once the
    account opted out."""
    return tx.one(
        """SELECT n.phone, m.template, m.language, m.parameters
             FROM whatsapp_numbers n
             JOIN whatsapp_messages m ON m.notification_id = %s
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
