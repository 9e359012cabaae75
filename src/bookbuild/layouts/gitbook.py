"""GitBook / HonKit books: ``SUMMARY.md``, optional ``book.json``, ``README.md``.

- ``book.json``: ``root`` (the folder holding the book's files), ``title``, ``author``,
  ``language``, ``description``, ``structure`` (other names for ``summary``/``readme``) and
  ``variables`` (``{{ book.name }}`` in the pages: the ``book-variables`` metadata);
- ``SUMMARY.md`` in the root: the table of contents (see :mod:`.summary`);
- ``README.md``: the introduction, an unnumbered chapter before the others (added first when
  the summary does not list it).

Markdown is read as GitHub-flavoured (``build.markdown: gfm``), footnotes per page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from . import BookTree, Entry, layout_error, resolve_file
from .summary import parse_summary


def read_book_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise layout_error(f"invalid JSON: {exc.msg}", path, exc.lineno) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise layout_error(f"cannot read: {exc}", path) from None
    if not isinstance(data, dict):
        raise layout_error("expected a JSON object", path, 1)
    return data


def _json_line(path: Path, key: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if f'"{key}"' in line:
            return number
    return 1


#: The README's first level-1 heading: ``# Title`` or ``Title`` over a line of ``=``.
_TITLE = re.compile(
    r"^(?:#[ \t]+(?P<atx>.+?)[ \t]*#*[ \t]*|(?P<setext>[^\s#>\-*].*)\n=+[ \t]*)$", re.M
)


def read_gitbook(book_dir: Path, found: Path) -> BookTree:
    """The GitBook/HonKit book in ``book_dir`` (``found``: book.json or SUMMARY.md)."""
    book_dir = book_dir.absolute()
    config_file = book_dir / "book.json"
    settings: dict[str, Any] = read_book_json(config_file) if config_file.is_file() else {}
    root = book_dir
    if isinstance(settings.get("root"), str):
        root = (book_dir / settings["root"]).absolute()
        try:
            root.resolve().relative_to(book_dir.resolve())
        except ValueError:
            raise layout_error(
                f"'root': '{settings['root']}' is outside the book directory",
                config_file,
                _json_line(config_file, "root"),
            ) from None
        if not root.is_dir():
            raise layout_error(
                f"'root': folder '{settings['root']}' not found",
                config_file,
                _json_line(config_file, "root"),
            )
    structure: dict[str, Any] = settings.get("structure") or {}
    if not isinstance(structure, dict):
        structure = {}
    summary_name = str(structure.get("summary", "SUMMARY.md"))
    readme_name = str(structure.get("readme", "README.md"))
    summary = root / summary_name
    entries: list[Entry] = []
    notes: list[str] = []
    if summary.is_file():
        entries = parse_summary(summary, root, book_dir, notes)
    readme = root / readme_name
    listed = [e for e in entries if e.path is not None]
    if readme.is_file() and not any(e.path == readme for e in listed):
        source = summary if summary.is_file() else readme
        entries.insert(0, Entry("Introduction", readme, 1, "prefix", False, source, 1))
    first = next((e for e in entries if e.path is not None), None)
    if first is not None and first.path == readme and first.depth == 1:
        first.kind, first.numbered = "prefix", False  # the introduction: unnumbered
    if not any(e.path for e in entries):
        where = summary if summary.is_file() else (config_file if settings else found)
        raise layout_error(f"no chapter files: {summary_name} lists none", where, 1)
    if readme.is_file() and not (summary.is_file()):
        resolve_file(readme_name, root, book_dir, found, 1, (".md",))
    metadata: dict[str, Any] = {}
    for key, target in (("title", "title"), ("author", "author"), ("language", "lang")):
        value = settings.get(key)
        if isinstance(value, str) and value.strip():
            metadata[target] = value.strip()
    if isinstance(settings.get("description"), str) and settings["description"].strip():
        metadata["subtitle"] = settings["description"].strip()
    if "title" not in metadata and readme.is_file():
        heading = _TITLE.search(readme.read_text(encoding="utf-8"))
        if heading:
            metadata["title"] = heading.group("atx") or heading.group("setext").strip()
    variables = settings.get("variables")
    if isinstance(variables, dict) and variables:  # {{ book.x }} in the pages
        metadata["book-variables"] = {
            str(k): str(v) for k, v in variables.items() if isinstance(v, str | int | float)
        }
    metadata.setdefault("title", book_dir.name)
    return BookTree(
        layout="gitbook",
        layout_file=summary if summary.is_file() else found,
        book_dir=book_dir,
        entries=entries,
        metadata=metadata,
        metadata_file=config_file if config_file.is_file() else None,
        markdown="gfm",
        note_scope="chapter",
        notes=notes,
    )
