"""The expo's SQL. Functions take a ``Transaction`` and return plain dicts."""
import datetime as dt
import json

import psycopg2.errors
import psycopg2.extras

from backbone.errors import Conflict
from backbone.pagination import decode_cursor, identifier, page, timestamp

EXPO_COLUMNS = """id, name, venue, theme, starts_on, ends_on, applications_open_on,
    applications_close_on, hold_hours, zones, created_by, created_at"""
BOOTH_FIELDS = ("code", "zone", "booth_type", "size_m2", "price_idr", "x", "y", "width", "height",
                "status")
BUSINESS_COLUMNS = """id, owner_account_id, name, kind, sector, kecamatan, status, export_ready,
    certifications, version"""
APPLICATION_FIELDS = ("id", "expo_id", "business_id", "applicant_account_id", "sector",
                      "preferred_zones", "booth_type", "note", "status", "flagship_marked",
                      "reasons", "version", "created_at", "updated_at")


def _columns(names, table=None):
    return ", ".join(f"{table}.{name}" if table else name for name in names)


# An application with what a reader wants beside it: its business's name and export
# readiness, and its booth once one is held or allocated.
APPLICATION_VIEW = f"""SELECT {_columns(APPLICATION_FIELDS, "a")}, b.name AS business_name,
           COALESCE(b.export_ready, '{{}}') AS export_ready, b.owner_account_id,
           al.booth_code, al.hold_expires_at
      FROM applications a
      LEFT JOIN businesses b ON b.id = a.business_id
      LEFT JOIN allocations al ON al.expo_id = a.expo_id AND al.application_id = a.id"""


# --- expos ----------------------------------------------------------------------------------

def insert_expo(tx, expo):
    return tx.one(
        f"""INSERT INTO expos (id, name, venue, theme, starts_on, ends_on,
                applications_open_on, applications_close_on, hold_hours, zones, created_by)
            VALUES (%(id)s, %(name)s, %(venue)s, %(theme)s, %(starts_on)s, %(ends_on)s,
                %(applications_open_on)s, %(applications_close_on)s, %(hold_hours)s,
                %(zones)s, %(created_by)s)
            RETURNING {EXPO_COLUMNS}""",
        expo | {"zones": psycopg2.extras.Json(expo["zones"])})


def expo_by_id(tx, expo_id, for_update=False):
    lock = " FOR UPDATE" if for_update else ""
    return tx.one(f"SELECT {EXPO_COLUMNS} FROM expos WHERE id = %s{lock}", (expo_id,))


def list_expos(tx, limit, cursor=None):
    """Latest expo first."""
    params = {"limit": limit + 1, "after_starts": None, "after_id": None}
    if cursor:
        params["after_starts"], params["after_id"] = decode_cursor(cursor, _date, identifier)
    rows = tx.all(
        f"""SELECT {EXPO_COLUMNS} FROM expos
             WHERE %(after_id)s::uuid IS NULL
                OR (starts_on, id) < (%(after_starts)s::date, %(after_id)s::uuid)
             ORDER BY starts_on DESC, id DESC LIMIT %(limit)s""", params)
    return page(rows, limit, lambda expo: (expo["starts_on"], expo["id"]))


def _date(value):
    return dt.date.fromisoformat(value)


# --- booths ---------------------------------------------------------------------------------

def booths_of(tx, expo_id):
    """Every booth of the plan with its holder's business, if any, ordered by code."""
    return tx.all(
        f"""SELECT {_columns(BOOTH_FIELDS, "bo")},
                   al.business_id, b.name AS business_name
              FROM booths bo
              LEFT JOIN allocations al ON al.expo_id = bo.expo_id AND al.booth_code = bo.code
              LEFT JOIN businesses b ON b.id = al.business_id
             WHERE bo.expo_id = %s ORDER BY bo.code""", (expo_id,))


def insert_booths(tx, expo_id, booths):
    psycopg2.extras.execute_values(
        tx.cursor,
        """INSERT INTO booths (expo_id, code, zone, booth_type, size_m2, price_idr, x, y,
                               width, height) VALUES %s""",
        [(expo_id, b["code"], b["zone"], b["booth_type"], b["size_m2"], b["price_idr"], b["x"],
          b["y"], b["width"], b["height"]) for b in booths])


def set_booth_status(tx, expo_id, code, to_status, business_id, actor, reason):
    """Changes a booth's status and keeps the change in its history; returns the status it
    had."""
    before = tx.one("SELECT status FROM booths WHERE expo_id = %s AND code = %s FOR UPDATE",
                    (expo_id, code))
    tx.execute("UPDATE booths SET status = %s WHERE expo_id = %s AND code = %s",
               (to_status, expo_id, code))
    tx.execute(
        """INSERT INTO booth_history (expo_id, booth_code, from_status, to_status, business_id,
                                      actor, reason)
           VALUES (%s, %s, %s, %s, %s, %s, %s)""",
        (expo_id, code, before["status"], to_status, business_id, actor, reason))
    return before["status"]


# --- allocations and holds ------------------------------------------------------------------

def insert_allocation(tx, allocation):
    """A booth held or allocated for one application; a 409 when the booth, the application
    or the business already has one (the table's keys decide, whatever the concurrency)."""
    try:
        return tx.one(
            """INSERT INTO allocations (expo_id, booth_code, application_id, business_id, state,
                       manual, hold_expires_at, reasons, decided_by)
               VALUES (%(expo_id)s, %(booth_code)s, %(application_id)s, %(business_id)s,
                       %(state)s, %(manual)s, %(hold_expires_at)s, %(reasons)s,
                       %(decided_by)s)
               RETURNING *""",
            allocation | {"reasons": psycopg2.extras.Json(allocation["reasons"])})
    except psycopg2.errors.UniqueViolation:
        raise Conflict(f"Booth {allocation['booth_code']} or this application already has "
                       "a booth.") from None


def delete_allocation_of(tx, expo_id, application_id):
    """The application's booth (held or allocated) taken back; None if it had none."""
    return tx.one("DELETE FROM allocations WHERE expo_id = %s AND application_id = %s"
                  " RETURNING *", (expo_id, application_id))


# --- the read model of businesses -----------------------------------------------------------

def save_business(tx, snapshot, version):
    """The business as its newest fact describes it (every field, never a change)."""
    tx.execute(
        """INSERT INTO businesses (id, owner_account_id, name, kind, sector, kecamatan, status,
                                   export_ready, certifications, version)
           VALUES (%(business_id)s, %(owner_account_id)s, %(name)s, %(kind)s, %(sector)s,
                   %(kecamatan)s, %(status)s, %(export_ready)s, %(certifications)s, %(version)s)
           ON CONFLICT (id) DO UPDATE SET
               owner_account_id = EXCLUDED.owner_account_id, name = EXCLUDED.name,
               kind = EXCLUDED.kind, sector = EXCLUDED.sector, kecamatan = EXCLUDED.kecamatan,
               status = EXCLUDED.status, export_ready = EXCLUDED.export_ready,
               certifications = EXCLUDED.certifications, version = EXCLUDED.version,
               updated_at = now()""",
        snapshot | {"version": version,
                    "certifications": psycopg2.extras.Json(snapshot["certifications"],
                                                           dumps=_json_dumps)})


def _json_dumps(value):
    return json.dumps(value, default=str)


def business_by_id(tx, business_id):
    return tx.one(f"SELECT {BUSINESS_COLUMNS} FROM businesses WHERE id = %s", (business_id,))


# --- applications ---------------------------------------------------------------------------

def insert_application(tx, application):
    try:
        tx.execute(
            """INSERT INTO applications (id, expo_id, business_id, applicant_account_id, sector,
                       preferred_zones, booth_type, note)
               VALUES (%(id)s, %(expo_id)s, %(business_id)s, %(applicant_account_id)s,
                       %(sector)s, %(preferred_zones)s, %(booth_type)s, %(note)s)""",
            application)
    except psycopg2.errors.UniqueViolation:
        raise Conflict("This business already applied to this expo.",
                       fields={"business_id": ["Already applied."]}) from None
    return application_by_id(tx, application["expo_id"], application["id"])


def application_by_id(tx, expo_id, application_id):
    return tx.one(f"{APPLICATION_VIEW} WHERE a.expo_id = %s AND a.id = %s",
                  (expo_id, application_id))


def list_applications(tx, expo_id, applicant, status, limit, cursor=None):
    """Oldest first (the order they came in); ``applicant`` None for every applicant."""
    params = {"expo_id": expo_id, "applicant": applicant, "status": status,
              "limit": limit + 1, "after_created": None, "after_id": None}
    if cursor:
        params["after_created"], params["after_id"] = decode_cursor(cursor, timestamp,
                                                                    identifier)
    rows = tx.all(
        f"""{APPLICATION_VIEW}
             WHERE a.expo_id = %(expo_id)s
               AND (%(applicant)s::uuid IS NULL OR a.applicant_account_id = %(applicant)s)
               AND (%(status)s::text IS NULL OR a.status = %(status)s)
               AND (%(after_id)s::uuid IS NULL
                    OR (a.created_at, a.id) > (%(after_created)s::timestamptz,
                                               %(after_id)s::uuid))
             ORDER BY a.created_at, a.id LIMIT %(limit)s""", params)
    return page(rows, limit, lambda row: (row["created_at"].isoformat(), row["id"]))


def mark_flagship(tx, application_id, flagship):
    tx.execute("""UPDATE applications SET flagship_marked = %s, version = version + 1,
                         updated_at = now() WHERE id = %s""", (flagship, application_id))


def set_application_status(tx, application_id, status, reasons):
    """The application's new status and the reasons for it; returns it at its new version."""
    return tx.one(
        f"""UPDATE applications SET status = %s, reasons = %s, version = version + 1,
                   updated_at = now()
             WHERE id = %s RETURNING {_columns(APPLICATION_FIELDS)}""",
        (status, psycopg2.extras.Json(reasons), application_id))


def expos_of_open_applications(tx, business_id, statuses):
    """The ids of the expos where the business has an open application, in id order (read
    without locks: the caller locks the expos, then the applications)."""
    return [row["expo_id"] for row in tx.all(
        """SELECT DISTINCT expo_id FROM applications WHERE business_id = %s
              AND status = ANY(%s) ORDER BY expo_id""", (business_id, list(statuses)))]


def open_applications_of_business(tx, business_id, statuses):
    return tx.all(
        f"""SELECT {_columns(APPLICATION_FIELDS, "a")}, e.name AS expo_name FROM applications a
              JOIN expos e ON e.id = a.expo_id
             WHERE a.business_id = %s AND a.status = ANY(%s)
             ORDER BY a.created_at FOR UPDATE OF a""", (business_id, list(statuses)))



# --- allocation runs, offers and holds ------------------------------------------------------

def allocation_candidates(tx, expo_id):
    """Applications with a say in this expo's allocation (waiting, or holding or owning a
    booth), with what the allocation weighs of their business, in order of submission."""
    return tx.all(
        f"""SELECT {_columns(APPLICATION_FIELDS, "a")}, b.kecamatan,
                   b.status AS business_status, b.export_ready, al.booth_code
              FROM applications a
              JOIN businesses b ON b.id = a.business_id
              LEFT JOIN allocations al ON al.expo_id = a.expo_id AND al.application_id = a.id
             WHERE a.expo_id = %s
               AND a.status IN ('submitted', 'waitlisted', 'offered', 'allocated')
             ORDER BY a.created_at, a.id""", (expo_id,))


def exhibited_before(tx, expo_id, business_ids):
    """The businesses among ``business_ids`` that had a booth at another expo."""
    rows = tx.all("""SELECT DISTINCT business_id FROM allocations
                      WHERE expo_id <> %s AND state = 'allocated' AND business_id = ANY(%s)""",
                  (expo_id, list(business_ids)))
    return {row["business_id"] for row in rows}


def allocation_of_booth(tx, expo_id, booth_code):
    return tx.one("SELECT * FROM allocations WHERE expo_id = %s AND booth_code = %s FOR UPDATE",
                  (expo_id, booth_code))


def allocation_of_application(tx, expo_id, application_id):
    return tx.one("""SELECT * FROM allocations WHERE expo_id = %s AND application_id = %s
                      FOR UPDATE""", (expo_id, application_id))


def confirm_hold(tx, expo_id, booth_code):
    return tx.one("""UPDATE allocations SET state = 'allocated', hold_expires_at = NULL,
                            updated_at = now()
                      WHERE expo_id = %s AND booth_code = %s RETURNING *""",
                  (expo_id, booth_code))


def delete_allocation_of_booth(tx, expo_id, booth_code):
    return tx.one("DELETE FROM allocations WHERE expo_id = %s AND booth_code = %s RETURNING *",
                  (expo_id, booth_code))


def expired_holds(tx, now, limit):
    """Holds whose time ran out, oldest first (read without locks: each is then handled in a
    transaction of its own that locks its expo first)."""
    return tx.all("""SELECT expo_id, booth_code, application_id FROM allocations
                      WHERE state = 'held' AND hold_expires_at <= %s
                      ORDER BY hold_expires_at LIMIT %s""", (now, limit))


def booth_by_code(tx, expo_id, booth_code):
    return tx.one(f"SELECT {_columns(BOOTH_FIELDS)} FROM booths WHERE expo_id = %s AND code = %s",
                  (expo_id, booth_code))


def history_of_booth(tx, expo_id, booth_code):
    return tx.all("""SELECT from_status, to_status, business_id, actor, reason, at
                       FROM booth_history WHERE expo_id = %s AND booth_code = %s
                      ORDER BY at, id""", (expo_id, booth_code))
