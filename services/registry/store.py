"""The registry's SQL. Functions take a ``Transaction`` and return plain dicts."""
import psycopg2.extras

from backbone.errors import Conflict, Unauthorized
from backbone.pagination import decode_cursor, page

ACCOUNT_COLUMNS = "id, email, name, role, phone, locale, created_at"
BUSINESS_COLUMNS = """id, owner_account_id, name, kind, kecamatan, address, phone, email, sector,
    nib, nik_koperasi, cooperative_type, packaging, status, readiness, created_at, updated_at"""


# --- accounts -------------------------------------------------------------------------------

def insert_account(tx, account):
    row = tx.one(
        f"""INSERT INTO accounts (id, email, password_hash, name, role, phone, locale)
            VALUES (%(id)s, %(email)s, %(password_hash)s, %(name)s, %(role)s, %(phone)s,
                    %(locale)s)
            ON CONFLICT (email) DO NOTHING RETURNING {ACCOUNT_COLUMNS}""", account)
    if row is None:
        raise Conflict("An account with this e-mail already exists.",
                       fields={"email": ["Already registered."]})
    return row


def account_by_id(tx, account_id):
    return tx.one(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = %s", (account_id,))


def credentials_by_email(tx, email):
    return tx.one(f"SELECT {ACCOUNT_COLUMNS}, password_hash FROM accounts WHERE email = %s",
                  (email,))


def update_password_hash(tx, account_id, password_hash):
    tx.execute("UPDATE accounts SET password_hash = %s WHERE id = %s",
               (password_hash, account_id))


def recent_login_failures(tx, email, client, since):
    return tx.one(
        """SELECT count(*) FILTER (WHERE email = %(email)s) AS for_email,
                  count(*) FILTER (WHERE client = %(client)s) AS for_client,
                  min(failed_at) AS oldest
             FROM login_failures
            WHERE failed_at >= %(since)s AND (email = %(email)s OR client = %(client)s)""",
        {"email": email, "client": client, "since": since})


def record_login_failure(tx, email, client):
    tx.execute("INSERT INTO login_failures (email, client) VALUES (%s, %s)", (email, client))


def forget_login_failures_before(tx, moment):
    tx.execute("DELETE FROM login_failures WHERE failed_at < %s", (moment,))


def clear_login_failures(tx, email):
    tx.execute("DELETE FROM login_failures WHERE email = %s", (email,))


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
            f"""UPDATE businesses SET {assignments}, updated_at = now()
                 WHERE id = %(business_id)s RETURNING {BUSINESS_COLUMNS}""",
            changes | {"business_id": business_id})
    except psycopg2.errors.UniqueViolation as exc:
        raise _duplicate_identity(exc) from None


def list_businesses(tx, filters, limit, cursor=None):
    """Newest first. ``filters`` may hold status, kecamatan, sector and owner_account_id."""
    conditions, params = [], {"limit": limit + 1}
    for column in ("status", "kecamatan", "sector", "owner_account_id"):
        if filters.get(column) is not None:
            conditions.append(f"{column} = %({column})s")
            params[column] = filters[column]
    if cursor:
        params["after_created"], params["after_id"] = decode_cursor(cursor, 2)
        conditions.append("(created_at, id) < (%(after_created)s::timestamptz, %(after_id)s::uuid)")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    rows = tx.all(f"""SELECT {BUSINESS_COLUMNS} FROM businesses {where}
                      ORDER BY created_at DESC, id DESC LIMIT %(limit)s""", params)
    return page(rows, limit, key=lambda row: (row["created_at"].isoformat(), row["id"]))


def business_ids_after(tx, after_id, limit):
    return [row["id"] for row in tx.all(
        "SELECT id FROM businesses WHERE id > %s ORDER BY id LIMIT %s", (after_id, limit))]


def save_readiness(tx, business_id, summary):
    tx.execute("UPDATE businesses SET readiness = %s WHERE id = %s",
               (psycopg2.extras.Json(summary), business_id))


def insert_decision(tx, business_id, from_status, to_status, note, decided_by):
    tx.execute(
        """INSERT INTO verification_decisions (business_id, from_status, to_status, note,
               decided_by) VALUES (%s, %s, %s, %s, %s)""",
        (business_id, from_status, to_status, note, decided_by))


def decisions_of(tx, business_ids):
    """Each business's verification history, oldest first: {business_id: [decision, ...]}."""
    return _by_business(business_ids, tx.all(
        """SELECT business_id, from_status, to_status, note, decided_by, decided_at
             FROM verification_decisions WHERE business_id = ANY(%s)
            ORDER BY business_id, id""", (list(business_ids),)))


# --- certifications -------------------------------------------------------------------------

def insert_certification(tx, certification):
    row = tx.one(
        """INSERT INTO certifications (id, business_id, kind, number, valid_until)
           VALUES (%(id)s, %(business_id)s, %(kind)s, %(number)s, %(valid_until)s)
           ON CONFLICT (business_id, kind, number) DO NOTHING
           RETURNING id, business_id, kind, number, valid_until, created_at""", certification)
    if row is None:
        raise Conflict("This certification is already recorded for the business.",
                       fields={"number": ["Already recorded."]})
    return row


def certifications_of(tx, business_ids):
    """Each business's certifications, latest expiry first: {business_id: [certification, ...]}."""
    return _by_business(business_ids, tx.all(
        """SELECT business_id, id, kind, number, valid_until, created_at FROM certifications
            WHERE business_id = ANY(%s) ORDER BY business_id, valid_until DESC, id""",
        (list(business_ids),)))


def _by_business(business_ids, rows):
    """Rows grouped by their business, every asked-for business present (maybe empty)."""
    grouped = {business_id: [] for business_id in business_ids}
    for row in rows:
        grouped[row.pop("business_id")].append(row)
    return grouped


def ping(tx):
    tx.one("SELECT 1 AS ok")
