"""Books as authors keep them: GitBook/HonKit, mdBook, bookdown and Quarto layouts.

Each layout has a reader module that turns the layout's own files into one typed
:class:`BookTree` (the mdBook way: ``summary.rs`` parses SUMMARY.md into a tree of
prefix, numbered and suffix chapters, parts, drafts):

- :mod:`.summary` parses a SUMMARY.md (shared by GitBook/HonKit and mdBook);
- :mod:`.gitbook` reads ``book.json`` (root, title) and ``README.md`` (the introduction);
- :mod:`.mdbook` reads ``book.toml`` (``[book]`` title, authors, language, src);
- :mod:`.bookdown` reads ``_bookdown.yml`` (``rmd_files`` or the default order) and index.Rmd;
- :mod:`.quarto` reads ``_quarto.yml`` (``project: type: book``, ``book:`` chapters …).

:mod:`.book` turns a tree (plus an optional ``book.yaml`` beside it saying ``from:``) into
the :class:`~bookbuild.config.BookConfig` every command uses; :mod:`.shape` is the read-stage
transform that makes each chapter's headings follow the tree.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic
from ..errors import ConfigError
from ..paths import display_path

#: Kinds of entries in a book tree.
KINDS = ("part", "chapter", "prefix", "suffix", "appendix", "draft")

#: Layout files, in the order detection tries them, with their layout's name.
LAYOUT_FILES = (
    ("book.toml", "mdbook"),
    ("_quarto.yml", "quarto"),
    ("_quarto.yaml", "quarto"),
    ("_bookdown.yml", "bookdown"),
    ("book.json", "gitbook"),
    ("SUMMARY.md", "gitbook"),
    ("index.Rmd", "bookdown"),
)

#: A title that carries its own number: "Chapter 1. …", "1.1 …", "Part I. …", "A.2 …".
_PRE_NUMBERED = re.compile(
    r"^\s*(?:(?:chapter|part|appendix|section|lesson|lecture|unit|module|week|day|step"
    r"|kapitel|chapitre|cap[ií]tulo|teil|parte)\s+(?:\d{1,3}|[IVXLC]+|[A-Z])\b[.:)]?"
    r"|\d{1,3}(?:\.\d{1,3})*\.?(?=\s)|\d{1,3}\)|[IVXLC]+\.(?=\s)|[A-Z]\.(?:\d{1,3}(?:\.\d{1,3})*)?\.?(?=\s))",
    re.IGNORECASE,
)


def pre_numbered(title: str) -> bool:
    """Whether a title already carries its number ("Chapter 1. Intro", "1.1 Setup")."""
    return bool(title and _PRE_NUMBERED.match(title))


@dataclass
class Entry:
    """One line of a book's table of contents."""

    title: str
    path: Path | None  # absolute; None for a part title or a draft (listed, no file)
    depth: int  # 0 for a part, 1 for a chapter, 2 for its sections …
    kind: str  # one of KINDS
    numbered: bool
    source: Path  # the layout file that lists it
    line: int  # its line there

    @property
    def where(self) -> str:
        return f"{display_path(self.source)}:{self.line}"


@dataclass
class BookTree:
    """A book read from its layout: entries in book order plus metadata and settings."""

    layout: str  # gitbook, mdbook, bookdown, quarto
    layout_file: Path  # the file detection found (book.toml, SUMMARY.md …)
    book_dir: Path  # the book's root directory
    entries: list[Entry]
    metadata: dict[str, Any] = field(default_factory=dict)
    metadata_file: Path | None = None  # where the metadata is written (for check)
    markdown: str = "pandoc"  # build.markdown
    note_scope: str = "book"  # build.note_scope
    extra_filters: list[str] = field(default_factory=list)
    #: Whether each page's headings follow the tree (SUMMARY books) or stay as written
    #: (bookdown: several chapters may share a file).
    shift_headings: bool = True
    #: What the layout holds that the PDF leaves out, as ``file:line: message`` lines.
    notes: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[Entry]:
        return [e for e in self.entries if e.path is not None]


def layout_error(message: str, source: Path, line: int | None = None) -> ConfigError:
    """A one-line error naming the layout file and line (exit 3)."""
    return ConfigError([Diagnostic("error", message, display_path(source), line or 1)])


def did_you_mean(wanted: str, root: Path, suffixes: tuple[str, ...] = (".md",)) -> str:
    """'; did you mean 'x'?' among the files present below ``root`` with those suffixes."""
    present: list[str] = []
    for path in root.rglob("*"):
        if path.suffix in suffixes and not any(
            p.startswith((".", "_book", "build")) for p in path.relative_to(root).parts
        ):
            present.append(path.relative_to(root).as_posix())
            if len(present) > 5000:
                break
    close = difflib.get_close_matches(wanted, present, n=1, cutoff=0.5)
    if not close:  # the name alone, wherever it is
        names = {Path(p).name: p for p in present}
        close = [names[n] for n in difflib.get_close_matches(Path(wanted).name, list(names), 1)]
    return f"; did you mean '{close[0]}'?" if close else ""


def resolve_file(
    name: str, base: Path, book_dir: Path, source: Path, line: int, suffixes: tuple[str, ...]
) -> Path:
    """A listed file: inside the book, existing; else a one-line error at the layout line."""
    candidate = (base / name).absolute()
    try:
        candidate.resolve().relative_to(book_dir.resolve())
    except ValueError:
        raise layout_error(f"'{name}' is outside the book directory", source, line) from None
    if candidate.is_dir():
        raise layout_error(f"'{name}' is a directory, not a file", source, line)
    if not candidate.is_file():
        shown = display_path(base)
        raise layout_error(
            f"'{name}' not found in {shown}/{did_you_mean(name, base, suffixes)}", source, line
        )
    return Path(_normal(candidate))


def _normal(path: Path) -> str:
    import os

    return os.path.normpath(path)


def detect(folder: Path) -> Path | None:
    """The layout file of a book directory without a book.yaml, or None."""
    for name, layout in LAYOUT_FILES:
        candidate = folder / name
        if candidate.is_file():
            if layout == "quarto" and not _quarto_book(candidate):
                continue
            return candidate
    return None


def _quarto_book(path: Path) -> bool:
    text = path.read_text(encoding="utf-8", errors="replace")
    return re.search(r"^\s*type:\s*['\"]?book\b", text, re.M) is not None or "\nbook:" in text


def layout_of(path: Path) -> str | None:
    """The layout a file names (``SUMMARY.md`` -> gitbook …), None for other files."""
    for name, layout in LAYOUT_FILES:
        if path.name == name:
            return layout
    return None


def read_tree(path: Path) -> BookTree:
    """Read the layout whose file is ``path`` into a book tree."""
    layout = layout_of(path)
    if layout == "mdbook":
        from .mdbook import read_mdbook

        return read_mdbook(path)
    if layout == "quarto":
        from .quarto import read_quarto

        return read_quarto(path)
    if layout == "bookdown":
        from .bookdown import read_bookdown

        return read_bookdown(path.parent)
    if layout == "gitbook":
        from .gitbook import read_gitbook

        return read_gitbook(path.parent, path)
    raise layout_error(f"'{path.name}' is not a layout bookbuild reads", path)
