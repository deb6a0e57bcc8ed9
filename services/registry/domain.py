"""The registry's rules: accounts, a business's legal identity, verification and export
readiness. Pure functions and small value objects: no database, no broker, no clock (the
caller passes ``now``/``today``)."""
import dataclasses
import datetime as dt
import re

from backbone.contracts import ROLES
from backbone.errors import Conflict, Forbidden, RateLimited, ValidationFailed
from services.registry import readiness

COOPERATIVE_TYPES = ("simpan_pinjam", "konsumen", "produsen", "pemasaran", "jasa", "serba_usaha")
SELF_SERVICE_ROLES = ("buyer", "vendor")
STAFF_ROLES = ("organizer", "admin")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128

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


@dataclasses.dataclass(frozen=True)
class LoginThrottle:
    """Failed logins allowed per e-mail and per client address within a sliding window."""
    window: dt.timedelta = dt.timedelta(minutes=15)
    per_email: int = 5
    per_client: int = 30

    def check(self, recent_failures_for_email, recent_failures_for_client, oldest_failure_at,
              now):
        if (recent_failures_for_email >= self.per_email
                or recent_failures_for_client >= self.per_client):
            retry_after = max(1, int((oldest_failure_at + self.window - now).total_seconds()))
            raise RateLimited("Too many failed log-in attempts; try again later.",
                              details={"retry_after": retry_after})


# --- businesses -----------------------------------------------------------------------------

def check_business_identity(data, rules):
    """The rules beyond each field's format (which the schemas check): the city's sectors and
    packaging vocabulary, and what only a koperasi has. One error names every bad field."""
    problems = {}
    if "sector" in data and not readiness.is_known_sector(rules, data["sector"]):
        problems["sector"] = [f"Unknown sector; one of {', '.join(rules.sectors)}."]
    for material in data.get("packaging") or ():
        if not readiness.is_known_packaging(rules, material):
            problems.setdefault("packaging", []).append(
                f"Unknown packaging material {material!r}; one of "
                f"{', '.join(rules.packaging_materials)}.")
    problems.update(_cooperative_problems(data))
    if problems:
        raise ValidationFailed("Some fields are invalid.", fields=problems)


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
                        for c in certifications],
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


def business_view(business, certifications, results, today, *, private, decisions=()):
    """The business as its reader may see it: public fields for anyone, everything for the
    owner and the staff."""
    view = dict(business)
    view["certifications"] = [c | {"valid": readiness.is_valid_on(
        readiness.Certification(c["kind"], c["number"], c["valid_until"]), today)}
        for c in certifications]
    view["export_ready"] = readiness.ready_markets(results)
    if private:
        view["verification_history"] = list(decisions)
    return view


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
