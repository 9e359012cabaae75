#!/usr/bin/env python3
"""Raw HTML pasted into Markdown -> pandoc elements, so nothing of it is lost in print.

pandoc's LaTeX writer drops raw HTML: every ``<img>`` wrapped in ``<center>``, every HTML
``<table>``. This filter reassembles the HTML pieces pandoc leaves (a raw block, or raw
inline open and close tags around Markdown), parses them with Python's ``html.parser`` and
builds the pandoc elements they mean:

- ``<img src alt width height>`` -> Image (centred inside ``<center>``, ``<p align=center>``,
  ``<div align=center>``); ``<figure>``/``<figcaption>`` -> Figure with its caption;
- ``<br>`` -> line break; ``<sup>``/``<sub>``; ``<b>``/``<strong>``; ``<i>``/``<em>``;
  ``<code>``/``<kbd>``/``<tt>`` -> Code; ``<a href>`` -> Link; ``<a name|id>`` -> an anchor;
- ``<details>``/``<summary>`` -> Div ``details`` opening with the summary in bold;
- ``<div class="warning|note|tip|info|danger|…">`` -> Div with the callout class
  (``note``, ``tip``, ``warning``, ``important``, ``caution``) that the callouts filter draws;
- ``<table>`` (``thead``/``tbody``/``tfoot``/``tr``/``th``/``td``, ``colspan``) -> Table;
- ``<p>``, ``<h1>``…``<h6>``, ``<ul>``/``<ol>``/``<li>``, ``<pre>``, ``<blockquote>``, ``<hr>``,
  ``<span>``, ``<div>``, ``<center>`` -> their pandoc equivalents.

Comments vanish silently. Any other tag is a warning naming the chapter file, line and tag
(its text is kept). Runs before the filters that read the elements it makes (parts,
footnotes, callouts, crossref).

Switch: metadata ``html``: true (default) or false (raw HTML left to pandoc).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field

# Run as ``pandoc --filter filters/html.py``, this file's folder comes first on sys.path and
# this module would shadow the standard library's ``html`` package: look there last.
if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    sys.path.append(sys.path.pop(0))
from html.parser import HTMLParser  # noqa: E402

import panflute as pf  # noqa: E402
from _filterlib import (  # noqa: E402
    chapter_label,
    column_widths,
    may_hold,
    source_place,
    switch_value,
    walk,
    warn,
)

SWITCH = "html"
#: Each chapter's HTML is converted on its own.
INCREMENTAL = True

VOID = {"img", "br", "hr", "wbr", "input", "meta", "link", "source", "col", "area", "embed"}
#: ``<div class=X>`` -> callout kind.
CALLOUTS = {
    "note": "note",
    "info": "note",
    "information": "note",
    "tip": "tip",
    "hint": "tip",
    "success": "tip",
    "warning": "warning",
    "warn": "warning",
    "important": "important",
    "caution": "caution",
    "danger": "caution",
    "error": "caution",
    "alert": "warning",
}
INLINE_STYLES = {
    "b": pf.Strong,
    "strong": pf.Strong,
    "i": pf.Emph,
    "em": pf.Emph,
    "cite": pf.Emph,
    "dfn": pf.Emph,
    "var": pf.Emph,
    "sup": pf.Superscript,
    "sub": pf.Subscript,
    "s": pf.Strikeout,
    "del": pf.Strikeout,
    "strike": pf.Strikeout,
    "u": pf.Underline,
    "ins": pf.Underline,
    "small": pf.SmallCaps,
}
CODE_TAGS = {"code", "kbd", "tt", "samp"}
#: Tags whose content is kept with no markup of their own and no warning.
TRANSPARENT = {
    "span",
    "font",
    "abbr",
    "mark",
    "div",
    "center",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "nav",
    "aside",
    "p",
    "tbody",
    "thead",
    "tfoot",
    "html",
    "body",
    "figure",
    "picture",
    "label",
    "big",
    "q",
    "time",
    "address",
}
#: Tags dropped with their content, with a warning (nothing printable in them).
DROPPED = {
    "script",
    "style",
    "iframe",
    "video",
    "audio",
    "object",
    "embed",
    "canvas",
    "svg",
    "form",
    "input",
    "button",
    "select",
    "textarea",
    "noscript",
    "map",
    "area",
    "source",
    "track",
    "meta",
    "link",
    "head",
    "title",
}
BLOCK_TAGS = {
    "p",
    "div",
    "center",
    "details",
    "summary",
    "figure",
    "figcaption",
    "table",
    "ul",
    "ol",
    "li",
    "pre",
    "blockquote",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "dl",
    "dt",
    "dd",
    "section",
    "article",
    "aside",
    "header",
    "footer",
    "nav",
}


class HtmlSwitchError(ValueError):
    """The switch has a value other than true or false."""


# -- a small tree of HTML elements, text and pandoc elements ------------------------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str | pf.Element] = field(default_factory=list)
    line: int = 0  # offset in lines from the start of the piece it was read from


class _Parser(HTMLParser):
    """Turns HTML text into tokens: ("start", tag, attrs), ("end", tag), ("text", str)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0] - 1
        self.tokens.append(("start", tag, {k: v or "" for k, v in attrs}, line))
        if tag in VOID:
            self.tokens.append(("end", tag))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0] - 1
        self.tokens.append(("start", tag, {k: v or "" for k, v in attrs}, line))
        self.tokens.append(("end", tag))

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID:
            self.tokens.append(("end", tag))

    def handle_data(self, data: str) -> None:
        self.tokens.append(("text", data))

    def handle_comment(self, data: str) -> None:
        pass  # comments vanish silently


def html_tokens(text: str) -> list[tuple]:
    parser = _Parser()
    parser.feed(text)
    parser.close()
    return parser.tokens


def build_tree(items: list[pf.Element], fmt: str) -> tuple[Node, bool]:
    """Raw HTML pieces among ``items`` parsed and nested with the elements between them.
    Also whether any HTML was found."""
    root = Node("#root")
    stack = [root]
    found = False
    for item in items:
        if isinstance(item, (pf.RawBlock, pf.RawInline)) and item.format == "html":
            found = True
            for token in html_tokens(item.text):
                if token[0] == "start":
                    node = Node(token[1], token[2], line=token[3])
                    node.children = []
                    node.anchor = item  # type: ignore[attr-defined]
                    stack[-1].children.append(node)
                    stack.append(node)
                elif token[0] == "end":
                    # close up to the matching open tag; a stray end tag is ignored
                    for depth in range(len(stack) - 1, 0, -1):
                        if stack[depth].tag == token[1]:
                            del stack[depth:]
                            break
                else:
                    stack[-1].children.append(token[1])
        else:
            stack[-1].children.append(item)
    return root, found


# -- converting the tree --------------------------------------------------------------------


def text_inlines(text: str) -> list[pf.Inline]:
    """Words and spaces (a space at either end kept; :func:`_tidy` trims the ends)."""
    out: list[pf.Inline] = []
    for word in re.split(r"(\s+)", text):
        if not word:
            continue
        if word.isspace():
            out.append(pf.Space())
        else:
            out.append(pf.Str(word))
    return out


def _tidy(inlines: list[pf.Inline]) -> list[pf.Inline]:
    """No spaces at the ends or doubled."""
    out: list[pf.Inline] = []
    for item in inlines:
        if isinstance(item, pf.Space) and (
            not out or isinstance(out[-1], (pf.Space, pf.LineBreak))
        ):
            continue
        out.append(item)
    while out and isinstance(out[-1], (pf.Space, pf.SoftBreak)):
        out.pop()
    return out


def _size(value: str) -> str | None:
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return f"{value}px"
    if re.fullmatch(r"\d+(\.\d+)?(px|%|cm|mm|in|pt|em)", value):
        return value
    return None


class Converter:
    """Turns a tree into pandoc inlines or blocks, warning about what it cannot convert."""

    def __init__(self, doc: pf.Doc, where: str, line: int | None):
        self.doc = doc
        self.where = where
        self.line = line
        #: The chapter and line of each raw HTML block, as its source marker said.
        self.places: dict[int, tuple[str, int | None]] = {}

    def warn(self, node: Node, message: str) -> None:
        where, base = self.places.get(id(getattr(node, "anchor", None)), (self.where, self.line))
        line = None if base is None else base + node.line
        place = f"{where}:{line}" if where and line else where
        warn(self.doc, f"{place}: {message}" if place else message)

    def image(self, node: Node) -> pf.Image:
        attrs = {}
        for key in ("width", "height"):
            size = _size(node.attrs.get(key, ""))
            if size:
                attrs[key] = size
        alt = node.attrs.get("alt", "")
        return pf.Image(
            *text_inlines(alt),
            url=node.attrs.get("src", ""),
            title=node.attrs.get("title", ""),
            attributes=attrs,
        )

    # inline context
    def inlines(self, children: list[Node | str | pf.Element]) -> list[pf.Inline]:
        out: list[pf.Inline] = []
        for child in children:
            if isinstance(child, str):
                out += text_inlines(child)
            elif isinstance(child, Node):
                out += self.inline_node(child)
            elif isinstance(child, pf.Inline):
                out.append(child)
            elif isinstance(child, (pf.Para, pf.Plain)):
                if out:
                    out.append(pf.Space())
                out += list(child.content)
            elif isinstance(child, pf.Block):
                out += [pf.Space(), *text_inlines(pf.stringify(child))]
        return _tidy(out)

    def inline_node(self, node: Node) -> list[pf.Inline]:
        tag = node.tag
        if tag == "img":
            return [self.image(node)] if node.attrs.get("src") else []
        if tag == "br":
            return [pf.LineBreak()]
        if (
            (tag in INLINE_STYLES or tag == "span")
            and node.attrs.get("class")
            and not node.children
            and not node.attrs.get("id")  # an anchor: kept as a Span below
        ):
            # an icon font's glyph (<i class="fa fa-eye"></i>): styled by CSS, no text to print
            self.warn(
                node, f'HTML <{tag} class="{node.attrs["class"]}"> is empty (an icon?); left out'
            )
            return []
        if tag in INLINE_STYLES:
            return [INLINE_STYLES[tag](*self.inlines(node.children))]
        if tag in CODE_TAGS:
            text = "".join(_text(c) for c in node.children)
            return [pf.Code(text, classes=["kbd"] if tag == "kbd" else [])]
        if tag == "a":
            content = self.inlines(node.children)
            href = node.attrs.get("href")
            anchor = node.attrs.get("id") or node.attrs.get("name") or ""
            if href:
                return [
                    pf.Link(
                        *content, url=href, title=node.attrs.get("title", ""), identifier=anchor
                    )
                ]
            return [pf.Span(*content, identifier=anchor)] if anchor else content
        if tag == "span" and node.attrs.get("id"):
            return [pf.Span(*self.inlines(node.children), identifier=node.attrs["id"])]
        if tag in DROPPED:
            self.warn(node, f"HTML <{tag}> cannot be printed; left out")
            return []
        if tag not in TRANSPARENT and tag not in BLOCK_TAGS:
            self.warn(node, f"HTML <{tag}> not converted; its text is kept")
        return self.inlines(node.children)

    # block context
    def blocks(self, children: list[Node | str | pf.Element]) -> list[pf.Block]:
        out: list[pf.Block] = []
        run: list[Node | str | pf.Element] = []

        def flush() -> None:
            inlines = self.inlines(run)
            if inlines:
                out.append(pf.Para(*inlines))
            run.clear()

        for child in children:
            if isinstance(child, pf.Block):
                flush()
                out.append(child)
            elif isinstance(child, Node) and (child.tag in BLOCK_TAGS or child.tag in DROPPED):
                flush()
                out += self.block_node(child)
            else:
                run.append(child)
        flush()
        return out

    def centred(self, blocks: list[pf.Block]) -> list[pf.Block]:
        if self.doc.format in ("latex", "beamer"):
            return [
                pf.RawBlock("\\begin{center}", "latex"),
                *blocks,
                pf.RawBlock("\\end{center}", "latex"),
            ]
        return [pf.Div(*blocks, classes=["center"])]

    def block_node(self, node: Node) -> list[pf.Block]:
        tag, attrs = node.tag, node.attrs
        classes = attrs.get("class", "").split()
        align = attrs.get("align", "").lower() or _style_align(attrs.get("style", ""))
        if tag in ("p", "div", "center", "section", "article", "aside", "header", "footer", "nav"):
            kinds = [CALLOUTS[c.lower()] for c in classes if c.lower() in CALLOUTS]
            content = self.blocks(node.children)
            if tag == "div" and kinds:
                return [pf.Div(*content, classes=[kinds[0]])]
            if tag == "center" or align == "center":
                return self.centred(content) if content else []
            if tag == "div" and attrs.get("id"):
                return [pf.Div(*content, identifier=attrs["id"])]
            return content
        if tag == "figure":
            return self.figure(node)
        if tag == "figcaption":
            return [pf.Para(pf.Emph(*self.inlines(node.children)))]
        if tag == "details":
            summary = [c for c in node.children if isinstance(c, Node) and c.tag == "summary"]
            rest = [c for c in node.children if not (isinstance(c, Node) and c.tag == "summary")]
            head = [pf.Para(pf.Strong(*self.inlines(summary[0].children)))] if summary else []
            return [pf.Div(*head, *self.blocks(rest), classes=["details"])]
        if tag == "summary":
            return [pf.Para(pf.Strong(*self.inlines(node.children)))]
        if tag == "table":
            return [self.table(node)]
        if tag in ("ul", "ol"):
            items = [
                pf.ListItem(*(self.blocks(c.children) or [pf.Plain()]))
                for c in node.children
                if isinstance(c, Node) and c.tag == "li"
            ]
            if not items:
                return []
            if tag == "ul":
                return [pf.BulletList(*items)]
            start = attrs.get("start", "1")
            return [pf.OrderedList(*items, start=int(start) if start.isdigit() else 1)]
        if tag == "li":
            return self.blocks(node.children)
        if tag == "pre":
            return [pf.CodeBlock("".join(_text(c) for c in node.children).strip("\n"))]
        if tag == "blockquote":
            return [pf.BlockQuote(*self.blocks(node.children))]
        if tag == "hr":
            return [pf.HorizontalRule()]
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            return [
                pf.Header(
                    *self.inlines(node.children), level=int(tag[1]), identifier=attrs.get("id", "")
                )
            ]
        if tag in ("dl",):
            terms: list[pf.DefinitionItem] = []
            for child in node.children:
                if isinstance(child, Node) and child.tag == "dt":
                    terms.append(pf.DefinitionItem(self.inlines(child.children), []))
                elif isinstance(child, Node) and child.tag == "dd" and terms:
                    terms[-1].definitions.append(pf.Definition(*self.blocks(child.children)))
            return [pf.DefinitionList(*terms)] if terms else []
        if tag in ("dt", "dd"):
            return self.blocks(node.children)
        if tag in DROPPED:
            self.warn(node, f"HTML <{tag}> cannot be printed; left out")
            return []
        inlines = self.inline_node(node)
        return [pf.Para(*inlines)] if inlines else []

    def figure(self, node: Node) -> list[pf.Block]:
        captions = [c for c in node.children if isinstance(c, Node) and c.tag == "figcaption"]
        rest = [c for c in node.children if not (isinstance(c, Node) and c.tag == "figcaption")]
        body = self.blocks(rest)
        images = [b for b in body if isinstance(b, (pf.Para, pf.Plain))]
        if not captions:
            return self.centred(body) if body else []
        caption = pf.Caption(pf.Plain(*self.inlines(captions[0].children)))
        return [
            pf.Figure(
                *[pf.Plain(*b.content) for b in images] or body,
                caption=caption,
                identifier=node.attrs.get("id", ""),
            )
        ]

    def table(self, node: Node) -> pf.Table:
        head_rows: list[pf.TableRow] = []
        body_rows: list[pf.TableRow] = []
        caption: list[pf.Inline] = []

        def rows(parent: Node, in_head: bool) -> None:
            for child in parent.children:
                if not isinstance(child, Node):
                    continue
                if child.tag == "tr":
                    cells = [
                        c for c in child.children if isinstance(c, Node) and c.tag in ("td", "th")
                    ]
                    row = pf.TableRow(
                        *[
                            pf.TableCell(
                                *(self.blocks(c.children) or [pf.Plain()]),
                                colspan=_int(c.attrs.get("colspan")),
                                rowspan=_int(c.attrs.get("rowspan")),
                            )
                            for c in cells
                        ]
                    )
                    header_row = in_head or (
                        not body_rows
                        and not head_rows
                        and cells
                        and all(c.tag == "th" for c in cells)
                    )
                    (head_rows if header_row else body_rows).append(row)
                elif child.tag == "thead":
                    rows(child, True)
                elif child.tag in ("tbody", "tfoot"):
                    rows(child, False)
                elif child.tag == "caption":
                    caption.extend(self.inlines(child.children))

        rows(node, False)
        width = max([sum(c.colspan for c in r.content) for r in head_rows + body_rows] or [1])
        for row in head_rows + body_rows:  # pad short rows
            missing = width - sum(c.colspan for c in row.content)
            row.content.extend(pf.TableCell(pf.Plain()) for _ in range(max(0, missing)))
        return pf.Table(
            pf.TableBody(*body_rows),
            head=pf.TableHead(*head_rows),
            caption=pf.Caption(pf.Plain(*caption)) if caption else pf.Caption(),
            colspec=column_widths(head_rows + body_rows, width),
        )


def _int(value: str | None) -> int:
    return int(value) if value and value.strip().isdigit() and int(value) > 0 else 1


def _style_align(style: str) -> str:
    match = re.search(r"text-align\s*:\s*(\w+)", style)
    return match.group(1).lower() if match else ""


def _text(child: Node | str | pf.Element) -> str:
    if isinstance(child, str):
        return child
    if isinstance(child, Node):
        return "".join(_text(c) for c in child.children)
    return pf.stringify(child)


# -- the filter -----------------------------------------------------------------------------


def _is_marker(block: pf.Element) -> bool:
    return isinstance(block, pf.RawBlock) and (
        (block.format == "html" and block.text.startswith("<!-- bookbuild:"))
        or source_place(block) is not None
    )


def _has_html(items: list[pf.Element]) -> bool:
    return any(
        isinstance(i, (pf.RawBlock, pf.RawInline)) and i.format == "html" and not _is_marker(i)
        for i in items
    )


def convert_blocks(blocks: list[pf.Block], conv: Converter) -> list[pf.Block] | None:
    """A list of blocks with its raw HTML blocks converted (None when there is none).
    Markers stay where they are, outside any HTML element."""
    if not _has_html(blocks):
        return None
    out: list[pf.Block] = []
    segment: list[pf.Block] = []

    def flush() -> None:
        if segment:
            tree, _ = build_tree(segment, conv.doc.format)
            out.extend(conv.blocks(tree.children))
            segment.clear()

    for block in blocks:
        if _is_marker(block):
            if block.format == "html":
                flush()
                out.append(block)
                continue
            conv.where, conv.line = source_place(block) or (conv.where, conv.line)
            if not segment:
                out.append(block)
                continue
        conv.places[id(block)] = (conv.where, conv.line)
        segment.append(block)
    flush()
    return out


def prepare(doc: pf.Doc) -> None:
    doc.html_on = switch_value(doc, SWITCH, HtmlSwitchError)


def action(elem: pf.Element, doc: pf.Doc) -> None:
    """Nothing per element: HTML spans several elements, see :func:`finalize`."""
    return None


#: Skip rule: nothing to convert without raw HTML other than bookbuild's markers
#: (``_filterlib.census`` tokens).
NEEDS = frozenset({"raw:html"})


def finalize(doc: pf.Doc) -> None:
    """The conversion itself: block by block in document order, tracking chapter and line."""
    if doc.html_on and may_hold(doc, NEEDS):
        conv = Converter(doc, "", None)
        out: list[pf.Block] = []
        nested = False
        for block in list(doc.content):
            if isinstance(block, pf.RawBlock) and block.format == "html":
                label = chapter_label(block)
                if label is not None:
                    conv.where, conv.line = label, None
            elif (place := source_place(block)) is not None:
                conv.where, conv.line = place
            else:
                base = conv.line
                holders, inner_blocks = _html_inside(block)
                nested = nested or inner_blocks
                for inner in holders:
                    _convert_inline_holder(inner, conv, base)
                conv.line = base
            out.append(block)
        doc.content = convert_blocks(out, conv) or out
        if nested:
            _nested_blocks(doc, conv)
    del doc.html_on


def _html_inside(block: pf.Element) -> tuple[list[pf.Element], bool]:
    """The elements under ``block`` whose inlines hold raw HTML, and whether a raw HTML
    block sits deeper than the top level (one walk)."""
    found: list[pf.Element] = []
    nested = [False]

    def visit(elem: pf.Element, _doc: pf.Doc | None) -> None:
        if isinstance(elem, pf.RawBlock) and elem is not block and elem.format == "html":
            nested[0] = True
        content = getattr(elem, "content", None)
        if (  # (the walk has just given the items their parent: read the plain list)
            isinstance(content, pf.ListContainer)
            and content.list
            and isinstance(content.list[0], pf.Inline)
            and _has_html(content.list)
        ):
            found.append(elem)

    walk(block, visit)
    return found, nested[0]


def _convert_inline_holder(elem: pf.Element, conv: Converter, base: int | None) -> None:
    items = list(elem.content)
    # the line of the first raw piece: the paragraph's line plus the breaks before it
    first = next(i for i, x in enumerate(items) if isinstance(x, pf.RawInline))
    breaks = sum(isinstance(x, (pf.SoftBreak, pf.LineBreak)) for x in items[:first])
    conv.line = None if base is None else base + breaks
    tree, _ = build_tree(items, conv.doc.format)
    elem.content = conv.inlines(tree.children)


def _nested_blocks(doc: pf.Doc, conv: Converter) -> None:
    """Raw HTML blocks inside block quotes, lists and divs."""

    def visit(elem: pf.Element, _doc: pf.Doc | None) -> None:
        if isinstance(elem, pf.Doc):
            return
        content = getattr(elem, "content", None)
        if (
            isinstance(content, pf.ListContainer)
            and len(content)
            and isinstance(content[0], pf.Block)
        ):
            new = convert_blocks(list(content), conv)
            if new is not None:
                elem.content = new

    walk(doc, visit, doc)


def main(doc: pf.Doc | None = None) -> pf.Doc:
    # No per-element walk: the work is in finalize (``action`` is kept for the contract).
    return pf.run_filters([], prepare=prepare, finalize=finalize, doc=doc)


if __name__ == "__main__":
    main()
