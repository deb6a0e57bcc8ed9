"""Database errors classified by SQLSTATE, on real errors from the real PostgreSQL: an outage
is BackendUnavailable (503, consumers wait); anything about the request is not."""
import concurrent.futures
import threading

import psycopg2
import pytest

from backbone.errors import (BackendUnavailable, Conflict, ServiceBusy, ValidationFailed,
                             classify_database_error, is_outage)


@pytest.fixture
def connect(backbone_db_url):
    opened = []

    def new_connection():
        conn = psycopg2.connect(backbone_db_url)
        opened.append(conn)
        return conn
    yield new_connection
    for conn in opened:
        conn.close()


def error_of(conn, *statements):
    with pytest.raises(psycopg2.Error) as caught:
        with conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    if not conn.closed:
        conn.rollback()
    return caught.value


@pytest.mark.parametrize("statement", [
    "SELECT 'not a number'::int",                                    # 22P02
    "SELECT 2147483647::int + 1",                                    # 22003
    "SELECT convert_from('\\x00'::bytea, 'UTF8')",                    # 22021 (a NUL)
    "CREATE TEMP TABLE short (v varchar(3)); INSERT INTO short VALUES ('too long')",  # 22001
])
def test_data_errors_are_the_callers_fault(connect, statement):
    error = error_of(connect(), statement)
    assert error.pgcode.startswith("22")
    assert isinstance(classify_database_error(error), ValidationFailed)
    assert not is_outage(error)


def test_constraint_violations_are_conflicts(connect):
    error = error_of(connect(), "CREATE TEMP TABLE once (v int PRIMARY KEY)",
                     "INSERT INTO once VALUES (1), (1)")
    assert error.pgcode == "23505"
    assert isinstance(classify_database_error(error), Conflict)


def test_a_statement_timeout_is_busy_not_an_outage(connect):
    error = error_of(connect(), "SET statement_timeout = 1", "SELECT pg_sleep(1)")
    assert isinstance(error, psycopg2.OperationalError)  # why it used to look like an outage
    assert isinstance(classify_database_error(error), ServiceBusy)
    assert not is_outage(error)


def test_a_lock_timeout_is_busy(connect):
    holder, waiter = connect(), connect()
    with holder.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS itest_locks (id int PRIMARY KEY)")
        cursor.execute("INSERT INTO itest_locks VALUES (1) ON CONFLICT DO NOTHING")
        holder.commit()
        cursor.execute("SELECT * FROM itest_locks WHERE id = 1 FOR UPDATE")
    error = error_of(waiter, "SET lock_timeout = 50",
                     "SELECT * FROM itest_locks WHERE id = 1 FOR UPDATE")
    holder.rollback()
    assert error.pgcode == "55P03"
    assert isinstance(classify_database_error(error), ServiceBusy)


def test_a_deadlock_is_a_conflict_to_retry(connect):
    setup = connect()
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS itest_locks (id int PRIMARY KEY)")
        cursor.execute("INSERT INTO itest_locks VALUES (1), (2) ON CONFLICT DO NOTHING")
    setup.commit()
    first_locks = threading.Barrier(2)

    def lock_both(order):
        conn = connect()
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT * FROM itest_locks WHERE id = %s FOR UPDATE", (order[0],))
                first_locks.wait()
                cursor.execute("SELECT * FROM itest_locks WHERE id = %s FOR UPDATE", (order[1],))
            return None
        except psycopg2.Error as exc:
            return exc
        finally:
            conn.rollback()

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        errors = [e for e in pool.map(lock_both, [(1, 2), (2, 1)]) if e is not None]
    assert [e.pgcode for e in errors] == ["40P01"]
    classified = classify_database_error(errors[0])
    assert isinstance(classified, Conflict) and "retry" in classified.message


def test_a_lost_connection_is_an_outage(connect, backbone_db_url):
    victim = connect()
    with victim.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    victim.commit()
    killer = connect()
    with killer.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
    killer.commit()
    terminated = error_of(victim, "SELECT 1")
    assert isinstance(classify_database_error(terminated), BackendUnavailable)
    closed = error_of(victim, "SELECT 1")
    assert isinstance(closed, psycopg2.InterfaceError)
    assert is_outage(closed)


def test_bad_sql_is_a_bug_and_stays_itself(connect):
    error = error_of(connect(), "SELECT * FROM no_such_table")
    assert classify_database_error(error) is None


def test_a_transaction_raises_what_the_error_means(postgres):
    with pytest.raises(ServiceBusy) as busy:
        with postgres.transaction() as tx:
            tx.execute("SET LOCAL statement_timeout = 1")
            tx.execute("SELECT pg_sleep(1)")
    assert busy.value.code == "service_busy"
    with pytest.raises(ValidationFailed):
        with postgres.transaction() as tx:
            tx.one("SELECT 'x'::int AS n")
    with pytest.raises(Conflict):
        with postgres.transaction() as tx:
            tx.execute("CREATE TEMP TABLE once (v int PRIMARY KEY)")
            tx.execute("INSERT INTO once VALUES (1), (1)")
    # The connection is usable again afterwards.
    with postgres.transaction() as tx:
        assert tx.one("SELECT 1 AS ok")["ok"] == 1
