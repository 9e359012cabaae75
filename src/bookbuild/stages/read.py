"""Stage 2, read: pandoc reads each chapter on its own, in parallel, cached by content.

An edit to one chapter re-reads only that chapter. The chapters' ASTs are joined under the
book's metadata (read together with every footnote definition, so ``author: X[^ucb]`` finds
its note) with a chapter marker before each, and heading identifiers that pandoc generated
are made unique across chapters the way pandoc does for one document (``questions``,
``questions-1``). Identifiers the author wrote (``{#sec:x}``) are left alone, so a duplicate
stays visible to the cross-reference filter.

As when pandoc reads the assembled file in one go, a footnote (``[^key]``) or a reference
link (``[text][label]``) may be defined in another chapter: a chapter is read with the
definitions it uses from elsewhere appended (see :func:`texts_as_read`).

The book leaves this stage as pandoc JSON, the form that travels between the stages.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..cache import Cache, digest
from ..config import BookConfig
from ..diagnostics import Diagnostic
from ..errors import BookbuildError, PandocError
from ..fingerprint import tool_fingerprint
from ..flavours import reader_format
from ..layouts.shape import shape_chapter
from ..markers import marker_block
from ..pandoc import READER, pandoc_path, read_markdown_json, run_pandoc
from ..paths import display_path
from ..sourcefix import duplicate_notes, fix_source
from ..syntax import NOTE_DEFINITION, NOTE_USE
from .assemble import ChapterText, document_metadata, metadata_block

_EXPLICIT_ID = re.compile(r"\{[^}\n]*#([^\s}]+)")
#: ``[label]: url`` (up to three spaces in; not a footnote), and a title on the next line.
_LINK_DEFINITION = re.compile(
    r"^ {0,3}\[(?!\^)([^\]\n]+)\]:[ \t]*\S[^\n]*(?:\n[ \t]+[\"'(][^\n]*)?", re.M
)
_BRACKETED = re.compile(r"\[([^\[\]\n]+)\]")


def note_definitions(text: str) -> list[str]:
    """The footnote definitions of a chapter (with their indented continuation lines)."""
    found: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if NOTE_DEFINITION.match(lines[index]):
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


def _note_key(definition: str) -> str:
    found = NOTE_DEFINITION.match(definition)
    return found.group(1) if found else ""


def _link_label(label: str) -> str:
    """A reference link label as Markdown matches it: case and spacing do not count."""
    return " ".join(label.split()).casefold()


def chapter_flavour(config: BookConfig | None, chapter: ChapterText) -> str:
    """The Markdown flavour a chapter is written in: its own, else the book's."""
    return chapter.chapter.markdown or (config.markdown if config is not None else "pandoc")


def chapter_reader(config: BookConfig | None, chapter: ChapterText) -> str:
    """pandoc's ``--from`` for a chapter (see :mod:`bookbuild.flavours`)."""
    return reader_format(chapter_flavour(config, chapter))


def check_note_scope(config: BookConfig | None, chapters: list[ChapterText]) -> None:
    """With ``note_scope: chapter``, a footnote defined twice in one chapter is an error
    naming both lines (pandoc would silently keep one)."""
    if config is None or config.note_scope != "chapter":
        return
    problems = [
        Diagnostic(
            "error",
            f"footnote [^{key}] is defined twice in this chapter (first on line {first})",
            display_path(chapter.chapter.path),
            again,
        )
        for chapter in chapters
        for key, first, again in duplicate_notes(chapter.text)
    ]
    if problems:
        raise BookbuildError(problems[0].message, diagnostics=problems)


def texts_as_read(
    chapters: list[ChapterText], config: BookConfig | None = None
) -> tuple[list[str], set[str]]:
    """Each chapter's text as pandoc reads it: with the footnote and reference-link
    definitions it uses but does not hold, taken from the first chapter that holds them.
    Also the keys of the notes lent that way (their chapter must not call them unused).
    With ``note_scope: chapter`` footnotes are not lent (each file has its own).
    Each text has had :func:`bookbuild.sourcefix.fix_source` applied."""
    lend_notes = config is None or config.note_scope != "chapter"
    chapters = [
        ChapterText(c.chapter, c.label, fix_source(c.text, chapter_flavour(config, c)))
        for c in chapters
    ]
    notes: list[dict[str, str]] = []
    links: list[dict[str, str]] = []
    first_note: dict[str, str] = {}
    first_link: dict[str, str] = {}
    for chapter in chapters:
        own_notes = {_note_key(d): d for d in reversed(note_definitions(chapter.text))}
        own_links = {
            _link_label(m.group(1)): m.group(0).strip()
            for m in reversed(list(_LINK_DEFINITION.finditer(chapter.text)))
        }
        notes.append(own_notes)
        links.append(own_links)
        for key, definition in own_notes.items():
            first_note.setdefault(key, definition)
        for label, definition in own_links.items():
            first_link.setdefault(label, definition)
    texts: list[str] = []
    lent: set[str] = set()
    for chapter, own_notes, own_links in zip(chapters, notes, links, strict=True):
        used_notes = [
            k for k in dict.fromkeys(NOTE_USE.findall(chapter.text)) if k not in own_notes
        ]
        used_links = [
            label
            for label in dict.fromkeys(_link_label(m) for m in _BRACKETED.findall(chapter.text))
            if label not in own_links
        ]
        if not lend_notes:
            used_notes = []
        borrowed = [first_note[k] for k in used_notes if k in first_note]
        borrowed += [first_link[label] for label in used_links if label in first_link]
        lent.update(k for k in used_notes if k in first_note)
        if borrowed:
            texts.append(chapter.text.rstrip("\n") + "\n\n" + "\n\n".join(borrowed) + "\n")
        else:
            texts.append(chapter.text)
    return texts, lent


def metadata_markdown(config: BookConfig, chapters: list[ChapterText]) -> str:
    """The metadata block plus the footnote definitions it refers to (the title page's)."""
    block = metadata_block(document_metadata(config))
    definitions = [
        d
        for c in chapters
        for d in note_definitions(c.text)
        if f"[^{_note_key(d)}]" in block  # "[^ucb]" is used by the metadata
    ]
    return block + "\n" + "\n\n".join(definitions) + "\n"


_UNUSED_NOTE = re.compile(r"Note with key '([^']+)' defined at line \d+ column \d+ but not used")
_AT_LINE = re.compile(r"\bat line (\d+) column \d+")


#: Below this many cache misses, chapters are read one pandoc run each; above, in batches.
BATCH_FROM = 4
_BATCH_READER = Path(__file__).with_name("chapters.lua")
_SEPARATOR = "\n\0BOOKBUILD-CHAPTER\0\n"


def _cache_key(text: str, tool: str, reader: str = READER) -> str:
    return digest("read-v1", tool, reader, text)


class ChapterReadError(PandocError):
    """pandoc could not read one text of :func:`parse_texts` (``index``)."""

    def __init__(self, message: str, index: int):
        super().__init__(message)
        self.index = index


def _read_one(text: str, reader: str = READER) -> dict[str, Any]:
    try:
        result = read_markdown_json(text, reader=reader)
    except PandocError as exc:
        return {"error": exc.diagnostics[0].message}
    return {"doc": json.loads(result.text), "warnings": result.warnings}


_YAML_AT = re.compile(r"YAML metadata at .*?\(line (\d+), column \d+\)")
_YAML_INNER = re.compile(r"YAML parse exception at line (\d+), column \d+,?\s*(.*)", re.S)


def located_read_error(chapter: ChapterText, message: str) -> PandocError:
    """pandoc's error on reading a chapter, at the chapter file and line (a YAML metadata
    block's error at the line inside the block)."""
    block = _YAML_AT.search(message)
    inner = _YAML_INNER.search(message)
    line = None
    if block:
        line = int(block.group(1)) + (int(inner.group(1)) if inner else 0)
        what = inner.group(2).strip() if inner else message
        message = f"YAML metadata block (line {block.group(1)}): {what}"
    shown = display_path(chapter.chapter.path)
    return PandocError(message, diagnostics=[Diagnostic("error", message, shown, line)])


def _read_batch(texts: list[str], reader: str = READER) -> list[dict[str, Any]]:
    """Several chapters in one pandoc run, each parsed alone (see chapters.lua). Chapters a
    warning points at are read again alone, so each warning names its chapter."""
    try:
        result = run_pandoc(
            ["--from", str(_BATCH_READER), "--to", "json"], _SEPARATOR.join([reader, *texts])
        )
    except PandocError:  # one chapter's error: read each alone, so the error names it
        return [_read_one(text, reader) for text in texts]
    book = json.loads(result.text)
    divs = book["blocks"]
    if len(divs) != len(texts):  # a chapter containing the separator: never batch it
        return [_read_one(text, reader) for text in texts]
    version = book["pandoc-api-version"]
    entries = [
        {"doc": {"pandoc-api-version": version, "meta": {}, "blocks": div["c"][1]}, "warnings": []}
        for div in divs
    ]
    for index in _warned_chapters(result.warnings, texts):
        entries[index] = _read_one(texts[index], reader)
    return entries


def _warned_chapters(warnings: list[str], texts: list[str]) -> set[int]:
    """The chapters a batch's warnings come from: those holding the quoted name a warning
    mentions ("Note with key 'sl' ..."); every chapter when a warning names nothing found."""
    suspects: set[int] = set()
    for warning in warnings:
        names = re.findall(r"'([^']+)'", warning)
        if "Note with key" in warning:
            names = [f"[^{name}]" for name in names]  # the note's own markup, not the word
        found = {i for i, text in enumerate(texts) for name in names if name in text}
        if not found:
            return set(range(len(texts)))
        suspects |= found
    return suspects


def parse_texts(
    texts: list[str],
    cache: Cache | None,
    batches: bool = True,
    readers: list[str] | None = None,
) -> list[dict[str, Any]]:
    """pandoc's JSON (and warnings) for each Markdown text: from the cache, else read with
    both cores busy: one run per text when few are missing, batches when many are (not for
    texts whose metadata matters: a batch keeps only the blocks). ``readers``: pandoc's
    ``--from`` for each text (default: pandoc's Markdown)."""
    tool = tool_fingerprint(pandoc_path())
    formats = readers if readers is not None else [READER] * len(texts)
    keys = [_cache_key(text, tool, fmt) for text, fmt in zip(texts, formats, strict=True)]
    entries: list[dict[str, Any] | None] = []
    for key in keys:
        hit = cache.get("read", key) if cache is not None else None
        try:
            entries.append(dict(json.loads(hit)) if hit is not None else None)
        except ValueError:
            entries.append(None)
    missing = [i for i, entry in enumerate(entries) if entry is None]
    workers = max(1, min(len(missing), os.cpu_count() or 1))
    if missing:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            if len(missing) < BATCH_FROM or not batches:
                fresh = list(pool.map(lambda i: _read_one(texts[i], formats[i]), missing))
            else:
                size = -(-len(missing) // workers)
                groups: list[list[int]] = []
                for fmt in dict.fromkeys(formats[i] for i in missing):  # one reader a batch
                    same = [i for i in missing if formats[i] == fmt]
                    groups += [same[n : n + size] for n in range(0, len(same), size)]
                results = pool.map(
                    lambda g: _read_batch([texts[i] for i in g], formats[g[0]]), groups
                )
                order = [i for g in groups for i in g]
                by_index = dict(zip(order, [e for batch in results for e in batch], strict=True))
                fresh = [by_index[i] for i in missing]
        for index, entry in zip(missing, fresh, strict=True):
            if "error" in entry:
                raise ChapterReadError(entry["error"], index)
            entries[index] = entry
            if cache is not None:
                cache.put("read", keys[index], json.dumps(entry))
    return [entry for entry in entries if entry is not None]


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


def header_ids(blocks: list[Any]) -> list[str]:
    """The identifiers of the headers in ``blocks``, in order."""
    return [header["c"][1][0] for header in _headers(blocks)]


def make_ids_unique(
    chapters: list[tuple[set[str], list[Any]]], used: set[str] | None = None
) -> None:
    """Suffix repeated generated heading ids with -1, -2 … in book order, as pandoc does
    (``used``: the ids of the chapters before these)."""
    used = set() if used is None else used
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


def chapter_warnings(
    chapter: ChapterText, warnings: list[str], metadata: str, lent: set[str]
) -> list[Diagnostic]:
    """pandoc's warnings on reading a chapter, located at their line of the chapter file, then
    those of expanding its includes."""
    found = []
    for text in warnings:
        unused = _UNUSED_NOTE.search(text)
        if unused and (f"[^{unused.group(1)}]" in metadata or unused.group(1) in lent):
            continue  # a title-page note, or one another chapter uses
        line = _AT_LINE.search(text)
        found.append(
            Diagnostic(
                "warning",
                _AT_LINE.sub("", clean_warning(text)).replace("  ", " ").rstrip(". "),
                display_path(chapter.chapter.path),
                chapter.source_line(int(line.group(1))) if line else None,
            )
        )
    return found + chapter.warnings


def explicit_ids(text: str) -> set[str]:
    """Identifiers the author wrote (``{#sec:x}``): never renamed to make them unique."""
    return set(_EXPLICIT_ID.findall(text))


def shaped_blocks(config: BookConfig, chapter: ChapterText, entry: dict[str, Any]) -> list[Any]:
    """A chapter's blocks as read, shaped by its book's layout (headings shifted to its depth
    in the table of contents, parts, image paths: :func:`bookbuild.layouts.shape.shape_chapter`;
    a book.yaml book's are unchanged). Every path reads a chapter's blocks through here, before
    ids are made unique: the full build, a chapter rebuild, the preview and ``check``."""
    return shape_chapter(config, chapter.chapter.path, chapter.text, entry["doc"]["blocks"])


def read_book(
    config: BookConfig,
    chapters: list[ChapterText],
    cache: Cache | None,
    ids: list[dict[str, list[str]]] | None = None,
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """The whole book as pandoc JSON, and pandoc's warnings located in their chapters.

    ``ids``, when given, receives each chapter's header ids as read and as made unique.
    """
    metadata = metadata_markdown(config, chapters)
    meta_entry = parse_texts([metadata], cache, batches=False)[0]
    check_note_scope(config, chapters)
    texts, lent = texts_as_read(chapters, config)
    readers = [chapter_reader(config, c) for c in chapters]
    try:
        chapter_entries = parse_texts(texts, cache, readers=readers)
    except ChapterReadError as exc:
        raise located_read_error(chapters[exc.index], exc.message) from None
    warnings = [Diagnostic("warning", clean_warning(w)) for w in meta_entry["warnings"]]
    per_chapter: list[tuple[set[str], list[Any]]] = []
    for chapter, entry in zip(chapters, chapter_entries, strict=True):
        per_chapter.append((explicit_ids(chapter.text), shaped_blocks(config, chapter, entry)))
        warnings += chapter_warnings(chapter, entry["warnings"], metadata, lent)
    as_read = [header_ids(chapter_blocks) for _, chapter_blocks in per_chapter]
    make_ids_unique(per_chapter)
    if ids is not None:
        for read, (_, chapter_blocks) in zip(as_read, per_chapter, strict=True):
            ids.append({"read": read, "unique": header_ids(chapter_blocks)})
    blocks: list[Any] = []
    for chapter, (_, chapter_blocks) in zip(chapters, per_chapter, strict=True):
        blocks.append(marker_block(chapter.label))
        blocks += chapter_blocks
    book = dict(meta_entry["doc"])
    book["blocks"] = blocks
    return book, warnings


def clean_warning(text: str) -> str:
    return " ".join(re.sub(r"^\[(WARNING|INFO)\]\s*", "", text.strip()).split())
