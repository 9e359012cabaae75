"""mdBook books: ``book.toml`` and ``src/SUMMARY.md``.

- ``book.toml`` ``[book]``: ``title``, ``authors`` (or an older book's ``author``), ``language``,
  ``description`` (the subtitle) and ``src`` (the folder of the chapters, default ``src``);
- ``[output.html.code.hidelines]``: the hidden-line prefix of each language
  (``code-hidelines`` metadata, for the code filter);
- ``<src>/SUMMARY.md``: prefix chapters, numbered nested chapters, ``# Part`` titles,
  separators, suffix chapters and drafts (see :mod:`.summary`).

Markdown is read as GitHub-flavoured (``build.markdown: gfm``), footnotes per page.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from . import BookTree, layout_error
from .summary import parse_summary


def _line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"^\s*{re.escape(key)}\s*=", line):
            return number
    return 1


def read_mdbook(path: Path) -> BookTree:
    """The mdBook book whose ``book.toml`` is ``path``."""
    path = path.absolute()
    book_dir = path.parent
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise layout_error(
            f"TOML syntax error: {message}", path, int(match.group(1)) if match else 1
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise layout_error(f"cannot read: {exc}", path) from None
    book = data.get("book", {})
    if not isinstance(book, dict):
        raise layout_error("'book': expected a table [book]", path, _line_of(text, "book"))
    src_name = book.get("src", "src")
    if not isinstance(src_name, str):
        raise layout_error("'book.src': expected a string", path, _line_of(text, "src"))
    src = (book_dir / src_name).absolute()
    try:
        src.resolve().relative_to(book_dir.resolve())
    except ValueError:
        raise layout_error(
            f"'book.src': '{src_name}' is outside the book directory", path, _line_of(text, "src")
        ) from None
    summary = src / "SUMMARY.md"
    if not summary.is_file():
        raise layout_error(
            f"no SUMMARY.md in '{src_name}/' (book.src)", path, _line_of(text, "src")
        )
    notes: list[str] = []
    entries = parse_summary(summary, src, book_dir, notes)
    if not any(e.path for e in entries):
        raise layout_error("no chapter files: SUMMARY.md lists none", summary, 1)
    metadata: dict[str, Any] = {}
    if isinstance(book.get("title"), str):
        metadata["title"] = book["title"]
    if isinstance(book.get("description"), str) and book["description"].strip():
        metadata["subtitle"] = book["description"].strip()
    authors = book.get("authors", book.get("author"))  # ``author = "…"``: older books
    if isinstance(authors, list) and authors:
        metadata["author"] = [str(a) for a in authors]
    elif isinstance(authors, str):
        metadata["author"] = authors
    if isinstance(book.get("language"), str):
        metadata["lang"] = book["language"]
    hidelines: Any = data
    for key in ("output", "html", "code", "hidelines"):
        hidelines = hidelines.get(key) if isinstance(hidelines, dict) else None
    if isinstance(hidelines, dict) and hidelines:  # hidden-line prefixes per language
        metadata["code-hidelines"] = {str(k): str(v) for k, v in hidelines.items()}
    metadata.setdefault("title", book_dir.name)
    return BookTree(
        layout="mdbook",
        layout_file=path,
        book_dir=book_dir,
        entries=entries,
        metadata=metadata,
        metadata_file=path,
        markdown="gfm",
        note_scope="chapter",
        notes=notes,
    )
