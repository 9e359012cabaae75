"""``bookbuild check``: find the book's mistakes before LaTeX runs, each at its file and line.

One pandoc read of the assembled book (no filters, no LaTeX) gives the AST; each check is a
function ``check_*(book) -> list[Diagnostic]`` over the loaded :class:`Book`, testable alone.
Lines are found by searching the chapter's text (:mod:`bookbuild.locate`).
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from .assemble import as_written, chapter_marker, read_chapters
from .config import BookConfig, config_path_for, display_path, load_config
from .diagnostics import Diagnostic
from .errors import (
    EXIT_BUILD_FAILED,
    EXIT_CONFIG,
    EXIT_OK,
    EXIT_STRICT,
    BookbuildError,
    ConfigError,
)
from .locate import Source, cite_pattern, heading_pattern, label_pattern

# -- the loaded book -----------------------------------------------------------------------


@dataclass
class Book:
    """Everything the checks read: config, sources, the parsed document, bibliography keys."""

    config: BookConfig
    metadata: Source  # the file the metadata is written in (book.yaml or its metadata file)
    chapters: list[Source]
    blocks: list[tuple[Source, list[Any]]]  # each chapter's top-level blocks, in book order
    doc: Any
    bib: dict[str, tuple[str, int]] = field(default_factory=dict)  # key -> (file, line)

    @property
    def has_bibliography(self) -> bool:
        """A bibliography file or ``references:`` in the metadata: citeproc makes a list."""
        return bool(self.config.bibliography or self.bib)

    def reset(self) -> None:
        """Forget which matches were handed out (each check counts occurrences afresh)."""
        for source in (self.metadata, *self.chapters):
            source.reset()

    def elements(self) -> Iterator[tuple[Source, Any]]:
        """Every AST element with the source it was written in: metadata first, then the
        chapters in order; children before their parent, siblings in order."""
        for key, value in self.doc.metadata.content.items():
            if key != "header-includes":  # the preamble, not the author's Markdown
                yield from ((self.metadata, e) for e in _walk(value))
        for source, blocks in self.blocks:
            for block in blocks:
                yield from ((source, e) for e in _walk(block))

    def locate(self, source: Source, pattern: str) -> tuple[Source, int]:
        """The source and line of ``pattern``'s next match in ``source``; else its first match
        in another file of the book (a footnote defined in another chapter); else line 1."""
        line = source.next_line(pattern)
        if line is not None:
            return source, line
        for other in [self.metadata, *self.chapters]:
            if other is not source and other.lines_of(pattern):
                return other, other.lines_of(pattern)[0]
        return source, 1

    def diagnostic(self, source: Source, pattern: str, severity: str, message: str) -> Diagnostic:
        where, line = self.locate(source, pattern)
        return Diagnostic(severity, message, where.label, line)


def _walk(elem: Any) -> list[Any]:
    found: list[Any] = []
    elem.walk(lambda e, _doc: found.append(e))
    return found


def _metadata_path(config: BookConfig) -> Path:
    data = yaml.safe_load(config.config_path.read_text(encoding="utf-8"))
    name = data.get("metadata") if isinstance(data, dict) else None
    return config.book_dir / name if isinstance(name, str) else config.config_path


_BIB_ENTRY = re.compile(r"^[ \t]*@(\w+)[ \t]*[{(][ \t]*([^,\s]+)[ \t]*,", re.M)
#: An entry's id in CSL JSON (``"id": "key"``) or CSL YAML (``- id: key``).
_CSL_ID = re.compile(r"""(?:"id"\s*:\s*"([^"]+)"|^[ \t]*-?[ \t]*id:[ \t]*['"]?([^'"\s]+))""", re.M)


def bib_keys(path: Path) -> dict[str, tuple[str, int]]:
    """The entry keys of a bibliography file (BibTeX/BibLaTeX, CSL JSON or CSL YAML) with the
    line each is on, found by a plain text scan."""
    text = path.read_text(encoding="utf-8", errors="replace")
    label = display_path(path)
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    keys: dict[str, tuple[str, int]] = {}
    if path.suffix.lower() in (".json", ".yaml", ".yml"):
        entries = [(m.group(1) or m.group(2), m.start()) for m in _CSL_ID.finditer(text)]
    else:
        entries = [
            (m.group(2), m.start())
            for m in _BIB_ENTRY.finditer(text)
            if m.group(1).lower() not in ("string", "comment", "preamble")
        ]
    for key, offset in entries:
        keys.setdefault(key, (label, bisect.bisect_right(starts, offset)))
    return keys


def load_book(config: BookConfig) -> Book:
    """Read the chapters and parse the assembled book once with pandoc (no filters)."""
    import panflute as pf

    from .build import assemble, read_document

    assembled = assemble(config)
    doc, _ = read_document(assembled, config)
    meta_path = _metadata_path(config)
    metadata = Source(meta_path, meta_path.read_text(encoding="utf-8"))
    chapters = [Source(c.chapter.path, c.text) for c in assembled.chapters]
    by_marker = {
        chapter_marker(c.label): s for c, s in zip(assembled.chapters, chapters, strict=True)
    }
    blocks: list[tuple[Source, list[Any]]] = []
    for block in doc.content:
        if isinstance(block, pf.RawBlock) and block.text in by_marker:
            blocks.append((by_marker[block.text], []))
        elif blocks:
            blocks[-1][1].append(block)
    bib: dict[str, tuple[str, int]] = {}
    for path in config.bibliography:
        for key, place in bib_keys(path).items():
            bib.setdefault(key, place)
    for entry in config.metadata.get("references") or []:  # references: in the metadata
        if isinstance(entry, dict) and "id" in entry:
            lines = metadata.lines_of(rf"\bid:[ \t]*['\"]?{re.escape(str(entry['id']))}")
            bib.setdefault(str(entry["id"]), (metadata.label, lines[0] if lines else 1))
    return Book(config, metadata, chapters, blocks, doc, bib)


# -- the checks ----------------------------------------------------------------------------

CROSSREF = re.compile(r"(?i)(sec|fig|tbl|eq|lst):")


def _did_you_mean(word: str, candidates: list[str], prefix: str = "") -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"; did you mean '{prefix}{close[0]}'?" if close else ""


def check_citations(book: Book) -> list[Diagnostic]:
    """Citations of keys the bibliography lacks (error); entries never cited (info)."""
    import panflute as pf

    found: list[Diagnostic] = []
    cited: set[str] = set()
    bib_names = ", ".join(display_path(p) for p in book.config.bibliography) or "references:"
    for source, elem in book.elements():
        if not isinstance(elem, pf.Cite):
            continue
        for citation in elem.citations:
            key = citation.id
            cited.add(key)
            if CROSSREF.match(key) or key == "*":
                continue
            pattern = cite_pattern(key)
            if not book.has_bibliography:
                message = f"citation '@{key}' but the book has no bibliography"
            elif key not in book.bib:
                message = (
                    f"citation '@{key}' not found in {bib_names}"
                    f"{_did_you_mean(key, list(book.bib), '@')}"
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


_NOTE_DEF = re.compile(r"^ {0,3}\[\^([^\]\s]+)\]:", re.M)
_NOTE_REF = re.compile(r"\[\^([^\]\s]+)\]")


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
    (warning). Footnotes are book-wide: the metadata may use a chapter's definitions."""
    found: list[Diagnostic] = []
    refs: dict[str, tuple[Source, int]] = {}
    defs: dict[str, tuple[Source, int]] = {}
    for text in _strings(book.config.metadata):
        for match in _NOTE_REF.finditer(text):
            note = match.group(1)
            lines = book.metadata.lines_of(re.escape(match.group(0)))
            refs.setdefault(note, (book.metadata, lines[0] if lines else 1))
    for source in book.chapters:
        definitions = list(_NOTE_DEF.finditer(source.masked))
        at_definition = {m.end() - 1 for m in definitions}  # the ':' after each [^id]
        for match in definitions:
            note, line = match.group(1), source.line_at(match.start())
            if note in defs:
                first, first_line = defs[note]
                message = (
                    f"footnote [^{note}] is defined twice (first at {first.label}:{first_line})"
                )
                found.append(Diagnostic("warning", message, source.label, line))
            else:
                defs[note] = (source, line)
        for match in _NOTE_REF.finditer(source.masked):
            if match.end() not in at_definition:
                refs.setdefault(match.group(1), (source, source.line_at(match.start())))
    for note, (source, line) in refs.items():
        if note not in defs:
            message = f"footnote [^{note}] has no definition ([^{note}]: text)"
            found.append(Diagnostic("error", message, source.label, line))
    for note, (source, line) in defs.items():
        if note not in refs:
            message = f"footnote [^{note}] is defined but never used"
            found.append(Diagnostic("warning", message, source.label, line))
    return found


_TEXT_LABEL = re.compile(r"^\{#((?:sec|fig|tbl|eq|lst):[^\s}]+)")


def check_crossrefs(book: Book) -> list[Diagnostic]:
    """``@fig:x`` with no ``{#fig:x}`` in the book; a label defined twice (both errors)."""
    import panflute as pf

    found: list[Diagnostic] = []
    labels: dict[str, tuple[str, int]] = {}
    refs: list[tuple[Source, str]] = []
    for source, elem in book.elements():
        in_text = _TEXT_LABEL.match(elem.text) if isinstance(elem, pf.Str) else None
        label = in_text.group(1) if in_text else getattr(elem, "identifier", "") or ""
        if CROSSREF.match(label):
            where, line = book.locate(source, label_pattern(label))
            if label in labels:
                first = "{}:{}".format(*labels[label])
                message = f"cross-reference label '{label}' is defined twice (first at {first})"
                found.append(Diagnostic("error", message, where.label, line))
            else:
                labels[label] = (where.label, line)
        if isinstance(elem, pf.Cite):
            refs += [(source, c.id) for c in elem.citations if CROSSREF.match(c.id)]
    for source, written in refs:
        prefix, _, name = written.partition(":")
        label = f"{prefix.lower()}:{name}"
        pattern = cite_pattern(written)
        if label in labels:
            book.locate(source, pattern)
            continue
        message = (
            f"unknown cross-reference '@{written}': no {{#{label}}} in the book"
            f"{_did_you_mean(label, list(labels), '@')}"
        )
        found.append(book.diagnostic(source, pattern, "error", message))
    return found


_IMAGE_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".eps", ".svg")


def check_images(book: Book) -> list[Diagnostic]:
    """Images whose file does not exist (relative to the book directory)."""
    import panflute as pf

    found: list[Diagnostic] = []
    book_dir = book.config.book_dir
    for source, elem in book.elements():
        if not isinstance(elem, pf.Image) or re.match(r"[a-zA-Z][\w+.-]*:", elem.url):
            continue
        pattern = re.escape(elem.url)
        path = book_dir / unquote(elem.url)
        candidates = (
            [path] if path.suffix else [path, *(path.with_suffix(s) for s in _IMAGE_SUFFIXES)]
        )
        if any(p.is_file() for p in candidates):
            book.locate(source, pattern)
            continue
        message = f"image '{elem.url}' not found in {display_path(book_dir)}/"
        found.append(book.diagnostic(source, pattern, "error", message))
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
            f"link to '#{target}': no heading has that id{_did_you_mean(target, sorted(ids), '#')}"
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
    of the chapter (info: what is left to write). Part headings and the last heading of a
    book with a bibliography (citeproc puts the references there) are not counted."""
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
            if "part" in block.classes or (block is last and book.has_bibliography):
                empty = False
            if empty:
                written = source.text.split("\n")[where - 1].strip() if where else ""
                if not written.startswith("#"):
                    written = f"{'#' * level} {written or pf.stringify(block)}"
                message = f"empty section: {written}"
                found.append(Diagnostic("info", message, source.label, where or 1))
    return found


CHECKS: tuple[Callable[[Book], list[Diagnostic]], ...] = (
    check_citations,
    check_footnotes,
    check_crossrefs,
    check_images,
    check_links,
    check_raw_latex,
    check_list_indent,
    check_empty_sections,
)


@dataclass
class Report:
    """The diagnostics of one check run, in file and line order."""

    diagnostics: list[Diagnostic]
    config_invalid: bool = False

    def count(self, severity: str) -> int:
        return sum(d.severity == severity for d in self.diagnostics)

    def summary(self, strict: bool = False) -> str:
        errors, warnings = self.count("error"), self.count("warning")
        text = (
            f"check: {errors} error{'s' * (errors != 1)}, "
            f"{warnings} warning{'s' * (warnings != 1)}, {self.count('info')} info"
        )
        return text + (" (--strict: warnings fail)" if strict and warnings else "")

    def exit_code(self, strict: bool = False) -> int:
        if self.config_invalid:
            return EXIT_CONFIG
        if self.count("error"):
            return EXIT_BUILD_FAILED
        if strict and self.count("warning"):
            return EXIT_STRICT
        return EXIT_OK


# -- running them --------------------------------------------------------------------------


def run_checks(config: BookConfig) -> list[Diagnostic]:
    """Every check on a valid config, sorted by file (book order) and line."""
    book = load_book(config)
    order = {s.label: i for i, s in enumerate([book.metadata, *book.chapters])}
    diagnostics: list[Diagnostic] = []
    for check_one in CHECKS:
        book.reset()
        diagnostics += check_one(book)
    diagnostics = as_written(diagnostics, read_chapters(config))  # includes (lines, warnings)
    return sorted(
        diagnostics,
        key=lambda d: (order.get(d.file or "", len(order)), d.file or "", d.line or 0),
    )


def check(book: Path | None = None) -> Report:
    """Check the book whose ``--book`` argument is ``book`` (None: the nearest book.yaml)."""
    try:
        config = load_config(config_path_for(book))
    except ConfigError as exc:
        return Report(list(exc.diagnostics), config_invalid=True)
    try:
        return Report(run_checks(config))
    except BookbuildError as exc:  # an unreadable chapter, a pandoc failure
        return Report(list(exc.diagnostics))
