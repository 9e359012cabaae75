"""The checks of ``bookbuild check``: each ``check_*(book) -> list[Diagnostic]`` over the
loaded :class:`~bookbuild.check.book.Book`, testable alone."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

from ..diagnostics import Diagnostic, did_you_mean
from ..dialects.cells import ATTRIBUTE as CELL_ATTRIBUTE
from ..fonts import check_glyphs
from ..paths import display_path
from ..syntax import CROSSREF_ID, LEADING_LABEL, NOTE_DEFINITION, NOTE_USE
from .book import Book
from .index import check_index_entries
from .locate import Source, cite_pattern, heading_pattern, label_pattern

# -- the checks ----------------------------------------------------------------------------

#: Quarto's cross-reference labels (``@fig-x``, ``@thm-x`` …), resolved by filters/quarto.py.
QUARTO_REF = re.compile(
    r"(?i)(sec|fig|tbl|eq|lst|thm|lem|cor|prp|cnj|def|exm|exr|sol|rem|hyp|nte|tip|wrn|imp|cau)-"
)


def check_citations(book: Book) -> list[Diagnostic]:
    """Citations of keys the bibliography lacks (error); Quarto references to labels the book
    does not define (warning, as ``pdf`` warns); entries never cited (info)."""
    import panflute as pf

    found: list[Diagnostic] = []
    cited: set[str] = set()
    labels: set[str] | None = None  # the Quarto labels the book defines, read when needed
    bib_names = ", ".join(display_path(p) for p in book.config.bibliography) or "references:"
    for source, elem in book.elements():
        if not isinstance(elem, pf.Cite):
            continue
        for citation in elem.citations:
            key = citation.id
            cited.add(key)
            if CROSSREF_ID.match(key) or key == "*":
                continue
            pattern = cite_pattern(key)
            if QUARTO_REF.match(key) and any(p.stem == "quarto" for p in book.config.filters):
                # the quarto filter resolves it; one it cannot is printed as ?? (pdf warns too)
                if labels is None:
                    labels = _quarto_labels(book)
                kind, _, name = key.partition("-")
                if key in labels or f"{kind}:{name}" in labels:
                    book.locate(source, pattern)
                else:
                    message = f"reference '@{key}': no {{#{key}}} in the book"
                    found.append(book.diagnostic(source, pattern, "warning", message))
                continue
            if not book.has_bibliography:
                message = f"citation '@{key}' but the book has no bibliography"
            elif key not in book.bib:
                message = (
                    f"citation '@{key}' not found in {bib_names}"
                    f"{did_you_mean(key, list(book.bib), '@')}"
                )
            else:
                book.locate(source, pattern)  # claim this occurrence
                continue
            found.append(book.diagnostic(source, pattern, "error", message))
    if "*" not in cited:  # nocite: '@*' cites everything
        for key, (file, line) in book.bib.items():
            if key not in cited:
                found.append(
                    Diagnostic("info", f"bibliography entry '{key}' is never cited", file, line)
                )
    return found


#: bookdown's reference, ``\@ref(label)`` (pandoc reads the ``\@`` as ``@``).
BOOKDOWN_REF = re.compile(r"@ref\(([^()\s]+)\)")


def check_bookdown_refs(book: Book) -> list[Diagnostic]:
    """bookdown's ``\\@ref(label)`` to a label the book does not define (warning, as ``pdf``
    warns and prints ??). Known: every id (headings' generated ones too), the labels of
    :func:`~bookbuild.dialects.labels.dialect_labels`, and ``kind:name`` where ``name`` is an
    id or a chunk's label (``thm:pyth`` for ```` ```{theorem, pyth} ````, ``tab:cars`` …)."""
    import panflute as pf

    if not any(p.stem == "bookdown" for p in book.config.filters):
        return []
    uses = [
        (source, label)
        for source, elem in book.elements()
        if isinstance(elem, pf.Str) and "@ref(" in elem.text
        for label in BOOKDOWN_REF.findall(elem.text)
    ]
    if not uses:
        return []
    known = _quarto_labels(book) | {
        label.replace("tbl:", "tab:", 1) for label in _quarto_labels(book)
    }
    for _, elem in book.elements():
        if isinstance(elem, pf.CodeBlock) and CELL_ATTRIBUTE in elem.attributes:
            header = elem.attributes[CELL_ATTRIBUTE]
            first = header.split(",")[0].strip()
            named = re.search(r"\blabel\s*=\s*[\"']([^\"']+)", header)
            known |= (
                {named.group(1)} if named else ({first} if first and "=" not in first else set())
            )
    found: list[Diagnostic] = []
    for source, label in uses:
        pattern = re.escape(f"@ref({label})")
        name = label.split(":", 1)[1] if ":" in label else None
        if label in known or (name is not None and name in known):
            book.locate(source, pattern)
            continue
        message = f"reference '\\@ref({label})': no such label in the book"
        found.append(book.diagnostic(source, pattern, "warning", message))
    return found


def _quarto_labels(book: Book) -> set[str]:
    """Every id the book's elements carry, and the labels Quarto writes elsewhere (a cell's
    ``#| label: fig-x``), as :func:`bookbuild.dialects.labels.dialect_labels` names them."""
    from ..dialects.labels import dialect_labels

    found = {getattr(e, "identifier", "") for _, e in book.elements()} - {""}
    for source in book.chapters:
        found |= dialect_labels(source.text)
    return found


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "header-includes":
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def check_footnotes(book: Book) -> list[Diagnostic]:
    """``[^id]`` with no ``[^id]:`` definition (error); definitions never used or repeated
    (warning). Footnotes are book-wide: the metadata may use a chapter's definitions; with
    ``build.note_scope: chapter`` each chapter file has its own (the metadata still finds
    its notes in any chapter)."""
    per_chapter = book.config.note_scope == "chapter"
    found: list[Diagnostic] = []
    refs: dict[tuple[str, str], tuple[Source, int]] = {}
    defs: dict[tuple[str, str], tuple[Source, int]] = {}
    for text in _strings(book.config.metadata):
        for match in NOTE_USE.finditer(text):
            note = match.group(1)
            lines = book.metadata.lines_of(re.escape(match.group(0)))
            refs.setdefault(("", note), (book.metadata, lines[0] if lines else 1))
    for source in book.chapters:
        scope = source.label if per_chapter else ""
        definitions = list(NOTE_DEFINITION.finditer(source.masked))
        at_definition = {m.end() - 1 for m in definitions}  # the ':' after each [^id]
        for match in definitions:
            note, line = match.group(1), source.line_at(match.start())
            if (scope, note) in defs:
                first, first_line = defs[(scope, note)]
                message = (
                    f"footnote [^{note}] is defined twice (first at {first.label}:{first_line})"
                )
                found.append(
                    Diagnostic("error" if per_chapter else "warning", message, source.label, line)
                )
            else:
                defs[(scope, note)] = (source, line)
        for match in NOTE_USE.finditer(source.masked):
            if match.end() not in at_definition:
                refs.setdefault((scope, match.group(1)), (source, source.line_at(match.start())))
    defined = {note for _, note in defs}
    used_by_metadata = {note for scope, note in refs if scope == "" and per_chapter}
    for (scope, note), (source, line) in refs.items():
        if (scope, note) not in defs and not (source is book.metadata and note in defined):
            message = f"footnote [^{note}] has no definition ([^{note}]: text)"
            found.append(Diagnostic("error", message, source.label, line))
    for (scope, note), (source, line) in defs.items():
        if (scope, note) not in refs and note not in used_by_metadata:
            message = f"footnote [^{note}] is defined but never used"
            found.append(Diagnostic("warning", message, source.label, line))
    return found


def check_crossrefs(book: Book) -> list[Diagnostic]:
    """``@fig:x`` with no ``{#fig:x}`` in the book; a label defined twice (both errors)."""
    import panflute as pf

    found: list[Diagnostic] = []
    labels: dict[str, tuple[str, int]] = {}
    refs: list[tuple[Source, str]] = []
    for source, elem in book.elements():
        in_text = LEADING_LABEL.match(elem.text) if isinstance(elem, pf.Str) else None
        label = in_text.group(1) if in_text else getattr(elem, "identifier", "") or ""
        if CROSSREF_ID.match(label):
            where, line = book.locate(source, label_pattern(label))
            if label in labels:
                first = "{}:{}".format(*labels[label])
                message = f"cross-reference label '{label}' is defined twice (first at {first})"
                found.append(Diagnostic("error", message, where.label, line))
            else:
                labels[label] = (where.label, line)
        if isinstance(elem, pf.Cite):
            refs += [(source, c.id) for c in elem.citations if CROSSREF_ID.match(c.id)]
    for source, written in refs:
        prefix, _, name = written.partition(":")
        label = f"{prefix.lower()}:{name}"
        pattern = cite_pattern(written)
        if label in labels:
            book.locate(source, pattern)
            continue
        message = (
            f"unknown cross-reference '@{written}': no {{#{label}}} in the book"
            f"{did_you_mean(label, list(labels), '@')}"
        )
        found.append(book.diagnostic(source, pattern, "error", message))
    return found


_IMAGE_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".eps", ".svg")


#: ``src`` of an ``<img>`` in raw HTML (the html filter makes it an image in ``pdf``).
_HTML_IMG_SRC = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']""", re.I)


def _images(book: Book) -> Iterator[tuple[Source, str]]:
    """(source, URL) of every image: Markdown images and ``<img>`` in raw HTML."""
    import panflute as pf

    for source, elem in book.elements():
        if isinstance(elem, pf.Image):
            yield source, elem.url
        elif isinstance(elem, pf.RawBlock | pf.RawInline) and elem.format == "html":
            for match in _HTML_IMG_SRC.finditer(elem.text):
                yield source, match.group(1)


def check_images(book: Book) -> list[Diagnostic]:
    """Images whose file does not exist (relative to the book directory): a warning, as
    ``pdf`` prints a placeholder for them."""
    found: list[Diagnostic] = []
    book_dir = book.config.book_dir
    for source, url in _images(book):
        # a layout book's paths are made relative to the book: the page wrote a shorter one
        pattern = re.escape(url if url in source.text else url.rsplit("/", 1)[-1])
        if re.match(r"(?i)https?://", url):
            message = f"remote image '{url}' is not downloaded: a placeholder is printed"
            found.append(book.diagnostic(source, pattern, "warning", message))
            continue
        if re.match(r"[a-zA-Z][\w+.-]*:", url):
            continue
        path = book_dir / unquote(url)
        candidates = (
            [path] if path.suffix else [path, *(path.with_suffix(s) for s in _IMAGE_SUFFIXES)]
        )
        if source is not book.metadata:  # relative to the chapter's own folder (GitBook, Quarto)
            candidates.append(source.path.parent / unquote(url))
        if any(p.is_file() for p in candidates):
            book.locate(source, pattern)
            continue
        message = f"image '{url}' not found in {display_path(book_dir)}/: a placeholder is printed"
        found.append(book.diagnostic(source, pattern, "warning", message))
    return found


def check_links(book: Book) -> list[Diagnostic]:
    """Links to ``#id`` where no heading (or other element) of the book has that id."""
    import panflute as pf

    elements = list(book.elements())
    ids = {getattr(e, "identifier", "") for _, e in elements} - {""}
    if book.has_bibliography:
        ids.add("refs")  # citeproc's reference list
    found: list[Diagnostic] = []
    for source, elem in elements:
        if not isinstance(elem, pf.Link) or not elem.url.startswith("#"):
            continue
        target = unquote(elem.url[1:])
        pattern = rf"(?:\(\s*<?|\]:[ \t]*<?){re.escape(elem.url)}(?=[\s)>]|$)"
        if target in ids:
            book.locate(source, pattern)
            continue
        message = (
            f"link to '#{target}': no heading has that id{did_you_mean(target, sorted(ids), '#')}"
        )
        found.append(book.diagnostic(source, pattern, "warning", message))
    return found


_MATH_ONLY_NAMES = """
    alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu
    xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta
    Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega
    rightarrow leftarrow Rightarrow Leftarrow leftrightarrow Leftrightarrow longrightarrow
    longleftarrow Longrightarrow Longleftarrow mapsto to gets uparrow downarrow implies iff
    leq geq neq le ge ne approx equiv sim simeq cong propto ll gg subset subseteq supset
    supseteq in notin ni times cdot div pm mp cap cup wedge vee oplus otimes circ ast star
    sum prod int oint lim infty partial nabla forall exists emptyset cdots vdots ddots frac
    dfrac tfrac sqrt log ln exp sin cos tan max min mathbb mathcal mathrm mathbf mathit
    mathsf hat bar vec tilde overline left right prime ell hbar neg lnot langle rangle
    lfloor rfloor lceil rceil mid parallel perp angle
"""
#: LaTeX commands that only work in math mode (a curated list; text-mode commands such as
#: \copyright, \ldots or \S are not in it).
MATH_ONLY = frozenset(_MATH_ONLY_NAMES.split())
_STRUCTURE = re.compile(r"\\(part|chapter)\*?\s*(?:\[[^\]]*\])?\s*\{([^}]*)\}|\\(part|chapter)\b")
_RAW_FORMATS = ("tex", "latex")


def _brace_balance(latex: str) -> int:
    """Open minus closed braces, ignoring ``\\{``, ``\\}`` and ``%`` comments."""
    latex = re.sub(r"\\[\\{}%]", "", latex)
    latex = re.sub(r"%.*", "", latex)
    return latex.count("{") - latex.count("}")


def check_raw_latex(book: Book) -> list[Diagnostic]:
    """Raw LaTeX that fails or bypasses bookbuild: math commands outside math (error),
    unbalanced braces (error), ``\\part``/``\\chapter`` (warning), a stray ``}`` after a link
    (warning: LaTeX prints it)."""
    import panflute as pf

    found: list[Diagnostic] = []
    for source, elem in book.elements():
        if isinstance(elem, pf.Link):
            after = elem.next
            if isinstance(after, pf.Str) and after.text.count("}") > after.text.count("{"):
                pattern = re.escape(elem.url) + r"[)>]*" + re.escape(after.text)
                message = f"stray '}}' after the link to {elem.url} (printed as a brace); remove it"
                found.append(book.diagnostic(source, pattern, "warning", message))
            continue
        if not isinstance(elem, pf.RawInline | pf.RawBlock) or elem.format not in _RAW_FORMATS:
            continue
        latex = elem.text.strip()
        command = re.match(r"\\([A-Za-z]+)", latex)
        if isinstance(elem, pf.RawInline) and command and command.group(1) in MATH_ONLY:
            name = "\\" + command.group(1)
            message = f"math command {name} outside math: write ${name}$"
            found.append(
                book.diagnostic(source, re.escape(name) + "(?![A-Za-z])", "error", message)
            )
        for match in _STRUCTURE.finditer(latex):
            kind, title = match.group(1) or match.group(3), match.group(2) or "Title"
            hint = f"# {title} {{.part}}" if kind == "part" else f"# {title}"
            message = f"raw \\{kind} in the text: use a heading, {hint}"
            pattern = re.escape("\\" + kind) + "(?![A-Za-z])"
            found.append(book.diagnostic(source, pattern, "warning", message))
        balance = _brace_balance(latex)
        if balance:
            first = latex.splitlines()[0] if latex else ""
            what = f"{balance} '{{' never closed" if balance > 0 else f"{-balance} '}}' too many"
            message = f"unbalanced braces in raw LaTeX ({what}): {first[:60]}"
            found.append(book.diagnostic(source, re.escape(first), "error", message))
    return found


_NUMBERED = re.compile(r"^( *)((?:\d{1,9}|[a-zA-Z]|[ivxlcdmIVXLCDM]+|#)[.)])( +)(\S.*)$")
_BULLET = re.compile(r"^( +)[-*+](?: |$)")


def check_list_indent(book: Book) -> list[Diagnostic]:
    """A bullet under a numbered item indented less than the item's text: pandoc does not
    nest it and ends the numbered list there. One warning per numbered item."""
    found: list[Diagnostic] = []
    for source in book.chapters:
        lines = source.masked.split("\n")
        for number, line in enumerate(lines, start=1):
            item = _NUMBERED.match(line)
            if not item:
                continue
            indent, spaces = len(item.group(1)), len(item.group(3))
            column = indent + len(item.group(2)) + (spaces if spaces <= 4 else 1)
            for later, text in enumerate(lines[number:], start=number + 1):
                lead = len(text) - len(text.lstrip(" "))
                if not text.strip() or lead >= column:
                    continue
                bullet = _BULLET.match(text)
                if bullet and indent < lead < column:
                    message = (
                        f"list item indented {lead} spaces does not nest under "
                        f"'{item.group(2)} {item.group(4).strip()}' (line {number}); pandoc "
                        f"ends the numbered list here: indent it {column} spaces"
                    )
                    found.append(Diagnostic("warning", message, source.label, later))
                break
    return found


def check_empty_sections(book: Book) -> list[Diagnostic]:
    """Headings followed directly by a heading of the same or a higher level, or by the end
    of the chapter (info: what is left to write). Part headings, a layout's draft pages
    (listed in its table of contents, no file yet) and the last heading of a book with a
    bibliography (citeproc puts the references there) are not counted."""
    import panflute as pf

    def is_content(block: Any) -> bool:
        return not (isinstance(block, pf.RawBlock) and block.text.startswith("<!--"))

    chapters = [(source, [b for b in blocks if is_content(b)]) for source, blocks in book.blocks]
    last = next((blocks[-1] for _, blocks in reversed(chapters) if blocks), None)
    found: list[Diagnostic] = []
    for source, content in chapters:
        for index, block in enumerate(content):
            if not isinstance(block, pf.Header):
                continue
            level = block.level
            where = source.next_line(heading_pattern(level))
            after = content[index + 1] if index + 1 < len(content) else None
            empty = after is None or (isinstance(after, pf.Header) and after.level <= level)
            if "part" in block.classes or "draft" in block.classes:  # a layout's draft page
                empty = False
            if block is last and book.has_bibliography:
                empty = False
            if empty:
                written = source.text.split("\n")[where - 1].strip() if where else ""
                if not written.startswith("#"):
                    written = f"{'#' * level} {written or pf.stringify(block)}"
                message = f"empty section: {written}"
                found.append(Diagnostic("info", message, source.label, where or 1))
    return found


def check_unprinted(book: Book) -> list[Diagnostic]:
    """Raw HTML the html filter cannot convert (or that nothing converts) and text printed
    literally that looks like LaTeX: the warnings ``pdf`` gives (see :mod:`bookbuild.lost`).
    Runs the book's html filter (if it has one) on a copy of the document."""

    from ..diagnostics import SourceText, diagnostic_from_text
    from ..filters import load_filter, run_filters
    from ..lost import scan_document
    from ..pandoc import doc_to_json, load_json
    from ..stages.transform import mark_block_sources

    kinds = frozenset({"html", "latex"})
    if not scan_document(book.doc, {}, True, kinds):
        # The usual case, without copying the document to find the lines: with no raw HTML
        # (comments aside) the html filter has nothing to convert or warn about either.
        return []
    html = [load_filter(path) for path in book.config.filters if path.stem == "html"]
    root = book.config.source_root
    sources = {
        s.path.relative_to(root).as_posix(): SourceText(
            s.path.relative_to(root).as_posix(), s.text, s.label
        )
        for s in book.chapters
    }
    copy = load_json(doc_to_json(book.doc))
    mark_block_sources(copy, sources)
    copy.bookbuild_warnings = []
    if html:
        copy = run_filters(copy, html)
    found = [diagnostic_from_text(w) for w in copy.bookbuild_warnings]
    for diagnostic in found:  # a filter names a chapter by its marker label
        if diagnostic.file in sources:
            diagnostic.file = sources[diagnostic.file].display
    return found + scan_document(copy, sources, True, kinds)


CHECKS: tuple[Callable[[Book], list[Diagnostic]], ...] = (
    check_citations,
    check_bookdown_refs,
    check_footnotes,
    check_crossrefs,
    check_images,
    check_links,
    check_raw_latex,
    check_list_indent,
    check_empty_sections,
    check_glyphs,  # characters no font has (issue 14)
    check_index_entries,  # check/index.py
    check_unprinted,
)
