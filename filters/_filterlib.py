"""Helpers shared by bookbuild's filters.

A filter imports this module from its own folder: pandoc runs a filter as a script (its
folder is on ``sys.path``) and bookbuild's loader does the same, so ``from _filterlib
import …`` works both ways.
"""

from __future__ import annotations

import re
import sys

import panflute as pf


def add_header_includes(doc: pf.Doc, *blocks: pf.Block) -> None:
    """Append ``blocks`` to the ``header-includes`` metadata, whatever shape it has (bookbuild
    puts the book's own preamble there; ``pandoc -H`` would replace it)."""
    if not blocks:
        return
    new = pf.MetaBlocks(*blocks)
    existing = doc.metadata.content.get("header-includes")
    if existing is None:
        doc.metadata["header-includes"] = pf.MetaList(new)
    elif isinstance(existing, pf.MetaList):
        existing.append(new)
    else:
        doc.metadata["header-includes"] = pf.MetaList(existing, new)


def add_header_include(doc: pf.Doc, latex: str) -> None:
    """Append raw LaTeX to the preamble (see :func:`add_header_includes`)."""
    add_header_includes(doc, pf.RawBlock(latex, format="latex"))


def switch_value(doc: pf.Doc, key: str, error: type[ValueError]) -> bool:
    """A true/false metadata switch, true when absent; anything else raises ``error``."""
    value = doc.get_metadata(key, True)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on"):
        return True
    if text in ("false", "no", "off"):
        return False
    raise error(f"metadata '{key}' must be true or false, not '{value}'")


def warn(doc: pf.Doc, message: str, stderr_prefix: str = "") -> None:
    """Report a one-line warning to bookbuild (``doc.bookbuild_warnings``), or to stderr when
    pandoc runs the filter."""
    warnings = getattr(doc, "bookbuild_warnings", None)
    if isinstance(warnings, list):
        warnings.append(message)
    else:
        print(f"{stderr_prefix}{message}", file=sys.stderr)


#: bookbuild's chapter marker, the HTML comment block before each chapter's blocks
#: (``<!-- bookbuild:chapter book/ml-jobs.md -->``). bookbuild writes it (its ``markers``
#: module, which a test holds this pattern to); a filter reads it with :func:`chapter_label`.
CHAPTER_MARKER = re.compile(r"^<!--\s*bookbuild:chapter\s+(?P<label>.+?)\s*-->$")


def chapter_label(block: pf.Element) -> str | None:
    """The chapter file a bookbuild chapter marker names (``book/ml-jobs.md``), else None:
    a filter that meets one knows which chapter the blocks after it are in."""
    if isinstance(block, pf.RawBlock) and block.format == "html":
        match = CHAPTER_MARKER.match(block.text.strip())
        if match:
            return match.group("label")
    return None


def roman(number: int) -> str:
    """Upper-case Roman numeral of a positive integer."""
    numerals = (
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    )  # fmt: skip
    digits = []
    for value, numeral in numerals:
        count, number = divmod(number, value)
        digits.append(numeral * count)
    return "".join(digits)


def text_inlines(text: str) -> list[pf.Inline]:
    """Plain text as Str and Space inlines (a title attribute, a generated label)."""
    out: list[pf.Inline] = []
    for i, word in enumerate(text.split()):
        if i:
            out.append(pf.Space())
        out.append(pf.Str(word))
    return out


#: The start of bookbuild's source marker, a LaTeX comment block (``% bookbuild:src FILE:LINE``)
#: before each top-level block; bookbuild writes it (``markers.src_marker``).
SRC_MARK = "% bookbuild:src "


def source_place(block: pf.Element) -> tuple[str, int] | None:
    """(file, line) a bookbuild source marker names, else None: the blocks after it start at
    that line of that file."""
    if (
        isinstance(block, pf.RawBlock)
        and block.format == "latex"
        and block.text.startswith(SRC_MARK)
    ):
        file, _, line = block.text[len(SRC_MARK) :].rpartition(":")
        if line.isdigit():
            return file, int(line)
    return None


def inside(elem: pf.Element, *kinds: type) -> bool:
    """Whether an element sits (at any depth) within one of ``kinds`` (e.g. a Figure, or
    pf.MetaValue: in the metadata)."""
    parent = elem.parent
    while parent is not None:
        if isinstance(parent, kinds):
            return True
        parent = parent.parent
    return False


#: Above this many characters in its widest row, a table's columns wrap their text.
WRAP_FROM = 72
#: Characters of monospaced text in a line of the text block (about).
WORD_LINE = 62


def column_widths(rows: list[pf.TableRow], width: int) -> list[tuple[str, object]]:
    """Natural widths for a narrow table; for a wide one, shares of the line proportional
    to each column's longest text (so cells wrap instead of running off the page)."""
    longest = [1] * width
    word = [1] * width  # the longest word: a column is never narrower (it cannot wrap)
    for row in rows:
        column = 0
        for cell in row.content:
            if cell.colspan == 1 and column < width:
                text = pf.stringify(cell)
                longest[column] = max(longest[column], len(text))
                word[column] = max([word[column], *(len(w) + 1 for w in text.split())])
            column += cell.colspan
    if sum(longest) <= WRAP_FROM:
        return [("AlignDefault", "ColWidthDefault")] * width
    weights = [min(max(n, 10), 60) for n in longest]  # no column too narrow or too greedy
    shares = [w / sum(weights) for w in weights]
    # ... and none narrower than its longest word (a line holds about WORD_LINE characters
    # of code, which is what long unbreakable words in tables mostly are)
    floors = [min(w / WORD_LINE, 0.5) for w in word]
    narrow = [i for i in range(width) if shares[i] < floors[i]]
    if narrow and sum(floors[i] for i in narrow) < 1:
        rest = 1 - sum(floors[i] for i in narrow)
        others = sum(weights[i] for i in range(width) if i not in narrow)
        shares = [floors[i] if i in narrow else rest * weights[i] / others for i in range(width)]
    return [("AlignDefault", round(share, 4)) for share in shares]
