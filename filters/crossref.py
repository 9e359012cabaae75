#!/usr/bin/env python3
"""Cross-references: pandoc-crossref's labels and ``@fig:x`` references -> numbers.

Turns the labels ``# Heading {#sec:x}``, ``![Caption](img.png){#fig:x}``, a table caption
``: Caption {#tbl:x}`` and ``$$ math $$ {#eq:x}`` into numbered objects, and every citation
whose keys are all such labels (``@fig:x``, ``[@fig:a; @fig:b]``, ``[-@fig:x]``, ``@Fig:x``)
into text ("fig. 1.1", "figs. 1.1, 1.2", "1.1", "Fig. 1.1") before citeproc sees it.

Numbering mirrors LaTeX's report class (what the book's PDF shows): figures, tables and
equations count per chapter ("Figure 5.2", "Table 6.1", "(5.3)"); a chapter is a numbered
level-1 heading that is not a part; unnumbered chapters neither step the chapter nor reset
the counters; every table steps the table counter (longtable does, captioned or not).

LaTeX output keeps LaTeX in charge of the numbers: references become ``\\ref{label}`` (pandoc
already writes ``\\label`` after figures, tables and headings), labelled equations become
``equation`` environments, and the caption templates become caption-package label formats in
``header-includes``. Other outputs get the numbers as text, captions rewritten by the templates.

Metadata (pandoc-crossref's names and defaults): figureTemplate, tableTemplate, eqnTemplate
(alias eqnIndexTemplate), figureTitle, tableTitle, titleDelim, figPrefix, tblPrefix,
eqnPrefix, secPrefix (a string or a list [singular, plural, ...]; ``FigPrefix`` etc. for the
capitalised form), rangeDelim, linkReferences, chapters (default true here: a book numbers
by chapter). bookbuild's own: ``crossref-strict: true`` makes unknown references errors.
As in pandoc's template, headings are numbered only with ``numbersections: true`` (up to
``secnumdepth``): without it LaTeX numbers no chapter, so figures count through the book and
a reference to a heading shows its title.

A citation mixing labels and bibliography keys (``[@huyen:cs329s:2021; @fig:a]``) is split:
the bibliography keys stay a citation for citeproc, the labels become text, joined by "; ".
"""

# No "from __future__ import annotations": bookbuild imports filters without registering them
# in sys.modules, and dataclasses then cannot resolve string annotations.

import json
import re
from dataclasses import dataclass, field
from typing import Any

import panflute as pf
from _filterlib import (
    add_header_includes,
    chapter_label,
    inside,
    latex_label,
    roman,
    run_filter,
    walk,
    warn,
)

#: Label prefixes and the object kind they name.
KINDS = ("sec", "fig", "tbl", "eq")
#: A chapter alone is numbered as in the book from ``doc.bookbuild_crossref_context``.
INCREMENTAL = True
#: A crossref citation id: kind, optionally capitalised, then the label's name.
REF_ID = re.compile(rf"^({'|'.join(k for kind in KINDS for k in (kind, kind.capitalize()))}):(.+)$")
LABEL_ID = re.compile(rf"^({'|'.join(KINDS)}):.+$")
#: ``{#eq:name}`` after display math, possibly followed by punctuation.
EQ_LABEL = re.compile(r"^\{#(eq:[^\s{}]+)\}(.*)$")
#: ``{#tbl:name}`` left in a table caption (pandoc before 3.? keeps it as text).
TBL_LABEL = re.compile(r"^\{#(tbl:[^\s{}]+)\}$")
RAW_TEX = ("latex", "tex")
LATEX_FORMATS = ("latex", "beamer")

PREFIX_KEYS = {"fig": "figPrefix", "tbl": "tblPrefix", "eq": "eqnPrefix", "sec": "secPrefix"}
DEFAULT_PREFIXES = {
    "fig": ("fig.", "figs."),
    "tbl": ("tbl.", "tbls."),
    "eq": ("eq.", "eqns."),
    "sec": ("sec.", "secs."),
}
DEFAULT_TEMPLATES = {
    "figureTemplate": "$$figureTitle$$ $$i$$$$titleDelim$$ $$t$$",
    "tableTemplate": "$$tableTitle$$ $$i$$$$titleDelim$$ $$t$$",
    "eqnTemplate": "($$i$$)",
}
DEFAULT_VARIABLES = {"figureTitle": "Figure", "tableTitle": "Table", "titleDelim": ":"}
#: Object kind -> (caption template key, title variable, LaTeX float/counter name).
CAPTIONED = {
    "fig": ("figureTemplate", "figureTitle", "figure"),
    "tbl": ("tableTemplate", "tableTitle", "table"),
}
#: pandoc-crossref settings this filter does not implement; a book using them gets a warning.
UNSUPPORTED_KEYS = (
    "cref", "chapDelim", "chaptersDepth", "numberSections", "sectionsDepth", "listings",
    "codeBlockCaptions", "autoSectionLabels", "autoEqnLabels", "tableEqns", "subfigGrid",
    "refDelim", "pairDelim", "lastDelim", "figPrefixTemplate", "tblPrefixTemplate",
    "eqnPrefixTemplate", "secPrefixTemplate", "refIndexTemplate", "figLabels", "tblLabels",
    "eqLabels", "secLabels", "eqnInlineTemplate", "eqnBlockTemplate", "equationNumberTeX",
)  # fmt: skip
INLINE_CONTAINERS = (
    pf.Emph, pf.Strong, pf.Underline, pf.Strikeout, pf.Superscript, pf.Subscript,
    pf.SmallCaps, pf.Span, pf.Link, pf.Quoted,
)  # fmt: skip


#: How warnings start when pandoc runs the filter (bookbuild names the chapter instead).
STDERR_PREFIX = "crossref: "


class DuplicateLabelError(ValueError):
    """A label is defined twice; the message names the label and both places."""


class UnknownReferenceError(ValueError):
    """References to unknown labels under ``crossref-strict: true``."""


@dataclass
class Label:
    """A numbered (or unnumbered) object a reference can point to."""

    kind: str
    ident: str
    number: str  # "" for an unnumbered heading
    chapter: int  # chapter counter when defined: references compress ranges within one
    seq: int  # the object's counter within its chapter
    where: str  # chapter file, "" without chapter markers
    title: list[Any] = field(default_factory=list)  # heading text (JSON) for unnumbered ones


@dataclass
class Counters:
    """LaTeX's counters as the document is read (report class)."""

    headings: list[int] = field(default_factory=lambda: [0] * 6)
    parts: int = 0
    appendix: bool = False
    objects: dict[str, int] = field(default_factory=lambda: {"fig": 0, "tbl": 0, "eq": 0})


@dataclass
class State:
    """Everything the filter knows during one run; lives on ``doc.crossref``."""

    latex: bool
    chapters: bool
    number_sections: bool
    secnumdepth: int
    link_references: bool
    strict: bool
    meta: dict[str, Any]  # the crossref metadata values, as panflute objects
    labels: dict[str, Label] = field(default_factory=dict)
    numbers: dict[int, str] = field(default_factory=dict)  # id(Figure/Table) -> number
    counters: Counters = field(default_factory=Counters)
    where: str = ""
    unknown: list[str] = field(default_factory=list)
    starts: dict[str, dict[str, Any]] = field(default_factory=dict)  # chapter -> counters


# ---------------------------------------------------------------------------- helpers


def _clone(elem: Any) -> Any:
    """A detached deep copy of a panflute element (no parent, fresh children)."""
    return json.loads(json.dumps(elem.to_json()), object_hook=pf.elements.from_json)


def _text_inlines(text: str) -> list[pf.Inline]:
    """Plain text (with ``$$var$$`` placeholders) as inlines: Str, Space and Math."""
    out: list[pf.Inline] = []
    for i, part in enumerate(re.split(r"\$\$(\w+)\$\$", text)):
        if i % 2:
            out.append(pf.Math(part, format="DisplayMath"))
            continue
        for j, word in enumerate(part.split(" ")):
            if j:
                out.append(pf.Space())
            if word:
                out.append(pf.Str(word))
    return out


def _meta_inlines(value: Any) -> list[pf.Inline] | None:
    """A metadata value as fresh inlines, None if it is not text-like."""
    if isinstance(value, pf.MetaInlines):
        return [_clone(x) for x in value.content]
    if isinstance(value, pf.MetaString):
        return _text_inlines(value.text)
    if isinstance(value, pf.MetaBool):
        return [pf.Str("true" if value.boolean else "false")]
    if isinstance(value, pf.MetaBlocks) and value.content:
        first = value.content[0]
        if isinstance(first, pf.Para | pf.Plain):
            return [_clone(x) for x in first.content]
    return None


def _meta_bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, pf.MetaBool):
        return bool(value.boolean)
    text = pf.stringify(value).strip().lower()
    return text in ("true", "yes", "on", "1") if text else default


def _capitalise(inlines: list[pf.Inline]) -> list[pf.Inline]:
    """Capitalise the first letter of every word (pandoc-crossref's ``@Fig:`` rule)."""
    for elem in inlines:
        if isinstance(elem, pf.Str) and elem.text:
            elem.text = elem.text[0].upper() + elem.text[1:]
    return inlines


def _place(state: State, message: str) -> str:
    return f"{state.where}: {message}" if state.where else message


def _warn_here(doc: pf.Doc, state: State, message: str) -> None:
    """A warning naming the chapter being read."""
    warn(doc, _place(state, message), STDERR_PREFIX)


def _track_marker(elem: pf.Element, state: State) -> bool:
    """Remember the chapter file named by a bookbuild chapter marker."""
    label = chapter_label(elem)
    if label is not None:
        state.where = label
        return True
    return False


def _counters_json(counters: Counters) -> dict[str, Any]:
    return {
        "headings": list(counters.headings),
        "parts": counters.parts,
        "appendix": counters.appendix,
        "objects": dict(counters.objects),
    }


def _label_json(label: Label) -> dict[str, Any]:
    """A label as JSON (``Label(**data)`` makes it again)."""
    return {
        "kind": label.kind,
        "ident": label.ident,
        "number": label.number,
        "chapter": label.chapter,
        "seq": label.seq,
        "where": label.where,
        "title": label.title,
    }


def _counters_from_json(data: dict[str, Any]) -> Counters:
    return Counters(
        headings=list(data["headings"]),
        parts=int(data["parts"]),
        appendix=bool(data["appendix"]),
        objects=dict(data["objects"]),
    )


# ---------------------------------------------------------------------------- settings


def _read_settings(doc: pf.Doc) -> State:
    meta = {key: doc.metadata[key] for key in doc.metadata.content}
    depth = meta.get("secnumdepth")
    try:
        secnumdepth = int(pf.stringify(depth)) if depth is not None else 5
    except ValueError:
        secnumdepth = 5
    state = State(
        latex=(doc.format or "") in LATEX_FORMATS,
        chapters=_meta_bool(meta.get("chapters"), True),
        number_sections=_meta_bool(meta.get("numbersections"), False),
        secnumdepth=secnumdepth,
        link_references=_meta_bool(meta.get("linkReferences"), False),
        strict=_meta_bool(meta.get("crossref-strict"), False),
        meta=meta,
    )
    ignored = [key for key in UNSUPPORTED_KEYS if key in meta]
    if ignored:
        warn(doc, f"crossref settings not supported, ignored: {', '.join(ignored)}", STDERR_PREFIX)
    return state


def _variable(state: State, name: str) -> list[pf.Inline]:
    """A template variable from the metadata, else pandoc-crossref's default."""
    found = _meta_inlines(state.meta[name]) if name in state.meta else None
    if found is not None:
        return found
    return _text_inlines(DEFAULT_VARIABLES.get(name, ""))


def _template(state: State, key: str) -> list[pf.Inline]:
    if key == "eqnTemplate" and key not in state.meta and "eqnIndexTemplate" in state.meta:
        key = "eqnIndexTemplate"
    found = _meta_inlines(state.meta[key]) if key in state.meta else None
    return found if found is not None else _text_inlines(DEFAULT_TEMPLATES[key])


def _fill(inlines: list[pf.Inline], values: dict[str, list[pf.Inline]], state: State) -> list[Any]:
    """Replace the ``$$var$$`` placeholders in a template by ``values`` or metadata."""
    out: list[Any] = []
    for elem in inlines:
        if isinstance(elem, pf.Math) and elem.format == "DisplayMath":
            name = elem.text.strip()
            if name in values:
                out.extend(_clone(x) for x in values[name])
            else:
                out.extend(_variable(state, name))
            continue
        if isinstance(elem, INLINE_CONTAINERS):
            elem.content = _fill(list(elem.content), values, state)
        out.append(elem)
    return out


def _prefix(state: State, kind: str, count: int, capital: bool) -> list[pf.Inline]:
    """The reference prefix for ``count`` references ("fig." / "figs." / "Fig.")."""
    key = PREFIX_KEYS[kind]
    value = None
    if capital and key[0].upper() + key[1:] in state.meta:
        value, capital = state.meta[key[0].upper() + key[1:]], False
    elif key in state.meta:
        value = state.meta[key]
    if isinstance(value, pf.MetaList) and len(value.content):
        forms = list(value.content)
        value = forms[min(count, len(forms)) - 1]
    inlines = _meta_inlines(value) if value is not None else None
    if inlines is None:
        singular, plural = DEFAULT_PREFIXES[kind]
        inlines = [pf.Str(singular if count == 1 else plural)]
    return _capitalise(inlines) if capital else inlines


# ---------------------------------------------------------------------------- pass 1


def _format_number(state: State, n: int) -> str:
    chapter = state.counters.headings[0]
    if not state.chapters or chapter == 0:
        return str(n)
    return f"{_chapter_label(state, chapter)}.{n}"


def _chapter_label(state: State, chapter: int) -> str:
    if state.counters.appendix and 1 <= chapter <= 26:
        return chr(ord("A") + chapter - 1)
    return str(chapter)


def _define(doc: pf.Doc, state: State, label: Label) -> None:
    first = state.labels.get(label.ident)
    if first is not None:

        def describe(item: Label) -> str:
            what = _describe(item)
            return f"{item.where} ({what})" if item.where else what

        raise DuplicateLabelError(
            f"label {label.ident} is defined twice: {describe(first)} and {describe(label)}"
        )
    state.labels[label.ident] = label


def _describe(label: Label) -> str:
    names = {"fig": "Figure", "tbl": "Table", "eq": "Equation", "sec": "Section"}
    if not label.number:
        return f"unnumbered {names[label.kind].lower()}"
    return f"{names[label.kind]} {label.number}"


def _count(state: State, kind: str) -> tuple[str, int]:
    state.counters.objects[kind] += 1
    n = state.counters.objects[kind]
    return _format_number(state, n), n


def _new_label(state: State, kind: str, ident: str, number: str, seq: int) -> Label:
    return Label(kind, ident, number, state.counters.headings[0], seq, state.where)


def _collect_header(elem: pf.Header, doc: pf.Doc, state: State) -> None:
    c = state.counters
    is_sec = elem.identifier.startswith("sec:")
    if elem.level == 1 and "part" in elem.classes:
        c.parts += 1
        if is_sec:
            _define(doc, state, _new_label(state, "sec", elem.identifier, roman(c.parts), 0))
        return
    numbered = (
        state.number_sections
        and "unnumbered" not in elem.classes
        and elem.level - 1 <= state.secnumdepth
    )
    number = ""
    if numbered:
        level = min(elem.level, 6)
        c.headings[level - 1] += 1
        for deeper in range(level, 6):
            c.headings[deeper] = 0
        if level == 1 and state.chapters:
            c.objects = dict.fromkeys(c.objects, 0)
        parts = [_chapter_label(state, c.headings[0])] + [str(x) for x in c.headings[1:level]]
        number = ".".join(parts)
    if is_sec:
        label = _new_label(state, "sec", elem.identifier, number, 0)
        label.title = [x.to_json() for x in elem.content]
        _define(doc, state, label)


def _collect_raw(elem: pf.RawBlock, state: State) -> None:
    if elem.format not in RAW_TEX:
        return
    text = elem.text.strip()
    if re.match(r"\\part\*?[\[{]", text):
        state.counters.parts += 0 if text.startswith("\\part*") else 1
    if re.search(r"\\appendix\b", text):
        state.counters.appendix = True
        state.counters.headings = [0] * 6


def _collect_figure(elem: pf.Figure, doc: pf.Doc, state: State) -> None:
    if inside(elem, pf.Figure):  # a subfigure: LaTeX counts it as (a), (b), not as a figure
        if elem.identifier.startswith("fig:"):
            _warn_here(doc, state, f"subfigure label {elem.identifier} is not supported")
        return
    if not pf.stringify(elem.caption).strip():
        if elem.identifier.startswith("fig:"):
            _warn_here(doc, state, f"figure {elem.identifier} has no caption, so no number")
        return
    number, seq = _count(state, "fig")
    state.numbers[id(elem)] = number
    if elem.identifier.startswith("fig:"):
        _define(doc, state, _new_label(state, "fig", elem.identifier, number, seq))


def _collect_table(elem: pf.Table, doc: pf.Doc, state: State) -> None:
    # ": Caption {#tbl:x}" left as text in the caption (older pandoc): move it to the id.
    blocks = list(elem.caption.content)
    if blocks and isinstance(blocks[-1], pf.Para | pf.Plain) and blocks[-1].content:
        last = blocks[-1].content[-1]
        found = TBL_LABEL.match(last.text) if isinstance(last, pf.Str) else None
        if found and not elem.identifier:
            elem.identifier = found.group(1)
            content = list(blocks[-1].content)[:-1]
            while content and isinstance(content[-1], pf.Space | pf.SoftBreak):
                content.pop()
            blocks[-1].content = content
    # ::: {#tbl:x} around a table (pandoc-crossref's div syntax).
    parent = elem.parent
    if not elem.identifier and isinstance(parent, pf.Div) and parent.identifier.startswith("tbl:"):
        elem.identifier, parent.identifier = parent.identifier, ""
    number, seq = _count(state, "tbl")  # longtable steps the counter even without a caption
    state.numbers[id(elem)] = number
    if elem.identifier.startswith("tbl:"):
        if not pf.stringify(elem.caption).strip():
            _warn_here(doc, state, f"table {elem.identifier} has no caption, so no number")
            return
        _define(doc, state, _new_label(state, "tbl", elem.identifier, number, seq))


def _collect_equations(elem: pf.Para | pf.Plain, doc: pf.Doc, state: State) -> None:
    """Number the labelled display equations of a paragraph (both syntaxes)."""
    items = list(elem.content.list)  # (the walk has just given them their parent)
    out: list[pf.Inline] = []
    changed = False
    i = 0
    while i < len(items):
        item = items[i]
        if isinstance(item, pf.Math) and item.format == "DisplayMath":
            j = i + 1
            if j < len(items) and isinstance(items[j], pf.Space | pf.SoftBreak):
                j += 1
            nxt = items[j] if j < len(items) else None
            found = EQ_LABEL.match(nxt.text) if isinstance(nxt, pf.Str) else None
            if found:
                span = pf.Span(pf.Math(item.text, format="DisplayMath"), identifier=found[1])
                _define_equation(span, doc, state)
                out.append(span)
                if found[2]:
                    out.append(pf.Str(found[2]))
                i, changed = j + 1, True
                continue
        elif (
            isinstance(item, pf.Span)
            and item.identifier.startswith("eq:")
            and any(isinstance(x, pf.Math) for x in item.content)
        ):
            _define_equation(item, doc, state)
        out.append(item)
        i += 1
    if changed:
        elem.content = out


def _define_equation(span: pf.Span, doc: pf.Doc, state: State) -> None:
    number, seq = _count(state, "eq")
    _define(doc, state, _new_label(state, "eq", span.identifier, number, seq))


#: The elements :func:`_collect` reads (the first pass calls it on these alone).
COLLECTS = (pf.RawBlock, pf.Header, pf.Figure, pf.Table, pf.Para, pf.Plain, pf.Image)


def _collect(elem: pf.Element, doc: pf.Doc) -> None:
    state: State = doc.crossref
    if _track_marker(elem, state):
        state.starts[state.where] = _counters_json(state.counters)
        return
    if isinstance(elem, pf.Header):
        _collect_header(elem, doc, state)
    elif isinstance(elem, pf.RawBlock):
        _collect_raw(elem, state)
    elif isinstance(elem, pf.Figure):
        _collect_figure(elem, doc, state)
    elif isinstance(elem, pf.Table):
        _collect_table(elem, doc, state)
    elif isinstance(elem, pf.Para | pf.Plain):
        _collect_equations(elem, doc, state)
    elif isinstance(elem, pf.Image) and elem.identifier.startswith("fig:"):
        _warn_here(doc, state, f"image {elem.identifier} is not a figure (it needs a caption "
                               "and a paragraph of its own), so it gets no number")  # fmt: skip


# ---------------------------------------------------------------------------- pass 2


def _ref_number(label: Label, state: State) -> list[pf.Inline]:
    """The number of one label: ``\\ref`` in LaTeX, text elsewhere."""
    if state.latex:
        return [pf.RawInline(f"\\ref{{{latex_label(label.ident)}}}", format="latex")]
    text: list[pf.Inline] = [pf.Str(label.number)]
    if state.link_references:
        return [pf.Link(*text, url=f"#{label.ident}")]
    return text


def _render_group(cits: list[pf.Citation], doc: pf.Doc, state: State) -> list[pf.Inline]:
    """References of one kind with one prefix: "figs. 1.1, 1.2" / "figs. 1.1-1.3"."""
    first = REF_ID.match(cits[0].id)
    assert first is not None
    kind = first[1].lower()
    items: list[list[pf.Inline]] = []
    run: list[Label] = []

    def flush() -> None:
        if len(run) >= 3:
            delim = _variable(state, "rangeDelim") if "rangeDelim" in state.meta else [pf.Str("-")]
            items.append(_ref_number(run[0], state) + delim + _ref_number(run[-1], state))
        else:
            items.extend(_ref_number(lab, state) for lab in run)
        run.clear()

    for cit in cits:
        found = REF_ID.match(cit.id)
        assert found is not None
        ident = f"{found[1].lower()}:{found[2]}"
        label = state.labels.get(ident)
        suffix = [_clone(x) for x in cit.suffix]
        if label is None or label.kind != kind:
            flush()
            message = _place(state, f"unknown reference @{cit.id}")
            warn(doc, message, STDERR_PREFIX)
            state.unknown.append(message)
            items.append([pf.Strong(pf.Str("??")), *suffix])
        elif not label.number:  # an unnumbered heading: its title, linked
            flush()
            title = [_clone_json(x) for x in label.title]
            items.append([pf.Link(*title, url=f"#{label.ident}"), *suffix])
        elif suffix:
            flush()
            items.append(_ref_number(label, state) + suffix)
        else:
            prev = run[-1] if run else None
            if prev and not (prev.chapter == label.chapter and prev.seq + 1 == label.seq):
                flush()
            run.append(label)
    flush()

    out: list[pf.Inline] = []
    if cits[0].mode != "SuppressAuthor":
        if cits[0].prefix:
            out.extend(_clone(x) for x in cits[0].prefix)
        else:
            out.extend(_prefix(state, kind, len(cits), first[1][0].isupper()))
        out.append(pf.Str("\u00a0"))
    for n, item in enumerate(items):
        if n:
            out.extend([pf.Str(","), pf.Space()])
        out.extend(item)
    return out


def _clone_json(data: Any) -> Any:
    return json.loads(json.dumps(data), object_hook=pf.elements.from_json)


def _group_key(cit: pf.Citation) -> tuple[str, bool, bool, str]:
    found = REF_ID.match(cit.id)
    assert found is not None
    return (found[1].lower(), found[1][0].isupper(), cit.mode == "SuppressAuthor",
            pf.stringify(pf.Span(*[_clone(x) for x in cit.prefix])))  # fmt: skip


def _render_refs(cits: list[pf.Citation], doc: pf.Doc, state: State) -> list[pf.Inline]:
    groups: list[list[pf.Citation]] = []
    for cit in cits:
        if groups and _group_key(groups[-1][-1]) == _group_key(cit):
            groups[-1].append(cit)
        else:
            groups.append([cit])
    out: list[pf.Inline] = []
    for n, group in enumerate(groups):
        if n:
            out.extend([pf.Str(","), pf.Space()])
        out.extend(_render_group(group, doc, state))
    return out


def _cite(elem: pf.Cite, doc: pf.Doc, state: State) -> list[pf.Inline] | None:
    flags = [bool(REF_ID.match(c.id)) for c in elem.citations]
    if not any(flags):
        return None
    if all(flags):
        return _render_refs(list(elem.citations), doc, state)
    out: list[pf.Inline] = []
    runs: list[tuple[bool, list[pf.Citation]]] = []
    for flag, cit in zip(flags, elem.citations, strict=True):
        if runs and runs[-1][0] == flag:
            runs[-1][1].append(cit)
        else:
            runs.append((flag, [cit]))
    for n, (is_ref, cits) in enumerate(runs):
        if n:
            out.extend([pf.Str(";"), pf.Space()])
        if is_ref:
            out.extend(_render_refs(cits, doc, state))
        else:
            text = "; ".join(f"@{c.id}" for c in cits)
            fresh = [
                pf.Citation(c.id, mode=c.mode, prefix=[_clone(x) for x in c.prefix],
                            suffix=[_clone(x) for x in c.suffix])
                for c in cits
            ]  # fmt: skip
            out.append(pf.Cite(pf.Str(f"[{text}]"), citations=fresh))
    return out


def _caption_text(elem: pf.Figure | pf.Table, kind: str, state: State) -> None:
    """Non-LaTeX outputs: rewrite the caption by figureTemplate / tableTemplate."""
    number = state.numbers.get(id(elem))
    blocks = list(elem.caption.content)
    if number is None or not blocks or not isinstance(blocks[0], pf.Para | pf.Plain):
        return
    if not pf.stringify(elem.caption).strip():
        return
    template_key, _, _ = CAPTIONED[kind]
    number_inlines: list[pf.Inline] = [pf.Str(number)]
    values = {"i": number_inlines, "t": [_clone(x) for x in blocks[0].content]}
    blocks[0].content = _fill(_template(state, template_key), values, state)


def _equation(elem: pf.Span, state: State) -> pf.Inline | None:
    label = state.labels.get(elem.identifier)
    maths = [x for x in elem.content if isinstance(x, pf.Math)]
    if label is None or label.kind != "eq" or len(maths) != 1:
        return None
    tex = maths[0].text.strip()
    if state.latex:
        return pf.RawInline(
            f"\\begin{{equation}}\n{tex}\n\\label{{{latex_label(label.ident)}}}\n\\end{{equation}}",
            format="latex",
        )
    tag = pf.stringify(pf.Span(*_fill(_template(state, "eqnTemplate"),
                                      {"i": [pf.Str(label.number)]}, state)))  # fmt: skip
    return pf.Span(pf.Math(f"{tex}\\qquad{{{tag}}}", format="DisplayMath"),
                   identifier=label.ident)  # fmt: skip


# ---------------------------------------------------------------------------- LaTeX preamble


def _latex_template(state: State, kind: str) -> list[pf.Block]:
    """caption-package label and text formats that typeset ``kind``'s caption template."""
    template_key, title_key, float_name = CAPTIONED[kind]
    template = _template(state, template_key)
    split = [
        n
        for n, x in enumerate(template)
        if isinstance(x, pf.Math) and x.format == "DisplayMath" and x.text.strip() == "t"
    ]
    if not split:
        return []
    name = f"bookbuild-{float_name}"
    # The number is the caption package's #2; the title is LaTeX's own \figurename (#1,
    # localised by babel) unless the book sets figureTitle.
    values: dict[str, list[pf.Inline]] = {"i": [pf.RawInline("#2", format="latex")]}
    if title_key not in state.meta:
        values[title_key] = [pf.RawInline("#1", format="latex")]
    before = _fill(template[: split[0]], values, state)
    after = _fill(template[split[0] + 1 :], values, state)
    blocks: list[pf.Block] = [
        pf.Plain(
            pf.RawInline(f"\\DeclareCaptionLabelFormat{{{name}}}{{", format="latex"),
            *before,
            pf.RawInline("}", format="latex"),
        )
    ]
    options = f"labelformat={name},labelsep=none"
    if after:
        blocks.append(
            pf.Plain(
                pf.RawInline(f"\\DeclareCaptionTextFormat{{{name}}}{{#1", format="latex"),
                *after,
                pf.RawInline("}", format="latex"),
            )
        )
        options += f",textformat={name}"
    blocks.append(pf.RawBlock(f"\\captionsetup[{float_name}]{{{options}}}", format="latex"))
    if title_key in state.meta:
        blocks.append(
            pf.Plain(
                pf.RawInline(
                    f"\\AtBeginDocument{{\\renewcommand*{{\\{float_name}name}}{{", format="latex"
                ),
                *_variable(state, title_key),
                pf.RawInline("}}", format="latex"),
            )
        )
    return blocks


def _latex_preamble(state: State) -> list[pf.Block]:
    blocks: list[pf.Block] = []
    for kind, (template_key, title_key, _) in CAPTIONED.items():
        if {template_key, title_key, "titleDelim"} & state.meta.keys():
            blocks.extend(_latex_template(state, kind))
    if blocks:
        blocks.insert(0, pf.RawBlock("\\usepackage{caption}", format="latex"))
    if {"eqnTemplate", "eqnIndexTemplate"} & state.meta.keys():
        values: dict[str, list[pf.Inline]] = {
            "i": [pf.RawInline("\\ignorespaces#1\\unskip\\@@italiccorr", format="latex")]
        }
        blocks.append(
            pf.Plain(
                pf.RawInline(
                    "\\makeatletter\n\\renewcommand{\\tagform@}[1]{\\maketag@@@{", format="latex"
                ),
                *_fill(_template(state, "eqnTemplate"), values, state),
                pf.RawInline("}}\n\\makeatother", format="latex"),
            )  # fmt: skip
        )
    if not state.chapters:
        blocks.append(
            pf.RawBlock(
                "\\counterwithout{figure}{chapter}\n\\counterwithout{table}{chapter}\n"
                "\\counterwithout{equation}{chapter}",
                format="latex",
            )
        )
    return blocks


# ---------------------------------------------------------------------------- filter


def prepare(doc: pf.Doc) -> None:
    """Read the settings, then number every label in document order (first pass).

    Labels listed in ``doc.bookbuild_external_labels`` (set by bookbuild's chapter preview:
    defined in chapters left out) count as known; LaTeX resolves their ``\\ref`` from the
    full book's .aux.

    Chapter rebuilds: ``doc.bookbuild_crossref_context`` (``{"counters": ..., "labels": ...}``,
    as exported) holds the counters at the chapter's start and the other chapters' labels, so
    one chapter is numbered and resolved as in the whole book. Every run leaves
    ``doc.crossref_export``: the labels it defined, the counters at each chapter marker and
    at the end.
    """
    doc.crossref = state = _read_settings(doc)
    context = getattr(doc, "bookbuild_crossref_context", None)
    if context:
        state.counters = _counters_from_json(context["counters"])
    for block in list(doc.content):
        walk(block, _collect, doc, COLLECTS)
    state.where = ""
    doc.crossref_export = {
        "labels": {ident: _label_json(label) for ident, label in state.labels.items()},
        "starts": state.starts,
        "end": _counters_json(state.counters),
    }
    if context:
        for ident, data in context["labels"].items():
            state.labels.setdefault(ident, Label(**data))
    for ident in getattr(doc, "bookbuild_external_labels", ()):
        kind = ident.split(":", 1)[0]
        if ident not in state.labels:
            state.labels[ident] = Label(kind, ident, "??", -1, -1, "")


#: The elements :func:`action` does anything with (it is called on these alone).
ACTS_ON = (pf.RawBlock, pf.Cite, pf.Span, pf.Figure, pf.Table)
#: Skip rule (``_filterlib.census`` tokens): the action changes nothing in a document without a
#: citation, span, figure or table.
NEEDS = frozenset({"Cite", "Span", "Figure", "Table"})


def action(elem: pf.Element, doc: pf.Doc) -> Any:
    """Second pass: references to numbers, captions and equations to their numbered form."""
    state: State = doc.crossref
    if _track_marker(elem, state):
        return None
    if isinstance(elem, pf.Cite):
        return _cite(elem, doc, state)
    if isinstance(elem, pf.Span) and elem.identifier.startswith("eq:"):
        return _equation(elem, state)
    if not state.latex and isinstance(elem, pf.Figure):
        _caption_text(elem, "fig", state)
    elif not state.latex and isinstance(elem, pf.Table):
        _caption_text(elem, "tbl", state)
    return None


def finalize(doc: pf.Doc) -> None:
    """Add the LaTeX preamble; fail under crossref-strict if a reference was unknown."""
    state: State = doc.crossref
    del doc.crossref
    if state.latex:
        add_header_includes(doc, *_latex_preamble(state))
    if state.strict and state.unknown:
        raise UnknownReferenceError("; ".join(state.unknown))


def main(doc: pf.Doc | None = None) -> pf.Doc:
    return run_filter(action, prepare, finalize, doc, ACTS_ON, NEEDS)


if __name__ == "__main__":
    main()
