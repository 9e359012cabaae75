"""Trim sizes, margins and page boxes of the print edition (src/bookbuild/print_edition.py)."""

from __future__ import annotations

import panflute as pf
import pytest

from bookbuild.errors import ConfigError
from bookbuild.print_edition import PrintSettings, apply_print_edition, box_preamble, trim_size


@pytest.mark.parametrize(
    ("value", "inches"),
    [
        ("6x9in", (6, 9)),
        ("5.5x8.5in", (5.5, 8.5)),
        ("a5", (148 / 25.4, 210 / 25.4)),
        ("Royal", (156 / 25.4, 234 / 25.4)),
        ("demy", (138 / 25.4, 216 / 25.4)),
        ("156 x 234 mm", (156 / 25.4, 234 / 25.4)),
        ("15.6cmx23.4cm", (15.6 / 2.54, 23.4 / 2.54)),
    ],
)
def test_trim_sizes(value: str, inches: tuple[float, float]) -> None:
    width, height = trim_size(value)
    assert width == pytest.approx(inches[0]) and height == pytest.approx(inches[1])


def test_unknown_trim_size_suggests_a_name() -> None:
    with pytest.raises(ConfigError) as caught:
        trim_size("roayl")
    assert "did you mean 'royal'" in caught.value.diagnostics[0].message


def test_bleed_needs_a_trim_size() -> None:
    doc = pf.convert_text("---\nbleed: 0.125in\n---\n\nText.", standalone=True)
    with pytest.raises(ConfigError, match="need a 'trim' size"):
        apply_print_edition(doc)


def test_metadata_becomes_geometry_classoption_and_preamble() -> None:
    doc = pf.convert_text(
        "---\ntrim: 6x9in\nmargin-inner: 22mm\nmargin-outer: 0.6in\nbleed: 3mm\n"
        "classoption: [openany]\ngeometry: [top=1in]\ncolorlinks: true\nprint: true\n---\n\nText.",
        standalone=True,
    )
    apply_print_edition(doc)
    geometry = [pf.stringify(g) for g in doc.metadata["geometry"].content]
    assert geometry[0] == "top=1in"  # the author's options stay, ours follow
    assert "paperwidth=6in" in geometry and "paperheight=9in" in geometry
    assert "inner=0.8661in" in geometry and "outer=0.6in" in geometry
    options = [pf.stringify(o) for o in doc.metadata["classoption"].content]
    assert options == ["openany", "twoside"]
    assert doc.get_metadata("colorlinks") is False
    preamble = pf.stringify(doc.metadata["header-includes"])
    assert "{crop}" in preamble and "/TrimBox" in preamble


def test_page_boxes_in_points() -> None:
    text = box_preamble(PrintSettings(6, 9, bleed_in=0.125, crop_marks=False))
    assert "width=6.25in,height=9.25in" in text
    assert "/TrimBox [9.00 9.00 441.00 657.00]" in text
    assert "/BleedBox [0.00 0.00 450.00 666.00]" in text


def test_digital_edition_is_untouched() -> None:
    doc = pf.convert_text("---\ngeometry: [margin=1in]\n---\n\nText.", standalone=True)
    before = doc.metadata.to_json()
    apply_print_edition(doc)
    assert doc.metadata.to_json() == before
