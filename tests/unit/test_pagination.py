import pytest

from backbone.errors import ValidationFailed
from backbone.pagination import decode_cursor, encode_cursor, page


def test_a_cursor_carries_the_sort_key_of_the_last_item():
    cursor = encode_cursor("2026-05-01T10:00:00+07:00", "b7")
    assert decode_cursor(cursor, 2) == ["2026-05-01T10:00:00+07:00", "b7"]


@pytest.mark.parametrize("garbage", ["", "!!!", encode_cursor("only-one"), "eyJh"])
def test_a_foreign_cursor_is_a_validation_error_on_the_cursor_field(garbage):
    with pytest.raises(ValidationFailed) as error:
        decode_cursor(garbage, 2)
    assert "cursor" in error.value.fields


def test_a_page_knows_whether_more_follow():
    rows = [{"k": n} for n in range(3)]
    full = page(rows, 2, key=lambda row: (row["k"],))
    assert full["items"] == rows[:2]
    assert decode_cursor(full["next_cursor"], 1) == ["1"]
    assert page(rows, 3, key=lambda row: (row["k"],))["next_cursor"] is None
