#!/usr/bin/env python3
"""Definition lists: a bullet list whose every item starts with a bold term ending in a colon
(``- **Systems:** systems engineering``) -> a definition list (term without the colon).

LaTeX: every definition list (converted or written as ``Term`` / ``:   Definition``) is written
as a ``bookbuilddeflist`` environment: bold term, hanging indent, no ``\\hfill`` gap before a
definition that starts with a list (pandoc issue 10241), and a definition that starts with a
code block puts the term on a line of its own so it compiles and reads well (pandoc issue 4662).
Other formats get pandoc's own definition list.

Switch: metadata ``definition_lists`` (default true).
"""

from __future__ import annotations

import panflute as pf
from _filterlib import add_header_include, run_filter, switch_value

SWITCH = "definition_lists"
#: A list's rendering depends on the list alone (bookbuild may rebuild a chapter alone).
INCREMENTAL = True
LATEX_FORMATS = ("latex",)

#: A description-style list: term in bold at the margin, definition lines indented.
PREAMBLE = r"""% bookbuild deflists: one style for definition lists
\makeatletter
\newcommand*{\bookbuild@deflabel}[1]{\hspace{\labelsep}\normalfont\bfseries #1}
\newenvironment{bookbuilddeflist}{%
  \list{}{\setlength{\leftmargin}{2em}\setlength{\labelwidth}{0pt}%
    \setlength{\itemindent}{-\leftmargin}\let\makelabel\bookbuild@deflabel}}%
  {\endlist}
\makeatother"""


class DefinitionListError(ValueError):
    """Definition-list settings the filter cannot use."""


def prepare(doc: pf.Doc) -> None:
    """Read the ``definition_lists`` switch."""
    doc.deflists_enabled = switch_value(doc, SWITCH, DefinitionListError)
    doc.deflists_latex_used = False


#: The elements :func:`action` does anything with (it is called on these alone).
ACTS_ON = (pf.BulletList, pf.DefinitionList)
#: Skip rule (``_filterlib.census`` tokens): the action changes nothing in a document without a
#: bullet or definition list.
NEEDS = frozenset({"BulletList", "DefinitionList"})


def action(elem: pf.Element, doc: pf.Doc) -> pf.Element | None:
    """Bold-term bullet lists -> definition lists; in LaTeX, definition lists -> the book style."""
    if not doc.deflists_enabled:
        return None
    if isinstance(elem, pf.BulletList):
        converted = definition_list(elem)
        if converted is None:
            return None
        elem = converted
    if isinstance(elem, pf.DefinitionList):
        if doc.format in LATEX_FORMATS:
            doc.deflists_latex_used = True
            return latex_definition_list(elem)
        return elem
    return None


def finalize(doc: pf.Doc) -> None:
    """Add the list style to the preamble when a LaTeX definition list was written."""
    if doc.deflists_enabled and doc.deflists_latex_used:
        add_header_include(doc, PREAMBLE)


def main(doc: pf.Doc | None = None) -> pf.Doc:
    """Run as a pandoc filter, or in-process on ``doc``."""
    return run_filter(action, prepare, finalize, doc, ACTS_ON, NEEDS)


def split_term(item: pf.ListItem) -> tuple[list[pf.Inline], list[pf.Inline]] | None:
    """(term, rest of the first block) if the item starts with ``**Term:**``, else None.

    The colon may be inside or right after the bold text; a doubled one (``**ML:**:``) goes too.
    """
    if not item.content or not isinstance(item.content[0], (pf.Plain, pf.Para)):
        return None
    inlines = list(item.content[0].content)
    if not inlines or not isinstance(inlines[0], pf.Strong):
        return None
    term = list(inlines[0].content)
    rest = inlines[1:]
    colon = False
    if term and isinstance(term[-1], pf.Str) and term[-1].text.endswith(":"):
        text = term[-1].text[:-1]
        term = term[:-1] + ([pf.Str(text)] if text else [])
        colon = True
    if rest and isinstance(rest[0], pf.Str) and rest[0].text.startswith(":"):
        text = rest[0].text[1:]
        rest = ([pf.Str(text)] if text else []) + rest[1:]
        colon = True
    while term and isinstance(term[-1], (pf.Space, pf.SoftBreak)):
        term.pop()
    while rest and isinstance(rest[0], (pf.Space, pf.SoftBreak)):
        rest.pop(0)
    if not colon or not term:
        return None
    return term, rest


def definition_list(bullets: pf.BulletList) -> pf.DefinitionList | None:
    """The definition list a bold-term bullet list stands for; None unless every item fits."""
    split = [split_term(item) for item in bullets.content]
    if not split or any(parts is None for parts in split):
        return None
    items = []
    for item, parts in zip(bullets.content, split, strict=True):
        assert parts is not None
        term, rest = parts
        first = type(item.content[0])(*rest)
        items.append(pf.DefinitionItem(term, [pf.Definition(first, *item.content[1:])]))
    return pf.DefinitionList(*items)


def latex_definition_list(deflist: pf.DefinitionList) -> pf.Div:
    """The ``bookbuilddeflist`` environment, items as ``\\item[{term}]`` and plain blocks."""
    tight = all(is_tight(item) for item in deflist.content)
    begin = "\\begin{bookbuilddeflist}" + ("\n\\tightlist" if tight else "")
    blocks: list[pf.Block] = [pf.RawBlock(begin, format="latex")]
    for item in deflist.content:
        blocks.extend(latex_item(item))
    blocks.append(pf.RawBlock("\\end{bookbuilddeflist}", format="latex"))
    return pf.Div(*blocks, classes=["definition-list"])


def is_tight(item: pf.DefinitionItem) -> bool:
    """No definition of the item starts with a paragraph (Para): pandoc's compact list."""
    return not any(
        definition.content and isinstance(definition.content[0], pf.Para)
        for definition in item.definitions
    )


def latex_item(item: pf.DefinitionItem) -> list[pf.Block]:
    """``\\item[{term}]`` followed by the definitions' blocks."""
    label = [
        pf.RawInline("\\item[{", format="latex"),
        *item.term,
        pf.RawInline("}]", format="latex"),
    ]
    body = [block for definition in item.definitions for block in definition.content]
    if starts_with_text(body):
        return with_label(body, label)
    # The term on a line of its own, then the block (code, list ...) below it.
    label.append(pf.RawInline("\\mbox{}", format="latex"))
    return [pf.Plain(*label), *body]


def starts_with_text(blocks: list[pf.Block]) -> bool:
    """Whether the first block is a paragraph (possibly inside Divs)."""
    while blocks and isinstance(blocks[0], pf.Div):
        blocks = list(blocks[0].content)
    return bool(blocks) and isinstance(blocks[0], (pf.Plain, pf.Para))


def with_label(blocks: list[pf.Block], label: list[pf.Inline]) -> list[pf.Block]:
    """``blocks`` with ``label`` put in front of the first paragraph's text."""
    first = blocks[0]
    if isinstance(first, pf.Div):
        inner = with_label(list(first.content), label)
        first.content = inner
        return [first, *blocks[1:]]
    text = list(first.content)
    separator = [pf.Space()] if text else []
    return [type(first)(*label, *separator, *text), *blocks[1:]]


if __name__ == "__main__":
    main()
