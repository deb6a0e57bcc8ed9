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
