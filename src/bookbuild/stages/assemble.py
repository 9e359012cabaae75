"""Stage 1, assemble: the chapter files, read in order, and the book's metadata.

:func:`assemble` gives the chapters' texts and every file a message can point at;
:func:`assemble_markdown` joins them into one Markdown document, like the manuscript they
came from: a YAML metadata block (the book's metadata plus its LaTeX preamble as
``header-includes``), then each chapter after its chapter marker (see
:mod:`bookbuild.markers`), which lets filters and messages name the chapter a block came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from ..config import BookConfig, Chapter
from ..diagnostics import Diagnostic, SourceText
from ..dialects.cells import read_cells
from ..dialects.templates import rewrite_tags
from ..errors import BookbuildError
from ..includes import expand
from ..markers import chapter_marker
from ..paths import display_path

#: A chapter larger than this is almost surely not prose (a 300-page book is ~0.5 MB in all).
MAX_CHAPTER_BYTES = 4 * 1024 * 1024


@dataclass
class ChapterText:
    """A chapter's text and the path markers and messages name it by."""

    chapter: Chapter
    label: str  # the path shown in markers and messages, e.g. book/ml-jobs.md
    text: str  # as pandoc reads it: includes expanded (see bookbuild.includes)
    warnings: list[Diagnostic] = field(default_factory=list)  # its includes, an open cell
    written: str | None = None  # the file as written, when includes changed the text
    chapter_lines: list[int] | None = None  # per line of ``text``: the file's line

    @property
    def source(self) -> str:
        """The chapter as the author wrote it: what messages quote and count lines in."""
        return self.text if self.written is None else self.written

    def source_text(self) -> SourceText:
        """The chapter as messages name and quote it (lines of included text: the include's)."""
        read, lines = (None, None) if self.written is None else (self.text, self.chapter_lines)
        return SourceText(self.label, self.source, display_path(self.chapter.path), read, lines)

    def source_line(self, line: int) -> int:
        """The file's line for a line of ``text`` (an included line: the include's line)."""
        lines = self.chapter_lines
        return lines[line - 1] if lines and 0 < line <= len(lines) else line


@dataclass
class Assembled:
    """The book's chapters, and the files they and the rest came from (for messages)."""

    chapters: list[ChapterText]
    sources: dict[str, SourceText] = field(default_factory=dict)


def assemble(config: BookConfig) -> Assembled:
    """Read the chapter files in order; keep every file an error can point at."""
    chapters = chapter_texts(config)
    return Assembled(chapters, book_sources(config, chapters))


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


def chapter_texts(config: BookConfig) -> list[ChapterText]:
    """Read every chapter file as UTF-8 text; a bad file is a one-line error naming it."""
    texts = []
    values = config.metadata.get("book-variables")  # GitBook's {{ book.x }} (templates.py)
    variables = {str(k): str(v) for k, v in values.items()} if isinstance(values, dict) else None
    for chapter in config.chapters:
        label = chapter.path.relative_to(config.source_root).as_posix()
        shown = display_path(chapter.path)
        try:
            size = chapter.path.stat().st_size
            if size > MAX_CHAPTER_BYTES:
                raise BookbuildError(
                    f"chapter is {size / 2**20:.1f} MB, over the {MAX_CHAPTER_BYTES // 2**20} MB "
                    "limit for one chapter; split it into several chapters",
                    file=shown,
                )
            raw = chapter.path.read_bytes()
        except OSError as exc:
            raise BookbuildError(f"cannot read chapter: {exc.strerror}", file=shown) from None
        if b"\x00" in raw:
            raise BookbuildError("binary file, not a Markdown chapter", file=shown)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise BookbuildError(
                f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the chapter as UTF-8",
                file=shown,
                line=line,
            ) from None
        text = text.removeprefix("\ufeff")
        expanded = expand(text, chapter.path, config.book_dir)  # includes, info strings
        # knitr/Quarto cell fences -> fenced code pandoc reads (same lines; dialects/cells.py)
        read, unclosed = read_cells(expanded.text)
        # GitBook/HonKit template tags -> Markdown (dialects/templates.py; lines mapped back)
        read, came_from, tags_left = rewrite_tags(read, variables)
        # (a closing fence read_cells added past the end stands at the file's last line)
        last = len(expanded.chapter_lines)
        lines = [expanded.chapter_lines[min(n, last) - 1] for n in came_from]
        written = text.split("\n")
        warnings = list(expanded.warnings)
        if unclosed is not None:
            line = expanded.chapter_lines[unclosed - 1] if expanded.chapter_lines else unclosed
            warnings.append(
                Diagnostic(
                    "warning",
                    "code cell never closed: it runs to the end of the file",
                    shown,
                    line,
                    written[line - 1] if 0 < line <= len(written) else None,
                    "end the cell with a line of backticks",
                )
            )
        for line, message in tags_left:
            at = expanded.chapter_lines[line - 1]
            quoted = written[at - 1] if 0 < at <= len(written) else None
            warnings.append(Diagnostic("warning", message, shown, at, quoted))
        changed = read != text
        texts.append(
            ChapterText(
                chapter,
                label,
                read,
                warnings,
                text if changed else None,
                lines if changed else None,
            )
        )
    return texts


class _LiteralDumper(yaml.SafeDumper):
    """Writes multi-line strings as ``|`` blocks, as an author would."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _str_representer)


def document_metadata(config: BookConfig) -> dict[str, Any]:
    """The metadata block of the assembled document: book metadata + preamble files."""
    metadata = dict(config.metadata)
    if config.url_display != "footnote":  # build.url_display, for the links filter
        metadata.setdefault("url_display", config.url_display)
    preamble = [
        "```{=latex}\n" + path.read_text(encoding="utf-8").rstrip("\n") + "\n```\n"
        for path in config.preamble
    ]
    if preamble:
        existing = metadata.get("header-includes") or []
        if not isinstance(existing, list):
            existing = [existing]
        metadata["header-includes"] = preamble + existing
    return metadata


def metadata_block(metadata: dict[str, Any]) -> str:
    body = yaml.dump(
        metadata, Dumper=_LiteralDumper, sort_keys=False, allow_unicode=True, width=10_000
    )
    return f"---\n{body}---\n"


def assemble_markdown(config: BookConfig, chapters: list[ChapterText]) -> str:
    """The whole book as one Markdown string: metadata block, then each chapter after its
    marker."""
    parts = [metadata_block(document_metadata(config))]
    for chapter in chapters:
        body = chapter.text if chapter.text.endswith("\n") else chapter.text + "\n"
        parts += [f"\n{chapter_marker(chapter.label)}\n\n", body]
    return "".join(parts)


def as_written(diagnostics: list[Diagnostic], chapters: list[ChapterText]) -> list[Diagnostic]:
    """``diagnostics`` whose lines count in the text pandoc read (includes expanded), moved to
    the chapter lines as written, followed by the chapters' include warnings."""
    by_file = {display_path(c.chapter.path): c for c in chapters if c.chapter_lines}
    moved = []
    for diagnostic in diagnostics:
        chapter = by_file.get(diagnostic.file or "")
        if chapter is not None and diagnostic.line:
            diagnostic = replace(diagnostic, line=chapter.source_line(diagnostic.line))
        moved.append(diagnostic)
    return moved + [w for c in chapters for w in c.warnings]
