"""Reading a service's database from a test, to count what happened (never to set it up)."""
import psycopg2
import psycopg2.extras


def rows(url, sql, params=None):
    with psycopg2.connect(url) as conn:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall() if cursor.description else []
    conn.close()
    return found


def execute(url, sql, params=None):
    rows(url, sql, params)
