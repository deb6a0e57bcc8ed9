"""QRIS: a vendor's static payload checked, a dynamic one made for an amount, the QR code."""
import io
import xml.etree.ElementTree as ET

import pytest
import qriskit
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from services.marketplace import qris
from services.marketplace.payments import VendorWord

# qriskit's published test vector "static-gopay" (tests/vectors/static-gopay.json): a sticker's
# static QRIS as GoPay issues them, with the national account (NMID) and a terminal label.
GOPAY_STICKER = (
    "00020101021126620014COM.GO-JEK.WWW011993600914123456789010210G1234567890303UMI"
    "51440014ID.CO.QRIS.WWW0215ID10200123456780303UMI5204581253033605802ID5911TOKO CONTOH"
    "6007JAKARTA61051011062120708KASIR-0163043ACC")


def crc16_ccitt_false(data: bytes) -> int:
    """A second, bit-by-bit CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), to check qriskit's."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def crc_is_right(payload: str) -> bool:
    body, crc = payload[:-4], payload[-4:]
    return body.endswith("6304") and crc == f"{crc16_ccitt_false(body.encode('ascii')):04X}"


def malang_sticker(name="KERIPIK TEMPE SANAN", city="MALANG"):
    """A static QRIS shaped like a Malang UMKM's, built by qriskit for tests."""
    return qriskit.build(
        merchant_name=name, merchant_city=city, postal_code="65122", mcc="5499",
        accounts=[
            qriskit.MerchantAccount.create(tag="26", guid="ID.CO.BANKJATIM.WWW",
                                           pan="936001140000123456", merchant_id="000123456",
                                           criteria="UMI"),
            qriskit.MerchantAccount.national(nmid="ID1026123456789", criteria="UMI"),
        ]).dumps()


def refusal(call, *args):
    with pytest.raises(qris.QrisError) as raised:
        call(*args)
    assert raised.value.reason in qris.REASONS
    return raised.value


def test_the_check_crc_itself_is_ccitt_false():
    assert crc16_ccitt_false(b"123456789") == 0x29B1  # the catalogue's check value


def test_a_published_static_sticker_is_read():
    assert crc_is_right(GOPAY_STICKER)
    sticker = qris.parse_static(GOPAY_STICKER)
    assert sticker == qris.StaticQris(
        payload=GOPAY_STICKER, merchant_name="TOKO CONTOH", merchant_city="JAKARTA",
        country="ID", currency="360", merchant_pan="9360091412345678901",
        nmid="ID1020012345678", acquirer="GoPay", postal_code="10110")


def test_paste_debris_around_a_payload_is_dropped():
    assert qris.parse_static(f"\ufeff {GOPAY_STICKER}\r\n").payload == GOPAY_STICKER


def test_a_dynamic_qris_carries_exactly_the_amount():
    dynamic = qris.dynamic_for(GOPAY_STICKER, 37_500)

    assert crc_is_right(dynamic)
    decoded = qriskit.parse(dynamic, strict=True)
    assert decoded.get("01") == "12" and decoded.is_dynamic
    assert decoded.get("54") == "37500"
    assert decoded.crc == dynamic[-4:]
    assert (decoded.merchant_name, decoded.merchant_city, decoded.nmid) == (
        "TOKO CONTOH", "JAKARTA", "ID1020012345678")
    # Nothing but tags 01, 54 and 63 differs from the sticker.
    sticker = qriskit.parse(GOPAY_STICKER)
    changed = {node.tag for node in set(decoded.nodes) ^ set(sticker.nodes)}
    assert changed == {"01", "54", "63"}


def test_a_malang_sticker_converts_too():
    dynamic = qris.dynamic_for(malang_sticker(), 1)
    decoded = qriskit.parse(dynamic, strict=True)
    assert (decoded.merchant_name, decoded.merchant_city, decoded.get("54")) == (
        "KERIPIK TEMPE SANAN", "MALANG", "1")
    assert crc_is_right(dynamic)


@pytest.mark.parametrize("amount", [0, -5_000, 10**13, 12_500.0, "12500", True, None])
def test_amounts_that_are_not_positive_whole_rupiah_are_refused(amount):
    error = refusal(qris.dynamic_for, GOPAY_STICKER, amount)
    assert error.reason == "amount"
    assert "Rupiah" in error.message


def test_the_largest_amount_tag_54_holds_is_accepted():
    dynamic = qris.dynamic_for(GOPAY_STICKER, qris.MAX_AMOUNT_IDR)
    assert qriskit.parse(dynamic).get("54") == "9" * 13


def filled_to(payload, length):
    """``payload`` made ``length`` long with templates 80-82 (free for a scheme's own data)."""
    sticker = qriskit.parse(payload)
    for tag in ("80", "81", "82"):
        size = min(length - len(sticker.dumps()) - 4, 99)  # 4: the template's tag and length
        if size >= 4:
            sticker = sticker.with_tag(tag, f"00{size - 4:02d}" + "9" * (size - 4))
    return sticker.dumps()


def test_a_sticker_with_no_room_left_for_the_amount_is_refused():
    full = filled_to(GOPAY_STICKER, qris.MAX_PAYLOAD_LENGTH)
    assert len(full) == qris.MAX_PAYLOAD_LENGTH
    assert qris.parse_static(full).merchant_name == "TOKO CONTOH"
    error = refusal(qris.dynamic_for, full, 25_000)
    assert error.reason == "too_long" and "512" in error.message


def test_a_corrupted_crc_is_refused_naming_tag_63():
    corrupted = GOPAY_STICKER[:-4] + "3ACD"
    for call, args in ((qris.parse_static, ()), (qris.dynamic_for, (10_000,)),
                       (qris.qr_png, ()), (qris.qr_svg, ())):
        error = refusal(call, corrupted, *args)
        assert (error.reason, error.tag) == ("crc", "63")
        assert "tag 63" in error.message and "expected 3ACC" in error.message


def test_a_changed_character_breaks_the_crc():
    # A mistyped PAN digit still parses and still follows every other rule.
    mistyped = GOPAY_STICKER.replace("9360091412345678901", "9360091412345678902")
    assert refusal(qris.parse_static, mistyped).reason == "crc"


def test_a_dynamic_payload_is_not_a_sticker():
    error = refusal(qris.parse_static, qris.dynamic_for(GOPAY_STICKER, 20_000))
    assert (error.reason, error.tag) == ("not_static", "01")
    assert "static" in error.message


@pytest.mark.parametrize("tag, reason, remove", [
    ("59", "merchant_name", "5911TOKO CONTOH"),
    ("60", "merchant_city", "6007JAKARTA"),
])
def test_a_missing_merchant_name_or_city_is_named(tag, reason, remove):
    without = qriskit.parse(GOPAY_STICKER.replace(remove, "")).dumps()
    error = refusal(qris.parse_static, without)
    assert (error.reason, error.tag) == (reason, tag)
    assert f"tag {tag}" in error.message


def test_a_blank_merchant_name_is_refused():
    blank = qriskit.parse(malang_sticker()).with_tag("59", "   ").dumps()
    assert refusal(qris.parse_static, blank).reason == "merchant_name"


def test_a_merchant_name_longer_than_tag_59_allows_is_refused():
    long_name = qriskit.parse(GOPAY_STICKER).with_tag("59", "K" * 26).dumps()
    error = refusal(qris.parse_static, long_name)
    assert (error.reason, error.tag) == ("merchant_name", "59")


def test_foreign_currency_is_refused():
    dollars = qriskit.parse(GOPAY_STICKER).with_tag("53", "840").dumps()
    assert refusal(qris.parse_static, dollars).reason == "currency"


@pytest.mark.parametrize("payload, reason", [
    ("", "empty"),
    (" \n\t", "empty"),
    ("hello", "structure"),
    ("000201", "crc"),
    ("00020101021163040000", "crc"),
    ("0002010102" + "9" * 600, "too_long"),
    (GOPAY_STICKER.replace("TOKO CONTOH", "TOKO CÔNTOH"), "characters"),
    (GOPAY_STICKER.replace("KASIR", "KAS\x00R"), "characters"),
    (b"000201", "not_text"),
    (None, "not_text"),
])
def test_garbage_is_refused_with_a_reason(payload, reason):
    assert refusal(qris.parse_static, payload).reason == reason


def mutations_of_the_sticker():
    return st.builds(lambda at, text: GOPAY_STICKER[:at] + text + GOPAY_STICKER[at + len(text):],
                     st.integers(0, len(GOPAY_STICKER)), st.text(min_size=1, max_size=6))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.text(alphabet="0123456789ID. "), mutations_of_the_sticker(),
                 st.text(min_size=qris.MAX_PAYLOAD_LENGTH - 2, max_size=700)))
def test_any_text_is_a_static_qris_or_a_qris_error(payload):
    for call, args in ((qris.parse_static, ()), (qris.dynamic_for, (15_000,)),
                       (qris.qr_svg, ())):
        try:
            call(payload, *args)
        except qris.QrisError as error:
            assert error.reason in qris.REASONS and error.message


def decoded_png(png: bytes) -> list[str]:
    image = Image.open(io.BytesIO(png))
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def test_the_png_decodes_back_to_the_dynamic_payload():
    dynamic = qris.dynamic_for(malang_sticker(), 87_000)
    png = qris.qr_png(dynamic)

    assert png.startswith(b"\x89PNG")
    assert min(Image.open(io.BytesIO(png)).size) >= 115  # ASPI's minimum for a QRIS image
    [text] = decoded_png(png)
    assert text == dynamic
    assert qriskit.parse(text, strict=True).get("54") == "87000"


def test_the_svg_is_an_svg_of_the_same_code():
    dynamic = qris.dynamic_for(GOPAY_STICKER, 12_000)
    root = ET.fromstring(qris.qr_svg(dynamic))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert qris.qr_svg(dynamic) != qris.qr_svg(GOPAY_STICKER)


def test_a_qr_code_is_never_made_of_a_broken_payload():
    assert refusal(qris.qr_png, "not a qris").reason == "structure"


def test_a_payment_is_confirmed_on_the_vendors_word():
    payment = VendorWord().confirm(method="qris", amount_idr=37_500, reference="  QR-8812 ")
    assert (payment.method, payment.amount_idr, payment.reference, payment.confirmed_by) == (
        "qris", 37_500, "QR-8812", "vendor")
    assert VendorWord().confirm(method="cod", amount_idr=5_000, reference=" ").reference is None
