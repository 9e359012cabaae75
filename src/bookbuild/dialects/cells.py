"""Code cells as knitr and Quarto write them, made readable to pandoc.

pandoc's Markdown takes ```` ```{r label, echo=FALSE} ```` or ```` ```{python} ```` for
inline code that runs on to the next backticks, losing the cell's lines. Before a chapter is
read, each such opening fence becomes an ordinary fenced code block in the cell's language
that keeps the chunk header in an attribute::

    ```{r cars-plot, fig.cap="Cars"}   ->   ```{.r bookbuild-cell="cars-plot, fig.cap=\\"Cars\\""}

One line becomes one line, so every later line number still points at the author's file.
A fence inside an indented code block (four spaces after a paragraph, not in a list) is part
of that block's text: an example the author shows, left as written.
``{{r}}`` (a cell shown with its header, as Quarto's documentation writes it) gets
``bookbuild-cell-verbatim``. The quarto and bookdown filters then show, hide or replace the
cells (see ``filters/_dialects.py``).

knitr's empty inline expression `` `r ''` `` (or `` `r ""` ``), which R Markdown authors put
before a chunk header to show it verbatim (```` `r ''````{r} ```` prints ```` ```{r} ````),
evaluates to nothing wherever it stands outside a cell, fenced examples included; it is
removed here as knitr removes it, so no `` `r ''` `` reaches the page.
"""

from __future__ import annotations

import re

#: An opening fence whose info string is a chunk header: ``{engine ...}``, no leading dot.
_CHUNK = re.compile(
    r"^(?P<lead>[ \t]*(?:>[ \t]?)*[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*"
    r"\{(?P<open>\{?)(?P<engine>[A-Za-z][\w-]*)(?P<rest>(?:[ ,][^{}]*)?)\}(?P<close>\}?)[ \t]*$"
)

#: A list item's first line (its indented lines after a blank line are its own, not code).
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)]|#\.)[ \t]+\S")
#: knitr's inline R expression that evaluates to the empty string.
_EMPTY_INLINE = re.compile(r"""`r[ \t]+(?:''|"")[ \t]*`""")

#: Engines whose cells are Markdown, not code (bookdown's theorem family and its kin).
ATTRIBUTE = "bookbuild-cell"
VERBATIM = "bookbuild-cell-verbatim"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def normalise_cells(text: str) -> str:
    """``text`` with every chunk header fence rewritten as described in the module docstring
    (a cheap no-op for chapters without one)."""
    return read_cells(text)[0]


def read_cells(text: str) -> tuple[str, int | None]:
    """:func:`normalise_cells`, and the line of a cell fence never closed (None if none): a
    cell left open at the end of the file (as knitr reads it, its code runs to the end) is
    closed there, one line added after the last, rather than printed as a paragraph of
    stray backticks and attributes."""
    empty_inline = "`r " in text and _EMPTY_INLINE.search(text) is not None
    if not empty_inline and ("{" not in text or ("```" not in text and "~~~" not in text)):
        return text, None
    lines = text.split("\n")
    fence_open: str | None = None
    cell_line = 0  # the line of the open cell's fence
    in_cell = False  # knitr runs no inline R inside a cell, but does in a plain fenced block
    changed = False
    blank_before = True  # the previous line was blank (or there was none)
    in_list = False  # the text at the margin is a list item (its indented lines are its own)
    in_indented_code = False  # an indented code block: shown as written, fences and all
    for index, line in enumerate(lines):
        if empty_inline and not in_cell and "`r " in line:
            bare = _EMPTY_INLINE.sub("", line)
            changed = changed or bare != line
            lines[index] = line = bare
        stripped = line.lstrip(" \t>")
        if fence_open is not None:  # inside a fenced block: only its closing fence counts
            if stripped.startswith(fence_open[0] * len(fence_open)) and not stripped.strip(
                fence_open[0] + " \t"
            ):
                fence_open = None
                in_cell = False
            continue
        if not line.strip():
            blank_before = True
            continue
        indent = len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip(" "))
        after_blank, blank_before = blank_before, False
        if in_indented_code and indent >= 4:
            continue
        in_indented_code = indent >= 4 and after_blank and not in_list
        if in_indented_code:
            continue
        if _LIST_ITEM.match(line):
            in_list = True
        elif indent < 4 and after_blank:
            in_list = False  # a paragraph at the margin after a blank line ends the list
        match = _CHUNK.match(line)
        if match is None:
            if stripped.startswith(("```", "~~~")):
                fence_open = re.match(r"`+|~+", stripped).group(0)  # type: ignore[union-attr]
            continue
        if bool(match["open"]) != bool(match["close"]):
            continue
        fence = match["fence"]
        header = match["rest"].strip().lstrip(",").strip()
        attribute = VERBATIM if match["open"] else ATTRIBUTE
        lines[index] = f"{match['lead']}{fence}{{.{match['engine']} {attribute}={_quote(header)}}}"
        fence_open = fence
        in_cell = True
        cell_line = index + 1
        changed = True
    if in_cell and fence_open is not None:
        lines.append(f"{fence_open}")
        return "\n".join(lines), cell_line
    return ("\n".join(lines) if changed else text), None
