"""The markers bookbuild leaves in a document, written and parsed here alone.

- The chapter marker, an HTML comment block before each chapter's blocks
  (``<!-- bookbuild:chapter book/ml-jobs.md -->``): filters and messages name the chapter a
  block came from by it. The filters parse it with ``_filterlib.chapter_label`` (they run
  without bookbuild under ``pandoc --filter``); a test pins that parser to this module.
- The source marker, a LaTeX comment before each top-level block
  (``% bookbuild:src book/ml-jobs.md:262``): a LaTeX error is traced back to it.
- The .tex chapter marks (``% bookbuild:chapter LABEL`` … ``% bookbuild:chapter-end``): the
  written .tex is cut into chapters at them for chapter rebuilds.

The splitter :func:`split_at_chapters` cuts a list of blocks (pandoc JSON or panflute) at the
chapter markers; every stage that needs a book's chapters apart uses it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

MARKER_PREFIX = "<!-- bookbuild:chapter "
MARKER_SUFFIX = " -->"
CHAPTER_MARK = re.compile(r"^<!-- bookbuild:chapter (?P<label>.+) -->$")

SRC_MARK = "% bookbuild:src "

#: The LaTeX comment that starts a chapter's part of the .tex (and ends the one before).
TEX_MARK = "% bookbuild:chapter "
TEX_END = "% bookbuild:chapter-end"


def chapter_marker(label: str) -> str:
    """The chapter marker's text for the chapter ``label`` (e.g. ``book/ml-jobs.md``)."""
    return f"{MARKER_PREFIX}{label}{MARKER_SUFFIX}"


def marker_label(text: str) -> str | None:
    """The chapter a marker's text names, else None."""
    match = CHAPTER_MARK.match(text.strip())
    return match.group("label") if match else None


def marker_block(label: str) -> dict[str, Any]:
    """The chapter marker as a pandoc JSON block."""
    return {"t": "RawBlock", "c": ["html", chapter_marker(label)]}


def json_label(block: dict[str, Any]) -> str | None:
    """The chapter a pandoc JSON block's marker names, else None."""
    if block.get("t") == "RawBlock" and block["c"][0] == "html":
        return marker_label(block["c"][1])
    return None


def panflute_label(block: Any) -> str | None:
    """The chapter a panflute block's marker names, else None."""
    import panflute as pf

    if isinstance(block, pf.RawBlock) and block.format == "html":
        return marker_label(block.text)
    return None


Block = TypeVar("Block")


def split_at_chapters(
    blocks: list[Block], label_of: Callable[[Block], str | None], labels: list[str]
) -> list[tuple[str, list[Block]]]:
    """Each chapter's blocks (after its marker, up to the next), for the markers naming one
    of ``labels``; blocks before the first such marker belong to none."""
    wanted = set(labels)
    chapters: list[tuple[str, list[Block]]] = []
    for block in blocks:
        label = label_of(block)
        if label is not None and label in wanted:
            chapters.append((label, []))
        elif chapters:
            chapters[-1][1].append(block)
    return chapters


def src_marker(label: str, line: int) -> str:
    """The source marker's text: the block below starts at ``label``'s line ``line``."""
    return f"{SRC_MARK}{label}:{line}"


def src_place(text: str) -> tuple[str, int] | None:
    """(file, line) of a source marker's text, else None."""
    if not text.startswith(SRC_MARK):
        return None
    label, _, line = text[len(SRC_MARK) :].rpartition(":")
    return label, int(line)


def tex_mark(label: str) -> str:
    """The .tex line that starts chapter ``label``'s LaTeX."""
    return TEX_MARK + label
