"""Unit tests for the export readiness rules (no database, no broker, no clock)."""

import copy
import datetime

import pytest

from services.registry.readiness import (
    DEFAULT_RULES_PATH,
    STRUCTURED_NUMBER_KINDS,
    Certification,
    MarketReadiness,
    MissingItem,
    certification_number_error,
    evaluate,
    is_known_certification,
    is_known_packaging,
    is_known_sector,
    is_valid_on,
    load_rules,
    normalise_certification_number,
    parse_rules,
    ready_markets,
)

TODAY = datetime.date(2025, 6, 1)
NEXT_YEAR = datetime.date(2026, 6, 1)
YESTERDAY = TODAY - datetime.timedelta(days=1)

EXPORT_MARKETS = ("asean", "middle_east", "japan", "eu", "usa")


@pytest.fixture(scope="module")
def rules():
    return load_rules(DEFAULT_RULES_PATH)


def cert(kind, valid_until=NEXT_YEAR, number="X"):
    return Certification(kind=kind, number=number, valid_until=valid_until)


def run(rules, sector, certifications=(), packaging=(), verified=True, legal=True, today=TODAY):
    results = evaluate(
        rules,
        sector=sector,
        verified=verified,
        has_legal_identity=legal,
        certifications=certifications,
        packaging=packaging,
        today=today,
    )
    return {result.market: result for result in results}


def missing_codes(result: MarketReadiness):
    return [item.code for item in result.missing]


# A small hand-written rules mapping; tests copy and break it on purpose.
MINIMAL = {
    "sectors": {
        "kuliner": {"id": "Kuliner", "en": "Food"},
        "jasa": {"id": "Jasa", "en": "Services"},
    },
    "packaging_materials": {
        "plastic": {"id": "Plastik", "en": "Plastic"},
        "paper": {"id": "Kertas", "en": "Paper"},
    },
    "certifications": {
        "halal": {
            "id": "Sertifikat halal",
            "en": "Halal certificate",
            "format": r"ID\d{14,}",
            "format_hint": {"id": "Format salah.", "en": "Bad halal number."},
        },
        "haccp": {"id": "Sertifikat HACCP", "en": "HACCP certificate"},
    },
    "common_requirements": ["verified", "legal_identity"],
    "markets": {
        "home": {
            "id": "Dalam negeri",
            "en": "Home",
            "requirements": {
                "default": [],
                "kuliner": [{"certification": {"any_of": ["halal"]}}],
            },
        },
        "abroad": {
            "id": "Luar negeri",
            "en": "Abroad",
            "requirements": {
                "default": [{"certification": {"any_of": ["haccp"]}}],
                "kuliner": [
                    {"certification": {"any_of": ["halal", "haccp"]}},
                    {"packaging_forbidden": ["plastic"]},
                ],
            },
        },
    },
}


def minimal(**changes):
    mapping = copy.deepcopy(MINIMAL)
    mapping.update(changes)
    return mapping


# --------------------------------------------------------------------------
# The real rules file
# --------------------------------------------------------------------------


def test_real_file_lists_markets_in_file_order(rules):
    assert [market.code for market in rules.markets] == [
        "domestic", "asean", "middle_east", "japan", "eu", "usa",
    ]


def test_real_file_has_the_agreed_vocabulary(rules):
    assert set(rules.sectors) == {
        "kuliner", "fashion", "kerajinan", "pertanian", "ekonomi_kreatif", "jasa", "perdagangan",
    }
    assert set(rules.packaging_materials) == {
        "plastic", "paper", "glass", "metal", "wood", "bamboo", "cloth", "leaf",
    }
    assert set(rules.certifications) == {
        "halal", "pirt", "bpom_md", "bpom_ml", "sni", "iso_9001", "iso_22000",
        "haccp", "organic", "fda", "svlk",
    }
    assert rules.sectors["kuliner"].en == "Food & beverages"


def test_builtin_structured_kinds_match_the_real_file(rules):
    with_format = {code for code, kind in rules.certifications.items() if kind.number_format}
    assert with_format == STRUCTURED_NUMBER_KINDS


def test_known_vocabulary_checks(rules):
    assert is_known_sector(rules, "kuliner")
    assert not is_known_sector(rules, "default")
    assert not is_known_sector(rules, "otomotif")
    assert is_known_certification(rules, "halal")
    assert not is_known_certification(rules, "kosher")
    assert is_known_packaging(rules, "leaf")
    assert not is_known_packaging(rules, "styrofoam")


# --------------------------------------------------------------------------
# Validity dates
# --------------------------------------------------------------------------


def test_certificate_is_valid_through_its_last_day():
    assert is_valid_on(cert("halal", valid_until=TODAY), TODAY)
    assert is_valid_on(cert("halal", valid_until=NEXT_YEAR), TODAY)
    assert not is_valid_on(cert("halal", valid_until=YESTERDAY), TODAY)


def test_expired_certificate_does_not_count(rules):
    fresh = [cert("pirt"), cert("halal")]
    expired_halal = [cert("pirt"), cert("halal", valid_until=YESTERDAY)]

    assert run(rules, "kuliner", fresh)["domestic"].ready
    domestic = run(rules, "kuliner", expired_halal)["domestic"]
    assert not domestic.ready
    assert missing_codes(domestic) == ["certification:halal"]


def test_certificate_valid_through_today_counts(rules):
    certifications = [cert("pirt", valid_until=TODAY), cert("halal", valid_until=TODAY)]
    assert run(rules, "kuliner", certifications)["domestic"].ready
    tomorrow = TODAY + datetime.timedelta(days=1)
    assert not run(rules, "kuliner", certifications, today=tomorrow)["domestic"].ready


def test_any_one_valid_certificate_of_the_alternatives_is_enough(rules):
    for distribution_permit in ("pirt", "bpom_md", "bpom_ml"):
        results = run(rules, "kuliner", [cert(distribution_permit), cert("halal")])
        assert results["domestic"].ready, distribution_permit


def test_an_expired_and_a_valid_certificate_of_the_same_kind(rules):
    certifications = [cert("pirt"), cert("halal", YESTERDAY), cert("halal", NEXT_YEAR)]
    assert run(rules, "kuliner", certifications)["domestic"].ready


# --------------------------------------------------------------------------
# Markets and sectors in the real file
# --------------------------------------------------------------------------


def test_every_market_needs_verification_and_legal_identity(rules):
    for sector in rules.sectors:
        results = run(rules, sector, verified=False, legal=False)
        for market, result in results.items():
            assert not result.ready, (sector, market)
            assert missing_codes(result)[:2] == ["verified", "legal_identity"], (sector, market)


def test_services_sectors_need_only_legal_identity_and_verification(rules):
    for sector in ("jasa", "ekonomi_kreatif", "perdagangan"):
        results = run(rules, sector)
        assert ready_markets(results.values()) == [market.code for market in rules.markets]


def test_plastic_packaging_blocks_japan_and_eu_for_food_but_not_domestic(rules):
    certifications = [cert("pirt"), cert("halal"), cert("haccp")]
    results = run(rules, "kuliner", certifications, packaging=["plastic", "paper"])

    assert results["domestic"].ready
    assert results["middle_east"].ready
    for market in ("japan", "eu"):
        assert not results[market].ready
        assert missing_codes(results[market]) == ["packaging:plastic"]

    without_plastic = run(rules, "kuliner", certifications, packaging=["paper", "leaf"])
    assert without_plastic["japan"].ready
    assert without_plastic["eu"].ready


def test_plastic_packaging_does_not_block_handicrafts(rules):
    results = run(rules, "kerajinan", [cert("svlk")], packaging=["plastic"])
    assert ready_markets(results.values()) == [market.code for market in rules.markets]


def test_textiles_need_iso_for_every_export_market(rules):
    without_iso = run(rules, "fashion", [cert("sni")])
    assert without_iso["domestic"].ready
    for market in EXPORT_MARKETS:
        assert missing_codes(without_iso[market]) == ["certification:iso_9001"], market

    with_iso = run(rules, "fashion", [cert("iso_9001")])
    assert ready_markets(with_iso.values()) == [market.code for market in rules.markets]


def test_usa_needs_fda_registration_for_food(rules):
    certifications = [cert("bpom_md"), cert("halal"), cert("iso_22000")]
    results = run(rules, "kuliner", certifications)
    assert missing_codes(results["usa"]) == ["certification:fda"]
    assert run(rules, "kuliner", certifications + [cert("fda")])["usa"].ready


def test_keripik_tempe_maker_from_sanan(rules):
    # The worked example in docs/export-readiness.md.
    results = run(
        rules,
        "kuliner",
        [cert("pirt", number="206350701012325"), cert("halal", number="ID35110000123450321")],
        packaging=["plastic"],
    )
    assert ready_markets(results.values()) == ["domestic"]
    assert missing_codes(results["japan"]) == [
        "certification:haccp|iso_22000",
        "packaging:plastic",
    ]
    assert missing_codes(results["asean"]) == ["certification:bpom_md|bpom_ml"]


def test_missing_items_are_described_in_both_languages(rules):
    results = run(rules, "kuliner", [cert("pirt")], packaging=["plastic"], verified=False)

    assert MissingItem(
        code="certification:halal",
        id="Sertifikat halal yang masih berlaku",
        en="A valid halal certificate",
    ) in results["domestic"].missing

    japan = {item.code: item for item in results["japan"].missing}
    assert japan["certification:haccp|iso_22000"].en == (
        "A valid HACCP certificate or ISO 22000 certificate (food safety management)"
    )
    assert japan["certification:haccp|iso_22000"].id == (
        "Sertifikat HACCP atau sertifikat ISO 22000 (keamanan pangan) yang masih berlaku"
    )
    assert "plastik" in japan["packaging:plastic"].id
    assert "plastic" in japan["packaging:plastic"].en
    assert "Kota Malang" in japan["verified"].id

    for result in results.values():
        for item in result.missing:
            assert item.id.strip() and item.en.strip()
            assert item.id != item.en


def test_unknown_sector_falls_back_to_default(rules):
    # 'otomotif' is not a sector: only the default (= common) requirements apply.
    results = run(rules, "otomotif")
    assert ready_markets(results.values()) == [market.code for market in rules.markets]


def test_evaluate_accepts_one_shot_iterables_and_messy_packaging(rules):
    results = run(
        rules,
        "kuliner",
        (c for c in [cert("pirt"), cert("halal"), cert("haccp")]),
        packaging=iter([" Plastic "]),
    )
    assert results["domestic"].ready
    assert missing_codes(results["eu"]) == ["packaging:plastic"]


def test_ready_markets_keeps_order():
    results = (
        MarketReadiness("b", True, ()),
        MarketReadiness("a", False, (MissingItem("verified", "x", "y"),)),
        MarketReadiness("c", True, ()),
    )
    assert ready_markets(results) == ["b", "c"]


# --------------------------------------------------------------------------
# Hand-written rules
# --------------------------------------------------------------------------


def test_minimal_rules_default_and_sector_lists():
    rules = parse_rules(minimal())

    jasa = run(rules, "jasa")
    assert jasa["home"].ready
    assert missing_codes(jasa["abroad"]) == ["certification:haccp"]

    # An unknown sector is treated like a sector not listed: `default`.
    assert missing_codes(run(rules, "bengkel")["abroad"]) == ["certification:haccp"]

    kuliner = run(rules, "kuliner", [cert("halal")], packaging=["plastic"])
    assert kuliner["home"].ready
    assert missing_codes(kuliner["abroad"]) == ["packaging:plastic"]


def test_market_without_default_needs_only_common_requirements():
    mapping = minimal()
    del mapping["markets"]["abroad"]["requirements"]["default"]
    rules = parse_rules(mapping)
    assert run(rules, "jasa")["abroad"].ready
    assert not run(rules, "jasa", verified=False)["abroad"].ready


def test_requirement_repeated_in_sector_list_is_reported_once():
    mapping = minimal()
    mapping["markets"]["home"]["requirements"]["kuliner"].append("verified")
    rules = parse_rules(mapping)
    home = run(rules, "kuliner", verified=False)["home"]
    assert missing_codes(home) == ["verified", "certification:halal"]


def test_empty_sector_entry_means_no_extra_requirements():
    mapping = minimal()
    mapping["markets"]["abroad"]["requirements"]["jasa"] = None  # `jasa:` with nothing after it
    rules = parse_rules(mapping)
    assert run(rules, "jasa")["abroad"].ready
    assert missing_codes(run(rules, "bengkel")["abroad"]) == ["certification:haccp"]


# --------------------------------------------------------------------------
# Certificate numbers
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, number",
    [
        ("pirt", "206350701012325"),
        ("pirt", "2063507010123-25"),
        ("pirt", "20635070101232501"),
        ("bpom_md", "MD 123456789012"),
        ("bpom_md", "md123456789012"),
        ("bpom_ml", "ML 123456789012"),
        ("halal", "ID35110000123450321"),
        ("halal", "id 3511 0000 1234 50321"),
        ("halal", "ID12345678901234"),
        ("fda", "12345678901"),
        ("fda", "123-4567-8901"),
        ("sni", "SNI 8221:2016"),
        ("iso_9001", "QMS/2024/0042"),
        ("organic", "LSO-001-IDN"),
        ("svlk", "x"),
    ],
)
def test_valid_certification_numbers(rules, kind, number):
    assert certification_number_error(rules, kind, number) is None


@pytest.mark.parametrize(
    "kind, number, message",
    [
        ("pirt", "12345678901234", "A P-IRT number has at least 15 digits."),
        ("pirt", "2063507010123AB", "A P-IRT number has at least 15 digits."),
        ("bpom_md", "MD 12345678901", "MD"),
        ("bpom_md", "MD 1234567890123", "MD"),
        ("bpom_md", "ML 123456789012", "MD"),
        ("bpom_ml", "ML12345678901", "ML"),
        ("bpom_ml", "MD123456789012", "ML"),
        ("halal", "ID1234567890123", "halal"),
        ("halal", "35110000123450321", "halal"),
        ("fda", "1234567890", "11 digits"),
        ("fda", "123456789012", "11 digits"),
        ("fda", "١٢٣٤٥٦٧٨٩٠١", "11 digits"),  # Arabic-Indic digits are not accepted
        ("sni", "   ", "empty"),
        ("haccp", "", "empty"),
        ("organic", "X" * 65, "at most 64"),
        ("kosher", "123", "Unknown certification kind"),
    ],
)
def test_invalid_certification_numbers(rules, kind, number, message):
    error = certification_number_error(rules, kind, number)
    assert error is not None
    assert message in error


def test_free_format_number_of_exactly_64_characters_is_accepted(rules):
    assert certification_number_error(rules, "haccp", "H" * 64) is None


def test_normalisation_of_structured_numbers():
    assert normalise_certification_number("bpom_md", " md 1234-5678 9012 ") == "MD123456789012"
    assert normalise_certification_number("pirt", "2063507010123-25") == "206350701012325"
    assert normalise_certification_number("halal", "id35110000123450321") == "ID35110000123450321"


def test_normalisation_keeps_separators_of_free_format_numbers():
    assert normalise_certification_number("sni", "  sni  8221:2016 ") == "SNI 8221:2016"
    assert normalise_certification_number("iso_9001", "qms-2024-0042") == "QMS-2024-0042"


def test_normalisation_follows_the_rules_when_given():
    rules = parse_rules(minimal())
    assert normalise_certification_number("halal", "id 1234-5", rules) == "ID12345"
    assert normalise_certification_number("haccp", "ab 12-3", rules) == "AB 12-3"


# --------------------------------------------------------------------------
# Broken rule files
# --------------------------------------------------------------------------


def break_market_requirement(requirement):
    mapping = minimal()
    mapping["markets"]["abroad"]["requirements"]["kuliner"] = [requirement]
    return mapping


@pytest.mark.parametrize(
    "mapping, expected",
    [
        (None, "expected a mapping"),
        ([], "expected a mapping"),
        (minimal(markets={}), "markets: must not be empty"),
        ({k: v for k, v in MINIMAL.items() if k != "markets"}, "'markets' is missing"),
        (minimal(markts={}), "unknown key(s) 'markts'"),
        (break_market_requirement("halal_certified"), "unknown requirement type 'halal_certified'"),
        (break_market_requirement({"license": ["x"]}), "unknown requirement type 'license'"),
        (
            break_market_requirement({"certification": {"any_of": ["kosher"]}}),
            "unknown certification kind 'kosher'",
        ),
        (break_market_requirement({"certification": ["halal"]}), "expected 'any_of"),
        (break_market_requirement({"certification": {"any_of": []}}), "at least one code"),
        (break_market_requirement({"packaging_forbidden": ["styrofoam"]}), "unknown packaging"),
        (break_market_requirement({"packaging_forbidden": "plastic"}), "expected a list"),
    ],
)
def test_broken_rules_are_rejected_with_a_clear_message(mapping, expected):
    with pytest.raises(ValueError) as raised:
        parse_rules(mapping)
    assert expected in str(raised.value)


def test_error_message_says_where_the_problem_is():
    with pytest.raises(ValueError, match=r"markets\.abroad\.requirements\.kuliner\[0\]"):
        parse_rules(break_market_requirement("halal_certified"))


def test_bad_regex_is_rejected():
    mapping = minimal()
    mapping["certifications"]["halal"]["format"] = r"ID(\d+"
    with pytest.raises(ValueError,
                       match=r"certifications\.halal\.format.*not a valid regular expression"):
        parse_rules(mapping)


def test_format_without_hint_is_rejected():
    mapping = minimal()
    del mapping["certifications"]["halal"]["format_hint"]
    with pytest.raises(ValueError, match="format_hint"):
        parse_rules(mapping)


def test_unknown_sector_in_market_is_rejected():
    mapping = minimal()
    mapping["markets"]["home"]["requirements"]["otomotif"] = []
    with pytest.raises(ValueError, match="unknown sector 'otomotif'"):
        parse_rules(mapping)


def test_missing_label_is_rejected():
    mapping = minimal()
    del mapping["sectors"]["jasa"]["en"]
    with pytest.raises(ValueError, match=r"sectors\.jasa\.en"):
        parse_rules(mapping)


def test_default_cannot_be_a_sector():
    mapping = minimal()
    mapping["sectors"]["default"] = {"id": "Lainnya", "en": "Other"}
    with pytest.raises(ValueError, match="reserved"):
        parse_rules(mapping)


def test_load_rules_rejects_invalid_yaml(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("sectors:\n  kuliner:\n    id: Kuliner\n   en: Food\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_rules(path)


def test_load_rules_rejects_duplicate_keys(tmp_path):
    text = DEFAULT_RULES_PATH.read_text(encoding="utf-8").replace(
        "  jasa:\n", "  jasa:\n    id: Jasa\n    en: Services\n  jasa:\n", 1
    )
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate key 'jasa'"):
        load_rules(path)


def test_load_rules_names_the_file_in_structural_errors(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        DEFAULT_RULES_PATH.read_text(encoding="utf-8").replace("any_of: [fda]", "any_of: [fdaa]"),
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as raised:
        load_rules(path)
    assert str(path) in str(raised.value)
    assert "unknown certification kind 'fdaa'" in str(raised.value)


def test_load_rules_reports_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="cannot read export rules file"):
        load_rules(tmp_path / "absent.yaml")
