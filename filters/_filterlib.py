"""Helpers shared by bookbuild's filters.

A filter imports this module from its own folder: pandoc runs a filter as a script (its
folder is on ``sys.path``) and bookbuild's loader does the same, so ``from _filterlib
import …`` works both ways.
"""

from __future__ import annotations

import operator
import re
import sys
from collections.abc import Callable
from typing import Any

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


#: The pages of marks, known in the pass that typesets them (shared by the glossary and the
#: exercises). ``\\bookbuildpagemark{label}`` (right after the anchor the label names) writes,
#: when its page is shipped out, the page number and the anchor to ``\\jobname.pages``.
#: ``\\bookbuildgetpage{label}`` reads that file back (closed, read, opened again for the marks
#: still to come) and sets ``\\bookbuildthepage`` and ``\\bookbuildtheanchor``. A reader that
#: comes after a page break (a new chapter) finds every mark before it: one LaTeX pass is
#: enough. A mark not shipped yet (on the reader's own page, or after it) is taken from the
#: label in the .aux of the pass before; on a first pass it is an undefined reference, so
#: the build takes a second pass, as with ``\\pageref``.
PAGE_MARKS = r"""% bookbuild: the pages of marks, read back in the same pass (see _filterlib.py)
\makeatletter
\newwrite\bbpg@out \newread\bbpg@in
\newcount\bbpg@made \newcount\bbpg@known
\AtBeginDocument{\immediate\openout\bbpg@out=\jobname.pages\relax}
\newcommand*\bookbuildpagemark[1]{\@bsphack
  \global\advance\bbpg@made\@ne
  \protected@write\bbpg@out{}{\string\bbpg@at{#1}{\thepage}%
    {\ifdefined\@currentHref\@currentHref\fi}}\@esphack}
\def\bbpg@at#1#2#3{\global\advance\bbpg@known\@ne
  \expandafter\gdef\csname bbpg@p@#1\endcsname{#2}%
  \expandafter\gdef\csname bbpg@a@#1\endcsname{#3}}
\def\bbpg@sync{\ifnum\bbpg@made>\bbpg@known
  \immediate\closeout\bbpg@out
  \begingroup\endlinechar=-1 \makeatletter
    \openin\bbpg@in=\jobname.pages\relax
    \loop\unless\ifeof\bbpg@in \read\bbpg@in to\bbpg@line \bbpg@line\repeat
    \closein\bbpg@in
  \endgroup
  \immediate\openout\bbpg@out=\jobname.pages\relax\fi}
\def\bbpg@fields#1#2#3#4#5\@nil{\def\bookbuildthepage{#2}\def\bookbuildtheanchor{#4}}
\newcommand*\bookbuildgetpage[1]{\@ifundefined{bbpg@p@#1}{\bbpg@sync}{}%
  \@ifundefined{bbpg@p@#1}{%
    \@ifundefined{r@#1}{%
      \protect\G@refundefinedtrue
      \@latex@warning{Reference `#1' on page \thepage\space undefined}%
      \def\bookbuildthepage{??}\let\bookbuildtheanchor\@empty}{%
      \expandafter\expandafter\expandafter\bbpg@fields
        \csname r@#1\endcsname{}{}{}{}{}\@nil}}{%
    \edef\bookbuildthepage{\csname bbpg@p@#1\endcsname}%
    \edef\bookbuildtheanchor{\csname bbpg@a@#1\endcsname}}}
\makeatother"""


def add_header_include_once(doc: pf.Doc, latex: str) -> None:
    """:func:`add_header_include`, unless the preamble already holds ``latex`` (a helper two
    filters share, such as :data:`PAGE_MARKS`)."""
    existing = doc.metadata.content.get("header-includes")
    if existing is not None:
        found: list[bool] = []

        def seek(elem: pf.Element, doc: pf.Doc) -> None:
            if isinstance(elem, pf.RawBlock) and elem.text == latex:
                found.append(True)

        existing.walk(seek)
        if found:
            return
    add_header_include(doc, latex)


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
                text = stringify(cell)
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


Action = Callable[[Any, Any], Any]


def walk(elem: Any, action: Action, doc: Any = None, types: Any = None) -> Any:
    """``elem.walk(action, doc)`` as panflute does it (children first, each element given its
    ``parent``, ``location`` and ``index`` on the way, an action's replacement or ``[]`` put in
    its place), and the same result, at a fifth of the cost: ``action`` is called only on
    instances of ``types`` (None: every element; an action must do nothing to other types),
    and a container is rebuilt only when its items changed (panflute rebuilds them all)."""
    if doc is None:
        doc = elem.doc
    return _walk(elem, action, doc, types)


def _walk(elem: Any, action: Action, doc: Any, types: Any) -> Any:
    for name in elem._children:
        child = getattr(elem, name)
        if isinstance(child, pf.ListContainer):
            items = child.list
            parent, location = child.parent, child.location
            out: list[Any] = []
            changed = False
            index = 0
            while index < len(items):  # as panflute iterates: the list as it is now
                item = items[index]
                item.parent, item.location, item.index = parent, location, index
                if item._children:
                    new = _walk(item, action, doc, types)
                elif types is None or isinstance(item, types):
                    new = action(item, doc)
                    if new is None:
                        new = item
                else:
                    new = item
                if type(new) is list:
                    out.extend(new)
                    changed = True
                else:
                    out.append(new)
                    changed = changed or new is not item
                index += 1
            if (
                changed
                or len(out) != len(items)
                or getattr(elem, name) is not child
                or not all(map(operator.is_, out, items))
            ):
                setattr(elem, name, out)
        elif isinstance(child, pf.DictContainer):
            pairs = []
            changed = False
            for key, value in child.items():
                new = _walk(value, action, doc, types)
                changed = changed or new is not value
                if new != []:
                    pairs.append((key, new))
            if changed or getattr(elem, name) is not child:
                setattr(elem, name, pairs)
        elif isinstance(child, pf.Element):
            setattr(elem, name, _walk(child, action, doc, types))
        elif child is None:
            setattr(elem, name, None)
        else:
            raise TypeError(type(child))
    if types is None or isinstance(elem, types):
        altered = action(elem, doc)
        return elem if altered is None else altered
    return elem


def run_filter(
    action: Action | None,
    prepare: Callable[[Any], None] | None = None,
    finalize: Callable[[Any], None] | None = None,
    doc: pf.Doc | None = None,
    types: Any = None,
    needs: frozenset[str] | None = None,
) -> Any:
    """``panflute.run_filter`` with :func:`walk`: the document from stdin (when ``doc`` is
    None, as under ``pandoc --filter``) or ``doc``; ``prepare``, the walk calling ``action`` on
    the elements of ``types``, ``finalize``; written to stdout, or returned. The walk is left
    out when :func:`may_hold` finds none of ``needs`` (:func:`census` tokens) in the document:
    the filter's skip rule, which says its action would change nothing without them."""
    load_and_dump = doc is None
    if doc is None:
        doc = pf.load()
    if prepare is not None:
        prepare(doc)
    if action is not None and (needs is None or may_hold(doc, needs)):
        doc = walk(doc, action, doc, types)
    if finalize is not None:
        finalize(doc)
    if load_and_dump:
        pf.dump(doc)
        return None
    return doc


def stringify(elem: Any, newlines: bool = True) -> str:
    """``panflute.stringify(elem, newlines)``, the same text, without panflute's walk (which
    rebuilds every container under ``elem``)."""
    out: list[str] = []
    _strings(elem, out, newlines)
    return "".join(out)


def _strings(elem: Any, out: list[str], newlines: bool) -> None:
    if isinstance(elem, pf.ListContainer):  # a Cite's content
        for index, item in enumerate(elem.list):
            item.parent, item.location, item.index = elem.parent, elem.location, index
            _strings(item, out, newlines)
        return
    if not isinstance(elem, (pf.DefinitionList, pf.Cite)):  # panflute stops at these
        for name in elem._children:
            child = getattr(elem, name)
            if isinstance(child, (pf.ListContainer, pf.Element)):
                _strings(child, out, newlines)
            elif isinstance(child, pf.DictContainer):
                for value in child.values():
                    _strings(value, out, newlines)
    if hasattr(elem, "text"):
        text = elem.text
    elif isinstance(elem, (pf.Space, pf.LineBreak, pf.SoftBreak)):
        text = " "
    elif isinstance(elem, pf.Para) and newlines:
        text = "\n\n"
    elif type(elem) is pf.DefinitionList:
        text = "\n".join(
            f"- {''.join(stringify(part) for part in item.term)}: "
            f"{'; '.join(stringify(d) for d in item.definitions)}"
            for item in elem.content
        )
    elif type(elem) is pf.Cite:
        text = stringify(elem.content)
    else:
        text = ""
    if type(elem.parent) is pf.Quoted:
        if elem.index == 0:
            text = '"' + text
        if elem.index == len(elem.container) - 1:
            text += '"'
    out.append(text)


#: Where bookbuild keeps the document's census while its filters run (:func:`may_hold`).
CENSUS = "bookbuild_census"


def census(doc: pf.Doc) -> set[str]:
    """What the document holds, as tokens: the name of every element type (``Math``,
    ``Note``), ``.CLASS`` for every class, ``raw:FORMAT`` for raw content other than
    bookbuild's chapter and source markers, and ``text:{{`` when a Str or Code holds ``{{``.
    One pass over the metadata and the body, changing nothing (no parents set)."""
    found: set[str] = set()
    stack: list[Any] = [doc]
    while stack:
        elem = stack.pop()
        kind = type(elem)
        found.add(kind.__name__)
        if kind is pf.Space or kind is pf.SoftBreak:
            continue
        if kind is pf.Str or kind is pf.Code:
            if "{{" in elem.text:
                found.add("text:{{")
            if kind is pf.Str:
                continue
        elif kind is pf.RawBlock or kind is pf.RawInline:
            text = elem.text
            if not (
                (elem.format == "html" and text.startswith("<!-- bookbuild:"))
                or (elem.format == "latex" and text.startswith(SRC_MARK))
            ):
                found.add(f"raw:{elem.format}")
        classes = getattr(elem, "classes", None)
        if classes:
            found.update("." + name for name in classes)
        for name in kind._children:
            child = getattr(elem, name)
            if isinstance(child, pf.ListContainer):
                stack.extend(child.list)
            elif isinstance(child, pf.DictContainer):
                stack.extend(child.dict.values())
            elif child is not None:
                stack.append(child)
    return found


def may_hold(doc: pf.Doc, tokens: frozenset[str]) -> bool:
    """Whether the document may hold any of ``tokens`` (see :func:`census`). Always true
    unless bookbuild asked for skipping (it sets ``doc.bookbuild_census``, empty at first);
    a census taken earlier is trusted when it says yes (the walk is then at worst unneeded)
    and taken again before it may say no, since the filters that ran since may have added
    what it did not see."""
    known = getattr(doc, CENSUS, None)
    if known is None:
        return True
    if known & tokens:
        return True
    fresh = census(doc)
    setattr(doc, CENSUS, fresh)
    return bool(fresh & tokens)


def latex_label(ident: str) -> str:
    """The label pandoc's LaTeX writer makes of an identifier (its ``toLabel``): ASCII letters,
    digits and ``_-+=:;.`` kept, anything else as ``ux`` and its hex code point."""
    safe = set("_-+=:;.")
    return "".join(
        c if (c.isascii() and c.isalnum()) or c in safe else f"ux{ord(c):x}" for c in ident
    )
