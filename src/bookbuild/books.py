"""Open a book in whatever layout it is kept: which file says what the book is, and its config.

A ``book.yaml`` is read by :mod:`bookbuild.config`; a GitBook/HonKit, mdBook, bookdown or
Quarto book (or a ``book.yaml`` that names one with ``from:``) by :mod:`bookbuild.layouts`.
Both give the same :class:`~bookbuild.config.BookConfig`; every command starts here.
"""

from __future__ import annotations

from pathlib import Path

from .config import CONFIG_NAME, BookConfig, config_from_yaml, parse_config
from .diagnostics import Diagnostic
from .errors import ConfigError
from .layouts import detect, layout_of
from .layouts.book import load_layout_config
from .paths import display_path


def find_book(start: Path | None = None) -> Path:
    """The nearest ``book/book.yaml`` from ``start`` (default: the working dir) upward, else a
    GitBook, mdBook, bookdown or Quarto book in ``start`` itself."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "book" / CONFIG_NAME
        if candidate.is_file():
            return candidate
        if folder == here and (folder / CONFIG_NAME).is_file():
            return folder / CONFIG_NAME
    if (layout := detect(here)) is not None:
        return layout
    message = f"no book/{CONFIG_NAME} found in {display_path(here)} or above; pass --book DIR"
    raise ConfigError([Diagnostic("error", message)])


def config_path_for(book: Path | None) -> Path:
    """Resolve the ``--book`` argument (a directory, a book.yaml or a layout file) to the file
    that describes the book."""
    if book is None:
        return find_book()
    if book.is_dir():
        if not (book / CONFIG_NAME).is_file():
            return detect(book) or book / CONFIG_NAME
        return book / CONFIG_NAME
    return book


def load_config(config_path: Path) -> BookConfig:
    """The book's config from its book.yaml or layout file; ConfigError listing every
    problem."""
    config_path = config_path.absolute()
    if layout_of(config_path) is not None:
        return load_layout_config(config_path)
    data, lines = parse_config(config_path)
    if isinstance(data, dict) and "from" in data:  # a book.yaml naming its layout
        return load_layout_config(config_path)
    return config_from_yaml(config_path, data, lines)
