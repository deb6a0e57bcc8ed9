"""The registry's contract: what its OpenAPI document promises the registry accepts."""
from services.registry.contract import CertificationCreate

CLAIM = {"kind": "organic", "valid_until": "2030-01-01"}


def test_a_certificate_number_of_spaces_and_hyphens_alone_is_refused_by_the_contract():
    """The registry stores numbers without their separators: such a number would be empty, so
    the document must refuse it too (the schemathesis conformance test holds it to that)."""
    for number in ("\u0085", " - ", "-", "\t"):
        assert "number" in CertificationCreate().validate(CLAIM | {"number": number}), number


def test_a_certificate_number_with_separators_around_it_is_accepted():
    for number in ("ORG-123", " 12 ", "md 1234-5678"):
        assert CertificationCreate().validate(CLAIM | {"number": number}) == {}, number
