"""SUMMARY.md, the table of contents of GitBook/HonKit and mdBook books.

Read as those tools read it:

- ``# Summary`` (the first level-1 heading, before any entry) is the list's own title;
  every other heading line (``# Part`` in mdBook, ``## Part`` / ``### Part`` in GitBook and
  HonKit) starts a part;
- list items (``-``, ``*``, ``+`` or ``1.``) holding ``[Title](file.md)`` are chapters,
  nested by indentation: an item at depth d is a section at depth d under the item above;
- ``[Title](file.md)`` lines outside a list are prefix chapters (before the first list) or
  suffix chapters (after it): unnumbered;
- ``[Title]()`` (or a list item without a link) is a draft: listed, no file;
- ``---`` separators only separate; links into a page already listed (``page.md#part``) and
  external links are not pages of their own.

Missing files, paths leaving the book and malformed items are one-line errors naming
SUMMARY.md and the line.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from ..paths import display_path
from . import Entry, layout_error, pre_numbered, resolve_file

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SEPARATOR = re.compile(r"^\s{0,3}(?:-{3,}|\*{3,}|_{3,})\s*$")
_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?:[-*+]|\d+[.)])[ \t]+(?P<body>.*)$")
_LINK = re.compile(r"^\[(?P<title>(?:[^\[\]]|\[[^\[\]]*\])*)\]\((?P<target>[^)]*)\)")
_MARKUP = re.compile(r"(\*\*|__|\*|`|~~)")


def plain_title(markdown: str) -> str:
    """A link text without its emphasis and code marks."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return " ".join(_MARKUP.sub("", text).split())


def _indent_width(indent: str) -> int:
    return len(indent.expandtabs(4))


def _target(raw: str) -> tuple[str, str]:
    """``<a b.md> "title"`` -> (path, anchor)."""
    raw = raw.strip()
    if raw.startswith("<") and ">" in raw:
        raw = raw[1 : raw.index(">")]
    else:
        raw = raw.split()[0] if raw.split() else ""
    path, _, anchor = raw.partition("#")
    return unquote(path), anchor


def parse_summary(
    path: Path, base: Path, book_dir: Path, notes: list[str] | None = None
) -> list[Entry]:
    """The entries of the SUMMARY.md at ``path``; file names are relative to ``base``.
    ``notes`` receives a line for each entry that is not a page (an external link)."""
    notes = [] if notes is None else notes
    try:
        text = path.read_text(encoding="utf-8").removeprefix("\ufeff")
    except (OSError, UnicodeDecodeError) as exc:
        raise layout_error(f"cannot read: {exc}", path) from None
    # Comments out, with their line breaks kept so line numbers stay right.
    text = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    entries: list[Entry] = []
    seen: dict[Path, int] = {}
    indents: list[int] = []  # indentation of the open list levels
    numbered_at: list[bool] = []  # whether the item open at each depth is numbered
    in_list = False
    listed_any = False
    title_seen = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if _SEPARATOR.match(line):
            in_list = False
            continue
        heading = _HEADING.match(line)
        if heading:
            title = plain_title(heading.group(2))
            if not title_seen and not listed_any and len(heading.group(1)) == 1:
                title_seen = True  # "# Summary": the list's own title
                continue
            title_seen = True
            entries.append(Entry(title, None, 0, "part", not pre_numbered(title), path, number))
            in_list = False
            indents, numbered_at = [], []
            continue
        item = _ITEM.match(line)
        if item:
            indent = _indent_width(item.group("indent"))
            if not in_list:
                indents, numbered_at = [], []
            while indents and indent < indents[-1]:
                indents.pop()
                numbered_at.pop()
            if not indents or indent > indents[-1]:
                indents.append(indent)
                numbered_at.append(True)
            depth = len(indents)
            in_list = listed_any = True
            body = item.group("body").strip()
            link = _LINK.match(body)
            if link:
                title = plain_title(link.group("title"))
                target, anchor = _target(link.group("target"))
            else:
                title, target, anchor = plain_title(body), "", ""
            if not title:
                raise layout_error("list item without a title", path, number)
            parent_numbered = numbered_at[depth - 2] if depth > 1 else True
            numbered = parent_numbered and not pre_numbered(title)
            numbered_at[depth - 1] = numbered
            entry = _entry(
                title, target, anchor, depth, "chapter", numbered, path, number, base, book_dir
            )
            if entry is None and not anchor:
                notes.append(
                    f"{display_path(path)}:{number}: info: '{title}' links to "
                    f"{target}, not a page of the book: left out of the PDF"
                )
            if entry is None or (entry.path is not None and entry.path in seen):
                numbered_at[depth - 1] = numbered  # an anchor into a page: no page of its own
                continue
            if entry.path is not None:
                seen[entry.path] = number
            entries.append(entry)
            continue
        link = _LINK.match(line.strip())
        if link and not line.startswith((" ", "\t")):
            title = plain_title(link.group("title"))
            target, anchor = _target(link.group("target"))
            kind = "suffix" if listed_any else "prefix"
            entry = _entry(title, target, anchor, 1, kind, False, path, number, base, book_dir)
            if entry is not None and (entry.path is None or entry.path not in seen):
                if entry.path is not None:
                    seen[entry.path] = number
                entries.append(entry)
            in_list = False
        # any other line (prose in the summary, a list item's continuation) is not an entry
    return entries


def _entry(
    title: str,
    target: str,
    anchor: str,
    depth: int,
    kind: str,
    numbered: bool,
    path: Path,
    line: int,
    base: Path,
    book_dir: Path,
) -> Entry | None:
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
        return None  # an external link: not a page of the book
    if not target:
        if anchor:
            return None  # "#section": a place in the page above
        return Entry(title, None, depth, "draft", numbered, path, line)
    file = resolve_file(
        target.lstrip("/"),  # "/x.md": from the summary's root, as GitBook reads it
        base,
        book_dir,
        path,
        line,
        (".md", ".markdown"),
    )
    return Entry(title, file, depth, kind, numbered, path, line)
