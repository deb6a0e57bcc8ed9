"""The boundary every service shares: what callers may send, and what the gateway may know."""
import datetime as dt
import importlib
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError, fields, validate

from backbone import config
from backbone.fields import Id, Text, parse_id
from services.registry import contract, domain, readiness

CONTRACTS = {service: importlib.import_module(f"services.{service}.contract")
             for service in config.SERVICES}


def _string_fields(schema_class):
    """(path, field) for every string field of a schema, inside lists and nested schemas."""
    def walk(field, path):
        if isinstance(field, fields.List):
            yield from walk(field.inner, f"{path}[]")
        elif isinstance(field, fields.Nested):
            for name, inner in field.schema.fields.items():
                yield from walk(inner, f"{path}.{name}")
        elif isinstance(field, fields.String):
            yield path, field
    for name, field in schema_class().fields.items():
        yield from walk(field, f"{schema_class.__name__}.{name}")


def _closed(field):
    return any(isinstance(check, validate.OneOf) for check in field.validators)


@pytest.mark.parametrize("service", sorted(CONTRACTS))
def test_every_string_a_caller_sends_is_bounded_text_or_a_closed_vocabulary(service):
    offenders = [path for schema in CONTRACTS[service].REQUEST_SCHEMAS
                 for path, field in _string_fields(schema)
                 if not (isinstance(field, Text) or _closed(field))]
    assert offenders == []


@pytest.mark.parametrize("unstorable", ["Keripik\x00Tempe", "Batik \ud800 Malangan",
                                        "\udfff", "x" * 41])
def test_text_refuses_nul_lone_surrogates_and_overlong_strings(unstorable):
    with pytest.raises(ValidationError):
        Text(40).deserialize(unstorable)


def test_text_keeps_ordinary_indonesian_text_and_emoji():
    text = "Kopi Dampit — enak sekali ☕🙂"
    assert Text(60).deserialize(text) == text


@pytest.mark.parametrize("spelling", [
    "urn:uuid:3f2b8c1e-1d2a-4c3b-9e8f-0a1b2c3d4e5f", "{3f2b8c1e-1d2a-4c3b-9e8f-0a1b2c3d4e5f}",
    "3F2B8C1E-1D2A-4C3B-9E8F-0A1B2C3D4E5F", "3f2b8c1e1d2a4c3b9e8f0a1b2c3d4e5f",
    "3f2b8c1e-1d2a-4c3b-9e8f-0a1b2c3d4e5f\n", None, 42])
def test_an_id_has_one_spelling(spelling):
    assert parse_id(spelling) is None
    with pytest.raises(ValidationError):
        Id().deserialize(spelling)


def test_the_canonical_id_is_accepted():
    assert str(parse_id("3f2b8c1e-1d2a-4c3b-9e8f-0a1b2c3d4e5f")) == (
        "3f2b8c1e-1d2a-4c3b-9e8f-0a1b2c3d4e5f")


def _modules_loaded_by(statement):
    probe = (f"import sys, json; {statement}; "
             "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('services.', "
             "'yaml', 'psycopg2')))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env={"LARIS_ENV": "development", "PATH": ""})
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_contract_imports_no_domain_yaml_or_database():
    for service in CONTRACTS:
        loaded = _modules_loaded_by(f"import services.{service}.contract")
        assert set(loaded) <= {"services", f"services.{service}",
                               f"services.{service}.contract"}, loaded


def test_the_gateway_imports_nothing_of_a_service_but_its_contract():
    loaded = _modules_loaded_by("import services.gateway.app")
    inside_services = {module for module in loaded if module.startswith("services.")
                       and not module.startswith("services.gateway")}
    assert inside_services == {f"services.{service}.contract" for service in CONTRACTS} | {
        f"services.{service}" for service in CONTRACTS}


def test_the_rules_file_uses_exactly_the_contracts_vocabularies():
    domain.check_rules_match_contract(readiness.load_rules())


def test_a_rules_file_with_a_sector_the_contract_lacks_stops_the_service(tmp_path):
    text = readiness.DEFAULT_RULES_PATH.read_text()
    extended = text.replace("sectors:\n", "sectors:\n  tambang:\n    id: Pertambangan\n"
                                          "    en: Mining\n", 1)
    path = tmp_path / "rules.yaml"
    path.write_text(extended)
    with pytest.raises(ValueError, match="tambang"):
        domain.check_rules_match_contract(readiness.load_rules(path))


# --- the document's certificate formats agree with the registry's rules -----------------------

RULES = readiness.load_rules()
NEXT_YEAR = dt.date.today() + dt.timedelta(days=365)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_every_number_the_document_allows_the_registry_accepts(data):
    kind = data.draw(st.sampled_from(contract.CERTIFICATION_KINDS
                                     + contract.GENERIC_CERTIFICATION_KINDS))
    pattern = contract.CERTIFICATION_NUMBER_PATTERNS.get(kind, contract.FREE_NUMBER_PATTERN)
    number = data.draw(st.from_regex(pattern).filter(lambda n: 0 < len(n) <= 64))
    domain.check_certification(RULES, kind, number, NEXT_YEAR, dt.date.today())
