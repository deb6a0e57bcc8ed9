"""The registry's nameko entrypoints: parse, call the domain, persist, return."""
import logging
import uuid

from nameko.extensions import DependencyProvider
from nameko.rpc import rpc
from nameko.timer import timer

from backbone import clock, config, idempotency
from backbone.context import RequestContext
from backbone.db import Database, Postgres
from backbone.errors import Conflict, NotFound, Unauthorized, load_valid
from services.registry import domain, events, schemas, store
from services.registry.dependencies import ExportRules, PasswordHasher, Passwords

log = logging.getLogger(__name__)
THROTTLE = domain.LoginThrottle()
READINESS_SWEEP_BATCH = 200


def insert_account(tx, data, password_hash):
    account = store.insert_account(tx, data | {
        "id": uuid.uuid4(), "email": domain.normalise_email(data["email"]),
        "phone": data["phone"] and domain.normalise_phone(data["phone"]),
        "password_hash": password_hash})
    tx.emit(events.ACCOUNT_CREATED, events.account_created(account))
    return account


class FirstAdmin(DependencyProvider):
    """The first admin, from LARIS_ADMIN_EMAIL/PASSWORD, exists before the service answers
    its first request: nameko finishes every extension's setup before it starts any (their
    starts run concurrently). An existing account with that e-mail is left as it is."""

    def setup(self):
        email, password = config.env("LARIS_ADMIN_EMAIL"), config.env("LARIS_ADMIN_PASSWORD")
        if not (email and password):
            log.warning("LARIS_ADMIN_EMAIL/LARIS_ADMIN_PASSWORD unset: no first admin")
            return
        service = self.container.service_name
        postgres = Postgres(config.database_url(service), source=service, pool_size=1)
        try:
            self._ensure(postgres, domain.normalise_email(email), password)
        finally:
            postgres.close()

    @staticmethod
    def _ensure(postgres, email, password):
        with postgres.transaction() as tx:
            if store.credentials_by_email(tx, email):
                return
        password_hash = PasswordHasher().hash(password)
        try:
            with postgres.transaction() as tx:
                insert_account(tx, {"email": email, "name": "Laris admin", "role": "admin",
                                    "phone": None, "locale": "id"}, password_hash)
        except Conflict:
            return  # another copy of the service, starting at the same time, created it
        log.info("first admin created", extra={"email": email})


class RegistryService:
    name = "registry"

    db = Database()
    request_id = RequestContext()
    rules = ExportRules()
    passwords = Passwords()
    first_admin = FirstAdmin()

    @rpc
    def health(self):
        with self.db.transaction() as tx:
            store.ping(tx)
        return {"service": self.name, "database": "ok"}

    # --- accounts ---------------------------------------------------------------------------

    @rpc
    def create_account(self, caller, body, idempotency_key=None):
        data = load_valid(schemas.AccountCreate(), body)
        domain.check_may_create_role(caller and caller["role"], data["role"])
        password_hash = self.passwords.hash(data.pop("password"))
        scope = ("create_account", caller["account_id"] if caller else "anonymous")
        with self.db.transaction() as tx:
            if (earlier := idempotency.replay(tx, scope, idempotency_key, body)) is not None:
                return earlier
            account = schemas.Account().dump(insert_account(tx, data, password_hash))
            idempotency.remember(tx, scope, idempotency_key, account)
        return account

    @rpc
    def authenticate(self, data, client=None):
        data = load_valid(schemas.Credentials(), data)
        email, now = domain.normalise_email(data["email"]), clock.now()
        with self.db.transaction() as tx:
            failures = store.recent_login_failures(tx, email, client, now - THROTTLE.window)
            THROTTLE.check(failures["for_email"], failures["for_client"], failures["oldest"], now)
            account = store.credentials_by_email(tx, email)
        password_hash = account and account["password_hash"]
        if not self.passwords.verify(password_hash, data["password"]):
            with self.db.transaction() as tx:
                store.record_login_failure(tx, email, client)
            raise Unauthorized("Wrong e-mail or password.")
        with self.db.transaction() as tx:
            store.clear_login_failures(tx, email)
            if self.passwords.needs_rehash(password_hash):
                store.update_password_hash(tx, account["id"], self.passwords.hash(data["password"]))
        return schemas.Account().dump(account)

    @timer(interval=3600)
    def forget_old_login_failures(self):
        with self.db.transaction() as tx:
            store.forget_login_failures_before(tx, clock.now() - THROTTLE.window)

    @rpc
    def get_account(self, account_id):
        with self.db.transaction() as tx:
            account = store.account_by_id(tx, _uuid_or_none(account_id))
        if account is None:
            raise NotFound("No such account.")
        return schemas.Account().dump(account)

    # --- businesses -------------------------------------------------------------------------

    @rpc
    def register_business(self, caller, body, idempotency_key=None):
        domain.check_may_register_business(caller)
        data = load_valid(schemas.BusinessCreate(), body)
        domain.check_business_identity(data, self.rules)
        business = domain.normalised_business(data) | {
            "id": uuid.uuid4(), "owner_account_id": caller["account_id"]}
        scope = ("register_business", caller["account_id"])
        with self.db.transaction() as tx:
            if (earlier := idempotency.replay(tx, scope, idempotency_key, body)) is not None:
                return earlier
            business = store.insert_business(tx, business)
            tx.emit(events.BUSINESS_REGISTERED, events.business_facts(business))
            self._announce_readiness(tx, business)
            view = self._view(tx, business, caller)
            idempotency.remember(tx, scope, idempotency_key, view)
        return view

    @rpc
    def get_business(self, caller, business_id):
        with self.db.transaction() as tx:
            business = self._visible_business(tx, caller, business_id)
            return self._view(tx, business, caller)

    @rpc
    def list_businesses(self, caller, query):
        query = load_valid(schemas.BusinessListQuery(), query)
        filters = domain.listing_filters(caller, query)
        with self.db.transaction() as tx:
            listing = store.list_businesses(tx, filters, query["limit"], query["cursor"])
            listing["items"] = self._views(tx, listing["items"], caller)
        return listing

    @rpc
    def decide_verification(self, caller, business_id, data):
        domain.check_staff(caller)
        data = load_valid(schemas.VerificationDecision(), data)
        domain.check_decision_note(data["decision"], data["note"])
        with self.db.transaction() as tx:
            business = self._change_status(tx, business_id, data["decision"], data["note"],
                                           caller["account_id"])
        return {"id": str(business["id"]), "status": business["status"]}

    @rpc
    def resubmit_business(self, caller, business_id):
        with self.db.transaction() as tx:
            self._owned_business(tx, caller, business_id)
            business = self._change_status(tx, business_id, "pending", None,
                                           caller["account_id"])
            return self._view(tx, business, caller)

    def _change_status(self, tx, business_id, wanted, note, decided_by):
        business = self._business(tx, business_id, for_update=True)
        status = domain.next_status(business["status"], wanted)
        store.insert_decision(tx, business_id, business["status"], status, note, decided_by)
        business = store.update_business(tx, business_id, {"status": status})
        tx.emit(domain.event_for_status(status), events.business_facts(business, note))
        self._announce_readiness(tx, business)
        return business

    @rpc
    def update_business(self, caller, business_id, data):
        requested = domain.normalised_business(load_valid(schemas.BusinessUpdate(), data))
        with self.db.transaction() as tx:
            business = self._owned_business(tx, caller, business_id)
            changes = domain.actual_changes(business, requested)
            domain.check_may_update(business["status"], changes)
            domain.check_business_identity(business | changes, self.rules)
            if changes:
                before = business
                business = store.update_business(tx, business_id, changes)
                if events.facts_changed(before, business):
                    tx.emit(events.BUSINESS_UPDATED, events.business_facts(business))
                self._announce_readiness(tx, business)
            return self._view(tx, business, caller)

    @rpc
    def add_certification(self, caller, business_id, body, idempotency_key=None):
        data = load_valid(schemas.CertificationCreate(), body)
        scope = ("add_certification", business_id)
        with self.db.transaction() as tx:
            business = self._owned_business(tx, caller, business_id)
            if (earlier := idempotency.replay(tx, scope, idempotency_key, body)) is not None:
                return earlier
            kind, number = domain.check_certification(
                self.rules, data["kind"], data["number"], data["valid_until"], clock.today_wib())
            certification = store.insert_certification(tx, data | {
                "id": uuid.uuid4(), "business_id": business_id, "kind": kind, "number": number})
            tx.emit(events.CERTIFICATION_ADDED, events.certification_added(certification))
            self._announce_readiness(tx, business)
            view = schemas.Certification().dump(certification | {"valid": True})
            idempotency.remember(tx, scope, idempotency_key, view)
        return view

    @rpc
    def export_rules(self):
        return schemas.ExportRulesSummary().dump(domain.rules_summary(self.rules))

    @timer(interval=3600, eager=True)
    def refresh_export_readiness(self):
        """Certifications expire and the rules file may have changed since the last run:
        re-evaluate every business and announce each change."""
        after = uuid.UUID(int=0)
        while True:
            with self.db.transaction() as tx:
                ids = store.business_ids_after(tx, after, READINESS_SWEEP_BATCH)
                for business_id in ids:
                    self._announce_readiness(tx, store.business_by_id(tx, business_id, True))
            if len(ids) < READINESS_SWEEP_BATCH:
                return
            after = ids[-1]

    # --- helpers ----------------------------------------------------------------------------

    def _business(self, tx, business_id, for_update=False):
        business = store.business_by_id(tx, _uuid_or_none(business_id), for_update)
        if business is None:
            raise NotFound("No such business.")
        return business

    def _owned_business(self, tx, caller, business_id):
        """The business, locked for this transaction's change, if the caller owns it."""
        business = self._business(tx, business_id, for_update=True)
        domain.check_owner(caller, business)
        return business

    def _visible_business(self, tx, caller, business_id):
        business = self._business(tx, business_id)
        if not (domain.may_see_private(caller, business) or domain.is_publicly_visible(business)):
            raise NotFound("No such business.")
        return business

    def _announce_readiness(self, tx, business):
        certifications = store.certifications_of(tx, [business["id"]])[business["id"]]
        results = domain.evaluate_readiness(self.rules, business, certifications,
                                            clock.today_wib())
        summary = domain.readiness_summary(results)
        if summary != business["readiness"]:
            store.save_readiness(tx, business["id"], summary)
            tx.emit(events.EXPORT_READINESS_CHANGED,
                    events.export_readiness_changed(business["id"], summary))

    def _view(self, tx, business, caller):
        return self._views(tx, [business], caller)[0]

    def _views(self, tx, businesses, caller):
        """Each business as the caller may see it; two queries for the whole page."""
        ids = [business["id"] for business in businesses]
        certifications = store.certifications_of(tx, ids)
        decisions = store.decisions_of(tx, [business["id"] for business in businesses
                                            if domain.may_see_private(caller, business)])
        today = clock.today_wib()
        return [self._render(business, certifications[business["id"]],
                             decisions.get(business["id"]), today)
                for business in businesses]

    def _render(self, business, certifications, decisions, today):
        """``decisions`` is None for a reader who may not see the private fields."""
        results = domain.evaluate_readiness(self.rules, business, certifications, today)
        private = decisions is not None
        view = domain.business_view(business, certifications, results, today, private=private,
                                    decisions=decisions or ())
        if not private:
            return schemas.BusinessPublic().dump(view)
        view["readiness"] = domain.readiness_view(results, self.rules)
        return schemas.Business().dump(view)


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
