"""The book as ``bookbuild check`` reads it: the sources, one pandoc read of every chapter
(no filters, no LaTeX), the bibliography's keys."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from ..config import BookConfig
from ..diagnostics import Diagnostic
from ..markers import panflute_label, split_at_chapters
from ..paths import display_path
from .locate import Source

# -- the loaded book -----------------------------------------------------------------------


@dataclass
class Book:
    """Everything the checks read: config, sources, the parsed document, bibliography keys."""

    config: BookConfig
    metadata: Source  # the file the metadata is written in (book.yaml or its metadata file)
    chapters: list[Source]
    blocks: list[tuple[Source, list[Any]]]  # each chapter's top-level blocks, in book order
    doc: Any
    bib: dict[str, tuple[str, int]] = field(default_factory=dict)  # key -> (file, line)

    @property
    def has_bibliography(self) -> bool:
        """A bibliography file or ``references:`` in the metadata: citeproc makes a list."""
        return bool(self.config.bibliography or self.bib)

    def reset(self) -> None:
        """Forget which matches were handed out (each check counts occurrences afresh)."""
        for source in (self.metadata, *self.chapters):
            source.reset()

    def elements(self) -> Iterator[tuple[Source, Any]]:
        """Every AST element with the source it was written in: metadata first, then the
        chapters in order; children before their parent, siblings in order."""
        return iter(self._elements)

    @cached_property
    def _elements(self) -> list[tuple[Source, Any]]:
        # One walk for every check: the checks read the document, none changes it, and a
        # panflute walk of a long book costs a good part of a second.
        found: list[tuple[Source, Any]] = []
        for key, value in self.doc.metadata.content.items():
            if key != "header-includes":  # the preamble, not the author's Markdown
                found += ((self.metadata, e) for e in _walk(value))
        for source, blocks in self.blocks:
            for block in blocks:
                found += ((source, e) for e in _walk(block))
        return found

    def locate(self, source: Source, pattern: str) -> tuple[Source, int]:
        """The source and line of ``pattern``'s next match in ``source``; else its first match
        in another file of the book (a footnote defined in another chapter); else line 1."""
        line = source.next_line(pattern)
        if line is not None:
            return source, line
        for other in [self.metadata, *self.chapters]:
            if other is not source and other.lines_of(pattern):
                return other, other.lines_of(pattern)[0]
        return source, 1

    def diagnostic(self, source: Source, pattern: str, severity: str, message: str) -> Diagnostic:
        where, line = self.locate(source, pattern)
        return Diagnostic(severity, message, where.label, line)


def _walk(elem: Any) -> list[Any]:
    found: list[Any] = []
    elem.walk(lambda e, _doc: found.append(e))
    return found


def _metadata_path(config: BookConfig) -> Path:
    if config.layout is not None:  # a layout book: where its layout keeps the metadata
        return config.layout.tree.metadata_file or config.layout.tree.layout_file
    data = yaml.safe_load(config.config_path.read_text(encoding="utf-8"))
    name = data.get("metadata") if isinstance(data, dict) else None
    return config.book_dir / name if isinstance(name, str) else config.config_path


_BIB_ENTRY = re.compile(r"^[ \t]*@(\w+)[ \t]*[{(][ \t]*([^,\s]+)[ \t]*,", re.M)
#: An entry's id in CSL JSON (``"id": "key"``) or CSL YAML (``- id: key``).
_CSL_ID = re.compile(r"""(?:"id"\s*:\s*"([^"]+)"|^[ \t]*-?[ \t]*id:[ \t]*['"]?([^'"\s]+))""", re.M)


def bib_keys(path: Path) -> dict[str, tuple[str, int]]:
    """The entry keys of a bibliography file (BibTeX/BibLaTeX, CSL JSON or CSL YAML) with the
    line each is on, found by a plain text scan."""
    text = path.read_text(encoding="utf-8", errors="replace")
    label = display_path(path)
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    keys: dict[str, tuple[str, int]] = {}
    if path.suffix.lower() in (".json", ".yaml", ".yml"):
        entries = [(m.group(1) or m.group(2), m.start()) for m in _CSL_ID.finditer(text)]
    else:
        entries = [
            (m.group(2), m.start())
            for m in _BIB_ENTRY.finditer(text)
            if m.group(1).lower() not in ("string", "comment", "preamble")
        ]
    for key, offset in entries:
        keys.setdefault(key, (label, bisect.bisect_right(starts, offset)))
    return keys


def load_book(config: BookConfig) -> Book:
    """Read the chapters and parse the assembled book once with pandoc (no filters)."""
    from ..pandoc import load_json
    from ..stages.assemble import assemble
    from ..stages.read import read_book

    assembled = assemble(config)
    data, _ = read_book(config, assembled.chapters, None)
    doc = load_json(json.dumps(data))
    meta_path = _metadata_path(config)
    metadata = Source(meta_path, meta_path.read_text(encoding="utf-8"))
    chapters = [Source(c.chapter.path, c.text) for c in assembled.chapters]
    by_label = {c.label: s for c, s in zip(assembled.chapters, chapters, strict=True)}
    blocks: list[tuple[Source, list[Any]]] = [
        (by_label[label], own)
        for label, own in split_at_chapters(list(doc.content), panflute_label, list(by_label))
    ]
    bib: dict[str, tuple[str, int]] = {}
    for path in config.bibliography:
        for key, place in bib_keys(path).items():
            bib.setdefault(key, place)
    for entry in config.metadata.get("references") or []:  # references: in the metadata
        if isinstance(entry, dict) and "id" in entry:
            lines = metadata.lines_of(rf"\bid:[ \t]*['\"]?{re.escape(str(entry['id']))}")
            bib.setdefault(str(entry["id"]), (metadata.label, lines[0] if lines else 1))
    return Book(config, metadata, chapters, blocks, doc, bib)
