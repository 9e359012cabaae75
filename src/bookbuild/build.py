"""The build pipeline: config -> assemble -> pandoc read -> filters -> pandoc LaTeX -> engine.

Each stage is a function a test can call alone; :func:`build` calls them in order and
reports one progress line per stage. A failed build never touches the previous PDF: the
engine works in ``build/.<engine>/`` and the result is renamed into place only on success.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .assemble import ChapterText, assemble_markdown, read_chapters
from .config import BookConfig, display_path
from .engine import EnginePass, EngineResult, run_engine
from .errors import StrictWarningsError
from .filters import load_filter, run_filters
from .pandoc import read_markdown, write_format


class Progress:
    """Prints one line per stage with its wall time (nothing when quiet)."""

    def __init__(self, quiet: bool = False, verbose: bool = False, stream: TextIO | None = None):
        self.quiet = quiet
        self.verbose = verbose
        self.stream = stream or sys.stderr
        self.stages: list[tuple[str, float]] = []

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def record(self, name: str, seconds: float, detail: str = "") -> None:
        self.stages.append((name, seconds))
        self.say(f"  {name:<10} {seconds:6.2f} s  {detail}".rstrip())

    @contextlib.contextmanager
    def stage(self, name: str, detail: str = "") -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.record(name, time.perf_counter() - start, detail)

    def warn(self, message: str) -> None:
        if not self.quiet:
            print(f"warning: {message}", file=self.stream, flush=True)


@dataclass
class Assembled:
    """The book as one Markdown document."""

    chapters: list[ChapterText]
    markdown: str


@dataclass
class BuildResult:
    pdf: Path
    warnings: list[str] = field(default_factory=list)
    passes: list[EnginePass] = field(default_factory=list)
    seconds: float = 0.0


def assemble(config: BookConfig) -> Assembled:
    """Stage 1: read the chapter files in order and join them under one metadata block."""
    chapters = read_chapters(config)
    return Assembled(chapters, assemble_markdown(config, chapters))


def read_document(assembled: Assembled, config: BookConfig) -> tuple[Any, list[str]]:
    """Stage 2: pandoc parses the assembled Markdown into a panflute Doc."""
    return read_markdown(assembled.markdown, cwd=config.book_dir)


def apply_filters(doc: Any, config: BookConfig, output_format: str = "latex") -> Any:
    """Stage 3: the configured filters, in-process, in order."""
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


def latex_args(config: BookConfig) -> list[str]:
    args = ["--standalone", "--top-level-division=chapter", f"--resource-path={config.book_dir}"]
    if config.metadata.get("citeproc", True) and (config.bibliography or config.csl_path):
        args.append("--citeproc")
    return args


def write_latex(doc: Any, config: BookConfig) -> tuple[str, list[str]]:
    """Stage 4: pandoc's LaTeX writer (with citeproc) on the filtered document."""
    finish_metadata(doc, config)
    result = write_format(doc, "latex", latex_args(config), cwd=config.book_dir)
    return result.text, result.warnings


def make_latex(config: BookConfig, progress: Progress) -> tuple[str, list[str]]:
    """Stages 1-4: the LaTeX that ``pdf`` compiles, and the warnings on the way."""
    with progress.stage("assemble", f"{len(config.chapters)} chapters"):
        assembled = assemble(config)
    with progress.stage("read"):
        doc, warnings = read_document(assembled, config)
    with progress.stage("filters", ", ".join(p.stem for p in config.filters)):
        doc = apply_filters(doc, config, "latex")
    warnings = warnings + list(getattr(doc, "bookbuild_warnings", []))
    with progress.stage("latex"):
        tex, write_warnings = write_latex(doc, config)
    warnings += write_warnings
    for warning in warnings:
        progress.warn(warning)
    return tex, warnings


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless it already holds it (keeps latexmk's state valid)."""
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
    tex: str, config: BookConfig, engine: str, workdir: Path, progress: Progress
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

    return run_engine(
        engine,
        tex_path,
        search_path=[config.book_dir, *{p.parent for p in config.preamble}],
        on_output=on_output,
        on_pass=on_pass,
    )


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
    tex, warnings = make_latex(config, progress)
    if strict and warnings:
        raise StrictWarningsError(f"{len(warnings)} warning(s) and --strict: no PDF written")
    workdir = work_dir(config)
    with build_lock(workdir):
        result = compile_pdf(tex, config, config.engine, workdir, progress)
        install_pdf(result.pdf, target)
    seconds = time.perf_counter() - start
    progress.say(f"  {'done':<10} {seconds:6.2f} s  {display_path(target)}")
    return BuildResult(pdf=target, warnings=warnings, passes=result.passes, seconds=seconds)
