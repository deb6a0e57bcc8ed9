import datetime as dt
import uuid

import pytest

from backbone.errors import ValidationFailed
from backbone.pagination import decode_cursor, encode_cursor, identifier, page, timestamp

AN_ID = "3f2b8c1e-1d2a-4c3b-9e8f-0a1b2c3d4e5f"


def test_a_cursor_carries_the_sort_key_of_the_last_item():
    cursor = encode_cursor("2026-05-01T10:00:00+07:00", AN_ID)
    assert decode_cursor(cursor, timestamp, identifier) == [
        dt.datetime.fromisoformat("2026-05-01T10:00:00+07:00"), uuid.UUID(AN_ID)]


@pytest.mark.parametrize("garbage", [
    "", "!!!", encode_cursor("only-one"), "eyJh",
    encode_cursor("garbage", "x"),                       # the probe's tampered cursor
    encode_cursor("2026-05-01T10:00:00", AN_ID),         # no offset
    encode_cursor("2026-05-01T10:00:00+07:00", f"urn:uuid:{AN_ID}"),
    encode_cursor("2026-05-01T10:00:00+07:00", AN_ID, "extra"),
])
def test_a_foreign_or_tampered_cursor_is_a_validation_error_on_the_cursor_field(garbage):
    with pytest.raises(ValidationFailed) as error:
        decode_cursor(garbage, timestamp, identifier)
    assert "cursor" in error.value.fields


def test_a_page_knows_whether_more_follow():
    rows = [{"k": n} for n in range(3)]
    full = page(rows, 2, key=lambda row: (row["k"],))
    assert full["items"] == rows[:2]
    assert decode_cursor(full["next_cursor"], int) == [1]
    assert page(rows, 3, key=lambda row: (row["k"],))["next_cursor"] is None
