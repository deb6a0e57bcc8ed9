"""The registry's contract: what its OpenAPI document promises the registry accepts."""
import re
import sys

from services.registry.contract import WHITESPACE, CertificationCreate

CLAIM = {"kind": "organic", "valid_until": "2030-01-01"}


def test_a_certificate_number_of_spaces_and_hyphens_alone_is_refused_by_the_contract():
    """The registry stores numbers without their separators: such a number would be empty, so
    the document must refuse it too (the schemathesis conformance test holds it to that)."""
    for number in ("\u0085", " - ", "-", "\t"):
        assert "number" in CertificationCreate().validate(CLAIM | {"number": number}), number


def test_a_certificate_number_with_separators_around_it_is_accepted():
    for number in ("ORG-123", " 12 ", "md 1234-5678"):
        assert CertificationCreate().validate(CLAIM | {"number": number}) == {}, number


def test_the_documents_whitespace_is_exactly_what_the_registry_strips():
    """The document's patterns spell whitespace out, as Python's str.isspace has it: an
    ECMAScript \\s (how a client reads the document) would differ on \\x1c-\\x1f and \\x85."""
    spelled_out = re.compile(f"[{WHITESPACE}]")
    assert [code for code in range(sys.maxunicode + 1)
            if bool(spelled_out.fullmatch(chr(code))) != chr(code).isspace()] == []


def test_a_certificate_number_of_control_whitespace_alone_is_refused_by_the_contract():
    for number in ("\u001f", "\u001c-\u001d"):
        assert "number" in CertificationCreate().validate(CLAIM | {"number": number}), number
