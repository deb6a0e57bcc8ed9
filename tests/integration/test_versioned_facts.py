"""Apply if newer: a read model fed by versioned facts against the real PostgreSQL, with the
facts delivered out of order, twice, and by racing consumers."""
import concurrent.futures
import threading

import pytest

from backbone.contracts import new_event
from backbone.inbox import PermanentFailure

FACTS = {"business_id": "b-1", "owner_account_id": "a-1", "kind": "umkm",
         "sector": "kuliner", "kecamatan": "klojen", "status": "pending"}
HANDLER = "itest.businesses"


def fact(version, name=None):
    return new_event("business.updated", FACTS | {"name": name or f"name v{version}"},
                     source="itest", aggregate=("business", "b-1", version))


def remember_name(applied):
    def effect(tx, event):
        applied.append(event.aggregate_version)
    return effect


def stored_version(postgres):
    with postgres.transaction() as tx:
        return tx.one("SELECT version, event_id FROM aggregate_versions"
                      " WHERE handler = %s AND aggregate_id = 'b-1'", (HANDLER,))


def test_facts_out_of_order_only_the_newest_is_applied(postgres):
    applied = []
    v3, v1, v2 = fact(3), fact(1), fact(2)
    outcomes = [postgres.apply_if_newer(event, HANDLER, remember_name(applied))
                for event in (v3, v1, v2)]
    assert outcomes == [True, False, False]
    assert applied == [3]
    assert stored_version(postgres) == {"version": 3, "event_id": v3.event_id}


def test_a_redelivered_newest_fact_changes_nothing(postgres):
    applied = []
    v3 = fact(3)
    assert postgres.apply_if_newer(v3, HANDLER, remember_name(applied)) is True
    assert postgres.apply_if_newer(v3, HANDLER, remember_name(applied)) is False
    # The same version in another event (a producer's retry) is not newer either.
    assert postgres.apply_if_newer(fact(3, "again"), HANDLER, remember_name(applied)) is False
    assert applied == [3]


def test_skipped_older_facts_are_remembered_in_the_inbox(postgres):
    postgres.apply_if_newer(fact(2), HANDLER, lambda tx, e: None)
    older = fact(1)
    assert postgres.apply_if_newer(older, HANDLER, lambda tx, e: None) is False
    with postgres.transaction() as tx:
        assert tx.one("SELECT count(*) AS n FROM inbox WHERE event_id = %s",
                      (older.event_id,))["n"] == 1


def test_each_handler_keeps_its_own_versions(postgres):
    v2 = fact(2)
    assert postgres.apply_if_newer(v2, HANDLER, lambda tx, e: None) is True
    assert postgres.apply_if_newer(v2, "itest.other_read_model", lambda tx, e: None) is True


def test_racing_consumers_of_one_aggregate_leave_the_highest_version(postgres):
    with postgres.transaction() as tx:
        tx.execute("CREATE TABLE IF NOT EXISTS itest_business (id text PRIMARY KEY,"
                   " name text NOT NULL, version integer NOT NULL)")
        tx.execute("TRUNCATE itest_business")
    facts = [fact(version) for version in (2, 5, 3, 4, 1)]
    gate = threading.Barrier(len(facts))

    def write_snapshot(tx, event):
        tx.execute("SELECT pg_sleep(0.05)")  # widen the window in which they overlap
        tx.execute("""INSERT INTO itest_business VALUES (%s, %s, %s) ON CONFLICT (id)
                      DO UPDATE SET name = EXCLUDED.name, version = EXCLUDED.version""",
                   ("b-1", event.payload["name"], event.aggregate_version))

    def consume(event):
        gate.wait()
        return postgres.apply_if_newer(event, HANDLER, write_snapshot)

    with concurrent.futures.ThreadPoolExecutor(len(facts)) as pool:
        list(pool.map(consume, facts))
    with postgres.transaction() as tx:
        row = tx.one("SELECT name, version FROM itest_business WHERE id = 'b-1'")
    assert row == {"name": "name v5", "version": 5}
    assert stored_version(postgres)["version"] == 5


def test_a_fact_without_an_aggregate_is_refused(postgres):
    plain = new_event("business.updated", FACTS | {"name": "x"}, source="itest")
    with pytest.raises(PermanentFailure, match="carries no aggregate version"):
        postgres.apply_if_newer(plain, HANDLER, lambda tx, e: None)
