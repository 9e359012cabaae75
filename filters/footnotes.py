#!/usr/bin/env python3
"""Footnotes: title-page affiliation notes -> symbol marks; ``^[note]^`` -> the note alone;
``footnotes: endnotes`` -> each chapter's notes in a "Notes" list at the chapter's end.

- Notes in the ``title``, ``subtitle``, ``author`` and ``date`` metadata (``Name[^ucb]`` with
  ``[^ucb]: ...`` defined in the body) become marks *, †, ‡ ... Notes with the same text share
  one mark, and the text is printed once. LaTeX: ``\\bookbuildaffil`` puts the text at the foot
  of the title page without touching the footnote counter. HTML: superscript marks and a
  ``<div class="affiliations">`` at the top of the body.
- A stray ``^`` right after an inline note (``differences^[@key]^``) is removed.
- Notes that hold only a citation are left as they are, so citeproc still processes them.

Switch: metadata ``footnotes``: true (default, page footnotes), ``endnotes``, or false (off).
"""

from __future__ import annotations

import panflute as pf
from _filterlib import add_header_include, chapter_label, run_filter

SWITCH = "footnotes"
#: Notes depend on their chapter alone; with endnotes, bookbuild's checks see the book-wide
#: numbering and rebuild the whole book.
INCREMENTAL = True
LATEX_FORMATS = ("latex",)
TITLE_PAGE_KEYS = ("title", "subtitle", "author", "date")
SYMBOLS = (
    "*",
    "\u2020",
    "\u2021",
    "\u00a7",
    "\u00b6",
    "\u2016",
    "**",
    "\u2020\u2020",
    "\u2021\u2021",
)
NOTES_TITLE = "Notes"

#: Symbol marks (\@fnsymbol) whatever the class does with \thanks; text once at the page foot.
PREAMBLE = r"""% bookbuild footnotes: title-page affiliation notes with symbol marks
\makeatletter
\newcommand*{\bookbuildaffilmark}[1]{\textsuperscript{\@fnsymbol{#1}}}
\newcommand{\bookbuildaffil}[2]{\bookbuildaffilmark{#1}%
  \g@addto@macro\@thanks{\bookbuild@affiltext{#1}{#2}}}
\newcommand{\bookbuild@affiltext}[2]{\begingroup
  \def\thefootnote{\@fnsymbol\c@footnote}\footnotetext[#1]{#2}\endgroup}
\makeatother"""


class FootnoteError(ValueError):
    """Footnote settings or title-page notes the filter cannot handle."""


def prepare(doc: pf.Doc) -> None:
    """Read the ``footnotes`` switch and turn title-page notes into symbol marks."""
    doc.footnotes_mode = footnotes_mode(doc)
    if doc.footnotes_mode is None:
        return
    latex = doc.format in LATEX_FORMATS
    affiliations = mark_title_page_notes(doc, latex)
    if not affiliations:
        return
    if latex:
        add_header_include(doc, PREAMBLE)
    else:
        doc.content.insert(0, affiliation_list(affiliations))


#: The elements :func:`action` does anything with (it is called on these alone).
ACTS_ON = (pf.Superscript, pf.Str)
#: Skip rule (``_filterlib.census`` tokens): the action changes nothing in a document without a
#: note.
NEEDS = frozenset({"Note"})


def action(elem: pf.Element, doc: pf.Doc) -> pf.Element | list[pf.Element] | None:
    """Drop stray superscript carets around inline notes."""
    if doc.footnotes_mode is None:
        return None
    if isinstance(elem, pf.Superscript):
        notes = [child for child in elem.content if not isinstance(child, pf.Space)]
        if len(notes) == 1 and isinstance(notes[0], pf.Note):
            return notes[0]
    if isinstance(elem, pf.Str) and elem.text.startswith("^") and isinstance(elem.prev, pf.Note):
        rest = elem.text[1:]
        return pf.Str(rest) if rest else []
    return None


def finalize(doc: pf.Doc) -> None:
    """With ``footnotes: endnotes``, move each chapter's notes to its end."""
    if doc.footnotes_mode == "endnotes":
        doc.content = chapters_with_endnotes(list(doc.content))


def main(doc: pf.Doc | None = None) -> pf.Doc:
    """Run as a pandoc filter, or in-process on ``doc``."""
    return run_filter(action, prepare, finalize, doc, ACTS_ON, NEEDS)


def footnotes_mode(doc: pf.Doc) -> str | None:
    """``"footnotes"``, ``"endnotes"`` or None (off) from the ``footnotes`` metadata."""
    value = doc.get_metadata(SWITCH, True)
    text = str(value).strip().lower()
    if value is True or text in ("true", "yes", "on", "footnotes"):
        return "footnotes"
    if value is False or text in ("false", "no", "off"):
        return None
    if text == "endnotes":
        return "endnotes"
    raise FootnoteError(f"metadata '{SWITCH}' must be true, false or endnotes, not '{value}'")


def mark_title_page_notes(doc: pf.Doc, latex: bool) -> list[list[pf.Inline]]:
    """Replace notes in the title-page metadata by symbol marks; return each distinct text once."""
    texts: dict[str, int] = {}
    affiliations: list[list[pf.Inline]] = []

    def replace(elem: pf.Element, _doc: pf.Doc | None) -> list[pf.Inline] | None:
        if not isinstance(elem, pf.Note):
            return None
        inlines = note_inlines(elem)
        key = pf.stringify(pf.Plain(*inlines)).strip()
        number = texts.get(key)
        if number is None:
            affiliations.append(inlines)
            number = texts[key] = len(affiliations)
            if number > len(SYMBOLS):
                raise FootnoteError(
                    f"more than {len(SYMBOLS)} different notes in title, author or date"
                )
            if latex:
                text = latex_text(inlines)
                return [pf.RawInline(f"\\bookbuildaffil{{{number}}}{{{text}}}", format="latex")]
        if latex:
            return [pf.RawInline(f"\\bookbuildaffilmark{{{number}}}", format="latex")]
        return [pf.Superscript(pf.Str(SYMBOLS[number - 1]))]

    for key in TITLE_PAGE_KEYS:
        value = doc.metadata.content.get(key)
        if value is not None:
            value.walk(replace)
    return affiliations


def latex_text(inlines: list[pf.Inline]) -> str:
    """Inlines written as LaTeX (raw, so that pandoc's pdfauthor/pdftitle leave them out)."""
    text = pf.convert_text(
        pf.Plain(*inlines),
        input_format="panflute",
        output_format="latex",
        extra_args=["--wrap=none"],
    )
    return str(text).strip()


def note_inlines(note: pf.Note) -> list[pf.Inline]:
    """A note's text as inlines: its paragraphs joined by spaces."""
    inlines: list[pf.Inline] = []
    for block in list(note.content):
        if inlines:
            inlines.append(pf.Space())
        if isinstance(block, (pf.Para, pf.Plain)):
            inlines.extend(block.content)
        else:
            inlines.append(pf.Str(pf.stringify(block)))
    return inlines


def affiliation_list(affiliations: list[list[pf.Inline]]) -> pf.Div:
    """HTML: the affiliation texts with their marks, one paragraph each."""
    paragraphs = [
        pf.Para(pf.Superscript(pf.Str(SYMBOLS[number])), pf.Space(), *inlines)
        for number, inlines in enumerate(affiliations)
    ]
    return pf.Div(*paragraphs, classes=["affiliations"])


def starts_chapter(block: pf.Block) -> bool:
    """A level-1 heading, a part (from the parts filter) or a bookbuild chapter marker."""
    if isinstance(block, pf.Header):
        return block.level == 1
    if isinstance(block, pf.Div):
        return "part" in block.classes
    if isinstance(block, pf.RawBlock):
        return chapter_label(block) is not None
    return False


def chapters_with_endnotes(blocks: list[pf.Block]) -> list[pf.Block]:
    """Replace notes by numbered links and add a "Notes" list at the end of each chapter."""
    result: list[pf.Block] = []
    notes: list[list[pf.Block]] = []
    sections = 0

    def replace(elem: pf.Element, _doc: pf.Doc | None) -> pf.Inline | None:
        if not isinstance(elem, pf.Note):
            return None
        notes.append(list(elem.content))
        anchor = f"bookbuild-endnote-{sections + 1}-{len(notes)}"
        return pf.Superscript(pf.Link(pf.Str(str(len(notes))), url=f"#{anchor}"))

    for block in blocks:
        if starts_chapter(block) and notes:
            sections += 1
            result.extend(endnotes_section(notes, sections))
            notes = []
        block.walk(replace)
        result.append(block)
    if notes:
        result.extend(endnotes_section(notes, sections + 1))
    return result


def endnotes_section(notes: list[list[pf.Block]], section: int) -> list[pf.Block]:
    """An unnumbered, unlisted "Notes" heading and the numbered notes."""
    items = []
    for number, blocks in enumerate(notes, start=1):
        anchor = pf.Span(identifier=f"bookbuild-endnote-{section}-{number}")
        if blocks and isinstance(blocks[0], (pf.Para, pf.Plain)):
            blocks[0].content.insert(0, anchor)
        else:
            blocks.insert(0, pf.Plain(anchor))
        items.append(pf.ListItem(*blocks))
    heading = pf.Header(
        pf.Str(NOTES_TITLE),
        level=2,
        identifier=f"bookbuild-endnotes-{section}",
        classes=["unnumbered", "unlisted"],
    )
    return [heading, pf.OrderedList(*items)]


if __name__ == "__main__":
    main()
