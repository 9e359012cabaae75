"""Code cells as knitr and Quarto write them, made readable to pandoc.

pandoc's Markdown takes ```` ```{r label, echo=FALSE} ```` or ```` ```{python} ```` for
inline code that runs on to the next backticks, losing the cell's lines. Before a chapter is
read, each such opening fence becomes an ordinary fenced code block in the cell's language
that keeps the chunk header in an attribute::

    ```{r cars-plot, fig.cap="Cars"}   ->   ```{.r bookbuild-cell="cars-plot, fig.cap=\\"Cars\\""}

One line becomes one line, so every later line number still points at the author's file.
``{{r}}`` (a cell shown with its header, as Quarto's documentation writes it) gets
``bookbuild-cell-verbatim``. The quarto and bookdown filters then show, hide or replace the
cells (see ``filters/_dialects.py``).
"""

from __future__ import annotations

import re

#: An opening fence whose info string is a chunk header: ``{engine ...}``, no leading dot.
_CHUNK = re.compile(
    r"^(?P<lead>[ \t]*(?:>[ \t]?)*[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*"
    r"\{(?P<open>\{?)(?P<engine>[A-Za-z][\w-]*)(?P<rest>(?:[ ,][^{}]*)?)\}(?P<close>\}?)[ \t]*$"
)

#: Engines whose cells are Markdown, not code (bookdown's theorem family and its kin).
ATTRIBUTE = "bookbuild-cell"
VERBATIM = "bookbuild-cell-verbatim"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def normalise_cells(text: str) -> str:
    """``text`` with every chunk header fence rewritten as described in the module docstring
    (a cheap no-op for chapters without one)."""
    if "{" not in text or ("```" not in text and "~~~" not in text):
        return text
    lines = text.split("\n")
    fence_open: str | None = None
    changed = False
    for index, line in enumerate(lines):
        stripped = line.lstrip(" \t>")
        if fence_open is not None:  # inside a fenced block: only its closing fence counts
            if stripped.startswith(fence_open[0] * len(fence_open)) and not stripped.strip(
                fence_open[0] + " \t"
            ):
                fence_open = None
            continue
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
        changed = True
    return "\n".join(lines) if changed else text
