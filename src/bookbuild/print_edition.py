"""The print edition: trim size, binding margins, bleed and crop marks, black links.

Metadata keys (all optional; without them the digital edition is unchanged):

- ``trim``: the trimmed page, by name (:data:`TRIM_SIZES`: the common KDP, Lulu and
  IngramSpark sizes, ISO a4/a5/b5, British royal and demy octavo …) or as ``WxH`` with a unit
  (``6x9in``, ``156x234mm``, ``15.6cmx23.4cm``).
- ``margin-inner`` / ``margin-outer`` (and ``margin-top`` / ``margin-bottom``): margins for
  binding; inner and outer make the book two-sided (``twoside``), so the wider margin is at the
  spine on both recto and verso.
- ``bleed``: e.g. ``0.125in``; the sheet grows by the bleed on every side.
- ``crop-marks: true``: camera marks outside the bleed (crop package), on a larger sheet.
- ``print: true``: links print black (hyperref ``hidelinks``; they stay clickable).

With a bleed or crop marks every page carries ``/TrimBox`` and ``/BleedBox``, as printers
check; the ``/MediaBox`` is the sheet. xelatex, lualatex and pdflatex embed every font (the
tests read ``pdffonts``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .diagnostics import Diagnostic
from .errors import ConfigError

#: Points (1/72.27 in, TeX's pt) per unit; bp = PostScript point (PDF boxes).
UNITS_IN_INCHES = {"in": 1.0, "mm": 1 / 25.4, "cm": 1 / 2.54, "pt": 1 / 72.27, "bp": 1 / 72}

#: Named trim sizes, width x height in inches or mm (as the services list them).
TRIM_SIZES: dict[str, str] = {
    # KDP / Lulu / IngramSpark paperback and hardcover sizes
    "5x8in": "5x8in",
    "5.06x7.81in": "5.06x7.81in",
    "5.25x8in": "5.25x8in",
    "5.5x8.5in": "5.5x8.5in",
    "digest": "5.5x8.5in",
    "6x9in": "6x9in",
    "us-trade": "6x9in",
    "6.14x9.21in": "6.14x9.21in",
    "6.69x9.61in": "6.69x9.61in",
    "7x10in": "7x10in",
    "executive": "7x10in",
    "7.44x9.69in": "7.44x9.69in",
    "7.5x9.25in": "7.5x9.25in",
    "8x10in": "8x10in",
    "8.25x11in": "8.25x11in",
    "8.5x11in": "8.5x11in",
    "letter": "8.5x11in",
    "pocket": "4.25x6.87in",
    "comic": "6.63x10.25in",
    # ISO and British book sizes
    "a4": "210x297mm",
    "a5": "148x210mm",
    "b5": "176x250mm",
    "royal": "156x234mm",
    "demy": "138x216mm",
    "crown-quarto": "189x246mm",
    "large-crown": "129x198mm",
}

LENGTH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(in|mm|cm|pt|bp)?\s*$")
SIZE = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(in|mm|cm|pt|bp)?\s*[x×]\s*(\d+(?:\.\d+)?)\s*(in|mm|cm|pt|bp)\s*$"
)
#: Room for the crop marks outside the bleed.
MARK_SPACE_IN = 0.5


@dataclass
class PrintSettings:
    width_in: float
    height_in: float
    bleed_in: float = 0.0
    crop_marks: bool = False


def _fail(message: str) -> ConfigError:
    return ConfigError([Diagnostic("error", message)])


def length_in_inches(key: str, value: Any) -> float:
    """``0.125in``, ``3mm`` … in inches; a ConfigError naming ``key`` otherwise."""
    match = LENGTH.match(str(value))
    if not match or not match.group(2):
        raise _fail(f"metadata '{key}': '{value}' is not a length with a unit (e.g. 0.125in, 3mm)")
    return float(match.group(1)) * UNITS_IN_INCHES[match.group(2)]


def trim_size(value: Any) -> tuple[float, float]:
    """The trim size in inches: a name of :data:`TRIM_SIZES` or ``WxH`` with a unit."""
    text = str(value).strip().lower().replace(" ", "")
    text = TRIM_SIZES.get(text, text)
    match = SIZE.match(text)
    if not match:
        import difflib

        close = difflib.get_close_matches(text, list(TRIM_SIZES), n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise _fail(
            f"metadata 'trim': '{value}' is neither a known size ({', '.join(TRIM_SIZES)}) "
            f"nor WxH with a unit such as 6x9in{hint}"
        )
    w_unit = match.group(2) or match.group(4)
    width = float(match.group(1)) * UNITS_IN_INCHES[w_unit]
    height = float(match.group(3)) * UNITS_IN_INCHES[match.group(4)]
    return width, height


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "yes", "on")


def _inches(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") + "in"


def _bp(value_in: float) -> str:
    return f"{value_in * 72:.2f}"


def box_preamble(settings: PrintSettings) -> str:
    """crop package on a larger sheet, plus /TrimBox and /BleedBox on every page."""
    margin = settings.bleed_in + (MARK_SPACE_IN if settings.crop_marks else 0.0)
    sheet_w = settings.width_in + 2 * margin
    sheet_h = settings.height_in + 2 * margin
    trim = [margin, margin, margin + settings.width_in, margin + settings.height_in]
    bleed = [
        margin - settings.bleed_in,
        margin - settings.bleed_in,
        margin + settings.width_in + settings.bleed_in,
        margin + settings.height_in + settings.bleed_in,
    ]
    boxes = (
        f"/TrimBox [{' '.join(_bp(x) for x in trim)}] /BleedBox [{' '.join(_bp(x) for x in bleed)}]"
    )
    style = "cam" if settings.crop_marks else "off"
    return "\n".join(
        [
            "% bookbuild print edition: sheet, crop marks, page boxes",
            f"\\usepackage[{style},center,noinfo,width={_inches(sheet_w)},"
            f"height={_inches(sheet_h)}]{{crop}}",
            "\\ifdefined\\XeTeXversion",
            f"  \\AddToHook{{shipout/background}}{{\\put(0,0){{\\special{{pdf:put @thispage "
            f"<< {boxes} >>}}}}}}",
            "\\else\\ifdefined\\pdfvariable",
            f"  \\pdfvariable pageattr{{{boxes}}}",
            "\\else\\ifdefined\\pdfpageattr",
            f"  \\pdfpageattr{{{boxes}}}",
            "\\fi\\fi\\fi",
        ]
    )


def apply_print_edition(doc: Any) -> None:
    """Turn the print keys of the metadata into geometry, class options and preamble."""
    import panflute as pf

    from .filters import filterlib

    meta = doc.get_metadata
    if _truthy(meta("print", False)):
        doc.metadata["colorlinks"] = pf.MetaBool(False)
        if "boxlinks" in doc.metadata.content:
            del doc.metadata["boxlinks"]
    geometry: list[str] = []
    trim = meta("trim", None)
    settings = None
    if trim:
        width, height = trim_size(trim)
        geometry += [f"paperwidth={_inches(width)}", f"paperheight={_inches(height)}"]
        settings = PrintSettings(width, height)
    sides = {}
    for key in ("margin-inner", "margin-outer", "margin-top", "margin-bottom"):
        value = meta(key, None)
        if value is not None:
            sides[key.split("-")[1]] = _inches(length_in_inches(key, value))
    geometry += [f"{side}={value}" for side, value in sides.items()]
    bleed = meta("bleed", None)
    crop = _truthy(meta("crop-marks", False))
    if (bleed or crop) and settings is None:
        raise _fail("metadata 'bleed' and 'crop-marks' need a 'trim' size (e.g. trim: 6x9in)")
    if settings is not None:
        settings.bleed_in = length_in_inches("bleed", bleed) if bleed else 0.0
        settings.crop_marks = crop
    if geometry:
        existing = doc.metadata.content.get("geometry")
        items = (
            list(existing.content)
            if isinstance(existing, pf.MetaList)
            else ([existing] if existing is not None else [])
        )
        doc.metadata["geometry"] = pf.MetaList(*items, *(pf.MetaString(g) for g in geometry))
    if "inner" in sides or "outer" in sides:
        options = doc.metadata.content.get("classoption")
        values = (
            list(options.content)
            if isinstance(options, pf.MetaList)
            else ([options] if options is not None else [])
        )
        if "twoside" not in [pf.stringify(v) for v in values]:
            doc.metadata["classoption"] = pf.MetaList(*values, pf.MetaString("twoside"))
    if settings is not None and (settings.bleed_in or settings.crop_marks):
        filterlib().add_header_include(doc, box_preamble(settings))
