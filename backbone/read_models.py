"""Rebuilding a service's read model of businesses from the registry's current facts.

The expo and the marketplace each keep a read model of businesses fed by the registry's
``business.*`` facts (apply if newer). Either can be rebuilt the same way, with
``python -m services.<service>.rebuild_read_model``: empty the read model and the versions its
consumer applied, then ask the registry for every business's snapshot and version (the
``business_facts`` RPC, paged by id) and apply each through the consumer's own effect, newest
wins. A live fact arriving meanwhile is applied or skipped by its version, whichever comes
first, so the service may keep running. The registry must be running.
"""
import json
import uuid

from marshmallow import EXCLUDE, Schema, fields, validate
from nameko.standalone.rpc import ClusterRpcProxy

from backbone import clock, config
from backbone.contracts import BusinessFacts, Event
from backbone.db import Postgres
from backbone.logs import configure_logging

PAGE_SIZE = 200
# The inbox's name for a snapshot replayed by a rebuild (not a broker event).
BUSINESS_REPLAYED = "business.replayed"


class VersionedBusinessFacts(Schema):
    """One business as the registry's ``business_facts`` RPC answers: its snapshot and the
    version it stands at, the same pair every business.* event carries."""

    class Meta:
        unknown = EXCLUDE

    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    facts = fields.Nested(BusinessFacts, required=True)


class BusinessFactsPage(Schema):
    class Meta:
        unknown = EXCLUDE

    items = fields.List(fields.Nested(VersionedBusinessFacts), required=True)
    next_after_id = fields.String(load_default=None, allow_none=True)


def replayed_event(item):
    """A snapshot from the registry as the fact the consumer would have received."""
    facts = item["facts"]
    return Event(event_id=uuid.uuid4(), event_type=BUSINESS_REPLAYED, version=1,
                 occurred_at=clock.now(), source="registry", request_id=None, payload=facts,
                 aggregate_type="business", aggregate_id=facts["business_id"],
                 aggregate_version=item["version"])


def forget_businesses(tx, handler):
    """Empties the read model (every service names its table ``businesses``) and the versions
    its handler applied."""
    tx.execute("DELETE FROM businesses")
    tx.execute("DELETE FROM aggregate_versions WHERE handler = %s", (handler,))


def rebuild(postgres, business_facts, handler, effect):
    """``business_facts(query)`` is the registry's RPC, ``effect(tx, event)`` the consumer's;
    returns how many facts were applied."""
    with postgres.transaction() as tx:
        forget_businesses(tx, handler)
    applied, after_id = 0, None
    while True:
        page = BusinessFactsPage().load(business_facts({"after_id": after_id,
                                                        "limit": PAGE_SIZE}))
        for item in page["items"]:
            applied += postgres.apply_if_newer(replayed_event(item), handler, effect)
        after_id = page["next_after_id"]
        if after_id is None:
            return applied


def main(service, handler, effect):
    """Rebuilds ``service``'s read model and prints one JSON line: how many were applied."""
    configure_logging(service)
    postgres = Postgres(config.database_url(service), source=service, pool_size=1)
    try:
        with ClusterRpcProxy({"AMQP_URI": config.amqp_uri()},
                             timeout=config.env_float("LARIS_RPC_TIMEOUT")) as cluster:
            applied = rebuild(postgres, cluster.registry.business_facts, handler, effect)
    finally:
        postgres.close()
    print(json.dumps({"rebuilt": f"{service}.businesses", "applied": applied}))
