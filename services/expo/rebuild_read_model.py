"""Rebuild the expo's read model of businesses from the registry's current facts.

    python -m services.expo.rebuild_read_model

Empties the read model and the versions its consumer applied, then asks the registry for
every business's snapshot and version (the ``business_facts`` RPC, paged by id) and applies
each through the consumer's own effect, newest wins: a live fact arriving meanwhile is applied
or skipped by its version, whichever comes first, so the expo may keep running. The registry
must be running. Prints one JSON line: how many businesses were applied.
"""
import json
import uuid

from nameko.standalone.rpc import ClusterRpcProxy

from backbone import clock, config
from backbone.contracts import Event
from backbone.db import Postgres
from backbone.logs import configure_logging
from services.expo import events, schemas, store
from services.expo.service import READ_MODEL_HANDLER, remember_business

PAGE_SIZE = 200


def replayed_event(item):
    """A snapshot from the registry as the fact the consumer would have received."""
    facts = item["facts"]
    return Event(event_id=uuid.uuid4(), event_type=events.BUSINESS_REPLAYED, version=1,
                 occurred_at=clock.now(), source="registry", request_id=None, payload=facts,
                 aggregate_type="business", aggregate_id=facts["business_id"],
                 aggregate_version=item["version"])


def rebuild(postgres, business_facts):
    """``business_facts(query)`` is the registry's RPC; returns how many facts applied."""
    with postgres.transaction() as tx:
        store.forget_businesses(tx, READ_MODEL_HANDLER)
    applied, after_id = 0, None
    while True:
        page = schemas.BusinessFactsPage().load(
            business_facts({"after_id": after_id, "limit": PAGE_SIZE}))
        for item in page["items"]:
            applied += postgres.apply_if_newer(replayed_event(item), READ_MODEL_HANDLER,
                                               remember_business)
        after_id = page["next_after_id"]
        if after_id is None:
            return applied


def main():
    configure_logging("expo")
    postgres = Postgres(config.database_url("expo"), source="expo", pool_size=1)
    try:
        with ClusterRpcProxy({"AMQP_URI": config.amqp_uri()},
                             timeout=config.env_float("LARIS_RPC_TIMEOUT")) as cluster:
            applied = rebuild(postgres, cluster.registry.business_facts)
    finally:
        postgres.close()
    print(json.dumps({"rebuilt": "expo.businesses", "applied": applied}))


if __name__ == "__main__":
    main()
