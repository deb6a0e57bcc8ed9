"""Notify's nameko entrypoints: the inbox, webhooks, preferences and dead letters over RPC;
the consumers that write notifications and queue their deliveries (sent by the delivery
worker, a process of its own: deliveries.py)."""
import datetime as dt
import logging

from nameko.rpc import rpc
from nameko.timer import timer

from backbone import clock, config
# Imported as a module: nameko would run any service class it finds in this module.
from backbone import service as laris
from backbone.caller import checked_caller
from backbone.contracts import business_snapshot
from backbone.errors import Conflict, Forbidden, NotFound, ValidationFailed, load_valid
from backbone.fields import parse_id
from backbone.inbox import consumes
from services.notify import channels, contract, domain, events, schemas, store
from services.notify import reminders, whatsapp

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
    outbound = channels.available()
    for draft in drafts:
        message = domain.render(draft, domain.locale_of(accounts.get(draft.account_id)))
        written = store.insert_notification(tx, message | {
            "account_id": draft.account_id, "kind": event.event_type, "ref": draft.ref,
            "event_id": event.event_id, "channel": domain.CHANNEL_INBOX})
        log.info("notification written" if written else "notification already written", extra={
            "event_id": str(event.event_id), "event_type": event.event_type,
            "account_id": draft.account_id, "template": draft.template})
        if written:
            keep_whatsapp_message(tx, written, draft, accounts.get(draft.account_id))
            queue_deliveries(tx, outbound, written, draft.account_id, event.event_type)


def queue_deliveries(tx, outbound, notification_id, account_id, kind):
    """One delivery per channel and destination the recipient wants for this kind, in the
    notification's own transaction; the worker sends them."""
    wanted = store.preferences_of(tx, account_id)["channels"]
    for channel in outbound.values():
        if domain.wants(wanted, kind, channel.name):
            for destination in channel.destinations(tx, account_id, kind):
                store.insert_delivery(tx, notification_id, account_id, channel.name,
                                      destination)


def _preferences_reply(saved):
    quiet = None
    if saved["quiet_start"] is not None:
        quiet = {"start": f"{saved['quiet_start']:%H:%M}", "end": f"{saved['quiet_end']:%H:%M}"}
    return {"channels": saved["channels"], "quiet_hours": quiet}


def _admin(caller):
    caller = checked_caller(caller)
    if caller["role"] != "admin":
        raise Forbidden("Only an admin sees and retries deliveries.")
    return caller


# --- whatsapp -------------------------------------------------------------------------------

def keep_whatsapp_message(tx, notification_id, draft, account):
    """The template message a notification becomes on WhatsApp, kept beside it when its
    recipient opted in: its parameters exist only now, the send may come much later."""
    if store.whatsapp_number(tx, draft.account_id):
        message = whatsapp.message_for(draft.template, draft.params, domain.locale_of(account))
        if message is not None:  # a kind without an approved template stays off WhatsApp
            store.save_whatsapp_message(tx, notification_id, message)


def record_whatsapp_status(tx, status):
    """Whether ``status`` (one of the webhook's) moved a delivery of ours forward."""
    if status["status"] not in whatsapp.TRACKED_STATUSES:
        return False
    delivery = store.whatsapp_delivery(tx, status["id"])
    if delivery is None:
        return False
    error = whatsapp.status_error(status["errors"]) if status["status"] == "failed" else None
    reported_at = dt.datetime.fromtimestamp(int(status["timestamp"]), dt.timezone.utc)
    moved = store.record_whatsapp_status(tx, status["id"], status["status"], reported_at, error)
    if moved and error:
        store.fail_sent_delivery(tx, delivery["id"], error)
    log.info("whatsapp status recorded" if moved else "whatsapp status not newer", extra={
        "delivery_id": str(delivery["id"]), "provider_id": status["id"],
        "status": status["status"]})
    return moved


# --- reminders ------------------------------------------------------------------------------

# Read when the service class is defined (nameko's timer takes its interval then).
REMINDER_SWEEP_SECONDS = config.env_float("LARIS_REMINDER_SWEEP_SECONDS")
REMINDERS_PER_SWEEP = 100


def schedule_certification_reminders(tx, event):
    """A confirmed certificate's reminders; they replace those of an older certificate of
    the same kind (a renewal), and a certificate older than one already known gets none."""
    payload = event.payload
    topic = reminders.certification_topic(payload["business_id"], payload["kind"])
    deadline = reminders.certification_deadline(payload["valid_until"])
    if store.later_deadline_known(tx, topic, deadline):
        return
    store.settle_reminders(tx, topic, deadline_before=deadline)
    leads = reminders.lead_days(config.env("LARIS_REMINDER_CERTIFICATION_DAYS"))
    for reminder in reminders.certification_reminders(payload, clock.now(), leads):
        store.schedule_reminder(tx, reminder)


def track_booth_offer(tx, event):
    """An offer schedules its reminder; the application's booth allocated (the offer
    accepted) or released (declined, expired, withdrawn) settles it."""
    if event.event_type == "expo.booth_offered":
        for reminder in reminders.offer_reminders(
                event.payload, event.occurred_at,
                config.env_float("LARIS_REMINDER_OFFER_HOURS")):
            store.schedule_reminder(tx, reminder)
    else:
        store.settle_reminders(tx, reminders.application_topic(event.payload["application_id"]))


def track_order_confirmation(tx, event):
    """Each part of a placed order schedules its vendor's reminder; the part moving on
    settles it, also when that news comes first."""
    hours = config.env_float("LARIS_REMINDER_ORDER_HOURS")
    if event.event_type == "order.placed":
        for reminder in reminders.order_reminders(event.payload, event.occurred_at, hours):
            store.schedule_reminder(tx, reminder)
    elif reminders.settles_order_part(event.payload):
        store.settle_or_forestall(tx, reminders.order_part_reminder(
            event.payload["order_id"], event.payload["part"], event.occurred_at, hours))


def fire_due_reminders(tx, now):
    """Turns the due reminders into notifications (and their deliveries), each once: the
    rows stay locked until this transaction commits them ``sent``; returns how many were
    due. One found after its deadline is ``lapsed``: reminding is pointless by then."""
    due = store.claim_due_reminders(tx, now, REMINDERS_PER_SWEEP)
    outbound = channels.available()
    for row in due:
        state = "lapsed" if reminders.lapsed(row["deadline"], now) else "sent"
        if state == "sent":
            write_reminder(tx, row, now, outbound)
        store.finish_reminder(tx, row["id"], state)
        log.info(f"reminder {state}", extra={
            "reminder_id": str(row["id"]), "kind": row["kind"], "subject": row["subject"],
            "account_id": str(row["account_id"])})
    return len(due)


def write_reminder(tx, row, now, outbound):
    """The reminder's notification in its recipient's language, with its deliveries; its
    event id is the reminder's id, so the notifications' unique key holds here too."""
    draft = reminders.draft(row["template"], str(row["account_id"]), row["facts"], row["ref"],
                            now)
    account = store.accounts_by_id(tx, {draft.account_id}).get(draft.account_id)
    kind = reminders.NOTIFICATION_KINDS[row["template"]]
    written = store.insert_notification(tx, domain.render(draft, domain.locale_of(account)) | {
        "account_id": draft.account_id, "kind": kind, "ref": draft.ref, "event_id": row["id"],
        "channel": domain.CHANNEL_INBOX})
    if written:
        keep_whatsapp_message(tx, written, draft, account)
        queue_deliveries(tx, outbound, written, draft.account_id, kind)

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

    # --- preferences --------------------------------------------------------------------------

    @rpc
    def get_preferences(self, caller):
        caller = checked_caller(caller)
        with self.db.transaction() as tx:
            return _preferences_reply(store.preferences_of(tx, caller["account_id"]))

    @rpc
    def put_preferences(self, caller, body):
        """Replaces the caller's preferences whole."""
        caller = checked_caller(caller)
        body = load_valid(contract.PreferencesUpdate(), body)
        start = end = None
        quiet = body.get("quiet_hours")
        if quiet and quiet["start"] != quiet["end"]:  # equal: an empty span, no quiet hours
            start, end = (dt.time.fromisoformat(quiet[edge]) for edge in ("start", "end"))
        channels_by_kind = {kind: sorted(set(body["channels"][contract.channels_field(kind)]))
                            for kind in contract.NOTIFICATION_KINDS
                            if contract.channels_field(kind) in body["channels"]}
        with self.db.transaction() as tx:
            saved = store.save_preferences(tx, caller["account_id"], channels_by_kind,
                                           start, end)
        return _preferences_reply(saved)

    # --- webhooks ---------------------------------------------------------------------------

    @rpc
    def create_webhook(self, caller, body):
        caller = checked_caller(caller)
        body = load_valid(contract.WebhookCreate(), body)
        problem = domain.webhook_url_problem(body["url"],
                                             development=config.env("LARIS_ENV") == "development")
        if problem:
            raise ValidationFailed("The webhook's URL cannot be used.",
                                   fields={"url": [problem]})
        secret = channels.new_webhook_secret()
        with self.db.transaction() as tx:
            webhook = store.insert_webhook(tx, caller["account_id"], body["url"],
                                           sorted(set(body["events"])), secret)
        return contract.WebhookCreated().dump(webhook | {"secret": secret})

    @rpc
    def list_webhooks(self, caller, query):
        caller = checked_caller(caller)
        query = load_valid(contract.WebhookListQuery(), query)
        with self.db.transaction() as tx:
            listing = store.webhooks_of(tx, caller["account_id"], query["limit"],
                                        query["cursor"])
        return contract.WebhookPage().dump(listing)

    @rpc
    def get_webhook(self, caller, webhook_id):
        caller = checked_caller(caller)
        with self.db.transaction() as tx:
            webhook = self._webhook(tx, caller, webhook_id, store.webhook_of)
        return contract.Webhook().dump(webhook)

    @rpc
    def delete_webhook(self, caller, webhook_id):
        """What was still to be sent to it is cancelled."""
        caller = checked_caller(caller)
        with self.db.transaction() as tx:
            webhook = self._webhook(tx, caller, webhook_id, store.delete_webhook)
        return contract.Webhook().dump(webhook)

    @staticmethod
    def _webhook(tx, caller, webhook_id, lookup):
        """Another account's webhook is as unknown as a missing one."""
        webhook_id = parse_id(webhook_id)
        webhook = webhook_id and lookup(tx, caller["account_id"], webhook_id)
        if not webhook:
            raise NotFound("No such webhook.")
        return webhook

    # --- dead letters (admin) ---------------------------------------------------------------

    @rpc
    def list_deliveries(self, caller, query):
        _admin(caller)
        query = load_valid(contract.DeliveryListQuery(), query)
        with self.db.transaction() as tx:
            listing = store.list_deliveries(tx, query["status"], query["limit"],
                                            query["cursor"])
        return contract.DeliveryPage().dump(listing)

    @rpc
    def retry_delivery(self, caller, delivery_id):
        """A failed (dead-lettered) delivery back in the queue with all its tries."""
        _admin(caller)
        delivery_id = parse_id(delivery_id)
        with self.db.transaction() as tx:
            delivery = delivery_id and store.delivery_by_id(tx, delivery_id, for_update=True)
            if not delivery:
                raise NotFound("No such delivery.")
            if delivery["status"] != "failed":
                raise Conflict(f"Only a failed delivery is retried; this one is "
                               f"{delivery['status']}.", details={"status": delivery["status"]})
            delivery = store.requeue(tx, delivery_id)
        return contract.Delivery().dump(delivery)

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

    # --- whatsapp ---------------------------------------------------------------------------

    @rpc
    def get_whatsapp(self, caller):
        caller = checked_caller(caller)
        with self.db.transaction() as tx:
            number = store.whatsapp_number_of(tx, caller["account_id"])
        if number is None:
            raise NotFound("You have not given a WhatsApp number.")
        return contract.WhatsAppNumber().dump(number)

    @rpc
    def put_whatsapp(self, caller, body):
        """Opts in (or changes the number): WhatsApp messages go to it from now on."""
        caller = checked_caller(caller)
        body = load_valid(contract.WhatsAppOptIn(), body)
        try:
            phone = whatsapp.normalised_phone(body["phone"])
        except whatsapp.InvalidPhone as problem:
            raise ValidationFailed("This number cannot receive WhatsApp messages.",
                                   fields={"phone": [str(problem)]}) from None
        with self.db.transaction() as tx:
            saved = store.save_whatsapp_number(tx, caller["account_id"], phone)
        return contract.WhatsAppNumber().dump(saved)

    @rpc
    def delete_whatsapp(self, caller):
        """Opts out: what was still to be sent there is cancelled."""
        caller = checked_caller(caller)
        with self.db.transaction() as tx:
            removed = store.forget_whatsapp_number(tx, caller["account_id"])
        if removed is None:
            raise NotFound("You have not given a WhatsApp number.")
        return contract.WhatsAppNumber().dump(removed)

    @rpc
    def record_whatsapp_statuses(self, report):
        """Statuses from the Cloud API's webhook (the gateway checked its signature): each
        moves its delivery's WhatsApp status forward; ``failed`` dead-letters the delivery.
        Messages we do not know of are ignored."""
        report = load_valid(contract.WhatsAppStatusReport(), report)
        recorded = 0
        with self.db.transaction() as tx:
            for status in report["statuses"]:
                recorded += record_whatsapp_status(tx, status)
        return {"recorded": recorded}

    # --- reminders --------------------------------------------------------------------------

    @consumes("registry", "business.certification_confirmed")
    def schedule_certification_reminders(self, event):
        self.db.apply_once(event, schedule_certification_reminders)

    @consumes("expo", ["expo.booth_offered", "expo.booth_allocated", "expo.booth_released"])
    def track_booth_offers(self, event):
        # Facts about the application: an offer that arrives after its answer is older and
        # skipped, so it schedules nothing.
        self.db.apply_if_newer(event, track_booth_offer)

    @consumes("marketplace", ["order.placed", "order.status_changed"])
    def track_order_confirmations(self, event):
        self.db.apply_once(event, track_order_confirmation)

    @timer(interval=REMINDER_SWEEP_SECONDS)
    def send_due_reminders(self):
        """The schedule is in the database: a restart loses nothing, and copies of notify
        sweeping at once skip each other's rows."""
        while True:
            with self.db.transaction() as tx:
                due = fire_due_reminders(tx, clock.now())
            if due < REMINDERS_PER_SWEEP:
                return

    @consumes("marketplace", list(events.NOTIFIED["marketplace"]))
    def notify_order(self, event):
        self.db.apply_once(event, write_notifications)
