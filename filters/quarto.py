#!/usr/bin/env python3
"""Quarto's Markdown dialect -> what bookbuild's other filters and pandoc's writers read.

- Cross-references: labels ``{#fig-x}``, ``{#tbl-x}``, ``{#eq-x}`` (and ``::: {#fig-x}``
  figure divs, ``#| label: fig-x`` cells) become the crossref filter's ``fig:x``/``tbl:x``/
  ``eq:x``, and ``@fig-x``, ``[@fig-x]``, ``-@fig-x``, ``[@fig-a; @fig-b]``, ``@Fig-x``
  with them, so crossref numbers them per chapter ("Figure 3.2"). Its prefixes are set to
  Quarto's ("Figure", "Table", "Equation") unless the book sets them; ``crossref:``
  (fig-title, tbl-title, fig-prefix, tbl-prefix, eq-prefix, sec-prefix, title-delim,
  thm-title …) is honoured. ``@sec-x`` prints "Chapter 2" or "Section 2.1" (the title as a
  link when the heading has no number); ``@thm-x`` and the rest of the theorem family
  ("Theorem 2.1") point at ``::: {#thm-x}`` divs typeset as numbered environments.
  ``::: {#exr-x}`` / ``{#sol-x}`` become ``.exercise`` / ``.solution`` divs for the
  exercises filter; ``@exr-x`` prints "Exercise" and LaTeX's ``\\ref``.
- Callouts ``::: {.callout-note|tip|warning|important|caution}``: ``title=`` or a first
  heading as the title; ``collapse``, ``icon``, ``appearance`` mean nothing on paper. They
  become the callouts filter's ``::: note`` (which must run after this one).
- Shortcodes ``{{< pagebreak >}}``, ``{{< meta key >}}``, ``{{< var key >}}`` (from
  ``_variables.yml`` in the book's folder), ``{{< kbd … >}}``; any other is dropped with a
  warning naming its file and line. ``{{{< x >}}}`` prints ``{{< x >}}``.
- ``.content-visible``/``.content-hidden`` with ``when-format``/``unless-format`` (and
  ``when-meta``/``unless-meta``) keep or drop their content for the output format.
- ``# Title {.appendix}`` (or the chapter files in metadata ``bookbuild-appendices``) starts
  the appendices (``\\appendix``: chapters lettered A, B …).
- Code cells (```` ```{r} ````, ```` ```{python} ````, with ``#|`` options) are shown, not
  run; their figures and tables become captioned placeholders (see ``_dialects.py``).
"""

import re
from typing import Any
from urllib.parse import unquote

import panflute as pf
import yaml
from _dialects import (
    EXERCISES,
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
    warn_at,
)
from _filterlib import latex_label, run_filter, text_inlines, walk, warn

STDERR_PREFIX = "quarto: "
#: Label prefixes the crossref filter numbers, and its names for them.
CROSSREF = {"fig": "fig", "tbl": "tbl", "eq": "eq"}
#: Quarto's theorem family: label prefix -> kind.
THEOREM_PREFIXES = {prefix: kind for kind, (prefix, _, _) in THEOREMS.items()}
CALLOUT_KINDS = ("note", "tip", "warning", "important", "caution")
CALLOUT_PREFIXES = {"nte": "note", "tip": "tip", "wrn": "warning", "imp": "important",
                    "cau": "caution"}  # fmt: skip
REF_ID = re.compile(r"^(?P<prefix>[A-Za-z]+)-(?P<name>.+)$")
EQ_LABEL = re.compile(r"^\{#eq-([^\s{}]+)\}(.*)$")
SHORTCODE = re.compile(r"(\{?)\{\{<\s*(.*?)\s*>\}\}(\}?)", re.S)
#: Output format -> the names ``when-format`` matches it by.
FORMAT_NAMES = {
    "latex": {"latex", "pdf"},
    "beamer": {"latex", "pdf", "beamer"},
    "html": {"html", "html5", "html:js"},
    "html5": {"html", "html5", "html:js"},
    "epub": {"epub", "html"},
    "docx": {"docx"},
}
#: Elements holding inlines where a shortcode may sit (besides paragraphs).
INLINE_HOLDERS = (
    pf.Emph, pf.Strong, pf.Underline, pf.Strikeout, pf.Superscript, pf.Subscript,
    pf.SmallCaps, pf.Link, pf.Quoted, pf.Header,
)  # fmt: skip
DEFAULT_PREFIXES = {"figPrefix": "Figure", "tblPrefix": "Table", "eqnPrefix": "Equation"}


class State:
    """Everything the filter knows during one run; lives on ``doc.quarto``."""

    def __init__(self, doc: pf.Doc):
        self.place = Place(root=book_dir(doc).parent)
        self.latex = is_latex(doc)
        self.cells = CellRenderer(doc, "quarto", STDERR_PREFIX)
        self.theorems = Theorems(self.latex)
        self.headers: dict[str, pf.Header] = {}
        self.numbers: dict[str, str] = {}
        self.labels: set[str] = set()  # every identifier in the document
        self.variables: dict[str, Any] | None = None
        self.appendix_started = False
        self.appendix_files: list[str] = []
        self.section_prefix = "Section"
        self.chapter_prefix = "Chapter"
        self.appendix_prefix = "Appendix"
        self.appendix_ids: set[str] = set()
        self.aliases: dict[str, str] = {}  # subfigure id -> figure id
        # A chapter preview: labels of the chapters left out (see bookbuild.dialects.labels).
        self.external: set[str] = set(getattr(doc, "bookbuild_external_labels", ()))


# ---------------------------------------------------------------------------- settings


def _crossref_settings(doc: pf.Doc, state: State) -> None:
    """Quarto's ``crossref:`` options onto the crossref filter's metadata and our titles."""
    options = doc.get_metadata("crossref", {})
    options = options if isinstance(options, dict) else {}

    def put(key: str, value: Any) -> None:
        if key not in doc.metadata.content:
            doc.metadata[key] = value

    for ours, theirs in (("fig-prefix", "figPrefix"), ("tbl-prefix", "tblPrefix"),
                         ("eq-prefix", "eqnPrefix")):  # fmt: skip
        word = str(options.get(ours) or DEFAULT_PREFIXES[theirs])
        plural = word if ours in options else word + "s"
        put(theirs, pf.MetaList(pf.MetaInlines(*text_inlines(word)),
                                pf.MetaInlines(*text_inlines(plural))))  # fmt: skip
    for ours, theirs in (("fig-title", "figureTitle"), ("tbl-title", "tableTitle"),
                         ("title-delim", "titleDelim")):  # fmt: skip
        if options.get(ours):
            put(theirs, pf.MetaString(str(options[ours])))
    if "chapters" in options:
        put("chapters", pf.MetaBool(bool(options["chapters"])))
    state.section_prefix = str(options.get("sec-prefix") or "Section")
    state.appendix_prefix = str(options.get("appendix-title") or "Appendix")
    state.chapter_prefix = str(options.get("ch-prefix") or "Chapter")
    for kind, (prefix, _, _) in THEOREMS.items():
        if options.get(f"{prefix}-title"):
            state.theorems.titles[kind] = str(options[f"{prefix}-title"])
    appendices = doc.get_metadata("bookbuild-appendices", [])
    state.appendix_files = [str(x) for x in appendices] if isinstance(appendices, list) else []


def _theorem_kind(div: pf.Div) -> str | None:
    found = REF_ID.match(div.identifier)
    if found and found["prefix"] in THEOREM_PREFIXES:
        return THEOREM_PREFIXES[found["prefix"]]
    return "proof" if "proof" in div.classes else ("remark" if "remark" in div.classes else None)


def _appendix_file(place: Place, state: State) -> bool:
    return any(place.file.endswith(name) for name in state.appendix_files) if place.file else False


def _collect(doc: pf.Doc, state: State) -> None:
    def visit(elem: pf.Element, _doc: pf.Doc) -> None:
        ident = getattr(elem, "identifier", "")
        if ident:
            state.labels.add(ident)
        if isinstance(elem, pf.Header) and elem.identifier:
            state.headers.setdefault(elem.identifier, elem)
        if isinstance(elem, pf.Div) and elem.identifier.startswith("fig-"):
            # Subfigures of a figure div: a reference to one prints the figure's number.
            def inner(sub: pf.Element, _doc: pf.Doc) -> None:
                if sub is not elem and getattr(sub, "identifier", "").startswith("fig-"):
                    state.aliases[sub.identifier] = elem.identifier

            walk(elem, inner)

    walk(doc, visit)
    place, appendix = Place(), False
    for block in doc.content:  # the chapters after the appendices start print "Appendix A"
        if place.track(block) or not isinstance(block, pf.Header) or block.level != 1:
            continue
        appendix = appendix or "appendix" in block.classes or _appendix_file(place, state)
        if appendix and block.identifier:
            state.appendix_ids.add(block.identifier)
    if not state.latex:
        state.numbers = heading_numbers(doc)
    state.theorems.collect(doc, _theorem_kind)


def prepare(doc: pf.Doc) -> None:
    doc.quarto = state = State(doc)
    _crossref_settings(doc, state)
    convert_cells(doc, state.place, state.cells)
    _collect(doc, state)


# ---------------------------------------------------------------------------- references


def _ref_kind(ident: str, aliases: dict[str, str] | None = None) -> tuple[str, str] | None:
    """("crossref"|"sec"|"thm"|"exr"|"other", translated id) for a Quarto label, else None
    (``aliases``: subfigure -> its figure)."""
    if aliases and ident[:1].lower() + ident[1:] in aliases:
        target = aliases[ident[:1].lower() + ident[1:]]
        ident = ident[0] + target[1:] if ident[0].isupper() else target
    found = REF_ID.match(ident)
    if not found:
        return None
    prefix, name = found["prefix"], found["name"]
    if prefix.lower() in CROSSREF:
        return "crossref", f"{prefix}:{name}"
    if prefix == "sec":
        return "sec", ident
    if prefix in THEOREM_PREFIXES:
        return "thm", ident
    if prefix in ("exr", "sol"):
        return "exr", ident
    if prefix in CALLOUT_PREFIXES or prefix == "lst":
        return "other", ident
    return None


def _external_ref(kind: str, ident: str, bare: bool, state: State) -> list[pf.Inline]:
    """A chapter preview's reference to a label in a chapter left out: LaTeX's ``\\ref``
    takes its number from the full build's .aux (see bookbuild.dialects.labels)."""
    if kind == "sec":
        word = (
            state.chapter_prefix if f"chapter:{ident}" in state.external else state.section_prefix
        )
    elif kind == "thm":
        word = state.theorems.title(THEOREM_PREFIXES[ident.split("-", 1)[0]])
    else:
        word = "Exercise" if ident.startswith("exr") else "Solution"
    words: list[pf.Inline] = [] if bare else [pf.Str(word), pf.Str("\u00a0")]
    return [*words, pf.RawInline(f"\\ref{{{latex_label(ident)}}}", format="latex")]


def _own_ref(cit: pf.Citation, doc: pf.Doc, state: State) -> list[pf.Inline]:
    """A reference the crossref filter does not handle: a section, theorem or exercise."""
    kind, ident = _ref_kind(cit.id) or ("", cit.id)
    bare = cit.mode == "SuppressAuthor"
    lead = list(cit.prefix)
    suffix = list(cit.suffix)
    if kind == "sec" and ident in state.headers:
        header = state.headers[ident]
        words = (
            ""
            if bare or cit.prefix
            else (
                state.section_prefix
                if header.level > 1
                else state.appendix_prefix
                if ident in state.appendix_ids
                else state.chapter_prefix
            )
        )
        ref = heading_reference(doc, header, state.numbers.get(ident, ""), words)
    elif kind == "thm" and ident in state.theorems.kinds:
        ref = state.theorems.reference(ident, with_title=not bare and not cit.prefix)
    elif kind == "exr" and ident in state.labels:
        title = "Exercise" if ident.startswith("exr") else "Solution"
        lead_words: list[pf.Inline] = (
            [] if bare or cit.prefix else [pf.Str(title), pf.Str("\u00a0")]
        )
        if state.latex:
            ref = [*lead_words, pf.RawInline(f"\\ref{{{latex_label(ident)}}}", format="latex")]
        else:
            ref = [*lead_words, pf.Link(pf.Str(ident), url=f"#{ident}")]
    elif kind in ("sec", "thm", "exr") and ident in state.external and state.latex:
        ref = _external_ref(kind, ident, bare or bool(cit.prefix), state)
    else:
        what = "not supported" if kind == "other" else "unknown"
        warn_at(doc, state.place, f"reference @{cit.id}: {what}", STDERR_PREFIX, f"@{cit.id}")
        ref = [pf.Strong(pf.Str("??"))]
    if lead:
        lead = [*lead, pf.Str("\u00a0")]
    return [*lead, *ref, *suffix]


def _cite(elem: pf.Cite, doc: pf.Doc, state: State) -> Any:
    kinds = [_ref_kind(c.id, state.aliases) for c in elem.citations]
    if not any(kinds):
        return None
    if all(k is not None and k[0] == "crossref" for k in kinds):
        for cit, kind in zip(elem.citations, kinds, strict=True):
            cit.id = kind[1] if kind else cit.id
        return None
    out: list[pf.Inline] = []
    for n, (cit, kind) in enumerate(zip(elem.citations, kinds, strict=True)):
        if n:
            out.extend([pf.Str(";" if kind is None else ","), pf.Space()])
        if kind is None or kind[0] == "crossref":
            cit_id = kind[1] if kind else cit.id
            fresh = pf.Citation(cit_id, mode=cit.mode, prefix=list(cit.prefix),
                                suffix=list(cit.suffix))  # fmt: skip
            out.append(pf.Cite(pf.Str(f"@{cit.id}"), citations=[fresh]))
        else:
            out.extend(_own_ref(cit, doc, state))
    return out


# ---------------------------------------------------------------------------- blocks


def _caption_from_last(blocks: list[pf.Block]) -> tuple[list[pf.Block], list[pf.Inline]]:
    if blocks and isinstance(blocks[-1], pf.Para):
        return blocks[:-1], list(blocks[-1].content)
    return blocks, []


def _figure_div(elem: pf.Div) -> pf.Block:
    """``::: {#fig-x}`` (content, then the caption paragraph) -> a Figure ``fig:x``."""
    content, caption = _caption_from_last(list(elem.content))
    if not content:  # only an image paragraph: pandoc's figure rule did not apply
        content, caption = list(elem.content), []
    blocks: list[pf.Block] = []

    def drop_label(sub: pf.Element, _doc: pf.Doc) -> None:  # subfigures: see state.aliases
        if isinstance(sub, pf.Image) and sub.identifier[:4] in ("fig-", "fig:"):
            sub.identifier = ""

    for block in content:
        walk(block, drop_label)
        if isinstance(block, pf.Figure):  # an inner figure: keep its image, drop its frame
            blocks.extend(block.content)
        else:
            blocks.append(pf.Plain(*block.content) if isinstance(block, pf.Para) else block)
    return pf.Figure(*blocks, caption=pf.Caption(pf.Plain(*caption)),
                     identifier="fig:" + elem.identifier[4:])  # fmt: skip


def _table_div(elem: pf.Div) -> list[pf.Block] | None:
    """``::: {#tbl-x}`` around a table (caption as its own last paragraph, or the table's)."""
    tables = [b for b in elem.content if isinstance(b, pf.Table)]
    if len(tables) != 1:
        return None
    table = tables[0]
    rest = [b for b in elem.content if b is not table]
    if not pf.stringify(table.caption).strip():
        rest, caption = _caption_from_last(rest)
        table.caption = pf.Caption(pf.Plain(*caption))
    table.identifier = "tbl:" + elem.identifier[4:]
    return [*rest, table]


def _callout(elem: pf.Div, kind: str) -> pf.Div:
    """A Quarto callout as the callouts filter's input."""
    body = list(elem.content)
    classes = [kind, *[c for c in elem.classes if not c.startswith("callout")]]
    title = elem.attributes.get("title", "")
    attributes = {"title": title} if title else {}
    if body and isinstance(body[0], pf.Header) and not title:
        heading = body.pop(0)
        body.insert(0, pf.Div(pf.Plain(*heading.content), classes=["callout-title"]))
    return pf.Div(*body, identifier=elem.identifier, classes=classes, attributes=attributes)


def _visible(elem: pf.Div | pf.Span, doc: pf.Doc) -> bool | None:
    """Whether a content-visible/hidden block shows here; None if it is neither."""
    if "content-visible" in elem.classes:
        shown = True
    elif "content-hidden" in elem.classes:
        shown = False
    else:
        return None
    names = FORMAT_NAMES.get(doc.format or "", {doc.format or ""})
    attrs = elem.attributes
    match = True
    if "when-format" in attrs:
        match = match and attrs["when-format"] in names
    if "unless-format" in attrs:
        match = match and attrs["unless-format"] not in names
    if "when-meta" in attrs:
        match = match and bool(doc.get_metadata(attrs["when-meta"], False))
    if "unless-meta" in attrs:
        match = match and not bool(doc.get_metadata(attrs["unless-meta"], False))
    if "when-profile" in attrs or "unless-profile" in attrs:
        match = match and "when-profile" not in attrs  # no Quarto profile is ever active
    return match if shown else not match


def _theorem(elem: pf.Div, kind: str, state: State) -> list[pf.Block]:
    body = list(elem.content)
    name: list[pf.Inline] = []
    if body and isinstance(body[0], pf.Header):
        name = list(body.pop(0).content)
    elif elem.attributes.get("name") or elem.attributes.get("title"):
        name = text_inlines(elem.attributes.get("name") or elem.attributes["title"])
    return state.theorems.render(kind, elem.identifier, name, body)


def _exercise(elem: pf.Div, kind: str) -> pf.Div:
    """``::: {#exr-x}`` -> ``::: {#exr-x .exercise}`` (a first heading as its title)."""
    body = list(elem.content)
    attributes = dict(elem.attributes)
    if body and isinstance(body[0], pf.Header) and "title" not in attributes:
        attributes["title"] = pf.stringify(body.pop(0))
    classes = [kind, *[c for c in elem.classes if c != kind]]
    return pf.Div(*body, identifier=elem.identifier, classes=classes, attributes=attributes)


def _div(elem: pf.Div, doc: pf.Doc, state: State) -> Any:
    visible = _visible(elem, doc)
    if visible is not None:
        return list(elem.content) if visible else []
    kind = next((c[8:] for c in elem.classes if c.startswith("callout-")), None)
    if kind in CALLOUT_KINDS:
        return _callout(elem, kind)
    if kind is not None:
        warn_at(doc, state.place, f"callout-{kind} is not a callout kind; shown as a note",
                STDERR_PREFIX)  # fmt: skip
        return _callout(elem, "note")
    found = REF_ID.match(elem.identifier)
    prefix = found["prefix"] if found else ""
    if prefix == "fig":
        return _figure_div(elem)
    if prefix == "tbl":
        return _table_div(elem)
    theorem = _theorem_kind(elem)
    if theorem is not None:
        return _theorem(elem, theorem, state)
    for exercise, exercise_prefix in EXERCISES.items():
        if prefix == exercise_prefix or (exercise in elem.classes and exercise != "hint"):
            return _exercise(elem, exercise)
    return None


def _header(elem: pf.Header, doc: pf.Doc, state: State) -> Any:
    starts = "appendix" in elem.classes and elem.level == 1
    if not starts and elem.level == 1:
        starts = _appendix_file(state.place, state)
    if starts and not state.appendix_started:
        state.appendix_started = True
        return [pf.RawBlock("\\appendix", format="latex"), elem] if state.latex else None
    return None


# ---------------------------------------------------------------------------- shortcodes


def _variables(state: State, doc: pf.Doc) -> dict[str, Any]:
    if state.variables is None:
        path = book_dir(doc) / "_variables.yml"
        state.variables = {}
        if path.is_file():
            try:
                loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                warn(doc, f"{path}: not YAML: {str(exc).splitlines()[0]}", STDERR_PREFIX)
                loaded = None
            state.variables = loaded if isinstance(loaded, dict) else {}
    return state.variables


def _lookup(data: Any, key: str) -> Any:
    for part in key.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return None
    return data


def _meta_value(doc: pf.Doc, key: str) -> list[pf.Inline] | None:
    value: Any = doc.metadata
    for part in key.split("."):
        if isinstance(value, pf.MetaMap | pf.Doc) and part in (
            value.content if isinstance(value, pf.MetaMap) else value.metadata.content
        ):
            value = value[part] if isinstance(value, pf.MetaMap) else value.metadata[part]
        else:
            if key.startswith("book."):
                return _meta_value(doc, key[5:])
            return None
    if isinstance(value, pf.MetaInlines):
        return [clone(x) for x in value.content]
    if isinstance(value, pf.MetaBlocks) and value.content:
        first = value.content[0]
        return [clone(x) for x in first.content] if isinstance(first, pf.Para | pf.Plain) else None
    if isinstance(value, pf.MetaString | pf.MetaBool | pf.MetaList):
        return text_inlines(pf.stringify(value))
    return None


def _shortcode(text: str, doc: pf.Doc, state: State) -> list[pf.Inline] | str:
    """What one shortcode's arguments (``name args``) become: inlines, or a string for code."""
    parts = [p.strip("\"'") for p in text.split()]
    name, args = (parts[0], parts[1:]) if parts else ("", [])
    if name == "pagebreak":
        if state.latex:
            return [pf.RawInline("\\newpage{}", format="latex")]
        return [pf.RawInline('<div style="page-break-after: always;"></div>', format="html")]
    if name in ("meta", "var") and args:
        if name == "var":
            value = _lookup(_variables(state, doc), args[0])
            if value is not None and not isinstance(value, dict | list):
                return text_inlines(str(value))
            where = "_variables.yml"
        else:
            found = _meta_value(doc, args[0])
            if found is not None:
                return found
            where = "the metadata"
        warn_at(doc, state.place, f"{{{{< {name} {args[0]} >}}}}: no '{args[0]}' in {where}",
                STDERR_PREFIX, args[0])  # fmt: skip
        return [pf.Strong(pf.Str("??"))]
    if name == "kbd" and args:
        return [pf.Code(" ".join(a for a in args if "=" not in a))]
    if name in ("meta", "var"):
        message = f"{{{{< {name} >}}}} names no key; left out"
    elif name == "include":
        message = f"{{{{< include {' '.join(args)} >}}}} was not expanded before reading"
    else:
        message = f"shortcode {{{{< {text} >}}}} is not supported; left out"
    warn_at(doc, state.place, message, STDERR_PREFIX, name)
    return []


def _code_shortcodes(text: str, doc: pf.Doc, state: State) -> str:
    """Shortcodes inside code: var and meta as text, escaped ones unescaped."""

    def replace(found: re.Match[str]) -> str:
        if found.group(1) and found.group(3):
            return found.group(0)[1:-1]
        result = _shortcode(found.group(2), doc, state)
        text = pf.stringify(pf.Plain(*result)) if isinstance(result, list) else result
        return found.group(1) + text + found.group(3)

    return SHORTCODE.sub(replace, text) if "{{<" in text else text


def _inline_text(elem: pf.Inline) -> str | None:
    if isinstance(elem, pf.Str):
        return elem.text
    if isinstance(elem, pf.Space | pf.SoftBreak):
        return " "
    if isinstance(elem, pf.Quoted):
        inner = "".join(_inline_text(x) or "" for x in elem.content)
        return f'"{inner}"'
    return None


def _inline_shortcodes(
    inlines: list[pf.Inline], doc: pf.Doc, state: State
) -> list[pf.Inline] | None:
    """Shortcodes in a run of inlines (pandoc splits ``{{< meta title >}}`` into words)."""
    if not any(isinstance(x, pf.Str) and "{{<" in x.text for x in inlines):
        return None
    out: list[pf.Inline] = []
    index = 0
    while index < len(inlines):
        elem = inlines[index]
        if not (isinstance(elem, pf.Str) and "{{<" in elem.text):
            out.append(elem)
            index += 1
            continue
        text, end = "", index
        while end < len(inlines):
            piece = _inline_text(inlines[end])
            if piece is None:
                break
            text += piece
            end += 1
            if ">}}" in piece:
                break
        if ">}}" not in text:
            warn_at(doc, state.place, "shortcode '{{<' is not closed with '>}}'", STDERR_PREFIX,
                    "{{<")  # fmt: skip
            out.append(elem)
            index += 1
            continue
        position = 0
        for found in SHORTCODE.finditer(text):
            out.extend(text_inlines_keep(text[position : found.start()]))
            if found.group(1) and found.group(3):
                out.append(pf.Str(found.group(0)[1:-1]))
            else:
                result = _shortcode(found.group(2), doc, state)
                if found.group(1):
                    out.append(pf.Str(found.group(1)))
                out.extend(result if isinstance(result, list) else [pf.Str(result)])
                if found.group(3):
                    out.append(pf.Str(found.group(3)))
            position = found.end()
        out.extend(text_inlines_keep(text[position:]))
        index = end
    return out


def text_inlines_keep(text: str) -> list[pf.Inline]:
    """Text as inlines, keeping a leading or trailing space as a Space."""
    if not text:
        return []
    out: list[pf.Inline] = [pf.Space()] if text[0].isspace() else []
    out += text_inlines(text)
    if text[-1].isspace() and text.strip():
        out.append(pf.Space())
    return out


def _paragraph(elem: pf.Para | pf.Plain, doc: pf.Doc, state: State) -> Any:
    items = list(elem.content)
    if len(items) == 1 and isinstance(items[0], pf.Code) and items[0].text.startswith("{"):
        found = re.match(r"^\{(\w+)[^}]*\}\s*(.*)$", items[0].text, re.S)
        if found:  # a cell pandoc read without bookbuild (its line breaks are lost)
            warn_at(doc, state.place, "code cell read without bookbuild's cell reader: "
                    "its line breaks are lost", STDERR_PREFIX)  # fmt: skip
            return pf.CodeBlock(found.group(2), classes=[found.group(1)])
    replaced = _inline_shortcodes(items, doc, state)
    if replaced is None:
        return None
    meaningful = [x for x in replaced if not isinstance(x, pf.Space | pf.SoftBreak)]
    if len(meaningful) == 1 and isinstance(meaningful[0], pf.RawInline):
        return pf.RawBlock(meaningful[0].text, format=meaningful[0].format)
    if not meaningful:
        return []
    elem.content = replaced
    return None


def _target(elem: pf.Link | pf.Image, doc: pf.Doc, state: State) -> None:
    """Shortcodes in a link's or image's target (pandoc percent-encodes them), and links to
    labels the crossref filter now knows as ``fig:x``."""
    if "%7B%7B%3C" in elem.url:
        elem.url = _code_shortcodes(unquote(elem.url), doc, state)
    found = REF_ID.match(elem.url[1:]) if elem.url.startswith("#") else None
    if found and found["prefix"] in CROSSREF:
        elem.url = f"#{found['prefix']}:{found['name']}"


def _image_path(elem: pf.Image, doc: pf.Doc, state: State) -> None:
    """Quarto resolves an image against its chapter's folder, bookbuild against the book's:
    a path that only works from the chapter is rewritten relative to the book."""
    url = elem.url
    if not url or "://" in url or url.startswith(("/", "data:", "#")) or not state.place.file:
        return
    root = book_dir(doc).resolve()
    if (root / url).exists():
        return
    chapter_dir = (root.parent / state.place.file).parent
    candidate = (chapter_dir / url).resolve()
    if candidate.is_file() and candidate.is_relative_to(root):
        elem.url = candidate.relative_to(root).as_posix()


# ---------------------------------------------------------------------------- filter


def action(elem: pf.Element, doc: pf.Doc) -> Any:
    state: State = doc.quarto
    if state.place.track(elem):
        return None
    if isinstance(elem, pf.Cite):
        return _cite(elem, doc, state)
    if isinstance(elem, pf.Str):
        found = EQ_LABEL.match(elem.text)
        if found:
            return pf.Str(f"{{#eq:{found[1]}}}{found[2]}")
        return None
    if isinstance(elem, pf.Code):
        if "{{<" in elem.text:
            elem.text = _code_shortcodes(elem.text, doc, state)
        return inline_cell(elem, state.latex)
    if isinstance(elem, pf.CodeBlock):
        if "{{<" in elem.text:
            elem.text = _code_shortcodes(elem.text, doc, state)
        return None
    if isinstance(elem, pf.Para | pf.Plain):
        return _paragraph(elem, doc, state)
    if isinstance(elem, INLINE_HOLDERS) and not isinstance(elem, pf.Span | pf.Code):
        replaced = _inline_shortcodes(list(elem.content), doc, state)
        if replaced is not None:
            elem.content = replaced
        if not isinstance(elem, pf.Header):
            return None
    if isinstance(elem, pf.Link | pf.Image):
        _target(elem, doc, state)
    if isinstance(elem, pf.Image):
        _image_path(elem, doc, state)
    if isinstance(elem, pf.Figure | pf.Table | pf.Image) and elem.identifier[:4] in (
        "fig-",
        "tbl-",
    ):
        elem.identifier = elem.identifier[:3] + ":" + elem.identifier[4:]
        return None
    if isinstance(elem, pf.Div):
        return _div(elem, doc, state)
    if isinstance(elem, pf.Span):
        replaced = _inline_shortcodes(list(elem.content), doc, state)
        if replaced is not None:
            elem.content = replaced
        visible = _visible(elem, doc)
        return None if visible is None else (list(elem.content) if visible else [])
    if isinstance(elem, pf.Header):
        return _header(elem, doc, state)
    return None


def finalize(doc: pf.Doc) -> None:
    state: State = doc.quarto
    del doc.quarto
    finish(doc, state.theorems, state.cells, STDERR_PREFIX)


def main(doc: pf.Doc | None = None) -> pf.Doc:
    return run_filter(action, prepare, finalize, doc)


if __name__ == "__main__":
    main()
