"""The registry's nameko entrypoints: parse, call the domain, persist, return."""
import logging
import uuid

from nameko.rpc import rpc
from nameko.timer import timer

from backbone import clock, config, idempotency
# Imported as a module: nameko would run any service class it finds in this module.
from backbone import service as laris
from backbone.caller import checked_caller
from backbone.errors import NotFound, ServiceBusy, Unauthorized, load_valid
from backbone.fields import parse_id
from services.registry import contract, domain, events, schemas, store
from services.registry.dependencies import ExportRules, PasswordHasher, Passwords, Throttles

log = logging.getLogger(__name__)
READINESS_SWEEP_BATCH = 200
# The throttles' key when the gateway gave no client address (an RPC from a script).
UNKNOWN_CLIENT = "unknown"


def insert_account(tx, data, password_hash):
    account = store.insert_account(tx, data | {
        "id": uuid.uuid4(), "email": domain.normalise_email(data["email"]),
        "phone": data["phone"] and domain.normalise_phone(data["phone"]),
        "password_hash": password_hash})
    tx.emit(events.ACCOUNT_CREATED, events.account_created(account),
            aggregate=events.account_aggregate(account))
    return account


def ensure_first_admin(tx):
    """The first admin, from LARIS_ADMIN_EMAIL/PASSWORD; an existing account with that e-mail
    is left as it is. Its password obeys the same rules as everyone's."""
    email, password = config.env("LARIS_ADMIN_EMAIL"), config.env("LARIS_ADMIN_PASSWORD")
    if not (email and password):
        log.warning("LARIS_ADMIN_EMAIL/LARIS_ADMIN_PASSWORD unset: no first admin")
        return
    email = domain.normalise_email(email)
    if store.credentials_by_email(tx, email):
        return
    domain.check_first_admin_password(password)
    insert_account(tx, {"email": email, "name": "Laris admin", "role": "admin", "phone": None,
                        "locale": "id"}, PasswordHasher().hash(password))
    log.info("first admin created", extra={"email": email})


class RegistryService(laris.LarisService):
    name = "registry"

    rules = ExportRules()
    passwords = Passwords()
    throttles = Throttles()
    first_admin = laris.FirstRun(ensure_first_admin)

    # --- accounts ---------------------------------------------------------------------------

    @rpc
    def create_account(self, caller, body, idempotency_key=None, client=None):
        """The cheap checks (schema, role, e-mail free, the sign-up throttle) run before the
        slow, memory-hungry hashing. Anonymous callers are scoped by their address, so two
        of them never share an Idempotency-Key."""
        caller = checked_caller(caller, required=False)
        data = load_valid(contract.AccountCreate(), body)
        domain.check_may_create_role(caller and caller["role"], data["role"])
        client = client or UNKNOWN_CLIENT
        scope = ("create_account",
                 caller["account_id"] if caller else f"anonymous:{client}")
        with self.db.transaction() as tx:
            earlier = idempotency.earlier_response(tx, scope, idempotency_key, body)
            if earlier is not None:
                return earlier
            store.check_email_free(tx, domain.normalise_email(data["email"]))
            if caller is None:
                self._count_signup(tx, client)
        password_hash = self.passwords.hash(data.pop("password"))
        with self.db.transaction() as tx:
            if (earlier := idempotency.replay(tx, scope, idempotency_key, body)) is not None:
                return earlier
            account = contract.Account().dump(insert_account(tx, data, password_hash))
            idempotency.remember(tx, scope, idempotency_key, account)
        return account

    def _count_signup(self, tx, client):
        # A refusal rolls its own count back: the client stays at the limit until its window
        # ends, rather than pushing its count ever higher.
        throttle, now = self.throttles["signup"], clock.now()
        counted = store.count_signup(tx, client, now, throttle.window)
        throttle.check(counted["signups"], counted["window_started_at"], now)

    @rpc
    def authenticate(self, data, client=None):
        """The account with its token version, if the password is right. Every attempt is
        counted for its (e-mail, client) pair, known e-mail or not, equally slowly."""
        data = load_valid(contract.Credentials(), data)
        email = domain.normalise_email(data["email"])
        with self.db.transaction() as tx:
            account = store.credentials_by_email(tx, email)
            password_hash = account and account["password_hash"]
            right = self._password_attempt(tx, email, client, password_hash, data["password"])
        if not right:
            raise Unauthorized("Wrong e-mail or password.")
        if self.passwords.needs_rehash(password_hash):
            self._rehash(account["id"], data["password"])
        return contract.AuthenticatedAccount().dump(account)

    def _password_attempt(self, tx, email, client, password_hash, password):
        """Whether ``password`` is right, as one attempt of the (e-mail, client) pair. The
        pair's row stays locked from the check to the count, so parallel guesses are counted
        one by one; a right password clears only this pair."""
        throttle, client = self.throttles["login"], client or UNKNOWN_CLIENT
        pair = store.lock_login_pair(tx, email, client)
        throttle.check(pair, clock.now())
        if self.passwords.verify(password_hash, password):
            store.clear_login_pair(tx, email, client)
            return True
        now = clock.now()
        failures = throttle.current_failures(pair, now) + 1
        store.record_login_failure(tx, email, client, failures, now,
                                   throttle.blocked_until(failures, now))
        return False

    def _rehash(self, account_id, password):
        # Stronger parameters can wait for another log-in when sign-ups hold every turn.
        try:
            password_hash = self.passwords.hash(password)
        except ServiceBusy:
            return
        with self.db.transaction() as tx:
            store.update_password_hash(tx, account_id, password_hash)

    @rpc
    def change_password(self, caller, body, client=None):
        """The current password is checked (and throttled) like a log-in. The new one gives
        the account a new token version: every older token stops working."""
        caller = checked_caller(caller)
        data = load_valid(contract.PasswordChange(), body)
        with self.db.transaction() as tx:
            account = store.credentials_by_id(tx, caller["account_id"])
            if account is None:
                raise Unauthorized("The account behind this token no longer exists.")
            right = self._password_attempt(tx, account["email"], client,
                                           account["password_hash"], data["current_password"])
        if not right:
            raise Unauthorized("The current password is wrong.")
        password_hash = self.passwords.hash(data["new_password"])
        with self.db.transaction() as tx:
            account = self._change_account(tx, account["id"], {"password_hash": password_hash})
        return contract.AuthenticatedAccount().dump(account)

    @rpc
    def change_role(self, caller, account_id, body):
        """An admin changes another account's role; its older tokens stop working."""
        caller = checked_caller(caller)
        account_id = parse_id(account_id)
        domain.check_may_change_role(caller, account_id)
        data = load_valid(contract.RoleChange(), body)
        with self.db.transaction() as tx:
            account = store.account_by_id(tx, account_id, for_update=True)
            if account is None:
                raise NotFound("No such account.")
            if account["role"] != data["role"]:
                account = self._change_account(tx, account["id"], {"role": data["role"]})
        return contract.Account().dump(account)

    def _change_account(self, tx, account_id, changes):
        account = store.change_account(tx, account_id, changes)
        if account is None:
            raise Unauthorized("The account behind this token no longer exists.")
        tx.emit(events.ACCOUNT_UPDATED, events.account_facts(account),
                aggregate=events.account_aggregate(account))
        return account

    @rpc
    def token_state(self, account_id):
        """What the gateway checks a token against: {token_version, role}, or None when the
        account is gone."""
        with self.db.transaction() as tx:
            state = store.token_state(tx, parse_id(account_id))
        return state and contract.TokenState().dump(state)

    @timer(interval=3600)
    def forget_old_throttling(self):
        with self.db.transaction() as tx:
            now = clock.now()
            store.forget_login_failures_before(tx, now - self.throttles["login"].memory)
            store.forget_signups_before(tx, now - self.throttles["signup"].window)

    @rpc
    def get_me(self, caller):
        caller = checked_caller(caller)
        with self.db.transaction() as tx:
            account = store.account_by_id(tx, caller["account_id"])
        if account is None:
            raise Unauthorized("The account behind this token no longer exists.")
        return contract.Account().dump(account)

    # --- businesses -------------------------------------------------------------------------

    @rpc
    def register_business(self, caller, body, idempotency_key=None):
        caller = checked_caller(caller)
        domain.check_may_register_business(caller)
        data = load_valid(contract.BusinessCreate(), body)
        domain.check_business_identity(data)
        business = domain.normalised_business(data) | {
            "id": uuid.uuid4(), "owner_account_id": caller["account_id"]}
        scope = ("register_business", caller["account_id"])
        with self.db.transaction() as tx:
            if (earlier := idempotency.replay(tx, scope, idempotency_key, body)) is not None:
                return earlier
            business = store.insert_business(tx, business)
            self._emit_business(tx, events.BUSINESS_REGISTERED, business)
            business = self._announce_readiness(tx, business)
            view = self._view(tx, business, caller)
            idempotency.remember(tx, scope, idempotency_key, view)
        return view

    @rpc
    def get_business(self, caller, business_id):
        caller = checked_caller(caller, required=False)
        with self.db.transaction() as tx:
            business = self._visible_business(tx, caller, business_id)
            return self._view(tx, business, caller)

    @rpc
    def list_businesses(self, caller, query):
        caller = checked_caller(caller)
        query = load_valid(contract.BusinessListQuery(), query)
        filters = domain.listing_filters(caller, query)
        with self.db.transaction() as tx:
            listing = store.list_businesses(tx, filters, query["limit"], query["cursor"])
            listing["items"] = self._views(tx, listing["items"], caller)
        return listing

    @rpc
    def decide_verification(self, caller, business_id, data, if_match=None):
        """The decision is tied to what the organizer reviewed: the business's version (body
        or If-Match) must still be current, and the decision keeps the identity it saw."""
        caller = checked_caller(caller)
        domain.check_staff(caller)
        data = load_valid(contract.VerificationDecision(), data)
        domain.check_decision_note(data["decision"], data["note"])
        expected = domain.expected_version(data.get("version"), if_match)
        with self.db.transaction() as tx:
            business = self._business(tx, business_id, for_update=True)
            domain.check_unchanged_since_review(business, expected)
            business = self._change_status(tx, business, data["decision"], data["note"],
                                           caller["account_id"])
        return contract.VerificationResult().dump(business)

    @rpc
    def resubmit_business(self, caller, business_id):
        caller = checked_caller(caller)
        with self.db.transaction() as tx:
            business = self._owned_business(tx, caller, business_id)
            business = self._change_status(tx, business, "pending", None, caller["account_id"])
            return self._view(tx, business, caller)

    def _change_status(self, tx, business, wanted, note, decided_by):
        status = domain.next_status(business["status"], wanted)
        store.insert_decision(tx, business, status, note, decided_by,
                              schemas.IdentitySnapshot().dump(business))
        business = store.update_business(tx, business["id"], {"status": status})
        self._emit_business(tx, domain.event_for_status(status), business, note)
        return self._announce_readiness(tx, business)

    @rpc
    def update_business(self, caller, business_id, data):
        caller = checked_caller(caller)
        requested = domain.normalised_business(load_valid(contract.BusinessUpdate(), data))
        with self.db.transaction() as tx:
            business = self._owned_business(tx, caller, business_id)
            changes = domain.actual_changes(business, requested)
            domain.check_may_update(business["status"], changes)
            domain.check_update_fits_kind(business, changes)
            if changes:
                before = business
                business = store.update_business(tx, business["id"], changes)
                if events.facts_changed(before, business):
                    self._emit_business(tx, events.BUSINESS_UPDATED, business)
                business = self._announce_readiness(tx, business)
            return self._view(tx, business, caller)

    # --- certifications ---------------------------------------------------------------------

    @rpc
    def add_certification(self, caller, business_id, body, idempotency_key=None):
        caller = checked_caller(caller)
        data = load_valid(contract.CertificationCreate(), body)
        with self.db.transaction() as tx:
            business = self._owned_business(tx, caller, business_id)
            scope = ("add_certification", business["id"])
            if (earlier := idempotency.replay(tx, scope, idempotency_key, body)) is not None:
                return earlier
            kind, number = domain.check_certification(
                self.rules, data["kind"], data["number"], data["valid_until"], clock.today_wib())
            certification = store.insert_certification(tx, data | {
                "id": uuid.uuid4(), "business_id": business["id"], "kind": kind,
                "number": number})
            business = store.touch_business(tx, business["id"])
            tx.emit(events.CERTIFICATION_ADDED,
                    events.certification_fact(certification, self._snapshot(tx, business)),
                    aggregate=events.business_aggregate(business))
            view = self._certification_view(tx, business, certification)
            idempotency.remember(tx, scope, idempotency_key, view)
        return view

    @rpc
    def review_certification(self, caller, business_id, certification_id, body):
        """An organizer confirms a claimed certification (it then counts for readiness and
        badges) or refuses it, with a reason."""
        caller = checked_caller(caller)
        domain.check_staff(caller)
        data = load_valid(contract.CertificationReview(), body)
        domain.check_review_note(data["decision"], data["note"])
        with self.db.transaction() as tx:
            business = self._business(tx, business_id, for_update=True)
            certification = store.certification_by_id(tx, business["id"],
                                                      parse_id(certification_id))
            if certification is None:
                raise NotFound("No such certification.")
            status = domain.next_review_status(certification["status"], data["decision"])
            certification = store.review_certification(tx, certification["id"], status,
                                                       data["note"], caller["account_id"])
            business = store.touch_business(tx, business["id"])
            tx.emit(events.CERTIFICATION_REVIEWED[status],
                    events.certification_fact(certification, self._snapshot(tx, business),
                                              data["note"]),
                    aggregate=events.business_aggregate(business))
            business = self._announce_readiness(tx, business)
            return self._certification_view(tx, business, certification)

    @rpc
    def export_rules(self):
        return contract.ExportRulesSummary().dump(domain.rules_summary(self.rules))

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

    @rpc
    def business_facts(self, query):
        """Every business's current snapshot and version, paged by id, the pair its business.*
        facts carry: what another service replays to rebuild its read model. Not routed by
        the gateway."""
        query = load_valid(contract.BusinessFactsQuery(), query)
        after = parse_id(query["after_id"]) if query["after_id"] else uuid.UUID(int=0)
        with self.db.transaction() as tx:
            ids = store.business_ids_after(tx, after, query["limit"])
            businesses = [store.business_by_id(tx, business_id) for business_id in ids]
            items = [{"version": business["version"], "facts": self._snapshot(tx, business)}
                     for business in businesses]
        next_after_id = str(ids[-1]) if len(ids) == query["limit"] else None
        return contract.BusinessFactsPage().dump({"items": items,
                                                  "next_after_id": next_after_id})

    # --- helpers ----------------------------------------------------------------------------

    def _business(self, tx, business_id, for_update=False):
        business = store.business_by_id(tx, parse_id(business_id), for_update)
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

    def _snapshot(self, tx, business, note=None):
        certifications = store.certifications_of(tx, [business["id"]])[business["id"]]
        return events.business_facts(
            business, domain.confirmed_certification_facts(certifications, clock.today_wib()),
            note)

    def _emit_business(self, tx, event_type, business, note=None):
        tx.emit(event_type, self._snapshot(tx, business, note),
                aggregate=events.business_aggregate(business))

    def _announce_readiness(self, tx, business):
        """Re-evaluate readiness; when it changed, save it (a new version) and announce it.
        Returns the business as it now stands. Called after the change's own event, so every
        event of the transaction carries a version of its own."""
        certifications = store.certifications_of(tx, [business["id"]])[business["id"]]
        results = domain.evaluate_readiness(self.rules, business, certifications,
                                            clock.today_wib())
        summary = domain.readiness_summary(results)
        if summary == business["readiness"]:
            return business
        business = store.save_readiness(tx, business["id"], summary)
        tx.emit(events.EXPORT_READINESS_CHANGED,
                events.export_readiness_changed(summary, self._snapshot(tx, business)),
                aggregate=events.business_aggregate(business))
        return business

    def _certification_view(self, tx, business, certification):
        shared = store.businesses_sharing_numbers(tx, [business["id"]])
        return contract.Certification().dump(certification | {
            "valid": domain.counts(certification, clock.today_wib()),
            "shared_with": shared.get(certification["id"], [])})

    def _view(self, tx, business, caller):
        return self._views(tx, [business], caller)[0]

    def _views(self, tx, businesses, caller):
        """Each business as the caller may see it; a few queries for the whole page."""
        ids = [business["id"] for business in businesses]
        certifications = store.certifications_of(tx, ids)
        private_ids = [business["id"] for business in businesses
                       if domain.may_see_private(caller, business)]
        decisions = store.decisions_of(tx, private_ids)
        shared = (store.businesses_sharing_numbers(tx, private_ids)
                  if domain.is_staff(caller) else {})
        today = clock.today_wib()
        return [self._render(business, certifications[business["id"]],
                             decisions.get(business["id"]), shared, today)
                for business in businesses]

    def _render(self, business, certifications, decisions, shared, today):
        """``decisions`` is None for a reader who may not see the private fields."""
        results = domain.evaluate_readiness(self.rules, business, certifications, today)
        private = decisions is not None
        view = domain.business_view(business, certifications, results, today, private=private,
                                    decisions=decisions or (), shared_numbers=shared)
        if not private:
            return contract.BusinessPublic().dump(view)
        view["readiness"] = domain.readiness_view(results, self.rules)
        return contract.Business().dump(view)
