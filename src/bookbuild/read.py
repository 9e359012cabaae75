"""Stage 2: pandoc reads each chapter on its own, in parallel, cached by content.

An edit to one chapter re-reads only that chapter. The chapters' ASTs are joined under the
book's metadata (read together with every footnote definition, so ``author: X[^ucb]`` finds
its note) with a chapter marker before each, and heading identifiers that pandoc generated
are made unique across chapters the way pandoc does for one document (``questions``,
``questions-1``). Identifiers the author wrote (``{#sec:x}``) are left alone, so a duplicate
stays visible to the cross-reference filter.

Known difference from reading the assembled file in one go: a footnote or link reference
must be defined in the chapter that uses it (or, for the title page, anywhere).
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .assemble import ChapterText, chapter_marker, document_metadata, metadata_block
from .cache import Cache, _tool_fingerprint, digest
from .config import BookConfig, display_path
from .diagnostics import Diagnostic
from .pandoc import READER, pandoc_path, read_markdown_json

_NOTE_DEFINITION = re.compile(r"^\[\^[^\]\s]+\]:")
_EXPLICIT_ID = re.compile(r"\{[^}\n]*#([^\s}]+)")


def note_definitions(text: str) -> list[str]:
    """The footnote definitions of a chapter (with their indented continuation lines)."""
    found: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if _NOTE_DEFINITION.match(lines[index]):
            block = [lines[index]]
            index += 1
            while index < len(lines) and (
                lines[index].startswith(("    ", "\t")) or not lines[index].strip()
            ):
                block.append(lines[index])
                index += 1
            found.append("\n".join(block).rstrip())
        else:
            index += 1
    return found


def metadata_markdown(config: BookConfig, chapters: list[ChapterText]) -> str:
    """The metadata block plus the footnote definitions it refers to (the title page's)."""
    block = metadata_block(document_metadata(config))
    definitions = [
        d
        for c in chapters
        for d in note_definitions(c.text)
        if d[: d.index("]:") + 1] in block  # "[^ucb]" is used by the metadata
    ]
    return block + "\n" + "\n\n".join(definitions) + "\n"


_UNUSED_NOTE = re.compile(r"Note with key '([^']+)' defined at line \d+ column \d+ but not used")
_AT_LINE = re.compile(r"\bat line (\d+) column \d+")


def _read_cached(text: str, cache: Cache | None, tool: str) -> dict[str, Any]:
    key = digest("read-v1", tool, READER, text)
    if cache is not None:
        hit = cache.get("read", key)
        if hit is not None:
            try:
                return dict(json.loads(hit))
            except ValueError:
                pass
    result = read_markdown_json(text)
    entry = {"doc": json.loads(result.text), "warnings": result.warnings}
    if cache is not None:
        cache.put("read", key, json.dumps(entry))
    return entry


def _headers(blocks: list[Any]) -> Iterator[dict[str, Any]]:
    """Headers at the top level and inside divs and block quotes, in document order."""
    for block in blocks:
        kind = block.get("t")
        if kind == "Header":
            yield block
        elif kind == "Div":
            yield from _headers(block["c"][1])
        elif kind == "BlockQuote":
            yield from _headers(block["c"])


def make_ids_unique(chapters: list[tuple[set[str], list[Any]]]) -> None:
    """Suffix repeated generated heading ids with -1, -2 … in book order, as pandoc does."""
    used: set[str] = set()
    for explicit, blocks in chapters:
        for header in _headers(blocks):
            attr = header["c"][1]
            ident = attr[0]
            if not ident:
                continue
            if ident in used and ident not in explicit:
                number = 1
                while f"{ident}-{number}" in used:
                    number += 1
                ident = attr[0] = f"{ident}-{number}"
            used.add(ident)


def read_book_json(
    config: BookConfig, chapters: list[ChapterText], cache: Cache | None
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """The whole book as pandoc JSON, and pandoc's warnings located in their chapters."""
    tool = _tool_fingerprint(pandoc_path())
    texts = [metadata_markdown(config, chapters)] + [c.text for c in chapters]
    workers = max(1, min(len(texts), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        entries = list(pool.map(lambda t: _read_cached(t, cache, tool), texts))
    meta_entry, chapter_entries = entries[0], entries[1:]
    warnings = [Diagnostic("warning", clean_warning(w)) for w in meta_entry["warnings"]]
    per_chapter: list[tuple[set[str], list[Any]]] = []
    for chapter, entry in zip(chapters, chapter_entries, strict=True):
        per_chapter.append((set(_EXPLICIT_ID.findall(chapter.text)), entry["doc"]["blocks"]))
        for text in entry["warnings"]:
            unused = _UNUSED_NOTE.search(text)
            if unused and f"[^{unused.group(1)}]" in texts[0]:
                continue  # a title-page note: used by the metadata
            line = _AT_LINE.search(text)
            warnings.append(
                Diagnostic(
                    "warning",
                    _AT_LINE.sub("", clean_warning(text)).replace("  ", " ").rstrip(". "),
                    display_path(chapter.chapter.path),
                    int(line.group(1)) if line else None,
                )
            )
    make_ids_unique(per_chapter)
    blocks: list[Any] = []
    for chapter, (_, chapter_blocks) in zip(chapters, per_chapter, strict=True):
        blocks.append({"t": "RawBlock", "c": ["html", chapter_marker(chapter.label)]})
        blocks += chapter_blocks
    book = dict(meta_entry["doc"])
    book["blocks"] = blocks
    return book, warnings


def clean_warning(text: str) -> str:
    return " ".join(re.sub(r"^\[(WARNING|INFO)\]\s*", "", text.strip()).split())


def read_book(
    config: BookConfig, chapters: list[ChapterText], cache: Cache | None
) -> tuple[Any, list[Diagnostic]]:
    """The whole book as a panflute Doc."""
    import panflute as pf

    book, warnings = read_book_json(config, chapters, cache)
    return pf.load(io.StringIO(json.dumps(book))), warnings
