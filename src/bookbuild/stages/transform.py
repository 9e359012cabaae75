"""Stage 3, transform: the book's document between reading and writing.

The read stage hands over pandoc JSON; here it becomes a panflute Doc (the one place it
does), every top-level block gets its source marker, the filters run in-process, images are
checked, the metadata is finished (bibliography, CSL style, institute, Roman front matter)
and the chapters get their .tex marks; then it is pandoc JSON again, for the writer.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..chapter_bibliography import apply_chapter_bibliography
from ..config import ENGINES, BookConfig
from ..diagnostics import Diagnostic, SourceText, diagnostic_from_text
from ..errors import BookbuildError
from ..filters import filterlib, load_filter, run_filters
from ..fonts import setup_fonts
from ..images import RASTER, VECTOR, prepare_images, source_place
from ..lost import scan_document
from ..markers import panflute_label, src_marker, tex_mark
from ..pandoc import doc_to_json, load_json
from ..paths import display_path
from ..print_edition import apply_print_edition


@dataclass
class Document:
    """Chapters on their way to LaTeX: pandoc JSON (text: one object, however large the book)
    holding each chapter after its marker, the files they came from, and context for the
    filters (set as attributes of the Doc, e.g. ``bookbuild_crossref_context``)."""

    text: str
    sources: dict[str, SourceText]
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class Transformed:
    """The document ready for the writer (pandoc JSON text, and parsed when asked), the
    filters' warnings, and what the cross-reference filter exported (labels and counters
    per chapter, for chapter rebuilds)."""

    text: str
    warnings: list[Diagnostic]
    crossref_export: dict[str, Any] | None = None

    @functools.cached_property
    def data(self) -> dict[str, Any]:
        return dict(json.loads(self.text))


def transform(
    document: Document, config: BookConfig, modules: list[Any], skip: bool = True
) -> Transformed:
    """Source markers, the filters, the images (converted, checked), the scan for what
    would print raw, the finished metadata and the .tex chapter marks; an unusable
    image is an error here, before LaTeX runs (a missing one a placeholder and a warning).
    ``skip``: filters leave out walks their skip rules find nothing for (the same output;
    see ``filters.run_filters``)."""
    with _cyclic_gc_paused():
        return _transform(document, config, modules, skip)


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Python's cycle collector paused while the document is a panflute Doc: its 100 000s of
    elements (each pointing at its parent) were traversed again and again as the filters
    allocated (a tenth of the stage at 300 pages); the cycles left are collected after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _transform(
    document: Document, config: BookConfig, modules: list[Any], skip: bool
) -> Transformed:
    doc = load_json(document.text)
    mark_block_sources(doc, document.sources)
    for name, value in document.context.items():
        setattr(doc, name, value)
    doc = apply_filters(doc, config, "latex", modules, skip)
    setup_fonts(doc, config)  # fonts for every character (issue 14); warns on the doc
    warnings = [
        _displayed(diagnostic_from_text(w), config) for w in getattr(doc, "bookbuild_warnings", [])
    ]
    # SVG, GIF … converted, remote images as placeholders (bookbuild.images); both walks
    # only look at images, so a book without any skips them (as the filters' skip rules do)
    images = not skip or "Image" in filterlib().census(doc)
    problems = prepare_images(doc, config, document.sources) if images else []
    warnings += [d for d in problems if d.severity == "warning"]
    errors = [d for d in problems if d.severity == "error"]
    errors += image_errors(doc, config, document.sources) if images else []
    if errors:
        raise BookbuildError(errors[0].message, diagnostics=errors)
    # What LaTeX would print raw or drop, as `bookbuild check` finds it (bookbuild.lost)
    warnings += scan_document(doc, document.sources, has_bibliography(config))
    export = getattr(doc, "crossref_export", None)
    finish_metadata(doc, config)
    insert_tex_marks(doc)
    return Transformed(doc_to_json(doc), warnings, export)


def _displayed(diagnostic: Diagnostic, config: BookConfig) -> Diagnostic:
    """A filter's warning names a chapter by its marker label (from the book directory's
    parent); messages show paths from the working directory, as every other message does."""
    if diagnostic.file and (config.source_root / diagnostic.file).is_file():
        diagnostic.file = display_path(config.source_root / diagnostic.file)
    return diagnostic


def insert_tex_marks(doc: Any) -> None:
    """A LaTeX comment after each chapter marker, so the .tex can be cut into chapters."""
    import panflute as pf

    blocks = []
    for block in doc.content:
        blocks.append(block)
        label = panflute_label(block)
        if label is not None:
            blocks.append(pf.RawBlock(tex_mark(label), "latex"))
    doc.content = blocks


def apply_filters(
    doc: Any,
    config: BookConfig,
    output_format: str = "latex",
    modules: list[Any] | None = None,
    skip: bool = True,
) -> Any:
    """The configured filters, in-process, in order."""
    if modules is None:
        modules = [load_filter(path) for path in config.filters]
    import panflute as pf  # the book's folder, for filters that read files in it (_variables.yml)

    doc.metadata["bookbuild-book-dir"] = pf.MetaString(str(config.book_dir))
    return run_filters(doc, modules, output_format, skip)


def finish_metadata(doc: Any, config: BookConfig) -> None:
    """Point pandoc at the resolved bibliography and CSL style; put the institute on the
    title page under the author."""
    import panflute as pf

    if config.csl_path is not None:
        doc.metadata["csl"] = pf.MetaString(str(config.csl_path))
    if config.bibliography:
        doc.metadata["bibliography"] = pf.MetaList(
            *[pf.MetaString(str(p)) for p in config.bibliography]
        )
    number_front_matter_in_roman(doc)
    provide_abstract(doc)
    apply_print_edition(doc)  # trim, binding margins, bleed, black links (print: true)
    apply_chapter_bibliography(doc, config)  # bibliography-placement: per-chapter
    institute = doc.metadata.content.get("institute")
    author = doc.metadata.content.get("author")
    if institute is None or not isinstance(author, pf.MetaInlines):
        return
    values = (
        institute.content.values()
        if isinstance(institute, pf.MetaMap)
        else (institute.content if isinstance(institute, pf.MetaList) else [institute])
    )
    for value in values:
        inlines = (
            list(value.content)
            if isinstance(value, pf.MetaInlines)
            else [pf.Str(pf.stringify(value))]
        )
        author.content.extend([pf.LineBreak(), pf.Emph(*inlines)])


#: An abstract environment for classes without one (book, scrbook), which bookdown books
#: name; pandoc's template puts the abstract in it.
ABSTRACT_ENVIRONMENT = r"""\makeatletter
\@ifundefined{abstract}{\providecommand{\abstractname}{Abstract}%
  \newenvironment{abstract}{\begin{center}\bfseries\abstractname\end{center}\quotation}%
  {\endquotation}}{}
\makeatother"""


def provide_abstract(doc: Any) -> None:
    """With an abstract: the ``abstract`` environment, defined when the class lacks one."""
    if doc.get_metadata("abstract", None) is not None:
        filterlib().add_header_include(doc, ABSTRACT_ENVIRONMENT)


def number_front_matter_in_roman(doc: Any) -> None:
    """With a table of contents: front matter numbered i, ii …, chapters from 1, as books are.

    Besides being the convention, it keeps the chapters' page numbers the same whether or
    not the contents are typeset yet, so a cold build settles in two LaTeX passes, not three.
    (PDF page labels are off: they would need a third pass to learn where chapter 1 starts.)
    """
    import panflute as pf

    if not doc.get_metadata("toc", False):
        return
    filterlib().add_header_include(
        doc,
        "\\PassOptionsToPackage{pdfpagelabels=false}{hyperref}\n"
        "\\AtBeginDocument{\\pagenumbering{roman}}",
    )
    doc.content.insert(0, pf.RawBlock("\\clearpage\\pagenumbering{arabic}", "latex"))


#: Image formats each engine includes without shell escape.
IMAGE_FORMATS = {engine: {".pdf", ".png", ".jpg", ".jpeg"} for engine in ENGINES}
#: Formats bookbuild.images converts (an image left in one failed: it said why).
CONVERTED = VECTOR | RASTER


def has_bibliography(config: BookConfig) -> bool:
    """A bibliography file or ``references:`` in the metadata: citations have somewhere to go."""
    return bool(config.bibliography or config.metadata.get("references"))


def image_errors(doc: Any, config: BookConfig, sources: dict[str, SourceText]) -> list[Diagnostic]:
    """Images the engine cannot include, found before LaTeX runs (a missing image is already
    a placeholder with a warning: ``images.prepare_images``)."""
    import panflute as pf

    found: list[Diagnostic] = []
    formats = IMAGE_FORMATS.get(config.engine, IMAGE_FORMATS["xelatex"])

    def visit(elem: Any, doc: Any) -> None:
        if not isinstance(elem, pf.Image) or "://" in elem.url or elem.url.startswith("data:"):
            return
        path = config.book_dir / elem.url
        file, line, text = source_place(sources, elem.url)
        if not path.is_file():
            return  # a missing image is a placeholder and a warning (bookbuild.images)
        if path.suffix and path.suffix.lower() not in formats | CONVERTED:
            found.append(
                Diagnostic(
                    "error",
                    f"image '{elem.url}' is a {path.suffix.lower()} file, which "
                    f"{config.engine} cannot include",
                    file,
                    line,
                    text,
                    "convert it to PNG, JPEG or PDF",
                )
            )

    filterlib().walk(doc, visit, doc, (pf.Image,))
    return found


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def _block_probe(block: Any) -> list[str]:
    """The first words of a block, to find it in the source."""
    import panflute as pf

    if isinstance(block, pf.RawBlock | pf.CodeBlock):
        return _words(block.text)[:3]
    return _words(filterlib().stringify(block))[:3]


def _find_probe(tokens: Sequence[list[str]], probe: list[str], start: int) -> int | None:
    """First line index >= start whose words (with the next line's) hold ``probe`` in order."""
    for index in range(start, len(tokens)):
        if not tokens[index] or probe[0] not in tokens[index]:
            continue
        window = tokens[index][tokens[index].index(probe[0]) :]
        if index + 1 < len(tokens):
            window = window + tokens[index + 1]
        position = 0
        for word in window:
            if position < len(probe) and word == probe[position]:
                position += 1
        if position == len(probe):
            return index
    return None


def mark_block_sources(doc: Any, sources: dict[str, SourceText]) -> None:
    """Put a ``% bookbuild:src FILE:LINE`` RawBlock before each top-level block of each
    chapter (after the chapter markers the assembly left)."""
    import panflute as pf

    blocks: list[Any] = []
    current: SourceText | None = None
    tokens: list[list[str]] = []
    cursor = 0
    for block in doc.content:
        label = panflute_label(block)
        if label is not None:
            current = sources.get(label)
            tokens = [_words(line) for line in current.probe_lines()] if current else []
            cursor = 0
            blocks.append(block)
            continue
        probe = _block_probe(block) if current else []
        if current and probe:
            found = _find_probe(tokens, probe, cursor)
            if found is not None:
                cursor = found + 1
                line = current.line_of(found + 1)  # as written (includes)
                blocks.append(pf.RawBlock(src_marker(current.label, line), "latex"))
        blocks.append(block)
    doc.content = blocks
