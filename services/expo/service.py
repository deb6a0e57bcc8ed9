"""The expo's nameko entrypoints: parse, call the domain, persist, return."""
import logging
import uuid

from nameko.rpc import rpc

from backbone import clock, idempotency
# Imported as a module: nameko would run any service class it finds in this module.
from backbone import service as laris
from backbone.caller import checked_caller
from backbone.contracts import business_snapshot
from backbone.errors import NotFound, load_valid
from backbone.fields import parse_id
from backbone.inbox import consumes
from services.expo import contract, domain, events, store

log = logging.getLogger(__name__)
# The read model's handler: its versions in aggregate_versions carry this name.
READ_MODEL_HANDLER = "expo.on_business_fact"


# --- the read model of businesses -----------------------------------------------------------

def remember_business(tx, event):
    """Applies a business.* fact (or a replayed snapshot): the whole snapshot replaces what the
    read model held; a rejected business loses its open applications and booths with it."""
    snapshot = business_snapshot(event)
    store.save_business(tx, snapshot, event.aggregate_version)
    if domain.rejects(snapshot):
        cancel_applications_of(tx, snapshot, actor="registry",
                               reasons=[domain.REJECTION_REASON])


def cancel_applications_of(tx, business, actor, reasons):
    applications = store.open_applications_of_business(
        tx, business["business_id"], domain.OPEN_APPLICATION_STATUSES)
    for application in applications:
        cancelled = store.set_application_status(tx, application["id"], "cancelled", reasons)
        allocation = store.delete_allocation_of(tx, application["expo_id"], application["id"])
        if allocation is not None:
            release_booth(tx, allocation, cancelled, application["expo_name"],
                          business["owner_account_id"], actor, reasons)
        log.info("application cancelled", extra={
            "application_id": str(application["id"]), "business_id": business["business_id"]})


def release_booth(tx, allocation, application, expo_name, owner_account_id, actor, reasons):
    """A held or allocated booth is free again: its history and expo.booth_released."""
    store.set_booth_status(tx, allocation["expo_id"], allocation["booth_code"], "free",
                           allocation["business_id"], actor, reasons[0]["en"])
    tx.emit(events.BOOTH_RELEASED,
            events.booth_decision(application, expo_name, owner_account_id, reasons,
                                  booth_code=allocation["booth_code"]),
            aggregate=events.application_aggregate(application))


class ExpoService(laris.LarisService):
    name = "expo"

    # --- expos ------------------------------------------------------------------------------

    @rpc
    def create_expo(self, caller, body):
        caller = checked_caller(caller)
        domain.check_organizer(caller)
        data = load_valid(contract.ExpoCreate(), body)
        expo = domain.new_expo(data, clock.today_wib()) | {
            "id": uuid.uuid4(), "created_by": caller["account_id"]}
        with self.db.transaction() as tx:
            return contract.Expo().dump(store.insert_expo(tx, expo))

    @rpc
    def get_expo(self, expo_id):
        with self.db.transaction() as tx:
            return contract.Expo().dump(self._expo(tx, expo_id))

    @rpc
    def list_expos(self, query):
        query = load_valid(contract.ExpoListQuery(), query)
        with self.db.transaction() as tx:
            listing = store.list_expos(tx, query["limit"], query["cursor"])
        return contract.ExpoPage().dump(listing)

    # --- booths -----------------------------------------------------------------------------

    @rpc
    def add_booths(self, caller, expo_id, body):
        """The expo's row stays locked while booths are checked and added, so two requests
        adding booths at once cannot both miss each other's overlap."""
        caller = checked_caller(caller)
        domain.check_organizer(caller)
        booths = load_valid(contract.BoothsCreate(), body)["booths"]
        with self.db.transaction() as tx:
            expo = self._expo(tx, expo_id, for_update=True)
            domain.check_zones_known(expo, [booth["zone"] for booth in booths], "booths")
            existing = store.booths_of(tx, expo["id"])
            domain.check_codes_free(booths, [booth["code"] for booth in existing])
            domain.check_no_overlap(booths, existing)
            store.insert_booths(tx, expo["id"], booths)
            added = {booth["code"] for booth in booths}
            return contract.BoothList().dump({"items": [
                booth for booth in store.booths_of(tx, expo["id"]) if booth["code"] in added]})

    @rpc
    def list_booths(self, expo_id):
        with self.db.transaction() as tx:
            expo = self._expo(tx, expo_id)
            return contract.BoothList().dump({"items": store.booths_of(tx, expo["id"])})

    # --- applications -----------------------------------------------------------------------

    @rpc
    def submit_application(self, caller, expo_id, body, idempotency_key=None):
        caller = checked_caller(caller)
        domain.check_vendor(caller)
        data = load_valid(contract.ApplicationCreate(), body)
        scope = ("submit_application", caller["account_id"], expo_id)
        with self.db.transaction() as tx:
            if (earlier := idempotency.replay(tx, scope, idempotency_key, body)) is not None:
                return earlier
            expo = self._expo(tx, expo_id)
            business = store.business_by_id(tx, parse_id(data["business_id"]))
            domain.check_may_apply(caller, business, data)
            domain.check_window(expo, clock.today_wib())
            domain.check_zones_known(expo, data["preferred_zones"], "preferred_zones")
            application = store.insert_application(tx, data | {
                "id": uuid.uuid4(), "expo_id": expo["id"], "business_id": business["id"],
                "applicant_account_id": caller["account_id"]})
            tx.emit(events.APPLICATION_SUBMITTED,
                    events.application_submitted(application, expo, business),
                    aggregate=events.application_aggregate(application))
            view = self._application_view(application)
            idempotency.remember(tx, scope, idempotency_key, view)
        return view

    @rpc
    def list_applications(self, caller, expo_id, query):
        caller = checked_caller(caller)
        domain.check_may_see_applications(caller)
        query = load_valid(contract.ApplicationListQuery(), query)
        with self.db.transaction() as tx:
            expo = self._expo(tx, expo_id)
            listing = store.list_applications(
                tx, expo["id"], domain.applicant_filter(caller), query.get("status"),
                query["limit"], query["cursor"])
        listing["items"] = [self._application_view(row) for row in listing["items"]]
        return listing

    @rpc
    def mark_flagship(self, caller, expo_id, application_id, body):
        """An organizer marks (or unmarks) the business's products as the city's produk
        unggulan for this expo."""
        caller = checked_caller(caller)
        domain.check_organizer(caller)
        data = load_valid(contract.FlagshipMark(), body)
        with self.db.transaction() as tx:
            application = self._application(tx, expo_id, application_id)
            store.mark_flagship(tx, application["id"], data["flagship"])
            return self._application_view(
                store.application_by_id(tx, application["expo_id"], application["id"]))

    # --- facts from the registry ------------------------------------------------------------

    @consumes("registry", "business.*")
    def on_business_fact(self, event):
        self.db.apply_if_newer(event, remember_business)

    # --- helpers ----------------------------------------------------------------------------

    def _expo(self, tx, expo_id, for_update=False):
        expo_uuid = parse_id(expo_id)
        expo = expo_uuid and store.expo_by_id(tx, expo_uuid, for_update)
        if expo is None:
            raise NotFound("No such expo.")
        return expo

    def _application(self, tx, expo_id, application_id):
        expo = self._expo(tx, expo_id)
        application_uuid = parse_id(application_id)
        application = application_uuid and store.application_by_id(tx, expo["id"],
                                                                    application_uuid)
        if application is None:
            raise NotFound("No such application.")
        return application

    @staticmethod
    def _application_view(row):
        return contract.Application().dump(row | {
            "flagship": domain.is_flagship(row["flagship_marked"], row["export_ready"])})
