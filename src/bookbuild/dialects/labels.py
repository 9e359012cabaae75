"""Labels a Quarto or bookdown chapter defines, found in its text (for chapter previews).

A ``--chapter`` preview reads the other chapters' labels from their text, so references to
them resolve from the last full build's .aux. The crossref filter's own forms (``{#fig:x}``)
are found by ``preview.LABEL_DEFINITION``; these are the dialects' forms, returned as the ids
the filters give them: ``fig:x``/``tbl:x``/``eq:x`` (crossref numbers them), and Quarto's
``sec-x``, ``thm-x`` … as written, with ``chapter:sec-x`` added for a chapter heading (a
reference to it prints "Chapter").
"""

from __future__ import annotations

import re

_QUARTO = re.compile(r"\{[^}\n]*#(fig|tbl|eq)-([^\s}]+)")
_QUARTO_OWN = re.compile(r"\{[^}\n]*#((?:sec|thm|lem|cor|prp|cnj|def|exm|hyp|rem|exr|sol)-[^\s}]+)")
_CHAPTER = re.compile(r"^#(?!#)[^\n]*\{[^}\n]*#(sec-[^\s}]+)", re.M)
_CELL_LABEL = re.compile(r"^\s*#\|\s*label:\s*[\"']?(fig|tbl)-([\w.:-]+)", re.M)
_BOOKDOWN = re.compile(r"\(\\#(fig|tab|eq):([^()\s]+)\)")
_KNITR_FIGURE = re.compile(r'bookbuild-cell="([\w.-]+)[ ,][^"\n]*\bfig\.cap\s*=')


def dialect_labels(text: str) -> set[str]:
    """The labels ``text`` defines in Quarto's or bookdown's syntax (see the module doc)."""
    if "#" not in text and "fig.cap" not in text:
        return set()
    found = {f"{kind}:{name}" for kind, name in _QUARTO.findall(text)}
    found |= {f"{kind}:{name}" for kind, name in _CELL_LABEL.findall(text)}
    found |= set(_QUARTO_OWN.findall(text))
    found |= {f"chapter:{ident}" for ident in _CHAPTER.findall(text)}
    found |= {
        f"{'tbl' if kind == 'tab' else kind}:{name}" for kind, name in _BOOKDOWN.findall(text)
    }
    found |= {f"fig:{label}" for label in _KNITR_FIGURE.findall(text)}
    return found
