#!/usr/bin/env python3
"""Callouts: ``::: note`` (tip, warning, important, caution) and GitHub alerts -> titled boxes.

Input, any of::

    ::: {.warning title="Mind the units"}      > [!TIP]
    Body text.                                 > Body text.
    :::

A callout's title is its ``title`` attribute, else a first ``Div.callout-title`` (the quarto
filter puts a Quarto callout's heading there; the ``title`` Div pandoc's GFM reader gives an
alert is dropped), else the kind's name ("Warning"; metadata
``callout-warning-title`` or Quarto's ``language: callout-warning-title`` renames it). A
custom title keeps the kind in front ("Warning: Mind the units") unless it already starts with
it, so the kind reads without colour.

LaTeX: one tcolorbox environment for all callouts (``breakable``: a long callout continues on
the next page), black and grey only, the kind shown by its title and by a heavier frame for
warning, caution and important. Other outputs: a Div with classes ``callout callout-<kind>``
holding a ``callout-title`` Div and the body.

Switch: metadata ``callouts`` (default true).
"""

import re
from typing import Any

import panflute as pf
from _filterlib import add_header_include, run_filter, switch_value, text_inlines, warn

SWITCH = "callouts"
#: A callout depends only on its own chapter.
INCREMENTAL = True
KINDS = ("note", "tip", "warning", "important", "caution")
STRONG = ("warning", "caution", "important")
ALERT = re.compile(r"^\[!(?P<kind>[A-Za-z]+)\](?P<rest>.*)$")
LATEX_FORMATS = ("latex", "beamer")
STDERR_PREFIX = "callouts: "

PREAMBLE = r"""% bookbuild callouts: titled, grey-scale boxes that break across pages
\usepackage{tcolorbox}
\tcbuselibrary{breakable}
\tcbset{
  bookbuild callout/.style={breakable, arc=0pt, outer arc=0pt, boxrule=0.4pt, leftrule=2.5pt,
    colframe=black!55, colback=black!3, colbacktitle=black!10, coltitle=black,
    fonttitle=\bfseries, left=6pt, right=6pt, top=4pt, bottom=4pt, toptitle=2pt,
    bottomtitle=2pt, before skip=1.5ex plus 2pt, after skip=1.5ex plus 2pt},
  bookbuild callout strong/.style={bookbuild callout, boxrule=0.8pt, leftrule=4pt,
    colframe=black!90, colbacktitle=black!18},
}
\newenvironment{bookbuildcallout}[2]{%
  \begin{tcolorbox}[bookbuild callout#1, title={#2}]}{\end{tcolorbox}}"""


class CalloutError(ValueError):
    """The ``callouts`` switch is not true or false."""


def prepare(doc: pf.Doc) -> None:
    doc.callouts = {"on": switch_value(doc, SWITCH, CalloutError), "used": False, "where": ""}


def _kind_title(doc: pf.Doc, kind: str) -> str:
    value = doc.get_metadata(f"callout-{kind}-title", None)
    if value is None:
        language = doc.get_metadata("language", {})
        value = language.get(f"callout-{kind}-title") if isinstance(language, dict) else None
    return str(value) if value else kind.capitalize()


def _title(doc: pf.Doc, kind: str, custom: list[pf.Inline]) -> list[pf.Inline]:
    name = _kind_title(doc, kind)
    if not custom:
        return [pf.Str(name)]
    if pf.stringify(pf.Plain(*custom)).strip().lower().startswith(name.lower()):
        return custom
    return [pf.Str(f"{name}:"), pf.Space(), *custom]


def callout(doc: pf.Doc, kind: str, custom: list[pf.Inline], body: list[pf.Block],
            ident: str = "", classes: list[str] | None = None) -> list[pf.Block]:  # fmt: skip
    """The box for a callout of ``kind`` with the ``custom`` title (may be empty)."""
    title = _title(doc, kind, custom)
    if doc.format in LATEX_FORMATS:
        doc.callouts["used"] = True
        style = " strong" if kind in STRONG else ""
        begin: list[pf.Inline] = [
            pf.RawInline(f"\\begin{{bookbuildcallout}}{{{style}}}{{", format="latex"),
            *title,
            pf.RawInline("}", format="latex"),
        ]
        if ident:
            begin.append(pf.RawInline(f"\\phantomsection\\label{{{ident}}}", format="latex"))
        return [pf.Plain(*begin), *body, pf.RawBlock("\\end{bookbuildcallout}", format="latex")]
    head = pf.Div(pf.Plain(*title), classes=["callout-title"])
    extra = [c for c in (classes or []) if c not in KINDS and c != "callout"]
    return [pf.Div(head, *body, identifier=ident, classes=["callout", f"callout-{kind}", *extra])]


def _from_div(elem: pf.Div, doc: pf.Doc) -> list[pf.Block] | None:
    kind = next((c for c in elem.classes if c in KINDS), None)
    if kind is None:
        return None
    body = list(elem.content)
    custom: list[pf.Inline] = []
    if body and isinstance(body[0], pf.Div) and body[0].classes == ["title"]:
        body.pop(0)  # pandoc's own title of a GitHub alert read as GFM: the kind's name
    elif body and isinstance(body[0], pf.Div) and "callout-title" in body[0].classes:
        first = body.pop(0)
        custom = [x for b in first.content if isinstance(b, pf.Plain | pf.Para) for x in b.content]
    elif elem.attributes.get("title", "").strip():
        custom = text_inlines(elem.attributes["title"])
    return callout(doc, kind, custom, body, elem.identifier, list(elem.classes))


def _from_alert(elem: pf.BlockQuote, doc: pf.Doc) -> list[pf.Block] | None:
    blocks = list(elem.content)
    if not blocks or not isinstance(blocks[0], pf.Para) or not blocks[0].content:
        return None
    first = blocks[0].content[0]
    found = ALERT.match(first.text) if isinstance(first, pf.Str) else None
    if not found:
        return None
    kind = found["kind"].lower()
    if kind not in KINDS:
        where = doc.callouts["where"]
        message = f"alert [!{found['kind']}] is not one of {', '.join(k.upper() for k in KINDS)}"
        warn(doc, f"{where}: {message}" if where else message, STDERR_PREFIX)
        return None
    inlines = list(blocks[0].content)[1:]
    if found["rest"]:
        inlines.insert(0, pf.Str(found["rest"]))
    title: list[pf.Inline] = []
    while inlines and not isinstance(inlines[0], pf.SoftBreak | pf.LineBreak):
        title.append(inlines.pop(0))
    while title and isinstance(title[0], pf.Space):
        title.pop(0)
    if inlines:
        inlines.pop(0)  # the line break after the marker line
    body = ([pf.Para(*inlines)] if inlines else []) + blocks[1:]
    return callout(doc, kind, title, body)


#: The elements :func:`action` does anything with (it is called on these alone).
ACTS_ON = (pf.RawBlock, pf.Div, pf.BlockQuote)
#: Skip rule (``_filterlib.census`` tokens): the action changes nothing in a document without a Div
#: of a callout kind or a block quote (an alert).
NEEDS = frozenset({"BlockQuote", *(f".{kind}" for kind in KINDS)})


def action(elem: pf.Element, doc: pf.Doc) -> Any:
    state = doc.callouts
    if not state["on"]:
        return None
    if isinstance(elem, pf.RawBlock) and elem.format in ("html", "latex"):
        marker = re.match(r"^(?:<!--\s*bookbuild:chapter\s+(\S+)\s*-->|% bookbuild:src (\S+))",
                          elem.text.strip())  # fmt: skip
        if marker:
            state["where"] = marker.group(1) or marker.group(2)
        return None
    if isinstance(elem, pf.Div):
        return _from_div(elem, doc)
    if isinstance(elem, pf.BlockQuote):
        return _from_alert(elem, doc)
    return None


def finalize(doc: pf.Doc) -> None:
    state = doc.callouts
    del doc.callouts
    if state["used"]:
        add_header_include(doc, PREAMBLE)


def main(doc: pf.Doc | None = None) -> pf.Doc:
    return run_filter(action, prepare, finalize, doc, ACTS_ON, NEEDS)


if __name__ == "__main__":
    main()
