#!/usr/bin/env python3
"""bookdown's Markdown dialect -> what bookbuild's other filters and pandoc's writers read.

- ``\\@ref(label)`` prints the number of what ``label`` names, as bookdown does (no "Figure"
  in front: the author writes it): figures ``fig:x`` (``(\\#fig:x)`` in a caption, or a
  code cell ``x`` with ``fig.cap``), tables ``tab:x`` (``Table: (\\#tab:x) …`` or a cell
  calling ``kable(caption = …)``), equations ``eq:x`` (``(\\#eq:x)`` inside the math),
  theorem-like blocks ``thm:x``, ``lem:x`` …, exercises ``exr:x``, and chapters and
  sections by their id (written ``{#intro}`` or generated). Figures, tables and single
  equations go to the crossref filter (``fig:x``, ``tbl:x``, ``eq:x``), which must run
  after this one; the rest are LaTeX ``\\ref``s.
- ``# (PART) Title {-}`` -> a part (``{.part}``, which the parts filter typesets;
  ``(PART\\*)`` an unnumbered one); ``# (APPENDIX) Title {-}`` -> the appendices start
  (``\\appendix``: chapters lettered A, B …).
- Text references: a paragraph ``(ref:label) text`` defines ``(ref:label)``, used in captions.
- Theorem-like blocks ``::: {.theorem #pyth name="Pythagoras"}`` and the knitr form
  ```` ```{theorem, pyth, name="Pythagoras"} ```` -> numbered environments ("Theorem 2.1
  (Pythagoras)"); ``proof`` and ``remark`` unnumbered. ``exercise``/``solution`` blocks
  become ``.exercise``/``.solution`` Divs for the exercises filter.
- Custom blocks ```` ```{block2, type="rmdnote"} ```` and ``::: rmdtip`` (rmdnote, rmdtip,
  rmdwarning, rmdimportant, rmdcaution) become the callouts filter's ``::: note`` …; other
  ``type``s a Div of that class; ```` ```{asis} ```` its Markdown.
- The reference list: in a PDF bookdown always prints it as a chapter of its own at the end;
  a book that cites and whose last chapter is not an empty heading waiting for it (bookdown's
  template writes `` `r if (knitr::is_html_output()) '# References {-}'` ``, nothing in a
  PDF) gets an unnumbered "References" chapter there.
- ``\\frontmatter``, ``\\mainmatter`` and ``\\backmatter`` (LaTeX's book class, which bookdown
  books often write in raw LaTeX) are kept, and defined as doing nothing when the class has
  no such commands (bookbuild's report class), rather than failing the build.
- Code cells (```` ```{r label, echo=FALSE, fig.cap="…"} ````): shown, not run; their
  figures are captioned placeholders (see ``_dialects.py``). Inline `` `r expr` `` shows the
  expression as code; `` `r if (knitr::is_html_output()) '…'` `` is left out of a PDF, as
  knitr leaves it.
"""

import re
from typing import Any

import panflute as pf
from _dialects import (
    THEOREMS,
    CellRenderer,
    Place,
    Theorems,
    book_dir,
    clone,
    convert_cells,
    finish,
    heading_numbers,
    heading_reference,
    inline_cell,
    is_latex,
    read_snippets,
    walk_located,
    warn_at,
)
from _filterlib import add_header_include, latex_label, run_filter, walk

STDERR_PREFIX = "bookdown: "
REF = re.compile(r"@ref\(([^()\s]+)\)")
TEXT_REF = re.compile(r"\(ref:([^()\s]+)\)")
CAPTION_LABEL = re.compile(r"^\(#((?:fig|tab):[^()\s]+)\)$")
EQ_LABEL = re.compile(r"\(\\#(eq:[^()\s]+)\)")
#: The book class's matter commands, which the report class lacks.
BOOK_MATTER = re.compile(r"\\(?:front|main|back)matter\b")
SINGLE_EQUATION = re.compile(r"^\s*\\begin\{equation\}(.*)\\end\{equation\}\s*$", re.S)
#: bookdown's label prefix of each theorem-like kind.
PREFIXES = {kind: prefix for kind, (prefix, _, _) in THEOREMS.items()}
PREFIXES.update({"exercise": "exr", "solution": "sol", "hypothesis": "hyp"})
KIND_OF_PREFIX = {prefix: kind for kind, prefix in PREFIXES.items()}
BLOCK_KINDS = set(PREFIXES)
#: knitr engines whose content is Markdown: ```{block2, type="rmdnote"}``, ```{asis}``.
MARKDOWN_ENGINES = {"block", "block2", "asis"}
#: bookdown books' custom block classes that are callouts (the callouts filter boxes them).
BLOCK_TYPES = {"rmdnote": "note", "rmdtip": "tip", "rmdwarning": "warning",
               "rmdimportant": "important", "rmdcaution": "caution"}  # fmt: skip


class State:
    """Everything the filter knows during one run; lives on ``doc.bookdown``."""

    def __init__(self, doc: pf.Doc):
        self.place = Place(root=book_dir(doc).parent)
        self.latex = is_latex(doc)
        self.cells = CellRenderer(doc, "bookdown", STDERR_PREFIX)
        self.theorems = Theorems(self.latex)
        self.text_refs: dict[str, list[pf.Inline]] = {}
        self.headers: dict[str, pf.Header] = {}
        self.numbers: dict[str, str] = {}
        self.crossref_labels: set[str] = set()  # fig:/tbl:/eq: labels crossref numbers
        self.raw_labels: set[str] = set()  # eq: labels inside raw LaTeX (align …)
        self.exercises: set[str] = set()
        self.book_matter = False  # \frontmatter … written in raw LaTeX
        self.cites = False  # the book cites (a reference list will follow)


# ---------------------------------------------------------------------------- first pass


def _block_chunks(doc: pf.Doc, state: State) -> None:
    """```` ```{theorem, pyth, name="…"} ```` (Markdown inside) -> ``::: {.theorem #pyth}``."""
    from _dialects import CELL, parse_chunk_header

    found: list[tuple[pf.CodeBlock, str, dict[str, Any]]] = []

    def visit(elem: pf.Element) -> None:
        if isinstance(elem, pf.CodeBlock) and CELL in elem.attributes and elem.classes:
            kind = elem.classes[0]
            if kind in BLOCK_KINDS or kind in MARKDOWN_ENGINES:
                found.append((elem, kind, parse_chunk_header(elem.attributes[CELL])))

    walk_located(doc, state.place, visit)
    if not found:
        return
    bodies = read_snippets([elem.text for elem, _, _ in found])
    swap: dict[int, Any] = {}
    for (elem, kind, options), body in zip(found, bodies, strict=True):
        if kind in MARKDOWN_ENGINES:  # block/block2 (type = a class), asis: Markdown as is
            hidden = options.get("echo") is False or options.get("include") is False
            classes = [BLOCK_TYPES.get(str(options.get("type")), str(options.get("type")))]
            swap[id(elem)] = (
                [] if hidden else (pf.Div(*body, classes=classes) if options.get("type") else body)
            )
            continue
        attributes = {"name": str(options["name"])} if options.get("name") else {}
        swap[id(elem)] = pf.Div(*body, identifier=str(options.get("label") or ""),
                                classes=[kind], attributes=attributes)  # fmt: skip

    walk(doc, lambda e, d: swap.get(id(e)) if isinstance(e, pf.CodeBlock) else None)


def _theorem_kind(div: pf.Div) -> str | None:
    kind = next((c for c in div.classes if c in THEOREMS), None)
    return kind


def _collect(doc: pf.Doc, state: State) -> None:
    """Text references (removed), headings, exercise ids and theorem numbers."""

    def visit(elem: pf.Element, _doc: pf.Doc) -> Any:
        if isinstance(elem, pf.Header) and elem.identifier:
            state.headers.setdefault(elem.identifier, elem)
        elif isinstance(elem, pf.Div) and elem.identifier:
            kind = next((c for c in elem.classes if c in PREFIXES), None)
            if kind in ("exercise", "solution"):
                state.exercises.add(f"{PREFIXES[kind]}:{elem.identifier}")
        elif isinstance(elem, pf.Para) and elem.content:
            first = elem.content[0]
            found = TEXT_REF.fullmatch(first.text) if isinstance(first, pf.Str) else None
            if found:
                rest = list(elem.content)[1:]
                while rest and isinstance(rest[0], pf.Space | pf.SoftBreak):
                    rest.pop(0)
                state.text_refs[found.group(1)] = rest
                return []
        return None

    walk(doc, visit)
    state.theorems.collect(doc, _theorem_kind)
    for ident, kind in list(state.theorems.kinds.items()):  # bookdown refers to thm:pyth
        del state.theorems.kinds[ident]
        state.theorems.kinds[f"{PREFIXES[kind]}:{ident}"] = kind
        state.theorems.numbers[f"{PREFIXES[kind]}:{ident}"] = state.theorems.numbers.pop(ident)


def prepare(doc: pf.Doc) -> None:
    doc.bookdown = state = State(doc)
    _block_chunks(doc, state)
    convert_cells(doc, state.place, state.cells)
    _collect(doc, state)
    if not state.latex:
        state.numbers = heading_numbers(doc)

    def labels(elem: pf.Element, _doc: pf.Doc) -> None:  # what crossref will number
        if isinstance(elem, pf.Cite):
            state.cites = True
        ident = getattr(elem, "identifier", "")
        if ident.startswith(("fig:", "tbl:")):
            state.crossref_labels.add(ident)
        if isinstance(elem, pf.Str) and elem.text.startswith("(#"):
            found = CAPTION_LABEL.match(elem.text)
            if found:
                state.crossref_labels.add(found.group(1).replace("tab:", "tbl:", 1))
        if isinstance(elem, pf.Math | pf.RawInline | pf.RawBlock):
            found_all = EQ_LABEL.findall(elem.text)
            single = len(found_all) == 1 and (
                isinstance(elem, pf.Math) or SINGLE_EQUATION.match(elem.text)
            )
            (state.crossref_labels if single else state.raw_labels).update(found_all)

    walk(doc, labels)


# ---------------------------------------------------------------------------- references


def _reference(label: str, doc: pf.Doc, state: State) -> list[pf.Inline]:
    """What ``\\@ref(label)`` prints: the number (a link), or the title of an unnumbered
    heading."""
    prefix, _, _name = label.partition(":")
    crossref_id = label.replace("tab:", "tbl:", 1) if prefix == "tab" else label
    if crossref_id in state.crossref_labels:
        return [pf.Cite(pf.Str(f"\\@ref({label})"),
                        citations=[pf.Citation(crossref_id, mode="SuppressAuthor")])]  # fmt: skip
    if label in state.raw_labels or label in state.exercises:
        if state.latex:
            return [pf.RawInline(f"\\ref{{{latex_label(label)}}}", format="latex")]
        return [pf.Link(pf.Str(label), url=f"#{label}")]
    if label in state.theorems.kinds:
        return state.theorems.reference(label, with_title=False)
    if label in state.headers:
        return heading_reference(doc, state.headers[label], state.numbers.get(label, ""), "")
    warn_at(doc, state.place, f"\\@ref({label}): no such label", STDERR_PREFIX, f"@ref({label})")
    return [pf.Strong(pf.Str("??"))]


def _str(elem: pf.Str, doc: pf.Doc, state: State) -> Any:
    text = elem.text
    if "@ref(" not in text and "(ref:" not in text:
        return None
    out: list[pf.Inline] = []
    position = 0
    pattern = re.compile(f"{REF.pattern}|{TEXT_REF.pattern}")
    for found in pattern.finditer(text):
        if found.start() > position:
            out.append(pf.Str(text[position : found.start()]))
        if found.group(1):
            out.extend(_reference(found.group(1), doc, state))
        elif found.group(2) in state.text_refs:
            out.extend(clone(x) for x in state.text_refs[found.group(2)])
        else:
            warn_at(doc, state.place, f"(ref:{found.group(2)}) is not defined", STDERR_PREFIX,
                    found.group(0))  # fmt: skip
            out.append(pf.Str(found.group(0)))
        position = found.end()
    if position < len(text):
        out.append(pf.Str(text[position:]))
    return out


# ---------------------------------------------------------------------------- blocks


def _strip_caption_label(inlines: list[pf.Inline]) -> tuple[list[pf.Inline], str]:
    label = ""
    out: list[pf.Inline] = []
    for elem in inlines:
        found = CAPTION_LABEL.match(elem.text) if isinstance(elem, pf.Str) else None
        if found and not label:
            label = found.group(1)
            continue
        out.append(elem)
    while out and isinstance(out[0], pf.Space):
        out.pop(0)
    while out and isinstance(out[-1], pf.Space):
        out.pop()
    return out, label


def _captioned(elem: pf.Figure | pf.Table) -> None:
    """``(\\#fig:x)`` / ``(\\#tab:x)`` in a caption -> the figure's or table's id."""
    blocks = list(elem.caption.content)
    if not blocks or not isinstance(blocks[0], pf.Plain | pf.Para):
        return
    inlines, label = _strip_caption_label(list(blocks[0].content))
    if not label:
        return
    blocks[0].content = inlines
    elem.identifier = label.replace("tab:", "tbl:", 1)
    if isinstance(elem, pf.Figure):
        for block in elem.content:
            for image in getattr(block, "content", []):
                if isinstance(image, pf.Image):
                    image.content = _strip_caption_label(list(image.content))[0]


def _math(elem: pf.Math, state: State) -> Any:
    labels = EQ_LABEL.findall(elem.text)
    if not labels or elem.format != "DisplayMath":
        return None
    if len(labels) == 1:
        return pf.Span(pf.Math(EQ_LABEL.sub("", elem.text).strip(), format="DisplayMath"),
                       identifier=labels[0])  # fmt: skip
    elem.text = EQ_LABEL.sub(lambda m: f"\\label{{{m.group(1)}}}", elem.text)
    return None


def _raw(elem: pf.RawInline | pf.RawBlock, state: State) -> Any:
    if elem.format in ("tex", "latex") and BOOK_MATTER.search(elem.text):
        state.book_matter = True
    if elem.format not in ("tex", "latex") or "(\\#eq:" not in elem.text:
        return None
    labels = EQ_LABEL.findall(elem.text)
    single = SINGLE_EQUATION.match(elem.text)
    if len(labels) == 1 and single:
        math = pf.Math(EQ_LABEL.sub("", single.group(1)).strip(), format="DisplayMath")
        span = pf.Span(math, identifier=labels[0])
        return span if isinstance(elem, pf.RawInline) else pf.Para(span)
    elem.text = EQ_LABEL.sub(lambda m: f"\\label{{{m.group(1)}}}", elem.text)
    return None


def _header(elem: pf.Header, state: State) -> Any:
    if elem.level != 1 or not elem.content or not isinstance(elem.content[0], pf.Str):
        return None
    marker = elem.content[0].text
    if marker not in ("(PART)", "(PART*)", "(APPENDIX)"):
        return None
    title = list(elem.content)[1:]
    while title and isinstance(title[0], pf.Space):
        title.pop(0)
    if marker == "(APPENDIX)":
        if state.latex:
            return pf.RawBlock("\\appendix", format="latex")
        return pf.Header(*title, level=1, identifier=elem.identifier, classes=["unnumbered"])
    classes = ["part"] + (["unnumbered"] if marker == "(PART*)" else [])
    return pf.Header(*title, level=1, identifier=elem.identifier, classes=classes)


def _div(elem: pf.Div, doc: pf.Doc, state: State) -> Any:
    kind = next((c for c in elem.classes if c in PREFIXES), None)
    callout = next((BLOCK_TYPES[c] for c in elem.classes if c in BLOCK_TYPES), None)
    if kind is None and callout:  # ::: rmdnote -> ::: note
        elem.classes = [callout, *[c for c in elem.classes if c != callout]]
        return None
    if kind is None:
        return None
    ident = f"{PREFIXES[kind]}:{elem.identifier}" if elem.identifier else ""
    name = elem.attributes.get("name", "")
    if kind in ("exercise", "solution"):
        attributes = {k: v for k, v in elem.attributes.items() if k != "name"}
        if name:
            attributes["title"] = name
        classes = [kind, *[c for c in elem.classes if c != kind]]
        return pf.Div(*elem.content, identifier=ident, classes=classes, attributes=attributes)
    if kind not in THEOREMS:
        return None
    words = [pf.Str(w) for w in name.split()]
    spaced: list[pf.Inline] = []
    for n, word in enumerate(words):
        if n:
            spaced.append(pf.Space())
        spaced.append(word)
    return state.theorems.render(kind, ident, spaced, list(elem.content))


# ---------------------------------------------------------------------------- filter


def action(elem: pf.Element, doc: pf.Doc) -> Any:
    state: State = doc.bookdown
    if state.place.track(elem):
        return None
    if isinstance(elem, pf.Str):
        return _str(elem, doc, state)
    if isinstance(elem, pf.Math):
        return _math(elem, state)
    if isinstance(elem, pf.RawInline | pf.RawBlock):
        return _raw(elem, state)
    if isinstance(elem, pf.Code):
        return inline_cell(elem, state.latex)
    if isinstance(elem, pf.Figure | pf.Table):
        _captioned(elem)
        return None
    if isinstance(elem, pf.Header):
        return _header(elem, state)
    if isinstance(elem, pf.Div):
        return _div(elem, doc, state)
    return None


def _wants_references_chapter(doc: pf.Doc) -> bool:
    """A bibliography, no ``::: {#refs}`` of the author's, and a last block that is not an
    (empty) heading for the list that citeproc puts at the end."""
    if not (doc.get_metadata("bibliography") or doc.get_metadata("references")):
        return False
    found = []
    doc.walk(lambda e, d: found.append(e) if getattr(e, "identifier", "") == "refs" else None)
    if found:
        return False
    last = next((b for b in reversed(doc.content) if not isinstance(b, pf.RawBlock)), None)
    return not isinstance(last, pf.Header)


def finalize(doc: pf.Doc) -> None:
    state: State = doc.bookdown
    del doc.bookdown
    if state.latex and state.cites and _wants_references_chapter(doc):
        doc.content.append(pf.Header(pf.Str("References"), level=1, identifier="references",
                                     classes=["unnumbered"]))  # fmt: skip
    if state.book_matter and state.latex:
        add_header_include(
            doc,
            "\\providecommand{\\frontmatter}{}\\providecommand{\\mainmatter}{}"
            "\\providecommand{\\backmatter}{}",
        )
    finish(doc, state.theorems, state.cells, STDERR_PREFIX)


def main(doc: pf.Doc | None = None) -> pf.Doc:
    return run_filter(action, prepare, finalize, doc)


if __name__ == "__main__":
    main()
