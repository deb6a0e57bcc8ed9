"""The expo's floor plan as an SVG drawing: pure, no I/O.

The plan is drawn to scale: the viewBox is in plan units of ``SCALE`` per metre, so a booth at
x = 12.5 m is drawn at x = 125 and a ruler in the legend shows what ten metres look like. Each
booth is a rectangle coloured by its status, labelled with its code and, once held or
allocated, its exhibitor's name, shortened to fit, with the full name in a tooltip.

The colours are from Okabe and Ito's palette, which readers with any common colour-vision
deficiency still tell apart, and they also differ in lightness (light, orange, blue, dark
grey), so the plan survives a grey-scale print. Each fill has a label colour with a WCAG
contrast of at least 4.5:1.

The drawing is built with ElementTree, which escapes every text and attribute; it has no
scripts, no styles to fetch and no external references, so a browser can show it from any
origin without running anything.
"""
import math
import re
import xml.etree.ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
SCALE = 10  # plan units per metre
MARGIN = 3.0  # metres of blank paper around the booths
TITLE_BAND = 4.0  # metres above the plan for the title
ZONE_LABEL_RISE = 0.4  # metres between a zone's label and its first row of booths
LEGEND_BAND = 5.0  # metres below the plan for the legend
TITLE_SIZE = 1.6  # metres, the title's font size
LEGEND_SIZE = 0.9  # metres, the legend's font size
RULER = 10  # metres, the length of the legend's ruler
EMPTY_PLAN = (20.0, 10.0)  # metres of paper for a plan without booths yet
FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"
# An average glyph of a sans-serif font is about this wide, relative to its font size.
GLYPH_WIDTH = 0.6
ELLIPSIS = "\u2026"

# status -> (fill, label colour, outline)
PALETTE = {
    "free": ("#f2f2f2", "#000000", "#7f7f7f"),
    "held": ("#e69f00", "#000000", "#7a5500"),
    "allocated": ("#0072b2", "#ffffff", "#003d5f"),
    "blocked": ("#4d4d4d", "#ffffff", "#1a1a1a"),
}
STATUSES = tuple(PALETTE)
NAMED_STATUSES = ("held", "allocated")

WORDS = {
    "id": {
        "plan": "Denah stan",
        "legend": "Keterangan",
        "empty": "Belum ada stan",
        "free": "Kosong",
        "held": "Ditawarkan",
        "allocated": "Terisi",
        "blocked": "Diblokir",
        "inline": "stan deret",
        "corner": "stan sudut",
        "island": "stan pulau",
        "zone": "zona",
    },
    "en": {
        "plan": "Floor plan",
        "legend": "Legend",
        "empty": "No booths yet",
        "free": "Free",
        "held": "Held (offered)",
        "allocated": "Allocated",
        "blocked": "Blocked",
        "inline": "inline booth",
        "corner": "corner booth",
        "island": "island booth",
        "zone": "zone",
    },
}
LANGUAGES = tuple(WORDS)

# Characters XML 1.0 cannot carry at all (escaping does not help): C0 controls but tab, line
# feed and carriage return, lone surrogates and the two non-characters U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def render_floorplan(expo_name, booths, lang="id"):
    """The SVG document (a str) of the expo's plan. ``booths``: dicts with code, zone,
    booth_type, x, y, width, height (metres), status (free|held|allocated|blocked) and
    business_name (None when the booth has no exhibitor)."""
    if lang not in WORDS:
        raise ValueError(f"lang must be one of {LANGUAGES}, not {lang!r}")
    words = WORDS[lang]
    booths = [_checked(booth) for booth in booths]
    title = f"{_xml_safe(expo_name)} \u2014 {words['plan']}"
    frame = _Frame.around(booths, max(_title_width(title), _legend_width(words)))
    svg = ET.Element("svg", {
        "xmlns": SVG_NS, "version": "1.1",
        "viewBox": " ".join(_number(value) for value in frame.view_box()),
        "width": _number(frame.width * SCALE), "height": _number(frame.height * SCALE),
        "font-family": FONT,
    })
    ET.SubElement(svg, "title").text = title
    ET.SubElement(svg, "rect", _box(frame.left, frame.top, frame.width, frame.height,
                                    fill="#ffffff", **{"class": "paper"}))
    _title(svg, frame, title)
    if booths:
        _zone_labels(svg, booths)
        plan = ET.SubElement(svg, "g", {"class": "booths"})
        for booth in booths:
            _booth(plan, booth, words)
    else:
        _empty_note(svg, frame, words)
    _legend(svg, frame, words)
    return ET.tostring(svg, encoding="unicode", xml_declaration=True)


class _Frame:
    """The paper in metres: the booths' bounding box, with the margin, title and legend."""

    def __init__(self, left, top, right, bottom):
        self.left, self.top, self.right, self.bottom = left, top, right, bottom
        self.plan_bottom = bottom - LEGEND_BAND

    @classmethod
    def around(cls, booths, content_width):
        """The paper for ``booths``, at least ``content_width`` metres wide inside the margin
        so the title and the legend fit."""
        if not booths:
            left, top = 0.0, 0.0
            right, bottom = EMPTY_PLAN
        else:
            left = min(booth["x"] for booth in booths)
            top = min(booth["y"] for booth in booths)
            right = max(booth["x"] + booth["width"] for booth in booths)
            bottom = max(booth["y"] + booth["height"] for booth in booths)
        right = max(right, left + content_width)
        return cls(left - MARGIN, top - MARGIN - TITLE_BAND, right + MARGIN,
                   bottom + MARGIN + LEGEND_BAND)

    @property
    def width(self):
        return self.right - self.left

    @property
    def height(self):
        return self.bottom - self.top

    def view_box(self):
        return (self.left * SCALE, self.top * SCALE, self.width * SCALE, self.height * SCALE)


def _checked(booth):
    """The booth with float geometry; a status outside the four is a caller's bug."""
    if booth["status"] not in PALETTE:
        raise ValueError(f"unknown booth status {booth['status']!r} of booth {booth['code']!r}")
    geometry = {key: float(booth[key]) for key in ("x", "y", "width", "height")}
    if geometry["width"] <= 0 or geometry["height"] <= 0:
        raise ValueError(f"booth {booth['code']!r} has no area")
    return {**booth, **geometry}


def _title_width(title):
    return len(title) * GLYPH_WIDTH * TITLE_SIZE


def _legend_width(words):
    entries = sum(_legend_entry_width(words[status]) for status in STATUSES)
    return entries + LEGEND_SIZE + RULER + _legend_entry_width(f"{RULER} m")


def _legend_entry_width(label):
    return LEGEND_SIZE * (2.8 + GLYPH_WIDTH * len(label))


def _title(svg, frame, title):
    size = TITLE_SIZE * SCALE
    text = ET.SubElement(svg, "text", {
        "x": _number((frame.left + MARGIN) * SCALE),
        "y": _number((frame.top + MARGIN) * SCALE),
        "font-size": _number(size), "font-weight": "bold", "fill": "#000000",
        "class": "title"})
    text.text = title


def _zone_labels(svg, booths):
    """Each zone's name just above the top-left corner of its booths."""
    group = ET.SubElement(svg, "g", {"class": "zones", "font-size": _number(0.9 * SCALE),
                                     "font-style": "italic", "fill": "#333333"})
    for zone, members in _by_zone(booths).items():
        text = ET.SubElement(group, "text", {
            "x": _number(min(booth["x"] for booth in members) * SCALE),
            "y": _number((min(booth["y"] for booth in members) - ZONE_LABEL_RISE) * SCALE),
            "class": "zone"})
        text.text = _xml_safe(zone)


def _by_zone(booths):
    zones = {}
    for booth in booths:
        zones.setdefault(booth["zone"], []).append(booth)
    return zones


def _booth(plan, booth, words):
    fill, ink, outline = PALETTE[booth["status"]]
    group = ET.SubElement(plan, "g", {"class": f"booth {booth['status']}"})
    ET.SubElement(group, "title").text = _tooltip(booth, words)
    x, y = booth["x"] * SCALE, booth["y"] * SCALE
    width, height = booth["width"] * SCALE, booth["height"] * SCALE
    ET.SubElement(group, "rect", _box(booth["x"], booth["y"], booth["width"], booth["height"],
                                      fill=fill, stroke=outline, **{"stroke-width": "1",
                                                                    "class": "booth"}))
    code_size = _code_font_size(width, height)
    code = ET.SubElement(group, "text", {
        "x": _number(x + width / 2), "y": _number(y + code_size * 1.2),
        "font-size": _number(code_size), "font-weight": "bold", "text-anchor": "middle",
        "fill": ink, "class": "code"})
    code.text = _fit(_xml_safe(booth["code"]), width, code_size)
    name = booth.get("business_name")
    if booth["status"] in NAMED_STATUSES and name:
        _name_lines(group, _xml_safe(name), x, y + code_size * 1.5, width,
                    height - code_size * 1.5, code_size * 0.7, ink)


def _tooltip(booth, words):
    """The booth in full: code, zone, type, size and, when named, the whole exhibitor's name."""
    booth_type = words.get(booth.get("booth_type"), booth.get("booth_type") or "")
    size = f"{_number(booth['width'])} \u00d7 {_number(booth['height'])} m"
    parts = [booth["code"], f"{words['zone']} {booth['zone']}", booth_type, size,
             words[booth["status"]]]
    name = booth.get("business_name")
    if booth["status"] in NAMED_STATUSES and name:
        parts.append(name)
    return _xml_safe(" \u00b7 ".join(part for part in parts if part))


def _code_font_size(width, height):
    """Big enough to read, small enough that the code and two lines of name fit the booth."""
    return max(2.0, min(6.0, min(width, height) * 0.2))


def _name_lines(group, name, x, top, width, height, size, ink):
    line_height = size * 1.15
    room = max(1, int(height // line_height))
    lines = _wrap(name, _chars_that_fit(width, size), room)
    text = ET.SubElement(group, "text", {
        "x": _number(x + width / 2), "y": _number(top + size),
        "font-size": _number(size), "text-anchor": "middle", "fill": ink, "class": "name"})
    for index, line in enumerate(lines):
        span = ET.SubElement(text, "tspan", {"x": _number(x + width / 2)})
        if index:
            span.set("dy", _number(line_height))
        span.text = line


def _chars_that_fit(width, size):
    padding = size * 0.5
    return max(1, int((width - 2 * padding) // (size * GLYPH_WIDTH)))


def _wrap(text, per_line, lines):
    """At most ``lines`` lines of at most ``per_line`` characters, broken between words; what
    does not fit ends in an ellipsis."""
    words = text.split()
    wrapped = []
    while words and len(wrapped) < lines:
        line = words.pop(0)
        while words and len(line) + 1 + len(words[0]) <= per_line:
            line += " " + words.pop(0)
        wrapped.append(line)
    if words or any(len(line) > per_line for line in wrapped):
        wrapped[-1] = _shorten(" ".join([wrapped[-1], *words]), per_line)
        wrapped[:-1] = [_shorten(line, per_line) for line in wrapped[:-1]]
    return wrapped


def _fit(text, width, size):
    return _shorten(text, _chars_that_fit(width, size))


def _shorten(text, limit):
    if len(text) <= limit:
        return text
    return text[:max(0, limit - 1)].rstrip() + ELLIPSIS


def _empty_note(svg, frame, words):
    text = ET.SubElement(svg, "text", {
        "x": _number((frame.left + frame.width / 2) * SCALE),
        "y": _number((frame.top + MARGIN + TITLE_BAND + EMPTY_PLAN[1] / 2) * SCALE),
        "font-size": _number(1.2 * SCALE), "text-anchor": "middle", "fill": "#595959",
        "class": "empty"})
    text.text = words["empty"]


def _legend(svg, frame, words):
    """One swatch per status, in Indonesian or English, and a ten-metre ruler."""
    size = LEGEND_SIZE * SCALE
    top = (frame.plan_bottom + 1.0) * SCALE
    x = (frame.left + MARGIN) * SCALE
    group = ET.SubElement(svg, "g", {"class": "legend", "font-size": _number(size),
                                     "fill": "#000000"})
    heading = ET.SubElement(group, "text", {"x": _number(x), "y": _number(top),
                                            "font-weight": "bold"})
    heading.text = words["legend"]
    y = top + size * 0.8
    for status in STATUSES:
        fill, _, outline = PALETTE[status]
        entry = ET.SubElement(group, "g", {"class": f"legend-entry {status}"})
        ET.SubElement(entry, "rect", {
            "x": _number(x), "y": _number(y), "width": _number(size * 1.6),
            "height": _number(size * 1.2), "fill": fill, "stroke": outline,
            "class": "swatch"})
        label = ET.SubElement(entry, "text", {"x": _number(x + size * 2.1),
                                              "y": _number(y + size)})
        label.text = words[status]
        x += _legend_entry_width(words[status]) * SCALE
    _ruler(group, x + size, y, size)


def _ruler(group, x, y, size):
    length = RULER * SCALE
    ET.SubElement(group, "rect", {
        "x": _number(x), "y": _number(y + size * 0.4), "width": _number(length),
        "height": _number(size * 0.4), "fill": "#000000", "class": "ruler"})
    label = ET.SubElement(group, "text", {"x": _number(x + length + size * 0.5),
                                          "y": _number(y + size)})
    label.text = f"{RULER} m"


def _box(x, y, width, height, **attributes):
    """A rectangle's attributes from metres."""
    return {"x": _number(x * SCALE), "y": _number(y * SCALE),
            "width": _number(width * SCALE), "height": _number(height * SCALE), **attributes}


def _number(value):
    """A coordinate as SVG reads it: at most two decimals, no trailing zeros, no '-0'."""
    rounded = round(float(value), 2)
    if not math.isfinite(rounded):
        raise ValueError(f"not a finite coordinate: {value!r}")
    text = f"{rounded:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _xml_safe(text):
    """``text`` without the characters XML cannot carry (the escaping of the rest is
    ElementTree's)."""
    return _NOT_XML.sub("\ufffd", str(text))
