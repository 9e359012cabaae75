"""The build: config -> assemble -> read -> transform -> write -> compile -> the PDF.

This module orders the stages (:mod:`bookbuild.stages`; the middle three are the chapter
pipeline, :mod:`bookbuild.pipeline`), takes the shortcuts (nothing changed: the no-op stamp
of :mod:`bookbuild.fingerprint`; a chapter or two changed: :mod:`bookbuild.incremental`)
and reports. A failed build never touches the previous PDF: the engine works in
``build/.<engine>/`` and the result is renamed into place only on success
(:mod:`bookbuild.builddir`).
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from .builddir import build_lock, install_pdf, output_errors, work_dir
from .cache import CACHE_SUBDIR, Cache, digest
from .config import BookConfig
from .diagnostics import Diagnostic, SourceText
from .errors import BookbuildError, StrictWarningsError
from .filters import filterlib, load_filter
from .fingerprint import (
    build_fingerprint,
    pdf_fingerprint,
    read_stamp,
    settings_fingerprint,
    write_stamp,
)
from .fonts import log_warnings
from .paths import display_path
from .progress import Progress
from .stages.assemble import Assembled, assemble
from .stages.compile import (
    EnginePass,
    EngineResult,
    compile_pdf,
    has_passes,
    required_programs,
    warm_job,
)
from .stages.warm import WarmEngine, WarmJob


@dataclass
class BuildResult:
    pdf: Path
    warnings: list[Diagnostic] = field(default_factory=list)
    passes: list[EnginePass] = field(default_factory=list)
    seconds: float = 0.0
    pages: int | None = None


def book_cache(config: BookConfig) -> Cache:
    return Cache(config.build_dir / CACHE_SUBDIR)


def label_numbers(config: BookConfig, cache: Cache) -> dict[str, str]:
    """The numbers the crossref filter gave each label in the last full build (LaTeX names):
    what lets a cold build take one LaTeX pass (:mod:`bookbuild.stages.onepass`)."""
    from . import incremental
    from .stages import onepass

    state = incremental.load_state(cache, config) or {}
    return onepass.label_numbers(state.get("crossref_labels"), filterlib().latex_label)


def make_latex(
    config: BookConfig, progress: Progress, cache: Cache | None = None
) -> tuple[str, list[Diagnostic], Assembled]:
    """Stages 1-4: the LaTeX that ``pdf`` compiles, the warnings on the way, and the sources.

    With a cache, an edit to a chapter or two rewrites just those chapters (see
    :mod:`bookbuild.incremental`); anything else runs every stage on the whole book.
    """
    # Not needed by a no-op build, which stops before this.
    from . import incremental
    from .pipeline import typeset
    from .stages.read import metadata_markdown, read_book
    from .stages.transform import Document

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
        except incremental.NoEarlierBuild:
            pass
        except incremental.NotReusable as why:
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
        book, read_warnings = read_book(config, assembled.chapters, cache, ids)
        if cache is not None:
            detail.append(f"{cache.misses - before[1]} read, {cache.hits - before[0]} cached")
    warnings = list(read_warnings)
    warnings += [
        Diagnostic("warning", "chapter is empty", display_path(c.chapter.path))
        for c in assembled.chapters
        if not c.text.strip()
    ]
    document = Document(json.dumps(book), assembled.sources)
    del book  # the panflute Doc stands for it from here
    (done,) = typeset([document], config, modules, progress=progress)
    warnings += done.warnings
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
            done.transformed.data,
            done.transformed.crossref_export,
            done.tex,
            warnings,
        )
    return done.tex, warnings, assembled


def build(
    config: BookConfig,
    output: Path | None = None,
    progress: Progress | None = None,
    strict: bool = False,
) -> BuildResult:
    """Build the PDF: every stage in order; the previous PDF survives any failure."""
    with output_errors():
        return _build(config, output, progress, strict)


def _build(
    config: BookConfig, output: Path | None, progress: Progress | None, strict: bool
) -> BuildResult:
    progress = progress or Progress(quiet=True)
    start = time.perf_counter()
    target = output or config.pdf_path
    progress.say(
        f"bookbuild: {display_path(config.config_path)} -> {display_path(target)} ({config.engine})"
    )
    progress.strict = strict
    cache = book_cache(config)
    stamp_path = cache.folder / f"stamp-{config.engine}-{digest(str(target.absolute()))[:16]}.json"
    fingerprint = build_fingerprint(config, target, required_programs(config.engine))
    stamp = read_stamp(stamp_path)
    if stamp and stamp.get("inputs") == fingerprint and stamp.get("pdf") == pdf_fingerprint(target):
        warnings = [Diagnostic(**w) for w in stamp.get("warnings", [])]
        for warning in warnings:
            progress.warn(warning)
        fail_on_warnings(warnings, strict)
        seconds = time.perf_counter() - start
        progress.record("up to date", seconds, f"{display_path(target)}: nothing changed")
        return BuildResult(pdf=target, warnings=warnings, seconds=seconds, pages=stamp.get("pages"))
    # A chapter edit's job starts on the preamble while pandoc writes the chapter (issue 15).
    warm = warm_job(config, work_dir(config))
    try:
        tex, warnings, assembled = make_latex(config, progress, cache)
        fail_on_warnings(warnings, strict)
        result, font_warnings = compile_into(
            tex,
            config,
            config,
            work_dir(config),
            target,
            assembled.sources,
            progress,
            cache,
            strict,
            warm,
        )
    finally:
        if warm is not None:
            warm.close()
    warnings += font_warnings
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


def compile_into(
    tex: str,
    config: BookConfig,
    compile_config: BookConfig,
    workdir: Path,
    target: Path,
    sources: dict[str, SourceText],
    progress: Progress,
    cache: Cache,
    strict: bool,
    warm: WarmJob | None = None,
    warm_engine: WarmEngine | None = None,
    locked: bool = False,
) -> tuple[EngineResult, list[Diagnostic]]:
    """Stage 5 and the PDF put in place: the engine runs in ``workdir`` (one build at a time
    there: ``locked`` when the caller holds its lock), its log's missing glyphs become
    warnings (fatal under --strict, before the PDF is replaced), and the PDF is renamed to
    ``target``. ``compile_config`` names the output (a preview's differs from the book's);
    ``warm_engine``: an engine already loading the preamble (:mod:`bookbuild.stages.warm`)."""
    with contextlib.nullcontext() if locked else build_lock(workdir):
        # the labels serve a one-pass build, which only a work folder without passes takes
        # (a warm engine may have opened files of its own: the job's files before it count)
        if warm_engine is not None:
            first = not warm_engine.saved
        else:
            first = not has_passes(workdir, Path(compile_config.output).stem)
        result = compile_pdf(
            tex,
            compile_config,
            config.engine,
            workdir,
            progress,
            sources,
            labels=label_numbers(config, cache) if first else None,
            warm=warm,
            warm_engine=warm_engine,
        )
        font_warnings = engine_font_warnings(result, sources, progress, strict)
        install_pdf(result.pdf, target)
    return result, font_warnings


def engine_font_warnings(
    result: EngineResult, sources: dict[str, SourceText], progress: Progress, strict: bool
) -> list[Diagnostic]:
    """Characters the engine's log says it had no glyph for (issue 14), as warnings."""
    found = (
        log_warnings(result.log.read_text(errors="replace"), sources)
        if result.log.is_file()
        else []
    )
    for warning in found:
        progress.warn(warning)
    fail_on_warnings(found, strict)
    return found


def fail_on_warnings(warnings: list[Diagnostic], strict: bool) -> None:
    """Under --strict, warnings fail the build (exit 5) before any PDF is written."""
    if strict and warnings:
        summary = f"{len(warnings)} warning(s) and --strict: no PDF written"
        raise StrictWarningsError(summary, diagnostics=[*warnings, Diagnostic("error", summary)])


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
    with output_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
