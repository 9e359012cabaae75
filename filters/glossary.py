#!/usr/bin/env python3
"""Glossary: terms defined once, linked where used; the glossary prints only the terms used,
sorted, each with the pages it is used on.

Definitions, either

- a definition list in a chapter whose heading has ``{.glossary}`` (unnumbered unless it
  also has ``.numbered``)::

      # Glossary {.glossary}

      Gradient descent
      :   An iterative method that …

- or a ``glossary:`` mapping in the metadata (``term: definition``, Markdown allowed).

Uses: ``[gradient descent]{.gls}``; ``[models]{.gls term="model"}`` when the text differs
from the term; or the shorthand ``{{gradient descent}}`` (metadata
``glossary-shorthand: false`` turns it off). Terms match without regard to case.

LaTeX: each use links to its definition and leaves a label and a page mark; the glossary
lists the pages of the uses (each page once, each a link), read back in the same LaTeX pass
(``_filterlib.PAGE_MARKS``: the glossary comes after a page break, so every page with a use
before it has been shipped out). A use after the glossary (or on its first page) is read
from the .aux of the pass before instead, so it costs a second pass, never a wrong page.
Other formats get the links alone. A term not defined is an error at its line with a
did-you-mean (in a ``--chapter`` preview, whose glossary may be in another chapter, it stays
plain text).

Chapter rebuilds (``INCREMENTAL``): a chapter without uses rebuilds alone. One with uses
marks the preamble (so gaining or losing its uses is a full build) and, written alone without
the glossary's definitions, says so in its LaTeX (so any edit of it is a full build): the
glossary's page lists always come from a full build.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import panflute as pf
from _filterlib import (
    PAGE_MARKS,
    add_header_include,
    add_header_include_once,
    chapter_label,
    run_filter,
    switch_value,
    warn,
)

LATEX_FORMATS = ("latex", "beamer")
#: Chapters without uses rebuild alone (see the module docstring).
INCREMENTAL = True
USES_MARK = "% bookbuild glossary: terms used"
ALONE_MARK = "% bookbuild glossary: uses written without the glossary (not a full build)"
SHORTHAND = re.compile(r"\{\{([^{}]+)\}\}")

#: Page list of a term's uses, each page once (uses come in page order), each a link to the
#: first use on it. The pages come from ``_filterlib.PAGE_MARKS`` (read back in the pass).
PREAMBLE = r"""% bookbuild glossary: the pages a term is used on
\makeatletter
\newcommand*{\bookbuildglspages}[1]{%
  \def\bookbuild@glslast{}\def\bookbuild@glssep{}%
  \@for\bookbuild@glsl:=#1\do{%
    \bookbuildgetpage{\bookbuild@glsl}%
    \ifx\bookbuildthepage\bookbuild@glslast\else
      \bookbuild@glssep
      \ifx\bookbuildtheanchor\@empty\bookbuildthepage
      \else\hyperlink{\bookbuildtheanchor}{\bookbuildthepage}\fi % (?? on a first pass)
      \def\bookbuild@glssep{, }%
      \let\bookbuild@glslast\bookbuildthepage
    \fi}}
\makeatother"""


class GlossaryError(ValueError):
    """A glossary term used but not defined, or a bad setting."""


@dataclass
class Term:
    name: str
    ident: str
    definition: list[pf.Block]
    uses: list[str] = field(default_factory=list)  # label of each use


@dataclass
class State:
    terms: dict[str, Term]  # lower-cased name -> term
    latex: bool
    shorthand: bool
    preview: bool
    chapter_at: int | None  # index in doc.content of the glossary chapter's heading
    undefined_uses: int = 0


def slug(name: str) -> str:
    return "gls-" + (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "term")


def _definitions(doc: pf.Doc) -> tuple[dict[str, Term], int | None]:
    terms: dict[str, Term] = {}
    at = None
    inside = False
    for i, block in enumerate(doc.content):
        if isinstance(block, pf.Header) and block.level == 1:
            inside = "glossary" in block.classes
            if inside:
                at = i
                if "numbered" not in block.classes and "unnumbered" not in block.classes:
                    block.classes.append("unnumbered")  # back matter
            continue
        if inside and isinstance(block, pf.DefinitionList):
            for item in block.content:
                name = pf.stringify(pf.Plain(*item.term)).strip()
                blocks = [b for d in item.definitions for b in d.content]
                _add(terms, name, blocks)
    meta = doc.metadata.content.get("glossary")
    if isinstance(meta, pf.MetaMap):
        for name, value in meta.content.items():
            blocks = (
                list(value.content)
                if isinstance(value, pf.MetaBlocks)
                else [pf.Plain(*value.content)]
                if isinstance(value, pf.MetaInlines)
                else [pf.Plain(pf.Str(pf.stringify(value)))]
            )
            _add(terms, name.strip(), blocks)
    elif meta is not None:
        raise GlossaryError("metadata 'glossary' must map each term to its definition")
    return terms, at


def _add(terms: dict[str, Term], name: str, blocks: list[pf.Block]) -> None:
    key = name.lower()
    if key in terms:
        raise GlossaryError(f"glossary term '{name}' is defined twice")
    terms[key] = Term(name, slug(name), blocks)


def prepare(doc: pf.Doc) -> None:
    """Collect the definitions before any use is seen."""
    terms, at = _definitions(doc)
    doc.glossary = State(
        terms,
        doc.format in LATEX_FORMATS,
        switch_value(doc, "glossary-shorthand", GlossaryError),
        hasattr(doc, "bookbuild_external_labels"),  # a --chapter preview
        at,
    )


def _use(text: list[pf.Inline], name: str, doc: pf.Doc) -> list[pf.Inline]:
    state: State = doc.glossary
    term = state.terms.get(" ".join(name.split()).lower())
    if term is None and not state.terms:
        # a chapter alone (rebuild or --chapter preview): the glossary is elsewhere
        state.undefined_uses += 1
        if not state.preview and state.undefined_uses == 1:
            warn(
                doc,
                f"'{name}' and other glossary terms: no glossary in this book "
                "(a {.glossary} chapter or 'glossary:' in the metadata)",
            )
        return [pf.Link(*text, url=f"#{slug(name)}")] if not state.preview else text
    if term is None:
        close = difflib.get_close_matches(name.lower(), list(state.terms), n=1, cutoff=0.6)
        hint = f"; did you mean '{state.terms[close[0]].name}'?" if close else ""
        raise GlossaryError(f"unknown glossary term '{name}'{hint}")
    label = f"{term.ident}-{len(term.uses) + 1}"
    term.uses.append(label)
    link = pf.Link(*text, url=f"#{term.ident}")
    if not state.latex:
        return [link]
    mark = f"\\phantomsection\\label{{{label}}}\\bookbuildpagemark{{{label}}}"
    return [pf.RawInline(mark, format="latex"), link]


def _shorthand(content: list[pf.Inline], doc: pf.Doc) -> list[pf.Inline] | None:
    """``{{term}}`` (possibly over several Str/Space) -> a use; None when there is none."""
    if not any(isinstance(x, pf.Str) and "{{" in x.text for x in content):
        return None
    out: list[pf.Inline] = []
    i = 0
    while i < len(content):
        item = content[i]
        if isinstance(item, pf.Str) and "{{" in item.text:
            j, text = i, ""
            while j < len(content) and isinstance(content[j], (pf.Str, pf.Space)):
                text += content[j].text if isinstance(content[j], pf.Str) else " "
                if "}}" in text[text.index("{{") :]:
                    break
                j += 1
            match = SHORTHAND.search(text)
            if match and j < len(content):
                before, after = text[: match.start()], text[match.end() :]
                if before:
                    out.append(pf.Str(before))
                name = match.group(1).strip()
                out += _use([pf.Str(w) if w else pf.Space() for w in _words(name)], name, doc)
                if after:
                    out.append(pf.Str(after))
                i = j + 1
                continue
        out.append(item)
        i += 1
    return out


def _words(name: str) -> list[str]:
    words: list[str] = []
    for word in name.split():
        if words:
            words.append("")
        words.append(word)
    return words


#: The elements :func:`action` does anything with (it is called on these alone).
ACTS_ON = (pf.Span, pf.Para, pf.Plain)
#: Skip rule (``_filterlib.census`` tokens): the action changes nothing in a document without a
#: ``.gls`` span or ``{{`` (a shorthand use).
NEEDS = frozenset({".gls", "text:{{"})


def action(elem: pf.Element, doc: pf.Doc) -> pf.Element | list[pf.Element] | None:
    """Uses -> links (with a label per use in LaTeX)."""
    if isinstance(elem, pf.Span) and "gls" in elem.classes:
        name = elem.attributes.get("term") or pf.stringify(elem)
        return _use(list(elem.content), name.strip(), doc)
    if (
        doc.glossary.shorthand
        and isinstance(elem, (pf.Para, pf.Plain))
        and not isinstance(elem.parent, pf.DefinitionItem)
    ):
        # (the walk has just given the items their parent: read the plain list)
        replaced = _shorthand(list(elem.content.list), doc)
        if replaced is not None:
            elem.content = replaced
    return None


def _glossary_blocks(state: State) -> list[pf.Block]:
    used = sorted((t for t in state.terms.values() if t.uses), key=lambda t: t.name.lower())
    items = []
    for term in used:
        definition = list(term.definition) or [pf.Plain()]
        if state.latex:
            pages = pf.RawInline(f"\\bookbuildglspages{{{','.join(term.uses)}}}", format="latex")
            definition.append(
                pf.Plain(
                    pf.Emph(
                        pf.Str("Used"),
                        pf.Space(),
                        pf.Str("on"),
                        pf.Space(),
                        pf.Str("p."),
                        pf.Space(),
                    ),
                    pages,
                )
            )
        items.append(
            pf.DefinitionItem(
                [pf.Span(pf.Str(term.name), identifier=term.ident)],
                [pf.Definition(*definition)],
            )
        )
    return [pf.DefinitionList(*items)] if items else []


def finalize(doc: pf.Doc) -> None:
    """Print the used terms in the glossary chapter (or in a new one at the back)."""
    state: State = doc.glossary
    del doc.glossary
    blocks = _glossary_blocks(state)
    content = list(doc.content)
    if state.chapter_at is not None:
        end = next(
            (
                i
                for i in range(state.chapter_at + 1, len(content))
                if (isinstance(content[i], pf.Header) and content[i].level == 1)
                or (isinstance(content[i], pf.Div) and "part" in content[i].classes)
            ),
            len(content),
        )
        # before the marker that opens the next chapter, so the list stays in this one's LaTeX
        opening = [
            i for i in range(state.chapter_at + 1, end) if chapter_label(content[i]) is not None
        ]
        end = opening[-1] if opening else end
        kept = [
            b for b in content[state.chapter_at + 1 : end] if not isinstance(b, pf.DefinitionList)
        ]
        doc.content = content[: state.chapter_at + 1] + kept + blocks + content[end:]
    elif blocks:
        heading = pf.Header(
            pf.Str("Glossary"), level=1, identifier="glossary", classes=["unnumbered"]
        )
        doc.content = content + [heading, *blocks]
    if blocks and state.latex:
        add_header_include_once(doc, PAGE_MARKS)
        add_header_include(doc, PREAMBLE)
    if state.latex and (blocks or state.undefined_uses):
        add_header_include(doc, USES_MARK)
    if state.latex and state.undefined_uses and not state.preview:
        doc.content.append(pf.RawBlock(ALONE_MARK, format="latex"))


def main(doc: pf.Doc | None = None) -> pf.Doc:
    """Run as a pandoc filter, or in-process on ``doc``."""
    return run_filter(action, prepare, finalize, doc, ACTS_ON, NEEDS)


if __name__ == "__main__":
    main()
