"""The expo's nameko entrypoints: parse, call the domain, persist, return."""
import logging
import uuid

from eventlet import tpool
from nameko.rpc import rpc
from nameko.timer import timer

from backbone import clock, config, idempotency
# Imported as a module: nameko would run any service class it finds in this module.
from backbone import service as laris
from backbone.caller import checked_caller
from backbone.contracts import business_snapshot
from backbone.errors import Conflict, NotFound, load_valid
from backbone.fields import parse_id
from backbone.inbox import consumes
from services.expo import allocation, contract, domain, events, store
from services.expo.floorplan import render_floorplan

log = logging.getLogger(__name__)
# The read model's handler: its versions in aggregate_versions carry this name.
READ_MODEL_HANDLER = "expo.on_business_fact"
# Read when the service class is defined (nameko's timer takes its interval then).
HOLD_SWEEP_SECONDS = config.env_float("LARIS_HOLD_SWEEP_SECONDS")


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
    """Each open application of ``business`` is cancelled; a booth it held or had is freed and
    offered to the best-fitting waitlisted applicant, as an organizer's freeing would."""
    # Expos first, in id order, as every allocation change locks them: none deadlocks.
    expos = {expo_id: store.expo_by_id(tx, expo_id, for_update=True)
             for expo_id in store.expos_of_open_applications(
                 tx, business["business_id"], domain.OPEN_APPLICATION_STATUSES)}
    applications = store.open_applications_of_business(
        tx, business["business_id"], domain.OPEN_APPLICATION_STATUSES)
    for application in applications:
        cancelled = store.set_application_status(tx, application["id"], "cancelled", reasons)
        allocation = store.delete_allocation_of(tx, application["expo_id"], application["id"])
        if allocation is not None:
            release_booth(tx, allocation, cancelled, application["expo_name"],
                          business["owner_account_id"], actor, reasons)
            expo = expos.get(application["expo_id"]) or store.expo_by_id(
                tx, application["expo_id"], for_update=True)  # applied since the first read
            offer_booth(tx, expo, allocation["booth_code"])
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


def allocation_inputs(tx, expo):
    """[(engine booth, stored row)], {booth code: fixed applicant}, [waiting applicants]."""
    rows = store.allocation_candidates(tx, expo["id"])
    exhibited = store.exhibited_before(tx, expo["id"], [row["business_id"] for row in rows])
    fixed, waiting = domain.split_candidates(rows, exhibited)
    booths = [(domain.booth_input(row), row) for row in store.booths_of(tx, expo["id"])]
    return booths, fixed, waiting



def offer_booth(tx, expo, booth_code):
    """Offers a free booth to the best-fitting waitlisted applicant, as a hold that expires
    after the expo's hold_hours; returns the application id, or None if nobody fits."""
    booths, fixed, waiting = allocation_inputs(tx, expo)
    waitlisted = {str(row["id"]) for row in store.allocation_candidates(tx, expo["id"])
                  if row["status"] == "waitlisted"}
    others = frozenset(b.code for b, _ in booths if b.code != booth_code)
    result = allocation.allocate(
        [b for b, _ in booths], domain.zone_inputs(expo),
        [a for a in waiting if a.application_id in waitlisted], fixed, others,
        time_limit_seconds=2.0)
    if not result.placements:
        return None
    [placement] = result.placements
    application = store.application_by_id(tx, expo["id"], placement.application_id)
    expires = domain.hold_expires_at(clock.now(), expo["hold_hours"])
    reasons = domain.offer_reasons(placement, expo["hold_hours"])
    store.insert_allocation(tx, domain.allocation_row(
        application, booth_code, reasons, hold_expires_at=expires))
    store.set_booth_status(tx, expo["id"], booth_code, "held", application["business_id"],
                           "expo", reasons[0]["en"])
    changed = store.set_application_status(tx, application["id"], "offered", reasons)
    tx.emit(events.BOOTH_OFFERED,
            events.booth_decision(changed, expo["name"], application["owner_account_id"],
                                  reasons, booth_code=booth_code,
                                  hold_expires_at=expires),
            aggregate=events.application_aggregate(changed))
    return placement.application_id



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

    # --- allocation, offers and holds -------------------------------------------------------
    # Each of these locks the expo's row first: runs, frees, offers and placements of one expo
    # happen one at a time, and the allocations table's keys make a double booking impossible
    # even so.

    @rpc
    def run_allocation(self, caller, expo_id):
        """Places new and waitlisted applications (never moving one already placed) and
        waitlists the rest, each decision with its reasons."""
        caller = checked_caller(caller)
        domain.check_organizer(caller)
        with self.db.transaction() as tx:
            expo = self._expo(tx, expo_id, for_update=True)
            booths, fixed, waiting = allocation_inputs(tx, expo)
            blocked = frozenset(b.code for b, row in booths if row["status"] == "blocked")
            result = tpool.execute(
                allocation.allocate, [b for b, _ in booths], domain.zone_inputs(expo), waiting,
                fixed, blocked, config.env_float("LARIS_ALLOCATION_TIME_LIMIT_SECONDS"))
            return self._record_run(tx, expo, result, caller["account_id"])

    @rpc
    def free_booth(self, caller, expo_id, booth_code):
        """The booth's holder loses it; the best-fitting waitlisted applicant is offered it."""
        caller = checked_caller(caller)
        with self.db.transaction() as tx:
            expo = self._expo(tx, expo_id, for_update=True)
            held = store.allocation_of_booth(tx, expo["id"], booth_code)
            if held is None:
                raise NotFound("The booth is neither held nor allocated.")
            application = store.application_by_id(tx, expo["id"], held["application_id"])
            domain.check_may_free(caller, application["owner_account_id"])
            reasons = [domain.freed_reason(domain.is_organizer(caller))]
            self._take_back(tx, expo, held, application, "cancelled", reasons,
                            caller["account_id"])
            offered = offer_booth(tx, expo, booth_code)
        return contract.BoothFreed().dump({"booth_code": booth_code, "offered_to": offered})

    @rpc
    def accept_offer(self, caller, expo_id, application_id):
        caller = checked_caller(caller)
        with self.db.transaction() as tx:
            expo, application, held = self._open_offer(tx, caller, expo_id, application_id)
            store.confirm_hold(tx, expo["id"], held["booth_code"])
            self._allocated(tx, expo, application, held["booth_code"], [domain.ACCEPTED],
                            caller["account_id"])
            return self._application_view(
                store.application_by_id(tx, expo["id"], application["id"]))

    @rpc
    def decline_offer(self, caller, expo_id, application_id):
        caller = checked_caller(caller)
        with self.db.transaction() as tx:
            expo, application, held = self._open_offer(tx, caller, expo_id, application_id)
            self._take_back(tx, expo, held, application, "declined", [domain.DECLINED],
                            caller["account_id"])
            offer_booth(tx, expo, held["booth_code"])
            return self._application_view(
                store.application_by_id(tx, expo["id"], application["id"]))

    @rpc
    def place_manually(self, caller, expo_id, booth_code, body):
        """An organizer places or moves an exhibitor: the hard rules still hold, the reason is
        kept, and no later run moves it."""
        caller = checked_caller(caller)
        domain.check_organizer(caller)
        data = load_valid(contract.ManualPlacement(), body)
        with self.db.transaction() as tx:
            expo = self._expo(tx, expo_id, for_update=True)
            booth = self._booth(tx, expo, booth_code)
            domain.check_not_blocked(booth)
            application = self._application(tx, expo_id, data["application_id"])
            domain.check_placeable(application)
            if store.allocation_of_booth(tx, expo["id"], booth_code) is not None:
                raise Conflict(f"Booth {booth_code} is taken: free it first.")
            self._check_rules_allow(tx, expo, booth_code, application)
            reasons = [domain.manual_reason(data["reason"])]
            moved_from = store.allocation_of_application(tx, expo["id"], application["id"])
            if moved_from is not None:
                self._take_back(tx, expo, moved_from, application, application["status"],
                                reasons, caller["account_id"])
            store.insert_allocation(tx, domain.allocation_row(
                application, booth_code, reasons, decided_by=caller["account_id"], manual=True))
            self._allocated(tx, expo, application, booth_code, reasons, caller["account_id"])
            if moved_from is not None:
                offer_booth(tx, expo, moved_from["booth_code"])
            return self._application_view(
                store.application_by_id(tx, expo["id"], application["id"]))

    @rpc
    def block_booth(self, caller, expo_id, booth_code, body):
        """An organizer takes a booth off the plan's offer (a pillar, the committee's own
        stand) or puts it back; no run or offer uses a blocked booth."""
        caller = checked_caller(caller)
        domain.check_organizer(caller)
        data = load_valid(contract.BoothBlock(), body)
        with self.db.transaction() as tx:
            expo = self._expo(tx, expo_id, for_update=True)
            booth = self._booth(tx, expo, booth_code)
            taken = store.allocation_of_booth(tx, expo["id"], booth_code) is not None
            domain.check_may_block(booth, data["blocked"], taken)
            store.set_booth_status(tx, expo["id"], booth_code,
                                   "blocked" if data["blocked"] else "free", None,
                                   caller["account_id"], data["reason"])
            return contract.Booth().dump(store.booth_by_code(tx, expo["id"], booth_code))

    @rpc
    def booth_history(self, caller, expo_id, booth_code):
        caller = checked_caller(caller)
        domain.check_organizer(caller)
        with self.db.transaction() as tx:
            expo = self._expo(tx, expo_id)
            self._booth(tx, expo, booth_code)
            return contract.BoothHistory().dump(
                {"items": store.history_of_booth(tx, expo["id"], booth_code)})

    @rpc
    def floorplan(self, expo_id, query):
        query = load_valid(contract.FloorplanQuery(), query)
        with self.db.transaction() as tx:
            expo = self._expo(tx, expo_id)
            booths = store.booths_of(tx, expo["id"])
        return render_floorplan(expo["name"], booths, lang=query["lang"])

    @timer(interval=HOLD_SWEEP_SECONDS)
    def expire_holds(self):
        """Offers not accepted in time go to the next waitlisted applicant. The holds live in
        the database, so a restart loses none: the next sweep finds them."""
        with self.db.transaction() as tx:
            expired = store.expired_holds(tx, clock.now(), limit=50)
        for hold in expired:
            with self.db.transaction() as tx:
                expo = store.expo_by_id(tx, hold["expo_id"], for_update=True)
                held = store.allocation_of_booth(tx, expo["id"], hold["booth_code"])
                if held is None or held["state"] != "held" or held["hold_expires_at"] > clock.now():
                    continue  # accepted, declined or freed meanwhile
                application = store.application_by_id(tx, expo["id"], held["application_id"])
                self._take_back(tx, expo, held, application, "declined", [domain.EXPIRED],
                                "expo.hold-timer")
                offer_booth(tx, expo, held["booth_code"])

    # --- facts from the registry ------------------------------------------------------------

    @consumes("registry", "business.*")
    def on_business_fact(self, event):
        self.db.apply_if_newer(event, remember_business)

    # --- helpers ----------------------------------------------------------------------------

    def _record_run(self, tx, expo, result, actor):
        allocated, waitlisted = [], []
        for placement in result.placements:
            application = store.application_by_id(tx, expo["id"], placement.application_id)
            reasons = domain.reasons_of(placement)
            store.insert_allocation(tx, domain.allocation_row(
                application, placement.booth_code, reasons, decided_by=actor))
            self._allocated(tx, expo, application, placement.booth_code, reasons, actor)
            allocated.append({"application_id": placement.application_id,
                              "business_id": placement.business_id,
                              "booth_code": placement.booth_code, "reasons": reasons})
        for entry in result.waitlist:
            application = store.application_by_id(tx, expo["id"], entry.application_id)
            reasons = domain.reasons_of(entry)
            changed = store.set_application_status(tx, application["id"], "waitlisted", reasons)
            tx.emit(events.APPLICATION_WAITLISTED,
                    events.booth_decision(changed, expo["name"], application["owner_account_id"],
                                          reasons, position=entry.position),
                    aggregate=events.application_aggregate(changed))
            waitlisted.append({"application_id": entry.application_id,
                               "business_id": entry.business_id, "position": entry.position,
                               "reasons": reasons})
        log.info("allocation run", extra={
            "expo_id": str(expo["id"]), "allocated": len(allocated),
            "waitlisted": len(waitlisted), "solver": result.solver, "optimal": result.optimal})
        return contract.AllocationRun().dump({
            "allocated": allocated, "waitlisted": waitlisted, "solver": result.solver,
            "optimal": result.optimal, "objective": result.objective, "bound": result.bound})

    def _allocated(self, tx, expo, application, booth_code, reasons, actor):
        store.set_booth_status(tx, expo["id"], booth_code, "allocated",
                               application["business_id"], actor, reasons[0]["en"])
        changed = store.set_application_status(tx, application["id"], "allocated", reasons)
        tx.emit(events.BOOTH_ALLOCATED,
                events.booth_decision(changed, expo["name"], application["owner_account_id"],
                                      reasons, booth_code=booth_code),
                aggregate=events.application_aggregate(changed))

    def _booth(self, tx, expo, booth_code):
        booth = store.booth_by_code(tx, expo["id"], booth_code)
        if booth is None:
            raise NotFound("No such booth.")
        return booth

    def _open_offer(self, tx, caller, expo_id, application_id):
        """(expo locked, application, its hold) when the caller may answer an open offer."""
        expo = self._expo(tx, expo_id, for_update=True)
        application = self._application(tx, expo_id, application_id)
        domain.check_applicant(caller, application)
        held = store.allocation_of_application(tx, expo["id"], application["id"])
        domain.check_open_offer(held, clock.now())
        return expo, application, held

    def _take_back(self, tx, expo, held, application, status, reasons, actor):
        """The application loses its booth (held or allocated): the booth is free again."""
        store.delete_allocation_of_booth(tx, expo["id"], held["booth_code"])
        changed = store.set_application_status(tx, application["id"], status, reasons)
        release_booth(tx, held, changed, expo["name"], application["owner_account_id"], actor,
                      reasons)

    def _check_rules_allow(self, tx, expo, booth_code, application):
        """The hard rules for one application on one booth, its current booth set aside."""
        booths, fixed, _ = allocation_inputs(tx, expo)
        fixed = {code: a for code, a in fixed.items()
                 if a.application_id != str(application["id"])}
        rows = [row for row in store.allocation_candidates(tx, expo["id"])
                if row["id"] == application["id"]]
        if not rows:
            raise Conflict("The application's business is not verified.")
        exhibited = store.exhibited_before(tx, expo["id"], [application["business_id"]])
        applicant = domain.applicant_input(rows[0], 0, exhibited)
        others = frozenset(b.code for b, _ in booths if b.code != booth_code)
        result = allocation.allocate([b for b, _ in booths], domain.zone_inputs(expo),
                                     [applicant], fixed, others, time_limit_seconds=2.0)
        if not result.placements:
            raise domain.placement_refused(result.waitlist[0])


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
