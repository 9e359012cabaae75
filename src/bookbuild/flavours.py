"""The Markdown a book is written in: one place maps a flavour name to pandoc's reader.

``build.markdown`` in book.yaml picks the flavour for the whole book; a chapter entry may
override it (``- {file: notes.md, markdown: gfm}``). The reader string goes to pandoc as
``--from`` (and to ``pandoc.read`` in the batch reader), and is part of every read cache key.

- ``pandoc``: pandoc's Markdown with its default extensions (the manuscript's).
- ``rmarkdown``: pandoc's Markdown as R Markdown (bookdown) reads it: bare URLs are links
  (``autolink_bare_uris``), so they break at the line's end as links do.
- ``gfm``: GitHub-flavoured Markdown as GitBook/HonKit write it: CommonMark with pipe tables,
  strikeout, task lists, autolinks, footnotes, raw HTML and ``$``/``$$`` math; also heading
  ids (``## Title {#id}``, as GitBook, HonKit and mdBook read them) and ``:::`` divs (what
  :mod:`bookbuild.dialects.templates` makes of GitBook's exercise tags).
- ``commonmark``: CommonMark with pandoc's extensions (``commonmark_x``: footnotes, pipe
  tables, strikeout, task lists, ``$`` math, raw HTML, attributes, definition lists …), as
  mdBook books are written.

Every flavour also reads ``\\(…\\)`` and ``\\[…\\]`` as math: pandoc's Markdown with its
``tex_math_single_backslash``; the CommonMark readers have no such extension, so
:mod:`bookbuild.sourcefix` rewrites them as dollar math before the read.
"""

from __future__ import annotations

#: Flavour name -> pandoc reader (``--from``).
FLAVOURS: dict[str, str] = {
    "pandoc": "markdown+tex_math_single_backslash",
    "rmarkdown": "markdown+autolink_bare_uris+tex_math_single_backslash",
    "gfm": (
        "gfm+footnotes+tex_math_dollars+raw_html+pipe_tables+strikeout+task_lists+attributes"
        "+fenced_divs"
    ),
    "commonmark": (
        "commonmark_x+footnotes+pipe_tables+strikeout+task_lists+tex_math_dollars"
        "+raw_html+attributes"
    ),
}

DEFAULT_FLAVOUR = "pandoc"


def reader_format(flavour: str | None) -> str:
    """pandoc's ``--from`` for a flavour (None: the default). Unknown names raise KeyError;
    book.yaml validation keeps them out."""
    return FLAVOURS[flavour or DEFAULT_FLAVOUR]
