"""Chapter preview: one or more chapters printed exactly as they are in the book.

``bookbuild pdf --chapter SEL`` writes ``build/preview/<stem>.pdf``:
- the book's preamble, fonts, geometry and styles; no title page, no table of contents;
- each chapter numbered as in the book (``\\setcounter{chapter}``), its part in the running head;
- citations numbered as in the whole book: citeproc sees every citation of the chapters
  before the preview first, and the reference list keeps only the works the preview cites;
- cross-references to other chapters resolved from the full build's .aux (``xr-hyper``):
  numbers and page numbers as printed in the book. Without a full build: one warning.
The whole book's ASTs come from the read cache, so only the previewed chapters cost time.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .build import BuildResult, book_cache, compile_into, fail_on_warnings
from .builddir import build_lock, output_errors
from .config import ENGINES, BookConfig
from .diagnostics import Diagnostic
from .dialects.labels import dialect_labels
from .errors import SelectionError
from .filters import filterlib, load_filter
from .markers import json_label, marker_block, split_at_chapters
from .pandoc import plain_text
from .paths import display_path
from .pipeline import typeset
from .progress import Progress
from .stages.assemble import Assembled, ChapterText, assemble
from .stages.compile import engine_search_path, start_warm
from .stages.read import header_ids, read_book
from .stages.transform import Document, Transformed
from .stages.warm import WarmEngine, warm_engine
from .syntax import CROSSREF_ID, LABEL_DEFINITION, LABEL_REFERENCE

#: Metadata that makes the title page and the table of contents.
TITLE_PAGE_KEYS = ("title", "subtitle", "author", "date", "abstract", "institute", "toc")


@dataclass
class ChapterInfo:
    """A chapter file's place in the book."""

    text: ChapterText
    blocks: list[Any]
    number: int | None  # "Chapter 5"; None for front matter, parts, unnumbered chapters
    title: str  # its first level-1 heading ("" when it has none)
    part: str  # "Part II: Questions", or ""

    @property
    def stem(self) -> str:
        return self.text.chapter.stem

    def describe(self) -> str:
        number = f"{self.number} " if self.number else ""
        title = f" ({self.title})" if self.title else ""
        return f"{number}{self.stem}{title}"


def split_chapters(book: dict[str, Any], chapters: list[ChapterText]) -> list[ChapterInfo]:
    """Cut the book's JSON at the chapter markers and number chapters and parts as LaTeX does."""
    by_label = {c.label: c for c in chapters}
    roman = filterlib().roman
    infos: list[ChapterInfo] = []
    chapter_number = part_number = 0
    part = ""
    for label, blocks in split_at_chapters(book["blocks"], json_label, list(by_label)):
        info = ChapterInfo(by_label[label], blocks, None, "", part)
        infos.append(info)
        for block in blocks:
            if block["t"] != "Header" or block["c"][0] != 1:
                continue
            classes = block["c"][1][1]
            title = plain_text(block["c"][2])
            if "part" in classes:
                if "unnumbered" not in classes:
                    part_number += 1
                part = (
                    f"Part {roman(part_number)}: {title}" if "unnumbered" not in classes else title
                )
                info.part = ""
            elif not info.title:
                info.title, info.part = title, part
                if "unnumbered" not in classes:
                    chapter_number += 1
                    info.number = chapter_number
    return infos


def select_chapters(infos: list[ChapterInfo], selectors: list[str]) -> list[ChapterInfo]:
    """The chapters named by number, file name or stem, or a title fragment (in book order)."""
    listing = "; ".join(info.describe() for info in infos if info.title)
    chosen: list[ChapterInfo] = []
    for selector in selectors:
        wanted = selector.strip()
        if wanted.isdigit():
            found = [i for i in infos if i.number == int(wanted)]
        else:
            found = [
                i
                for i in infos
                if wanted in (i.stem, i.text.chapter.name, i.text.chapter.path.name)
            ]
            if not found:
                fragment = wanted.casefold()
                found = [i for i in infos if i.title and fragment in i.title.casefold()]
        if not found:
            raise SelectionError(f"no chapter matches '{selector}'; chapters: {listing}")
        if len(found) > 1:
            names = "; ".join(i.describe() for i in found)
            raise SelectionError(f"'{selector}' matches several chapters: {names}")
        if found[0] not in chosen:
            chosen.append(found[0])
    return sorted(chosen, key=infos.index)


def _cites(node: Any, found: list[dict[str, Any]]) -> None:
    """The Cite elements below ``node``, in document order (a plain recursion: this walks
    every chapter before the preview)."""
    if type(node) is list:
        for item in node:
            if type(item) is list or type(item) is dict:
                _cites(item, found)
    elif node.get("t") == "Cite":
        found.append(node)
        _cites(node["c"], found)
    else:
        for value in node.values():
            if type(value) is list or type(value) is dict:
                _cites(value, found)


def citations(blocks: list[Any]) -> list[dict[str, Any]]:
    """The bibliography citations (not cross-references) in ``blocks``, in order."""
    cites: list[dict[str, Any]] = []
    _cites(blocks, cites)
    found = []
    for elem in cites:
        cits = [c for c in elem["c"][0] if not CROSSREF_ID.match(c["citationId"])]
        if cits:
            found.append({"t": "Cite", "c": [cits, [{"t": "Str", "c": "x"}]]})
    return found


def full_build_aux(config: BookConfig) -> Path | None:
    """The .aux of the last full build (same engine first)."""
    stem = Path(config.output).stem
    engines = [config.engine, *ENGINES]
    for engine in dict.fromkeys(engines):
        aux = config.build_dir / f".{engine}" / f"{stem}.aux"
        if aux.is_file():
            return aux
    return None


def _latex(text: str) -> dict[str, Any]:
    return {"t": "RawBlock", "c": ["latex", text]}


def preview_preamble(aux: Path | None) -> str:
    """Running head with the part's name on every page; the full book's labels via xr-hyper."""
    lines = [
        "\\makeatletter\\let\\ps@plain\\ps@myheadings\\makeatother",
        "\\pagestyle{myheadings}",
    ]
    if aux is not None:
        lines += ["\\usepackage{xr-hyper}", f"\\externaldocument{{{aux.with_suffix('')}}}"]
    return "\n".join(lines)


def preview_document(
    book: dict[str, Any], chosen: list[ChapterInfo], config: BookConfig, aux: Path | None
) -> dict[str, Any]:
    """The previewed chapters as pandoc JSON, with the book's metadata minus its title page."""
    meta = {k: v for k, v in book["meta"].items() if k not in TITLE_PAGE_KEYS}
    includes = meta.get("header-includes", {"t": "MetaList", "c": []})
    if includes["t"] != "MetaList":
        includes = {"t": "MetaList", "c": [includes]}
    includes["c"].append({"t": "MetaBlocks", "c": [_latex(preview_preamble(aux))]})
    meta["header-includes"] = includes
    blocks: list[Any] = []
    for info in chosen:
        blocks.append(marker_block(info.text.label))
        if info.number:
            blocks.append(_latex(f"\\setcounter{{chapter}}{{{info.number - 1}}}"))
        heading_seen = False
        for block in info.blocks:
            blocks.append(block)
            if not heading_seen and block["t"] == "Header" and block["c"][0] == 1:
                heading_seen = True
                mark = info.part or info.title
                blocks.append(_latex(f"\\markright{{{_escape_tex(mark)}}}"))
    return {**book, "meta": meta, "blocks": blocks}


def _label_id(reference: str) -> str:
    """``Fig:a`` -> ``fig:a`` (capitalised references name the same label)."""
    return reference[0].lower() + reference[1:]


def _escape_tex(text: str) -> str:
    return re.sub(r"([#$%&_{}])", r"\\\1", text).replace("~", "\\textasciitilde{}")


#: Drops the earlier chapters' citations and the works the preview does not cite, after
#: citeproc, in the one pandoc run that writes the preview's LaTeX.
CITATIONS_FILTER = Path(__file__).with_name("preview_citations.lua")


def with_earlier_citations(data: dict[str, Any], earlier: list[dict[str, Any]]) -> dict[str, Any]:
    """The preview with [earlier citations] before it and a reference list after it, for
    citeproc to number as in the book (:data:`CITATIONS_FILTER` then takes them out)."""
    hidden = {
        "t": "Div",
        "c": [["bookbuild-earlier-citations", [], []], [{"t": "Para", "c": earlier}]],
    }
    heading = {
        "t": "Header",
        "c": [
            2,
            ["bookbuild-preview-references", ["unnumbered"], []],
            [{"t": "Str", "c": "References"}],
        ],
    }
    return {
        **data,
        "blocks": [hidden, *data["blocks"], heading, {"t": "Div", "c": [["refs", [], []], []]}],
    }


def preview_name(chosen: list[ChapterInfo]) -> str:
    return "+".join(info.stem for info in chosen)


def preview(
    config: BookConfig,
    selectors: list[str],
    progress: Progress,
    output: Path | None = None,
    strict: bool = False,
) -> BuildResult:
    """Build the PDF of the chapters ``selectors`` name; the book's PDF is not touched."""
    with output_errors():
        return _preview(config, selectors, progress, output, strict)


def _preview(
    config: BookConfig,
    selectors: list[str],
    progress: Progress,
    output: Path | None,
    strict: bool,
) -> BuildResult:
    start = time.perf_counter()
    progress.strict = strict
    with contextlib.ExitStack() as engines:
        guessed = guess_name(config, selectors)
        warm = _warm_engine(config, guessed, engines) if guessed else None
        return _typeset_preview(config, selectors, progress, output, strict, start, engines, warm)


def _typeset_preview(
    config: BookConfig,
    selectors: list[str],
    progress: Progress,
    output: Path | None,
    strict: bool,
    start: float,
    engines: contextlib.ExitStack,
    warm: WarmEngine | None,
) -> BuildResult:
    cache = book_cache(config)
    with progress.stage("assemble", f"{len(config.chapters)} chapters"):
        assembled: Assembled = assemble(config)
    with progress.stage("read") as detail:
        book, read_warnings = read_book(config, assembled.chapters, cache)
        detail.append(f"{cache.misses} read, {cache.hits} cached")
    infos = split_chapters(book, assembled.chapters)
    if config.layout is not None:  # a layout book: pages at any depth, numbered as in it
        from .layouts.preview import select_pages

        chosen = select_pages(config.layout, infos, selectors)
    else:
        chosen = select_chapters(infos, selectors)
    name = preview_name(chosen)
    if name != guess_name(config, selectors):  # no engine started yet for this preview
        engines.close()
        warm = _warm_engine(config, name, engines)
    target = output or config.build_dir / "preview" / f"{name}.pdf"
    progress.say(
        f"bookbuild: preview of {', '.join(i.describe() for i in chosen)} -> "
        f"{display_path(target)} ({config.engine})"
    )
    first = infos.index(chosen[0])
    # the title page and abstract come first in the book, then the chapters before
    earlier = citations([book["meta"].get(k) for k in TITLE_PAGE_KEYS if k in book["meta"]])
    earlier += citations([b for info in infos[:first] for b in info.blocks])
    shown = {info.text.label for info in chosen}
    own_labels = {m for info in chosen for m in LABEL_DEFINITION.findall(info.text.text)}
    external = {
        m
        for info in infos
        if info.text.label not in shown
        for m in LABEL_DEFINITION.findall(info.text.text)
    }
    # Quarto and bookdown chapters name their labels their own way (dialects/labels.py).
    external |= {m for i in infos if i.text.label not in shown for m in dialect_labels(i.text.text)}
    aux = full_build_aux(config)
    previewed_files = {display_path(info.text.chapter.path) for info in chosen}
    warnings = [w for w in read_warnings if w.file in previewed_files]
    referenced = {_label_id(m) for info in chosen for m in LABEL_REFERENCE.findall(info.text.text)}
    outside = referenced - own_labels
    if aux is None and outside:
        warnings.append(
            Diagnostic(
                "warning",
                "no full build of the book yet: references to other chapters print as ?? "
                f"({len(outside)} label(s)); run `bookbuild pdf` once",
            )
        )
    numbered = bool(config.bibliography and config.metadata.get("citeproc", True))

    def number_citations(transformed: Transformed) -> dict[str, Any]:
        if not numbered:
            return transformed.data
        return with_earlier_citations(transformed.data, earlier)

    document = Document(
        json.dumps(preview_document(book, chosen, config, aux)),
        assembled.sources,
        {
            "bookbuild_external_labels": external,
            # the links filter: links into chapters left out of the preview
            "bookbuild_chapter_ids": {i.text.label: header_ids(i.blocks) for i in infos},
        },
    )
    modules = [load_filter(path) for path in config.filters]
    (done,) = typeset(
        [document],
        config,
        modules,
        progress=progress,
        before_write=number_citations,
        citeproc=False,
        writer_args=["--citeproc", "--lua-filter", str(CITATIONS_FILTER)] if numbered else [],
    )
    warnings += done.warnings
    tex = done.tex
    for warning in warnings:
        progress.warn(warning)
    fail_on_warnings(warnings, strict)
    result, font_warnings = compile_into(
        tex,
        config,
        _named(config, name),
        preview_workdir(config, name),
        target,
        assembled.sources,
        progress,
        cache,
        strict,
        warm_engine=warm,
        locked=True,
    )
    warnings += font_warnings
    seconds = time.perf_counter() - start
    progress.done(seconds, target, result.pages)
    return BuildResult(target, warnings, result.passes, seconds, result.pages)


def _named(config: BookConfig, name: str) -> BookConfig:
    """The config with the preview's file name, so the engine's files are ``<name>.*``."""
    from dataclasses import replace

    return replace(config, output=f"{name}.pdf")


def guess_name(config: BookConfig, selectors: list[str]) -> str | None:
    """The preview's name before the book is read: when each selector is a chapter file's
    name or stem (as :func:`select_chapters` takes them); None otherwise."""
    if config.layout is not None:
        return None
    chosen: list[int] = []
    for selector in selectors:
        wanted = selector.strip()
        found = [
            index
            for index, chapter in enumerate(config.chapters)
            if wanted in (chapter.stem, chapter.name, chapter.path.name)
        ]
        if wanted.isdigit() or len(found) != 1:
            return None
        chosen.append(found[0])
    return "+".join(config.chapters[i].stem for i in sorted(set(chosen))) or None


def preview_workdir(config: BookConfig, name: str) -> Path:
    return config.build_dir / "preview" / ".work" / config.engine / name


def _warm_engine(config: BookConfig, name: str, engines: contextlib.ExitStack) -> WarmEngine | None:
    """The preview's work directory locked, and an engine loading the preamble of the last
    preview there (or, the first time, of the latest preview of another chapter) while the
    chapter is typeset (:mod:`bookbuild.stages.warm`)."""
    workdir = preview_workdir(config, name)
    engines.enter_context(build_lock(workdir))
    last = _last_preview_tex(workdir, name)
    if last is None:
        return None
    aux = full_build_aux(config)
    # Another chapter's preamble may differ where the filters and pandoc's template follow
    # the chapter's contents: load only what it shares with the book's (the full build's).
    book_tex = aux.with_suffix(".tex") if aux is not None else None
    shared = None
    if last.parent != workdir and book_tex is not None and book_tex.is_file():
        shared = book_tex.read_text(encoding="utf-8", errors="replace")
    return engines.enter_context(
        warm_engine(
            lambda: start_warm(
                config.engine,
                workdir / f"{name}.tex",
                last.read_text(encoding="utf-8", errors="replace"),
                engine_search_path(config),
                [aux] if aux is not None else [],
                shared,
                (config.build_dir,),
            )
        )
    )


def _last_preview_tex(workdir: Path, name: str) -> Path | None:
    """The .tex of the preview ``name``'s last run, else of the latest preview made."""
    own = workdir / f"{name}.tex"
    if own.is_file():
        return own
    others = []
    for folder in workdir.parent.iterdir():
        tex = folder / f"{folder.name}.tex"
        with contextlib.suppress(OSError):
            others.append((tex.stat().st_mtime_ns, tex))
    return max(others)[1] if others else None
