"""Export readiness and certification rules of the registry service.

The rules themselves are data (``export_rules.yaml``) so that the city's staff
can change them without a release; see ``docs/export-readiness.md``.

Everything in this module is pure: :func:`load_rules` is the only function that
reads anything, and nothing looks at the clock, a database or the network.
Callers pass ``today`` and the business's facts in, which keeps the rules
trivially testable and lets any service reuse them.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

import yaml

DEFAULT_RULES_PATH = Path(__file__).with_name("export_rules.yaml")

# Reserved key under a market's `requirements` for sectors not listed there.
DEFAULT_SECTOR = "default"

# Longest certificate number we store; free-format kinds have no other check.
MAX_CERTIFICATION_NUMBER_LENGTH = 64

# Used only when normalising without the rules at hand; a unit test keeps it in
# step with the kinds that have a `format` in export_rules.yaml.
STRUCTURED_NUMBER_KINDS = frozenset({"halal", "pirt", "bpom_md", "bpom_ml", "fda"})

_CODE = re.compile(r"[a-z][a-z0-9_]*")
_SEPARATORS = re.compile(r"[\s\-]+")
_WHITESPACE = re.compile(r"\s+")


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    id: str
    en: str


@dataclass(frozen=True)
class CertificationKind:
    code: str
    label: Label
    number_format: re.Pattern[str] | None = None
    format_hint: Label | None = None


@dataclass(frozen=True)
class LegalIdentityRequirement:
    """The business has its NIB (or, for a koperasi, its NIK koperasi)."""


@dataclass(frozen=True)
class VerifiedRequirement:
    """The city has verified the business."""


@dataclass(frozen=True)
class CertificationRequirement:
    any_of: tuple[str, ...]


@dataclass(frozen=True)
class PackagingForbiddenRequirement:
    materials: tuple[str, ...]


Requirement = (
    LegalIdentityRequirement
    | VerifiedRequirement
    | CertificationRequirement
    | PackagingForbiddenRequirement
)


@dataclass(frozen=True)
class Market:
    code: str
    label: Label
    # sector code (or DEFAULT_SECTOR) -> requirements on top of the common ones
    requirements: Mapping[str, tuple[Requirement, ...]]


@dataclass(frozen=True)
class ExportRules:
    sectors: Mapping[str, Label]
    packaging_materials: Mapping[str, Label]
    certifications: Mapping[str, CertificationKind]
    common_requirements: tuple[Requirement, ...]
    markets: tuple[Market, ...]


@dataclass(frozen=True)
class Certification:
    kind: str
    number: str
    valid_until: datetime.date


@dataclass(frozen=True)
class MissingItem:
    code: str
    id: str
    en: str


@dataclass(frozen=True)
class MarketReadiness:
    market: str
    ready: bool
    missing: tuple[MissingItem, ...]


# --------------------------------------------------------------------------
# Loading and validating the rules file
# --------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """Safe loader that refuses duplicate keys.

    Plain YAML silently keeps the last of two identical keys, which would let a
    copy-pasted `kuliner:` block quietly replace another one.
    """


def _construct_mapping_without_duplicates(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, Hashable):
            continue  # construct_mapping reports unhashable keys itself
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping_without_duplicates,
)


def load_rules(path: str | os.PathLike[str] = DEFAULT_RULES_PATH) -> ExportRules:
    """Read and validate the rules file; raise ValueError if it is broken."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = yaml.load(handle, Loader=_StrictLoader)
    except OSError as error:
        raise ValueError(f"cannot read export rules file {path}: {error}") from error
    except yaml.YAMLError as error:
        raise ValueError(f"export rules file {path} is not valid YAML: {error}") from error
    try:
        return parse_rules(document)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


def parse_rules(document: Any) -> ExportRules:
    """Turn the mapping read from the rules file into ExportRules, or raise ValueError."""
    root = _mapping(document, "the rules file")
    _reject_unknown_keys(
        root,
        {"version", "sectors", "packaging_materials", "certifications",
         "common_requirements", "markets"},
        "the rules file",
    )
    sectors = _parse_labelled_codes(_required(root, "sectors", "the rules file"), "sectors")
    if DEFAULT_SECTOR in sectors:
        _fail("sectors", f"'{DEFAULT_SECTOR}' is reserved and cannot be a sector code")
    packaging = _parse_labelled_codes(
        _required(root, "packaging_materials", "the rules file"), "packaging_materials"
    )
    certifications = _parse_certification_kinds(
        _required(root, "certifications", "the rules file")
    )
    known = _KnownCodes(frozenset(sectors), frozenset(certifications), frozenset(packaging))
    common = _parse_requirement_list(
        root.get("common_requirements", []), "common_requirements", known
    )
    markets = _parse_markets(_required(root, "markets", "the rules file"), known)
    return ExportRules(
        sectors=MappingProxyType(sectors),
        packaging_materials=MappingProxyType(packaging),
        certifications=MappingProxyType(certifications),
        common_requirements=common,
        markets=markets,
    )


@dataclass(frozen=True)
class _KnownCodes:
    sectors: frozenset[str]
    certifications: frozenset[str]
    packaging: frozenset[str]


def _fail(where: str, problem: str) -> NoReturn:
    raise ValueError(f"export rules, {where}: {problem}")


def _mapping(value: Any, where: str) -> Mapping:
    if not isinstance(value, Mapping):
        _fail(where, f"expected a mapping (key: value lines), got {_describe(value)}")
    return value


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        _fail(where, f"expected a list (lines starting with '-'), got {_describe(value)}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        _fail(where, f"expected non-empty text, got {_describe(value)}")
    return value.strip()


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


def _required(mapping: Mapping, key: str, where: str) -> Any:
    if key not in mapping:
        _fail(where, f"'{key}' is missing")
    return mapping[key]


def _reject_unknown_keys(mapping: Mapping, allowed: set[str], where: str) -> None:
    unknown = [key for key in mapping if key not in allowed]
    if unknown:
        _fail(
            where,
            f"unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(allowed))}",
        )


def _code(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        _fail(where, f"{value!r} is not a valid code (lower case a-z, 0-9 and _)")
    return value


def _label(entry: Mapping, where: str) -> Label:
    return Label(id=_text(entry.get("id"), f"{where}.id"), en=_text(entry.get("en"), f"{where}.en"))


def _parse_labelled_codes(section: Any, where: str) -> dict[str, Label]:
    entries = _mapping(section, where)
    if not entries:
        _fail(where, "must not be empty")
    labels = {}
    for key, entry in entries.items():
        code = _code(key, where)
        entry_where = f"{where}.{code}"
        entry = _mapping(entry, entry_where)
        _reject_unknown_keys(entry, {"id", "en"}, entry_where)
        labels[code] = _label(entry, entry_where)
    return labels


def _parse_certification_kinds(section: Any) -> dict[str, CertificationKind]:
    entries = _mapping(section, "certifications")
    if not entries:
        _fail("certifications", "must not be empty")
    return {
        _code(key, "certifications"): _parse_certification_kind(key, entry)
        for key, entry in entries.items()
    }


def _parse_certification_kind(code: str, entry: Any) -> CertificationKind:
    where = f"certifications.{code}"
    entry = _mapping(entry, where)
    _reject_unknown_keys(entry, {"id", "en", "format", "format_hint"}, where)
    number_format = None
    format_hint = None
    if entry.get("format") is not None:
        number_format = _regex(entry["format"], f"{where}.format")
        hint = _mapping(
            entry.get("format_hint"), f"{where}.format_hint (required together with 'format')"
        )
        _reject_unknown_keys(hint, {"id", "en"}, f"{where}.format_hint")
        format_hint = _label(hint, f"{where}.format_hint")
    return CertificationKind(
        code=code, label=_label(entry, where), number_format=number_format, format_hint=format_hint
    )


def _regex(value: Any, where: str) -> re.Pattern[str]:
    pattern = _text(value, where)
    try:
        # ASCII: `\d` must not accept e.g. Arabic-Indic digits in a number.
        return re.compile(pattern, re.ASCII)
    except re.error as error:
        _fail(where, f"{pattern!r} is not a valid regular expression ({error})")


def _parse_markets(section: Any, known: _KnownCodes) -> tuple[Market, ...]:
    entries = _mapping(section, "markets")
    if not entries:
        _fail("markets", "must not be empty")
    return tuple(_parse_market(_code(key, "markets"), entry, known)
                 for key, entry in entries.items())


def _parse_market(code: str, entry: Any, known: _KnownCodes) -> Market:
    where = f"markets.{code}"
    entry = _mapping(entry, where)
    _reject_unknown_keys(entry, {"id", "en", "requirements"}, where)
    by_sector = _mapping(entry.get("requirements", {}), f"{where}.requirements")
    requirements = {}
    for sector, raw_list in by_sector.items():
        sector_where = f"{where}.requirements.{sector}"
        if sector != DEFAULT_SECTOR and sector not in known.sectors:
            _fail(sector_where, f"unknown sector {sector!r}; add it under 'sectors' first")
        requirements[sector] = _parse_requirement_list(raw_list, sector_where, known)
    return Market(code=code, label=_label(entry, where),
                  requirements=MappingProxyType(requirements))


def _parse_requirement_list(raw: Any, where: str, known: _KnownCodes) -> tuple[Requirement, ...]:
    # `kuliner:` with nothing after it reads as None; treat it like `[]`.
    if raw is None:
        return ()
    return tuple(
        _parse_requirement(item, f"{where}[{index}]", known)
        for index, item in enumerate(_list(raw, where))
    )


_REQUIREMENT_TYPES = "legal_identity, verified, certification, packaging_forbidden"


def _parse_requirement(raw: Any, where: str, known: _KnownCodes) -> Requirement:
    if raw == "legal_identity":
        return LegalIdentityRequirement()
    if raw == "verified":
        return VerifiedRequirement()
    if isinstance(raw, Mapping) and len(raw) == 1:
        ((kind, body),) = raw.items()
        if kind == "certification":
            return _parse_certification_requirement(body, f"{where}.certification", known)
        if kind == "packaging_forbidden":
            return _parse_packaging_requirement(body, f"{where}.packaging_forbidden", known)
        raw = kind
    _fail(where, f"unknown requirement type {raw!r}; expected one of: {_REQUIREMENT_TYPES}")


def _parse_certification_requirement(
    body: Any, where: str, known: _KnownCodes
) -> CertificationRequirement:
    if not isinstance(body, Mapping) or set(body) != {"any_of"}:
        _fail(where, "expected 'any_of: [kind, ...]' under 'certification'")
    kinds = _non_empty_codes(body["any_of"], f"{where}.any_of")
    for kind in kinds:
        if kind not in known.certifications:
            _fail(f"{where}.any_of", f"unknown certification kind {kind!r}; "
                  "add it under 'certifications' first")
    return CertificationRequirement(any_of=kinds)


def _parse_packaging_requirement(
    body: Any, where: str, known: _KnownCodes
) -> PackagingForbiddenRequirement:
    materials = _non_empty_codes(body, where)
    for material in materials:
        if material not in known.packaging:
            _fail(where, f"unknown packaging material {material!r}; "
                  "add it under 'packaging_materials' first")
    return PackagingForbiddenRequirement(materials=materials)


def _non_empty_codes(raw: Any, where: str) -> tuple[str, ...]:
    items = _list(raw, where)
    if not items:
        _fail(where, "must list at least one code")
    return tuple(dict.fromkeys(_code(item, where) for item in items))


# --------------------------------------------------------------------------
# Vocabulary checks and certificate numbers
# --------------------------------------------------------------------------


def is_known_sector(rules: ExportRules, sector: str) -> bool:
    return sector in rules.sectors


def is_known_certification(rules: ExportRules, kind: str) -> bool:
    return kind in rules.certifications


def is_known_packaging(rules: ExportRules, material: str) -> bool:
    return material in rules.packaging_materials


def normalise_certification_number(
    kind: str, number: str, rules: ExportRules | None = None
) -> str:
    """Canonical form to store and compare, e.g. 'md 1234-5678 9012' -> 'MD123456789012'.

    Separators are dropped only for structured numbers: in free-format numbers
    (SNI, ISO...) they can be part of what the certifying body issued.
    """
    text = _WHITESPACE.sub(" ", number.strip().upper())
    if _has_structured_number(kind, rules):
        return _SEPARATORS.sub("", text)
    return text


def _has_structured_number(kind: str, rules: ExportRules | None) -> bool:
    if rules is None:
        return kind in STRUCTURED_NUMBER_KINDS
    certification = rules.certifications.get(kind)
    return certification is not None and certification.number_format is not None


def certification_number_error(rules: ExportRules, kind: str, number: str) -> str | None:
    """None if `number` is acceptable for `kind`, else an English message for the user."""
    certification = rules.certifications.get(kind)
    if certification is None:
        return f"Unknown certification kind {kind!r}."
    normalised = normalise_certification_number(kind, number, rules)
    if not normalised:
        return "The certificate number is empty."
    if len(normalised) > MAX_CERTIFICATION_NUMBER_LENGTH:
        return (
            f"A certificate number has at most {MAX_CERTIFICATION_NUMBER_LENGTH} characters."
        )
    if certification.number_format and not certification.number_format.fullmatch(normalised):
        return certification.format_hint.en
    return None


def is_valid_on(cert: Certification, today: datetime.date) -> bool:
    """A certificate is still valid on the last day printed on it."""
    return today <= cert.valid_until


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Business:
    verified: bool
    has_legal_identity: bool
    valid_certification_kinds: frozenset[str]
    packaging: frozenset[str]


def evaluate(
    rules: ExportRules,
    *,
    sector: str,
    verified: bool,
    has_legal_identity: bool,
    certifications: Iterable[Certification],
    packaging: Iterable[str],
    today: datetime.date,
) -> tuple[MarketReadiness, ...]:
    """Readiness for every market, in the order the rules file lists them."""
    business = _Business(
        verified=verified,
        has_legal_identity=has_legal_identity,
        valid_certification_kinds=frozenset(
            cert.kind for cert in certifications if is_valid_on(cert, today)
        ),
        packaging=frozenset(material.strip().lower() for material in packaging),
    )
    return tuple(_evaluate_market(rules, market, sector, business) for market in rules.markets)


def ready_markets(results: Iterable[MarketReadiness]) -> list[str]:
    return [result.market for result in results if result.ready]


def _evaluate_market(
    rules: ExportRules, market: Market, sector: str, business: _Business
) -> MarketReadiness:
    missing = _without_duplicates(
        item
        for requirement in _requirements_for(rules, market, sector)
        for item in _missing_items(rules, requirement, business)
    )
    return MarketReadiness(market=market.code, ready=not missing, missing=missing)


def _requirements_for(rules: ExportRules, market: Market, sector: str) -> tuple[Requirement, ...]:
    sector_specific = market.requirements.get(sector)
    if sector_specific is None:
        sector_specific = market.requirements.get(DEFAULT_SECTOR, ())
    return rules.common_requirements + sector_specific


def _without_duplicates(items: Iterable[MissingItem]) -> tuple[MissingItem, ...]:
    # A requirement repeated in the common list and a sector list is one gap.
    return tuple({item.code: item for item in items}.values())


def _missing_items(
    rules: ExportRules, requirement: Requirement, business: _Business
) -> tuple[MissingItem, ...]:
    match requirement:
        case LegalIdentityRequirement():
            return () if business.has_legal_identity else (_MISSING_LEGAL_IDENTITY,)
        case VerifiedRequirement():
            return () if business.verified else (_MISSING_VERIFICATION,)
        case CertificationRequirement(any_of=kinds):
            if business.valid_certification_kinds.intersection(kinds):
                return ()
            return (_missing_certification(rules, kinds),)
        case PackagingForbiddenRequirement(materials=materials):
            return tuple(
                _forbidden_packaging(rules, material)
                for material in materials
                if material in business.packaging
            )
    raise TypeError(f"unsupported requirement {requirement!r}")


_MISSING_LEGAL_IDENTITY = MissingItem(
    code="legal_identity",
    id="Nomor Induk Berusaha (NIB); untuk koperasi, NIK koperasi juga berlaku",
    en="A business identity number (NIB); for a cooperative its NIK koperasi also counts",
)

_MISSING_VERIFICATION = MissingItem(
    code="verified",
    id="Verifikasi usaha oleh Pemerintah Kota Malang",
    en="Verification of the business by the City of Malang",
)


def _missing_certification(rules: ExportRules, kinds: tuple[str, ...]) -> MissingItem:
    labels = [rules.certifications[kind].label for kind in kinds]
    return MissingItem(
        code="certification:" + "|".join(kinds),
        id=_join_alternatives([label.id for label in labels], "atau") + " yang masih berlaku",
        en="A valid " + _lower_first(_join_alternatives([label.en for label in labels], "or")),
    )


def _forbidden_packaging(rules: ExportRules, material: str) -> MissingItem:
    label = rules.packaging_materials[material]
    return MissingItem(
        code=f"packaging:{material}",
        id=f"Kemasan tanpa bahan {_lower_first(label.id)} (tidak diizinkan di pasar ini)",
        en=f"Packaging without {_lower_first(label.en)} (not allowed in this market)",
    )


def _join_alternatives(phrases: list[str], conjunction: str) -> str:
    # Only the first phrase starts the sentence; the rest continue it.
    phrases = [phrases[0]] + [_lower_first(phrase) for phrase in phrases[1:]]
    if len(phrases) == 1:
        return phrases[0]
    return f"{', '.join(phrases[:-1])} {conjunction} {phrases[-1]}"


def _lower_first(phrase: str) -> str:
    """'Halal certificate' -> 'halal certificate', but 'HACCP ...' and 'P-IRT ...' stay."""
    first_word = phrase.split(" ", 1)[0]
    if len(first_word) < 2 or any(char.isupper() for char in first_word[1:]):
        return phrase
    return phrase[0].lower() + phrase[1:]
