"""Quarto books: ``_quarto.yml`` with ``project: type: book``.

- ``book:`` ``title``, ``subtitle``, ``author`` (names or ``{name: …}``), ``date``,
  ``abstract``; ``chapters:`` the files in order, where ``- part: "Title"`` (or
  ``part: part-file.qmd``, whose text goes on the part page) groups the ``chapters:`` under
  it; ``appendices:`` chapters lettered A, B …;
- top-level ``bibliography``, ``csl`` and ``lang``;
- ``.qmd`` and ``.md`` chapters; a chapter's title is its ``title:`` (YAML header) or its
  first ``#`` heading. Executable cells are printed as code, never run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import BookTree, Entry, layout_error, pre_numbered, resolve_file
from .bookdown import _yaml_file, front_matter, header_metadata

SUFFIXES = (".qmd", ".md", ".Rmd", ".ipynb")


def _title_of(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    title = front_matter(text).get("title")
    if isinstance(title, str):
        return title
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].split("{")[0].strip()
    return path.stem


def read_quarto(path: Path) -> BookTree:
    """The Quarto book whose ``_quarto.yml`` is ``path``."""
    path = path.absolute()
    book_dir = path.parent
    data, lines = _yaml_file(path)
    if not isinstance(data, dict):
        raise layout_error("expected a mapping with a 'book:' key", path, 1)
    project = data.get("project")
    if isinstance(project, dict) and project.get("type") not in (None, "book"):
        raise layout_error(
            f"'project.type' is '{project.get('type')}', not 'book'",
            path,
            lines.get(("project", "type"), 1),
        )
    book = data.get("book")
    if not isinstance(book, dict):
        raise layout_error("'book:' missing: list the chapters under book: chapters:", path, 1)
    entries: list[Entry] = []

    def chapter(name: Any, key: tuple[Any, ...], kind: str) -> None:
        line = lines.get(key, 1)
        if isinstance(name, dict) and isinstance(name.get("href"), str):
            name = name["href"]
        if not isinstance(name, str):
            raise layout_error(f"chapter entry {name!r} is not a file name", path, line)
        file = resolve_file(name, book_dir, book_dir, path, line, SUFFIXES)
        entries.append(Entry(_title_of(file), file, 1, kind, True, path, line))

    chapters = book.get("chapters")
    if not isinstance(chapters, list) or not chapters:
        raise layout_error(
            "'book.chapters': expected a list of chapter files",
            path,
            lines.get(("book", "chapters"), lines.get(("book",), 1)),
        )
    for index, item in enumerate(chapters):
        key = ("book", "chapters", index)
        if isinstance(item, dict) and "part" in item:
            line = lines.get((*key, "part"), lines.get(key, 1))
            part = item["part"]
            if not isinstance(part, str):
                raise layout_error("'part': expected a title or a file", path, line)
            part_file = book_dir / part
            if part.endswith(SUFFIXES) and part_file.is_file():
                file = resolve_file(part, book_dir, book_dir, path, line, SUFFIXES)
                title = _title_of(file)
                entries.append(Entry(title, file, 0, "part", not pre_numbered(title), path, line))
            elif part.endswith(SUFFIXES):
                resolve_file(part, book_dir, book_dir, path, line, SUFFIXES)  # the error
            else:
                entries.append(Entry(part, None, 0, "part", not pre_numbered(part), path, line))
            inner = item.get("chapters") or []
            if not isinstance(inner, list):
                raise layout_error("'chapters': expected a list", path, line)
            for sub, name in enumerate(inner):
                chapter(name, (*key, "chapters", sub), "chapter")
        else:
            chapter(item, key, "chapter")
    appendices = book.get("appendices") or []
    if not isinstance(appendices, list):
        raise layout_error(
            "'book.appendices': expected a list", path, lines.get(("book", "appendices"), 1)
        )
    for index, name in enumerate(appendices):
        chapter(name, ("book", "appendices", index), "appendix")
    values = {k: v for k, v in data.items() if k in ("bibliography", "csl", "lang")}
    values.update({k: v for k, v in book.items() if k not in ("chapters", "appendices")})
    metadata = header_metadata(values, book_dir)
    metadata.setdefault("title", book_dir.name)
    return BookTree(
        layout="quarto",
        layout_file=path,
        book_dir=book_dir,
        entries=entries,
        metadata=metadata,
        metadata_file=path,
        markdown="pandoc",
        note_scope="book",
        extra_filters=["quarto"],
        shift_headings=False,
    )
