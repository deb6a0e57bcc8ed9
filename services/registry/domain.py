"""The registry's rules: accounts, a business's legal identity, verification and export
readiness. Pure functions and small value objects: no database, no broker, no clock (the
caller passes ``now``/``today``)."""
import dataclasses
import datetime as dt
import math
import re

from backbone.contracts import ROLES
from backbone.errors import Conflict, Forbidden, RateLimited, ValidationFailed
from services.registry import readiness
from services.registry.contract import (CERTIFICATION_KINDS, COOPERATIVE_TYPES,
                                        MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH,
                                        PACKAGING_MATERIALS, SECTORS, SELF_SERVICE_ROLES)

STAFF_ROLES = ("organizer", "admin")

# --- identity formats -----------------------------------------------------------------------

_MOBILE = re.compile(r"^(?:\+?62|0)(8\d{8,11})$")


def normalise_phone(raw):
    """An Indonesian mobile number (08..., +628..., 628...) as E.164 (+628...), or None."""
    compact = re.sub(r"[\s\-().]", "", raw or "")
    match = _MOBILE.match(compact)
    return f"+62{match.group(1)}" if match else None


def is_nib(value):
    return bool(re.fullmatch(r"\d{13}", value or ""))


def is_nik_koperasi(value):
    return bool(re.fullmatch(r"\d{16}", value or ""))


def normalise_email(email):
    return email.strip().lower()


# --- accounts -------------------------------------------------------------------------------

def check_may_create_role(caller_role, role):
    """Anyone may sign up as a buyer or vendor; only an admin creates staff accounts."""
    if role not in ROLES:
        raise ValidationFailed("Unknown role.", fields={"role": [f"Must be one of {ROLES}."]})
    if role in SELF_SERVICE_ROLES:
        return
    if caller_role != "admin":
        raise Forbidden(f"Only an admin may create an account with the role {role}.")


def check_first_admin_password(password):
    """The first admin's password, from the environment, obeys everyone's rules: the service
    refuses to start rather than create a weak admin."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValueError(f"LARIS_ADMIN_PASSWORD must have {MIN_PASSWORD_LENGTH} to "
                         f"{MAX_PASSWORD_LENGTH} characters, like every password")


@dataclasses.dataclass(frozen=True)
class LoginThrottle:
    """Failed log-ins of one (e-mail, client) pair, as OWASP's authentication guidance has it:
    a few free failures, then a delay that doubles with every further failure, up to a cap.
    Only that pair waits: the right password from another client is never refused because
    of someone else's guesses, and one address (a carrier NAT) locks nobody else out."""
    free_failures: int = 3
    first_delay: dt.timedelta = dt.timedelta(seconds=1)
    max_delay: dt.timedelta = dt.timedelta(minutes=15)
    # A pair's failures older than this are forgotten.
    memory: dt.timedelta = dt.timedelta(hours=24)

    def current_failures(self, pair, now):
        """The pair's failures still remembered at ``now`` (a row of login_throttle)."""
        if pair["last_failure_at"] is None or pair["last_failure_at"] < now - self.memory:
            return 0
        return pair["failures"]

    def check(self, pair, now):
        """RateLimited while the pair must wait; the attempt is then not verified at all."""
        if pair["blocked_until"] is not None and pair["blocked_until"] > now:
            retry_after = math.ceil((pair["blocked_until"] - now).total_seconds())
            raise RateLimited("Too many failed log-in attempts; try again later.",
                              details={"retry_after": retry_after})

    def blocked_until(self, failures, now):
        """When the pair may try again after its ``failures``-th failure (None: at once)."""
        if failures < self.free_failures:
            return None
        doublings = min(failures - self.free_failures, 32)
        return now + min(self.first_delay * 2 ** doublings, self.max_delay)


@dataclasses.dataclass(frozen=True)
class SignupThrottle:
    """Sign-ups one client may make in a fixed window (anonymous sign-ups only: an admin
    creating staff accounts is not throttled)."""
    per_window: int = 20
    window: dt.timedelta = dt.timedelta(hours=1)

    def check(self, signups, started_at, now):
        if signups > self.per_window:
            retry_after = math.ceil((started_at + self.window - now).total_seconds())
            raise RateLimited("Too many sign-ups from this client; try again later.",
                              details={"retry_after": max(1, retry_after)})


def check_may_change_role(caller, account_id):
    """Only an admin changes roles, and never their own: the last admin cannot demote
    themselves by mistake."""
    if not caller or caller["role"] != "admin":
        raise Forbidden("Only an admin may change an account's role.")
    if caller["account_id"] == str(account_id):
        raise Forbidden("An admin may not change their own role.")


# --- businesses -----------------------------------------------------------------------------

def check_business_identity(data):
    """The rules beyond each field's format (which the contract checks): what only a koperasi
    has. One error names every bad field."""
    problems = _cooperative_problems(data)
    if problems:
        raise ValidationFailed("Some fields are invalid.", fields=problems)


def check_update_fits_kind(business, changes):
    """A change that contradicts the business's kind (fixed at registration) conflicts with the
    business as it stands: a 409, since the same body suits a business of the other kind."""
    problems = _cooperative_problems(business | changes)
    if problems:
        raise Conflict(f"This does not fit a business of kind {business['kind']}.",
                       fields=problems)


def _cooperative_problems(data):
    if data.get("kind") == "koperasi":
        if data.get("cooperative_type") not in COOPERATIVE_TYPES:
            return {"cooperative_type": [
                f"A koperasi needs its type: one of {', '.join(COOPERATIVE_TYPES)}."]}
        return {}
    problems = {}
    if data.get("cooperative_type") is not None:
        problems["cooperative_type"] = ["Only a koperasi has a cooperative type."]
    if data.get("nik_koperasi") is not None:
        problems["nik_koperasi"] = ["Only a koperasi has a NIK koperasi."]
    return problems


def normalised_business(data):
    """The stored form of what passed ``check_business_identity``."""
    out = dict(data)
    if "phone" in out:
        out["phone"] = normalise_phone(out["phone"])
    if out.get("email"):
        out["email"] = normalise_email(out["email"])
    if "packaging" in out:
        out["packaging"] = sorted(set(out["packaging"]))
    for key in ("name", "address"):
        if out.get(key):
            out[key] = " ".join(out[key].split())
    return out


# Fields that make up the legal identity the city verified: fixed once verified.
IDENTITY_FIELDS = ("name", "kind", "sector", "kecamatan", "nib", "nik_koperasi",
                   "cooperative_type")


def actual_changes(business, requested):
    """What a PATCH really changes: re-sending a field's current value is not a change (so a
    verified business may send its unchanged name back)."""
    return {key: value for key, value in requested.items() if business.get(key) != value}


def check_may_update(status, changes):
    frozen = sorted(set(changes) & set(IDENTITY_FIELDS))
    if status == "verified" and frozen:
        raise Conflict("A verified business cannot change its legal identity; "
                       "contact the city's Diskopindag.", fields={f: ["Fixed once verified."]
                                                                   for f in frozen})


# --- verification: pending -> verified | rejected; verified -> rejected; rejected -> pending --

TRANSITIONS = {
    ("pending", "verified"),
    ("pending", "rejected"),
    ("verified", "rejected"),  # the city withdraws a verification it gave
    ("rejected", "pending"),   # the owner resubmits after fixing what was wrong
}


def next_status(current, wanted):
    if (current, wanted) not in TRANSITIONS:
        raise Conflict(f"A business that is {current} cannot become {wanted}.",
                       details={"status": current})
    return wanted


def event_for_status(status):
    if status == "pending":
        return "business.resubmitted"
    return f"business.{status}"


# --- roles on businesses --------------------------------------------------------------------

def is_staff(caller):
    return bool(caller) and caller["role"] in STAFF_ROLES


def is_owner(caller, business):
    return bool(caller) and caller["account_id"] == str(business["owner_account_id"])


def check_owner(caller, business):
    if not is_owner(caller, business):
        raise Forbidden("Only the business's owner may do this.")


def may_see_private(caller, business):
    return is_staff(caller) or is_owner(caller, business)


def is_publicly_visible(business):
    return business["status"] == "verified"


# --- certifications and readiness -----------------------------------------------------------

def resolve_certification_kind(kind, number):
    """The contract's examples say "bpom" and "iso"; the rules need the precise kind, which the
    number tells: BPOM MD.../ML..., ISO 9001 or ISO 22000."""
    compact = re.sub(r"[\s\-]", "", number or "").upper()
    if kind == "bpom":
        for prefix in ("MD", "ML"):
            if compact.startswith(prefix):
                return f"bpom_{prefix.lower()}"
        raise ValidationFailed("Say whether the BPOM number is MD or ML.", fields={"number": [
            "A BPOM number starts with MD (made in Indonesia) or ML (imported)."]})
    if kind == "iso":
        for standard in ("22000", "9001"):
            if standard in compact:
                return f"iso_{standard}"
        raise ValidationFailed("Say which ISO standard.", fields={"kind": [
            "Use iso_9001 or iso_22000, or give the standard in the number."]})
    return kind


def check_certification(rules, kind, number, valid_until, today):
    """The certification's precise kind and its normalised number, or a 422 naming the field."""
    kind = resolve_certification_kind(kind, number)
    if not readiness.is_known_certification(rules, kind):
        raise ValidationFailed("Unknown certification.", fields={"kind": [
            f"One of {', '.join(rules.certifications)}."]})
    problem = readiness.certification_number_error(rules, kind, number)
    if problem:
        raise ValidationFailed("The certification number is not valid.",
                               fields={"number": [problem]})
    if valid_until < today:
        raise ValidationFailed("The certification has already expired.",
                               fields={"valid_until": ["Must not be in the past."]})
    return kind, readiness.normalise_certification_number(kind, number, rules)


def evaluate_readiness(rules, business, certifications, today):
    return readiness.evaluate(
        rules,
        sector=business["sector"],
        verified=business["status"] == "verified",
        has_legal_identity=bool(business.get("nib") or business.get("nik_koperasi")),
        certifications=[readiness.Certification(c["kind"], c["number"], c["valid_until"])
                        for c in certifications if c["status"] == "confirmed"],
        packaging=business.get("packaging") or (),
        today=today,
    )


def readiness_summary(results):
    """The comparable, storable form of an evaluation: what the event announces."""
    return {
        "export_ready": readiness.ready_markets(results),
        "markets": [{"market": r.market, "ready": r.ready,
                     "missing": [item.code for item in r.missing]} for r in results],
    }


def readiness_view(results, rules):
    """What a person reads: each market, ready or not, and what is missing, in id and en."""
    labels = {market.code: market.label for market in rules.markets}
    return [{
        "market": r.market,
        "label": {"id": labels[r.market].id, "en": labels[r.market].en},
        "ready": r.ready,
        "missing": [{"code": m.code, "id": m.id, "en": m.en} for m in r.missing],
    } for r in results]


def check_decision_note(decision, note):
    """A rejection tells the owner what to fix."""
    if decision == "rejected" and not (note or "").strip():
        raise ValidationFailed("Say why the business is rejected.",
                               fields={"note": ["Required when rejecting."]})


def check_may_register_business(caller):
    if not caller or caller["role"] != "vendor":
        raise Forbidden("Only a vendor account registers a business.")


def check_staff(caller):
    if not is_staff(caller):
        raise Forbidden("Only the city's organizers may do this.")


def listing_filters(caller, query):
    """Staff see every business; a vendor sees their own; nobody else may list."""
    filters = {key: query.get(key) for key in ("status", "kecamatan", "sector")}
    if is_staff(caller):
        return filters
    if caller and caller["role"] == "vendor":
        return filters | {"owner_account_id": caller["account_id"]}
    raise Forbidden("Only organizers and vendors may list businesses.")


def counts(certification, today):
    """Only a certification the city confirmed, and not expired, counts for readiness and
    badges: a claim alone proves nothing."""
    return certification["status"] == "confirmed" and readiness.is_valid_on(
        readiness.Certification(certification["kind"], certification["number"],
                                certification["valid_until"]), today)


def business_view(business, certifications, results, today, *, private, decisions=(),
                  shared_numbers=None):
    """The business as its reader may see it: public fields and confirmed certifications for
    anyone; everything, claims included, for the owner and the staff."""
    view = dict(business)
    shown = certifications if private else [c for c in certifications
                                            if c["status"] == "confirmed"]
    view["certifications"] = [c | {"valid": counts(c, today),
                                   "shared_with": (shared_numbers or {}).get(c["id"], [])}
                              for c in shown]
    view["export_ready"] = readiness.ready_markets(results)
    if private:
        view["verification_history"] = list(decisions)
    return view


def confirmed_certification_facts(certifications, today):
    """The certifications other services may rely on (confirmed, unexpired)."""
    return [{"kind": c["kind"], "number": c["number"], "valid_until": c["valid_until"]}
            for c in certifications if counts(c, today)]


# --- certification review: claimed -> confirmed | refused; confirmed -> refused -------------

REVIEW_TRANSITIONS = {
    ("claimed", "confirmed"),
    ("claimed", "refused"),
    ("confirmed", "refused"),  # the city withdraws a confirmation (e.g. a forged certificate)
}


def next_review_status(current, decision):
    if (current, decision) not in REVIEW_TRANSITIONS:
        raise Conflict(f"A certification that is {current} cannot become {decision}.",
                       details={"status": current})
    return decision


def check_review_note(decision, note):
    if decision == "refused" and not (note or "").strip():
        raise ValidationFailed("Say why the certification is refused.",
                               fields={"note": ["Required when refusing."]})


# --- what a verification decision is tied to -------------------------------------------------

def expected_version(body_version, if_match):
    """The business version the decider reviewed: the body's ``version`` or the ``If-Match``
    header (an ETag this API gave out, or ``*``); None when neither says."""
    if body_version is not None:
        return body_version
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit() or len(tag) > 9:
        raise ValidationFailed("The If-Match header is not an ETag of this API.",
                               fields={"If-Match": ['Send the ETag you received, e.g. "3".']})
    return int(tag)


def check_unchanged_since_review(business, expected):
    if expected is not None and expected != business["version"]:
        raise Conflict("The business changed since you reviewed it; review it again.",
                       details={"version": business["version"]},
                       fields={"version": [f"Now {business['version']}, you reviewed {expected}."]})


def check_rules_match_contract(rules):
    """The rules file may only use the vocabularies the contract publishes, all of them, so a
    client's form and the rules never disagree."""
    mismatches = {
        "sectors": set(rules.sectors) ^ set(SECTORS),
        "packaging_materials": set(rules.packaging_materials) ^ set(PACKAGING_MATERIALS),
        "certifications": set(rules.certifications) ^ set(CERTIFICATION_KINDS),
    }
    problems = {section: sorted(codes) for section, codes in mismatches.items() if codes}
    if problems:
        raise ValueError(f"the export rules and the registry's contract disagree: {problems}; "
                         "change services/registry/contract.py with the rules file")


def rules_summary(rules):
    """The vocabulary of the rules file, for clients that build forms from it."""
    def label(value):
        return {"id": value.id, "en": value.en}
    return {
        "sectors": {code: label(value) for code, value in rules.sectors.items()},
        "packaging_materials": {code: label(value)
                                for code, value in rules.packaging_materials.items()},
        "certifications": {code: label(kind.label) for code, kind in rules.certifications.items()},
        "markets": [{"code": market.code, "label": label(market.label)}
                    for market in rules.markets],
    }
