"""bookdown books: ``_bookdown.yml`` and the ``.Rmd`` files, metadata from ``index.Rmd``.

- ``_bookdown.yml`` ``rmd_files``: the chapter files in order (a list, or a mapping with
  ``latex``/``html`` lists: the LaTeX one wins); without it, every ``*.Rmd`` of the book
  directory in name order (``rmd_subdir: true`` adds subfolders), files starting with ``_``
  skipped, ``index.Rmd`` first, as bookdown orders them;
- the YAML header of ``index.Rmd`` (the first file): title, subtitle, author, date,
  description (the abstract), bibliography, csl, link-citations, lang, and the pandoc LaTeX
  variables bookdown hands on (classoption, fontsize, geometry, lof, lot, fonts …;
  :func:`print_settings`);
- parts and appendices come from the chapters' own ``# (PART) Title {-}`` and
  ``# (APPENDIX) Appendix {-}`` headings; a file may hold several chapters, so headings stay
  at the levels written.

R chunks are read as code and printed, never run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..paths import display_path
from . import BookTree, Entry, layout_error, resolve_file

#: index.Rmd keys that become the book's metadata (the others are R Markdown's).
METADATA_KEYS = {
    "title": "title",
    "subtitle": "subtitle",
    "author": "author",
    "date": "date",
    "description": "abstract",
    "abstract": "abstract",
    "bibliography": "bibliography",
    "csl": "csl",
    "link-citations": "link-citations",
    "lang": "lang",
}


def front_matter(text: str) -> dict[str, Any]:
    """The YAML header of an R Markdown / Quarto / Markdown file ({} without one)."""
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    alt = text.find("\n...", 3)
    if end < 0 or (0 <= alt < end):
        end = alt
    if end < 0:
        return {}
    try:
        data = yaml.safe_load(text[3:end])
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def header_metadata(values: dict[str, Any], book_dir: Path) -> dict[str, Any]:
    """The book metadata in a file's YAML header; bibliography files not (yet) present are
    left out (knitr writes ``packages.bib`` while it builds)."""
    metadata: dict[str, Any] = {}
    for key, target in METADATA_KEYS.items():
        value = values.get(key)
        if value is None:
            continue
        if isinstance(value, str) and value.lstrip().startswith("`r "):
            continue  # inline R code (a date computed by R): cannot run it
        metadata[target] = value
    if isinstance(metadata.get("author"), list):
        metadata["author"] = [
            a.get("name", str(a)) if isinstance(a, dict) else str(a) for a in metadata["author"]
        ]
    bib = metadata.get("bibliography")
    if bib is not None:
        names = [bib] if isinstance(bib, str) else [str(b) for b in bib]
        kept = [n for n in names if (book_dir / n).is_file()]
        if kept:
            metadata["bibliography"] = kept
        else:
            del metadata["bibliography"]
    return metadata


#: The classes bookdown books name that bookbuild's report class stands in for as it is.
BOOK_CLASSES = {"book", "report"}


def print_settings(values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The pandoc LaTeX variables of a YAML header that shape the printed book (fontsize,
    geometry, classoption, lof, lot, fonts …: the keys bookdown hands pandoc), and a note for
    the document class when bookbuild does not honour it (it typesets with report; ``book``
    and ``report`` pass without a word). natbib's ``biblio-style`` (apalike in bookdown's
    template) needs none: citeproc prints author-date citations as it does."""
    from ..dialects.quarto_format import RENAMED

    keys = set(RENAMED.values()) - set(METADATA_KEYS.values()) - {"crossref", "documentclass"}
    settings = {k: v for k, v in values.items() if k in keys and v is not None}
    notes: list[str] = []
    document_class = values.get("documentclass")
    if document_class is not None and str(document_class) not in BOOK_CLASSES:
        notes.append(f"documentclass '{document_class}': not honoured (typeset with report)")
    return settings, notes


def _yaml_file(path: Path) -> tuple[Any, dict[tuple[Any, ...], int]]:
    from ..config import _parse_yaml

    return _parse_yaml(path)


def read_bookdown(book_dir: Path) -> BookTree:
    """The bookdown book in ``book_dir``."""
    book_dir = book_dir.absolute()
    config_file = book_dir / "_bookdown.yml"
    settings: dict[str, Any] = {}
    lines: dict[tuple[Any, ...], int] = {}
    if config_file.is_file():
        data, lines = _yaml_file(config_file)
        if data is not None and not isinstance(data, dict):
            raise layout_error("expected a mapping", config_file, 1)
        settings = data or {}
    entries: list[Entry] = []
    files = settings.get("rmd_files")
    key: tuple[Any, ...] = ("rmd_files",)
    if isinstance(files, dict):
        chosen = "latex" if "latex" in files else "html"
        key = ("rmd_files", chosen)
        files = files.get(chosen)
    if files is not None:
        if isinstance(files, str):
            files = [files]
        if not isinstance(files, list):
            raise layout_error(
                "'rmd_files': expected a list of files", config_file, lines.get(key, 1)
            )
        for index, name in enumerate(files):
            line = lines.get((*key, index), lines.get(key, 1))
            if not isinstance(name, str):
                raise layout_error(f"'rmd_files': {name!r} is not a file name", config_file, line)
            path = resolve_file(
                name, book_dir, book_dir, config_file, line, (".Rmd", ".rmd", ".md")
            )
            entries.append(Entry(path.stem, path, 1, "chapter", True, config_file, line))
    else:
        pattern = "**/*.Rmd" if settings.get("rmd_subdir") is True else "*.Rmd"
        found = sorted(
            p
            for p in book_dir.glob(pattern)
            if not p.name.startswith("_")
            and not any(part.startswith((".", "_")) for part in p.relative_to(book_dir).parts)
        )
        found.sort(key=lambda p: p.relative_to(book_dir) != Path("index.Rmd"))
        source = config_file if config_file.is_file() else book_dir / "index.Rmd"
        entries = [Entry(p.stem, p.absolute(), 1, "chapter", True, source, 1) for p in found]
    if not entries:
        where = config_file if config_file.is_file() else book_dir
        raise layout_error("no chapter files: no rmd_files and no *.Rmd", where, 1)
    first = entries[0].path
    assert first is not None
    header = front_matter(first.read_text(encoding="utf-8", errors="replace"))
    settings, unhonoured = print_settings(header)
    metadata = {**settings, **header_metadata(header, book_dir)}
    metadata.setdefault("title", book_dir.name)
    bib = header.get("bibliography")
    unhonoured += [
        f"bibliography '{name}' is not in the book: left out"
        + (" (knitr writes it as R builds the book)" if name == "packages.bib" else "")
        for name in ([bib] if isinstance(bib, str) else bib if isinstance(bib, list) else [])
        if isinstance(name, str) and not (book_dir / name).is_file()
    ]
    notes = [f"{display_path(first)}:1: note: {message}" for message in unhonoured]
    return BookTree(
        layout="bookdown",
        layout_file=config_file if config_file.is_file() else first,
        book_dir=book_dir,
        entries=entries,
        metadata=metadata,
        metadata_file=first,
        markdown="rmarkdown",
        note_scope="book",
        extra_filters=["bookdown"],
        shift_headings=False,
        notes=notes,
    )
