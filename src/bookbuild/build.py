"""The build pipeline: config -> assemble -> pandoc read -> filters -> pandoc LaTeX -> engine.

Each stage is a function a test can call alone; :func:`build` calls them in order and
reports one progress line per stage. A failed build never touches the previous PDF: the
engine works in ``build/.<engine>/`` and the result is renamed into place only on success.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .assemble import ChapterText, assemble_markdown, read_chapters
from .cache import (
    CACHE_SUBDIR,
    Cache,
    book_files,
    digest,
    inputs_fingerprint,
    pdf_fingerprint,
    read_stamp,
    write_stamp,
)
from .config import ENGINES, BookConfig, display_path
from .diagnostics import (
    Diagnostic,
    SourceText,
    diagnostic_from_text,
    find_in_source,
    latex_diagnostic,
    mark_block_sources,
    overfull_boxes,
    pandoc_diagnostic,
)
from .engine import EnginePass, EngineResult, required_programs, run_engine
from .errors import BookbuildError, LatexError, PandocError, StrictWarningsError
from .filters import filterlib, load_filter, run_filters
from .pandoc import doc_to_json, pandoc_path, run_pandoc


class Progress:
    """Prints one line per stage with its wall time (nothing when quiet).

    With ``annotate``, warnings are also printed as GitHub Actions annotations on stdout.
    """

    def __init__(
        self,
        quiet: bool = False,
        verbose: bool = False,
        stream: TextIO | None = None,
        annotate: bool = False,
    ):
        self.quiet = quiet
        self.verbose = verbose
        self.stream = stream or sys.stderr
        self.annotate = annotate
        self.stages: list[tuple[str, float]] = []
        self.warnings: list[Diagnostic] = []
        self.strict = False

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def record(self, name: str, seconds: float, detail: str = "") -> None:
        self.stages.append((name, seconds))
        self.say(f"  {name:<10} {seconds:6.2f} s  {detail}".rstrip())

    @contextlib.contextmanager
    def stage(self, name: str, detail: str = "") -> Iterator[list[str]]:
        """Time a stage; the body may append more detail to the yielded list."""
        start = time.perf_counter()
        details = [detail] if detail else []
        yield details
        self.record(name, time.perf_counter() - start, ", ".join(details))

    def done(self, seconds: float, target: Path, pages: int | None) -> None:
        self.say(
            f"  {'done':<10} {seconds:6.2f} s  {display_path(target)}  {page_count(pages)}".rstrip()
        )

    def warn(self, diagnostic: Diagnostic) -> None:
        self.warnings.append(diagnostic)
        if self.annotate:
            print(diagnostic.github(), flush=True)
        if not self.quiet and not self.strict:  # under --strict they come with the error
            for line in diagnostic.lines(self.verbose):
                print(line, file=self.stream, flush=True)


@dataclass
class Assembled:
    """The book as one Markdown document, and the files it came from (for messages)."""

    chapters: list[ChapterText]
    markdown: str
    sources: dict[str, SourceText] = field(default_factory=dict)


@dataclass
class BuildResult:
    pdf: Path
    warnings: list[Diagnostic] = field(default_factory=list)
    passes: list[EnginePass] = field(default_factory=list)
    seconds: float = 0.0
    pages: int | None = None


def assemble(config: BookConfig) -> Assembled:
    """Stage 1: read the chapter files in order and join them under one metadata block."""
    chapters = read_chapters(config)
    return Assembled(chapters, assemble_markdown(config, chapters), book_sources(config, chapters))


def book_sources(config: BookConfig, chapters: list[ChapterText]) -> dict[str, SourceText]:
    """Every file an error can point at: chapters, preamble, bibliography, book.yaml."""
    sources = {c.label: c.source_text() for c in chapters}
    for path in [*config.preamble, *config.bibliography, config.config_path]:
        label = (
            path.relative_to(config.source_root).as_posix()
            if path.is_relative_to(config.source_root)
            else str(path)
        )
        text = path.read_text(encoding="utf-8", errors="replace")
        sources[label] = SourceText(label, text, display_path(path))
    return sources


def book_cache(config: BookConfig) -> Cache:
    return Cache(config.build_dir / CACHE_SUBDIR)


def read_document(
    assembled: Assembled, config: BookConfig, cache: Cache | None = None
) -> tuple[Any, list[Diagnostic]]:
    """Stage 2: pandoc parses each chapter (cached, in parallel) into one panflute Doc."""
    from .read import read_book

    return read_book(config, assembled.chapters, cache)


def apply_filters(
    doc: Any, config: BookConfig, output_format: str = "latex", modules: list[Any] | None = None
) -> Any:
    """Stage 3: the configured filters, in-process, in order."""
    if modules is None:
        modules = [load_filter(path) for path in config.filters]
    return run_filters(doc, modules, output_format)


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
IMAGE_FORMATS = {
    "xelatex": {".pdf", ".png", ".jpg", ".jpeg"},
    "pdflatex": {".pdf", ".png", ".jpg", ".jpeg"},
    "lualatex": {".pdf", ".png", ".jpg", ".jpeg"},
    "tectonic": {".pdf", ".png", ".jpg", ".jpeg"},
}


def _source_place(
    sources: dict[str, SourceText], needle: str
) -> tuple[str | None, int | None, str | None]:
    for source in sources.values():
        if source.label.endswith(".md"):
            line = find_in_source(source.lines, needle, 1, None)
            if line:
                return source.display, line, source.lines[line - 1]
    return None, None, None


def check_images(doc: Any, config: BookConfig, sources: dict[str, SourceText]) -> list[Diagnostic]:
    """Images that do not exist or that the engine cannot include, found before LaTeX runs."""
    import panflute as pf

    found: list[Diagnostic] = []
    formats = IMAGE_FORMATS.get(config.engine, IMAGE_FORMATS["xelatex"])

    def visit(elem: Any, doc: Any) -> None:
        if not isinstance(elem, pf.Image) or "://" in elem.url or elem.url.startswith("data:"):
            return
        path = config.book_dir / elem.url
        file, line, text = _source_place(sources, elem.url)
        if not path.is_file() and not any(path.with_suffix(ext).is_file() for ext in formats):
            found.append(
                Diagnostic(
                    "error",
                    f"image '{elem.url}' not found",
                    file,
                    line,
                    text,
                    "image paths are relative to book.yaml",
                )
            )
        elif path.suffix and path.suffix.lower() not in formats:
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

    doc.walk(visit)
    return found


def latex_args(config: BookConfig) -> list[str]:
    args = ["--standalone", "--top-level-division=chapter", f"--resource-path={config.book_dir}"]
    if config.metadata.get("citeproc", True) and (config.bibliography or config.csl_path):
        args.append("--citeproc")
    return args


def write_latex(
    doc_json: str, config: BookConfig, sources: dict[str, SourceText]
) -> tuple[str, list[Diagnostic]]:
    """Stage 4: pandoc's LaTeX writer (with citeproc) on the filtered document's JSON."""
    try:
        result = run_pandoc(
            ["--from", "json", "--to", "latex", *latex_args(config)], doc_json, cwd=config.book_dir
        )
    except PandocError as exc:
        located = pandoc_diagnostic(exc.diagnostics[0].message, "error", sources)
        raise PandocError(located.message, diagnostics=[located]) from None
    return result.text, [pandoc_diagnostic(w, "warning", sources) for w in result.warnings]


def make_latex(
    config: BookConfig, progress: Progress, cache: Cache | None = None
) -> tuple[str, list[Diagnostic], Assembled]:
    """Stages 1-4: the LaTeX that ``pdf`` compiles, the warnings on the way, and the sources.

    With a cache, an edit to a chapter or two rewrites just those chapters (see
    :mod:`bookbuild.incremental`); anything else runs every stage on the whole book.
    """
    # Not needed by a no-op build, which stops before this.
    from . import incremental
    from .read import metadata_markdown, read_book

    with progress.stage("assemble", f"{len(config.chapters)} chapters"):
        assembled = assemble(config)
    modules = [load_filter(path) for path in config.filters]
    if cache is not None:
        settings = settings_fingerprint(config)
        metadata = metadata_markdown(config, assembled.chapters)
        start = time.perf_counter()
        try:
            reused = incremental.rebuild(
                config, assembled.chapters, cache, settings, metadata, modules
            )
        except incremental.NotReusable as why:
            if str(why) != incremental.NO_STATE:
                progress.record("reuse", time.perf_counter() - start, f"full build: {why}")
        else:
            rewrote = ", ".join(reused.changed) or "nothing"
            progress.record(
                "chapters",
                time.perf_counter() - start,
                f"rewrote {rewrote}; {reused.reused} chapters reused",
            )
            for warning in reused.warnings:
                progress.warn(warning)
            return reused.tex, reused.warnings, assembled
    before = (cache.hits, cache.misses) if cache else (0, 0)
    ids: list[dict[str, list[str]]] = []
    with progress.stage("read") as detail:
        doc, read_warnings = read_book(config, assembled.chapters, cache, ids)
        if cache is not None:
            detail.append(f"{cache.misses - before[1]} read, {cache.hits - before[0]} cached")
        mark_block_sources(doc, assembled.sources)
    warnings = list(read_warnings)
    warnings += [
        Diagnostic("warning", "chapter is empty", display_path(c.chapter.path))
        for c in assembled.chapters
        if not c.text.strip()
    ]
    warnings += [w for c in assembled.chapters for w in c.warnings]  # from includes
    with progress.stage("filters", ", ".join(p.stem for p in config.filters)):
        doc = apply_filters(doc, config, "latex", modules)
    warnings += [diagnostic_from_text(w) for w in getattr(doc, "bookbuild_warnings", [])]
    image_errors = check_images(doc, config, assembled.sources)
    if image_errors:
        raise BookbuildError(image_errors[0].message, diagnostics=image_errors)
    with progress.stage("latex"):
        finish_metadata(doc, config)
        incremental.insert_tex_markers(doc)
        doc_json = doc_to_json(doc)
        tex, write_warnings = write_latex(doc_json, config, assembled.sources)
    warnings += write_warnings
    for warning in warnings:
        progress.warn(warning)
    if cache is not None:
        incremental.record_full_build(
            cache,
            config,
            settings,
            metadata,
            assembled.chapters,
            ids,
            json.loads(doc_json),
            getattr(doc, "crossref_export", None),
            tex,
            warnings,
        )
    return tex, warnings, assembled


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless it already holds it (its time stamp then stays)."""
    if path.is_file() and path.read_text(encoding="utf-8", errors="replace") == text:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return True


def install_pdf(built: Path, target: Path) -> None:
    """Copy the engine's PDF next to ``target`` and rename it into place (atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with built.open("rb") as src, tmp.open("wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def work_dir(config: BookConfig) -> Path:
    """Where the engine keeps its working files between runs: one folder per engine."""
    return config.build_dir / f".{config.engine}"


@contextlib.contextmanager
def build_lock(workdir: Path) -> Iterator[None]:
    """One engine run per work directory at a time (a watch and a make book may overlap)."""
    workdir.mkdir(parents=True, exist_ok=True)
    with (workdir / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def compile_pdf(
    tex: str,
    config: BookConfig,
    engine: str,
    workdir: Path,
    progress: Progress,
    sources: dict[str, SourceText],
) -> EngineResult:
    """Stage 5: the engine turns the LaTeX into a PDF inside ``workdir``."""
    tex_path = workdir / (Path(config.output).stem + ".tex")
    write_if_changed(tex_path, tex)

    runs: dict[str, int] = {}

    def on_pass(done: EnginePass) -> None:
        runs[done.rule] = runs.get(done.rule, 0) + 1
        progress.record(done.rule, done.seconds, f"pass {runs[done.rule]}")

    def on_output(line: str) -> None:
        if progress.verbose:
            print(line, file=progress.stream, flush=True)

    try:
        result = run_engine(
            engine,
            tex_path,
            search_path=[config.book_dir, *{p.parent for p in config.preamble}],
            on_output=on_output,
            on_pass=on_pass,
        )
    except LatexError as exc:
        diagnostic = latex_diagnostic(
            exc.log_text,
            tex,
            tex_path.name,
            sources,
            engine,
            display_path(exc.log_path or tex_path),
        )
        raise LatexError(
            diagnostic.message, exc.log_text, exc.log_path, diagnostics=[diagnostic]
        ) from None
    if not result.settled:
        progress.warn(
            Diagnostic(
                "warning",
                f"LaTeX still changed its .aux after {len(result.passes)} passes: page numbers "
                "or references may be off (a reference whose page moves as it is printed?)",
            )
        )
    if progress.verbose and result.log.is_file():
        for box in overfull_boxes(result.log.read_text(errors="replace"), tex, sources):
            for line in box.lines():
                print(line, file=progress.stream, flush=True)
    return result


def build(
    config: BookConfig,
    output: Path | None = None,
    progress: Progress | None = None,
    strict: bool = False,
) -> BuildResult:
    """Build the PDF: every stage in order; the previous PDF survives any failure."""
    progress = progress or Progress(quiet=True)
    start = time.perf_counter()
    target = output or config.pdf_path
    progress.say(
        f"bookbuild: {display_path(config.config_path)} -> {display_path(target)} ({config.engine})"
    )
    progress.strict = strict
    cache = book_cache(config)
    stamp_path = cache.folder / f"stamp-{config.engine}-{digest(str(target.absolute()))[:16]}.json"
    fingerprint = build_fingerprint(config, target)
    stamp = read_stamp(stamp_path)
    if stamp and stamp.get("inputs") == fingerprint and stamp.get("pdf") == pdf_fingerprint(target):
        warnings = [Diagnostic(**w) for w in stamp.get("warnings", [])]
        for warning in warnings:
            progress.warn(warning)
        fail_on_warnings(warnings, strict)
        seconds = time.perf_counter() - start
        progress.record("up to date", seconds, f"{display_path(target)}: nothing changed")
        return BuildResult(pdf=target, warnings=warnings, seconds=seconds, pages=stamp.get("pages"))
    tex, warnings, assembled = make_latex(config, progress, cache)
    fail_on_warnings(warnings, strict)
    workdir = work_dir(config)
    with build_lock(workdir):
        result = compile_pdf(tex, config, config.engine, workdir, progress, assembled.sources)
        install_pdf(result.pdf, target)
    write_stamp(
        stamp_path,
        {
            "inputs": fingerprint,
            "pdf": pdf_fingerprint(target),
            "pages": result.pages,
            "warnings": [w.to_json() for w in warnings],
        },
    )
    cache.prune()
    seconds = time.perf_counter() - start
    progress.done(seconds, target, result.pages)
    return BuildResult(
        pdf=target, warnings=warnings, passes=result.passes, seconds=seconds, pages=result.pages
    )


def page_count(pages: int | None) -> str:
    return "" if pages is None else f"{pages} page" + ("s" if pages != 1 else "")


def fail_on_warnings(warnings: list[Diagnostic], strict: bool) -> None:
    """Under --strict, warnings fail the build (exit 5) before any PDF is written."""
    if strict and warnings:
        summary = f"{len(warnings)} warning(s) and --strict: no PDF written"
        raise StrictWarningsError(summary, diagnostics=[*warnings, Diagnostic("error", summary)])


def panflute_path() -> str | None:
    """panflute's package file, found without importing it: its stat stands for its version."""
    spec = importlib.util.find_spec("panflute")
    return spec.origin if spec is not None else None


def input_files(config: BookConfig, chapters: bool = True) -> list[Path]:
    """Every file a build reads: the book directory's (with or without the chapters), the
    config, preamble, filters, bibliography, CSL style, and bookbuild's own code."""
    skipped = set() if chapters else {c.path for c in config.chapters}
    files = {
        *(p for p in book_files(config.book_dir) if p not in skipped),
        config.config_path,
        *config.preamble,
        *config.filters,
        *config.bibliography,
        *([config.csl_path] if config.csl_path else []),
        *Path(__file__).parent.glob("*.py"),
        *Path(__file__).parent.glob("*.lua"),
    }
    return sorted(files)


def settings_fingerprint(config: BookConfig) -> str:
    """A hash of every input of the .tex but the chapters' texts: while it holds, a chapter
    edit can be rebuilt alone (see :mod:`bookbuild.incremental`)."""
    tools = [pandoc_path(), panflute_path()]
    return inputs_fingerprint(input_files(config, chapters=False), tools, {"chapters": "aside"})


def build_fingerprint(config: BookConfig, target: Path) -> str:
    """A hash of every input of a build: when it matches the last build's, nothing changed."""
    engines = [shutil.which(p) for p in required_programs(config.engine)]
    tools = [pandoc_path(), panflute_path(), *engines]
    settings = {"engine": config.engine, "target": str(target.absolute())}
    return inputs_fingerprint(input_files(config), tools, settings)


def clean(config: BookConfig) -> list[Path]:
    """Remove the cache and the engines' working files (the PDFs stay); return what went."""
    removed = []
    for folder in [config.build_dir / CACHE_SUBDIR, *(config.build_dir / f".{e}" for e in ENGINES)]:
        if folder.is_dir():
            shutil.rmtree(folder)
            removed.append(folder)
    return removed


def write_report(
    path: Path,
    progress: Progress,
    result: BuildResult | None,
    error: BookbuildError | None,
    output: Path | None,
) -> None:
    """The machine-readable build report of ``--json FILE``."""
    report = {
        "ok": error is None,
        "exit_code": error.exit_code if error else 0,
        "output": str(output) if output else None,
        "pages": result.pages if result else None,
        "seconds": round(result.seconds, 3) if result else None,
        "stages": [{"name": name, "seconds": round(sec, 3)} for name, sec in progress.stages],
        "warnings": [w.to_json() for w in (result.warnings if result else progress.warnings)],
        "errors": [d.to_json() for d in (error.diagnostics if error else [])],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
