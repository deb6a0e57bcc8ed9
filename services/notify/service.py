"""Notify's nameko entrypoints: the inbox over RPC, and the consumers that fill it."""
import logging

from nameko.rpc import rpc

from backbone import clock
# Imported as a module: nameko would run any service class it finds in this module.
from backbone import service as laris
from backbone.caller import checked_caller
from backbone.contracts import business_snapshot
from backbone.errors import NotFound, load_valid
from backbone.fields import parse_id
from backbone.inbox import consumes
from services.notify import contract, domain, events, schemas, store

log = logging.getLogger(__name__)


# --- effects of events ----------------------------------------------------------------------

def remember_account(tx, event):
    store.save_account(tx, schemas.AccountFacts().load(event.payload), event.aggregate_version)


def remember_business(tx, event):
    store.save_business(tx, business_snapshot(event), event.aggregate_version)


def write_notifications(tx, event):
    """One inbox notification per recipient of the event, each in its recipient's language.
    The inbox row of apply_once stops a redelivered copy; the table's unique key stops a copy
    that slipped past it (a second consumer in a race, a replay)."""
    names = store.business_names(tx, domain.businesses_named_in(event.event_type,
                                                                event.payload))
    drafts = domain.drafts_for(event.event_type, event.payload, names)
    accounts = store.accounts_by_id(tx, {draft.account_id for draft in drafts})
    for draft in drafts:
        message = domain.render(draft, domain.locale_of(accounts.get(draft.account_id)))
        written = store.insert_notification(tx, message | {
            "account_id": draft.account_id, "kind": event.event_type, "ref": draft.ref,
            "event_id": event.event_id, "channel": domain.CHANNEL_INBOX})
        log.info("notification written" if written else "notification already written", extra={
            "event_id": str(event.event_id), "event_type": event.event_type,
            "account_id": draft.account_id, "template": draft.template})


class NotifyService(laris.LarisService):
    name = "notify"

    # --- the inbox --------------------------------------------------------------------------

    @rpc
    def list_notifications(self, caller, query):
        caller = checked_caller(caller)
        query = load_valid(contract.NotificationListQuery(), query)
        with self.db.transaction() as tx:
            listing = store.list_notifications(tx, caller["account_id"], query["unread"],
                                               query["limit"], query["cursor"])
            listing["unread_count"] = store.unread_count(tx, caller["account_id"])
        return contract.NotificationPage().dump(listing)

    @rpc
    def mark_read(self, caller, notification_id):
        """Idempotent; someone else's notification is as unknown as a missing one."""
        caller = checked_caller(caller)
        notification_id = parse_id(notification_id)
        if notification_id is None:
            raise NotFound("No such notification.")
        with self.db.transaction() as tx:
            notification = store.mark_read(tx, caller["account_id"], notification_id,
                                           clock.now())
        if notification is None:
            raise NotFound("No such notification.")
        return contract.Notification().dump(notification)

    # --- read models ------------------------------------------------------------------------

    @consumes("registry", list(events.ACCOUNT_FACTS))
    def on_account_fact(self, event):
        self.db.apply_if_newer(event, remember_account)

    @consumes("registry", "business.*")
    def on_business_fact(self, event):
        self.db.apply_if_newer(event, remember_business)

    # --- notifications ----------------------------------------------------------------------

    @consumes("registry", list(events.NOTIFIED["registry"]))
    def notify_business_decision(self, event):
        self.db.apply_once(event, write_notifications)

    @consumes("expo", list(events.NOTIFIED["expo"]))
    def notify_booth_decision(self, event):
        self.db.apply_once(event, write_notifications)

    @consumes("marketplace", list(events.NOTIFIED["marketplace"]))
    def notify_order(self, event):
        self.db.apply_once(event, write_notifications)
