"""The floor plan's SVG, read back with ElementTree as any SVG reader would."""
import xml.etree.ElementTree as ET

import pytest

from services.expo.floorplan import GLYPH_WIDTH, PALETTE, SCALE, render_floorplan

NS = {"svg": "http://www.w3.org/2000/svg"}
SVG = "{http://www.w3.org/2000/svg}"
TRICKY_NAME = "Tempe & Tahu <Sanan> \"Bu Siti\" 'asli'"
LONG_NAME = "Koperasi Produsen Keripik Tempe Sanan Makmur Sejahtera Bersama"


def booth(code, x, y, status="free", name=None, width=3, height=3, zone="kuliner",
          booth_type="inline"):
    return {"code": code, "zone": zone, "booth_type": booth_type, "x": x, "y": y,
            "width": width, "height": height, "status": status, "business_name": name}


PLAN = [
    booth("K-01", 2, 4, "allocated", LONG_NAME, booth_type="corner"),
    booth("K-02", 5, 4, "held", TRICKY_NAME),
    booth("K-03", 8, 4, "free"),
    booth("F-01", 2, 12.5, "blocked", zone="fashion & batik", width=4.5),
    booth("F-02", 20, 12.5, "allocated", "Batik Celaket Wastra Malangan",
          zone="fashion & batik", width=6, height=6, booth_type="island"),
]


def parse(svg_text):
    return ET.fromstring(svg_text.encode("utf-8"))


def booth_groups(root):
    return root.findall(".//svg:g[@class]", NS)


def group_of(root, code):
    for group in booth_groups(root):
        if group.get("class", "").startswith("booth ") and _code(group) == code:
            return group
    raise AssertionError(f"no booth {code} in the plan")


def _code(group):
    return group.find("svg:text[@class='code']", NS).text


def name_text(group):
    name = group.find("svg:text[@class='name']", NS)
    return None if name is None else " ".join(span.text for span in name)


def view_box(root):
    return [float(value) for value in root.get("viewBox").split()]


def contrast(first, second):
    """The WCAG 2 contrast ratio of two #rrggbb colours."""
    def luminance(colour):
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
                  for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_an_svg_1_1_document_with_a_title_and_nothing_that_runs_or_fetches():
    svg_text = render_floorplan("Malang City Expo 2025", PLAN)
    root = parse(svg_text)
    assert root.tag == f"{SVG}svg" and root.get("version") == "1.1"
    assert root.find("svg:title", NS).text == "Malang City Expo 2025 \u2014 Denah stan"
    assert root.find("svg:text[@class='title']", NS).text.startswith("Malang City Expo 2025")
    tags = {element.tag for element in root.iter()}
    assert tags <= {f"{SVG}{name}" for name in ("svg", "title", "g", "rect", "text", "tspan")}
    attributes = {name for element in root.iter() for name in element.attrib}
    assert not {name for name in attributes if name.startswith("on") or "href" in name}
    assert "<script" not in svg_text and "url(" not in svg_text


def test_one_rect_per_booth_drawn_to_scale():
    root = parse(render_floorplan("Expo", PLAN))
    rects = root.findall(".//svg:rect[@class='booth']", NS)
    assert len(rects) == len(PLAN)
    for spec in PLAN:
        rect = group_of(root, spec["code"]).find("svg:rect", NS)
        assert [float(rect.get(key)) for key in ("x", "y", "width", "height")] == [
            spec[key] * SCALE for key in ("x", "y", "width", "height")]


def test_each_booth_is_filled_by_its_status_with_a_readable_label():
    root = parse(render_floorplan("Expo", PLAN))
    for spec in PLAN:
        group = group_of(root, spec["code"])
        fill, ink, _ = PALETTE[spec["status"]]
        assert group.find("svg:rect", NS).get("fill") == fill
        assert group.find("svg:text[@class='code']", NS).get("fill") == ink
    for status, (fill, ink, _) in PALETTE.items():
        assert contrast(fill, ink) >= 4.5, status
    assert len({fill for fill, _, _ in PALETTE.values()}) == len(PALETTE)


def test_named_booths_show_the_exhibitor_shortened_with_the_full_name_in_the_tooltip():
    root = parse(render_floorplan("Expo", PLAN))
    small = group_of(root, "K-01")
    assert LONG_NAME in small.find("svg:title", NS).text
    shown = name_text(small)
    assert shown.endswith("\u2026") and shown.startswith("Koperasi Produsen")
    assert len(shown) < len(LONG_NAME)
    width = float(small.find("svg:rect", NS).get("width"))
    name = small.find("svg:text[@class='name']", NS)
    for line in name:
        assert len(line.text) * GLYPH_WIDTH * float(name.get("font-size")) < width
    island = group_of(root, "F-02")
    assert name_text(island) == "Batik Celaket Wastra Malangan"
    assert "Batik Celaket Wastra Malangan" in island.find("svg:title", NS).text


def test_free_and_blocked_booths_carry_no_name_even_if_one_is_given():
    plan = [booth("A", 0, 0, "free", "Stale Name"), booth("B", 4, 0, "blocked", "Stale Name")]
    root = parse(render_floorplan("Expo", plan))
    for code in ("A", "B"):
        group = group_of(root, code)
        assert name_text(group) is None
        assert "Stale Name" not in group.find("svg:title", NS).text


def test_every_text_is_escaped_and_reads_back_verbatim():
    plan = [booth("<&>", 0, 0, "held", TRICKY_NAME, width=30, height=6, zone="a & <b>")]
    svg_text = render_floorplan("Expo \"Kota\" & <Malang>", plan)
    root = parse(svg_text)
    group = group_of(root, "<&>")
    assert name_text(group) == TRICKY_NAME
    assert TRICKY_NAME in group.find("svg:title", NS).text
    assert root.find(".//svg:text[@class='zone']", NS).text == "a & <b>"
    assert root.find("svg:title", NS).text.startswith("Expo \"Kota\" & <Malang>")
    assert "<Malang>" not in svg_text and "<Sanan>" not in svg_text


def test_characters_xml_cannot_carry_are_replaced_not_emitted():
    root = parse(render_floorplan("Expo\x01", [booth("A\x0b", 0, 0, "allocated", "Jamu\x1f")]))
    assert root.find("svg:title", NS).text.startswith("Expo\ufffd")


def test_zone_names_are_shown_once_each_above_their_booths():
    root = parse(render_floorplan("Expo", PLAN))
    zones = root.findall(".//svg:text[@class='zone']", NS)
    assert sorted(zone.text for zone in zones) == ["fashion & batik", "kuliner"]
    fashion = next(zone for zone in zones if zone.text == "fashion & batik")
    assert float(fashion.get("x")) == 2 * SCALE
    assert float(fashion.get("y")) < 12.5 * SCALE


@pytest.mark.parametrize("lang, labels", [
    ("id", ["Kosong", "Ditawarkan", "Terisi", "Diblokir"]),
    ("en", ["Free", "Held (offered)", "Allocated", "Blocked"]),
])
def test_the_legend_names_every_status_in_the_language_asked(lang, labels):
    root = parse(render_floorplan("Expo", PLAN, lang=lang))
    entries = root.findall(".//svg:g[@class='legend']/svg:g", NS)
    assert [entry.find("svg:text", NS).text for entry in entries] == labels
    assert [entry.find("svg:rect", NS).get("fill") for entry in entries] == [
        fill for fill, _, _ in PALETTE.values()]
    title = "Floor plan" if lang == "en" else "Denah stan"
    assert root.find("svg:title", NS).text.endswith(title)


def test_the_view_box_covers_every_booth_and_the_legend():
    plan = [*PLAN, booth("far", 140, 60, width=8, height=5), booth("neg", -12, -7.5)]
    root = parse(render_floorplan("Expo", plan))
    left, top, width, height = view_box(root)
    for spec in plan:
        assert left < spec["x"] * SCALE
        assert top < spec["y"] * SCALE
        assert (spec["x"] + spec["width"]) * SCALE < left + width
        assert (spec["y"] + spec["height"]) * SCALE < top + height
    for element in root.iter(f"{SVG}rect"):
        assert left <= float(element.get("x")) and top <= float(element.get("y"))
        assert float(element.get("x")) + float(element.get("width")) <= left + width
        assert float(element.get("y")) + float(element.get("height")) <= top + height


def test_an_empty_plan_is_still_a_valid_drawing_with_its_legend():
    root = parse(render_floorplan("Malang City Expo 2026", [], lang="en"))
    assert root.findall(".//svg:rect[@class='booth']", NS) == []
    assert root.find(".//svg:text[@class='empty']", NS).text == "No booths yet"
    assert len(root.findall(".//svg:g[@class='legend']/svg:g", NS)) == len(PALETTE)
    assert all(value > 0 for value in view_box(root)[2:])


def test_an_unknown_status_or_language_is_refused():
    with pytest.raises(ValueError):
        render_floorplan("Expo", [booth("A", 0, 0, "reserved")])
    with pytest.raises(ValueError):
        render_floorplan("Expo", PLAN, lang="jv")
