"""The read-stage transform: each chapter's headings follow the book's table of contents.

Called once per chapter on pandoc's JSON blocks, before heading ids are made unique, by
:func:`bookbuild.stages.read.shaped_blocks`: the full build, the one-chapter rebuild, the
preview and ``check`` alike (see :func:`shape_chapter`). This package imports nothing of the
stages: they call it.

- a page at depth d of the tree becomes a heading at level d under its parent, whatever
  level its file starts at: the file's headings move as a whole so its title heading (its
  only top heading) lands on level d; a file without one gets its TOC title as heading and
  its own headings below it;
- parts (``# Part`` / ``## Heading`` lines in SUMMARY.md, Quarto's ``part:``, bookdown's
  ``# (PART)``) become ``# Title {.part}`` headings, which the ``parts`` filter turns into
  real parts; drafts become headings with no text; appendices start with ``\\appendix``;
- prefix, suffix and draft-less unnumbered pages, and titles that carry their own number
  ("Chapter 1. …", "1.1 …"), are unnumbered, and so is everything under them (in a
  bookdown or Quarto chapter too: ``# Preface {-}`` makes its ``## …`` sections unnumbered);
- relative image paths are made relative to the book directory (they are written relative
  to the chapter file, as the source tools read them).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..dialects.cells import normalise_cells
from ..pandoc import plain_text
from . import BookTree, Entry, pre_numbered
from .bookdown import front_matter

#: Deepest heading level pandoc's LaTeX writer makes a heading (below: a bold paragraph).
MAX_LEVEL = 6
_BOOKDOWN_PART = re.compile(r"^\((PART|APPENDIX)(\\?\*)?\)\s*", re.I)
_HTML_SRC = re.compile(r"""(\bsrc\s*=\s*)(["'])([^"':]+?)\2""", re.I)


@dataclass
class Page:
    """What a chapter file becomes: its entry, and the entries printed before/after it."""

    entry: Entry
    lead: list[Entry] = field(default_factory=list)  # parts and drafts before it
    trail: list[Entry] = field(default_factory=list)  # drafts after the last file
    appendix: bool = False  # \appendix before it


@dataclass
class Plan:
    """A book tree laid out per chapter file (what :func:`shape_chapter` needs)."""

    tree: BookTree
    pages: dict[Path, Page]

    @property
    def max_depth(self) -> int:
        return max((e.depth for e in self.tree.entries), default=1)


def plan(tree: BookTree) -> Plan:
    pages: dict[Path, Page] = {}
    waiting: list[Entry] = []
    appendix_seen = False
    last: Page | None = None
    for entry in tree.entries:
        if entry.path is None:
            waiting.append(entry)
            continue
        page = Page(entry, lead=waiting)
        waiting = []
        if entry.kind == "appendix" and not appendix_seen:
            page.appendix = appendix_seen = True
        pages[entry.path] = page
        last = page
    if last is not None:
        last.trail = waiting
    return Plan(tree, pages)


def shape_chapter(config: Any, path: Path, text: str, blocks: list[Any]) -> list[Any]:
    """The chapter's blocks shaped by the book's tree (unchanged for a book.yaml book)."""
    layout: Plan | None = getattr(config, "layout", None)
    if layout is None:
        return blocks
    page = layout.pages.get(path)
    if page is None:
        return blocks
    out: list[Any] = [_synthetic(entry) for entry in page.lead]
    if page.appendix:
        out.append(appendix_block("Appendices"))
    body = _bookdown_markers(blocks) if layout.tree.layout == "bookdown" else blocks
    if page.entry.kind == "part":
        out += _part_page(page.entry, body)
    elif layout.tree.shift_headings:
        out += _shifted(page.entry, body, page.entry.depth)
    else:
        out += _unnumbered_below(_titled(page.entry, text, body))
    out += [_synthetic(entry) for entry in page.trail]
    _rebase_images(out, path.parent, config.book_dir)
    return out


# --------------------------------------------------------------------------- headings


def _inlines(text: str) -> list[Any]:
    out: list[Any] = []
    for word in text.split():
        if out:
            out.append({"t": "Space"})
        out.append({"t": "Str", "c": word})
    return out


def _slug(text: str) -> str:
    slug = re.sub(r"[^\w\s-]", "", text.lower(), flags=re.U)
    slug = re.sub(r"\s+", "-", slug.strip())
    return slug.lstrip("0123456789-.") or "section"


def _header(level: int, title: str, classes: list[str], ident: str | None = None) -> Any:
    return {
        "t": "Header",
        "c": [level, [ident or _slug(title), classes, []], _inlines(title)],
    }


def _synthetic(entry: Entry) -> Any:
    """A part title or a draft page as a heading."""
    if entry.kind == "part":
        classes = ["part"] if entry.numbered else ["part", "unnumbered"]
        return _header(1, entry.title, classes)
    classes = ["draft"] if entry.numbered else ["draft", "unnumbered"]  # draft: no text
    return _header(min(max(entry.depth, 1), MAX_LEVEL), entry.title, classes)


def _headers(blocks: list[Any]) -> list[Any]:
    """Every Header block, in divs and block quotes too."""
    found = []
    for block in blocks:
        kind = block.get("t")
        if kind == "Header":
            found.append(block)
        elif kind == "Div":
            found += _headers(block["c"][1])
        elif kind == "BlockQuote":
            found += _headers(block["c"])
    return found


def _unnumber(header: Any) -> None:
    classes = header["c"][1][1]
    if "unnumbered" not in classes:
        classes.append("unnumbered")


def _relevel(blocks: list[Any], shift: int, unnumbered: bool) -> list[Any]:
    """Headings moved by ``shift`` levels (too deep: a bold paragraph), in place."""
    out = []
    for block in blocks:
        kind = block.get("t")
        if kind == "Header":
            level = block["c"][0] + shift
            if level > MAX_LEVEL:
                out.append({"t": "Para", "c": [{"t": "Strong", "c": block["c"][2]}]})
                continue
            block["c"][0] = max(level, 1)
            if unnumbered or pre_numbered(plain_text(block["c"][2])):
                _unnumber(block)
        elif kind == "Div":
            block["c"][1] = _relevel(block["c"][1], shift, unnumbered)
        elif kind == "BlockQuote":
            block["c"] = _relevel(block["c"], shift, unnumbered)
        out.append(block)
    return out


def _close_gaps(headers: list[Any], title: Any | None) -> None:
    """Heading levels without gaps, in place: a heading is at most one level below the one it
    follows (``#`` then ``####`` is a title and its section, not a title and a section three
    levels down numbered 1.0.0.1); ``title``, the page's title heading, is above them all."""
    top = min(h["c"][0] for h in headers)
    stack: list[tuple[int, int]] = []  # (written level, closed level) of the open headings
    for header in headers:
        written = header["c"][0]
        if title is not None and header is title:
            stack = [(0, top)]  # everything after it is below it
            header["c"][0] = top
            continue
        while stack and stack[-1][0] >= written:
            stack.pop()
        header["c"][0] = stack[-1][1] + 1 if stack else top
        stack.append((written, header["c"][0]))


def _shifted(entry: Entry, blocks: list[Any], depth: int) -> list[Any]:
    """A SUMMARY page: its title heading on level ``depth``, its sections below. A file that
    opens with a top heading has it as its title, even when more top headings follow (they
    become its sections); heading levels skipped in the file are closed up."""
    headers = _headers(blocks)
    depth = max(depth, 1)
    unnumbered = not entry.numbered
    if headers:
        top = min(h["c"][0] for h in headers)
        first = headers[0]
        before = blocks.index(first) if first in blocks else len(blocks)
        opens = first["c"][0] == top and not any(
            b.get("t") not in ("RawBlock", "Null") for b in blocks[:before]
        )
        _close_gaps(headers, first if opens else None)
        if opens:
            if pre_numbered(plain_text(first["c"][2])):
                unnumbered = True
            shaped = _relevel(blocks, depth - top, unnumbered)
            return _count_anyway(entry, shaped, shaped.index(first) + 1 if first in shaped else 0)
        shift = depth + 1 - top
    else:
        shift = 0
    title = _header(depth, entry.title, ["unnumbered"] if unnumbered else [])
    return _count_anyway(entry, [title, *_relevel(blocks, shift, unnumbered)], 1)


def _count_anyway(entry: Entry, blocks: list[Any], at: int) -> list[Any]:
    """After a title that carries its own number ("Chapter 4. Traits"), step LaTeX's counter,
    so the next numbered sibling is 5, not 4 again."""
    if entry.kind == "chapter" and pre_numbered(entry.title) and entry.depth in COUNTERS:
        step = {"t": "RawBlock", "c": ["latex", f"\\stepcounter{{{COUNTERS[entry.depth]}}}"]}
        blocks.insert(at, step)
    return blocks


def _titled(entry: Entry, text: str, blocks: list[Any]) -> list[Any]:
    """A Quarto or bookdown chapter: headings as written; a YAML ``title:`` becomes its
    chapter heading, with the file's headings below it."""
    quarto = entry.source.name.startswith("_quarto")
    title = front_matter(text).get("title") if quarto and text.startswith("---") else None
    if not isinstance(title, str) or not title.strip():
        if entry.kind == "appendix" or not entry.numbered:
            return _relevel(blocks, 0, not entry.numbered)
        return blocks
    headers = _headers(blocks)
    top = min((h["c"][0] for h in headers), default=2)
    classes = ["unnumbered"] if pre_numbered(title) else []
    attributes = front_matter(text)
    if "unnumbered" in str(attributes.get("number-sections", "")).lower() or (
        attributes.get("number-sections") is False
    ):
        classes = ["unnumbered"]
    heading = _header(1, title.strip(), classes)
    return [heading, *_relevel(blocks, max(0, 2 - top), bool(classes))]


def _unnumbered_below(blocks: list[Any]) -> list[Any]:
    """The sections of an unnumbered chapter (``# Preface {-}`` then ``## Motivation``) are
    unnumbered too, in place: in a PDF they would otherwise print as 0.1, 0.2 ..."""
    inside = False
    for header in _headers(blocks):
        level, classes = header["c"][0], header["c"][1][1]
        if level == 1:
            inside = "unnumbered" in classes and "part" not in classes
        elif inside:
            _unnumber(header)
    return blocks


def _part_page(entry: Entry, blocks: list[Any]) -> list[Any]:
    """A part with a file of its own (Quarto ``part: file.qmd``): its text on the part page."""
    headers = [b for b in blocks if b.get("t") == "Header"]
    classes = ["part"] if entry.numbered else ["part", "unnumbered"]
    part = _header(1, entry.title, classes)
    rest = [b for b in blocks if not (headers and b is headers[0])]
    return [
        part,
        *_relevel(rest, max(0, 2 - min((h["c"][0] for h in headers[1:]), default=2)), True),
    ]


def appendix_block(title: str) -> Any:
    """``\\appendix`` and an entry "Appendices" at part level in the contents and outline,
    so the appendices do not land inside the last part."""
    tex = title.replace("\\", "").replace("{", "").replace("}", "")
    return {
        "t": "RawBlock",
        "c": [
            "latex",
            "\\appendix\n\\cleardoublepage\\phantomsection"
            f"\\addcontentsline{{toc}}{{part}}{{{tex}}}",
        ],
    }


#: LaTeX's counter for each heading level (a pre-numbered title still counts).
COUNTERS = {1: "chapter", 2: "section", 3: "subsection", 4: "subsubsection", 5: "paragraph"}


def _bookdown_markers(blocks: list[Any]) -> list[Any]:
    """``# (PART) Title {-}`` -> a part heading; ``# (APPENDIX) … {-}`` -> ``\\appendix``."""
    out = []
    for block in blocks:
        if block.get("t") == "Header":
            inlines = block["c"][2]
            text = plain_text(inlines)
            match = _BOOKDOWN_PART.match(text)
            if match:
                if match.group(1).upper() == "APPENDIX":
                    out.append(appendix_block(text[match.end() :].strip() or "Appendix"))
                    continue
                title = text[match.end() :].strip()
                classes = ["part"] + (["unnumbered"] if match.group(2) else [])
                out.append(_header(1, title, classes, block["c"][1][0] or None))
                continue
        out.append(block)
    return out


# --------------------------------------------------------------------------- images


def _rebase(url: str, chapter_dir: Path, book_dir: Path) -> str:
    if not url or re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I) or url.startswith(("#", "/")):
        return url
    local = chapter_dir / url
    if chapter_dir == book_dir or (book_dir / url).is_file() and not local.is_file():
        return url
    return Path(os.path.relpath(local, book_dir)).as_posix()


def _rebase_images(node: Any, chapter_dir: Path, book_dir: Path) -> None:
    """Relative image paths (Markdown and raw HTML) made relative to the book directory."""
    if isinstance(node, list):
        for item in node:
            if isinstance(item, list | dict):
                _rebase_images(item, chapter_dir, book_dir)
        return
    kind = node.get("t")
    if kind == "Image":
        target = node["c"][2]
        target[0] = _rebase(target[0], chapter_dir, book_dir)
        return
    if kind in ("RawBlock", "RawInline") and node["c"][0] == "html" and "src" in node["c"][1]:
        node["c"][1] = _HTML_SRC.sub(
            lambda m: (
                m.group(1) + m.group(2) + _rebase(m.group(3), chapter_dir, book_dir) + m.group(2)
            ),
            node["c"][1],
        )
        return
    if kind in ("Str", "Code", "CodeBlock", "Math", "RawBlock", "RawInline"):
        return
    content = node.get("c")
    if isinstance(content, list | dict):
        _rebase_images(content, chapter_dir, book_dir)


# --------------------------------------------------------------------------- chunks


def layout_notes(config: Any) -> list[str]:
    """One-line notes on what a layout book holds that the PDF does not do or show: links
    that are not pages, and (once) that code chunks are printed, not run."""
    layout: Plan | None = getattr(config, "layout", None)
    if layout is None:
        return []
    notes = list(layout.tree.notes)
    if layout.tree.layout in ("bookdown", "quarto"):
        for entry in layout.tree.files:
            assert entry.path is not None
            text = entry.path.read_text(encoding="utf-8", errors="replace")
            if normalise_cells(text) != text:  # a knitr/Quarto cell, as the read stage sees it
                tool = "R Markdown" if layout.tree.layout == "bookdown" else "Quarto"
                notes.append(
                    f"note: {tool} code chunks are printed as code, not run "
                    f"(first in {entry.path.relative_to(layout.tree.book_dir).as_posix()})"
                )
                break
    return notes
