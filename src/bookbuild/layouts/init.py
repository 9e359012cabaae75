"""``bookbuild init``: a new book that builds at once, or the book.yaml of a layout book.

Neither ever overwrites a file: an existing one is an error naming it.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import BookbuildError
from ..paths import display_path

BOOK_YAML = """\
# book.yaml: what bookbuild reads to build this book (`bookbuild pdf --book {name}`).

chapters:                      # chapter files in book order, relative to this file
  - 01-introduction.md
  - 02-first-steps.md

metadata:                      # pandoc metadata: the title page and the book's settings
  title: "{title}"             # the book's title
  subtitle: "A first draft"    # printed under the title
  author: "Your Name"          # one author, or a list of them
  date: "{date}"               # the date on the title page
  lang: en                     # the book's language (hyphenation, "Chapter")
  toc: true                    # print a table of contents
  numbersections: true         # number chapters and sections
  bibliography: references.bib # the works the chapters cite as [@key]
  csl: ieee                    # citation style: a .csl file here or a style's name

build:                         # how the PDF is made
  engine: xelatex              # xelatex, pdflatex, lualatex or tectonic
  output: book.pdf             # the PDF's file name, inside build_dir
  build_dir: build             # where the PDF and working files go (inside the book)
"""

CHAPTER_ONE = """\
# Introduction

Welcome to your new book. Each chapter is a Markdown file listed in `book.yaml`.

## What goes where

Write prose as usual; cite a work from `references.bib` like this [@knuth1984].
"""

CHAPTER_TWO = """\
# First steps

Add a chapter: write a file and list it under `chapters:` in `book.yaml`.

## Building

Run `bookbuild pdf` to build, and `bookbuild watch` to rebuild on every save.
"""

REFERENCES = """\
@article{knuth1984,
  author  = {Knuth, Donald E.},
  title   = {Literate Programming},
  journal = {The Computer Journal},
  volume  = {27},
  number  = {2},
  pages   = {97--111},
  year    = {1984}
}
"""


class ExistsError(BookbuildError):
    """init would overwrite a file."""


def _write_new(files: dict[Path, str]) -> list[Path]:
    taken = [path for path in files if path.exists()]
    if taken:
        raise ExistsError(
            f"{display_path(taken[0])} exists; bookbuild init never overwrites a file",
            file=display_path(taken[0]),
        )
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)


def init_book(folder: Path) -> list[Path]:
    """A new book in ``folder``: book.yaml, two chapters, a bibliography."""
    import datetime

    title = folder.resolve().name.replace("-", " ").replace("_", " ").strip().title() or "My Book"
    text = BOOK_YAML.format(
        name=display_path(folder), title=title, date=datetime.date.today().isoformat()
    )
    return _write_new(
        {
            folder / "book.yaml": text,
            folder / "01-introduction.md": CHAPTER_ONE,
            folder / "02-first-steps.md": CHAPTER_TWO,
            folder / "references.bib": REFERENCES,
        }
    )


def _quoted(value: object) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def init_from(folder: Path) -> list[Path]:
    """``folder/book.yaml`` saying ``from:`` its layout, with the metadata, build settings
    and the chapter tree bookbuild reads from it, ready to customize."""
    from . import detect, read_tree
    from .book import layout_defaults

    layout_file = detect(folder)
    if layout_file is None:
        raise BookbuildError(
            f"no SUMMARY.md, book.toml, book.json, _bookdown.yml or _quarto.yml in "
            f"{display_path(folder)}"
        )
    tree = read_tree(layout_file)
    metadata = {**layout_defaults(tree), **tree.metadata}
    lines = [
        f"# book.yaml for the {tree.layout} book in this folder, written by `bookbuild init "
        "--from`.",
        f"# The chapters come from {layout_file.name}; the keys below override what it says.",
        f"from: {layout_file.relative_to(folder).as_posix()}",
        "",
        "metadata:",
    ]
    for key, value in metadata.items():
        lines.append(f"  {key}: {_quoted(value)}")
    lines += [
        "",
        "build:",
        "  build_dir: build             # the PDF goes to build/book.pdf",
        "  output: book.pdf",
        "",
        "# The chapters, as bookbuild reads them (depth, numbering, parts):",
    ]
    for entry in tree.entries:
        indent = "  " * max(entry.depth, 0)
        where = entry.path.relative_to(tree.book_dir).as_posix() if entry.path else "(no file)"
        flags = "" if entry.numbered else ", unnumbered"
        lines.append(f"#   {indent}{entry.title}  [{entry.kind}{flags}] {where}")
    return _write_new({folder / "book.yaml": "\n".join(lines) + "\n"})
