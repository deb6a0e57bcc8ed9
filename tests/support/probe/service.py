from marshmallow import fields

from backbone.contracts import CONTRACTS, BusinessVerifiedV1
from backbone.context import RequestContext
from backbone.db import Database
from backbone.inbox import consumes


class BusinessVerifiedV2(BusinessVerifiedV1):
    """A future version, known only to the probe: it lets the tests publish two versions side
    by side and see each handler take its own."""
    verified_by = fields.String(required=True)


CONTRACTS.setdefault(("business.verified", 2), BusinessVerifiedV2)


def record_effect(tx, event):
    business_id = event.payload.get("business_id") or event.payload.get("account_id")
    if tx.one("SELECT 1 AS fail FROM probe_failures WHERE subject_id = %s", (business_id,)):
        raise RuntimeError(f"probe told to fail for {business_id}")
    tx.execute(
        """INSERT INTO probe_effects (event_id, event_type, subject_id, request_id)
           VALUES (%s, %s, %s, %s)
           ON CONFLICT (event_id) DO UPDATE SET applied = probe_effects.applied + 1""",
        (event.event_id, event.event_type, business_id, tx.request_id))


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

    @consumes("registry", "account.created")
    def on_account_created(self, event):
        self.db.apply_once(event, record_effect)
