"""The registry's SQL. Functions take a ``Transaction`` and return plain dicts."""
import psycopg2.extras

from backbone.errors import Conflict, Unauthorized
from backbone.pagination import decode_cursor, identifier, page, timestamp

ACCOUNT_COLUMNS = "id, email, name, role, phone, locale, version, token_version, created_at"
BUSINESS_COLUMNS = """id, owner_account_id, name, kind, kecamatan, address, phone, email, sector,
    nib, nik_koperasi, cooperative_type, packaging, status, readiness, version, created_at,
    updated_at"""
CERTIFICATION_COLUMNS = """id, business_id, kind, number, valid_until, status, review_note,
    reviewed_at, created_at"""


# --- accounts -------------------------------------------------------------------------------

def _email_taken():
    return Conflict("An account with this e-mail already exists.",
                    fields={"email": ["Already registered."]})


def check_email_free(tx, email):
    if tx.one("SELECT 1 AS taken FROM accounts WHERE email = %s", (email,)) is not None:
        raise _email_taken()


def insert_account(tx, account):
    row = tx.one(
        f"""INSERT INTO accounts (id, email, password_hash, name, role, phone, locale)
            VALUES (%(id)s, %(email)s, %(password_hash)s, %(name)s, %(role)s, %(phone)s,
                    %(locale)s)
            ON CONFLICT (email) DO NOTHING RETURNING {ACCOUNT_COLUMNS}""", account)
    if row is None:
        raise _email_taken()
    return row


def account_by_id(tx, account_id, for_update=False):
    lock = " FOR UPDATE" if for_update else ""
    return tx.one(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = %s{lock}", (account_id,))


def credentials_by_id(tx, account_id):
    return tx.one(f"SELECT {ACCOUNT_COLUMNS}, password_hash FROM accounts WHERE id = %s",
                  (account_id,))


def credentials_by_email(tx, email):
    return tx.one(f"SELECT {ACCOUNT_COLUMNS}, password_hash FROM accounts WHERE email = %s",
                  (email,))


def update_password_hash(tx, account_id, password_hash):
    """A rehash of the same password (stronger parameters): not a change of the account."""
    tx.execute("UPDATE accounts SET password_hash = %s WHERE id = %s",
               (password_hash, account_id))


def change_account(tx, account_id, changes):
    """A new version of the account whose older tokens stop working (a role or password
    change); None if there is no such account."""
    assignments = ", ".join(f"{column} = %({column})s" for column in changes)
    return tx.one(
        f"""UPDATE accounts SET {assignments}, version = version + 1,
                   token_version = token_version + 1
             WHERE id = %(account_id)s RETURNING {ACCOUNT_COLUMNS}""",
        changes | {"account_id": account_id})


def token_state(tx, account_id):
    return tx.one("SELECT token_version, role FROM accounts WHERE id = %s", (account_id,))


def lock_login_pair(tx, email, client):
    """The (e-mail, client) pair's failures, its row locked until the transaction ends: a
    parallel attempt of the same pair waits here, then sees this one's outcome."""
    return tx.one(
        """INSERT INTO login_throttle (email, client) VALUES (%s, %s)
           ON CONFLICT (email, client) DO UPDATE SET email = EXCLUDED.email
           RETURNING failures, last_failure_at, blocked_until""", (email, client))


def record_login_failure(tx, email, client, failures, now, blocked_until):
    tx.execute("""UPDATE login_throttle SET failures = %s, last_failure_at = %s,
                         blocked_until = %s
                   WHERE email = %s AND client = %s""",
               (failures, now, blocked_until, email, client))


def clear_login_pair(tx, email, client):
    tx.execute("DELETE FROM login_throttle WHERE email = %s AND client = %s", (email, client))


def forget_login_failures_before(tx, moment):
    tx.execute("DELETE FROM login_throttle WHERE last_failure_at < %s", (moment,))


def count_signup(tx, client, now, window):
    """Counts one sign-up of ``client`` in its fixed window (a new one once the last is over),
    atomically: {signups, window_started_at} including this one."""
    return tx.one(
        """INSERT INTO signup_throttle (client, window_started_at, signups)
           VALUES (%(client)s, %(now)s, 1)
           ON CONFLICT (client) DO UPDATE SET
               signups = CASE WHEN signup_throttle.window_started_at <= %(edge)s THEN 1
                              ELSE signup_throttle.signups + 1 END,
               window_started_at = CASE WHEN signup_throttle.window_started_at <= %(edge)s
                                        THEN %(now)s ELSE signup_throttle.window_started_at END
           RETURNING signups, window_started_at""",
        {"client": client, "now": now, "edge": now - window})


def forget_signups_before(tx, moment):
    tx.execute("DELETE FROM signup_throttle WHERE window_started_at < %s", (moment,))


# --- businesses -----------------------------------------------------------------------------

def insert_business(tx, business):
    try:
        return tx.one(
            f"""INSERT INTO businesses (id, owner_account_id, name, kind, kecamatan, address,
                    phone, email, sector, nib, nik_koperasi, cooperative_type, packaging)
                VALUES (%(id)s, %(owner_account_id)s, %(name)s, %(kind)s, %(kecamatan)s,
                    %(address)s, %(phone)s, %(email)s, %(sector)s, %(nib)s, %(nik_koperasi)s,
                    %(cooperative_type)s, %(packaging)s)
                RETURNING {BUSINESS_COLUMNS}""", business)
    except psycopg2.errors.UniqueViolation as exc:
        raise _duplicate_identity(exc) from None
    except psycopg2.errors.ForeignKeyViolation:
        raise Unauthorized("The account behind this token no longer exists.") from None


def _duplicate_identity(exc):
    field = {"businesses_nib_key": "nib",
             "businesses_nik_koperasi_key": "nik_koperasi"}.get(exc.diag.constraint_name, "id")
    return Conflict("A business with this identity is already registered.",
                    fields={field: ["Already registered."]})


def business_by_id(tx, business_id, for_update=False):
    lock = " FOR UPDATE" if for_update else ""
    return tx.one(f"SELECT {BUSINESS_COLUMNS} FROM businesses WHERE id = %s{lock}",
                  (business_id,))


def update_business(tx, business_id, changes):
    assignments = ", ".join(f"{column} = %({column})s" for column in changes)
    try:
        return tx.one(
            f"""UPDATE businesses SET {assignments}, version = version + 1, updated_at = now()
                 WHERE id = %(business_id)s RETURNING {BUSINESS_COLUMNS}""",
            changes | {"business_id": business_id})
    except psycopg2.errors.UniqueViolation as exc:
        raise _duplicate_identity(exc) from None


def touch_business(tx, business_id):
    """A new version of the business, for a change outside its own row (a certification)."""
    return tx.one(f"""UPDATE businesses SET version = version + 1, updated_at = now()
                       WHERE id = %s RETURNING {BUSINESS_COLUMNS}""", (business_id,))


def list_businesses(tx, filters, limit, cursor=None):
    """Newest first. ``filters`` may hold status, kecamatan, sector and owner_account_id."""
    conditions, params = [], {"limit": limit + 1}
    for column in ("status", "kecamatan", "sector", "owner_account_id"):
        if filters.get(column) is not None:
            conditions.append(f"{column} = %({column})s")
            params[column] = filters[column]
    if cursor:
        params["after_created"], params["after_id"] = decode_cursor(cursor, timestamp, identifier)
        conditions.append("(created_at, id) < (%(after_created)s, %(after_id)s)")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    rows = tx.all(f"""SELECT {BUSINESS_COLUMNS} FROM businesses {where}
                      ORDER BY created_at DESC, id DESC LIMIT %(limit)s""", params)
    return page(rows, limit, key=lambda row: (row["created_at"].isoformat(), row["id"]))


def business_ids_after(tx, after_id, limit):
    return [row["id"] for row in tx.all(
        "SELECT id FROM businesses WHERE id > %s ORDER BY id LIMIT %s", (after_id, limit))]


def save_readiness(tx, business_id, summary):
    return tx.one(f"""UPDATE businesses SET readiness = %s, version = version + 1
                       WHERE id = %s RETURNING {BUSINESS_COLUMNS}""",
                  (psycopg2.extras.Json(summary), business_id))


def insert_decision(tx, business, to_status, note, decided_by, identity):
    """``identity`` is what the decider saw of the business's legal identity."""
    tx.execute(
        """INSERT INTO verification_decisions (business_id, from_status, to_status, note,
               decided_by, business_version, identity) VALUES (%s, %s, %s, %s, %s, %s, %s)""",
        (business["id"], business["status"], to_status, note, decided_by, business["version"],
         psycopg2.extras.Json(identity)))


def decisions_of(tx, business_ids):
    """Each business's verification history, oldest first: {business_id: [decision, ...]}."""
    return _by_business(business_ids, tx.all(
        """SELECT business_id, from_status, to_status, note, decided_by, decided_at,
                  business_version, identity
             FROM verification_decisions WHERE business_id = ANY(%s)
            ORDER BY business_id, id""", (list(business_ids),)))


# --- certifications -------------------------------------------------------------------------

def insert_certification(tx, certification):
    row = tx.one(
        f"""INSERT INTO certifications (id, business_id, kind, number, valid_until)
            VALUES (%(id)s, %(business_id)s, %(kind)s, %(number)s, %(valid_until)s)
            ON CONFLICT (business_id, kind, number) DO NOTHING
            RETURNING {CERTIFICATION_COLUMNS}""", certification)
    if row is None:
        raise Conflict("This certification is already recorded for the business.",
                       fields={"number": ["Already recorded."]})
    return row


def certification_by_id(tx, business_id, certification_id):
    return tx.one(f"""SELECT {CERTIFICATION_COLUMNS} FROM certifications
                       WHERE id = %s AND business_id = %s FOR UPDATE""",
                  (certification_id, business_id))


def review_certification(tx, certification_id, status, note, reviewed_by):
    return tx.one(
        f"""UPDATE certifications SET status = %s, review_note = %s, reviewed_by = %s,
                   reviewed_at = now()
             WHERE id = %s RETURNING {CERTIFICATION_COLUMNS}""",
        (status, note, reviewed_by, certification_id))


def certifications_of(tx, business_ids):
    """Each business's certifications, latest expiry first: {business_id: [certification, ...]}."""
    return _by_business(business_ids, tx.all(
        f"""SELECT {CERTIFICATION_COLUMNS} FROM certifications
             WHERE business_id = ANY(%s) ORDER BY business_id, valid_until DESC, id""",
        (list(business_ids),)))


def businesses_sharing_numbers(tx, business_ids):
    """{certification id: [other business ids claiming the same kind and number]}."""
    rows = tx.all(
        """SELECT mine.id AS certification_id, array_agg(DISTINCT other.business_id) AS others
             FROM certifications mine
             JOIN certifications other ON other.kind = mine.kind AND other.number = mine.number
                                      AND other.business_id <> mine.business_id
            WHERE mine.business_id = ANY(%s)
            GROUP BY mine.id""", (list(business_ids),))
    return {row["certification_id"]: [str(other) for other in row["others"]] for row in rows}


def _by_business(business_ids, rows):
    """Rows grouped by their business, every asked-for business present (maybe empty)."""
    grouped = {business_id: [] for business_id in business_ids}
    for row in rows:
        grouped[row.pop("business_id")].append(row)
    return grouped
