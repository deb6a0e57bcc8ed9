"""A consumer built only from the shared backbone, as every later service's consumers will be.

It records each effect it applies in its own database, so tests can count effects per event:
exactly one, whatever the redeliveries. It keeps a read model of businesses from versioned
facts (apply if newer). Tests can also tell it to fail for a business, in several ways.
"""
from marshmallow import fields

from backbone.contracts import CONTRACTS, AccountCreatedV1, BusinessVerifiedV1
from backbone.context import RequestContext
from backbone.db import Database
from backbone.inbox import consumes

BUSINESS_FACTS = ["business.registered", "business.verified", "business.rejected",
                  "business.resubmitted", "business.updated"]


class BusinessVerifiedV2(BusinessVerifiedV1):
    """A future version, known only to the probe: it lets the tests publish two versions side
    by side and see each handler take its own."""
    verified_by = fields.String(required=True)


class AccountCreatedV2(AccountCreatedV1):
    """A future version the probe knows the contract of but has no handler for: it must be
    parked, not acknowledged and lost."""
    phone = fields.String(required=True)


CONTRACTS.setdefault(("business.verified", 2), BusinessVerifiedV2)
CONTRACTS.setdefault(("account.created", 2), AccountCreatedV2)

def fail_as_told(tx, subject_id, mode):
    if mode == "data":
        tx.one("SELECT 'not a number'::int AS n")
    elif mode == "timeout":
        tx.execute("SET LOCAL statement_timeout = 1; SELECT pg_sleep(0.2)")
    raise RuntimeError(f"probe told to fail for {subject_id}")


def record_effect(tx, event):
    subject_id = event.payload.get("business_id") or event.payload.get("account_id")
    failure = tx.one("SELECT mode FROM probe_failures WHERE subject_id = %s", (subject_id,))
    if failure:
        fail_as_told(tx, subject_id, failure["mode"])
    tx.execute(
        """INSERT INTO probe_effects (event_id, event_type, subject_id, request_id)
           VALUES (%s, %s, %s, %s)
           ON CONFLICT (event_id) DO UPDATE SET applied = probe_effects.applied + 1""",
        (event.event_id, event.event_type, subject_id, tx.request_id))


def remember_business(tx, event):
    """Each fact carries the full snapshot, so the newest one is all the read model needs."""
    tx.execute(
        """INSERT INTO probe_businesses (business_id, name, status, version)
           VALUES (%(business_id)s, %(name)s, %(status)s, %(version)s)
           ON CONFLICT (business_id) DO UPDATE
              SET name = EXCLUDED.name, status = EXCLUDED.status, version = EXCLUDED.version,
                  applied = probe_businesses.applied + 1""",
        event.payload | {"version": event.aggregate_version})


class ProbeService:
    name = "probe"

    db = Database(relay=False)
    request_id = RequestContext()

    @consumes("registry", "business.verified")
    def on_business_verified(self, event):
        self.db.apply_once(event, record_effect)

    @consumes("registry", "business.verified", version=2)
    def on_business_verified_v2(self, event):
        self.db.apply_once(event, record_effect)

    @consumes("registry", BUSINESS_FACTS)
    def on_business_fact(self, event):
        self.db.apply_if_newer(event, remember_business)

    @consumes("registry", "account.*")
    def on_account_fact(self, event):
        self.db.apply_once(event, record_effect)
