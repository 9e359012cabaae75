#!/usr/bin/env python3
"""Part headings: ``# Overview {.part}`` (or a legacy raw ``\\part{Overview}``) -> a book part.

LaTeX: a real ``\\part`` (numbered I, II ... in the table of contents; ``{.part .unnumbered}``
gives ``\\part*`` plus a TOC line) with the part's intro text - the blocks between the part
heading and the next chapter - printed on the part page under the title. The preamble keeps
``\\@endpart`` from ending the part page until ``\\bookbuildpartpageend``.

HTML/EPUB: a level-1 heading "Part I. Overview" (unnumbered) followed by the intro.

Switch: metadata ``parts`` (default true).
"""

from __future__ import annotations

import re

import panflute as pf
from _filterlib import add_header_include, chapter_label, roman, run_filter, switch_value, warn

SWITCH = "parts"
#: A chapter's part pages depend on that chapter alone (bookbuild may rebuild it alone).
INCREMENTAL = True
LATEX_FORMATS = ("latex",)
RAW_PART = re.compile(r"^\s*\\part(?P<star>\*)?\s*(?:\[[^\]]*\])?\s*\{")
PAGE_BREAKS = re.compile(r"^(\s*\\(clearpage|cleardoublepage|newpage|pagebreak)\b\s*)+$")

#: Keeps the part page open while the intro text is typeset on it.
PREAMBLE = r"""% bookbuild parts: the intro text after \part goes on the part page
\makeatletter
\newif\ifbookbuild@partpageopen
\let\bookbuild@endpart\@endpart
\def\@endpart{\ifbookbuild@partpageopen\par\vskip 6ex\relax\global\@topnum\z@
  \else\bookbuild@endpart\fi}% no float above the part title, as on a chapter's first page
\newcommand{\bookbuildpartpage}{\global\bookbuild@partpageopentrue}
\newcommand{\bookbuildpartpageend}{\par\global\bookbuild@partpageopenfalse\bookbuild@endpart}
\newcommand{\bookbuildunnumberedpart}[1]{%
  \part*{#1}\phantomsection\addcontentsline{toc}{part}{#1}}
\makeatother"""


class PartError(ValueError):
    """A part heading the filter cannot turn into a part."""


def prepare(doc: pf.Doc) -> None:
    """Read the ``parts`` switch."""
    doc.parts_enabled = switch_value(doc, SWITCH, PartError)


#: The elements :func:`action` does anything with (it is called on these alone).
ACTS_ON = (pf.RawBlock, pf.Header)
#: Skip rule (``_filterlib.census`` tokens): the action changes nothing in a document without raw
#: LaTeX (a ``\\part``) or a ``.part`` heading.
NEEDS = frozenset({"raw:latex", "raw:tex", ".part"})


def action(elem: pf.Element, doc: pf.Doc) -> pf.Element | None:
    """Turn a legacy raw ``\\part{...}`` block into a part heading; reject misplaced ones."""
    if not doc.parts_enabled:
        return None
    if isinstance(elem, pf.RawBlock) and elem.format in ("tex", "latex"):
        return raw_part_heading(elem)
    if isinstance(elem, pf.Header) and "part" in elem.classes:
        if elem.level != 1:
            raise PartError(
                f"heading '{pf.stringify(elem)}' has class .part but is level {elem.level}; "
                "a part is a level-1 heading: # Title {.part}"
            )
        if not isinstance(elem.parent, pf.Doc):
            warn(doc, f"parts: part '{pf.stringify(elem)}' is nested in a block; left as it is")
    return None


def finalize(doc: pf.Doc) -> None:
    """Group each part heading with its intro blocks and write them for the output format."""
    if not doc.parts_enabled:
        return
    latex = doc.format in LATEX_FORMATS
    blocks = list(doc.content)
    result: list[pf.Block] = []
    numbered_parts = 0
    chapter_file = ""
    index = 0
    while index < len(blocks):
        block = blocks[index]
        index += 1
        chapter_file = chapter_label(block) or chapter_file
        if not is_part_heading(block):
            result.append(block)
            continue
        intro: list[pf.Block] = []
        while index < len(blocks) and not ends_intro(blocks[index]):
            intro.append(blocks[index])
            index += 1
        intro = drop_page_breaks(intro, block, doc, chapter_file)
        trailing: list[pf.Block] = []
        while intro and is_invisible_raw(intro[-1]):
            trailing.insert(0, intro.pop())
        if "unnumbered" not in block.classes:
            numbered_parts += 1
        if latex:
            result.append(latex_part(block, intro))
        else:
            result.extend(html_part(block, intro, numbered_parts))
        result.extend(trailing)
    doc.content = result
    if latex and any(is_part_heading(b) for b in blocks):
        add_header_include(doc, PREAMBLE)


def main(doc: pf.Doc | None = None) -> pf.Doc:
    """Run as a pandoc filter, or in-process on ``doc``."""
    return run_filter(action, prepare, finalize, doc, ACTS_ON, NEEDS)


def raw_part_heading(raw: pf.RawBlock) -> list[pf.Block] | None:
    """``\\part{Title}`` (optional ``*``) -> ``# Title {.part}``; other raw blocks: None."""
    match = RAW_PART.match(raw.text)
    if match is None:
        return None
    end = closing_brace(raw.text, match.end())
    if end is None:
        raise PartError(f"unbalanced braces in raw part: {raw.text.splitlines()[0]}")
    title_source = raw.text[match.end() : end]
    converted = pf.convert_text(title_source, input_format="latex")
    title = list(converted[0].content) if converted else []
    classes = ["part", "unnumbered"] if match.group("star") else ["part"]
    heading = pf.Header(*title, level=1, classes=classes)
    rest = raw.text[end + 1 :].strip()
    if not rest:
        return [heading]
    return [heading, pf.RawBlock(rest, format=raw.format)]


def closing_brace(text: str, start: int) -> int | None:
    """Index of the brace closing the group opened just before ``start``; None if unbalanced."""
    depth = 1
    index = start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return None


def is_part_heading(block: pf.Block) -> bool:
    return isinstance(block, pf.Header) and block.level == 1 and "part" in block.classes


def ends_intro(block: pf.Block) -> bool:
    """A chapter heading, another part or a chapter marker ends a part's intro."""
    return (isinstance(block, pf.Header) and block.level == 1) or chapter_label(block) is not None


def is_invisible_raw(block: pf.Block) -> bool:
    """A raw block that is not LaTeX (an HTML comment ...): it prints nothing on the part page."""
    return isinstance(block, pf.RawBlock) and block.format not in ("tex", "latex")


def drop_page_breaks(
    intro: list[pf.Block], heading: pf.Header, doc: pf.Doc, chapter_file: str
) -> list[pf.Block]:
    """Remove raw ``\\clearpage``-style blocks: they would push the intro off the part page."""
    kept = []
    for block in intro:
        if (
            isinstance(block, pf.RawBlock)
            and block.format in ("tex", "latex")
            and PAGE_BREAKS.match(block.text)
        ):
            command = " ".join(block.text.split())
            where = f"{chapter_file}: " if chapter_file else ""
            warn(doc, f"{where}parts: dropped '{command}' after part '{pf.stringify(heading)}'")
            continue
        kept.append(block)
    return kept


def latex_part(heading: pf.Header, intro: list[pf.Block]) -> pf.Div:
    """``\\part`` with the intro on its page, wrapped in a Div with class ``part``."""
    command = "\\bookbuildunnumberedpart{" if "unnumbered" in heading.classes else "\\part{"
    inlines = [
        pf.RawInline(f"\\bookbuildpartpage\n{command}", format="latex"),
        *heading.content,
        pf.RawInline("}", format="latex"),
    ]
    if heading.identifier:
        inlines.append(pf.RawInline(f"\\label{{{heading.identifier}}}", format="latex"))
    end = pf.RawBlock("\\bookbuildpartpageend", format="latex")
    return pf.Div(pf.Plain(*inlines), *intro, end, classes=["part"])


def html_part(heading: pf.Header, intro: list[pf.Block], number: int) -> list[pf.Block]:
    """An unnumbered level-1 heading "Part I. Title" followed by the intro."""
    title = list(heading.content)
    if "unnumbered" not in heading.classes:
        title = [pf.Str("Part"), pf.Space(), pf.Str(f"{roman(number)}."), pf.Space(), *title]
    classes = [c for c in heading.classes if c != "unnumbered"] + ["unnumbered"]
    new_heading = pf.Header(
        *title,
        level=1,
        identifier=heading.identifier,
        classes=classes,
        attributes=heading.attributes,
    )
    return [new_heading, *intro]


if __name__ == "__main__":
    main()
