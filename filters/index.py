#!/usr/bin/env python3
"""Subject index: ``[term]{.index}`` spans -> the term, followed by ``\\index{…}``.

- ``[gradient descent]{.index}`` indexes the text as written;
- ``[supervised models]{.index entry="Learning!supervised"}`` indexes a different or nested
  entry (``!`` separates the levels, as in makeindex);
- ``[SGD]{.index see="stochastic gradient descent"}`` and ``see-also="…"`` (or ``seealso``)
  make cross-references instead of page numbers.

The text stays where it is. Characters makeindex treats specially (``! @ | "``) in a term
are quoted, LaTeX specials are escaped, and an entry whose printed form differs from its
plain text gets a sort key (``sort@printed``), so ``\\_`` and accents sort as letters.

LaTeX: the first entry loads ``imakeidx`` (``noautomatic``: bookbuild runs makeindex, or
upmendex for non-ASCII entries, between passes; LaTeX never gets shell escape) and the
index is printed at the back (``\\AtEndDocument``), in the table of contents. With hyperref
its page numbers are links. Other formats keep the text and drop the mark.

Switch: metadata ``index`` (default true; false drops every mark and prints no index).
"""

from __future__ import annotations

import panflute as pf
from _filterlib import chapter_label, run_filter, switch_value, warn

SWITCH = "index"
#: An entry depends only on its span: a chapter can be rebuilt alone.
INCREMENTAL = True
LATEX_FORMATS = ("latex", "beamer")

#: Before the index program has run, an empty index still prints its heading and contents
#: line, so the pages and the contents do not move when the entries arrive: a cold build
#: settles in the same two passes as without an index.
PREAMBLE = r"""% bookbuild index
\usepackage[noautomatic]{imakeidx}
\makeindex[intoc]
\makeatletter
\AtBeginDocument{\IfFileExists{\jobname.ind}{}{%
  \newwrite\bookbuild@ind\immediate\openout\bookbuild@ind=\jobname.ind
  \immediate\write\bookbuild@ind{\string\begin{theindex}\string\end{theindex}}%
  \immediate\closeout\bookbuild@ind}}
\makeatother"""
PRINT_INDEX = "\\AtEndDocument{\\printindex}"

#: LaTeX specials in running text, and what prints them.
LATEX_SPECIALS = {
    "\\": "\\textbackslash{}",
    "{": "\\{",
    "}": "\\}",
    "$": "\\$",
    "&": "\\&",
    "#": "\\#",
    "%": "\\%",
    "_": "\\_",
    "^": "\\textasciicircum{}",
    "~": "\\textasciitilde{}",
}
#: makeindex's own specials: level, sort key, page format, quote.
MAKEINDEX_SPECIALS = '!@|"'


class IndexError_(ValueError):
    """An index setting the filter cannot use."""


def prepare(doc: pf.Doc) -> None:
    """Read the ``index`` switch."""
    doc.index_enabled = switch_value(doc, SWITCH, IndexError_)
    doc.index_entries = []
    doc.index_chapter = None


#: The elements :func:`action` does anything with (it is called on these alone).
ACTS_ON = (pf.RawBlock, pf.Span)
#: Skip rule (``_filterlib.census`` tokens): the action changes nothing in a document without an
#: ``.index`` span.
NEEDS = frozenset({".index"})


def action(elem: pf.Element, doc: pf.Doc) -> pf.Element | list[pf.Element] | None:
    """An ``.index`` span -> its content plus an ``\\index`` mark (LaTeX)."""
    if isinstance(elem, pf.RawBlock) and elem.format == "html":
        label = chapter_label(elem)
        if label is not None:
            doc.index_chapter = label
        return None
    if not isinstance(elem, pf.Span) or "index" not in elem.classes:
        return None
    attrs = {
        k: v for k, v in elem.attributes.items() if k not in ("entry", "see", "see-also", "seealso")
    }
    rest = [c for c in elem.classes if c != "index"]
    kept: list[pf.Element] = list(elem.content)
    if elem.identifier or rest or attrs:  # the span carries more than the index mark
        kept = [pf.Span(*kept, identifier=elem.identifier, classes=rest, attributes=attrs)]
    if not doc.index_enabled or doc.format not in LATEX_FORMATS:
        return kept
    given = elem.attributes.get("entry", "").strip()
    entry = given or pf.stringify(elem).strip()
    if not entry:
        warn(doc, f"{doc.index_chapter or '?'}: an empty [..]{{.index}} span indexes nothing")
        return kept
    see = elem.attributes.get("see", "").strip()
    see_also = (elem.attributes.get("see-also") or elem.attributes.get("seealso", "")).strip()
    doc.index_entries.append(entry)
    mark = pf.RawInline(index_command(entry, see, see_also, nested=bool(given)), format="latex")
    return [*kept, mark]


def finalize(doc: pf.Doc) -> None:
    """Load the index package and print the index at the back when an entry was written."""
    if doc.index_entries:
        add_index_latex(doc)
    del doc.index_entries


def main(doc: pf.Doc | None = None) -> pf.Doc:
    """Run as a pandoc filter, or in-process on ``doc``."""
    return run_filter(action, prepare, finalize, doc, ACTS_ON, NEEDS)


def add_index_latex(doc: pf.Doc) -> None:
    """The package, and the index printed at the end of the document. From the preamble
    (``\\AtEndDocument``), not the body: a chapter rebuilt alone then writes the same LaTeX
    as in the whole book."""
    from _filterlib import add_header_include

    add_header_include(doc, PREAMBLE + "\n" + PRINT_INDEX)


def escape_latex(text: str) -> str:
    return "".join(LATEX_SPECIALS.get(ch, ch) for ch in text)


def quote_makeindex(text: str) -> str:
    """``text`` with makeindex's specials quoted (``"!`` is a literal ``!``)."""
    return "".join('"' + ch if ch in MAKEINDEX_SPECIALS else ch for ch in text)


def level(text: str) -> str:
    """One level of an entry: ``sort@printed`` when printing needs escapes, else the text."""
    text = " ".join(text.split())
    printed = escape_latex(text)
    if printed == text:
        return quote_makeindex(text)
    # only sorted, never printed: without the specials, it is safe even inside a footnote
    sort_key = "".join(ch for ch in text if ch not in LATEX_SPECIALS) or "?"
    return f"{quote_makeindex(sort_key)}@{quote_makeindex(printed)}"


def index_command(entry: str, see: str = "", see_also: str = "", nested: bool = True) -> str:
    """``\\index{…}`` for ``entry`` (levels separated by ``!`` when ``nested``), with an
    optional cross-reference."""
    parts = entry.split("!") if nested else [entry]
    key = "!".join(level(part) for part in parts if part.strip())
    if see:
        key += "|see{" + quote_makeindex(escape_latex(see)) + "}"
    elif see_also:
        key += "|seealso{" + quote_makeindex(escape_latex(see_also)) + "}"
    return "\\index{" + key + "}"


if __name__ == "__main__":
    main()
