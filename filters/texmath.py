#!/usr/bin/env python3
"""Math as GitBook, HonKit and mdBook books mean it: ``$$…$$`` inside a sentence is inline.

pandoc reads every ``$$…$$`` as display math. Books written for GitBook/HonKit (KaTeX,
MathJax) put ``$$n$$`` in the middle of a sentence and expect it inline. The rule:

- ``$$…$$`` with text on the same line (before or after it in its paragraph) is inline math;
- ``$$…$$`` alone on its line(s) of the paragraph stays display math.

Only the body: metadata (crossref's ``$$i$$`` templates) is left as it is.

``\\(…\\)`` and ``\\[…\\]`` are read as math before this filter runs (pandoc's
``tex_math_single_backslash``, or bookbuild's pre-read step for the CommonMark flavours).

(Named ``texmath``, not ``math``: a ``math.py`` in the filters folder would shadow Python's
own ``math`` module when pandoc runs a filter from that folder.)

Switch: metadata ``inline_display_math``: true (default) or false (every ``$$`` display).
"""

from __future__ import annotations

import panflute as pf
from _filterlib import inside, run_filter, switch_value

SWITCH = "inline_display_math"
#: The rule looks at one paragraph at a time.
INCREMENTAL = True

_BREAKS = (pf.SoftBreak, pf.LineBreak)


class MathSwitchError(ValueError):
    """The switch has a value other than true or false."""


def prepare(doc: pf.Doc) -> None:
    doc.math_on = switch_value(doc, SWITCH, MathSwitchError)


def alone_on_its_line(items: list[pf.Inline], index: int) -> bool:
    """True when nothing but spaces stands between ``items[index]`` and the line breaks (or
    the paragraph's ends) on either side."""
    for step in (-1, 1):
        at = index + step
        while 0 <= at < len(items) and isinstance(items[at], pf.Space):
            at += step
        if 0 <= at < len(items) and not isinstance(items[at], _BREAKS):
            return False
    return True


def inline_math(items: list[pf.Inline]) -> bool:
    """Turn display math that shares its line with text into inline math; True if any."""
    changed = False
    for index, item in enumerate(items):
        if (
            isinstance(item, pf.Math)
            and item.format == "DisplayMath"
            and not alone_on_its_line(items, index)
        ):
            item.format = "InlineMath"
            item.text = item.text.strip()
            changed = True
    return changed


#: The elements :func:`action` does anything with (it is called on these alone).
ACTS_ON = (pf.Para, pf.Plain)
#: Skip rule (``_filterlib.census`` tokens): the action changes nothing in a document without math.
NEEDS = frozenset({"Math"})


def action(elem: pf.Element, doc: pf.Doc) -> None:
    if not doc.math_on:
        return None
    if (
        isinstance(elem, (pf.Para, pf.Plain))
        and any(isinstance(item, pf.Math) for item in elem.content.list)
        and not in_metadata(elem)
    ):
        inline_math(list(elem.content))
    return None


def in_metadata(elem: pf.Element) -> bool:
    """Metadata is left alone: pandoc-crossref style templates (``tableTemplate``) use
    ``$$i$$`` as placeholders, and the crossref filter reads them as display math."""
    return inside(elem, pf.MetaValue)


def finalize(doc: pf.Doc) -> None:
    del doc.math_on


def main(doc: pf.Doc | None = None) -> pf.Doc:
    return run_filter(action, prepare, finalize, doc, ACTS_ON, NEEDS)


if __name__ == "__main__":
    main()
